//! `/api/v1/environments/{id}/repository`: the git repository an environment's compose
//! `build:` sections are built from. Developers set and remove it; it is read as part of
//! the environment (`GET /api/v1/environments/{id}`, credentials masked).

use super::boundary::JsonBody;
use super::member::Member;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::environment_repository as command;
use app::domain::environment_repository::EnvironmentRepository;
use app::domain::Permission;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::put,
    Json, Router,
};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/environments/{id}/repository",
        put(replace).delete(remove),
    )
}

async fn replace(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageServices, &id)?;
    let repo: EnvironmentRepository = b.parse()?;
    Ok(Json(command::set(s.deps(), &caller, id, repo).await?).into_response())
}

async fn remove(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageServices, &id)?;
    Ok(Json(command::remove(s.deps(), &caller, id).await?).into_response())
}
