//! What `depends_on` needs from Postgres: each service's dependencies in an environment
//! (for the save-time check), and how far along the services a deployment waits for are
//! (for the worker's gate).

use super::StoreError;
use crate::domain::dependencies::DependsOn;
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

/// A service's id, name and stored `depends_on` (absent in specs stored before it).
type DependenciesRow = (Uuid, String, Option<Json<Vec<DependsOn>>>);

/// The environment's services (those being deleted left out), by id and name, each with
/// its stored `depends_on`; sorted by name.
pub async fn in_environment(
    pool: &PgPool,
    environment_id: Uuid,
) -> Result<Vec<(Uuid, String, Vec<DependsOn>)>, StoreError> {
    let rows: Vec<DependenciesRow> = sqlx::query_as(
        "SELECT id, name, spec->'depends_on' FROM services
          WHERE environment_id = $1 AND NOT deleting ORDER BY name",
    )
    .bind(environment_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, deps)| (id, name, deps.map(|d| d.0).unwrap_or_default()))
        .collect())
}

/// A service a deployment waits for, as the worker's gate reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UpstreamRow {
    pub name: String,
    pub stopped: bool,
    /// Its newest deployment's state (`None`: it has none yet, e.g. a first build runs).
    pub state: Option<String>,
    /// Why that deployment failed, when it did.
    pub reason: Option<String>,
    /// The replicas that deployment wants.
    pub replicas: Option<i64>,
    /// Its containers (that deployment's template) recorded running…
    pub running: i64,
    /// …and of those, the ready ones (health `healthy`, or no health at all).
    pub ready: i64,
}

/// The services named `names` of `environment_id` (those being deleted left out), with
/// their newest deployment and its containers as the worker last recorded them. A name
/// that is not there is missing from the answer.
pub async fn upstream(
    pool: &PgPool,
    environment_id: Uuid,
    names: &[String],
) -> Result<Vec<UpstreamRow>, StoreError> {
    Ok(sqlx::query_as::<_, UpstreamRow>(
        "SELECT s.name, s.stopped, d.state, d.reason, (d.spec->>'replicas')::bigint AS replicas,
                (SELECT count(*) FROM containers c
                  WHERE c.service_id = s.id AND c.template = d.template
                    AND c.state = 'running') AS running,
                (SELECT count(*) FROM containers c
                  WHERE c.service_id = s.id AND c.template = d.template
                    AND c.state = 'running' AND coalesce(c.health, 'healthy') = 'healthy') AS ready
           FROM services s
           LEFT JOIN LATERAL (SELECT state, reason, spec, template FROM deployments
                               WHERE service_id = s.id ORDER BY number DESC LIMIT 1) d ON true
          WHERE s.environment_id = $1 AND s.name = ANY($2) AND NOT s.deleting",
    )
    .bind(environment_id)
    .bind(names)
    .fetch_all(pool)
    .await?)
}

/// When a deployment was queued: where its wait for its dependencies started.
pub async fn created_at(
    pool: &PgPool,
    deployment_id: Uuid,
) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT created_at FROM deployments WHERE id = $1")
            .bind(deployment_id)
            .fetch_one(pool)
            .await?,
    )
}
