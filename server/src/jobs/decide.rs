//! What a job whose schedule fell due does, given its concurrency policy and whether a run
//! of it is still open: pure, unit-tested.

use app::domain::jobs::{ConcurrencyPolicy, MissedRuns};

/// The scheduler's answer for one due job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Queue a run.
    Start,
    /// Stop the open runs (recorded `interrupted`), then queue a run.
    Replace,
    /// Record a `skipped` run saying why.
    Skip(String),
}

/// `open`: runs of the job queued or running; `missed`: the occurrences fell due while
/// Berth was down (`None`: on time).
pub fn on_due(policy: ConcurrencyPolicy, open: usize, missed: Option<(MissedRuns, usize)>) -> Due {
    if let Some((MissedRuns::Skip, n)) = missed {
        return Due::Skip(format!(
            "{n} run{} missed while Berth was down (missed runs: skip)",
            if n == 1 { "" } else { "s" }
        ));
    }
    match (policy, open) {
        (_, 0) | (ConcurrencyPolicy::Allow, _) => Due::Start,
        (ConcurrencyPolicy::Replace, _) => Due::Replace,
        (ConcurrencyPolicy::Forbid, _) => {
            Due::Skip("the previous run was still running (concurrency: forbid)".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConcurrencyPolicy::*;

    #[test]
    fn nothing_open_starts_whatever_the_policy() {
        for p in [Forbid, Replace, Allow] {
            assert_eq!(on_due(p, 0, None), Due::Start);
            assert_eq!(on_due(p, 0, Some((MissedRuns::RunOnce, 3))), Due::Start);
        }
    }

    #[test]
    fn an_open_run_is_skipped_replaced_or_joined() {
        assert!(matches!(on_due(Forbid, 1, None), Due::Skip(why) if why.contains("still running")));
        assert_eq!(on_due(Replace, 2, None), Due::Replace);
        assert_eq!(on_due(Allow, 1, None), Due::Start);
    }

    #[test]
    fn missed_runs_skip_or_run_once() {
        assert!(
            matches!(on_due(Allow, 0, Some((MissedRuns::Skip, 2))), Due::Skip(why) if why.contains("2 runs missed"))
        );
        assert_eq!(on_due(Allow, 0, Some((MissedRuns::RunOnce, 5))), Due::Start);
    }
}
