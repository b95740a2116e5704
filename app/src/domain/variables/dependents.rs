//! Who uses what: the services a change reaches ("needs redeploy"), and the services a
//! service refers to (the service map's edges).

use super::index::{Index, Target};
use super::{references, EnvironmentVariables, Fact, Reference, Scope, VariableId};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Something a reference can point at that has changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// A shared variable (its value or secrecy changed, or it was added or removed).
    Shared(String),
    /// A service's variable.
    Variable { service: String, key: String },
    /// A service's fact (its ports or domains changed).
    Fact { service: String, fact: Fact },
    /// A service as a whole (renamed or deleted): everything that refers to it.
    Service(String),
}

/// What a reference names, whether or not it exists: a removed variable still has users.
fn target(reference: &Reference) -> Target {
    match &reference.scope {
        Scope::Shared => Target::Variable(VariableId::shared(&reference.name)),
        Scope::Service(s) => match Fact::parse(&reference.name) {
            Some(fact) => Target::Fact(s.clone(), fact),
            None => Target::Variable(VariableId::service(s, &reference.name)),
        },
    }
}

/// The services whose resolved env changes with `changed`: those with a variable that
/// refers to it, directly or through other variables (shared ones included), sorted by
/// name. The service that changed itself is left out: its own change redeploys it.
pub fn dependents(env: &EnvironmentVariables, changed: &Changed) -> Vec<String> {
    let index = Index::new(env);
    let mut users: BTreeMap<Target, BTreeSet<VariableId>> = BTreeMap::new();
    let mut users_of_service: BTreeMap<String, BTreeSet<VariableId>> = BTreeMap::new();
    for (id, slot) in index.variables() {
        for reference in references(&slot.var.value).unwrap_or_default() {
            if let Scope::Service(s) = &reference.scope {
                users_of_service
                    .entry(s.clone())
                    .or_default()
                    .insert(id.clone());
            }
            users
                .entry(target(&reference))
                .or_default()
                .insert(id.clone());
        }
    }

    let direct = match changed {
        Changed::Shared(key) => users.get(&Target::Variable(VariableId::shared(key))),
        Changed::Variable { service, key } => {
            users.get(&Target::Variable(VariableId::service(service, key)))
        }
        Changed::Fact { service, fact } => users.get(&Target::Fact(service.clone(), *fact)),
        Changed::Service(service) => users_of_service.get(service),
    };
    let mut affected: BTreeSet<VariableId> = direct.cloned().unwrap_or_default();
    let mut queue: VecDeque<VariableId> = affected.iter().cloned().collect();
    while let Some(v) = queue.pop_front() {
        for user in users.get(&Target::Variable(v)).into_iter().flatten() {
            if affected.insert(user.clone()) {
                queue.push_back(user.clone());
            }
        }
    }

    let itself = match changed {
        Changed::Shared(_) => None,
        Changed::Variable { service, .. }
        | Changed::Fact { service, .. }
        | Changed::Service(service) => Some(service.as_str()),
    };
    let services: BTreeSet<String> = affected
        .into_iter()
        .filter_map(|v| match v.scope {
            Scope::Service(s) if Some(s.as_str()) != itself => Some(s),
            _ => None,
        })
        .collect();
    services.into_iter().collect()
}

/// The other services of the environment that `service`'s variables refer to, directly
/// or through shared variables (not through another service's variables: that service
/// has its own edges), sorted by name. References to missing services are left out.
pub fn referenced_services(service: &str, env: &EnvironmentVariables) -> Vec<String> {
    let index = Index::new(env);
    let Some(s) = index.service(service) else {
        return Vec::new();
    };
    let mut found = BTreeSet::new();
    let mut shared_seen = BTreeSet::new();
    let mut values: VecDeque<&str> = s.env.iter().map(|v| v.value.as_str()).collect();
    while let Some(value) = values.pop_front() {
        for reference in references(value).unwrap_or_default() {
            match &reference.scope {
                Scope::Service(other) => {
                    if other != service && index.service(other).is_some() {
                        found.insert(other.clone());
                    }
                }
                Scope::Shared => {
                    let id = VariableId::shared(&reference.name);
                    if let Some(slot) = index.slot(&id) {
                        if shared_seen.insert(id) {
                            values.push_back(&slot.var.value);
                        }
                    }
                }
            }
        }
    }
    found.into_iter().collect()
}

/// The names of `env`'s services, each after the services it refers to
/// ([`referenced_services`]), so that services stored one by one, each deployed at once,
/// find the ones they refer to already there. Otherwise in `env`'s order; services that
/// refer to each other (a cycle of services, not of variables) go in that order too.
pub fn referenced_first(env: &EnvironmentVariables) -> Vec<String> {
    let mut left: Vec<(&str, Vec<String>)> = env
        .services
        .iter()
        .map(|s| (s.name.as_str(), referenced_services(&s.name, env)))
        .collect();
    let mut order = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let waits = |uses: &[String]| uses.iter().any(|u| left.iter().any(|(n, _)| n == u));
        let next = left.iter().position(|(_, uses)| !waits(uses)).unwrap_or(0);
        order.push(left.remove(next).0.to_owned());
    }
    order
}
