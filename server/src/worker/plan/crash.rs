//! When a container is crashing rather than starting slowly: the one rule the record's
//! crash-loop flag and a rollout's early failure share. Pure.

use super::State;
use crate::engine::Observed;
use app::domain::service::{out_of_memory_note, ReplicaIndex};
use chrono::{DateTime, Utc};

/// Restarts by Docker's restart policy after which a container is crash-looping…
pub const CRASH_RESTARTS: i64 = 3;
/// …unless it has now been running this long (seconds).
pub const CRASH_STABLE_S: i64 = 60;

/// Restarted [`CRASH_RESTARTS`] times or more and not up for [`CRASH_STABLE_S`] seconds at
/// `now`.
pub fn crash_looping(c: &Observed, now: DateTime<Utc>) -> bool {
    let up_long = c.state == "running"
        && c.started_at
            .is_some_and(|t| (now - t).num_seconds() >= CRASH_STABLE_S);
    c.restart_count >= CRASH_RESTARTS && !up_long
}

/// A new replica that waiting will not make ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// Docker's id of the container (to read its last lines).
    pub container: String,
    pub replica: ReplicaIndex,
    /// Its last exit code, when Docker reports one.
    pub exit_code: Option<i64>,
    /// "killed: out of memory (limit 16 MB)" when its memory limit killed it.
    pub out_of_memory: Option<String>,
    /// Restarts by Docker's restart policy so far.
    pub restarts: i64,
    /// How it fails.
    pub kind: CrashKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashKind {
    /// Down again after [`CRASH_RESTARTS`] or more restarts.
    Looping,
    /// Exited, and its restart policy (`no`) never starts it again.
    Exited,
}

/// The first replica (lowest index) of `template` among `observed` that is crashing: down
/// (not running) after [`CRASH_RESTARTS`] restarts, or exited when nothing restarts it
/// (`restarts_exited` false: restart policy `no`). Running replicas, however unhealthy,
/// and containers of other templates are never named: they wait for the deadline.
pub fn crashed_replica(
    template: &str,
    restarts_exited: bool,
    observed: &[Observed],
    now: DateTime<Utc>,
) -> Option<Crash> {
    let mut crashes: Vec<Crash> = observed
        .iter()
        .filter(|c| c.template == template)
        .filter_map(|c| {
            let replica = c.replica?;
            let state = State::from_docker(&c.state);
            let kind = match state {
                State::Running | State::Created | State::Paused | State::Removing => None,
                _ if crash_looping(c, now) => Some(CrashKind::Looping),
                State::Exited if !restarts_exited => Some(CrashKind::Exited),
                _ => None,
            }?;
            Some(Crash {
                container: c.id.clone(),
                replica,
                exit_code: c.exit_code,
                out_of_memory: c.oom_killed.then(|| out_of_memory_note(c.memory_limit)),
                restarts: c.restart_count,
                kind,
            })
        })
        .collect();
    crashes.sort_by_key(|c| c.replica);
    crashes.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn container(template: &str, replica: u32, state: &str, restarts: i64) -> Observed {
        Observed {
            id: format!("{template}-{replica}"),
            name: format!("berth-{template}-{replica}"),
            service_id: None,
            deployment_id: None,
            template: template.into(),
            replica: Some(ReplicaIndex(replica)),
            state: state.into(),
            health: None,
            exit_code: Some(3),
            restart_count: restarts,
            started_at: None,
            ip: None,
            ..Default::default()
        }
    }

    #[test]
    fn three_restarts_and_not_up_for_a_minute_is_crash_looping() {
        let now = Utc::now();
        assert!(!crash_looping(&container("t", 0, "restarting", 2), now));
        assert!(crash_looping(&container("t", 0, "restarting", 3), now));
        let mut up = container("t", 0, "running", 5);
        up.started_at = Some(now - Duration::seconds(10));
        assert!(crash_looping(&up, now));
        up.started_at = Some(now - Duration::seconds(CRASH_STABLE_S));
        assert!(!crash_looping(&up, now));
    }

    #[test]
    fn a_new_replica_down_after_three_restarts_is_named() {
        let seen = [
            container("new", 0, "running", 0),
            container("new", 1, "restarting", 3),
        ];
        assert_eq!(
            crashed_replica("new", true, &seen, Utc::now()),
            Some(Crash {
                container: "new-1".into(),
                replica: ReplicaIndex(1),
                exit_code: Some(3),
                out_of_memory: None,
                restarts: 3,
                kind: CrashKind::Looping,
            })
        );
        let fewer = [container("new", 0, "restarting", 2)];
        assert_eq!(crashed_replica("new", true, &fewer, Utc::now()), None);
    }

    #[test]
    fn an_exited_replica_nothing_restarts_is_named_at_once() {
        let seen = [container("new", 0, "exited", 0)];
        let crash = crashed_replica("new", false, &seen, Utc::now()).expect("a crash");
        assert_eq!(crash.kind, CrashKind::Exited);
        // With a restart policy, an exited replica is started again: not yet.
        assert_eq!(crashed_replica("new", true, &seen, Utc::now()), None);
    }

    #[test]
    fn running_replicas_and_other_templates_are_never_named() {
        let now = Utc::now();
        let seen = [
            // Running again after restarts: caught when it is down, with its exit code.
            container("new", 0, "running", 7),
            // The live deployment's replica crash-loops: not the rollout's doing.
            container("old", 0, "restarting", 9),
            container("old", 1, "exited", 0),
        ];
        assert_eq!(crashed_replica("new", false, &seen, now), None);
        let mut stray = container("new", 0, "restarting", 9);
        stray.replica = None;
        assert_eq!(crashed_replica("new", true, &[stray], now), None);
    }

    #[test]
    fn a_replica_its_memory_limit_killed_is_named_so() {
        let mut oom = container("new", 0, "restarting", 3);
        oom.oom_killed = true;
        oom.memory_limit = Some(16 * 1024 * 1024);
        let crash = crashed_replica("new", true, &[oom], Utc::now()).unwrap();
        assert_eq!(
            crash.out_of_memory.as_deref(),
            Some("killed: out of memory (limit 16 MB)")
        );
    }

    #[test]
    fn the_lowest_replica_is_named_first() {
        let seen = [
            container("new", 2, "restarting", 4),
            container("new", 1, "restarting", 3),
        ];
        let crash = crashed_replica("new", true, &seen, Utc::now()).unwrap();
        assert_eq!(crash.replica, ReplicaIndex(1));
    }
}
