//! What a service's open rollout needs this pass, and which deployment its containers come
//! from, decided from what was read: pure, so the lease, the deadline, the pull and a
//! failure are plan outputs the worker then acts on, never side effects before the plan.
//!
//! A rollout fails at its deadline, or earlier when waiting cannot help: its definition
//! does not open, its image cannot be pulled, or one of its new replicas is crashing
//! ([`crashed_replica`]) — as Nomad's deployment watcher fails a deployment on an
//! allocation that failed, without waiting out the progress deadline.

use super::crash::{crashed_replica, Crash};
use crate::engine::Observed;
use app::domain::service::DeploymentState;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What was read about the open (pending or in-progress) rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutFacts {
    pub state: DeploymentState,
    /// Set by the first hold; `None` while pending.
    pub deadline: Option<DateTime<Utc>>,
    /// The process that held the rollout last (`None`: nobody yet, or it was released).
    pub lease_owner: Option<Uuid>,
    /// Why its spec's secrets cannot be opened, if they cannot.
    pub spec_error: Option<String>,
    /// Whether its image is resolved (its id recorded on the deployment) and on the engine;
    /// until then its deadline does not run.
    pub image_present: bool,
    /// Its containers carry this `berth.template`.
    pub template: String,
    /// Its restart policy starts an exited container again (anything but `no`).
    pub restarts_exited: bool,
}

/// How a hold of the rollout is told in its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// First look: "Rolling out deployment #n …", also on the service's timeline.
    Start,
    /// Another (or a crashed) berth held it: "resuming it from what Docker runs now".
    Resume,
    /// Nothing new to tell.
    Quiet,
}

/// Why a rollout fails this pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Its new replicas were not ready by the deadline (the reason names what they do).
    DeadlinePassed,
    /// Its definition cannot be used (a sealed secret does not open), with why.
    Unusable(String),
    /// One of its new replicas is crashing (the reason names it, its exit code and its
    /// last lines).
    Crashed(Crash),
}

/// A step of the rollout's bookkeeping, in the order the worker takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutStep {
    /// Take or renew its lease (the first hold sets it in progress and starts its clock).
    Hold(Announce),
    /// Its image is present: say so in its log (first look only).
    ImageReady,
    /// Resolve its image (record the id it runs, pulling as its pull policy says), then
    /// look again. An image it cannot get (unknown, credentials refused, pull timed out,
    /// pull policy `never`) fails the rollout.
    Pull,
    /// End it as failed (or rolled back, when a live deployment keeps serving).
    Fail(Failure),
}

/// Which deployment the containers should come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Rollout,
    Live,
    /// No deployment serves: nothing should run.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutDecision {
    pub steps: Vec<RolloutStep>,
    pub source: Source,
    /// Whether to plan container actions this pass (not while the image is being pulled).
    pub plan_containers: bool,
}

/// The decision for a service with an open rollout (`rollout`) or none, a live deployment
/// or none, and the service's containers (`observed`), seen by the worker `me` at `now`.
pub fn decide(
    rollout: Option<&RolloutFacts>,
    observed: &[Observed],
    has_live: bool,
    me: Uuid,
    now: DateTime<Utc>,
) -> RolloutDecision {
    let fallback = if has_live {
        Source::Live
    } else {
        Source::Nothing
    };
    let Some(r) = rollout else {
        return RolloutDecision {
            steps: Vec::new(),
            source: fallback,
            plan_containers: true,
        };
    };
    let fresh = r.state == DeploymentState::Pending;
    let announce = if fresh {
        Announce::Start
    } else if r.lease_owner.is_some_and(|o| o != me) {
        Announce::Resume
    } else {
        Announce::Quiet
    };
    let mut steps = vec![RolloutStep::Hold(announce)];
    let (source, plan_containers) = if r.deadline.is_some_and(|d| d < now) {
        steps.push(RolloutStep::Fail(Failure::DeadlinePassed));
        (fallback, true)
    } else if let Some(why) = &r.spec_error {
        steps.push(RolloutStep::Fail(Failure::Unusable(why.clone())));
        (fallback, true)
    } else if let Some(crash) = crashed_replica(&r.template, r.restarts_exited, observed, now) {
        steps.push(RolloutStep::Fail(Failure::Crashed(crash)));
        (fallback, true)
    } else if !r.image_present {
        steps.push(RolloutStep::Pull);
        (Source::Rollout, false)
    } else {
        if fresh {
            steps.push(RolloutStep::ImageReady);
        }
        (Source::Rollout, true)
    };
    RolloutDecision {
        steps,
        source,
        plan_containers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::plan::crash::CrashKind;
    use app::domain::service::ReplicaIndex;
    use chrono::Duration;

    fn facts(state: DeploymentState) -> RolloutFacts {
        RolloutFacts {
            state,
            deadline: None,
            lease_owner: None,
            spec_error: None,
            image_present: true,
            template: "new".into(),
            restarts_exited: true,
        }
    }

    fn me() -> Uuid {
        Uuid::from_u128(1)
    }

    #[test]
    fn without_a_rollout_the_live_deployment_runs() {
        let d = decide(None, &[], true, me(), Utc::now());
        assert_eq!(d.steps, []);
        assert_eq!(d.source, Source::Live);
        assert!(d.plan_containers);
        assert_eq!(
            decide(None, &[], false, me(), Utc::now()).source,
            Source::Nothing
        );
    }

    #[test]
    fn a_fresh_rollout_is_announced_held_and_run() {
        let d = decide(
            Some(&facts(DeploymentState::Pending)),
            &[],
            true,
            me(),
            Utc::now(),
        );
        assert_eq!(
            d.steps,
            [RolloutStep::Hold(Announce::Start), RolloutStep::ImageReady]
        );
        assert_eq!(d.source, Source::Rollout);
        assert!(d.plan_containers);
    }

    #[test]
    fn a_rollout_in_progress_is_only_held() {
        let now = Utc::now();
        let r = RolloutFacts {
            deadline: Some(now + Duration::seconds(60)),
            lease_owner: Some(me()),
            ..facts(DeploymentState::InProgress)
        };
        let d = decide(Some(&r), &[], true, me(), now);
        assert_eq!(d.steps, [RolloutStep::Hold(Announce::Quiet)]);
        assert_eq!(d.source, Source::Rollout);
    }

    #[test]
    fn a_rollout_another_berth_held_is_resumed() {
        let r = RolloutFacts {
            lease_owner: Some(Uuid::from_u128(2)),
            ..facts(DeploymentState::InProgress)
        };
        let d = decide(Some(&r), &[], false, me(), Utc::now());
        assert_eq!(d.steps, [RolloutStep::Hold(Announce::Resume)]);
        assert_eq!(d.source, Source::Rollout);
    }

    #[test]
    fn past_its_deadline_a_rollout_fails_and_the_live_one_runs() {
        let now = Utc::now();
        let r = RolloutFacts {
            deadline: Some(now - Duration::seconds(1)),
            lease_owner: Some(me()),
            ..facts(DeploymentState::InProgress)
        };
        let d = decide(Some(&r), &[], true, me(), now);
        assert_eq!(
            d.steps,
            [
                RolloutStep::Hold(Announce::Quiet),
                RolloutStep::Fail(Failure::DeadlinePassed)
            ]
        );
        assert_eq!(d.source, Source::Live);
        assert!(d.plan_containers);
        assert_eq!(
            decide(Some(&r), &[], false, me(), now).source,
            Source::Nothing
        );
    }

    #[test]
    fn an_unusable_definition_fails_the_rollout() {
        let r = RolloutFacts {
            spec_error: Some("sealed with another key".into()),
            image_present: false,
            ..facts(DeploymentState::Pending)
        };
        let d = decide(Some(&r), &[], true, me(), Utc::now());
        assert_eq!(
            d.steps,
            [
                RolloutStep::Hold(Announce::Start),
                RolloutStep::Fail(Failure::Unusable("sealed with another key".into()))
            ]
        );
        assert_eq!(d.source, Source::Live);
    }

    #[test]
    fn a_missing_image_is_pulled_before_any_container_changes() {
        let r = RolloutFacts {
            image_present: false,
            ..facts(DeploymentState::Pending)
        };
        let d = decide(Some(&r), &[], true, me(), Utc::now());
        assert_eq!(
            d.steps,
            [RolloutStep::Hold(Announce::Start), RolloutStep::Pull]
        );
        assert_eq!(d.source, Source::Rollout);
        assert!(!d.plan_containers);
        let later = RolloutFacts {
            state: DeploymentState::InProgress,
            ..r
        };
        let d = decide(Some(&later), &[], true, me(), Utc::now());
        assert_eq!(d.steps[1], RolloutStep::Pull);
    }

    #[test]
    fn the_deadline_is_checked_before_the_image() {
        let now = Utc::now();
        let r = RolloutFacts {
            deadline: Some(now - Duration::seconds(5)),
            image_present: false,
            ..facts(DeploymentState::InProgress)
        };
        let d = decide(Some(&r), &[], true, me(), now);
        assert_eq!(d.steps[1], RolloutStep::Fail(Failure::DeadlinePassed));
    }

    fn replica(template: &str, state: &str, restarts: i64) -> Observed {
        Observed {
            id: format!("{template}-0"),
            name: format!("berth-{template}-0"),
            service_id: None,
            deployment_id: None,
            template: template.into(),
            replica: Some(ReplicaIndex(0)),
            state: state.into(),
            health: None,
            exit_code: Some(3),
            restart_count: restarts,
            started_at: None,
            ip: None,
            ..Default::default()
        }
    }

    fn in_progress(now: DateTime<Utc>) -> RolloutFacts {
        RolloutFacts {
            deadline: Some(now + Duration::seconds(120)),
            lease_owner: Some(me()),
            ..facts(DeploymentState::InProgress)
        }
    }

    #[test]
    fn a_crashing_new_replica_fails_the_rollout_before_its_deadline() {
        let now = Utc::now();
        let seen = [replica("new", "restarting", 3)];
        let d = decide(Some(&in_progress(now)), &seen, true, me(), now);
        let Some(RolloutStep::Fail(Failure::Crashed(crash))) = d.steps.get(1) else {
            panic!("not failed: {:?}", d.steps);
        };
        assert_eq!(crash.container, "new-0");
        assert_eq!(crash.exit_code, Some(3));
        assert_eq!(crash.kind, CrashKind::Looping);
        // The same path as the deadline: the live deployment runs, the new replicas go.
        assert_eq!(d.source, Source::Live);
        assert!(d.plan_containers);
    }

    #[test]
    fn an_exited_new_replica_that_nothing_restarts_fails_the_rollout() {
        let now = Utc::now();
        let r = RolloutFacts {
            restarts_exited: false,
            ..in_progress(now)
        };
        let seen = [replica("new", "exited", 0)];
        let d = decide(Some(&r), &seen, false, me(), now);
        assert!(
            matches!(&d.steps[1], RolloutStep::Fail(Failure::Crashed(c)) if c.kind == CrashKind::Exited),
            "{:?}",
            d.steps
        );
        assert_eq!(d.source, Source::Nothing);
    }

    #[test]
    fn old_replicas_crashing_do_not_fail_the_rollout() {
        let now = Utc::now();
        let seen = [
            replica("old", "restarting", 9),
            replica("new", "running", 0),
        ];
        let d = decide(Some(&in_progress(now)), &seen, true, me(), now);
        assert_eq!(d.steps, [RolloutStep::Hold(Announce::Quiet)]);
        assert_eq!(d.source, Source::Rollout);
    }

    #[test]
    fn a_running_but_unready_new_replica_waits_for_the_deadline() {
        let now = Utc::now();
        let mut slow = replica("new", "running", 0);
        slow.health = Some("unhealthy".into());
        let r = in_progress(now);
        let d = decide(Some(&r), std::slice::from_ref(&slow), true, me(), now);
        assert_eq!(d.steps, [RolloutStep::Hold(Announce::Quiet)]);
        let late = RolloutFacts {
            deadline: Some(now - Duration::seconds(1)),
            ..r
        };
        let d = decide(Some(&late), &[slow], true, me(), now);
        assert_eq!(d.steps[1], RolloutStep::Fail(Failure::DeadlinePassed));
    }

    #[test]
    fn the_deadline_stays_the_upper_bound_over_a_crash() {
        let now = Utc::now();
        let r = RolloutFacts {
            deadline: Some(now - Duration::seconds(1)),
            ..in_progress(now)
        };
        let seen = [replica("new", "restarting", 5)];
        let d = decide(Some(&r), &seen, true, me(), now);
        assert_eq!(d.steps[1], RolloutStep::Fail(Failure::DeadlinePassed));
        assert_eq!(d.steps.len(), 2);
    }
}
