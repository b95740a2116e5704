//! What the worker reads and writes: a service's desired state, the lifecycle of its
//! deployments (lease, deadline, outcome, log), and the containers it observed.

use super::change::add_event;
use super::StoreError;
use crate::domain::service::{
    container_changes, ContainerFacts, DeployStep, DeploymentState, ServiceSpec,
};
use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgPool, Row};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct DeploymentRow {
    pub id: Uuid,
    pub number: i32,
    pub template: String,
    /// Secrets still sealed.
    pub spec: ServiceSpec,
    pub state: DeploymentState,
    pub deadline: Option<DateTime<Utc>>,
    pub lease_owner: Option<Uuid>,
    pub lease_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct DesiredService {
    pub id: Uuid,
    pub team_id: Uuid,
    pub name: String,
    pub stopped: bool,
    pub deleting: bool,
    /// The deployment that serves now.
    pub live: Option<DeploymentRow>,
    /// The newest pending or in-progress deployment, if one is rolling out.
    pub rollout: Option<DeploymentRow>,
}

const DEPLOYMENT_COLUMNS: &str =
    "id, number, template, spec, state, deadline, lease_owner, lease_until";

fn deployment(row: &sqlx::postgres::PgRow) -> DeploymentRow {
    let Json(spec): Json<ServiceSpec> = row.get("spec");
    DeploymentRow {
        id: row.get("id"),
        number: row.get("number"),
        template: row.get("template"),
        spec,
        state: DeploymentState::parse(row.get("state")).unwrap_or(DeploymentState::Failed),
        deadline: row.get("deadline"),
        lease_owner: row.get("lease_owner"),
        lease_until: row.get("lease_until"),
    }
}

/// Everything the worker needs to reconcile one service; `None` when the row is gone.
pub async fn desired(pool: &PgPool, id: Uuid) -> Result<Option<DesiredService>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT id, team_id, name, stopped, deleting, live_deployment_id FROM services WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let live_id: Option<Uuid> = row.get("live_deployment_id");
    let live = match live_id {
        Some(live_id) => sqlx::query(&format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = $1"
        ))
        .bind(live_id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(deployment),
        None => None,
    };
    let rollout = sqlx::query(&format!(
        "SELECT {DEPLOYMENT_COLUMNS} FROM deployments
         WHERE service_id = $1 AND state IN ('pending', 'in_progress')
         ORDER BY number DESC LIMIT 1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(deployment);
    Ok(Some(DesiredService {
        id,
        team_id: row.get("team_id"),
        name: row.get("name"),
        stopped: row.get("stopped"),
        deleting: row.get("deleting"),
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

/// What holding a rollout found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RolloutHold {
    /// This process took the rollout over from another (or a crashed) one.
    pub taken_over: bool,
    /// Its deadline has passed.
    pub expired: bool,
}

/// Takes (or keeps) the lease of a rollout and starts its clock: the first call sets it in
/// progress with its deadline; later calls only extend the lease.
pub async fn hold_rollout(
    pool: &PgPool,
    deployment_id: Uuid,
    owner: Uuid,
    deadline: std::time::Duration,
    lease: std::time::Duration,
) -> Result<RolloutHold, StoreError> {
    let held: Option<(Option<Uuid>, bool)> = sqlx::query_as(
        "UPDATE deployments d SET
             state = 'in_progress',
             started_at = coalesce(started_at, now()),
             deadline = coalesce(deadline, now() + make_interval(secs => $3)),
             lease_owner = $2,
             lease_until = now() + make_interval(secs => $4)
         FROM (SELECT lease_owner AS old_owner FROM deployments WHERE id = $1 FOR UPDATE) old
         WHERE d.id = $1 AND d.state IN ('pending', 'in_progress')
         RETURNING old.old_owner, d.deadline < now()",
    )
    .bind(deployment_id)
    .bind(owner)
    .bind(deadline.as_secs_f64())
    .bind(lease.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    // No row: the rollout ended meanwhile; the next reconcile sees it closed.
    Ok(
        held.map_or_else(RolloutHold::default, |(old_owner, expired)| RolloutHold {
            taken_over: old_owner.is_some_and(|o| o != owner),
            expired,
        }),
    )
}

/// Ends a rollout. When it succeeded it becomes the service's live deployment.
pub async fn finish_rollout(
    pool: &PgPool,
    service_id: Uuid,
    deployment_id: Uuid,
    state: DeploymentState,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(
        "UPDATE deployments SET state = $2, reason = $3, finished_at = now(),
                lease_owner = NULL, lease_until = NULL
         WHERE id = $1 AND state IN ('pending', 'in_progress')",
    )
    .bind(deployment_id)
    .bind(state.as_str())
    .bind(reason)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 1 && state == DeploymentState::Succeeded {
        sqlx::query("UPDATE services SET live_deployment_id = $2 WHERE id = $1")
            .bind(service_id)
            .bind(deployment_id)
            .execute(&mut *tx)
            .await?;
    }
    if changed == 1 {
        let action = format!("deployment.{}", state.as_str());
        audit_outcome(&mut tx, service_id, deployment_id, &action, reason).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The worker's audit entry for how a deployment ended.
pub(super) async fn audit_outcome(
    conn: &mut sqlx::PgConnection,
    service_id: Uuid,
    deployment_id: Uuid,
    action: &str,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    let row: Option<(Uuid, String, i32)> = sqlx::query_as(
        "SELECT s.team_id, s.name, d.number FROM services s JOIN deployments d ON d.service_id = s.id
          WHERE s.id = $1 AND d.id = $2",
    )
    .bind(service_id)
    .bind(deployment_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((team_id, name, number)) = row else {
        return Ok(());
    };
    let reason: Option<String> = reason.map(|r| r.chars().take(300).collect());
    super::audit::record(
        conn,
        &super::audit::Actor::worker(team_id),
        action,
        super::audit::Target::new("service", service_id, &name),
        serde_json::json!({"deployment": deployment_id, "number": number, "reason": reason}),
    )
    .await
}

/// Appends a line to a deployment's log; `step` when the line marks a rollout step.
pub async fn log(
    pool: &PgPool,
    deployment_id: Uuid,
    step: Option<DeployStep>,
    line: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO deployment_logs (deployment_id, line, step) VALUES ($1, $2, $3)")
        .bind(deployment_id)
        .bind(line)
        .bind(step.map(DeployStep::as_str))
        .execute(pool)
        .await?;
    Ok(())
}

/// One container as observed in Docker.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub deployment_id: Option<Uuid>,
    pub template: String,
    pub replica: i32,
    pub state: String,
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    pub restart_count: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub crash_looping: bool,
    pub last_logs: Option<String>,
    pub ip: Option<String>,
}

/// Replaces what is recorded about a service's containers with what was just observed.
pub async fn record_containers(
    pool: &PgPool,
    service_id: Uuid,
    team_id: Uuid,
    observed: &[ContainerRecord],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let before: Vec<ContainerFacts> = sqlx::query(
        "SELECT id, replica, state, exit_code, restart_count, crash_looping
         FROM containers WHERE service_id = $1 FOR UPDATE",
    )
    .bind(service_id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| ContainerFacts {
        id: r.get("id"),
        replica: r.get("replica"),
        state: r.get("state"),
        exit_code: r.get("exit_code"),
        restart_count: r.get("restart_count"),
        crash_looping: r.get("crash_looping"),
    })
    .collect();
    let now: Vec<ContainerFacts> = observed
        .iter()
        .map(|c| ContainerFacts {
            id: c.id.clone(),
            replica: c.replica,
            state: c.state.clone(),
            exit_code: c.exit_code,
            restart_count: c.restart_count,
            crash_looping: c.crash_looping,
        })
        .collect();
    for (kind, message) in container_changes(&before, &now) {
        add_event(&mut *tx, service_id, kind, &message).await?;
    }
    let ids: Vec<&str> = observed.iter().map(|c| c.id.as_str()).collect();
    sqlx::query("DELETE FROM containers WHERE service_id = $1 AND NOT (id = ANY($2))")
        .bind(service_id)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    for c in observed {
        sqlx::query(
            "INSERT INTO containers (id, service_id, team_id, deployment_id, template, replica, name,
                 state, health, exit_code, restart_count, started_at, crash_looping, last_logs, ip, observed_at)
             VALUES ($1, $2, $3,
                 (SELECT id FROM deployments WHERE id = $4), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now())
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, health = excluded.health,
                 exit_code = excluded.exit_code, restart_count = excluded.restart_count,
                 started_at = excluded.started_at, crash_looping = excluded.crash_looping,
                 last_logs = coalesce(excluded.last_logs, containers.last_logs), ip = excluded.ip,
                 observed_at = now()",
        )
        .bind(&c.id)
        .bind(service_id)
        .bind(team_id)
        .bind(c.deployment_id)
        .bind(&c.template)
        .bind(c.replica)
        .bind(&c.name)
        .bind(&c.state)
        .bind(&c.health)
        .bind(c.exit_code)
        .bind(c.restart_count)
        .bind(c.started_at)
        .bind(c.crash_looping)
        .bind(&c.last_logs)
        .bind(&c.ip)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
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
