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
        if c.restart_count > old.restart_count {
            events.push((
                EventKind::Restart,
                format!(
                    "Replica {r} was restarted by Docker ({} restarts so far).",
                    c.restart_count
                ),
            ));
        } else if old.state == "running" && c.state != "running" {
            let code = c
                .exit_code
                .map(|x| format!(" with exit code {x}"))
                .unwrap_or_default();
            events.push((
                EventKind::Crash,
                format!("Replica {r} stopped running ({}{code}).", c.state),
            ));
        }
        if c.crash_looping && !old.crash_looping {
            events.push((
                EventKind::Crash,
                format!(
                    "Replica {r} is crash-looping: {} restarts.",
                    c.restart_count
                ),
            ));
        }
    }
    events
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
        }
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
