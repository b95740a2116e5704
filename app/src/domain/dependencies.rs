//! Deploy order within an environment: a service's `depends_on` names the services that
//! must be up before it starts (Compose's `depends_on` with its condition names).
//! [`waves`] turns them into deploy waves for the first deploy of an environment and for
//! "redeploy environment": every service of wave n depends only on services of earlier
//! waves, so a wave can roll out at once, and a failure stops before the next wave.
//! [`problems`] lists everything wrong (a cycle, a missing service) for refusal at save
//! or import time, each naming the service (and `depends_on[i]` entry) at fault.

use crate::domain::digraph::{cycles_through, cyclic_components, Graph};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One entry of a service's `depends_on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"service": "db", "condition": "service_healthy"})))]
#[serde(deny_unknown_fields)]
pub struct DependsOn {
    /// A service of the same environment, by name.
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 63))]
    pub service: String,
    #[serde(default)]
    pub condition: DependsCondition,
}

/// When a dependency counts as up (Compose's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DependsCondition {
    /// Its containers are running (Compose's default).
    #[default]
    ServiceStarted,
    /// Its replicas are ready: the health check passes (without one: running).
    ServiceHealthy,
}

impl DependsCondition {
    pub fn as_str(self) -> &'static str {
        match self {
            DependsCondition::ServiceStarted => "service_started",
            DependsCondition::ServiceHealthy => "service_healthy",
        }
    }

    /// What a person reads: `started` or `healthy`.
    pub fn word(self) -> &'static str {
        match self {
            DependsCondition::ServiceStarted => "started",
            DependsCondition::ServiceHealthy => "healthy",
        }
    }
}

/// Why the services cannot be put in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DependencyProblem {
    /// `service`'s `depends_on[index]` names a service the environment does not have.
    #[error("{service} depends on {missing}, which is not a service of this environment")]
    Missing {
        service: String,
        index: usize,
        missing: String,
    },
    /// The services wait for each other: `[a, b, a]` (a service that depends on itself:
    /// `[a, a]`).
    #[error("depends_on forms a cycle: {}", .path.join(" → "))]
    Cycle { path: Vec<String> },
}

impl DependencyProblem {
    /// The problem concerns `service` (it is missing something, or it is on the cycle).
    pub fn involves(&self, service: &str) -> bool {
        match self {
            DependencyProblem::Missing { service: s, .. } => s == service,
            DependencyProblem::Cycle { path } => path.iter().any(|s| s == service),
        }
    }

    /// The spec field at fault for the service named first: `depends_on[i].service` (for a
    /// cycle, the entry of `path[0]` that leads to `path[1]`, found in `depends_on`).
    pub fn field(&self, depends_on: &[DependsOn]) -> String {
        let index = match self {
            DependencyProblem::Missing { index, .. } => Some(*index),
            DependencyProblem::Cycle { path } => depends_on
                .iter()
                .position(|d| path.get(1).is_some_and(|next| d.service == *next)),
        };
        match index {
            Some(i) => format!("depends_on[{i}].service"),
            None => "depends_on".to_owned(),
        }
    }
}

/// Everything wrong with the environment's `depends_on`: missing services (by service
/// name, then entry), then each cycle once (the shortest through its smallest service).
pub fn problems<'a>(
    services: impl IntoIterator<Item = (&'a str, &'a [DependsOn])>,
) -> Vec<DependencyProblem> {
    let graph = graph(services);
    let mut problems = Vec::new();
    for (service, deps) in &graph.declared {
        for (index, d) in deps.iter().enumerate() {
            if !graph.edges.contains_key(d.service.as_str()) {
                problems.push(DependencyProblem::Missing {
                    service: (*service).to_owned(),
                    index,
                    missing: d.service.clone(),
                });
            }
        }
    }
    for component in cyclic_components(&graph.edges) {
        if let Some((_, path)) = cycles_through(&graph.edges, &component).into_iter().next() {
            problems.push(DependencyProblem::Cycle {
                path: path.into_iter().map(str::to_owned).collect(),
            });
        }
    }
    problems
}

/// Deploy waves: the first holds the services that depend on nothing, each next one the
/// services whose dependencies are all in earlier waves; each wave sorted by name. The
/// first of [`problems`] when there is one.
pub fn waves<'a>(
    services: impl IntoIterator<Item = (&'a str, &'a [DependsOn])>,
) -> Result<Vec<Vec<String>>, DependencyProblem> {
    let services: Vec<(&str, &[DependsOn])> = services.into_iter().collect();
    if let Some(problem) = problems(services.iter().copied()).into_iter().next() {
        return Err(problem);
    }
    let graph = graph(services);
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut waves = Vec::new();
    while placed.len() < graph.edges.len() {
        let wave: Vec<&str> = graph
            .edges
            .iter()
            .filter(|(s, deps)| !placed.contains(*s) && deps.iter().all(|d| placed.contains(d)))
            .map(|(s, _)| *s)
            .collect();
        assert!(!wave.is_empty(), "problems() found no cycle");
        placed.extend(wave.iter().copied());
        waves.push(wave.into_iter().map(str::to_owned).collect());
    }
    Ok(waves)
}

struct DependencyGraph<'a> {
    /// Service → the services it depends on (existing ones only).
    edges: Graph<&'a str>,
    /// Service → its `depends_on` as written.
    declared: BTreeMap<&'a str, &'a [DependsOn]>,
}

fn graph<'a>(
    services: impl IntoIterator<Item = (&'a str, &'a [DependsOn])>,
) -> DependencyGraph<'a> {
    let declared: BTreeMap<&str, &[DependsOn]> = services.into_iter().collect();
    let edges = declared
        .iter()
        .map(|(s, deps)| {
            let known = deps
                .iter()
                .map(|d| d.service.as_str())
                .filter(|d| declared.contains_key(d))
                .collect();
            (*s, known)
        })
        .collect();
    DependencyGraph { edges, declared }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(service: &str) -> DependsOn {
        DependsOn {
            service: service.into(),
            condition: DependsCondition::ServiceStarted,
        }
    }

    fn healthy(service: &str) -> DependsOn {
        DependsOn {
            condition: DependsCondition::ServiceHealthy,
            ..on(service)
        }
    }

    fn order(
        services: &[(&'static str, Vec<DependsOn>)],
    ) -> Result<Vec<Vec<String>>, DependencyProblem> {
        waves(services.iter().map(|(n, d)| (*n, d.as_slice())))
    }

    fn list(services: &[(&'static str, Vec<DependsOn>)]) -> Vec<DependencyProblem> {
        problems(services.iter().map(|(n, d)| (*n, d.as_slice())))
    }

    #[test]
    fn the_issue_example_deploys_db_then_api_then_web() {
        let services = [
            ("web", vec![on("api")]),
            ("api", vec![healthy("db")]),
            ("db", vec![]),
        ];
        assert_eq!(
            order(&services).unwrap(),
            vec![vec!["db"], vec!["api"], vec!["web"]]
        );
    }

    #[test]
    fn waves_are_layered_and_sorted() {
        // A diamond, an independent service, and a long edge (e → a skips a wave).
        let services = [
            ("e", vec![on("c"), on("d"), on("a")]),
            ("c", vec![on("a")]),
            ("d", vec![on("a"), on("b")]),
            ("b", vec![]),
            ("a", vec![]),
            ("z", vec![]),
        ];
        let waves = order(&services).unwrap();
        assert_eq!(waves, vec![vec!["a", "b", "z"], vec!["c", "d"], vec!["e"]]);
        // The same whatever order they are given in.
        let mut reversed = services.to_vec();
        reversed.reverse();
        assert_eq!(order(&reversed).unwrap(), waves);
        assert_eq!(order(&[]).unwrap(), Vec::<Vec<String>>::new());
    }

    #[test]
    fn a_repeated_dependency_is_harmless() {
        let services = [("a", vec![on("b"), healthy("b")]), ("b", vec![])];
        assert_eq!(order(&services).unwrap(), vec![vec!["b"], vec!["a"]]);
    }

    #[test]
    fn a_service_depending_on_itself_is_a_cycle() {
        let services = [("a", vec![on("a")]), ("b", vec![])];
        let err = order(&services).unwrap_err();
        assert_eq!(
            err,
            DependencyProblem::Cycle {
                path: vec!["a".into(), "a".into()]
            }
        );
        assert_eq!(err.to_string(), "depends_on forms a cycle: a → a");
    }

    #[test]
    fn cycles_of_two_and_three_are_named_by_their_path() {
        let two = [("b", vec![on("a")]), ("a", vec![on("b")])];
        assert_eq!(
            order(&two).unwrap_err().to_string(),
            "depends_on forms a cycle: a → b → a"
        );
        let three = [
            ("web", vec![on("api")]),
            ("api", vec![on("db")]),
            ("db", vec![on("web")]),
            ("cache", vec![]),
        ];
        let err = order(&three).unwrap_err();
        assert_eq!(
            err,
            DependencyProblem::Cycle {
                path: vec!["api".into(), "db".into(), "web".into(), "api".into()]
            }
        );
        assert!(err.involves("web") && !err.involves("cache"));
        assert_eq!(err.field(&three[1].1), "depends_on[0].service");
    }

    #[test]
    fn a_missing_service_is_named_with_its_entry() {
        let services = [("api", vec![on("db"), on("cache")]), ("db", vec![])];
        let err = order(&services).unwrap_err();
        assert_eq!(
            err,
            DependencyProblem::Missing {
                service: "api".into(),
                index: 1,
                missing: "cache".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "api depends on cache, which is not a service of this environment"
        );
        assert_eq!(err.field(&services[0].1), "depends_on[1].service");
    }

    #[test]
    fn every_problem_is_listed() {
        let services = [
            ("a", vec![on("b"), on("x")]),
            ("b", vec![on("a")]),
            ("c", vec![on("c"), on("y")]),
        ];
        assert_eq!(
            list(&services),
            vec![
                DependencyProblem::Missing {
                    service: "a".into(),
                    index: 1,
                    missing: "x".into()
                },
                DependencyProblem::Missing {
                    service: "c".into(),
                    index: 1,
                    missing: "y".into()
                },
                DependencyProblem::Cycle {
                    path: vec!["a".into(), "b".into(), "a".into()]
                },
                DependencyProblem::Cycle {
                    path: vec!["c".into(), "c".into()]
                },
            ]
        );
    }

    #[test]
    fn depends_on_reads_compose_condition_names() {
        let d: DependsOn = serde_json::from_value(
            serde_json::json!({"service": "db", "condition": "service_healthy"}),
        )
        .unwrap();
        assert_eq!(d, healthy("db"));
        let d: DependsOn = serde_json::from_value(serde_json::json!({"service": "db"})).unwrap();
        assert_eq!(d.condition, DependsCondition::ServiceStarted);
        assert_eq!(
            serde_json::to_value(healthy("db")).unwrap(),
            serde_json::json!({"service": "db", "condition": "service_healthy"})
        );
        assert_eq!(DependsCondition::ServiceHealthy.as_str(), "service_healthy");
        assert!(serde_json::from_value::<DependsOn>(
            serde_json::json!({"service": "db", "condition": "service_completed_successfully"})
        )
        .is_err());
        assert!(serde_json::from_value::<DependsOn>(
            serde_json::json!({"service": "db", "restart": true})
        )
        .is_err());
    }
}
