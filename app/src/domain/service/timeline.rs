//! A service's timeline: what happened to it, when, in words. Container changes are derived
//! here from two observations, so the worker only has to say what it saw.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The definition was edited.
    Change,
    /// A deployment started, went live, failed or rolled back.
    Deployment,
    /// A build was queued, finished or failed.
    Build,
    Scale,
    Stop,
    Start,
    /// A container exited on its own, or is crash-looping.
    Crash,
    Restart,
    /// Berth put back what somebody changed outside it.
    Repair,
    /// A replica's health changed (with its check's last answer), or a replica unhealthy
    /// for too long was replaced.
    Health,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Change => "change",
            Self::Deployment => "deployment",
            Self::Build => "build",
            Self::Scale => "scale",
            Self::Stop => "stop",
            Self::Start => "start",
            Self::Crash => "crash",
            Self::Restart => "restart",
            Self::Repair => "repair",
            Self::Health => "health",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Change,
            Self::Deployment,
            Self::Build,
            Self::Scale,
            Self::Stop,
            Self::Start,
            Self::Crash,
            Self::Restart,
            Self::Repair,
            Self::Health,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub message: String,
}

/// What the timeline needs to know of one container observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerFacts {
    pub id: String,
    pub replica: Option<super::ReplicaIndex>,
    pub state: String,
    pub exit_code: Option<i64>,
    pub restart_count: i64,
    pub crash_looping: bool,
    /// healthy, unhealthy, starting; `None` without a health check.
    pub health: Option<String>,
    /// What is wrong with it, in words ([`ContainerView::note`](super::ContainerView)).
    pub note: Option<String>,
}

/// The events between two observations of a service's containers. Containers that appear or
/// disappear are the worker's own doing and are told by it (rollouts, repairs).
pub fn container_changes(
    before: &[ContainerFacts],
    now: &[ContainerFacts],
) -> Vec<(EventKind, String)> {
    let mut events = Vec::new();
    for c in now {
        let Some(old) = before.iter().find(|b| b.id == c.id) else {
            continue;
        };
        let r = super::ReplicaIndex::label(c.replica);
        let why = c
            .note
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        if c.restart_count > old.restart_count {
            events.push((
                EventKind::Restart,
                format!(
                    "Replica {r} was restarted by Docker ({} restarts so far){why}.",
                    c.restart_count
                ),
            ));
        } else if old.state == "running" && c.state != "running" {
            let code = match (&c.note, c.exit_code) {
                (Some(note), _) => format!(", {note}"),
                (None, Some(x)) => format!(" with exit code {x}"),
                (None, None) => String::new(),
            };
            events.push((
                EventKind::Crash,
                format!("Replica {r} stopped running ({}{code}).", c.state),
            ));
        }
        if c.crash_looping && !old.crash_looping {
            events.push((
                EventKind::Crash,
                format!(
                    "Replica {r} is crash-looping: {} restarts{why}.",
                    c.restart_count
                ),
            ));
        }
        if let Some(line) = health_change(&r, old.health.as_deref(), c, &why) {
            events.push((EventKind::Health, line));
        }
    }
    events
}

/// A running replica's health transition, in words; `None` when it did not change (or it
/// has no health, or stopped running: that is told as a crash).
fn health_change(r: &str, before: Option<&str>, c: &ContainerFacts, why: &str) -> Option<String> {
    let now = c.health.as_deref()?;
    if before == Some(now) || c.state != "running" {
        return None;
    }
    match (before, now) {
        (_, "unhealthy") => Some(format!("Replica {r} is unhealthy{why}.")),
        (Some("unhealthy"), "healthy") => Some(format!("Replica {r} is healthy again.")),
        (_, "healthy") => Some(format!("Replica {r} is healthy.")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(state: &str, restarts: i64, crash_looping: bool) -> ContainerFacts {
        ContainerFacts {
            id: "abc".into(),
            replica: Some(super::super::ReplicaIndex(2)),
            state: state.into(),
            exit_code: (state == "exited").then_some(137),
            restart_count: restarts,
            crash_looping,
            health: None,
            note: None,
        }
    }

    fn with_health(health: &str, note: Option<&str>) -> ContainerFacts {
        ContainerFacts {
            health: Some(health.into()),
            note: note.map(Into::into),
            ..c("running", 0, false)
        }
    }

    #[test]
    fn health_transitions_are_told_with_the_last_answer() {
        let starting = with_health("starting", None);
        let healthy = with_health("healthy", None);
        let sick = with_health("unhealthy", Some("cat: can't open '/tmp/ok'"));
        assert_eq!(
            container_changes(
                std::slice::from_ref(&starting),
                std::slice::from_ref(&healthy)
            ),
            [(EventKind::Health, "Replica 2 is healthy.".into())]
        );
        assert_eq!(
            container_changes(std::slice::from_ref(&healthy), std::slice::from_ref(&sick)),
            [(
                EventKind::Health,
                "Replica 2 is unhealthy: cat: can't open '/tmp/ok'.".into()
            )]
        );
        assert_eq!(
            container_changes(std::slice::from_ref(&sick), std::slice::from_ref(&healthy)),
            [(EventKind::Health, "Replica 2 is healthy again.".into())]
        );
        assert!(
            container_changes(std::slice::from_ref(&sick), std::slice::from_ref(&sick)).is_empty()
        );
    }

    #[test]
    fn an_out_of_memory_kill_is_told_instead_of_its_exit_code() {
        let oom = Some("killed: out of memory (limit 16 MB)".to_owned());
        let died = ContainerFacts {
            note: oom.clone(),
            ..c("exited", 0, false)
        };
        assert_eq!(
            container_changes(&[c("running", 0, false)], &[died])[0].1,
            "Replica 2 stopped running (exited, killed: out of memory (limit 16 MB))."
        );
        let looping = ContainerFacts {
            note: oom,
            ..c("restarting", 3, true)
        };
        let events = container_changes(&[c("running", 2, false)], &[looping]);
        assert_eq!(
            events[1].1,
            "Replica 2 is crash-looping: 3 restarts: killed: out of memory (limit 16 MB)."
        );
    }

    #[test]
    fn a_death_is_told_with_its_exit_code() {
        let events = container_changes(&[c("running", 0, false)], &[c("exited", 0, false)]);
        assert_eq!(
            events,
            [(
                EventKind::Crash,
                "Replica 2 stopped running (exited with exit code 137).".into()
            )]
        );
    }

    #[test]
    fn a_restart_and_a_crash_loop_are_told() {
        let events = container_changes(&[c("running", 2, false)], &[c("running", 3, true)]);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].0, EventKind::Restart);
        assert!(events[1].1.contains("crash-looping"));
    }

    #[test]
    fn no_change_no_event_and_new_containers_are_not_told_here() {
        assert!(container_changes(&[c("running", 0, false)], &[c("running", 0, false)]).is_empty());
        assert!(container_changes(&[], &[c("exited", 0, false)]).is_empty());
    }
}
