//! Shared variables of an environment and the environment snapshot references are checked
//! and resolved against (`domain::variables`). A secret shared value is sealed like a
//! service's secret env value, under its own context (`shared:<environment>:<key>`).
//! A deployment's resolved env is sealed whole with the deployment (see the migration
//! `20261203000011_variables.sql`): every container of one deployment gets the same values.

use super::audit::{record, Actor, Target};
use super::secret_box::{SecretBox, SecretError};
use super::spec_secrets::open_env;
use super::StoreError;
use crate::domain::service::{EnvVar, ServiceSpec};
use crate::domain::variables::{EnvironmentVariables, ServiceVariables};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The context a secret shared value is sealed with: its environment and key.
pub fn shared_context(environment_id: Uuid, key: &str) -> String {
    format!("shared:{environment_id}:{key}")
}

fn resolved_context(deployment_id: Uuid) -> String {
    format!("resolved-env:{deployment_id}")
}

pub fn seal_shared(vars: &mut [EnvVar], environment_id: Uuid, secrets: &SecretBox) {
    for v in vars.iter_mut().filter(|v| v.secret) {
        v.value = secrets.seal_text(&v.value, &shared_context(environment_id, &v.key));
    }
}

pub fn open_shared(
    vars: &mut [EnvVar],
    environment_id: Uuid,
    secrets: &SecretBox,
) -> Result<(), SecretError> {
    for v in vars.iter_mut().filter(|v| v.secret) {
        v.value = secrets.open_text(&v.value, &shared_context(environment_id, &v.key))?;
    }
    Ok(())
}

/// The team's environment's shared variables, secrets sealed; another team's: `NotFound`.
pub async fn shared(
    pool: &PgPool,
    team_id: Uuid,
    environment_id: Uuid,
) -> Result<Vec<EnvVar>, StoreError> {
    let row: Option<Json<Vec<EnvVar>>> =
        sqlx::query_scalar("SELECT variables FROM environments WHERE team_id = $1 AND id = $2")
            .bind(team_id)
            .bind(environment_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.ok_or(StoreError::NotFound)?.0)
}

/// Replaces the shared variables (`sealed`) of the team's environment; audited
/// `environment.variables` with `summary`.
pub async fn replace_shared(
    pool: &PgPool,
    actor: &Actor,
    environment_id: Uuid,
    sealed: &[EnvVar],
    summary: Value,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    replace_shared_in(&mut tx, actor, environment_id, sealed, summary).await?;
    tx.commit().await?;
    Ok(())
}

/// [`replace_shared`] inside the caller's transaction (a clone's).
pub async fn replace_shared_in(
    tx: &mut PgConnection,
    actor: &Actor,
    environment_id: Uuid,
    sealed: &[EnvVar],
    summary: Value,
) -> Result<(), StoreError> {
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE environments SET variables = $3 WHERE team_id = $1 AND id = $2 RETURNING name",
    )
    .bind(actor.team_id)
    .bind(environment_id)
    .bind(Json(sealed))
    .fetch_optional(&mut *tx)
    .await?;
    let name = name.ok_or(StoreError::NotFound)?;
    record(
        tx,
        actor,
        "environment.variables",
        Target::new("environment", environment_id, &name),
        summary,
    )
    .await?;
    Ok(())
}

/// The environment of a service (any team: callers scope the service first).
pub async fn environment_of(pool: &PgPool, service_id: Uuid) -> Result<Uuid, StoreError> {
    sqlx::query_scalar("SELECT environment_id FROM services WHERE id = $1")
        .bind(service_id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The environment as references see it now, every value opened: its shared variables and
/// its services (those being deleted left out) with their stored definitions.
pub async fn snapshot(
    pool: &PgPool,
    secrets: &SecretBox,
    environment_id: Uuid,
) -> Result<EnvironmentVariables, StoreError> {
    let secret = |e: SecretError| StoreError::Secret(e.to_string());
    let shared: Option<Json<Vec<EnvVar>>> =
        sqlx::query_scalar("SELECT variables FROM environments WHERE id = $1")
            .bind(environment_id)
            .fetch_optional(pool)
            .await?;
    let mut shared = shared.ok_or(StoreError::NotFound)?.0;
    open_shared(&mut shared, environment_id, secrets).map_err(secret)?;
    let rows: Vec<(Uuid, Json<ServiceSpec>)> = sqlx::query_as(
        "SELECT id, spec FROM services WHERE environment_id = $1 AND NOT deleting ORDER BY name",
    )
    .bind(environment_id)
    .fetch_all(pool)
    .await?;
    let mut services = Vec::with_capacity(rows.len());
    for (id, Json(mut spec)) in rows {
        open_env(&mut spec, id, secrets).map_err(secret)?;
        services.push(ServiceVariables::from_spec(&spec));
    }
    Ok(EnvironmentVariables { shared, services })
}

/// `env` with `spec` (opened) as its service of that name (added when new).
pub fn with_service(env: &mut EnvironmentVariables, spec: &ServiceSpec) {
    let entry = ServiceVariables::from_spec(spec);
    match env.services.iter_mut().find(|s| s.name == spec.name) {
        Some(s) => *s = entry,
        None => env.services.push(entry),
    }
}

/// A resolved env's digest: SHA-256 (hex) of its `KEY=value` lines, in order.
pub fn digest(env: &[EnvVar]) -> String {
    let mut h = Sha256::new();
    for v in env {
        h.update((v.key.len() as u64).to_be_bytes());
        h.update(v.key.as_bytes());
        h.update((v.value.len() as u64).to_be_bytes());
        h.update(v.value.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Records a deployment's resolved env (plain values, sealed here) and its digest, unless
/// one is recorded already; answers the one recorded (the first resolution wins).
pub async fn record_resolved(
    pool: &PgPool,
    secrets: &SecretBox,
    deployment_id: Uuid,
    env: &[EnvVar],
) -> Result<Vec<EnvVar>, StoreError> {
    let json = serde_json::to_string(env).map_err(|e| StoreError::Secret(e.to_string()))?;
    let sealed = secrets.seal_text(&json, &resolved_context(deployment_id));
    sqlx::query(
        "UPDATE deployments SET resolved_env = $2, env_digest = $3
          WHERE id = $1 AND resolved_env IS NULL",
    )
    .bind(deployment_id)
    .bind(sealed)
    .bind(digest(env))
    .execute(pool)
    .await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT resolved_env FROM deployments WHERE id = $1")
            .bind(deployment_id)
            .fetch_one(pool)
            .await?;
    open_resolved(secrets, deployment_id, stored.as_deref().unwrap_or("[]"))
}

/// Opens a deployment's recorded resolved env.
pub fn open_resolved(
    secrets: &SecretBox,
    deployment_id: Uuid,
    sealed: &str,
) -> Result<Vec<EnvVar>, StoreError> {
    let json = secrets
        .open_text(sealed, &resolved_context(deployment_id))
        .map_err(|e| StoreError::Secret(e.to_string()))?;
    serde_json::from_str(&json).map_err(|e| StoreError::Secret(e.to_string()))
}

/// The team's default environment (`default` / `production`), if it exists yet.
pub async fn default_environment_id(
    pool: &PgPool,
    team_id: Uuid,
) -> Result<Option<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id
          WHERE p.team_id = $1 AND p.name = $2 AND e.name = $3",
    )
    .bind(team_id)
    .bind(crate::domain::project::DEFAULT_PROJECT)
    .bind(crate::domain::project::FIRST_ENVIRONMENT)
    .fetch_optional(pool)
    .await?)
}

/// The environment's services that have a live deployment, with the digest of the env it
/// resolved (`None`: a deployment from before references).
pub async fn live_digests(
    pool: &PgPool,
    environment_id: Uuid,
) -> Result<Vec<(Uuid, String, Option<String>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.name, d.env_digest FROM services s
           JOIN deployments d ON d.id = s.live_deployment_id
          WHERE s.environment_id = $1 AND NOT s.deleting ORDER BY s.name",
    )
    .bind(environment_id)
    .fetch_all(pool)
    .await?)
}
