//! The container plan, case by case.

use super::*;

fn target(replicas: u32) -> Target {
    Target {
        template: "new".into(),
        replicas,
        rolling: false,
        stop_first: false,
        restart_exited: true,
        replace_unhealthy_after: None,
    }
}

fn rolling(replicas: u32) -> Target {
    Target {
        rolling: true,
        ..target(replicas)
    }
}

/// A container as a test writes it: what Docker shows and whether it is ready.
#[derive(Clone)]
struct Obs {
    id: String,
    template: String,
    replica: Option<u32>,
    state: State,
    ready: bool,
}

fn docker_word(state: State) -> &'static str {
    match state {
        State::Created => "created",
        State::Running => "running",
        State::Restarting => "restarting",
        State::Paused => "paused",
        State::Exited => "exited",
        State::Dead => "dead",
        State::Removing => "removing",
    }
}

fn plan_of(target: Option<&Target>, seen: &[Obs]) -> Plan {
    plan_sick(target, seen, &[])
}

/// [`plan_of`], with containers unhealthy for so many seconds.
fn plan_sick(target: Option<&Target>, seen: &[Obs], sick: &[(&str, u64)]) -> Plan {
    let observed: Vec<Observed> = seen
        .iter()
        .map(|o| Observed {
            id: o.id.clone(),
            name: format!("berth-{}", o.id),
            service_id: None,
            deployment_id: None,
            template: o.template.clone(),
            replica: o.replica.map(ReplicaIndex),
            state: docker_word(o.state).to_owned(),
            health: None,
            exit_code: None,
            restart_count: 0,
            started_at: None,
            ip: None,
            ..Default::default()
        })
        .collect();
    let ready: Readiness = seen.iter().map(|o| (o.id.clone(), o.ready)).collect();
    let unhealthy: Unhealthy = sick
        .iter()
        .map(|(id, s)| (id.to_string(), Duration::from_secs(*s)))
        .collect();
    plan(target, &observed, &ready, &unhealthy)
}

fn create(n: u32) -> Action {
    Action::Create(ReplicaIndex(n))
}

#[test]
fn every_docker_word_reads_back() {
    for s in [
        State::Created,
        State::Running,
        State::Restarting,
        State::Paused,
        State::Exited,
        State::Dead,
        State::Removing,
    ] {
        assert_eq!(State::from_docker(docker_word(s)), s);
    }
    assert_eq!(State::from_docker("unknown"), State::Exited);
}

#[test]
fn a_container_not_probed_counts_as_not_ready() {
    let running = plan_of(Some(&rolling(1)), &[up("a", "new", 0)]);
    assert!(running.converged);
    // The same container, but missing from the readiness map.
    let observed = [Observed {
        id: "a".into(),
        name: "berth-a".into(),
        service_id: None,
        deployment_id: None,
        template: "new".into(),
        replica: Some(ReplicaIndex(0)),
        state: "running".into(),
        health: None,
        exit_code: None,
        restart_count: 0,
        started_at: None,
        ip: None,
        ..Default::default()
    }];
    let p = plan(
        Some(&rolling(1)),
        &observed,
        &Readiness::new(),
        &Unhealthy::new(),
    );
    assert!(p.actions.is_empty());
    assert!(!p.converged);
}

fn c(id: &str, template: &str, replica: u32, state: State, ready: bool) -> Obs {
    Obs {
        id: id.into(),
        template: template.into(),
        replica: Some(replica),
        state,
        ready,
    }
}

fn up(id: &str, template: &str, replica: u32) -> Obs {
    c(id, template, replica, State::Running, true)
}

fn rm(id: &str) -> Action {
    Action::Remove(id.into())
}

#[test]
fn nothing_wanted_removes_everything() {
    let seen = [up("a", "new", 0), c("b", "old", 0, State::Exited, false)];
    let p = plan_of(None, &seen);
    assert_eq!(p.actions, [rm("a"), rm("b")]);
    assert!(!p.converged);
    assert!(plan_of(None, &[]).converged);
}

#[test]
fn nothing_wanted_does_not_remove_what_is_being_removed() {
    let p = plan_of(None, &[c("a", "new", 0, State::Removing, false)]);
    assert!(p.actions.is_empty());
    assert!(!p.converged, "converged only once it is gone");
}

#[test]
fn first_deploy_creates_every_replica() {
    let p = plan_of(Some(&rolling(3)), &[]);
    assert_eq!(p.actions, [create(0), create(1), create(2)]);
    assert!(!p.converged);
}

#[test]
fn all_ready_is_converged() {
    let seen = [up("a", "new", 0), up("b", "new", 1)];
    let p = plan_of(Some(&rolling(2)), &seen);
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
    assert!(plan_of(Some(&target(0)), &[]).converged);
    let p = plan_of(Some(&target(0)), &[up("a", "new", 0)]);
    assert_eq!(p.actions, [rm("a")]);
}

#[test]
fn scale_up_adds_only_the_missing_replicas() {
    let p = plan_of(Some(&rolling(3)), &[up("a", "new", 0)]);
    assert_eq!(p.actions, [create(1), create(2)]);
}

#[test]
fn scale_down_removes_the_highest_replicas() {
    let seen = [up("a", "new", 0), up("b", "new", 1), up("c", "new", 2)];
    let p = plan_of(Some(&target(1)), &seen);
    assert_eq!(p.actions, [rm("b"), rm("c")]);
    assert!(!p.converged);
}

#[test]
fn rollout_keeps_old_until_every_new_replica_is_ready() {
    let old = [up("o0", "old", 0), up("o1", "old", 1)];
    // Nothing new yet: create, keep old.
    let p = plan_of(Some(&rolling(2)), &old);
    assert_eq!(p.actions, [create(0), create(1)]);
    // One new ready, one starting: wait, old stay.
    let mut seen = old.to_vec();
    seen.push(up("n0", "new", 0));
    seen.push(c("n1", "new", 1, State::Running, false));
    let p = plan_of(Some(&rolling(2)), &seen);
    assert!(p.actions.is_empty());
    assert!(!p.converged);
    // Both ready: old go.
    seen[3].ready = true;
    let p = plan_of(Some(&rolling(2)), &seen);
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
    let p = plan_of(Some(&target(1)), &seen);
    assert_eq!(p.actions, [rm("failed")]);
}

#[test]
fn stop_first_removes_old_before_creating() {
    let t = Target {
        stop_first: true,
        ..rolling(1)
    };
    let p = plan_of(Some(&t), &[up("old", "old", 0)]);
    assert_eq!(p.actions, [rm("old")]);
    let p = plan_of(Some(&t), &[]);
    assert_eq!(p.actions, [create(0)]);
}

#[test]
fn a_stopped_replica_is_started_again() {
    let seen = [c("a", "new", 0, State::Exited, false)];
    assert_eq!(
        plan_of(Some(&target(1)), &seen).actions,
        [Action::Start("a".into())]
    );
    let no_restart = Target {
        restart_exited: false,
        ..target(1)
    };
    assert!(plan_of(Some(&no_restart), &seen).actions.is_empty());
    let created = [c("a", "new", 0, State::Created, false)];
    assert_eq!(
        plan_of(Some(&no_restart), &created).actions,
        [Action::Start("a".into())]
    );
}

#[test]
fn a_dead_replica_is_replaced() {
    let seen = [c("a", "new", 0, State::Dead, false)];
    assert_eq!(
        plan_of(Some(&target(1)), &seen).actions,
        [rm("a"), create(0)]
    );
}

#[test]
fn restarting_and_paused_are_left_to_docker() {
    let seen = [
        c("a", "new", 0, State::Restarting, false),
        c("b", "new", 1, State::Paused, false),
    ];
    let p = plan_of(Some(&target(2)), &seen);
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
    let p = plan_of(Some(&target(1)), &seen);
    assert_eq!(p.actions, [rm("z"), rm("x")]);
}

#[test]
fn a_labelled_container_without_a_replica_number_is_removed() {
    let stray = Obs {
        id: "s".into(),
        template: "new".into(),
        replica: None,
        state: State::Running,
        ready: true,
    };
    let p = plan_of(Some(&target(1)), &[up("a", "new", 0), stray]);
    assert_eq!(p.actions, [rm("s")]);
}

#[test]
fn a_container_being_removed_is_not_counted_for_its_replica() {
    let seen = [c("a", "new", 0, State::Removing, false)];
    assert_eq!(plan_of(Some(&target(1)), &seen).actions, [create(0)]);
}

#[test]
fn planning_converged_state_twice_is_stable() {
    let seen = [up("a", "new", 0)];
    let t = rolling(1);
    assert_eq!(plan_of(Some(&t), &seen), plan_of(Some(&t), &seen));
    assert!(plan_of(Some(&t), &seen).converged);
}

fn replacing(replicas: u32, after_s: u64) -> Target {
    Target {
        replace_unhealthy_after: Some(Duration::from_secs(after_s)),
        ..target(replicas)
    }
}

#[test]
fn a_replica_unhealthy_longer_than_allowed_is_replaced() {
    let sick = c("a", "new", 0, State::Running, false);
    let seen = [sick.clone(), up("b", "new", 1)];
    // Not yet: 59 s of 60.
    let p = plan_sick(Some(&replacing(2, 60)), &seen, &[("a", 59)]);
    assert!(p.actions.is_empty());
    assert!(!p.converged);
    // 60 s: removed now, created again next pass (same name); the healthy one stays.
    let p = plan_sick(Some(&replacing(2, 60)), &seen, &[("a", 60)]);
    assert_eq!(p.actions, [Action::Replace("a".into())]);
    assert!(!p.converged);
    let p = plan_of(Some(&replacing(2, 60)), &[up("b", "new", 1)]);
    assert_eq!(p.actions, [create(0)]);
}

#[test]
fn unhealthy_replicas_are_not_replaced_during_a_rollout_or_when_turned_off() {
    let seen = [c("a", "new", 0, State::Running, false)];
    let during = Target {
        rolling: true,
        ..replacing(1, 60)
    };
    // A rollout has its own deadline.
    assert!(plan_sick(Some(&during), &seen, &[("a", 600)])
        .actions
        .is_empty());
    let never = target(1);
    assert!(plan_sick(Some(&never), &seen, &[("a", 600)])
        .actions
        .is_empty());
    // Only running replicas: a restarting one is Docker's to restart.
    let restarting = [c("a", "new", 0, State::Restarting, false)];
    assert!(
        plan_sick(Some(&replacing(1, 60)), &restarting, &[("a", 600)])
            .actions
            .is_empty()
    );
}
