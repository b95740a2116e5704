//! `depends_on` in an environment: the save-time check (every dependency is a service of
//! the same environment, and none waits for itself through others), the delete check (a
//! service others depend on stays), and "Redeploy environment" — a new deployment of every
//! service, which the worker's gate rolls out in dependency order.

use crate::commands::{Caller, CommandError, Deps};
use crate::domain::dependencies::{problems, waves, DependsOn};
use crate::domain::service::{FieldError, ServiceSpec};
use crate::domain::Permission;
use crate::store::audit::{record, Target};
use crate::store::dependencies as store;
use serde_json::json;
use uuid::Uuid;

/// Refuses (422, `depends_on[i].service`) a definition whose `depends_on` names a service
/// its environment does not have, or closes a cycle. `environment`: where the service is
/// (`None`: the team's default environment, which may not exist yet).
pub async fn check_service(
    deps: Deps<'_>,
    team_id: Uuid,
    environment: Option<Uuid>,
    spec: &ServiceSpec,
) -> Result<(), CommandError> {
    if spec.depends_on.is_empty() {
        // Nothing of its own to check, and it cannot close a cycle through others.
        return Ok(());
    }
    let environment = match environment {
        Some(e) => Some(e),
        None => crate::store::variables::default_environment_id(deps.pool, team_id).await?,
    };
    let mut services = match environment {
        Some(e) => store::in_environment(deps.pool, e).await?,
        None => Vec::new(),
    };
    services.retain(|(_, name, _)| *name != spec.name);
    services.push((Uuid::nil(), spec.name.clone(), spec.depends_on.clone()));
    let errors = own_problems(&services, spec);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Invalid(errors))
    }
}

/// The problems of the environment (`services`, with `spec` among them) that involve
/// `spec`'s service, each on the entry at fault.
fn own_problems(
    services: &[(Uuid, String, Vec<DependsOn>)],
    spec: &ServiceSpec,
) -> Vec<FieldError> {
    problems(services.iter().map(|(_, n, d)| (n.as_str(), d.as_slice())))
        .into_iter()
        .filter(|p| p.involves(&spec.name))
        .map(|p| {
            // A cycle is named on this service's entry that leads along it.
            let field = match &p {
                crate::domain::dependencies::DependencyProblem::Cycle { path } => {
                    let at = path.iter().position(|s| *s == spec.name).unwrap_or(0);
                    let next = path.get(at + 1).cloned().unwrap_or_default();
                    spec.depends_on
                        .iter()
                        .position(|d| d.service == next)
                        .map_or("depends_on".to_owned(), |i| {
                            format!("depends_on[{i}].service")
                        })
                }
                missing => missing.field(&spec.depends_on),
            };
            FieldError::new(field, p.to_string())
        })
        .collect()
}

/// A service others of its environment depend on is not deleted: their deployments would
/// wait for it forever. `Conflict` naming them.
pub async fn check_delete(deps: Deps<'_>, id: Uuid, name: &str) -> Result<(), CommandError> {
    let environment = crate::store::variables::environment_of(deps.pool, id).await?;
    let dependents: Vec<String> = store::in_environment(deps.pool, environment)
        .await?
        .into_iter()
        .filter(|(other, _, d)| *other != id && d.iter().any(|d| d.service == name))
        .map(|(_, n, _)| n)
        .collect();
    if dependents.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Conflict(format!(
            "{} depend{} on {name} (depends_on); change them first.",
            dependents.join(", "),
            if dependents.len() == 1 { "s" } else { "" }
        )))
    }
}

/// What "Redeploy environment" did.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RedeployedEnvironment {
    /// The services given a new deployment, in the order they were queued: dependency
    /// waves (`db` before `api`); the worker starts each once what it depends on is up.
    pub services: Vec<String>,
    /// Services left alone, with why (a git service with nothing built yet).
    pub skipped: Vec<String>,
}

/// A new deployment of every service of the environment (each audited
/// `service.redeploy`, and the whole as `environment.redeploy`), queued wave by wave.
///
/// # Errors
/// `NotFound` for another team's environment; `Forbidden` without ManageServices.
pub async fn redeploy_environment(
    deps: Deps<'_>,
    caller: &Caller,
    environment_id: Uuid,
) -> Result<RedeployedEnvironment, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let env = crate::store::projects::environment(deps.pool, actor.team_id, environment_id).await?;
    let services = store::in_environment(deps.pool, environment_id).await?;
    // Stored definitions passed the check, so they have an order; should one not, every
    // service still goes (the gate makes a waiting one fail with its reason).
    let order: Vec<String> = waves(services.iter().map(|(_, n, d)| (n.as_str(), d.as_slice())))
        .map(|w| w.into_iter().flatten().collect())
        .unwrap_or_else(|_| services.iter().map(|(_, n, _)| n.clone()).collect());
    let mut done = RedeployedEnvironment {
        services: Vec::new(),
        skipped: Vec::new(),
    };
    for name in order {
        let Some((id, _, _)) = services.iter().find(|(_, n, _)| *n == name) else {
            continue;
        };
        match crate::commands::service::redeploy(deps, caller, *id).await {
            Ok(_) => done.services.push(name),
            Err(CommandError::Invalid(errors)) => done.skipped.push(format!(
                "{name}: {}",
                errors.first().map(|e| e.message.as_str()).unwrap_or("")
            )),
            Err(e) => return Err(e),
        }
    }
    let mut tx = deps.pool.begin().await?;
    record(
        &mut tx,
        &actor,
        "environment.redeploy",
        Target::new("environment", environment_id, &env.name),
        json!({"services": done.services, "skipped": done.skipped}),
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dependencies::DependsCondition;

    fn spec(name: &str, on: &[&str]) -> ServiceSpec {
        let mut s: ServiceSpec =
            serde_json::from_value(serde_json::json!({"name": name, "image": "a:1"})).unwrap();
        s.depends_on = on
            .iter()
            .map(|d| DependsOn {
                service: (*d).into(),
                condition: DependsCondition::ServiceStarted,
            })
            .collect();
        s
    }

    fn env(specs: &[&ServiceSpec]) -> Vec<(Uuid, String, Vec<DependsOn>)> {
        specs
            .iter()
            .map(|s| (Uuid::new_v4(), s.name.clone(), s.depends_on.clone()))
            .collect()
    }

    #[test]
    fn a_missing_service_and_a_cycle_are_named_on_the_entry() {
        let db = spec("db", &["api"]);
        let api = spec("api", &["cache", "db"]);
        let errors = own_problems(&env(&[&db, &api]), &api);
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "depends_on[0].service",
                    "api depends on cache, which is not a service of this environment"
                ),
                (
                    "depends_on[1].service",
                    "depends_on forms a cycle: api → db → api"
                ),
            ]
        );
    }

    #[test]
    fn problems_of_other_services_are_not_this_ones() {
        let a = spec("a", &["gone"]);
        let web = spec("web", &["a"]);
        assert!(own_problems(&env(&[&a, &web]), &web).is_empty());
    }
}
