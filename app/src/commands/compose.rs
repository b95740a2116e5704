//! Compose files into and out of an environment: a preview of what an import does, the
//! import itself (services created or updated, each deployed as a service edit deploys
//! it), and the export. The translation is [`crate::domain::compose`]; this is the adapter
//! to the environment's stored services. Developers import; viewers export.

use crate::commands::{service, Caller, CommandError, Deps};
use crate::domain::compose::{
    self, ComposeApp, ComposePlan, ComposeProblem, DefinedService, ImportChange,
};
use crate::domain::service::FieldError;
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
    // Dependencies first: a service is checked against the environment as it is, so what
    // it depends on must be there already; the worker then starts them in this order.
    let order = dependency_order(&app);
    for service in order {
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
        out.push((id, DefinedService { spec }));
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
        service.spec.normalise();
        if let Err(errors) = service.spec.validate() {
            problems.extend(
                errors
                    .into_iter()
                    .map(|e| ComposeProblem::new(format!("{at}.{}", e.field), e.message)),
            );
        }
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

/// The file's services, dependencies before their dependents (the file's order when the
/// file has no order, which `read` refused already).
fn dependency_order(app: &ComposeApp) -> Vec<&compose::ComposeService> {
    let graph = app
        .services
        .iter()
        .map(|s| (s.spec.name.as_str(), s.spec.depends_on.as_slice()));
    match crate::domain::dependencies::waves(graph) {
        Ok(waves) => waves
            .into_iter()
            .flatten()
            .filter_map(|name| app.services.iter().find(|s| s.spec.name == name))
            .collect(),
        Err(_) => app.services.iter().collect(),
    }
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
