//! Everything wrong with an environment's references, for refusal at save time.

use super::index::{Index, Target};
use super::resolve::Evaluator;
use super::{references, EnvironmentVariables, Problem, ProblemKind, VariableId};
use crate::domain::digraph::{cycles_through, cyclic_components, Graph};

/// Every problem of every variable of the environment (shared and services'), ordered by
/// where it is: shared variables first, then services by name, each in its list's order.
/// Empty when every reference can be filled in.
///
/// A variable on a cycle gets one problem naming a cycle through it (the shortest), so a
/// cycle between two services is reported to both. A variable that only uses a broken
/// one is not reported: the problem is where it starts.
pub fn check(env: &EnvironmentVariables) -> Vec<Problem> {
    let index = Index::new(env);
    let variables = index.variables();

    // Unreadable values, unknown names, missing facts and values too long, from filling
    // every variable in; the evaluator's cycles are replaced by one per variable below.
    let mut evaluator = Evaluator::new(&index);
    for (id, _) in &variables {
        evaluator.value(id);
    }
    let mut problems: Vec<Problem> = evaluator
        .problems
        .into_iter()
        .filter(|p| !matches!(p.kind, ProblemKind::Cycle { .. }))
        .collect();

    let mut graph: Graph<VariableId> = Graph::new();
    for (id, slot) in &variables {
        let uses = references(&slot.var.value).unwrap_or_default();
        let edges = graph.entry(id.clone()).or_default();
        for reference in uses {
            if let Ok(Target::Variable(used)) = index.lookup(&reference) {
                edges.insert(used);
            }
        }
    }
    for component in cyclic_components(&graph) {
        for (id, path) in cycles_through(&graph, &component) {
            let index = index.slot(&id).map_or(0, |s| s.index);
            problems.push(Problem {
                variable: id,
                index,
                kind: ProblemKind::Cycle { path },
            });
        }
    }
    problems.sort_by(|a, b| (&a.variable.scope, a.index).cmp(&(&b.variable.scope, b.index)));
    problems
}
