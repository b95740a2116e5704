//! Scheduled jobs and one-off commands: what a person defines ([`JobInput`]), the rules it
//! must meet ([`validate`]), when it runs ([`schedule`], server only), and what the
//! dashboard and the REST API show of a job and its runs.

#[cfg(feature = "ssr")]
pub mod schedule;
mod validate;

pub use validate::{validate_command, validate_job, MAX_ARGS, MAX_ARG_BYTES, MAX_TIMEOUT_S};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happens when a run is due while the previous one still runs (Kubernetes CronJob's
/// names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConcurrencyPolicy {
    /// Skip the new run (recorded as `skipped`).
    #[default]
    Forbid,
    /// Stop the running one (recorded as `interrupted`), then start the new one.
    Replace,
    /// Run both.
    Allow,
}

/// What happens at Berth's start to runs that fell due while it was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MissedRuns {
    /// One run at start, however many were missed.
    #[default]
    RunOnce,
    /// None; one `skipped` run says so.
    Skip,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Waiting for the scheduler (started by a person, not yet picked up).
    Queued,
    Running,
    /// Exited 0.
    Succeeded,
    /// Exited non-zero, or could not start (the reason says why).
    Failed,
    /// Ran past its timeout: stopped (SIGTERM, then SIGKILL).
    TimedOut,
    /// Not run (the previous run still ran under `forbid`, or missed while Berth was down).
    Skipped,
    /// Ended by Berth: replaced by a newer run, or Berth restarted while its container was gone.
    Interrupted,
}

/// Why a run exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// Its cron schedule fell due.
    Schedule,
    /// Due while Berth was down (`missed_runs`).
    Missed,
    /// "Run now".
    Person,
    /// A one-off command (no job).
    Command,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s).ok_or_else(|| format!("unknown value {s:?}"))
            }
        }
    };
}
text_enum!(ConcurrencyPolicy { Forbid => "forbid", Replace => "replace", Allow => "allow" });
text_enum!(MissedRuns { RunOnce => "run_once", Skip => "skip" });
text_enum!(RunState {
    Queued => "queued", Running => "running", Succeeded => "succeeded", Failed => "failed",
    TimedOut => "timed_out", Skipped => "skipped", Interrupted => "interrupted",
});
text_enum!(RunTrigger { Schedule => "schedule", Missed => "missed", Person => "person", Command => "command" });

impl RunState {
    /// Still queued or running.
    pub fn is_open(self) -> bool {
        matches!(self, RunState::Queued | RunState::Running)
    }
}

/// A job as a person defines it (form, REST body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JobInput {
    /// 1–63 characters: lowercase letters, digits, '-'; unique within the service.
    pub name: String,
    /// Five fields: minute hour day-of-month month day-of-week, in the instance's time zone
    /// (`BERTH_TIME_ZONE`).
    pub schedule: String,
    /// The program and its arguments (never a shell string): 1–64 arguments, each at most
    /// 4096 bytes; the first replaces the image's entrypoint.
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 64))]
    pub command: Vec<String>,
    /// Seconds a run may take before it is stopped and marked `timed_out`: 1–86400.
    #[serde(default = "default_timeout")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 86400))]
    pub timeout_s: i32,
    #[serde(default)]
    pub concurrency: ConcurrencyPolicy,
    #[serde(default)]
    pub missed_runs: MissedRuns,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn default_timeout() -> i32 {
    3600
}
fn enabled() -> bool {
    true
}

/// A job as shown: its definition, and its next runs in the instance's time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobView {
    pub id: Uuid,
    pub service_id: Uuid,
    pub name: String,
    /// Five cron fields, read in `time_zone`.
    pub schedule: String,
    pub command: Vec<String>,
    pub timeout_s: i32,
    pub concurrency: ConcurrencyPolicy,
    pub missed_runs: MissedRuns,
    pub enabled: bool,
    /// The IANA name the schedule is read in (`BERTH_TIME_ZONE`, default `UTC`).
    pub time_zone: String,
    /// The next five runs (RFC 3339 with the zone's offset); empty while disabled.
    pub next_runs: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One run of a job or one-off command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobRunView {
    pub id: Uuid,
    /// Grows with every run of the instance: the cursor of run lists.
    pub number: i64,
    pub service_id: Uuid,
    /// `None`: a one-off command.
    pub job_id: Option<Uuid>,
    pub trigger: RunTrigger,
    pub command: Vec<String>,
    pub timeout_s: i32,
    pub state: RunState,
    /// Why it failed, was skipped or interrupted, in words.
    pub reason: Option<String>,
    pub exit_code: Option<i32>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Milliseconds from start to finish, once finished.
    pub duration_ms: Option<i64>,
    /// Who started it (a person or token), for runs not started by the schedule.
    pub started_by: Option<String>,
}

/// One line a run printed (cleaned), or a line Berth wrote about it (`stream` = `berth`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunLogLine {
    pub stream: String,
    pub line: String,
}

/// A one-off command (REST body, form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandInput {
    /// The program and its arguments, as for a job.
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 64))]
    pub command: Vec<String>,
    /// Seconds before it is stopped: 1–86400 (default 600).
    #[serde(default = "default_command_timeout")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 86400))]
    pub timeout_s: i32,
}

fn default_command_timeout() -> i32 {
    600
}

/// Lines of output kept per run; later lines are dropped and one line says so.
pub const MAX_LOG_LINES: i64 = 2000;
