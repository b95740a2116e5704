//! What the worker reads and writes: a service's desired state (here), the lifecycle of
//! its deployments ([`rollout`]: lease, deadline, outcome, log), the containers it observed
//! ([`containers`]), and the advisory lock only the acting worker holds.

mod containers;
mod rollout;
mod volumes;

pub use containers::{record_containers, ContainerRecord};
pub(super) use rollout::audit_outcome;
pub use rollout::{finish_rollout, hold_rollout, log, record_image};
pub use volumes::{audit_volumes_deleted, volumes_to_delete};

use super::StoreError;
use crate::domain::service::{DeploymentState, ServiceSpec};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// A deployment as the worker reads it (`DEPLOYMENT_COLUMNS`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeploymentRow {
    pub id: Uuid,
    pub number: i32,
    pub template: String,
    /// Secrets still sealed.
    #[sqlx(json)]
    pub spec: ServiceSpec,
    #[sqlx(try_from = "String")]
    pub state: DeploymentState,
    pub deadline: Option<DateTime<Utc>>,
    pub lease_owner: Option<Uuid>,
    pub lease_until: Option<DateTime<Utc>>,
    /// The image it runs (`sha256:…`), once its rollout resolved it.
    pub image_id: Option<String>,
    /// The registry digest of that image (`repo@sha256:…`), when it came from a registry.
    pub image_digest: Option<String>,
    /// Its resolved env, sealed whole (`store::variables::open_resolved`), once recorded.
    pub resolved_env: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DesiredService {
    pub id: Uuid,
    pub team_id: Uuid,
    pub name: String,
    pub stopped: bool,
    pub deleting: bool,
    /// Its environment's network and volume names.
    pub placement: crate::domain::project::Placement,
    /// The deployment that serves now.
    pub live: Option<DeploymentRow>,
    /// The newest pending or in-progress deployment, if one is rolling out.
    pub rollout: Option<DeploymentRow>,
}

const DEPLOYMENT_COLUMNS: &str =
    "id, number, template, spec, state, deadline, lease_owner, lease_until, image_id, image_digest,
     resolved_env";

/// The `services` columns the worker reads.
#[derive(sqlx::FromRow)]
struct ServiceRow {
    team_id: Uuid,
    name: String,
    stopped: bool,
    deleting: bool,
    live_deployment_id: Option<Uuid>,
    environment_id: Uuid,
    network: String,
    volume_prefix: String,
}

/// Everything the worker needs to reconcile one service; `None` when the row is gone.
pub async fn desired(pool: &PgPool, id: Uuid) -> Result<Option<DesiredService>, StoreError> {
    let Some(row) = sqlx::query_as::<_, ServiceRow>(
        "SELECT s.team_id, s.name, s.stopped, s.deleting, s.live_deployment_id,
                s.environment_id, e.network, e.volume_prefix
           FROM services s JOIN environments e ON e.id = s.environment_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let live = match row.live_deployment_id {
        Some(live_id) => {
            sqlx::query_as::<_, DeploymentRow>(&format!(
                "SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = $1"
            ))
            .bind(live_id)
            .fetch_optional(pool)
            .await?
        }
        None => None,
    };
    let rollout = sqlx::query_as::<_, DeploymentRow>(&format!(
        "SELECT {DEPLOYMENT_COLUMNS} FROM deployments
         WHERE service_id = $1 AND state IN ('pending', 'in_progress')
         ORDER BY number DESC LIMIT 1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(Some(DesiredService {
        id,
        team_id: row.team_id,
        name: row.name,
        stopped: row.stopped,
        deleting: row.deleting,
        placement: crate::domain::project::Placement {
            environment_id: row.environment_id,
            network: row.network,
            volume_prefix: row.volume_prefix,
        },
        live,
        rollout,
    }))
}

/// Every service id, for the periodic resync.
pub async fn service_ids(pool: &PgPool) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar("SELECT id FROM services")
        .fetch_all(pool)
        .await?)
}

/// The last step of deleting a service: its row (deployments and records cascade).
pub async fn purge(pool: &PgPool, service_id: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM services WHERE id = $1 AND deleting")
        .bind(service_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The advisory lock only the acting worker holds: "berth" in ASCII.
const WORKER_LOCK: i64 = 0x0062_6572_7468;

/// Tries to take the worker lock on `conn`; it is held for as long as `conn` lives.
pub async fn try_worker_lock(conn: &mut sqlx::PgConnection) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(WORKER_LOCK)
        .fetch_one(conn)
        .await?)
}

/// Whether `conn` (and so a lock it holds) is still alive.
pub async fn connection_alive(conn: &mut sqlx::PgConnection) -> bool {
    sqlx::query("SELECT 1").execute(conn).await.is_ok()
}
