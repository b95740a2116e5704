//! `/api/v1/backup-destination`: the team's S3-compatible backup destination (one per
//! team; read by everyone, never its secret; set, replaced, removed and tested by admins).

use super::boundary::JsonBody;
use super::member::Member;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::backup_destination as command;
use app::domain::backup_destination::DestinationForm;
use app::domain::Permission;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/backup-destination",
            get(show).put(save).delete(remove),
        )
        .route("/api/v1/backup-destination/test", post(test))
}

async fn show(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    match command::show(s.deps(), &m.caller()).await? {
        Some(d) => Ok(Json(d).into_response()),
        None => Err(ApiError::NotFound),
    }
}

async fn save(State(s): State<AppState>, m: Member, b: JsonBody) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageBackups)?;
    let form: DestinationForm = b.parse()?;
    Ok(Json(command::save(s.deps(), &caller, form).await?).into_response())
}

async fn remove(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    command::delete(s.deps(), &m.caller()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn test(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    Ok(Json(command::test(s.deps(), &m.caller()).await?).into_response())
}
