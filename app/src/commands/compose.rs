//! Compose files into and out of an environment: a preview of what an import does, the
//! import itself (services created or updated, each deployed as a service edit deploys
//! it), and the export. The translation is [`crate::domain::compose`]; this is the adapter
//! to the environment's stored services. Developers import; viewers export.

use crate::commands::{service, Caller, CommandError, Deps};
use crate::domain::compose::{
    self, ComposeApp, ComposePlan, ComposeProblem, ComposeService, DefinedService, ImportChange,
};
use crate::domain::service::FieldError;
use crate::domain::variables::{check, referenced_first, EnvironmentVariables, Scope};
use crate::domain::Permission;
use crate::store::audit::{record, Target};
use crate::store::projects as store;
use crate::store::spec_secrets::open_env;
use crate::store::StoreError;
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

/// What importing `yaml` into environment `environment` would do; nothing is stored.
///
/// # Errors
/// `Invalid` with every problem of the file, each named by its path
/// (`services.web.volumes[0]`); `NotFound` for an environment of another team.
pub async fn preview(
    deps: Deps<'_>,
    caller: &Caller,
    environment: Uuid,
    yaml: &str,
) -> Result<ComposePlan, CommandError> {
    let (_, _, plan) = read(deps, caller, environment, yaml).await?;
    Ok(plan)
}

/// Imports `yaml` into `environment`: each new service is created and deployed, each
/// changed one updated (and rolled out as its change asks), the others left as they are
/// (an import never deletes). The whole file is checked before anything is stored: a
/// refused file changes nothing. Audited per service (`service.create`,
/// `service.update`) and once as `environment.compose_import`.
///
/// # Errors
/// As [`preview`].
pub async fn import(
    deps: Deps<'_>,
    caller: &Caller,
    environment: Uuid,
    yaml: &str,
) -> Result<ComposePlan, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let (app, existing, mut plan) = read(deps, caller, environment, yaml).await?;
    // Each service is saved against the environment as it is then: the ones it refers to
    // go first.
    let after = references_after(deps, environment, &app).await?;
    for service in saving_order(&app, &after) {
        let name = &service.spec.name;
        match existing.iter().find(|(_, d)| &d.spec.name == name) {
            None => {
                service::create(deps, caller, Some(environment), service.spec.clone()).await?;
            }
            Some((id, old)) => {
                let new = compose::as_stored(service, &old.spec);
                service::update(deps, caller, *id, new).await?;
            }
        }
    }
    let env = store::environment(deps.pool, actor.team_id, environment).await?;
    let names: Vec<&str> = app.services.iter().map(|s| s.spec.name.as_str()).collect();
    let mut tx = deps.pool.begin().await?;
    record(
        &mut tx,
        &actor,
        "environment.compose_import",
        Target::new("environment", environment, &env.name),
        json!({"services": names, "volumes": app.volumes}),
    )
    .await?;
    tx.commit().await?;
    plan.applied = true;
    Ok(plan)
}

/// The environment's services as a compose file that [`import`] reads back into the same
/// definitions; secret values are `${SERVICE_KEY}` placeholders.
pub async fn export(
    deps: Deps<'_>,
    caller: &Caller,
    environment: Uuid,
) -> Result<String, CommandError> {
    caller.may(Permission::ReadServices)?;
    let services = defined(deps, caller.actor.team_id, environment).await?;
    let services: Vec<DefinedService> = services.into_iter().map(|(_, d)| d).collect();
    Ok(compose::export(&services))
}

/// The environment's services (secrets open), by id.
async fn defined(
    deps: Deps<'_>,
    team: Uuid,
    environment: Uuid,
) -> Result<Vec<(Uuid, DefinedService)>, CommandError> {
    // Another team's environment is one that does not exist: 404.
    store::environment(deps.pool, team, environment).await?;
    let mut out = Vec::new();
    for (id, mut spec) in store::environment_specs(deps.pool, team, environment).await? {
        open_env(&mut spec, id, deps.secrets).map_err(|e| StoreError::Secret(e.to_string()))?;
        out.push((
            id,
            DefinedService {
                spec,
                depends_on: Vec::new(),
            },
        ));
    }
    Ok(out)
}

/// The file read against the environment: the services to store, the stored ones, and the
/// plan (not applied).
async fn read(
    deps: Deps<'_>,
    caller: &Caller,
    environment: Uuid,
    yaml: &str,
) -> Result<(ComposeApp, Vec<(Uuid, DefinedService)>, ComposePlan), CommandError> {
    caller.may(Permission::ManageServices)?;
    let existing = defined(deps, caller.actor.team_id, environment).await?;
    // `${VAR}` is filled from the environment's *plain* shared variables only: an
    // interpolated value is stored as written text, so a secret would lose its seal (a file
    // refers to a secret one as `${{ shared.NAME }}`, resolved at deploy time).
    let shared: BTreeMap<String, String> =
        crate::store::variables::shared(deps.pool, caller.actor.team_id, environment)
            .await?
            .into_iter()
            .filter(|v| !v.secret)
            .map(|v| (v.key, v.value))
            .collect();
    let mut app = compose::import(yaml, &shared).map_err(invalid)?;
    let mut problems = Vec::new();
    for service in &mut app.services {
        let at = format!("services.{}", service.spec.name);
        if service.build.is_some() {
            problems.push(ComposeProblem::new(
                format!("{at}.build"),
                "An environment has no git repository to build from: build the image \
                 elsewhere and name it in `image`.",
            ));
        }
        if !service.depends_on.is_empty() {
            app.notes.push(ComposeProblem::new(
                format!("{at}.depends_on"),
                "Not kept: the environment's services are deployed together, in no \
                 particular order.",
            ));
            service.depends_on.clear();
        }
        service.spec.normalise();
        if let Err(errors) = service.spec.validate() {
            problems.extend(
                errors
                    .into_iter()
                    .map(|e| ComposeProblem::new(format!("{at}.{}", e.field), e.message)),
            );
        }
    }
    if problems.is_empty() {
        problems = reference_problems(deps, environment, &app).await?;
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let stored: Vec<DefinedService> = existing.iter().map(|(_, d)| d.clone()).collect();
    let changes: Vec<ImportChange> = compose::diff(&stored, &app);
    let plan = ComposePlan {
        applied: false,
        changes,
        volumes: app.volumes.clone(),
        notes: app.notes.clone(),
    };
    Ok((app, existing, plan))
}

/// The environment's variables as they would be with the file's services in place.
async fn references_after(
    deps: Deps<'_>,
    environment: Uuid,
    app: &ComposeApp,
) -> Result<EnvironmentVariables, CommandError> {
    let mut after = crate::store::variables::snapshot(deps.pool, deps.secrets, environment).await?;
    for service in &app.services {
        crate::store::variables::with_service(&mut after, &service.spec);
    }
    Ok(after)
}

/// The references the file would break, checked on the environment as it would be after
/// the import (so a service may refer to one defined later in the file): a problem of a
/// file's variable at `services.<name>.environment.<KEY>`, one the file brings to a stored
/// service at `services`, naming that service's variable.
async fn reference_problems(
    deps: Deps<'_>,
    environment: Uuid,
    app: &ComposeApp,
) -> Result<Vec<ComposeProblem>, CommandError> {
    let before = crate::store::variables::snapshot(deps.pool, deps.secrets, environment).await?;
    let old = check(&before);
    let after = references_after(deps, environment, app).await?;
    let in_file = |name: &str| app.services.iter().any(|s| s.spec.name == name);
    Ok(check(&after)
        .into_iter()
        .filter_map(|p| match &p.variable.scope {
            Scope::Service(name) if in_file(name) => Some(ComposeProblem::new(
                format!("services.{name}.environment.{}", p.variable.key),
                p.kind.message(),
            )),
            _ if !old.contains(&p) => Some(ComposeProblem::new("services", p.to_string())),
            _ => None,
        })
        .collect())
}

/// The file's services, each after the services it refers to (see `referenced_first`).
fn saving_order<'a>(app: &'a ComposeApp, after: &EnvironmentVariables) -> Vec<&'a ComposeService> {
    referenced_first(after)
        .iter()
        .filter_map(|name| app.services.iter().find(|s| &s.spec.name == name))
        .collect()
}

fn invalid(problems: Vec<ComposeProblem>) -> CommandError {
    CommandError::Invalid(
        problems
            .into_iter()
            // A problem of the whole file (its size, its syntax) is one of the body's `yaml`.
            .map(|p| {
                let at = if p.path.is_empty() {
                    "yaml".to_owned()
                } else {
                    p.path
                };
                FieldError::new(at, p.message)
            })
            .collect(),
    )
}
