//! Backups: a service's plan (`/services/{id}/backup-plan`), its backups
//! (`/services/{id}/backups`: list, run now), one backup and its restore
//! (`/backups/{id}`, `/backups/{id}/restore`), and Berth's own database's backups
//! (`/instance/backups`, and their plan `/instance/backup-plan`, the instance owner only).
//! Runs and restores answer `202`: the leader does the work; the backup's `state` /
//! `restore_state` say how it went. Plans answer with their time zone and next runs.

use super::boundary::JsonBody;
use super::member::{parse_id, Member};
use super::page::Page;
use super::services::with_location;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::backup as command;
use app::domain::backup::{BackupPlan, BackupPlanView};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/services/{id}/backup-plan",
            get(plan).put(save_plan),
        )
        .route("/api/v1/services/{id}/backups", get(list).post(run_now))
        .route("/api/v1/backups/{id}", get(one))
        .route("/api/v1/backups/{id}/restore", post(restore))
        .route(
            "/api/v1/instance/backups",
            get(list_database).post(run_database),
        )
        .route(
            "/api/v1/instance/backup-plan",
            get(database_plan).put(save_database_plan),
        )
}

/// A plan as answered: with the instance's time zone and the next five runs.
fn plan_view(s: &AppState, plan: BackupPlan) -> Response {
    Json(BackupPlanView::of(
        plan,
        s.settings.time_zone,
        chrono::Utc::now(),
    ))
    .into_response()
}

async fn database_plan(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    let plan = command::database_plan(s.deps(), &m.caller()).await?;
    Ok(plan_view(&s, plan))
}

async fn save_database_plan(
    State(s): State<AppState>,
    m: Member,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    // 403 before anything about the body.
    command::database_plan(s.deps(), &caller).await?;
    let plan: BackupPlan = b.parse()?;
    let plan = command::save_database_plan(s.deps(), &caller, plan).await?;
    Ok(plan_view(&s, plan))
}

async fn plan(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let plan = command::plan(s.deps(), &m.caller(), parse_id(&id)?).await?;
    Ok(plan_view(&s, plan))
}

async fn save_plan(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(app::domain::Permission::ManageBackups)?;
    let id = parse_id(&id)?;
    let plan: BackupPlan = b.parse()?;
    let plan = command::save_plan(s.deps(), &caller, id, plan).await?;
    Ok(plan_view(&s, plan))
}

/// `POST /services/{id}/backups`: every field optional.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = RunBackup)]
#[serde(deny_unknown_fields)]
pub(super) struct RunBody {
    /// Stop the service while its volumes are read (default: as its plan says).
    #[serde(default)]
    stop_service: Option<bool>,
}

async fn run_now(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(app::domain::Permission::RunBackups)?;
    let id = parse_id(&id)?;
    let body: RunBody = if b.is_empty() {
        RunBody::default()
    } else {
        b.parse()?
    };
    let backup = command::run_now(s.deps(), &caller, id, body.stop_service).await?;
    accepted(s, &m, backup).await
}

async fn accepted(s: AppState, m: &Member, id: Uuid) -> Result<Response, ApiError> {
    let backup = command::get(s.deps(), &m.caller(), id).await?;
    let r = (StatusCode::ACCEPTED, Json(backup)).into_response();
    Ok(with_location(r, format!("/api/v1/backups/{id}")))
}

/// Newest first, 50 a page by default; the cursor is a backup id.
async fn list(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    page: Page<50>,
) -> Result<Response, ApiError> {
    let before: Option<Uuid> = page.cursor_number()?;
    let limit = page.limit as i64 + 1;
    let list = command::list(s.deps(), &m.caller(), parse_id(&id)?, limit, before).await?;
    Ok(page.of_keyed(list, |b| b.id, |b| b))
}

async fn one(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let backup = command::get(s.deps(), &m.caller(), parse_id(&id)?).await?;
    Ok(Json(backup).into_response())
}

async fn restore(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(app::domain::Permission::ManageBackups)?;
    let id = parse_id(&id)?;
    let backup = command::restore(s.deps(), &caller, id).await?;
    let r = (StatusCode::ACCEPTED, Json(backup)).into_response();
    Ok(with_location(r, format!("/api/v1/backups/{id}")))
}

async fn list_database(
    State(s): State<AppState>,
    m: Member,
    page: Page<50>,
) -> Result<Response, ApiError> {
    let before: Option<Uuid> = page.cursor_number()?;
    let limit = page.limit as i64 + 1;
    let list = command::list_database(s.deps(), &m.caller(), limit, before).await?;
    Ok(page.of_keyed(list, |b| b.id, |b| b))
}

async fn run_database(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    let id = command::run_database(s.deps(), &m.caller()).await?;
    let list = command::list_database(s.deps(), &m.caller(), 50, None).await?;
    let backup = list
        .into_iter()
        .find(|b| b.id == id)
        .ok_or(ApiError::Internal)?;
    let r = (StatusCode::ACCEPTED, Json(backup)).into_response();
    Ok(with_location(r, "/api/v1/instance/backups".to_owned()))
}
