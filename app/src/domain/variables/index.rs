//! An environment's variables by name, and what a reference points at.

use super::{
    EnvironmentVariables, Fact, ProblemKind, Reference, Scope, ServiceVariables, VariableId,
};
use crate::domain::service::EnvVar;
use std::collections::BTreeMap;

/// A variable with its position in its list.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot<'a> {
    pub index: usize,
    pub var: &'a EnvVar,
}

/// What a reference points at, once looked up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Target {
    Variable(VariableId),
    Fact(String, Fact),
}

/// The lookup tables of one environment. A name given twice counts once, the first
/// (validation refuses repeated keys and names before this runs).
pub(super) struct Index<'a> {
    pub env: &'a EnvironmentVariables,
    shared: BTreeMap<&'a str, Slot<'a>>,
    services: BTreeMap<&'a str, (&'a ServiceVariables, BTreeMap<&'a str, Slot<'a>>)>,
}

fn slots(vars: &[EnvVar]) -> BTreeMap<&str, Slot<'_>> {
    let mut map = BTreeMap::new();
    for (index, var) in vars.iter().enumerate() {
        map.entry(var.key.as_str()).or_insert(Slot { index, var });
    }
    map
}

impl<'a> Index<'a> {
    pub fn new(env: &'a EnvironmentVariables) -> Self {
        let mut services = BTreeMap::new();
        for s in &env.services {
            services
                .entry(s.name.as_str())
                .or_insert_with(|| (s, slots(&s.env)));
        }
        Index {
            env,
            shared: slots(&env.shared),
            services,
        }
    }

    pub fn service(&self, name: &str) -> Option<&'a ServiceVariables> {
        self.services.get(name).map(|(s, _)| *s)
    }

    /// The variable with this id, if it exists.
    pub fn slot(&self, id: &VariableId) -> Option<Slot<'a>> {
        match &id.scope {
            Scope::Shared => self.shared.get(id.key.as_str()).copied(),
            Scope::Service(s) => self
                .services
                .get(s.as_str())?
                .1
                .get(id.key.as_str())
                .copied(),
        }
    }

    /// Every variable: the shared ones, then each service's, in their lists' order.
    pub fn variables(&self) -> Vec<(VariableId, Slot<'a>)> {
        let mut out = Vec::new();
        for (index, var) in self.env.shared.iter().enumerate() {
            if self.shared[var.key.as_str()].index == index {
                out.push((VariableId::shared(&var.key), Slot { index, var }));
            }
        }
        for s in &self.env.services {
            let (first, vars) = &self.services[s.name.as_str()];
            if !std::ptr::eq(*first, s) {
                continue;
            }
            for (index, var) in s.env.iter().enumerate() {
                if vars[var.key.as_str()].index == index {
                    out.push((VariableId::service(&s.name, &var.key), Slot { index, var }));
                }
            }
        }
        out
    }

    /// What `reference` points at, or why it points at nothing.
    pub fn lookup(&self, reference: &Reference) -> Result<Target, ProblemKind> {
        match &reference.scope {
            Scope::Shared => {
                if self.shared.contains_key(reference.name.as_str()) {
                    Ok(Target::Variable(VariableId::shared(&reference.name)))
                } else {
                    Err(ProblemKind::UnknownShared {
                        reference: reference.clone(),
                    })
                }
            }
            Scope::Service(name) => {
                let Some((service, vars)) = self.services.get(name.as_str()) else {
                    return Err(ProblemKind::UnknownService {
                        reference: reference.clone(),
                    });
                };
                if let Some(fact) = Fact::parse(&reference.name) {
                    return match fact_value(service, fact) {
                        Some(_) => Ok(Target::Fact(name.clone(), fact)),
                        None => Err(ProblemKind::MissingFact {
                            reference: reference.clone(),
                            fact,
                        }),
                    };
                }
                if vars.contains_key(reference.name.as_str()) {
                    Ok(Target::Variable(VariableId::service(name, &reference.name)))
                } else {
                    Err(ProblemKind::UnknownVariable {
                        reference: reference.clone(),
                    })
                }
            }
        }
    }
}

/// A fact's value for a service, when it has one.
pub(super) fn fact_value(service: &ServiceVariables, fact: Fact) -> Option<String> {
    match fact {
        Fact::Host => Some(service.name.clone()),
        Fact::Port => service.facts.port.map(|p| p.to_string()),
        Fact::Url => service.facts.url.clone(),
    }
}
