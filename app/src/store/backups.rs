//! Backup plans and backups: every read scoped by team (Berth's own database backups have
//! no team and are read by the instance owner's commands only). The leader claims what is
//! queued (`FOR UPDATE SKIP LOCKED`) and records how it ended.

use super::StoreError;
use crate::domain::backup::{Backup, BackupKind, BackupPlan, Kept};
use chrono::{DateTime, Utc};
use sqlx::{postgres::PgRow, PgExecutor, PgPool, Row};
use uuid::Uuid;

const COLUMNS: &str = "id, kind, service_id, trigger, state, file, size_bytes, sha256, error,
    created_at, finished_at, restore_state, restore_error, restored_at, remote_url";

fn backup(r: &PgRow) -> Backup {
    let kind: String = r.get("kind");
    Backup {
        id: r.get("id"),
        kind: if kind == "database" {
            BackupKind::Database
        } else {
            BackupKind::Volumes
        },
        service_id: r.get("service_id"),
        trigger: r.get("trigger"),
        state: r.get("state"),
        file: r.get("file"),
        size_bytes: r.get("size_bytes"),
        sha256: r.get("sha256"),
        error: r.get("error"),
        created_at: r.get("created_at"),
        finished_at: r.get("finished_at"),
        restore_state: r.get("restore_state"),
        restore_error: r.get("restore_error"),
        restored_at: r.get("restored_at"),
        remote: r.get("remote_url"),
    }
}

/// Team `team`'s service `service`'s plan (the default plan when none was saved);
/// `NotFound` for another team's service.
pub async fn plan(pool: &PgPool, team: Uuid, service: Uuid) -> Result<BackupPlan, StoreError> {
    service_of_team(pool, team, service).await?;
    let row = sqlx::query(
        "SELECT schedule, stop_service, keep_last, max_age_days FROM backup_plans
          WHERE service_id = $1 AND team_id = $2",
    )
    .bind(service)
    .bind(team)
    .fetch_optional(pool)
    .await?;
    Ok(row
        .map(|r| BackupPlan {
            schedule: r.get("schedule"),
            stop_service: r.get("stop_service"),
            keep_last: r.get("keep_last"),
            max_age_days: r.get("max_age_days"),
        })
        .unwrap_or_default())
}

/// `NotFound` unless `service` is team `team`'s.
pub async fn service_of_team<'e>(
    db: impl PgExecutor<'e>,
    team: Uuid,
    service: Uuid,
) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM services WHERE id = $1 AND team_id = $2")
        .bind(service)
        .bind(team)
        .fetch_optional(db)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

/// Saves a service's plan (validated); a new schedule counts from now.
pub async fn save_plan(
    tx: &mut sqlx::PgConnection,
    team: Uuid,
    service: Uuid,
    plan: &BackupPlan,
) -> Result<(), StoreError> {
    service_of_team(&mut *tx, team, service).await?;
    sqlx::query(
        "INSERT INTO backup_plans (service_id, team_id, schedule, stop_service, keep_last, max_age_days, last_run_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (service_id) DO UPDATE SET schedule = $3, stop_service = $4, keep_last = $5,
             max_age_days = $6, updated_at = now(),
             last_run_at = CASE WHEN backup_plans.schedule IS DISTINCT FROM $3 THEN now()
                                ELSE backup_plans.last_run_at END",
    )
    .bind(service)
    .bind(team)
    .bind(&plan.schedule)
    .bind(plan.stop_service)
    .bind(plan.keep_last)
    .bind(plan.max_age_days)
    .execute(tx)
    .await?;
    Ok(())
}

/// Queues a backup; its id.
pub async fn queue<'e>(
    db: impl PgExecutor<'e>,
    team: Option<Uuid>,
    service: Option<Uuid>,
    trigger: &str,
    stop_service: bool,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    let kind = if service.is_some() {
        BackupKind::Volumes
    } else {
        BackupKind::Database
    };
    sqlx::query(
        "INSERT INTO backups (id, team_id, service_id, kind, trigger, stop_service)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(team)
    .bind(service)
    .bind(kind.as_str())
    .bind(trigger)
    .bind(stop_service)
    .execute(db)
    .await?;
    Ok(id)
}

/// Queues a dump of Berth's database for `via_team` (whose destination receives it and
/// whose channels hear of a failure); its id.
pub async fn queue_database<'e>(
    db: impl PgExecutor<'e>,
    via_team: Option<Uuid>,
    trigger: &str,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO backups (id, kind, trigger, via_team_id) VALUES ($1, 'database', $2, $3)",
    )
    .bind(id)
    .bind(trigger)
    .bind(via_team)
    .execute(db)
    .await?;
    Ok(id)
}

/// A page of backups, newest first: team `team`'s service `service`'s (`Some`), or Berth's
/// database's (`None`, `team` ignored); `before` a backup id (the cursor); `limit` rows.
pub async fn list(
    pool: &PgPool,
    team: Uuid,
    service: Option<Uuid>,
    limit: i64,
    before: Option<Uuid>,
) -> Result<Vec<Backup>, StoreError> {
    if let Some(s) = service {
        service_of_team(pool, team, s).await?;
    }
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM backups b
          WHERE (($1::uuid IS NULL AND kind = 'database') OR (service_id = $1 AND team_id = $2))
            AND state <> 'deleted'
            AND ($3::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM backups WHERE id = $3))
          ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind(service)
    .bind(team)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(backup).collect())
}

/// One backup of team `team` (`None`: one of Berth's database).
pub async fn get(pool: &PgPool, team: Option<Uuid>, id: Uuid) -> Result<Backup, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM backups WHERE id = $1 AND team_id IS NOT DISTINCT FROM $2"
    ))
    .bind(id)
    .bind(team)
    .fetch_optional(pool)
    .await?
    .map(|r| backup(&r))
    .ok_or(StoreError::NotFound)
}

/// Asks for a restore of a finished backup; `false` when one is queued or running already.
pub async fn queue_restore<'e>(
    db: impl PgExecutor<'e>,
    team: Uuid,
    id: Uuid,
    by: Option<Uuid>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE backups SET restore_state = 'queued', restore_error = NULL, restore_by = $3
          WHERE id = $1 AND team_id = $2 AND state = 'succeeded'
            AND restore_state IS DISTINCT FROM 'queued' AND restore_state IS DISTINCT FROM 'running'",
    )
    .bind(id)
    .bind(team)
    .bind(by)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What the leader claims: a backup to make, or a restore to run.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub team_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub stop_service: bool,
    pub file: Option<String>,
    pub sha256: Option<String>,
    pub restore: bool,
    /// A database dump's team (see [`queue_database`]).
    pub via_team_id: Option<Uuid>,
    /// Where the archive was uploaded, if it was.
    pub destination_id: Option<Uuid>,
    pub remote_key: Option<String>,
}

/// Claims the oldest queued backup or restore (marks it running).
pub async fn claim(pool: &PgPool) -> Result<Option<Claimed>, StoreError> {
    let row = sqlx::query(
        "UPDATE backups b SET
             state = CASE WHEN b.state = 'queued' THEN 'running' ELSE b.state END,
             restore_state = CASE WHEN b.state = 'queued' THEN b.restore_state ELSE 'running' END
          WHERE id = (SELECT id FROM backups WHERE state = 'queued' OR restore_state = 'queued'
                       ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING id, team_id, service_id, stop_service, file, sha256, via_team_id,
                    destination_id, remote_key,
                    restore_state = 'running' AND state <> 'running' AS restore",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Claimed {
        id: r.get("id"),
        team_id: r.get("team_id"),
        service_id: r.get("service_id"),
        stop_service: r.get("stop_service"),
        file: r.get("file"),
        sha256: r.get("sha256"),
        restore: r.get("restore"),
        via_team_id: r.get("via_team_id"),
        destination_id: r.get("destination_id"),
        remote_key: r.get("remote_key"),
    }))
}

/// Puts back to `queued` what a leader that stopped left running (at its start).
pub async fn requeue_running(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE backups SET state = CASE WHEN state = 'running' THEN 'failed' ELSE state END,
                error = CASE WHEN state = 'running' THEN 'Berth stopped while this backup ran.' ELSE error END,
                finished_at = CASE WHEN state = 'running' THEN now() ELSE finished_at END,
                restore_state = CASE WHEN restore_state = 'running' THEN 'failed' ELSE restore_state END,
                restore_error = CASE WHEN restore_state = 'running' THEN 'Berth stopped while this restore ran.' ELSE restore_error END
          WHERE state = 'running' OR restore_state = 'running'",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a finished backup: its file, size and checksum, or why it failed.
pub async fn finish(
    pool: &PgPool,
    id: Uuid,
    outcome: Result<(&str, i64, &str), &str>,
) -> Result<(), StoreError> {
    let (state, file, size, sha, error) = match outcome {
        Ok((file, size, sha)) => ("succeeded", Some(file), Some(size), Some(sha), None),
        Err(e) => ("failed", None, None, None, Some(e)),
    };
    sqlx::query(
        "UPDATE backups SET state = $2, file = $3, size_bytes = $4, sha256 = $5, error = $6,
                finished_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(file)
    .bind(size)
    .bind(sha)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records where a backup's archive was uploaded (before it is marked finished).
pub async fn record_remote(
    pool: &PgPool,
    id: Uuid,
    destination: Uuid,
    key: &str,
    url: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE backups SET destination_id = $2, remote_key = $3, remote_url = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(destination)
    .bind(key)
    .bind(url)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a backup whose archive was made but not uploaded: failed, with `error`; the
/// local file, its size and checksum are kept on the row (the file stays in the folder).
pub async fn fail_upload(
    pool: &PgPool,
    id: Uuid,
    (file, size, sha): (&str, i64, &str),
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE backups SET state = 'failed', file = $2, size_bytes = $3, sha256 = $4, error = $5,
                finished_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(file)
    .bind(size)
    .bind(sha)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records how a restore ended.
pub async fn finish_restore(
    pool: &PgPool,
    id: Uuid,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE backups SET restore_state = $2, restore_error = $3, restored_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(if error.is_some() { "failed" } else { "succeeded" })
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// A successful backup as retention sees it: its age, local file and remote object.
#[derive(Debug, Clone)]
pub struct Finished {
    pub kept: Kept,
    pub file: Option<String>,
    pub destination_id: Option<Uuid>,
    pub remote_key: Option<String>,
}

/// The successful backups of a service (`Some`) or of Berth's database (`None`), with
/// their files, for retention.
pub async fn finished(pool: &PgPool, service: Option<Uuid>) -> Result<Vec<Finished>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, created_at, file, destination_id, remote_key FROM backups
          WHERE state = 'succeeded' AND (($1::uuid IS NULL AND kind = 'database') OR service_id = $1)",
    )
    .bind(service)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Finished {
            kept: Kept {
                id: r.get("id"),
                created_at: r.get("created_at"),
            },
            file: r.get("file"),
            destination_id: r.get("destination_id"),
            remote_key: r.get("remote_key"),
        })
        .collect())
}

/// Marks a backup removed by retention (its file is gone).
pub async fn mark_deleted(pool: &PgPool, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("UPDATE backups SET state = 'deleted' WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// A scheduled plan that may be due.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub service_id: Uuid,
    pub team_id: Uuid,
    pub schedule: String,
    pub stop_service: bool,
    pub last_run_at: DateTime<Utc>,
}

/// Every plan with a schedule (of a service not being deleted).
pub async fn scheduled(pool: &PgPool) -> Result<Vec<Scheduled>, StoreError> {
    let rows = sqlx::query(
        "SELECT p.service_id, p.team_id, p.schedule, p.stop_service,
                coalesce(p.last_run_at, p.updated_at) AS last_run_at
           FROM backup_plans p JOIN services s ON s.id = p.service_id
          WHERE p.schedule IS NOT NULL AND NOT s.deleting",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Scheduled {
            service_id: r.get("service_id"),
            team_id: r.get("team_id"),
            schedule: r.get("schedule"),
            stop_service: r.get("stop_service"),
            last_run_at: r.get("last_run_at"),
        })
        .collect())
}

/// Queues a scheduled backup and moves the plan's last run to `at`, in one transaction.
pub async fn queue_scheduled(
    pool: &PgPool,
    s: &Scheduled,
    at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE backup_plans SET last_run_at = $2 WHERE service_id = $1")
        .bind(s.service_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    let id = queue(
        &mut *tx,
        Some(s.team_id),
        Some(s.service_id),
        "schedule",
        s.stop_service,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A service's plan's retention, or (`None`) Berth's database's (none without a plan).
pub async fn retention(
    pool: &PgPool,
    service: Option<Uuid>,
) -> Result<(Option<i32>, Option<i32>), StoreError> {
    let row = match service {
        Some(service) => {
            sqlx::query("SELECT keep_last, max_age_days FROM backup_plans WHERE service_id = $1")
                .bind(service)
                .fetch_optional(pool)
                .await?
        }
        None => {
            sqlx::query("SELECT keep_last, max_age_days FROM database_backup_plan")
                .fetch_optional(pool)
                .await?
        }
    };
    Ok(row
        .map(|r| (r.get("keep_last"), r.get("max_age_days")))
        .unwrap_or((None, None)))
}

/// Berth's database's plan and the team it was saved from (the default plan when none).
pub async fn database_plan(pool: &PgPool) -> Result<(BackupPlan, Option<Uuid>), StoreError> {
    let row =
        sqlx::query("SELECT team_id, schedule, keep_last, max_age_days FROM database_backup_plan")
            .fetch_optional(pool)
            .await?;
    Ok(row
        .map(|r| {
            (
                BackupPlan {
                    schedule: r.get("schedule"),
                    stop_service: false,
                    keep_last: r.get("keep_last"),
                    max_age_days: r.get("max_age_days"),
                },
                r.get("team_id"),
            )
        })
        .unwrap_or_default())
}

/// Saves Berth's database's plan (validated), from team `team`; a new schedule counts
/// from now.
pub async fn save_database_plan(
    tx: &mut sqlx::PgConnection,
    team: Uuid,
    plan: &BackupPlan,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO database_backup_plan (singleton, team_id, schedule, keep_last, max_age_days, last_run_at)
         VALUES (true, $1, $2, $3, $4, now())
         ON CONFLICT (singleton) DO UPDATE SET team_id = $1, schedule = $2, keep_last = $3,
             max_age_days = $4, updated_at = now(),
             last_run_at = CASE WHEN database_backup_plan.schedule IS DISTINCT FROM $2 THEN now()
                                ELSE database_backup_plan.last_run_at END",
    )
    .bind(team)
    .bind(&plan.schedule)
    .bind(plan.keep_last)
    .bind(plan.max_age_days)
    .execute(tx)
    .await?;
    Ok(())
}

/// Berth's database's schedule, if it has one: `(schedule, team, last run)`.
pub async fn database_scheduled(
    pool: &PgPool,
) -> Result<Option<(String, Option<Uuid>, DateTime<Utc>)>, StoreError> {
    let row = sqlx::query(
        "SELECT schedule, team_id, coalesce(last_run_at, updated_at) AS last_run_at
           FROM database_backup_plan WHERE schedule IS NOT NULL",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.get("schedule"), r.get("team_id"), r.get("last_run_at"))))
}

/// Queues a scheduled dump of Berth's database and moves its plan's last run to `at`.
pub async fn queue_scheduled_database(
    pool: &PgPool,
    team: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE database_backup_plan SET last_run_at = $1")
        .bind(at)
        .execute(&mut *tx)
        .await?;
    let id = queue_database(&mut *tx, team, "schedule").await?;
    tx.commit().await?;
    Ok(id)
}

/// What a volume backup or restore needs of its service: the image its newest deployment
/// ran (`sha256:…`), its volumes' names, and whether it is stopped.
#[derive(Debug, Clone)]
pub struct VolumeSource {
    pub image_id: Option<String>,
    /// Its environment: the volumes' names on the engine.
    pub placement: crate::domain::project::Placement,
    pub volumes: Vec<String>,
    pub stopped: bool,
}

pub async fn volume_source(pool: &PgPool, service: Uuid) -> Result<VolumeSource, StoreError> {
    let row = sqlx::query(
        "SELECT s.stopped, s.spec, s.environment_id, e.network, e.volume_prefix,
                (SELECT image_id FROM deployments d WHERE d.service_id = s.id AND d.image_id IS NOT NULL
                  ORDER BY number DESC LIMIT 1) AS image_id
           FROM services s JOIN environments e ON e.id = s.environment_id WHERE s.id = $1",
    )
    .bind(service)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    let spec: serde_json::Value = r_json(&row, "spec");
    let volumes = spec["volumes"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|m| m["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(VolumeSource {
        image_id: row.get("image_id"),
        placement: crate::domain::project::Placement {
            environment_id: row.get("environment_id"),
            network: row.get("network"),
            volume_prefix: row.get("volume_prefix"),
        },
        volumes,
        stopped: row.get("stopped"),
    })
}

fn r_json(row: &PgRow, column: &str) -> serde_json::Value {
    row.try_get::<serde_json::Value, _>(column)
        .unwrap_or(serde_json::Value::Null)
}

/// Stops or starts a service for a backup or a restore, as the worker (timeline and audit
/// say why). The worker then removes or starts its replicas.
pub async fn set_stopped_for(
    pool: &PgPool,
    team: Uuid,
    service: Uuid,
    stopped: bool,
    why: &str,
) -> Result<(), StoreError> {
    use crate::domain::service::{wording, EventKind};
    let mut change =
        super::change::ServiceChange::lock(pool, super::audit::Actor::worker(team), service)
            .await?;
    change.set_stopped(stopped).await?;
    let (kind, message, action) = if stopped {
        (
            EventKind::Stop,
            wording::stopped(&format!(" for {why}")),
            "service.stop",
        )
    } else {
        (
            EventKind::Start,
            wording::started(&format!(" after {why}")),
            "service.start",
        )
    };
    change.event(kind, &message).await?;
    change
        .audit(action, serde_json::json!({"for": why}))
        .await?;
    change.commit().await
}

/// Records a failed backup or restore in the team's audit log (as the worker).
pub async fn audit_failure(
    pool: &PgPool,
    team: Option<Uuid>,
    service: Option<Uuid>,
    action: &str,
    summary: serde_json::Value,
) -> Result<(), StoreError> {
    let Some(team) = team else {
        return Ok(());
    };
    let mut tx = pool.begin().await?;
    super::audit::record(
        &mut tx,
        &super::audit::Actor::worker(team),
        action,
        super::audit::Target {
            kind: "service",
            id: service,
            label: "backup",
        },
        summary,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
