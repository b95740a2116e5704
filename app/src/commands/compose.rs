//! Compose files into and out of an environment: a preview of what an import does, the
//! import itself (services created or updated, each deployed as a service edit deploys
//! it, all in one transaction), and the export. The translation is
//! [`crate::domain::compose`]; this is the adapter to the environment's stored services
//! and its git repository (which `build:` sections build from). Developers import;
//! viewers export.

use crate::commands::environment_repository::opened as repository;
use crate::commands::{service, Caller, CommandError, Deps};
use crate::domain::compose::{
    self, BuildRepository, ComposeApp, ComposePlan, ComposeProblem, ComposeService, DefinedService,
    ImportChange,
};
use crate::domain::environment_repository::EnvironmentRepository;
use crate::domain::service::{repo_origin, FieldError, ServiceSpec};
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

/// Imports `yaml` into `environment`: each new service is created and deployed (a
/// `build:` one built from the environment's repository), each changed one updated (and
/// rolled out as its change asks), the others left as they are (an import never deletes).
/// All or nothing: the whole file is checked first, then every service and the audit
/// entries (`service.create`, `service.update` per service, `environment.compose_import`)
/// are stored in one transaction; a refusal at store time (a name or domain taken
/// meanwhile) keeps none of them. Deployments and builds start when it commits.
///
/// # Errors
/// As [`preview`]; and what storing a service can answer (`Taken`, `Conflict`).
pub async fn import(
    deps: Deps<'_>,
    caller: &Caller,
    environment: Uuid,
    yaml: &str,
) -> Result<ComposePlan, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let (app, existing, mut plan) = read(deps, caller, environment, yaml).await?;
    let env = store::environment(deps.pool, actor.team_id, environment).await?;
    let mut tx = deps.pool.begin().await?;
    // Dependencies first (`read` checked the file's depends_on as a whole); the worker then
    // starts them in this order.
    for service in dependency_order(&app) {
        let name = &service.spec.name;
        tx = match existing.iter().find(|(_, d)| &d.spec.name == name) {
            None => {
                let spec = service.spec.clone();
                let created = service::create_in(deps, tx, caller, Some(environment), spec).await;
                created.map_err(|e| at_service(e, name))?.1
            }
            Some((id, old)) => {
                let new = compose::as_stored(service, &old.spec);
                let updated = service::update_in(deps, tx, caller, *id, new).await;
                updated.map_err(|e| at_service(e, name))?.1
            }
        };
    }
    let names: Vec<&str> = app.services.iter().map(|s| s.spec.name.as_str()).collect();
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
    let repo =
        crate::store::environment_repository::get(deps.pool, caller.actor.team_id, environment)
            .await?
            .map(|r| BuildRepository {
                repository: r.repo,
                branch: r.branch,
            });
    Ok(compose::export(&services, repo.as_ref()))
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
    let repo = repository(deps, caller.actor.team_id, environment).await?;
    for service in &mut app.services {
        let at = format!("services.{}", service.spec.name);
        let old = existing
            .iter()
            .find(|(_, d)| d.spec.name == service.spec.name);
        if let Err(p) = build_source(service, repo.as_ref(), old.map(|(_, d)| &d.spec)) {
            problems.push(ComposeProblem::new(format!("{at}.build"), p));
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
    let specs: Vec<ServiceSpec> = app.services.iter().map(|s| s.spec.clone()).collect();
    crate::commands::variables::check_services(deps, environment, &specs).await?;
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

/// Sets the git source of a service with `build:`: the file's `x-berth.git` repository
/// (with the stored service's credentials when it builds from the same host), else the
/// environment's repository with its credentials; the file's context, Dockerfile
/// (relative to the context, as in Compose) and arguments. Why not, for `…build`.
fn build_source(
    service: &mut ComposeService,
    environment: Option<&EnvironmentRepository>,
    stored: Option<&ServiceSpec>,
) -> Result<(), String> {
    let Some(b) = &service.build else {
        return Ok(());
    };
    let git = match (&b.repository, environment) {
        (Some(own), _) => {
            let credentials = stored
                .and_then(|s| s.git.as_ref())
                .filter(|g| repo_origin(&g.repo) == repo_origin(&own.repository))
                .and_then(|g| g.credentials.clone());
            b.git_source(&own.repository, &own.branch, credentials)
        }
        (None, Some(repo)) => repo.git_source(&b.context, &b.dockerfile, &b.args),
        (None, None) => {
            return Err(
                "This environment has no git repository to build from: set one \
                        (the environment's Repository, or PUT \
                        /api/v1/environments/{id}/repository), or build the image elsewhere \
                        and name it in `image`."
                    .to_owned(),
            )
        }
    };
    service.spec.image.clear();
    service.spec.git = Some(git);
    Ok(())
}

/// A refusal of storing service `name` (a field of its spec, a host port or domain taken
/// meanwhile) at its place in the file: `services.<name>.<field>`.
fn at_service(e: CommandError, name: &str) -> CommandError {
    let fields = match e {
        CommandError::Invalid(fields) => fields,
        CommandError::Taken(taken) => vec![taken.field_error()],
        other => return other,
    };
    CommandError::Invalid(
        fields
            .into_iter()
            .map(|f| FieldError::new(format!("services.{name}.{}", f.field), f.message))
            .collect(),
    )
}

/// The file's services, dependencies before their dependents (the file's order when the
/// file has no order, which `read` refused already).
fn dependency_order(app: &ComposeApp) -> Vec<&ComposeService> {
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
