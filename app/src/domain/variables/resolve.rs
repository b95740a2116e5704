//! Filling in references: a service's env as its container gets it.

use super::index::{fact_value, Index, Slot, Target};
use super::{
    parse, references, EnvironmentVariables, Problem, ProblemKind, ResolvedValue, Segment,
    VariableId,
};
use std::collections::{BTreeMap, BTreeSet};

/// The longest a value may grow to with its references filled in, in bytes (the limit of a
/// value as written).
pub const MAX_RESOLVED_BYTES: usize = 64 * 1024;

/// Why a service's env cannot be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("there is no service {0:?} in this environment")]
    UnknownService(String),
    /// Each problem where it starts (a variable that only uses a broken one is not named).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))]
    Problems(Vec<Problem>),
}

/// `service`'s variables, in its env's order, with every reference filled in. A value is
/// secret when its variable is, or when it uses a secret (a shared one, another service's,
/// through any number of references); facts are not secret.
pub fn resolve(
    service: &str,
    env: &EnvironmentVariables,
) -> Result<Vec<(String, ResolvedValue)>, ResolveError> {
    let index = Index::new(env);
    let s = index
        .service(service)
        .ok_or_else(|| ResolveError::UnknownService(service.to_owned()))?;
    let mut evaluator = Evaluator::new(&index);
    let mut resolved = Vec::with_capacity(s.env.len());
    for var in &s.env {
        if let Some(value) = evaluator.value(&VariableId::service(service, &var.key)) {
            resolved.push((var.key.clone(), value));
        }
    }
    if resolved.len() == s.env.len() {
        Ok(resolved)
    } else {
        Err(ResolveError::Problems(evaluator.problems))
    }
}

/// Fills in variables on demand, each once; remembers failures and the problems that
/// caused them (each recorded where it starts).
pub(super) struct Evaluator<'i, 'a> {
    index: &'i Index<'a>,
    /// `None`: the variable cannot be filled in (a problem says why, here or further on).
    done: BTreeMap<VariableId, Option<ResolvedValue>>,
    pub problems: Vec<Problem>,
}

impl<'i, 'a> Evaluator<'i, 'a> {
    pub fn new(index: &'i Index<'a>) -> Self {
        Evaluator {
            index,
            done: BTreeMap::new(),
            problems: Vec::new(),
        }
    }

    /// The value of `root` (an existing variable) with its references filled in.
    /// Depth first without recursion: a variable is filled in after the variables it uses.
    pub fn value(&mut self, root: &VariableId) -> Option<ResolvedValue> {
        // (variable, its references are being filled in). The entries marked `true` are
        // the path from the root to where the search is, the `open` set.
        let mut work = vec![(root.clone(), false)];
        let mut open = BTreeSet::new();
        while let Some((id, expanded)) = work.pop() {
            if self.done.contains_key(&id) {
                continue;
            }
            let Some(slot) = self.index.slot(&id) else {
                continue;
            };
            if expanded {
                let value = self.fill_in(&id, slot);
                open.remove(&id);
                self.done.insert(id, value);
                continue;
            }
            if !open.insert(id.clone()) {
                continue;
            }
            work.push((id.clone(), true));
            let uses = references(&slot.var.value).unwrap_or_default();
            for reference in uses.iter().rev() {
                let Ok(Target::Variable(used)) = self.index.lookup(reference) else {
                    continue;
                };
                if self.done.contains_key(&used) {
                    continue;
                }
                if open.contains(&used) {
                    // It leads back to a variable on the path: a cycle from `used` to here.
                    let mut path: Vec<VariableId> = work
                        .iter()
                        .filter(|(_, expanded)| *expanded)
                        .map(|(v, _)| v.clone())
                        .skip_while(|v| *v != used)
                        .collect();
                    path.push(used.clone());
                    let index = self.index.slot(&used).map_or(0, |s| s.index);
                    self.record(&used, index, ProblemKind::Cycle { path });
                } else {
                    work.push((used, false));
                }
            }
        }
        self.done.get(root).cloned().flatten()
    }

    /// One variable's value, the variables it uses being done (or on a cycle).
    fn fill_in(&mut self, id: &VariableId, slot: Slot<'_>) -> Option<ResolvedValue> {
        let segments = match parse(&slot.var.value) {
            Ok(s) => s,
            Err(error) => {
                self.record(id, slot.index, ProblemKind::Syntax { error });
                return None;
            }
        };
        let mut value = String::new();
        let mut secret = slot.var.secret;
        let mut failed = false;
        for segment in segments {
            match segment {
                Segment::Literal(text) => value.push_str(&text),
                Segment::Reference(reference) => match self.index.lookup(&reference) {
                    Err(kind) => {
                        self.record(id, slot.index, kind);
                        failed = true;
                    }
                    Ok(Target::Fact(service, fact)) => {
                        let service = self.index.service(&service).expect("looked up");
                        value.push_str(&fact_value(service, fact).expect("looked up"));
                    }
                    Ok(Target::Variable(used)) => match self.done.get(&used) {
                        Some(Some(v)) => {
                            value.push_str(&v.value);
                            secret |= v.secret;
                        }
                        // Broken further on, or on a cycle: recorded there.
                        Some(None) | None => failed = true,
                    },
                },
            }
            if value.len() > MAX_RESOLVED_BYTES {
                let limit = MAX_RESOLVED_BYTES;
                self.record(id, slot.index, ProblemKind::TooLong { limit });
                return None;
            }
        }
        (!failed).then_some(ResolvedValue { value, secret })
    }

    fn record(&mut self, id: &VariableId, index: usize, kind: ProblemKind) {
        let problem = Problem {
            variable: id.clone(),
            index,
            kind,
        };
        if !self.problems.contains(&problem) {
            self.problems.push(problem);
        }
    }
}
