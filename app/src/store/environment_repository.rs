//! An environment's git repository (`environments.repository`): read, replaced or removed
//! in one audited transaction, scoped by team (another team's environment is
//! `NotFound`). The credential's secret is sealed bound to its environment and the
//! repository's origin, so a sealed value moved elsewhere, or a repository pointed at
//! another host behind Berth's back, does not open.

use super::audit::{record, Actor, Target};
use super::secret_box::{SecretBox, SecretError};
use super::StoreError;
use crate::domain::environment_repository::EnvironmentRepository;
use crate::domain::service::repo_origin;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// The context the credential's secret is sealed with.
fn context(environment_id: Uuid, repo: &str) -> String {
    format!("envrepo:{environment_id}:{}", repo_origin(repo))
}

/// Seals the credential's secret (given open) for `environment_id`.
pub fn seal(repo: &mut EnvironmentRepository, environment_id: Uuid, secrets: &SecretBox) {
    let ctx = context(environment_id, &repo.repo);
    if let Some(c) = repo.credentials.as_mut() {
        *c.secret_mut() = secrets.seal_text(c.secret_mut(), &ctx);
    }
}

/// Opens the credential's secret of a stored repository of `environment_id`.
pub fn open(
    repo: &mut EnvironmentRepository,
    environment_id: Uuid,
    secrets: &SecretBox,
) -> Result<(), SecretError> {
    let ctx = context(environment_id, &repo.repo);
    if let Some(c) = repo.credentials.as_mut() {
        *c.secret_mut() = secrets.open_text(c.secret_mut(), &ctx)?;
    }
    Ok(())
}

/// The environment's repository as stored (secret sealed); `None`: it has none.
/// `NotFound` for an environment that is not the team's.
pub async fn get(
    pool: &PgPool,
    team_id: Uuid,
    environment_id: Uuid,
) -> Result<Option<EnvironmentRepository>, StoreError> {
    let row: Option<Option<Json<EnvironmentRepository>>> =
        sqlx::query_scalar("SELECT repository FROM environments WHERE id = $1 AND team_id = $2")
            .bind(environment_id)
            .bind(team_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.ok_or(StoreError::NotFound)?.map(|Json(r)| r))
}

/// Replaces (`Some`, secret sealed) or removes (`None`) the environment's repository;
/// audited `environment.repository` with `summary` (never a secret).
pub async fn set(
    pool: &PgPool,
    actor: &Actor,
    environment_id: Uuid,
    sealed: Option<&EnvironmentRepository>,
    summary: Value,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    set_in(&mut tx, actor, environment_id, sealed, summary).await?;
    tx.commit().await?;
    Ok(())
}

/// [`set`] in the caller's open transaction `tx` (a clone copies the repository in its own).
pub async fn set_in(
    tx: &mut Transaction<'static, Postgres>,
    actor: &Actor,
    environment_id: Uuid,
    sealed: Option<&EnvironmentRepository>,
    summary: Value,
) -> Result<(), StoreError> {
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE environments SET repository = $3 WHERE id = $1 AND team_id = $2 RETURNING name",
    )
    .bind(environment_id)
    .bind(actor.team_id)
    .bind(sealed.map(Json))
    .fetch_optional(&mut **tx)
    .await?;
    let name = name.ok_or(StoreError::NotFound)?;
    record(
        tx,
        actor,
        "environment.repository",
        Target::new("environment", environment_id, &name),
        summary,
    )
    .await?;
    Ok(())
}
