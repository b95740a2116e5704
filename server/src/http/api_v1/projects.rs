//! `/api/v1/projects` and `/api/v1/environments`: a team's projects, their environments
//! (created empty or cloned from another), and an environment's services. Viewers read;
//! admins change. A service goes into an environment through `POST /api/v1/services` with
//! `environment_id`.

use super::boundary::JsonBody;
use super::member::Member;
use super::page::Page;
use super::services::with_location;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::compose as compose_command;
use app::commands::project as command;
use app::commands::variables::{self, SharedVariables};
use app::domain::compose::ComposeFile;
use app::domain::project::{EnvironmentForm, ProjectForm};
use app::domain::Permission;
use axum::{
    extract::{rejection::QueryRejection, DefaultBodyLimit, Path, Query, State},
    http::header,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/projects", get(list).post(create))
        .route(
            "/api/v1/projects/{id}",
            get(show).put(replace).delete(remove),
        )
        .route(
            "/api/v1/projects/{id}/environments",
            axum::routing::post(create_environment),
        )
        .route(
            "/api/v1/environments/{id}",
            get(show_environment)
                .put(rename_environment)
                .delete(remove_environment),
        )
        .route(
            "/api/v1/environments/{id}/services",
            get(environment_services),
        )
        .route(
            "/api/v1/environments/{id}/variables",
            get(shared_variables).put(replace_shared_variables),
        )
        .route(
            "/api/v1/environments/{id}/redeploy-outdated",
            axum::routing::post(redeploy_outdated),
        )
        .route(
            "/api/v1/environments/{id}/redeploy",
            axum::routing::post(redeploy_environment),
        )
        .route(
            "/api/v1/environments/{id}/compose",
            get(export_compose)
                .post(import_compose)
                // Room for a file over the translator's 1 MiB, so that it answers (422).
                .layer(DefaultBodyLimit::max(4 * 1024 * 1024)),
        )
}

async fn shared_variables(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ReadServices, &id)?;
    let variables = variables::shared(s.deps(), &caller, id).await?;
    Ok(Json(SharedVariables { variables }).into_response())
}

async fn replace_shared_variables(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageServices, &id)?;
    let body: SharedVariables = b.parse()?;
    let variables = variables::set_shared(s.deps(), &caller, id, body.variables).await?;
    Ok(Json(SharedVariables { variables }).into_response())
}

async fn list(State(s): State<AppState>, m: Member, page: Page<100>) -> Result<Response, ApiError> {
    m.team_for(Permission::ReadServices)?;
    page.of_list(command::list(s.deps(), &m.caller()).await?)
}

async fn show(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ReadServices, &id)?;
    Ok(Json(command::show(s.deps(), &caller, id).await?).into_response())
}

async fn create(State(s): State<AppState>, m: Member, b: JsonBody) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageProjects)?;
    let form: ProjectForm = b.parse()?;
    let project = command::create(s.deps(), &caller, form).await?;
    let at = format!("/api/v1/projects/{}", project.id);
    Ok(with_location(
        (StatusCode::CREATED, Json(project)).into_response(),
        at,
    ))
}

async fn replace(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageProjects, &id)?;
    let form: ProjectForm = b.parse()?;
    Ok(Json(command::update(s.deps(), &caller, id, form).await?).into_response())
}

async fn remove(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageProjects, &id)?;
    command::delete(s.deps(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_environment(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, project) = m.caller_and_id(Permission::ManageProjects, &id)?;
    let form: EnvironmentForm = b.parse()?;
    let created = command::create_environment(s.deps(), &caller, project, form).await?;
    let at = format!("/api/v1/environments/{}", created.environment.id);
    Ok(with_location(
        (StatusCode::CREATED, Json(created)).into_response(),
        at,
    ))
}

async fn show_environment(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ReadServices, &id)?;
    Ok(Json(command::environment(s.deps(), &caller, id).await?).into_response())
}

async fn rename_environment(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageProjects, &id)?;
    let form: EnvironmentForm = b.parse()?;
    Ok(Json(command::rename_environment(s.deps(), &caller, id, form).await?).into_response())
}

async fn remove_environment(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageProjects, &id)?;
    command::delete_environment(s.deps(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn environment_services(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    page: Page<100>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ReadServices, &id)?;
    let mut list: Vec<_> = command::environment_services(s.deps(), &caller, id)
        .await?
        .into_iter()
        .map(|v| v.with_urls(s.settings.proxy))
        .collect();
    variables::mark_needs_redeploy(s.deps(), &mut list).await?;
    page.of_list(list)
}

async fn redeploy_outdated(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageServices, &id)?;
    let done = variables::redeploy_outdated(s.deps(), &caller, id).await?;
    Ok(Json(done).into_response())
}

async fn redeploy_environment(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageServices, &id)?;
    let done = app::commands::dependencies::redeploy_environment(s.deps(), &caller, id).await?;
    let answer = (axum::http::StatusCode::ACCEPTED, Json(done)).into_response();
    // A 202 names what to watch: the environment's services (their deployments).
    Ok(super::services::with_location(
        answer,
        format!("/api/v1/environments/{id}/services"),
    ))
}

/// `POST /environments/{id}/compose?dry_run=true|false` (false when absent).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    dry_run: Option<bool>,
}

async fn import_compose(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    q: Result<Query<ImportQuery>, QueryRejection>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageServices, &id)?;
    let Query(q) =
        q.map_err(|e| ApiError::BadRequest(format!("Invalid query: {}", e.body_text())))?;
    let file: ComposeFile = b.parse()?;
    let plan = if q.dry_run.unwrap_or(false) {
        compose_command::preview(s.deps(), &caller, id, &file.yaml).await?
    } else {
        compose_command::import(s.deps(), &caller, id, &file.yaml).await?
    };
    Ok(Json(plan).into_response())
}

async fn export_compose(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ReadServices, &id)?;
    let yaml = compose_command::export(s.deps(), &caller, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/yaml"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"docker-compose.yml\"",
            ),
        ],
        yaml,
    )
        .into_response())
}
