//! Backups: a service's plan (admins), backing its volumes up now (developers), listing
//! (everyone), restoring one into its service (admins); Berth's own database backed up and
//! listed by the instance owner only (a dump holds every team's data). Each writes its
//! audit entry; the leader does the work (it reads what is queued).

use crate::commands::{Caller, CommandError, Deps};
use crate::domain::backup::{Backup, BackupPlan};
use crate::domain::Permission;
use crate::store::{audit, backups, settings};
use serde_json::json;
use uuid::Uuid;

/// A service's backup plan (the default one when none was saved).
pub async fn plan(
    deps: Deps<'_>,
    caller: &Caller,
    service: Uuid,
) -> Result<BackupPlan, CommandError> {
    let actor = caller.may(Permission::ReadServices)?;
    Ok(backups::plan(deps.pool, actor.team_id, service).await?)
}

/// Replaces a service's backup plan after checking every field.
pub async fn save_plan(
    deps: Deps<'_>,
    caller: &Caller,
    service: Uuid,
    plan: BackupPlan,
) -> Result<BackupPlan, CommandError> {
    let actor = caller.may(Permission::ManageBackups)?;
    backups::service_of_team(deps.pool, actor.team_id, service).await?;
    let plan = plan.validate().map_err(CommandError::Invalid)?;
    let mut tx = deps.pool.begin().await?;
    backups::save_plan(&mut tx, actor.team_id, service, &plan).await?;
    audit::record(
        &mut tx,
        &actor,
        "backup.plan",
        audit::Target {
            kind: "service",
            id: Some(service),
            label: "backup plan",
        },
        json!({"schedule": plan.schedule, "stop_service": plan.stop_service,
               "keep_last": plan.keep_last, "max_age_days": plan.max_age_days}),
    )
    .await?;
    tx.commit().await?;
    Ok(plan)
}

/// Queues a backup of a service's volumes now (stopping it or not, as its plan says unless
/// `stop_service` says otherwise); the backup's id.
pub async fn run_now(
    deps: Deps<'_>,
    caller: &Caller,
    service: Uuid,
    stop_service: Option<bool>,
) -> Result<Uuid, CommandError> {
    let actor = caller.may(Permission::RunBackups)?;
    let plan = backups::plan(deps.pool, actor.team_id, service).await?;
    let stop = stop_service.unwrap_or(plan.stop_service);
    let mut tx = deps.pool.begin().await?;
    let id = backups::queue(&mut *tx, Some(actor.team_id), Some(service), "manual", stop).await?;
    audit::record(
        &mut tx,
        &actor,
        "backup.run",
        audit::Target {
            kind: "service",
            id: Some(service),
            label: "volumes backup",
        },
        json!({"backup": id, "stop_service": stop}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A page of a service's backups, newest first (`before`: the last id of the page before).
pub async fn list(
    deps: Deps<'_>,
    caller: &Caller,
    service: Uuid,
    limit: i64,
    before: Option<Uuid>,
) -> Result<Vec<Backup>, CommandError> {
    let actor = caller.may(Permission::ReadServices)?;
    Ok(backups::list(deps.pool, actor.team_id, Some(service), limit, before).await?)
}

/// One backup of the caller's team.
pub async fn get(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<Backup, CommandError> {
    let actor = caller.may(Permission::ReadServices)?;
    Ok(backups::get(deps.pool, Some(actor.team_id), id).await?)
}

/// Queues the restore of a finished backup into its service: the leader checks the
/// archive's checksum, stops the service, empties and refills its volumes, starts it again.
pub async fn restore(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<Backup, CommandError> {
    let actor = caller.may(Permission::ManageBackups)?;
    let backup = backups::get(deps.pool, Some(actor.team_id), id).await?;
    if backup.state != "succeeded" {
        return Err(CommandError::Conflict(format!(
            "Only a finished backup can be restored (this one is {}).",
            backup.state
        )));
    }
    let mut tx = deps.pool.begin().await?;
    if !backups::queue_restore(&mut *tx, actor.team_id, id, actor.user_id()).await? {
        return Err(CommandError::Conflict(
            "A restore of this backup is already under way.".into(),
        ));
    }
    audit::record(
        &mut tx,
        &actor,
        "backup.restore",
        audit::Target {
            kind: "service",
            id: backup.service_id,
            label: "volumes restore",
        },
        json!({"backup": id, "sha256": backup.sha256}),
    )
    .await?;
    tx.commit().await?;
    Ok(backups::get(deps.pool, Some(actor.team_id), id).await?)
}

async fn must_be_instance_owner(deps: Deps<'_>, caller: &Caller) -> Result<(), CommandError> {
    let owner = settings::instance_owner(deps.pool).await?;
    match (owner, caller.actor.user_id()) {
        (Some(owner), Some(user)) if owner == user => Ok(()),
        _ => Err(CommandError::ForbiddenBecause(
            "Only the instance owner can back up Berth's own database.".into(),
        )),
    }
}

/// Berth's own database's plan (instance owner only).
pub async fn database_plan(deps: Deps<'_>, caller: &Caller) -> Result<BackupPlan, CommandError> {
    must_be_instance_owner(deps, caller).await?;
    Ok(backups::database_plan(deps.pool).await?.0)
}

/// Replaces Berth's own database's plan (instance owner only): a schedule (the same cron
/// rules as a service's plan, in the instance's time zone) and retention. The caller's
/// current team becomes the plan's: its S3 destination receives the scheduled dumps and
/// its notification channels hear when one fails. Audited `backup.database_plan`.
pub async fn save_database_plan(
    deps: Deps<'_>,
    caller: &Caller,
    plan: BackupPlan,
) -> Result<BackupPlan, CommandError> {
    must_be_instance_owner(deps, caller).await?;
    let mut plan = plan.validate().map_err(CommandError::Invalid)?;
    plan.stop_service = false;
    let mut tx = deps.pool.begin().await?;
    backups::save_database_plan(&mut tx, caller.actor.team_id, &plan).await?;
    audit::record(
        &mut tx,
        &caller.actor,
        "backup.database_plan",
        audit::Target {
            kind: "instance",
            id: None,
            label: "database backup plan",
        },
        json!({"schedule": plan.schedule, "keep_last": plan.keep_last,
               "max_age_days": plan.max_age_days}),
    )
    .await?;
    tx.commit().await?;
    Ok(plan)
}

/// Queues a backup of Berth's own database (instance owner only); its id. The caller's
/// current team's destination receives it, and that team hears if it fails.
pub async fn run_database(deps: Deps<'_>, caller: &Caller) -> Result<Uuid, CommandError> {
    must_be_instance_owner(deps, caller).await?;
    let mut tx = deps.pool.begin().await?;
    let id = backups::queue_database(&mut *tx, Some(caller.actor.team_id), "manual").await?;
    audit::record(
        &mut tx,
        &caller.actor,
        "backup.database",
        audit::Target {
            kind: "instance",
            id: None,
            label: "database backup",
        },
        json!({"backup": id}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A page of Berth's database backups (instance owner only), newest first.
pub async fn list_database(
    deps: Deps<'_>,
    caller: &Caller,
    limit: i64,
    before: Option<Uuid>,
) -> Result<Vec<Backup>, CommandError> {
    must_be_instance_owner(deps, caller).await?;
    Ok(backups::list(deps.pool, caller.actor.team_id, None, limit, before).await?)
}
