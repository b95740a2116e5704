//! The scheduler's side of jobs: which jobs are due, and the lifecycle of a run (queued →
//! running → succeeded / failed / timed_out / interrupted, or skipped) with its output.
//! Not scoped by team: only the leading worker calls these.

use super::{JobRow, RunRow, JOB_COLUMNS, RUN_COLUMNS};
use crate::domain::jobs::{RunState, RunTrigger, MAX_LOG_LINES};
use crate::domain::log_line;
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Every enabled job of a service that is not being deleted.
pub async fn enabled_jobs(pool: &PgPool) -> Result<Vec<JobRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs j WHERE enabled
           AND NOT (SELECT deleting FROM services s WHERE s.id = j.service_id)"
    ))
    .fetch_all(pool)
    .await?)
}

/// Records that every occurrence of the job up to `until` has been handled.
pub async fn advance(pool: &PgPool, job: Uuid, until: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("UPDATE jobs SET scheduled_until = $2 WHERE id = $1")
        .bind(job)
        .bind(until)
        .execute(pool)
        .await?;
    Ok(())
}

/// A run of a job made by the scheduler: `queued` (to start now) or `skipped` (with why).
pub async fn insert(
    pool: &PgPool,
    job: &JobRow,
    trigger: RunTrigger,
    state: RunState,
    reason: Option<&str>,
) -> Result<RunRow, StoreError> {
    let finished = (!state.is_open()).then(Utc::now);
    Ok(sqlx::query_as(&format!(
        "INSERT INTO job_runs (id, team_id, service_id, job_id, trigger, command, timeout_s,
                               state, reason, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {RUN_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(job.team_id)
    .bind(job.service_id)
    .bind(job.id)
    .bind(trigger.as_str())
    .bind(&job.command)
    .bind(job.timeout_s)
    .bind(state.as_str())
    .bind(reason)
    .bind(finished)
    .fetch_one(pool)
    .await?)
}

/// Runs queued or running: of one job, or (`None`) of every job and command.
pub async fn open(pool: &PgPool, job: Option<Uuid>) -> Result<Vec<RunRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RUN_COLUMNS} FROM job_runs
         WHERE state IN ('queued', 'running') AND ($1::uuid IS NULL OR job_id = $1)
         ORDER BY number"
    ))
    .bind(job)
    .fetch_all(pool)
    .await?)
}

/// A run's state now; `None` when it is gone (its job or service was deleted).
pub async fn state(pool: &PgPool, run: Uuid) -> Result<Option<RunState>, StoreError> {
    let s: Option<String> = sqlx::query_scalar("SELECT state FROM job_runs WHERE id = $1")
        .bind(run)
        .fetch_optional(pool)
        .await?;
    Ok(s.and_then(|s| RunState::parse(&s)))
}

/// Marks a queued run running; false when it was not queued any more.
pub async fn mark_running(pool: &PgPool, run: Uuid) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE job_runs SET state = 'running', started_at = clock_timestamp()
         WHERE id = $1 AND state = 'queued'",
    )
    .bind(run)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Closes an open run; false when it was closed already (the first outcome stands).
pub async fn finish(
    pool: &PgPool,
    run: Uuid,
    state: RunState,
    exit_code: Option<i32>,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE job_runs SET state = $2, exit_code = $3, reason = $4,
                finished_at = clock_timestamp(),
                started_at = coalesce(started_at, clock_timestamp())
         WHERE id = $1 AND state IN ('queued', 'running')",
    )
    .bind(run)
    .bind(state.as_str())
    .bind(exit_code)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Closes every open (queued or running) run of service `service` as `interrupted` with
/// `reason`, for its deletion: a watcher then stops its container, and none starts.
/// Returns how many were open.
pub async fn close_service_runs(
    pool: &PgPool,
    service: Uuid,
    reason: &str,
) -> Result<u64, StoreError> {
    let r = sqlx::query(
        "UPDATE job_runs SET state = 'interrupted', reason = $2,
                finished_at = clock_timestamp(),
                started_at = coalesce(started_at, clock_timestamp())
         WHERE service_id = $1 AND state IN ('queued', 'running')",
    )
    .bind(service)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// Appends lines to a run's output (each cleaned by [`log_line::clean`]), keeping at most
/// [`MAX_LOG_LINES`]; the first line over says the rest was dropped. Returns the lines
/// the run now has.
pub async fn append_log(
    pool: &PgPool,
    run: &RunRow,
    stream: &str,
    lines: &[String],
    kept: i64,
) -> Result<i64, StoreError> {
    let mut kept = kept;
    for line in lines {
        if kept > MAX_LOG_LINES {
            break;
        }
        let (stream, text) = if kept == MAX_LOG_LINES {
            ("berth", format!("… output cut at {MAX_LOG_LINES} lines"))
        } else {
            (stream, log_line::clean(line.as_bytes()))
        };
        sqlx::query(
            "INSERT INTO job_run_logs (run_id, team_id, service_id, stream, line)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(run.id)
        .bind(run.team_id)
        .bind(run.service_id)
        .bind(stream)
        .bind(text)
        .execute(pool)
        .await?;
        kept += 1;
    }
    Ok(kept)
}

/// Lines a run has already (when its supervision resumes after a restart).
pub async fn log_lines(pool: &PgPool, run: Uuid) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM job_run_logs WHERE run_id = $1")
            .bind(run)
            .fetch_one(pool)
            .await?,
    )
}
