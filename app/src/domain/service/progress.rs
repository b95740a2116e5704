//! A rollout step by step, as the worker logs it: pull the image, start the new replicas,
//! wait for their health check, stop the old replicas, go live.

use super::{DeploymentLogLine, DeploymentState};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeployStep {
    /// Check out and build the image (git services only).
    Build,
    Pull,
    Start,
    Health,
    StopOld,
    Live,
}

impl DeployStep {
    pub const ALL: [DeployStep; 6] = [
        DeployStep::Build,
        DeployStep::Pull,
        DeployStep::Start,
        DeployStep::Health,
        DeployStep::StopOld,
        DeployStep::Live,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Build => "build",
            Self::Pull => "pull",
            Self::Start => "start",
            Self::Health => "health",
            Self::StopOld => "stop_old",
            Self::Live => "live",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Build => "Build image",
            Self::Pull => "Pull image",
            Self::Start => "Start replicas",
            Self::Health => "Wait for health",
            Self::StopOld => "Stop old replicas",
            Self::Live => "Live",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Done,
    Current,
    Failed,
    Pending,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Current => "current",
            Self::Failed => "failed",
            Self::Pending => "pending",
        }
    }
}

/// Each step's state, from the deployment's state and the steps its log reached. Waiting for
/// health has no line of its own: it is current once replicas started and nothing later did.
/// `built`: the deployment builds its image first (a git service), so it has a build step.
pub fn progress(
    state: DeploymentState,
    log: &[DeploymentLogLine],
    built: bool,
) -> Vec<(DeployStep, StepState)> {
    let reached = log.iter().filter_map(|l| l.step).max();
    // The step being worked on: the one after the last logged, or health after starting.
    let current = match reached {
        None if built => DeployStep::Build,
        None | Some(DeployStep::Build) => DeployStep::Pull,
        Some(DeployStep::Pull) => DeployStep::Start,
        Some(DeployStep::Start | DeployStep::Health) => DeployStep::Health,
        Some(DeployStep::StopOld) => DeployStep::Live,
        Some(DeployStep::Live) => DeployStep::Live,
    };
    DeployStep::ALL
        .into_iter()
        .filter(|step| built || *step != DeployStep::Build)
        .map(|step| {
            let s = match state {
                DeploymentState::Succeeded => StepState::Done,
                _ if step < current => StepState::Done,
                _ if step > current => StepState::Pending,
                DeploymentState::Queued
                | DeploymentState::Building
                | DeploymentState::Pending
                | DeploymentState::InProgress => StepState::Current,
                DeploymentState::Failed | DeploymentState::RolledBack => StepState::Failed,
                DeploymentState::Superseded => StepState::Pending,
            };
            (step, s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn line(step: Option<DeployStep>) -> DeploymentLogLine {
        DeploymentLogLine {
            at: Utc::now(),
            line: String::new(),
            step,
        }
    }

    fn states(state: DeploymentState, steps: &[Option<DeployStep>]) -> Vec<StepState> {
        let log: Vec<_> = steps.iter().map(|s| line(*s)).collect();
        progress(state, &log, false)
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    #[test]
    fn a_git_deployment_builds_first() {
        let log = [line(Some(DeployStep::Build))];
        let steps = |state, log: &[DeploymentLogLine]| -> Vec<StepState> {
            progress(state, log, true)
                .into_iter()
                .map(|(_, s)| s)
                .collect()
        };
        assert_eq!(
            steps(DeploymentState::Queued, &[]),
            [Current, Pending, Pending, Pending, Pending, Pending]
        );
        assert_eq!(
            steps(DeploymentState::Failed, &[]),
            [Failed, Pending, Pending, Pending, Pending, Pending]
        );
        assert_eq!(
            steps(DeploymentState::Pending, &log),
            [Done, Current, Pending, Pending, Pending, Pending]
        );
    }

    use StepState::*;

    #[test]
    fn a_new_rollout_is_pulling() {
        assert_eq!(
            states(DeploymentState::Pending, &[None]),
            [Current, Pending, Pending, Pending, Pending]
        );
    }

    #[test]
    fn started_replicas_wait_for_health() {
        let steps = [Some(DeployStep::Pull), Some(DeployStep::Start), None];
        assert_eq!(
            states(DeploymentState::InProgress, &steps),
            [Done, Done, Current, Pending, Pending]
        );
    }

    #[test]
    fn a_failed_health_wait_is_marked_failed() {
        let steps = [Some(DeployStep::Pull), Some(DeployStep::Start)];
        assert_eq!(
            states(DeploymentState::RolledBack, &steps),
            [Done, Done, Failed, Pending, Pending]
        );
    }

    #[test]
    fn a_failed_pull_fails_the_first_step() {
        assert_eq!(
            states(DeploymentState::Failed, &[]),
            [Failed, Pending, Pending, Pending, Pending]
        );
    }

    #[test]
    fn stopping_old_replicas_leads_to_live() {
        let steps = [Some(DeployStep::Start), Some(DeployStep::StopOld)];
        assert_eq!(
            states(DeploymentState::InProgress, &steps),
            [Done, Done, Done, Done, Current]
        );
        assert_eq!(states(DeploymentState::Succeeded, &steps), [Done; 5]);
    }
}
