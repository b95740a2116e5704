//! Scheduled jobs and one-off commands, run by the leading worker beside the reconciler
//! and the builder: [`scheduler`] decides every tick which runs start (cron schedule,
//! concurrency policy, runs people queued, missed runs after a restart); [`run`] starts a
//! run's container and watches it to its end (exit code, timeout, output); [`decide`] is
//! the pure rule of what a due job does.

mod decide;
mod run;
mod scheduler;

pub use decide::{on_due, Due};
pub use scheduler::Scheduler;

use chrono_tz::Tz;
use std::time::Duration;

/// How the job scheduler behaves.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// How often the scheduler looks for due jobs and queued runs. Cron's resolution is a
    /// minute; this is how late within it a run starts.
    pub tick: Duration,
    /// The zone cron expressions are read in and next runs are shown in (`BERTH_TIME_ZONE`).
    pub time_zone: Tz,
    /// Swarm mode (`BERTH_ORCHESTRATOR=swarm`): a run joins its environment's overlay
    /// network, where the environment's Swarm services are; otherwise its bridge network.
    pub overlay: bool,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            tick: Duration::from_secs(1),
            time_zone: Tz::UTC,
            overlay: false,
        }
    }
}
