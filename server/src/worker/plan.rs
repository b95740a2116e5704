//! The reconciler's decision, as a pure function: from what a service should run and what
//! Docker has, the actions that move one toward the other. No I/O, so every case is a
//! unit test.

/// What should run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Containers made from this template are the wanted ones.
    pub template: String,
    pub replicas: u32,
    /// A rollout: containers of other templates keep running until every wanted replica
    /// is ready (start-first). Outside a rollout they are removed at once.
    pub rolling: bool,
    /// Stop-first: old containers go before new ones start (a published host port can be
    /// held by one container only).
    pub stop_first: bool,
    /// Start containers that exited (restart policy other than "no").
    pub restart_exited: bool,
}

/// A container as the worker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub id: String,
    pub template: String,
    pub replica: Option<u32>,
    pub state: State,
    /// Running and passing its health check (or running, when it has none).
    pub ready: bool,
}

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
    Create(u32),
    Start(String),
    Remove(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Nothing left to do: every wanted replica is ready and nothing else runs.
    pub converged: bool,
}

/// The actions that bring `seen` to `target` (`None`: nothing should run).
pub fn plan(target: Option<&Target>, seen: &[Seen]) -> Plan {
    let Some(target) = target else {
        let actions: Vec<Action> = seen
            .iter()
            .filter(|c| c.state != State::Removing)
            .map(|c| Action::Remove(c.id.clone()))
            .collect();
        return Plan {
            converged: seen.is_empty(),
            actions,
        };
    };

    let mut actions = Vec::new();
    let others: Vec<&Seen> = seen
        .iter()
        .filter(|c| c.template != target.template || c.replica.is_none())
        .collect();
    let mut all_ready = true;
    let mut creates = Vec::new();
    for n in 0..target.replicas {
        let mut claims: Vec<&Seen> = seen
            .iter()
            .filter(|c| c.template == target.template && c.replica == Some(n))
            .filter(|c| c.state != State::Removing)
            .collect();
        claims.sort_by_key(|c| (!c.ready, c.state.rank(), c.id.clone()));
        let mut claims = claims.into_iter();
        match claims.next() {
            None => {
                all_ready = false;
                creates.push(Action::Create(n));
            }
            Some(keep) => {
                match keep.state {
                    State::Dead => {
                        actions.push(Action::Remove(keep.id.clone()));
                        creates.push(Action::Create(n));
                    }
                    State::Created => actions.push(Action::Start(keep.id.clone())),
                    State::Exited if target.restart_exited => {
                        actions.push(Action::Start(keep.id.clone()))
                    }
                    _ => {}
                }
                all_ready &= keep.ready;
                // Duplicates of a replica (a crash between create and record, or a copy
                // made by hand with our labels) go.
                actions.extend(claims.map(|c| Action::Remove(c.id.clone())));
            }
        }
    }
    // Replicas beyond the wanted count (a scale down).
    actions.extend(
        seen.iter()
            .filter(|c| c.template == target.template && c.state != State::Removing)
            .filter(|c| c.replica.is_some_and(|n| n >= target.replicas))
            .map(|c| Action::Remove(c.id.clone())),
    );

    let live_others: Vec<&&Seen> = others
        .iter()
        .filter(|c| c.state != State::Removing)
        .collect();
    if target.stop_first && !live_others.is_empty() {
        // Old ones first; new ones are created on the next pass.
        actions.extend(live_others.iter().map(|c| Action::Remove(c.id.clone())));
        return Plan {
            actions,
            converged: false,
        };
    }
    actions.extend(creates);
    let others_go = !target.rolling || all_ready;
    if others_go {
        actions.extend(live_others.iter().map(|c| Action::Remove(c.id.clone())));
    }
    Plan {
        converged: actions.is_empty() && all_ready && others.is_empty(),
        actions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(replicas: u32) -> Target {
        Target {
            template: "new".into(),
            replicas,
            rolling: false,
            stop_first: false,
            restart_exited: true,
        }
    }

    fn rolling(replicas: u32) -> Target {
        Target {
            rolling: true,
            ..target(replicas)
        }
    }

    fn c(id: &str, template: &str, replica: u32, state: State, ready: bool) -> Seen {
        Seen {
            id: id.into(),
            template: template.into(),
            replica: Some(replica),
            state,
            ready,
        }
    }

    fn up(id: &str, template: &str, replica: u32) -> Seen {
        c(id, template, replica, State::Running, true)
    }

    fn rm(id: &str) -> Action {
        Action::Remove(id.into())
    }

    #[test]
    fn nothing_wanted_removes_everything() {
        let seen = [up("a", "new", 0), c("b", "old", 0, State::Exited, false)];
        let p = plan(None, &seen);
        assert_eq!(p.actions, [rm("a"), rm("b")]);
        assert!(!p.converged);
        assert!(plan(None, &[]).converged);
    }

    #[test]
    fn nothing_wanted_does_not_remove_what_is_being_removed() {
        let p = plan(None, &[c("a", "new", 0, State::Removing, false)]);
        assert!(p.actions.is_empty());
        assert!(!p.converged, "converged only once it is gone");
    }

    #[test]
    fn first_deploy_creates_every_replica() {
        let p = plan(Some(&rolling(3)), &[]);
        assert_eq!(
            p.actions,
            [Action::Create(0), Action::Create(1), Action::Create(2)]
        );
        assert!(!p.converged);
    }

    #[test]
    fn all_ready_is_converged() {
        let seen = [up("a", "new", 0), up("b", "new", 1)];
        let p = plan(Some(&rolling(2)), &seen);
        assert_eq!(
            p,
            Plan {
                actions: vec![],
                converged: true
            }
        );
    }

    #[test]
    fn zero_replicas_is_converged_when_nothing_runs() {
        assert!(plan(Some(&target(0)), &[]).converged);
        let p = plan(Some(&target(0)), &[up("a", "new", 0)]);
        assert_eq!(p.actions, [rm("a")]);
    }

    #[test]
    fn scale_up_adds_only_the_missing_replicas() {
        let p = plan(Some(&rolling(3)), &[up("a", "new", 0)]);
        assert_eq!(p.actions, [Action::Create(1), Action::Create(2)]);
    }

    #[test]
    fn scale_down_removes_the_highest_replicas() {
        let seen = [up("a", "new", 0), up("b", "new", 1), up("c", "new", 2)];
        let p = plan(Some(&target(1)), &seen);
        assert_eq!(p.actions, [rm("b"), rm("c")]);
        assert!(!p.converged);
    }

    #[test]
    fn rollout_keeps_old_until_every_new_replica_is_ready() {
        let old = [up("o0", "old", 0), up("o1", "old", 1)];
        // Nothing new yet: create, keep old.
        let p = plan(Some(&rolling(2)), &old);
        assert_eq!(p.actions, [Action::Create(0), Action::Create(1)]);
        // One new ready, one starting: wait, old stay.
        let mut seen = old.to_vec();
        seen.push(up("n0", "new", 0));
        seen.push(c("n1", "new", 1, State::Running, false));
        let p = plan(Some(&rolling(2)), &seen);
        assert!(p.actions.is_empty());
        assert!(!p.converged);
        // Both ready: old go.
        seen[3].ready = true;
        let p = plan(Some(&rolling(2)), &seen);
        assert_eq!(p.actions, [rm("o0"), rm("o1")]);
        assert!(!p.converged, "converged after the old are gone");
    }

    #[test]
    fn outside_a_rollout_other_templates_go_at_once() {
        // E.g. a failed rollout's containers, once the live deployment is the target again.
        let seen = [
            up("live", "new", 0),
            c("failed", "bad", 0, State::Running, false),
        ];
        let p = plan(Some(&target(1)), &seen);
        assert_eq!(p.actions, [rm("failed")]);
    }

    #[test]
    fn stop_first_removes_old_before_creating() {
        let t = Target {
            stop_first: true,
            ..rolling(1)
        };
        let p = plan(Some(&t), &[up("old", "old", 0)]);
        assert_eq!(p.actions, [rm("old")]);
        let p = plan(Some(&t), &[]);
        assert_eq!(p.actions, [Action::Create(0)]);
    }

    #[test]
    fn a_stopped_replica_is_started_again() {
        let seen = [c("a", "new", 0, State::Exited, false)];
        assert_eq!(
            plan(Some(&target(1)), &seen).actions,
            [Action::Start("a".into())]
        );
        let no_restart = Target {
            restart_exited: false,
            ..target(1)
        };
        assert!(plan(Some(&no_restart), &seen).actions.is_empty());
        let created = [c("a", "new", 0, State::Created, false)];
        assert_eq!(
            plan(Some(&no_restart), &created).actions,
            [Action::Start("a".into())]
        );
    }

    #[test]
    fn a_dead_replica_is_replaced() {
        let seen = [c("a", "new", 0, State::Dead, false)];
        assert_eq!(
            plan(Some(&target(1)), &seen).actions,
            [rm("a"), Action::Create(0)]
        );
    }

    #[test]
    fn restarting_and_paused_are_left_to_docker() {
        let seen = [
            c("a", "new", 0, State::Restarting, false),
            c("b", "new", 1, State::Paused, false),
        ];
        let p = plan(Some(&target(2)), &seen);
        assert!(p.actions.is_empty());
        assert!(!p.converged);
    }

    #[test]
    fn duplicates_of_a_replica_keep_the_ready_one() {
        let seen = [
            c("x", "new", 0, State::Exited, false),
            up("y", "new", 0),
            c("z", "new", 0, State::Running, false),
        ];
        let p = plan(Some(&target(1)), &seen);
        assert_eq!(p.actions, [rm("z"), rm("x")]);
    }

    #[test]
    fn a_labelled_container_without_a_replica_number_is_removed() {
        let stray = Seen {
            id: "s".into(),
            template: "new".into(),
            replica: None,
            state: State::Running,
            ready: true,
        };
        let p = plan(Some(&target(1)), &[up("a", "new", 0), stray]);
        assert_eq!(p.actions, [rm("s")]);
    }

    #[test]
    fn a_container_being_removed_is_not_counted_for_its_replica() {
        let seen = [c("a", "new", 0, State::Removing, false)];
        assert_eq!(plan(Some(&target(1)), &seen).actions, [Action::Create(0)]);
    }

    #[test]
    fn planning_converged_state_twice_is_stable() {
        let seen = [up("a", "new", 0)];
        let t = rolling(1);
        assert_eq!(plan(Some(&t), &seen), plan(Some(&t), &seen));
        assert!(plan(Some(&t), &seen).converged);
    }
}
