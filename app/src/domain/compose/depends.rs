//! `depends_on`: read per service, then the rules between services: every dependency
//! names a service of the file, and no service waits for itself, directly or through
//! others.

use super::problems::{child, kind, Problems};
use super::refuse;
use super::translate::Draft;
use super::yaml::Node;
use crate::domain::dependencies::{DependsCondition, DependsOn};

/// Problems at `services.<name>.depends_on…` for unknown services and for each cycle
/// (named once, as `a → b → a`, at the first service of the file on it).
pub fn check(services: &[(String, Vec<DependsOn>)], problems: &mut Problems) {
    let index = |name: &str| services.iter().position(|(n, _)| n == name);
    for (name, deps) in services {
        for dep in deps.iter().filter(|d| index(&d.service).is_none()) {
            problems.add(
                format!("services.{name}.depends_on.{}", dep.service),
                format!("{} is not a service of this file.", dep.service),
            );
        }
    }
    // Depth-first search; a back edge closes a cycle.
    let mut state = vec![0u8; services.len()]; // 0 new, 1 on the path, 2 done
    let mut reported: Vec<Vec<usize>> = Vec::new();
    for start in 0..services.len() {
        let mut path = Vec::new();
        visit(
            start,
            services,
            &index,
            &mut state,
            &mut path,
            &mut reported,
            problems,
        );
    }
}

fn visit(
    at: usize,
    services: &[(String, Vec<DependsOn>)],
    index: &dyn Fn(&str) -> Option<usize>,
    state: &mut [u8],
    path: &mut Vec<usize>,
    reported: &mut Vec<Vec<usize>>,
    problems: &mut Problems,
) {
    if state[at] == 2 {
        return;
    }
    state[at] = 1;
    path.push(at);
    for dep in &services[at].1 {
        let Some(next) = index(&dep.service) else {
            continue;
        };
        if state[next] == 1 {
            let from = path.iter().position(|&i| i == next).unwrap_or(0);
            let mut cycle = path[from..].to_vec();
            let mut key = cycle.clone();
            key.sort_unstable();
            if reported.contains(&key) {
                continue;
            }
            reported.push(key);
            let first = *cycle.iter().min().unwrap_or(&next);
            let shift = cycle.iter().position(|&i| i == first).unwrap_or(0);
            cycle.rotate_left(shift);
            let names: Vec<&str> = cycle
                .iter()
                .chain(std::iter::once(&first))
                .map(|&i| services[i].0.as_str())
                .collect();
            let name = &services[first].0;
            problems.add(
                format!("services.{name}.depends_on"),
                format!("depends_on forms a cycle: {}.", names.join(" → ")),
            );
        } else {
            visit(next, services, index, state, path, reported, problems);
        }
    }
    path.pop();
    state[at] = 2;
}

/// `[db, cache]` (started) or `{db: {condition: service_healthy}}`.
pub fn read(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    let started = DependsCondition::ServiceStarted;
    match value {
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(service) = problems.text(item, &format!("{at}[{i}]")) {
                    add_dependency(d, service, started, &format!("{at}[{i}]"), problems);
                }
            }
        }
        Node::Map(entries) => {
            for (service, v) in entries {
                let path = child(at, service);
                let mut condition = Some(started);
                if let Node::Map(options) = v {
                    for (key, o) in options {
                        let opt = child(&path, key);
                        match key.as_str() {
                            "condition" => {
                                condition = match problems.text(o, &opt).as_deref() {
                                    Some("service_started") => Some(started),
                                    Some("service_healthy") => {
                                        Some(DependsCondition::ServiceHealthy)
                                    }
                                    Some("service_completed_successfully") => {
                                        problems.add(opt, "Berth services run until stopped: service_completed_successfully is not supported (use a scheduled job or a one-off command).");
                                        None
                                    }
                                    _ => {
                                        problems.add(
                                            opt,
                                            "service_started or service_healthy is expected.",
                                        );
                                        None
                                    }
                                }
                            }
                            "required" => {
                                if problems.flag(o, &opt) == Some(false) {
                                    problems.add(opt, "Every dependency is required in Berth.");
                                }
                            }
                            k => problems.add(opt, refuse::nested_key("depends_on", k)),
                        }
                    }
                } else if !matches!(v, Node::Null) {
                    problems.add(
                        &path,
                        format!("A mapping with condition is expected, not {}.", kind(v)),
                    );
                }
                if let Some(condition) = condition {
                    add_dependency(d, service.clone(), condition, &path, problems);
                }
            }
        }
        other => problems.add(
            at,
            format!("A list or a mapping is expected, not {}.", kind(other)),
        ),
    }
}

fn add_dependency(
    d: &mut Draft,
    service: String,
    condition: DependsCondition,
    path: &str,
    problems: &mut Problems,
) {
    if d.spec.depends_on.iter().any(|x| x.service == service) {
        return problems.add(path, format!("{service} is listed twice."));
    }
    d.spec.depends_on.push(DependsOn { service, condition });
}
