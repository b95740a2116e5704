//! Scheduled jobs and one-off commands: `/api/v1/services/{id}/jobs`, `/api/v1/jobs/{id}`
//! (read, replace, delete, `run`, `runs`), `/api/v1/services/{id}/commands` (a one-off
//! command), `/api/v1/services/{id}/job-runs` and `/api/v1/job-runs/{id}` (a run with its
//! output). Runs start in the leading worker; a queued run answers `202` with `Location`.

use super::answers::JobRunWithLog;
use super::boundary::JsonBody;
use super::member::{parse_id, Member};
use super::page::Page;
use super::services::with_location;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::jobs as command;
use app::domain::jobs::{CommandInput, JobInput, JobRunView};
use app::domain::Permission;
use app::store::jobs::{self as store, RunRow, RunsOf};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services/{id}/jobs", get(list).post(create))
        .route("/api/v1/jobs/{id}", get(show).put(replace).delete(remove))
        .route("/api/v1/jobs/{id}/run", post(run_now))
        .route("/api/v1/jobs/{id}/runs", get(job_runs))
        .route("/api/v1/services/{id}/job-runs", get(service_runs))
        .route("/api/v1/services/{id}/commands", post(run_command))
        .route("/api/v1/job-runs/{id}", get(run))
}

async fn list(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    page: Page<100>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let tz = s.settings.time_zone;
    let jobs = store::list(&s.pool, team, parse_id(&id)?).await?;
    page.of_list(jobs.iter().map(|j| command::view(j, tz)).collect())
}

async fn create(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, service) = m.caller_and_id(Permission::ManageServices, &id)?;
    let input: JobInput = b.parse()?;
    let job = command::create(s.deps(), &caller, service, &input).await?;
    let r = (
        StatusCode::CREATED,
        Json(command::view(&job, s.settings.time_zone)),
    )
        .into_response();
    Ok(with_location(r, format!("/api/v1/jobs/{}", job.id)))
}

async fn show(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let job = store::get(&s.pool, team, parse_id(&id)?).await?;
    Ok(Json(command::view(&job, s.settings.time_zone)).into_response())
}

async fn replace(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageServices, &id)?;
    let input: JobInput = b.parse()?;
    let job = command::update(s.deps(), &caller, id, &input).await?;
    Ok(Json(command::view(&job, s.settings.time_zone)).into_response())
}

async fn remove(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageServices, &id)?;
    command::delete(s.deps(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `202` with the queued run, `Location` at it.
fn queued(run: RunRow) -> Response {
    let at = format!("/api/v1/job-runs/{}", run.id);
    let r = (StatusCode::ACCEPTED, Json(JobRunView::from(run))).into_response();
    with_location(r, at)
}

async fn run_now(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageServices, &id)?;
    Ok(queued(command::run_now(s.deps(), &caller, id).await?))
}

async fn run_command(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, service) = m.caller_and_id(Permission::ManageServices, &id)?;
    let input: CommandInput = b.parse()?;
    Ok(queued(
        command::run_command(s.deps(), &caller, service, &input).await?,
    ))
}

async fn runs_of(
    s: &AppState,
    m: &Member,
    of: RunsOf,
    page: Page<50>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let before: Option<i64> = page.cursor_number()?;
    let list = store::history(&s.pool, team, of, page.limit as i64 + 1, before).await?;
    Ok(page.of_keyed(list, |r| r.number, JobRunView::from))
}

/// Newest first, 50 a page by default; the cursor is a run number.
async fn job_runs(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    page: Page<50>,
) -> Result<Response, ApiError> {
    runs_of(&s, &m, RunsOf::Job(parse_id(&id)?), page).await
}

async fn service_runs(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    page: Page<50>,
) -> Result<Response, ApiError> {
    runs_of(&s, &m, RunsOf::Service(parse_id(&id)?), page).await
}

/// A run with its output: what a container printed, so developers and above.
async fn run(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadContainerLogs)?;
    let (run, log) = store::with_log(&s.pool, team, parse_id(&id)?).await?;
    Ok(Json(JobRunWithLog {
        run: run.into(),
        log,
    })
    .into_response())
}
