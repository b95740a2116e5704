//! An environment's git repository, which compose `build:` sections are built from.
//! Developers set and remove it (ManageServices, like shared variables: a developer can
//! already point any git service at any repository, so the environment's gives them no
//! more than that, and a compose import that builds needs no admin). Audited
//! `environment.repository`.

use crate::commands::{Caller, CommandError, Deps};
use crate::domain::environment_repository::EnvironmentRepository;
use crate::domain::project::EnvironmentView;
use crate::domain::service::{check_repo_target, check_repo_url, GitCredentials};
use crate::domain::Permission;
use crate::store::audit::Actor;
use crate::store::environment_repository as store;
use crate::store::projects;
use crate::store::StoreError;
use serde_json::json;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// Sets the environment's repository. Refused (422, the field named: `repo`, `branch`,
/// `credentials…`) by the rules of a git service's source, including where Berth may
/// fetch from (no internal address unless the instance allows it; a local path only
/// below BERTH_GIT_LOCAL_ROOT). A secret sent empty or `********` keeps the stored one
/// (same host). Existing services are not changed: the next import that builds uses it.
///
/// # Errors
/// `Invalid` as above; `NotFound` for another team's environment; `Forbidden` below
/// developer.
pub async fn set(
    deps: Deps<'_>,
    caller: &Caller,
    environment: Uuid,
    repo: EnvironmentRepository,
) -> Result<EnvironmentView, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let mut repo = repo.normalised();
    let stored = opened(deps, actor.team_id, environment).await?;
    repo.keep_stored_secret(stored.as_ref())
        .map_err(|e| CommandError::Invalid(vec![e]))?;
    repo.check().map_err(CommandError::Invalid)?;
    check_reachable(deps, &repo.repo).await?;
    let summary = json!({
        "repo": repo.repo,
        "branch": repo.branch,
        "credentials": repo.credentials.as_ref().map(kind),
    });
    store::seal(&mut repo, environment, deps.secrets);
    store::set(deps.pool, &actor, environment, Some(&repo), summary).await?;
    Ok(projects::environment(deps.pool, actor.team_id, environment).await?)
}

/// Removes the environment's repository (a compose `build:` is refused again; services
/// built from it keep their source). Audited.
pub async fn remove(
    deps: Deps<'_>,
    caller: &Caller,
    environment: Uuid,
) -> Result<EnvironmentView, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    store::get(deps.pool, actor.team_id, environment).await?;
    store::set(
        deps.pool,
        &actor,
        environment,
        None,
        json!({"removed": true}),
    )
    .await?;
    Ok(projects::environment(deps.pool, actor.team_id, environment).await?)
}

/// The environment's repository with its secret open (for an import's git sources).
pub(crate) async fn opened(
    deps: Deps<'_>,
    team: Uuid,
    environment: Uuid,
) -> Result<Option<EnvironmentRepository>, CommandError> {
    let Some(mut repo) = store::get(deps.pool, team, environment).await? else {
        return Ok(None);
    };
    store::open(&mut repo, environment, deps.secrets)
        .map_err(|e| StoreError::Secret(e.to_string()))?;
    Ok(Some(repo))
}

/// A clone's copy of `from`'s repository into `to`, the secret sealed again for `to`,
/// written in the clone's transaction `tx`.
pub(crate) async fn copy(
    deps: Deps<'_>,
    actor: &Actor,
    tx: &mut Transaction<'static, Postgres>,
    from: Uuid,
    to: Uuid,
) -> Result<(), CommandError> {
    let Some(mut repo) = opened(deps, actor.team_id, from).await? else {
        return Ok(());
    };
    let summary = json!({
        "repo": repo.repo,
        "branch": repo.branch,
        "credentials": repo.credentials.as_ref().map(kind),
        "cloned_from": from,
    });
    store::seal(&mut repo, to, deps.secrets);
    store::set_in(tx, actor, to, Some(&repo), summary).await?;
    Ok(())
}

fn kind(c: &GitCredentials) -> &'static str {
    match c {
        GitCredentials::Token { .. } => "token",
        GitCredentials::DeployKey { .. } => "deploy_key",
    }
}

/// Where Berth may fetch from, as for a git service (a 422 on `repo` otherwise).
async fn check_reachable(deps: Deps<'_>, url: &str) -> Result<(), CommandError> {
    let Ok(location) = check_repo_url(url) else {
        return Ok(()); // check() answered already
    };
    let allow_private = crate::store::settings::allow_private_targets(deps.pool).await?;
    check_repo_target(&location, allow_private, deps.git_local_root)
        .map_err(|m| CommandError::field("repo", m))
}
