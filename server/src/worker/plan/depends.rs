//! The dependency gate: whether a pending deployment may start, from what the services it
//! depends on (`depends_on`) are doing now. Pure, re-decided on every pass from what is
//! stored, so a wait survives a restart of berth: the deployment stays pending (no
//! container of it is created, its deadline does not run) until every dependency is up.
//!
//! A dependency is up when its newest deployment's containers are: `service_started` —
//! as many running as it wants; `service_healthy` — as many ready (health check passing,
//! or running when it has none). A dependency still rolling out counts with its new
//! containers, so "redeploy environment" goes wave by wave. A dependency whose newest
//! deployment failed (or was rolled back) fails the waiting deployment with its reason,
//! and so does waiting longer than the bound.

use app::domain::dependencies::{DependsCondition, DependsOn};
use app::domain::service::DeploymentState;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// What was read of one service a deployment depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub name: String,
    pub stopped: bool,
    /// Its newest deployment's state; `None`: it has none yet (its first build runs).
    pub state: Option<DeploymentState>,
    /// Why that deployment failed.
    pub reason: Option<String>,
    /// The replicas that deployment wants.
    pub wanted: u32,
    /// Its containers recorded running, and of those the ready ones.
    pub running: u32,
    pub ready: u32,
}

/// The gate's answer for a pending deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Every dependency is up (or there is none): roll out.
    Go,
    /// Still waiting, for these (`db (healthy)`), in `depends_on` order.
    Wait(Vec<String>),
    /// Waiting cannot help: fail with this reason (`db failed: …`).
    Fail(String),
}

/// The gate for a deployment with `depends_on`, given its dependencies as read
/// (`upstream`, by name; one missing is no longer a service of the environment), pending
/// since `since`, looked at `now`, waiting at most `max_wait`.
pub fn gate(
    depends_on: &[DependsOn],
    upstream: &[Upstream],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    max_wait: Duration,
) -> Gate {
    let mut waiting = Vec::new();
    for d in depends_on {
        let Some(u) = upstream.iter().find(|u| u.name == d.service) else {
            return Gate::Fail(format!(
                "{} is not a service of this environment any more",
                d.service
            ));
        };
        match u.state {
            Some(DeploymentState::Failed | DeploymentState::RolledBack) => {
                let why = u
                    .reason
                    .as_deref()
                    .unwrap_or("its deployment did not go live");
                return Gate::Fail(format!("{} failed: {why}", d.service));
            }
            _ if !is_up(d.condition, u) => {
                let why = if u.stopped {
                    "stopped"
                } else {
                    d.condition.word()
                };
                waiting.push(format!("{} ({why})", d.service));
            }
            _ => {}
        }
    }
    if waiting.is_empty() {
        return Gate::Go;
    }
    let waited = (now - since).to_std().unwrap_or_default();
    if waited > max_wait {
        return Gate::Fail(format!(
            "still waiting for {} after {} s",
            waiting.join(", "),
            max_wait.as_secs()
        ));
    }
    Gate::Wait(waiting)
}

/// Whether `u` counts as up for `condition`.
fn is_up(condition: DependsCondition, u: &Upstream) -> bool {
    let deploying = matches!(
        u.state,
        Some(
            DeploymentState::Pending
                | DeploymentState::InProgress
                | DeploymentState::Succeeded
                | DeploymentState::Superseded
        )
    );
    let count = match condition {
        DependsCondition::ServiceStarted => u.running,
        DependsCondition::ServiceHealthy => u.ready,
    };
    // A pending one has not started its containers: those counted are an older one's.
    deploying && u.state != Some(DeploymentState::Pending) && !u.stopped && count >= u.wanted
}

/// "Waiting for db (healthy), cache (started) before starting." — the line the
/// deployment's log and the service's timeline get.
pub fn waiting_line(waiting: &[String]) -> String {
    format!(
        "Waiting for {} before starting (depends_on).",
        waiting.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(service: &str, condition: DependsCondition) -> DependsOn {
        DependsOn {
            service: service.into(),
            condition,
        }
    }

    fn db(state: DeploymentState, running: u32, ready: u32) -> Upstream {
        Upstream {
            name: "db".into(),
            stopped: false,
            state: Some(state),
            reason: None,
            wanted: 1,
            running,
            ready,
        }
    }

    fn decide(deps: &[DependsOn], up: &[Upstream]) -> Gate {
        let now = Utc::now();
        gate(deps, up, now, now, Duration::from_secs(600))
    }

    use DependsCondition::{ServiceHealthy as Healthy, ServiceStarted as Started};
    use DeploymentState::*;

    #[test]
    fn nothing_to_wait_for_goes() {
        assert_eq!(decide(&[], &[]), Gate::Go);
    }

    #[test]
    fn healthy_waits_for_ready_replicas_started_only_for_running_ones() {
        let starting = db(InProgress, 1, 0);
        assert_eq!(
            decide(&[on("db", Healthy)], std::slice::from_ref(&starting)),
            Gate::Wait(vec!["db (healthy)".into()])
        );
        assert_eq!(decide(&[on("db", Started)], &[starting]), Gate::Go);
        assert_eq!(
            decide(&[on("db", Healthy)], &[db(InProgress, 1, 1)]),
            Gate::Go
        );
        assert_eq!(
            decide(&[on("db", Healthy)], &[db(Succeeded, 1, 1)]),
            Gate::Go
        );
    }

    #[test]
    fn a_dependency_not_yet_started_is_waited_for() {
        // Pending: its own wait, or its first pass; the containers seen are older ones'.
        assert_eq!(
            decide(&[on("db", Started)], &[db(Pending, 1, 1)]),
            Gate::Wait(vec!["db (started)".into()])
        );
        let unbuilt = Upstream {
            state: None,
            ..db(Pending, 0, 0)
        };
        assert_eq!(
            decide(&[on("db", Started)], &[unbuilt]),
            Gate::Wait(vec!["db (started)".into()])
        );
        let stopped = Upstream {
            stopped: true,
            ..db(Succeeded, 0, 0)
        };
        assert_eq!(
            decide(&[on("db", Healthy)], &[stopped]),
            Gate::Wait(vec!["db (stopped)".into()])
        );
    }

    #[test]
    fn all_replicas_count() {
        let two = Upstream {
            wanted: 2,
            ..db(InProgress, 2, 1)
        };
        assert_eq!(
            decide(&[on("db", Healthy)], std::slice::from_ref(&two)),
            Gate::Wait(vec!["db (healthy)".into()])
        );
        assert_eq!(decide(&[on("db", Started)], &[two]), Gate::Go);
    }

    #[test]
    fn a_failed_dependency_fails_the_wait_with_its_reason() {
        let failed = Upstream {
            reason: Some("new replicas not ready within 300 s".into()),
            ..db(Failed, 0, 0)
        };
        assert_eq!(
            decide(&[on("db", Started)], &[failed]),
            Gate::Fail("db failed: new replicas not ready within 300 s".into())
        );
        assert_eq!(
            decide(&[on("db", Started)], &[db(RolledBack, 1, 1)]),
            Gate::Fail("db failed: its deployment did not go live".into())
        );
        assert_eq!(
            decide(&[on("db", Started)], &[]),
            Gate::Fail("db is not a service of this environment any more".into())
        );
    }

    #[test]
    fn several_are_named_in_order_and_the_wait_is_bounded() {
        let cache = Upstream {
            name: "cache".into(),
            ..db(InProgress, 0, 0)
        };
        let deps = [on("db", Healthy), on("cache", Started)];
        let up = [db(InProgress, 1, 0), cache];
        assert_eq!(
            decide(&deps, &up),
            Gate::Wait(vec!["db (healthy)".into(), "cache (started)".into()])
        );
        let now = Utc::now();
        let since = now - chrono::Duration::seconds(61);
        assert_eq!(
            gate(&deps, &up, since, now, Duration::from_secs(60)),
            Gate::Fail("still waiting for db (healthy), cache (started) after 60 s".into())
        );
        assert_eq!(
            waiting_line(&["db (healthy)".into()]),
            "Waiting for db (healthy) before starting (depends_on)."
        );
    }
}
