//! Variable references between the services of an environment: an env value may contain
//! `${{ shared.NAME }}` (a shared variable of the environment), `${{ db.NAME }}` (a
//! variable of service `db`) and `${{ db.HOST }}`, `${{ api.PORT }}`, `${{ web.URL }}`
//! (facts Berth knows about a service, [`Fact`]). Pure functions over an
//! [`EnvironmentVariables`] snapshot; nothing is stored resolved.
//!
//! How the pieces are meant to be wired:
//! - **Save time** (a service's env, a shared variable, a service renamed or deleted):
//!   build the environment as it would be after the change and call [`check`]; refuse
//!   the change when a problem [`Problem::involves`] what is being saved, reporting
//!   [`Problem::field_error`] (422, the field named). Unknown names, missing facts,
//!   cycles (`a.X → b.Y → a.X`, a variable naming itself) and values that grow past
//!   64 KiB are problems.
//! - **Deploy time**: the worker opens the secrets of the environment's services and
//!   shared variables (`store::spec_secrets::open_env`), builds the snapshot and calls
//!   [`resolve`] for the service it deploys; the container gets the plain values. A
//!   failure (something changed since it was checked) fails the deployment with the
//!   problems as its reason.
//! - **Shown to people**: [`resolve`] marks a value secret when it is a secret or uses
//!   one ([`ResolvedValue::shown`] masks it), so a resolved preview never reveals one.
//! - **Needs redeploy**: after a shared variable, a service variable or a fact (ports,
//!   domains) changed, [`dependents`] names the services whose resolved env changes.
//! - **Service map**: [`referenced_services`] gives a service's reference edges.
//!
//! Values must be given **opened** (plain): a sealed value is ciphertext and its
//! references would go unseen. Masked values (`********`) hold no references and are fine
//! for checks that only concern other variables.
//!
//! Facts and variables of the same name: `HOST`, `PORT` and `URL` in a reference always
//! mean the fact. A service's own variable called `HOST` (often a bind address such as
//! `0.0.0.0`) or `PORT` still reaches its own container, but another service cannot read
//! it through a reference: a reference says how to reach the service, the same in every
//! environment, whatever its own definition holds. The scope `shared` always means the
//! shared variables, so a service named `shared` cannot be referenced.

mod check;
mod dependents;
mod index;
mod resolve;
mod syntax;

pub use check::check;
pub use dependents::{dependents, referenced_first, referenced_services, Changed};
pub use resolve::{resolve, ResolveError, MAX_RESOLVED_BYTES};
pub use syntax::{is_variable_name, parse, references, Reference, Scope, Segment, SyntaxError};

use super::service::{EnvVar, FieldError, ServiceSpec, SECRET_MASK};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What [`check`], [`resolve`] and [`dependents`] read: one environment's shared variables
/// and its services, with opened (plain) values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentVariables {
    /// The environment's shared variables (a secret one has `secret: true`).
    pub shared: Vec<EnvVar>,
    pub services: Vec<ServiceVariables>,
}

/// One service of the environment: its name on the environment network, its variables and
/// the facts others may reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceVariables {
    pub name: String,
    pub env: Vec<EnvVar>,
    pub facts: ServiceFacts,
}

/// What Berth knows about a service besides its variables. `HOST` is always its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFacts {
    /// `PORT`: the port other services connect to.
    pub port: Option<u16>,
    /// `URL`: its public address, `https://<first domain>`.
    pub url: Option<String>,
}

impl ServiceVariables {
    /// From a service's definition: `PORT` is its first container port (`ports[0]`), or
    /// the port its HTTP route answers on when it publishes none; `URL` is
    /// `https://<http.domains[0]>`.
    pub fn from_spec(spec: &ServiceSpec) -> Self {
        let route = spec.http.as_ref();
        ServiceVariables {
            name: spec.name.clone(),
            env: spec.env.clone(),
            facts: ServiceFacts {
                port: spec
                    .ports
                    .first()
                    .map(|p| p.container)
                    .or(route.map(|r| r.port)),
                url: route
                    .and_then(|r| r.domains.first())
                    .map(|d| format!("https://{d}")),
            },
        }
    }
}

/// A fact Berth knows about every service, referenced as `${{ service.FACT }}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Fact {
    /// Its name on the environment's network (`db`): other services connect to it.
    Host,
    /// Its first container port (see [`ServiceVariables::from_spec`]).
    Port,
    /// Its first public URL, `https://<first domain>`.
    Url,
}

impl Fact {
    pub const ALL: [Fact; 3] = [Fact::Host, Fact::Port, Fact::Url];

    pub fn as_str(self) -> &'static str {
        match self {
            Fact::Host => "HOST",
            Fact::Port => "PORT",
            Fact::Url => "URL",
        }
    }

    /// The fact a reference's name means, if it is one (exact, upper-case).
    pub fn parse(name: &str) -> Option<Fact> {
        Fact::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// A variable of the environment: `shared.NAME` or `db.NAME`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VariableId {
    pub scope: Scope,
    pub key: String,
}

impl VariableId {
    pub fn shared(key: &str) -> Self {
        VariableId {
            scope: Scope::Shared,
            key: key.to_owned(),
        }
    }

    pub fn service(service: &str, key: &str) -> Self {
        VariableId {
            scope: Scope::Service(service.to_owned()),
            key: key.to_owned(),
        }
    }
}

impl fmt::Display for VariableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.scope, self.key)
    }
}

/// A value with its references filled in. `secret` when the variable is a secret or it
/// uses one (directly or through other references).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedValue {
    pub value: String,
    pub secret: bool,
}

impl ResolvedValue {
    /// What a person may see: the value, or [`SECRET_MASK`] for a secret.
    pub fn shown(&self) -> &str {
        if self.secret {
            SECRET_MASK
        } else {
            &self.value
        }
    }
}

/// Something wrong with one variable's value: which variable (and its position in its
/// list: `env[index]` of its service, or the shared variables' `index`), and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub variable: VariableId,
    pub index: usize,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ProblemKind {
    /// The value cannot be read.
    Syntax { error: SyntaxError },
    /// `${{ cache.X }}` and no service `cache` in the environment.
    UnknownService { reference: Reference },
    /// `${{ db.X }}` and `db` has no variable `X`.
    UnknownVariable { reference: Reference },
    /// `${{ shared.X }}` and no shared variable `X`.
    UnknownShared { reference: Reference },
    /// `${{ api.PORT }}` of a service without a port, `${{ web.URL }}` without a domain.
    MissingFact { reference: Reference, fact: Fact },
    /// The variable's references lead back to it: `[this, …, this]`.
    Cycle { path: Vec<VariableId> },
    /// Filled in, the value would be longer than `limit` bytes.
    TooLong { limit: usize },
}

impl ProblemKind {
    /// What is wrong, in words, without naming the variable it belongs to.
    pub fn message(&self) -> String {
        match self {
            ProblemKind::Syntax { error } => format!("{error}."),
            ProblemKind::UnknownService { reference } => format!(
                "{reference}: there is no service \"{}\" in this environment.",
                reference.scope
            ),
            ProblemKind::UnknownVariable { reference } => format!(
                "{reference}: {} has no variable {}.",
                reference.scope, reference.name
            ),
            ProblemKind::UnknownShared { reference } => format!(
                "{reference}: there is no shared variable {}.",
                reference.name
            ),
            ProblemKind::MissingFact { reference, fact } => {
                let what = match fact {
                    Fact::Host => "host name",
                    Fact::Port => "container port",
                    Fact::Url => "domain",
                };
                format!("{reference}: {} has no {what}.", reference.scope)
            }
            ProblemKind::Cycle { path } => {
                let path: Vec<String> = path.iter().map(ToString::to_string).collect();
                format!("Its references form a cycle: {}.", path.join(" → "))
            }
            ProblemKind::TooLong { limit } => format!(
                "With its references filled in it would be longer than {} KiB.",
                limit / 1024
            ),
        }
    }
}

impl Problem {
    /// The problem concerns a variable of `scope` (for a cycle: any variable on it).
    pub fn involves(&self, scope: &Scope) -> bool {
        self.variable.scope == *scope
            || matches!(&self.kind, ProblemKind::Cycle { path } if path.iter().any(|v| v.scope == *scope))
    }

    /// The field of the value at fault (`env[2].value` for a service's variable,
    /// `shared[2].value` for a shared one) and the message.
    pub fn field_error(&self) -> FieldError {
        let list = match self.variable.scope {
            Scope::Shared => "shared",
            Scope::Service(_) => "env",
        };
        FieldError::new(format!("{list}[{}].value", self.index), self.kind.message())
    }
}

/// `db.DATABASE_URL: ${{ shared.X }}: there is no shared variable X.`
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.kind.message())
    }
}

#[cfg(test)]
mod tests;
