//! Shared variables of an environment, and the save-time check of references: a change
//! (a service's env, the shared variables) is refused when the environment as it would be
//! has a problem the change brings (`domain::variables::check`).

use crate::commands::{Caller, CommandError, Deps};
use crate::domain::service::{EnvVar, FieldError, ServiceSpec, ServiceView, SECRET_MASK};
use crate::domain::variables::{
    check, is_variable_name, resolve, EnvironmentVariables, Problem, Scope,
};
use crate::domain::Permission;
use crate::store::variables as store;
use serde_json::json;
use std::collections::BTreeSet;
use std::collections::HashSet;
use uuid::Uuid;

/// An environment's shared variables, as `GET`/`PUT /api/v1/environments/{id}/variables`
/// send and take them: the whole list, in order; a secret's value is `********` when read.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedVariables {
    /// Referenced as `${{ shared.KEY }}` from any service of the environment.
    #[schema(max_items = 200)]
    pub variables: Vec<EnvVar>,
}

/// At most this many shared variables per environment (like a service's env).
pub const MAX_SHARED: usize = 200;
const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The environment's shared variables, secret values masked (`********`).
pub async fn shared(
    deps: Deps<'_>,
    caller: &Caller,
    environment_id: Uuid,
) -> Result<Vec<EnvVar>, CommandError> {
    caller.may(Permission::ReadServices)?;
    let vars = store::shared(deps.pool, caller.actor.team_id, environment_id).await?;
    Ok(masked(vars))
}

fn masked(mut vars: Vec<EnvVar>) -> Vec<EnvVar> {
    for v in vars.iter_mut().filter(|v| v.secret) {
        v.value = SECRET_MASK.to_owned();
    }
    vars
}

/// Replaces the environment's shared variables (the whole list, in order). A secret sent
/// empty or as `********` keeps its stored value. Refused (422, `variables[i].…` named)
/// when a name is not a variable name or is set twice, a value is too long, a reference
/// cannot be filled in, or a service's reference would break (a shared variable in use
/// removed). Audited `environment.variables` (names only). Answers the list, masked.
pub async fn set_shared(
    deps: Deps<'_>,
    caller: &Caller,
    environment_id: Uuid,
    mut vars: Vec<EnvVar>,
) -> Result<Vec<EnvVar>, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let stored = store::shared(deps.pool, actor.team_id, environment_id).await?;
    let errors = validate_shared(&vars);
    if !errors.is_empty() {
        return Err(CommandError::Invalid(errors));
    }
    let before = store::snapshot(deps.pool, deps.secrets, environment_id).await?;
    for v in vars
        .iter_mut()
        .filter(|v| v.secret && (v.value.is_empty() || v.value == SECRET_MASK))
    {
        if let Some(old) = before.shared.iter().find(|o| o.secret && o.key == v.key) {
            v.value = old.value.clone();
        }
    }
    let mut after = before.clone();
    after.shared = vars.clone();
    refuse_new_problems(&before, &after, &Scope::Shared, "variables")?;
    let summary = json!({
        "keys": vars.iter().map(|v| v.key.as_str()).collect::<Vec<_>>(),
        "before": stored.iter().map(|v| v.key.as_str()).collect::<Vec<_>>(),
    });
    let mut sealed = vars;
    store::seal_shared(&mut sealed, environment_id, deps.secrets);
    store::replace_shared(deps.pool, &actor, environment_id, &sealed, summary).await?;
    Ok(masked(sealed))
}

/// Names, duplicates, sizes: each broken rule on its field (`variables[2].key`).
pub fn validate_shared(vars: &[EnvVar]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if vars.len() > MAX_SHARED {
        errors.push(FieldError::new(
            "variables",
            format!("At most {MAX_SHARED} shared variables."),
        ));
    }
    let mut seen = HashSet::new();
    for (i, v) in vars.iter().enumerate() {
        if !is_variable_name(&v.key) {
            errors.push(FieldError::new(
                format!("variables[{i}].key"),
                "A variable name has letters, digits and '_', and does not start with a digit.",
            ));
        } else if !seen.insert(v.key.as_str()) {
            errors.push(FieldError::new(
                format!("variables[{i}].key"),
                format!("{} is set twice.", v.key),
            ));
        }
        if v.value.len() > MAX_VALUE_BYTES {
            errors.push(FieldError::new(
                format!("variables[{i}].value"),
                "A value can be at most 64 KiB.",
            ));
        } else if v.value.contains('\0') {
            errors.push(FieldError::new(
                format!("variables[{i}].value"),
                "A value cannot contain a NUL character.",
            ));
        }
    }
    errors
}

/// Checks a service's definition (`spec`, secrets opened) against its environment as it
/// would be with it: a problem of its own env, or one it brings to another service (a
/// variable others use removed, a cycle), is a 422 on `env[i].value` / `env`.
/// `environment`: `None` for the team's default environment.
pub async fn check_service(
    deps: Deps<'_>,
    team_id: Uuid,
    environment: Option<Uuid>,
    spec: &ServiceSpec,
) -> Result<(), CommandError> {
    let environment = match environment {
        Some(e) => {
            // Another team's environment is one that does not exist.
            crate::store::projects::environment(deps.pool, team_id, e).await?;
            Some(e)
        }
        None => store::default_environment_id(deps.pool, team_id).await?,
    };
    let before = match environment {
        Some(e) => store::snapshot(deps.pool, deps.secrets, e).await?,
        None => EnvironmentVariables::default(),
    };
    let mut after = before.clone();
    store::with_service(&mut after, spec);
    refuse_new_problems(&before, &after, &Scope::Service(spec.name.clone()), "env")
}

/// Checks services going into `environment` together (a compose import: `specs` with
/// secrets open, new or replacing the stored ones of their names) against the environment
/// as it would be with all of them, so that they may refer to each other. A problem of one
/// of them is a 422 on `services.<name>.environment.<KEY>`; one they bring to another
/// service of the environment, on `services`.
pub async fn check_services(
    deps: Deps<'_>,
    environment: Uuid,
    specs: &[ServiceSpec],
) -> Result<(), CommandError> {
    let before = store::snapshot(deps.pool, deps.secrets, environment).await?;
    let mut after = before.clone();
    for spec in specs {
        store::with_service(&mut after, spec);
    }
    let old: Vec<Problem> = check(&before);
    let same = |a: &Problem, b: &Problem| a.variable == b.variable && a.kind == b.kind;
    let errors: Vec<FieldError> = check(&after)
        .into_iter()
        .filter_map(|p| {
            let mine = match &p.variable.scope {
                Scope::Service(name) => specs.iter().find(|s| &s.name == name),
                Scope::Shared => None,
            };
            match mine {
                Some(spec) => {
                    let key = spec.env.get(p.index).map_or("", |v| v.key.as_str());
                    let at = format!("services.{}.environment.{key}", spec.name);
                    Some(FieldError::new(at, p.kind.message()))
                }
                None if !old.iter().any(|o| same(o, &p)) => {
                    Some(FieldError::new("services", p.to_string()))
                }
                None => None,
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Invalid(errors))
    }
}

/// Refuses every problem of `after` that involves `scope` (the list being saved, named
/// `list[i].value`), and every other problem `after` has that `before` had not (named on
/// `list`, with the variable it breaks).
fn refuse_new_problems(
    before: &EnvironmentVariables,
    after: &EnvironmentVariables,
    scope: &Scope,
    list: &str,
) -> Result<(), CommandError> {
    let old: Vec<Problem> = check(before);
    let same = |a: &Problem, b: &Problem| a.variable == b.variable && a.kind == b.kind;
    let errors: Vec<FieldError> = check(after)
        .into_iter()
        .filter_map(|p| {
            if p.variable.scope == *scope {
                let e = p.field_error();
                let field = match e.field.split_once('[') {
                    Some((_, rest)) => format!("{list}[{rest}"),
                    None => e.field,
                };
                Some(FieldError::new(field, e.message))
            } else if p.involves(scope) || !old.iter().any(|o| same(o, &p)) {
                Some(FieldError::new(list, p.to_string()))
            } else {
                None
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Invalid(errors))
    }
}

/// The services of the environment whose env resolves differently now than their live
/// deployment's did (or cannot be resolved any more), by id and name. A live deployment
/// from before references (no digest) is never outdated. Not scoped: callers scope.
async fn outdated(
    deps: Deps<'_>,
    environment_id: Uuid,
) -> Result<Vec<(Uuid, String)>, CommandError> {
    let live = store::live_digests(deps.pool, environment_id).await?;
    if live.iter().all(|(_, _, d)| d.is_none()) {
        return Ok(Vec::new());
    }
    let env = store::snapshot(deps.pool, deps.secrets, environment_id).await?;
    Ok(live
        .into_iter()
        .filter_map(|(id, name, digest)| {
            let digest = digest?;
            let now = resolve(&name, &env).ok().map(|r| {
                let vars: Vec<EnvVar> = r
                    .into_iter()
                    .map(|(key, v)| EnvVar {
                        key,
                        value: v.value,
                        secret: v.secret,
                    })
                    .collect();
                store::digest(&vars)
            });
            (now.as_deref() != Some(digest.as_str())).then_some((id, name))
        })
        .collect())
}

/// Sets [`ServiceView::needs_redeploy`] on views of the caller's team. Never fails on its
/// own account (see below); the `Result` is for callers' `?`.
pub async fn mark_needs_redeploy(
    deps: Deps<'_>,
    views: &mut [ServiceView],
) -> Result<(), CommandError> {
    let environments: BTreeSet<Uuid> = views.iter().map(|v| v.place.environment_id).collect();
    let mut stale = BTreeSet::new();
    for e in environments {
        // A view is still worth showing when the comparison fails (a secret that no
        // longer opens): the mark is left off and the reason logged.
        match outdated(deps, e).await {
            Ok(found) => stale.extend(found.into_iter().map(|(id, _)| id)),
            Err(error) => {
                tracing::warn!(environment = %e, %error, "cannot tell which services need a redeploy")
            }
        }
    }
    for v in views.iter_mut() {
        v.needs_redeploy = stale.contains(&v.id);
    }
    Ok(())
}

/// What "Redeploy outdated services" did: the services redeployed, by name.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RedeployedOutdated {
    pub services: Vec<String>,
}

/// Redeploys exactly the environment's services that need it (see `needs_redeploy`); each
/// audited `service.redeploy`. Answers their names (empty: none needed it).
pub async fn redeploy_outdated(
    deps: Deps<'_>,
    caller: &Caller,
    environment_id: Uuid,
) -> Result<RedeployedOutdated, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    crate::store::projects::environment(deps.pool, actor.team_id, environment_id).await?;
    let mut services = Vec::new();
    for (id, name) in outdated(deps, environment_id).await? {
        crate::commands::service::redeploy(deps, caller, id).await?;
        services.push(name);
    }
    Ok(RedeployedOutdated { services })
}

/// A service others refer to is not deleted: their next deploy would fail. `Conflict`
/// naming each reference that would break (`api.DATABASE_URL: ${{ db.HOST }}: …`).
pub async fn check_delete(deps: Deps<'_>, id: Uuid, name: &str) -> Result<(), CommandError> {
    let environment = store::environment_of(deps.pool, id).await?;
    let before = store::snapshot(deps.pool, deps.secrets, environment).await?;
    let mut after = before.clone();
    after.services.retain(|s| s.name != name);
    let old = check(&before);
    let broken: Vec<String> = check(&after)
        .into_iter()
        .filter(|p| {
            !old.iter()
                .any(|o| o.variable == p.variable && o.kind == p.kind)
        })
        .map(|p| p.to_string())
        .collect();
    if broken.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Conflict(format!(
            "Other services refer to {name}; change them first. {}",
            broken.join(" ")
        )))
    }
}

/// The environment's services that need a redeploy, by name (see `needs_redeploy`).
pub async fn outdated_services(
    deps: Deps<'_>,
    caller: &Caller,
    environment_id: Uuid,
) -> Result<Vec<String>, CommandError> {
    caller.may(Permission::ReadServices)?;
    crate::store::projects::environment(deps.pool, caller.actor.team_id, environment_id).await?;
    Ok(outdated(deps, environment_id)
        .await?
        .into_iter()
        .map(|(_, name)| name)
        .collect())
}
