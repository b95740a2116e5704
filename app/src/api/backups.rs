//! Server functions behind the service page's Backups section: the same commands as the
//! REST API (`commands::backup`), so the same roles and rules.

#[cfg(feature = "ssr")]
use crate::domain::backup::BackupPlan;
use crate::domain::backup::{Backup, BackupPlanView};
use leptos::prelude::*;

/// A service's backup plan and its newest backups (at most 20).
#[server(name = ServiceBackups, prefix = "/api", endpoint = "service_backups")]
pub async fn service_backups(id: String) -> Result<(BackupPlanView, Vec<Backup>), ServerFnError> {
    use crate::api::services::guard;
    let (ctx, caller) = guard::reader(crate::domain::Permission::ReadServices)?;
    let id = guard::id(&id)?;
    let plan = crate::commands::backup::plan(ctx.deps(), &caller, id)
        .await
        .map_err(guard::fail)?;
    let list = crate::commands::backup::list(ctx.deps(), &caller, id, 20, None)
        .await
        .map_err(guard::fail)?;
    Ok((
        BackupPlanView::of(plan, ctx.time_zone, chrono::Utc::now()),
        list,
    ))
}

/// One form for the section's verbs: `run` (back up now; `stop_service` checked or not),
/// `restore` (a backup; `confirm` must be checked), `plan` (schedule, keep_last,
/// max_age_days, stop_service).
#[allow(clippy::too_many_arguments)]
#[server(name = BackupAction, prefix = "/api", endpoint = "backup_action")]
pub async fn backup_action(
    id: String,
    action: String,
    backup: Option<String>,
    confirm: Option<String>,
    stop_service: Option<String>,
    schedule: Option<String>,
    keep_last: Option<String>,
    max_age_days: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::api::services::guard;
    use crate::commands::{backup as command, CommandError};
    let (ctx, caller) = crate::api::context::caller()?;
    let deps = ctx.deps();
    let id = guard::id(&id)?;
    let checked = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty() && v != "false");
    let number = |field: &str, v: Option<String>| -> Result<Option<i32>, CommandError> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(n) => n
                .parse()
                .map(Some)
                .map_err(|_| CommandError::field(field, "A whole number.")),
        }
    };
    let done = match action.as_str() {
        "run" => command::run_now(deps, &caller, id, Some(checked(&stop_service)))
            .await
            .map(|_| ()),
        "restore" if !checked(&confirm) => Err(CommandError::field(
            "confirm",
            "Tick the box to confirm: the service stops and its volumes are replaced.",
        )),
        "restore" => {
            let backup = guard::id(backup.as_deref().unwrap_or_default())?;
            // The backup must be this service's.
            match command::get(deps, &caller, backup).await {
                Ok(b) if b.service_id == Some(id) => {
                    command::restore(deps, &caller, backup).await.map(|_| ())
                }
                Ok(_) => Err(CommandError::NotFound),
                Err(e) => Err(e),
            }
        }
        "plan" => {
            let plan = (|| {
                Ok::<_, CommandError>(BackupPlan {
                    schedule,
                    stop_service: checked(&stop_service),
                    keep_last: number("keep_last", keep_last)?,
                    max_age_days: number("max_age_days", max_age_days)?,
                })
            })();
            match plan {
                Ok(plan) => command::save_plan(deps, &caller, id, plan)
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            }
        }
        _ => Err(CommandError::field("action", "Unknown action.")),
    };
    done.map_err(guard::fail)
}

/// Backups of Berth's own database and their plan, for the instance owner; `None` for
/// anyone else (the team page shows the section to the instance owner only).
#[server(name = DatabaseBackups, prefix = "/api", endpoint = "database_backups")]
pub async fn database_backups() -> Result<Option<(BackupPlanView, Vec<Backup>)>, ServerFnError> {
    use crate::commands::CommandError as E;
    let (ctx, caller) = crate::api::context::caller()?;
    let deps = ctx.deps();
    let read = async {
        let plan = crate::commands::backup::database_plan(deps, &caller).await?;
        let list = crate::commands::backup::list_database(deps, &caller, 20, None).await?;
        Ok::<_, E>((
            BackupPlanView::of(plan, ctx.time_zone, chrono::Utc::now()),
            list,
        ))
    };
    match read.await {
        Ok(both) => Ok(Some(both)),
        Err(E::Forbidden | E::ForbiddenBecause(_)) => Ok(None),
        Err(e) => Err(crate::api::services::guard::fail(e)),
    }
}

/// Saves Berth's own database's plan (instance owner only): schedule, keep_last,
/// max_age_days (empty: none).
#[server(name = SaveDatabasePlan, prefix = "/api", endpoint = "save_database_plan")]
pub async fn save_database_plan(
    schedule: Option<String>,
    keep_last: Option<String>,
    max_age_days: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::commands::CommandError;
    let (ctx, caller) = crate::api::context::caller()?;
    let plan = (|| {
        Ok::<_, CommandError>(BackupPlan {
            schedule,
            stop_service: false,
            keep_last: whole_number("keep_last", keep_last)?,
            max_age_days: whole_number("max_age_days", max_age_days)?,
        })
    })();
    let done = match plan {
        Ok(plan) => crate::commands::backup::save_database_plan(ctx.deps(), &caller, plan)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    done.map_err(crate::api::services::guard::fail)
}

/// A form's optional whole number (empty: none).
#[cfg(feature = "ssr")]
fn whole_number(
    field: &str,
    v: Option<String>,
) -> Result<Option<i32>, crate::commands::CommandError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) => n
            .parse()
            .map(Some)
            .map_err(|_| crate::commands::CommandError::field(field, "A whole number.")),
    }
}

/// Backs Berth's own database up now (instance owner only).
#[server(name = RunDatabaseBackup, prefix = "/api", endpoint = "run_database_backup")]
pub async fn run_database_backup() -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    crate::commands::backup::run_database(ctx.deps(), &caller)
        .await
        .map(|_| ())
        .map_err(crate::api::services::guard::fail)
}
