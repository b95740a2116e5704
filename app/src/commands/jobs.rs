//! Scheduled jobs and one-off commands: define, change, delete, run now, run a command.
//! Developers and above (`ManageServices`); every change and every run a person starts is
//! audited by the store in the same transaction.

use crate::commands::{Caller, CommandError, Deps};
use crate::domain::jobs::{
    schedule, validate_command, validate_job, CommandInput, JobInput, JobView,
};
use crate::domain::Permission;
use crate::store::jobs::{self as store, JobRow, JobWriteError, RunRow};
use chrono::Utc;
use chrono_tz::Tz;
use uuid::Uuid;

/// Defines a job on a service of the caller's team.
pub async fn create(
    deps: Deps<'_>,
    caller: &Caller,
    service: Uuid,
    job: &JobInput,
) -> Result<JobRow, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    check(job)?;
    store::create(deps.pool, actor, service, job)
        .await
        .map_err(write_error)
}

/// Replaces a job's definition.
pub async fn update(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    job: &JobInput,
) -> Result<JobRow, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    check(job)?;
    store::update(deps.pool, actor, id, job)
        .await
        .map_err(write_error)
}

/// Deletes a job and its history.
pub async fn delete(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<(), CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    Ok(store::delete(deps.pool, actor, id).await?)
}

/// Queues a run of a job now (its concurrency policy does not apply to a person's run).
pub async fn run_now(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<RunRow, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    Ok(store::queue_job_run(deps.pool, actor, id).await?)
}

/// Queues a one-off command in the service's live image, with its env, network and limits.
pub async fn run_command(
    deps: Deps<'_>,
    caller: &Caller,
    service: Uuid,
    input: &CommandInput,
) -> Result<RunRow, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let errors = validate_command(&input.command, input.timeout_s);
    if !errors.is_empty() {
        return Err(CommandError::Invalid(errors));
    }
    Ok(store::queue_command(deps.pool, actor, service, &input.command, input.timeout_s).await?)
}

fn check(job: &JobInput) -> Result<(), CommandError> {
    let errors = validate_job(job);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Invalid(errors))
    }
}

fn write_error(e: JobWriteError) -> CommandError {
    match e {
        JobWriteError::NameTaken => {
            CommandError::field("name", "Name: another job of this service has it.")
        }
        JobWriteError::Store(e) => e.into(),
    }
}

/// A job as shown, with its next five runs in `tz` (none while disabled).
pub fn view(row: &JobRow, tz: Tz) -> JobView {
    JobView {
        id: row.id,
        service_id: row.service_id,
        name: row.name.clone(),
        schedule: row.schedule.clone(),
        command: row.command.0.clone(),
        timeout_s: row.timeout_s,
        concurrency: row.concurrency,
        missed_runs: row.missed_runs,
        enabled: row.enabled,
        time_zone: tz.name().to_owned(),
        next_runs: if row.enabled {
            schedule::preview(&row.schedule, tz, Utc::now())
        } else {
            Vec::new()
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
