//! Projects and environments: viewers read; admins create, rename, delete and clone.
//! An environment or project is deleted only once it has no service (delete them first:
//! each goes through the service finalizer, which removes its containers); the worker then
//! removes the environment's network.

use crate::commands::{service, Caller, CommandError, Deps};
use crate::domain::project::{
    project_name, strip_for_clone, EnvironmentCreated, EnvironmentForm, ProjectForm, ProjectView,
};
use crate::domain::service::ServiceView;
use crate::domain::Permission;
use crate::store::projects as store;
use crate::store::spec_secrets::open_env;
use crate::store::StoreError;
use uuid::Uuid;

/// The team's projects with their environments.
pub async fn list(deps: Deps<'_>, caller: &Caller) -> Result<Vec<ProjectView>, CommandError> {
    caller.may(Permission::ReadServices)?;
    Ok(store::list(deps.pool, caller.actor.team_id).await?)
}

pub async fn show(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<ProjectView, CommandError> {
    caller.may(Permission::ReadServices)?;
    Ok(store::get(deps.pool, caller.actor.team_id, id).await?)
}

/// Creates a project with its `production` environment; audited `project.create`.
pub async fn create(
    deps: Deps<'_>,
    caller: &Caller,
    form: ProjectForm,
) -> Result<ProjectView, CommandError> {
    let actor = caller.may(Permission::ManageProjects)?;
    let form = form.checked().map_err(CommandError::Invalid)?;
    let id = store::create(deps.pool, &actor, &form).await?;
    Ok(store::get(deps.pool, actor.team_id, id).await?)
}

/// Renames a project and replaces its description; audited `project.update`.
pub async fn update(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    form: ProjectForm,
) -> Result<ProjectView, CommandError> {
    let actor = caller.may(Permission::ManageProjects)?;
    let form = form.checked().map_err(CommandError::Invalid)?;
    store::update(deps.pool, &actor, id, &form).await?;
    Ok(store::get(deps.pool, actor.team_id, id).await?)
}

/// Deletes a project without services (and its environments); audited `project.delete`.
pub async fn delete(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<(), CommandError> {
    let actor = caller.may(Permission::ManageProjects)?;
    Ok(store::delete(deps.pool, &actor, id).await?)
}

/// Creates an environment in a project: empty, or (`clone_from`) with a copy of each
/// service of that environment (not those being deleted). A copy keeps the definition and
/// its variables (secrets opened with the source's key and sealed again for the copy),
/// drops domains and host ports (answered in `dropped`), mounts the same volume names,
/// which are new and empty under the new environment's prefix, and is deployed like a new
/// service (a git service is built from its branch head). The environment's git
/// repository is copied too (its secret sealed again for the copy). Audited
/// `environment.create`, `environment.repository` and `service.create` per copy. All or
/// nothing: the environment, its shared variables and repository, every copy and every
/// audit entry are written in one transaction, and the worker sees the copies'
/// deployments once it commits.
pub async fn create_environment(
    deps: Deps<'_>,
    caller: &Caller,
    project_id: Uuid,
    form: EnvironmentForm,
) -> Result<EnvironmentCreated, CommandError> {
    let actor = caller.may(Permission::ManageProjects)?;
    let name = project_name("name", &form.name).map_err(|e| CommandError::Invalid(vec![e]))?;
    let team = actor.team_id;
    let source = match form.clone_from {
        Some(from) => {
            // Another team's environment is one that does not exist: 404.
            let env = store::environment(deps.pool, team, from).await?;
            Some((
                env.name,
                store::environment_specs(deps.pool, team, from).await?,
            ))
        }
        None => None,
    };
    let (source_name, mut specs) = match source {
        Some((name, specs)) => (Some(name), specs),
        None => (None, Vec::new()),
    };
    if let Some(from) = form.clone_from {
        // Each copy deploys as soon as it is stored: the ones it refers to go in first.
        let source = crate::store::variables::snapshot(deps.pool, deps.secrets, from).await?;
        let order = crate::domain::variables::referenced_first(&source);
        specs.sort_by_key(|(_, spec)| order.iter().position(|n| n == &spec.name));
    }
    let mut tx = deps.pool.begin().await?;
    let id = store::create_environment(&mut tx, &actor, project_id, &name, source_name.as_deref())
        .await?;
    if let Some(from) = form.clone_from {
        copy_shared_variables(deps, &actor, &mut tx, from, id).await?;
        crate::commands::environment_repository::copy(deps, &actor, &mut tx, from, id).await?;
    }
    let (mut services, mut dropped) = (Vec::new(), Vec::new());
    for (source_id, mut spec) in specs {
        open_env(&mut spec, source_id, deps.secrets)
            .map_err(|e| StoreError::Secret(e.to_string()))?;
        dropped.extend(strip_for_clone(&mut spec));
        let from = format!(
            "{}/{}",
            source_name.as_deref().unwrap_or_default(),
            spec.name
        );
        services.push(spec.name.clone());
        tx = service::insert_copy(deps, caller, tx, id, spec, &from).await?;
    }
    tx.commit().await?;
    services.sort();
    dropped.sort_by(|a, b| a.service.cmp(&b.service));
    Ok(EnvironmentCreated {
        environment: store::environment(deps.pool, team, id).await?,
        services,
        dropped,
    })
}

/// A clone's shared variables: those of `from`, secrets opened and sealed again for `to`
/// (before the services go in, so their references find them), written in the clone's
/// transaction `tx`. Audited `environment.variables` when there are any.
async fn copy_shared_variables(
    deps: Deps<'_>,
    actor: &crate::store::audit::Actor,
    tx: &mut sqlx::PgConnection,
    from: Uuid,
    to: Uuid,
) -> Result<(), CommandError> {
    use crate::store::variables as vars;
    let mut shared = vars::shared(deps.pool, actor.team_id, from).await?;
    if shared.is_empty() {
        return Ok(());
    }
    vars::open_shared(&mut shared, from, deps.secrets)
        .map_err(|e| StoreError::Secret(e.to_string()))?;
    vars::seal_shared(&mut shared, to, deps.secrets);
    let keys: Vec<&str> = shared.iter().map(|v| v.key.as_str()).collect();
    let summary = serde_json::json!({"keys": keys, "cloned_from": from});
    vars::replace_shared_in(tx, actor, to, &shared, summary).await?;
    Ok(())
}

/// Renames an environment; audited `environment.rename`.
pub async fn rename_environment(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    form: EnvironmentForm,
) -> Result<crate::domain::project::EnvironmentView, CommandError> {
    let actor = caller.may(Permission::ManageProjects)?;
    if form.clone_from.is_some() {
        return Err(CommandError::field(
            "clone_from",
            "Only a new environment is cloned from another.",
        ));
    }
    let name = project_name("name", &form.name).map_err(|e| CommandError::Invalid(vec![e]))?;
    store::rename_environment(deps.pool, &actor, id, &name).await?;
    Ok(store::environment(deps.pool, actor.team_id, id).await?)
}

/// Deletes an environment without services; audited `environment.delete`.
pub async fn delete_environment(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<(), CommandError> {
    let actor = caller.may(Permission::ManageProjects)?;
    Ok(store::delete_environment(deps.pool, &actor, id).await?)
}

/// One environment of the team.
pub async fn environment(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<crate::domain::project::EnvironmentView, CommandError> {
    caller.may(Permission::ReadServices)?;
    Ok(store::environment(deps.pool, caller.actor.team_id, id).await?)
}

/// An environment's services with their status, as the caller's role may see them.
pub async fn environment_services(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<Vec<ServiceView>, CommandError> {
    caller.may(Permission::ReadServices)?;
    let team = caller.actor.team_id;
    store::environment(deps.pool, team, id).await?;
    Ok(crate::store::services::in_environment(deps.pool, team, caller.role, id).await?)
}
