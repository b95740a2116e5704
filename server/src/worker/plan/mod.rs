//! The reconciler's decision, as pure functions: what the open rollout needs
//! ([`rollout::decide`]), and from what a service should run and what Docker has, the
//! container actions that move one toward the other ([`plan`]). No I/O, so every case is
//! a unit test.

pub mod crash;
pub mod deadline;
pub mod depends;
pub mod rollout;
pub mod swarm;

use crate::engine::Observed;
use app::domain::service::ReplicaIndex;
use std::collections::HashMap;
use std::time::Duration;

/// What should run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Containers made from this template are the wanted ones.
    pub template: String,
    pub replicas: u32,
    /// A rollout: containers of other templates keep running until every wanted replica
    /// is ready (start-first). Outside a rollout they are removed at once.
    pub rolling: bool,
    /// Stop-first: old containers go before new ones start (a writable volume must not be
    /// opened by two containers; a published host port can be held by one only). See
    /// `ServiceSpec::stop_first_reason`.
    pub stop_first: bool,
    /// Start containers that exited (restart policy other than "no").
    pub restart_exited: bool,
    /// Outside a rollout, a running replica unhealthy for this long or longer is replaced
    /// (removed now, created again on the next pass); `None`: never.
    pub replace_unhealthy_after: Option<Duration>,
}

/// Which observed containers are ready (running, passing their health check, accepting
/// connections when routed), by container id. A container missing was not probed.
pub type Readiness = HashMap<String, bool>;

/// How long each container has been unhealthy without a break, by container id; a
/// container missing is not unhealthy.
pub type Unhealthy = HashMap<String, Duration>;

/// Docker's state of a container, as far as the plan cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Created,
    Running,
    Restarting,
    Paused,
    Exited,
    Dead,
    Removing,
}

impl State {
    pub fn from_docker(s: &str) -> State {
        match s {
            "created" => State::Created,
            "running" => State::Running,
            "restarting" => State::Restarting,
            "paused" => State::Paused,
            "removing" => State::Removing,
            "dead" => State::Dead,
            _ => State::Exited,
        }
    }

    /// Preference when two containers claim one replica: keep the liveliest.
    fn rank(self) -> u8 {
        match self {
            State::Running => 0,
            State::Restarting => 1,
            State::Paused => 2,
            State::Created => 3,
            State::Exited => 4,
            State::Dead | State::Removing => 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create and start replica `n` of the target template.
    Create(ReplicaIndex),
    Start(String),
    Remove(String),
    /// Remove a running replica that stayed unhealthy too long; it is created again on the
    /// next pass (one with the same name cannot be created before it is gone).
    Replace(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Nothing left to do: every wanted replica is ready and nothing else runs.
    pub converged: bool,
}

/// The actions that bring the `observed` containers to `target` (`None`: nothing should
/// run), given which of them are `ready` and which have been `unhealthy` for how long.
pub fn plan(
    target: Option<&Target>,
    observed: &[Observed],
    ready: &Readiness,
    unhealthy: &Unhealthy,
) -> Plan {
    let state = |c: &Observed| State::from_docker(&c.state);
    let is_ready = |c: &Observed| ready.get(&c.id).copied().unwrap_or(false);
    let remove = |c: &Observed| Action::Remove(c.id.clone());
    let Some(target) = target else {
        let actions: Vec<Action> = observed
            .iter()
            .filter(|c| state(c) != State::Removing)
            .map(remove)
            .collect();
        return Plan {
            converged: observed.is_empty(),
            actions,
        };
    };

    let mut actions = Vec::new();
    let others: Vec<&Observed> = observed
        .iter()
        .filter(|c| c.template != target.template || c.replica.is_none())
        .collect();
    let mut all_ready = true;
    let mut creates = Vec::new();
    for n in ReplicaIndex::first(target.replicas) {
        let mut claims: Vec<&Observed> = observed
            .iter()
            .filter(|c| c.template == target.template && c.replica == Some(n))
            .filter(|c| state(c) != State::Removing)
            .collect();
        claims.sort_by_key(|c| (!is_ready(c), state(c).rank(), c.id.as_str()));
        let mut claims = claims.into_iter();
        match claims.next() {
            None => {
                all_ready = false;
                creates.push(Action::Create(n));
            }
            Some(keep) => {
                match state(keep) {
                    State::Dead => {
                        actions.push(remove(keep));
                        creates.push(Action::Create(n));
                    }
                    State::Created => actions.push(Action::Start(keep.id.clone())),
                    State::Exited if target.restart_exited => {
                        actions.push(Action::Start(keep.id.clone()))
                    }
                    _ => {}
                }
                let overdue = !target.rolling
                    && state(keep) == State::Running
                    && target
                        .replace_unhealthy_after
                        .zip(unhealthy.get(&keep.id))
                        .is_some_and(|(after, sick_for)| *sick_for >= after);
                if overdue {
                    actions.push(Action::Replace(keep.id.clone()));
                    all_ready = false;
                } else {
                    all_ready &= is_ready(keep);
                }
                // Duplicates of a replica (a crash between create and record, or a copy
                // made by hand with our labels) go.
                actions.extend(claims.map(remove));
            }
        }
    }
    // Replicas beyond the wanted count (a scale down).
    actions.extend(
        observed
            .iter()
            .filter(|c| c.template == target.template && state(c) != State::Removing)
            .filter(|c| c.replica.is_some_and(|n| n.0 >= target.replicas))
            .map(remove),
    );

    let live_others: Vec<&Observed> = others
        .iter()
        .copied()
        .filter(|c| state(c) != State::Removing)
        .collect();
    if target.stop_first && !live_others.is_empty() {
        // Old ones first; new ones are created on the next pass.
        actions.extend(live_others.into_iter().map(remove));
        return Plan {
            actions,
            converged: false,
        };
    }
    actions.extend(creates);
    let others_go = !target.rolling || all_ready;
    if others_go {
        actions.extend(live_others.into_iter().map(remove));
    }
    Plan {
        converged: actions.is_empty() && all_ready && others.is_empty(),
        actions,
    }
}

#[cfg(test)]
mod tests;
