//! What the live stream tells a page: which service changed and in what respect. The page
//! re-reads what it shows; the stream never carries the data itself, so a dropped message
//! costs a refetch, never a wrong state.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The Postgres channel the database triggers announce changes on.
pub const LIVE_CHANNEL: &str = "berth_live";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveTopic {
    /// The service row (spec, stopped, deleted).
    Services,
    Containers,
    Deployments,
    /// A deployment log line.
    Log,
    /// The service's timeline.
    Events,
    /// A scheduled job, or one of its runs (or a one-off command's).
    Jobs,
    /// A line of a run's output (a job's or a one-off command's): kept apart from `jobs`
    /// like `log` from `deployments`, so a chatty run does not re-read the jobs card.
    JobOutput,
}

impl LiveTopic {
    /// Whether the change can alter what a services list shows (status, replicas, spec).
    pub fn is_status(self) -> bool {
        matches!(self, Self::Services | Self::Containers | Self::Deployments)
    }
}

/// What a database trigger announces on [`LIVE_CHANNEL`] (the payload, as JSON). The live
/// pages and the worker both listen to it: one wake-up mechanism for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub team: Uuid,
    pub service: Uuid,
    pub topic: LiveTopic,
}

impl Announcement {
    /// Reads a notification's payload.
    pub fn parse(payload: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(payload)
    }

    /// Whether the change is to what a service should run (its row, its routes or a
    /// deployment), the changes that give the worker something to do. Containers, log
    /// lines and timeline events are what the worker itself writes.
    pub fn concerns_desired_state(&self) -> bool {
        matches!(self.topic, LiveTopic::Services | LiveTopic::Deployments)
    }
}

/// One change, as sent to the browser (`event: change`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveChange {
    pub service: Uuid,
    pub topic: LiveTopic,
}

/// Server-sent event names. `resync` means "you may have missed changes: re-read all".
pub const EVENT_CHANGE: &str = "change";
pub const EVENT_RESYNC: &str = "resync";
/// A container log line (`LogLine` as JSON) on a log stream; a run's output line
/// (`RunLogLine` as JSON, its number in the run as the event id) on a run's output stream.
pub const EVENT_LOG: &str = "log";
/// A run's output stream ends: the run is over (`{"state": …}`), every line was sent.
pub const EVENT_END: &str = "end";

/// One line a container printed, cleaned for display (see `log_line::clean`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// `None`: a labelled container without a replica label.
    pub replica: Option<crate::domain::service::ReplicaIndex>,
    /// stdout or stderr.
    pub stream: String,
    pub line: String,
}
