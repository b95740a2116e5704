//! In Swarm mode, what to ask of Swarm for one service, and whether it has converged: pure,
//! from what should run and what the manager reports. Swarm replaces the tasks itself (one
//! at a time, as the update config says); Berth only sets the service to the deployment
//! that should run and watches. A deployment is converged only when Swarm reports its
//! update settled and every wanted task of the deployment's template runs (past its health
//! check: Swarm holds a task in `starting` until then) with no task of another template
//! left — never when the update call returns.

use super::Readiness;
use crate::engine::{Observed, SwarmService, UpdateState};
use uuid::Uuid;

/// What the Swarm service should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmTarget {
    pub deployment: Uuid,
    pub template: String,
    pub replicas: u32,
}

/// The call to make this pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwarmAction {
    Create,
    /// Set the service to the target (a new template replaces the tasks; the same template
    /// with another replica count scales).
    Update,
    Remove,
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmPlan {
    pub action: SwarmAction,
    /// The target runs as wanted (nothing runs when there is no target).
    pub converged: bool,
    /// Swarm paused the update on a failed task: its message (the rollout fails with it).
    pub failed: Option<String>,
}

/// The plan for `target` (`None`: nothing should run) given the service `current`, its
/// tasks that Swarm wants running, and which of them are ready (running; for a routed
/// service, also answering on the address the proxy dials).
pub fn plan_swarm(
    target: Option<&SwarmTarget>,
    current: Option<&SwarmService>,
    tasks: &[Observed],
    ready: &Readiness,
) -> SwarmPlan {
    let (action, converged, failed) = match (target, current) {
        (None, None) => (SwarmAction::Nothing, true, None),
        (None, Some(_)) => (SwarmAction::Remove, false, None),
        (Some(_), None) => (SwarmAction::Create, false, None),
        (Some(t), Some(c))
            if c.template != t.template
                || c.replicas != t.replicas
                || c.deployment != Some(t.deployment) =>
        {
            (SwarmAction::Update, false, None)
        }
        (Some(t), Some(c)) => match &c.update {
            UpdateState::Updating => (SwarmAction::Nothing, false, None),
            UpdateState::Paused(why) | UpdateState::RolledBack(why) => {
                (SwarmAction::Nothing, false, Some(why.clone()))
            }
            UpdateState::Settled => {
                let is_ready = |c: &&Observed| ready.get(&c.id).copied().unwrap_or(false);
                let wanted = tasks
                    .iter()
                    .filter(is_ready)
                    .filter(|c| c.template == t.template)
                    .count();
                let others = tasks.iter().any(|c| c.template != t.template);
                let done = wanted == t.replicas as usize && !others;
                (SwarmAction::Nothing, done, None)
            }
        },
    };
    SwarmPlan {
        action,
        converged,
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(template: &str, replicas: u32) -> SwarmTarget {
        SwarmTarget {
            deployment: Uuid::from_u128(7),
            template: template.to_owned(),
            replicas,
        }
    }

    fn service(template: &str, replicas: u32, update: UpdateState) -> SwarmService {
        SwarmService {
            id: "svc".to_owned(),
            version: 3,
            deployment: Some(Uuid::from_u128(7)),
            template: template.to_owned(),
            template_deployment: Some(Uuid::from_u128(7)),
            replicas,
            update,
        }
    }

    fn task(template: &str, state: &str) -> Observed {
        Observed {
            id: uuid::Uuid::new_v4().to_string(),
            template: template.to_owned(),
            state: state.to_owned(),
            ..Default::default()
        }
    }

    /// Running is ready here (the worker adds the proxy's address check).
    fn ready(tasks: &[Observed]) -> Readiness {
        tasks
            .iter()
            .map(|t| (t.id.clone(), t.state == "running"))
            .collect()
    }

    #[test]
    fn a_missing_service_is_created_and_an_unwanted_one_removed() {
        let p = plan_swarm(Some(&target("a", 2)), None, &[], &ready(&[]));
        assert_eq!(p.action, SwarmAction::Create);
        assert!(!p.converged);
        let current = service("a", 2, UpdateState::Settled);
        let tasks = [task("a", "running")];
        let p = plan_swarm(None, Some(&current), &tasks, &ready(&tasks));
        assert_eq!(p.action, SwarmAction::Remove);
        assert_eq!(
            plan_swarm(None, None, &[], &ready(&[])).action,
            SwarmAction::Nothing
        );
        assert!(plan_swarm(None, None, &[], &ready(&[])).converged);
    }

    #[test]
    fn a_new_template_a_new_count_or_a_new_deployment_updates() {
        let current = service("a", 2, UpdateState::Settled);
        for t in [target("b", 2), target("a", 3)] {
            assert_eq!(
                plan_swarm(Some(&t), Some(&current), &[], &ready(&[])).action,
                SwarmAction::Update
            );
        }
        let mut scale = target("a", 2);
        scale.deployment = Uuid::from_u128(8);
        assert_eq!(
            plan_swarm(Some(&scale), Some(&current), &[], &ready(&[])).action,
            SwarmAction::Update
        );
    }

    #[test]
    fn converged_only_when_settled_with_every_task_running_and_no_old_one_left() {
        let t = target("b", 2);
        let tasks = [task("b", "running"), task("b", "running")];
        let updating = service("b", 2, UpdateState::Updating);
        assert!(
            !plan_swarm(Some(&t), Some(&updating), &tasks, &ready(&tasks)).converged,
            "update not settled"
        );
        let settled = service("b", 2, UpdateState::Settled);
        assert!(plan_swarm(Some(&t), Some(&settled), &tasks, &ready(&tasks)).converged);
        let starting = [task("b", "running"), task("b", "created")];
        assert!(
            !plan_swarm(Some(&t), Some(&settled), &starting, &ready(&starting)).converged,
            "one still starting"
        );
        let old_left = [
            task("b", "running"),
            task("b", "running"),
            task("a", "running"),
        ];
        assert!(
            !plan_swarm(Some(&t), Some(&settled), &old_left, &ready(&old_left)).converged,
            "an old task runs"
        );
        assert_eq!(
            plan_swarm(Some(&t), Some(&settled), &tasks, &ready(&tasks)).action,
            SwarmAction::Nothing
        );
    }

    #[test]
    fn a_paused_update_fails_with_swarms_message() {
        let t = target("b", 2);
        let paused = service("b", 2, UpdateState::Paused("task exited".to_owned()));
        let p = plan_swarm(Some(&t), Some(&paused), &[], &ready(&[]));
        assert_eq!(p.failed.as_deref(), Some("task exited"));
        assert_eq!(p.action, SwarmAction::Nothing);
        assert!(!p.converged);
    }

    #[test]
    fn stopped_means_zero_replicas_and_converges_with_no_task() {
        let t = target("a", 0);
        let settled = service("a", 0, UpdateState::Settled);
        assert!(plan_swarm(Some(&t), Some(&settled), &[], &ready(&[])).converged);
    }
}
