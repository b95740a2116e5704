//! Scheduled jobs and their runs. People's side here (every query scoped by team, every
//! change audited in its own transaction); the scheduler's side in [`runs`].

pub mod runs;

use super::audit::{record, Actor, By, Target};
use super::StoreError;
use crate::domain::jobs::{
    ConcurrencyPolicy, JobInput, JobRunView, MissedRuns, RunLogLine, RunState, RunTrigger,
};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{types::Json, PgConnection, PgPool};
use uuid::Uuid;

/// A job as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: Uuid,
    pub team_id: Uuid,
    pub service_id: Uuid,
    pub name: String,
    pub schedule: String,
    pub command: Json<Vec<String>>,
    pub timeout_s: i32,
    #[sqlx(try_from = "String")]
    pub concurrency: ConcurrencyPolicy,
    #[sqlx(try_from = "String")]
    pub missed_runs: MissedRuns,
    pub enabled: bool,
    pub scheduled_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl JobRow {
    pub fn input(&self) -> JobInput {
        JobInput {
            name: self.name.clone(),
            schedule: self.schedule.clone(),
            command: self.command.0.clone(),
            timeout_s: self.timeout_s,
            concurrency: self.concurrency,
            missed_runs: self.missed_runs,
            enabled: self.enabled,
        }
    }
}

pub(super) const JOB_COLUMNS: &str = "id, team_id, service_id, name, schedule, command, timeout_s,
    concurrency, missed_runs, enabled, scheduled_until, created_at, updated_at";

/// A run as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: Uuid,
    pub team_id: Uuid,
    pub service_id: Uuid,
    pub job_id: Option<Uuid>,
    pub number: i64,
    #[sqlx(try_from = "String")]
    pub trigger: RunTrigger,
    pub command: Json<Vec<String>>,
    pub timeout_s: i32,
    #[sqlx(try_from = "String")]
    pub state: RunState,
    pub reason: Option<String>,
    pub exit_code: Option<i32>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub started_by: Option<String>,
}

pub(super) const RUN_COLUMNS: &str = "id, team_id, service_id, job_id, number, trigger, command,
    timeout_s, state, reason, exit_code, queued_at, started_at, finished_at, started_by";

impl From<RunRow> for JobRunView {
    fn from(r: RunRow) -> Self {
        JobRunView {
            id: r.id,
            number: r.number,
            service_id: r.service_id,
            job_id: r.job_id,
            trigger: r.trigger,
            command: r.command.0,
            timeout_s: r.timeout_s,
            state: r.state,
            reason: r.reason,
            exit_code: r.exit_code,
            queued_at: r.queued_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r
                .started_at
                .zip(r.finished_at)
                .map(|(s, f)| (f - s).num_milliseconds()),
            started_by: r.started_by,
        }
    }
}

/// A team's jobs of one service, by name; `NotFound` for a service of another team.
pub async fn list(pool: &PgPool, team: Uuid, service: Uuid) -> Result<Vec<JobRow>, StoreError> {
    service_of_team(pool, team, service).await?;
    Ok(sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE team_id = $1 AND service_id = $2 ORDER BY name"
    ))
    .bind(team)
    .bind(service)
    .fetch_all(pool)
    .await?)
}

/// One job of the team.
pub async fn get(pool: &PgPool, team: Uuid, id: Uuid) -> Result<JobRow, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE team_id = $1 AND id = $2"
    ))
    .bind(team)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)
}

async fn service_of_team(pool: &PgPool, team: Uuid, service: Uuid) -> Result<String, StoreError> {
    sqlx::query_scalar("SELECT name FROM services WHERE id = $1 AND team_id = $2")
        .bind(service)
        .bind(team)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Whether a name is already used by another job of the service.
#[derive(Debug, thiserror::Error)]
pub enum JobWriteError {
    #[error("a job of this service is already named so")]
    NameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for JobWriteError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => {
                JobWriteError::NameTaken
            }
            _ => JobWriteError::Store(e.into()),
        }
    }
}

/// Creates a job (validated input) and audits it.
pub async fn create(
    pool: &PgPool,
    actor: Actor,
    service: Uuid,
    job: &JobInput,
) -> Result<JobRow, JobWriteError> {
    service_of_team(pool, actor.team_id, service).await?;
    let mut tx = pool.begin().await?;
    let row: JobRow = sqlx::query_as(&format!(
        "INSERT INTO jobs (id, team_id, service_id, name, schedule, command, timeout_s,
                           concurrency, missed_runs, enabled, scheduled_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
         RETURNING {JOB_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(actor.team_id)
    .bind(service)
    .bind(&job.name)
    .bind(&job.schedule)
    .bind(Json(&job.command))
    .bind(job.timeout_s)
    .bind(job.concurrency.as_str())
    .bind(job.missed_runs.as_str())
    .bind(job.enabled)
    .fetch_one(&mut *tx)
    .await?;
    audit(&mut tx, &actor, "job.create", &row, json!({"job": job})).await?;
    tx.commit().await?;
    Ok(row)
}

/// Replaces a job's definition and audits it. A changed schedule counts from now.
pub async fn update(
    pool: &PgPool,
    actor: Actor,
    id: Uuid,
    job: &JobInput,
) -> Result<JobRow, JobWriteError> {
    let mut tx = pool.begin().await?;
    let row: JobRow = sqlx::query_as(&format!(
        "UPDATE jobs SET name = $3, schedule = $4, command = $5, timeout_s = $6,
                concurrency = $7, missed_runs = $8, enabled = $9, updated_at = now(),
                scheduled_until = CASE WHEN schedule = $4 AND enabled = $9
                                       THEN scheduled_until ELSE now() END
         WHERE id = $1 AND team_id = $2 RETURNING {JOB_COLUMNS}"
    ))
    .bind(id)
    .bind(actor.team_id)
    .bind(&job.name)
    .bind(&job.schedule)
    .bind(Json(&job.command))
    .bind(job.timeout_s)
    .bind(job.concurrency.as_str())
    .bind(job.missed_runs.as_str())
    .bind(job.enabled)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    audit(&mut tx, &actor, "job.update", &row, json!({"job": job})).await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes a job and its history; audited. A running run's container is stopped by the
/// scheduler when it finds its run gone.
pub async fn delete(pool: &PgPool, actor: Actor, id: Uuid) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let row: JobRow = sqlx::query_as(&format!(
        "DELETE FROM jobs WHERE id = $1 AND team_id = $2 RETURNING {JOB_COLUMNS}"
    ))
    .bind(id)
    .bind(actor.team_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    audit(&mut tx, &actor, "job.delete", &row, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

async fn audit(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    job: &JobRow,
    summary: serde_json::Value,
) -> Result<(), sqlx::Error> {
    record(
        conn,
        actor,
        action,
        Target::new("job", job.id, &job.name),
        summary,
    )
    .await
}

/// Queues a run of a job ("Run now") for the scheduler; audited as `job.run`.
pub async fn queue_job_run(pool: &PgPool, actor: Actor, id: Uuid) -> Result<RunRow, StoreError> {
    let job = get(pool, actor.team_id, id).await?;
    let mut tx = pool.begin().await?;
    let run = insert_queued(
        &mut tx,
        &actor,
        job.service_id,
        Some(job.id),
        RunTrigger::Person,
        &job.command.0,
        job.timeout_s,
    )
    .await?;
    audit(&mut tx, &actor, "job.run", &job, json!({"run": run.id})).await?;
    tx.commit().await?;
    Ok(run)
}

/// Queues a one-off command in a service's image; audited as `service.command` with its argv.
pub async fn queue_command(
    pool: &PgPool,
    actor: Actor,
    service: Uuid,
    command: &[String],
    timeout_s: i32,
) -> Result<RunRow, StoreError> {
    let name = service_of_team(pool, actor.team_id, service).await?;
    let mut tx = pool.begin().await?;
    let run = insert_queued(
        &mut tx,
        &actor,
        service,
        None,
        RunTrigger::Command,
        command,
        timeout_s,
    )
    .await?;
    record(
        &mut tx,
        &actor,
        "service.command",
        Target::new("service", service, &name),
        json!({"run": run.id, "command": command, "timeout_s": timeout_s}),
    )
    .await?;
    tx.commit().await?;
    Ok(run)
}

async fn insert_queued(
    conn: &mut PgConnection,
    actor: &Actor,
    service: Uuid,
    job: Option<Uuid>,
    trigger: RunTrigger,
    command: &[String],
    timeout_s: i32,
) -> Result<RunRow, sqlx::Error> {
    let (kind, who) = match actor.by {
        By::User(u) => ("user", Some(u)),
        By::Token { token, .. } => ("token", Some(token)),
        By::Webhook(_) | By::Worker => ("", None),
    };
    sqlx::query_as(&format!(
        "INSERT INTO job_runs (id, team_id, service_id, job_id, trigger, command, timeout_s,
                               state, started_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued',
                 CASE $8 WHEN 'user' THEN (SELECT name FROM users WHERE id = $9)
                         WHEN 'token' THEN (SELECT 'token ' || name FROM api_tokens WHERE id = $9)
                 END)
         RETURNING {RUN_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(actor.team_id)
    .bind(service)
    .bind(job)
    .bind(trigger.as_str())
    .bind(Json(command))
    .bind(timeout_s)
    .bind(kind)
    .bind(who)
    .fetch_one(conn)
    .await
}

/// Which runs to list.
#[derive(Debug, Clone, Copy)]
pub enum RunsOf {
    Job(Uuid),
    /// Every run of a service's jobs and its one-off commands.
    Service(Uuid),
}

/// Runs newest first, `limit` of them, numbered below `before`; `NotFound` for another
/// team's job or service.
pub async fn history(
    pool: &PgPool,
    team: Uuid,
    of: RunsOf,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<RunRow>, StoreError> {
    let (column, id) = match of {
        RunsOf::Job(id) => {
            get(pool, team, id).await?;
            ("job_id", id)
        }
        RunsOf::Service(id) => {
            service_of_team(pool, team, id).await?;
            ("service_id", id)
        }
    };
    Ok(sqlx::query_as(&format!(
        "SELECT {RUN_COLUMNS} FROM job_runs
         WHERE team_id = $1 AND {column} = $2 AND ($3::bigint IS NULL OR number < $3)
         ORDER BY number DESC LIMIT $4"
    ))
    .bind(team)
    .bind(id)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// One run of the team with its output.
pub async fn with_log(
    pool: &PgPool,
    team: Uuid,
    id: Uuid,
) -> Result<(RunRow, Vec<RunLogLine>), StoreError> {
    let run: RunRow = sqlx::query_as(&format!(
        "SELECT {RUN_COLUMNS} FROM job_runs WHERE team_id = $1 AND id = $2"
    ))
    .bind(team)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    let lines: Vec<(String, String)> =
        sqlx::query_as("SELECT stream, line FROM job_run_logs WHERE run_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(pool)
            .await?;
    let log = lines
        .into_iter()
        .map(|(stream, line)| RunLogLine { stream, line })
        .collect();
    Ok((run, log))
}

/// What a reader following a run's output gets at one look.
#[derive(Debug, Clone)]
pub struct OutputSince {
    pub service_id: Uuid,
    pub state: RunState,
    /// The lines after those the reader had.
    pub lines: Vec<RunLogLine>,
}

/// A run of the team's state and its output after the first `skip` lines (those a reader
/// has already), for following it. The state is read first: a run that is over has all
/// its lines in by then. `NotFound` for another team's run.
pub async fn output_after(
    pool: &PgPool,
    team: Uuid,
    id: Uuid,
    skip: i64,
) -> Result<OutputSince, StoreError> {
    let (service_id, state): (Uuid, String) =
        sqlx::query_as("SELECT service_id, state FROM job_runs WHERE team_id = $1 AND id = $2")
            .bind(team)
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)?;
    let state = RunState::parse(&state).ok_or(StoreError::NotFound)?;
    let lines: Vec<(String, String)> = sqlx::query_as(
        "SELECT stream, line FROM job_run_logs WHERE run_id = $1 ORDER BY id OFFSET $2",
    )
    .bind(id)
    .bind(skip.max(0))
    .fetch_all(pool)
    .await?;
    Ok(OutputSince {
        service_id,
        state,
        lines: lines
            .into_iter()
            .map(|(stream, line)| RunLogLine { stream, line })
            .collect(),
    })
}
