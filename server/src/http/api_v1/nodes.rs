//! `/api/v1/nodes`: the Docker Swarm's nodes through Berth's engine. Admins and owners of
//! the caller's team read the list and the join command (its token for the instance owner
//! only); the instance owner drains, pauses, activates, labels and removes nodes and
//! rotates the join token (audited). When the engine is no swarm manager the list answers
//! `swarm: false` and everything else 409 saying why.

use super::boundary::JsonBody;
use super::member::Member;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::node as command;
use app::domain::node::{AvailabilityBody, LabelBody};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
    Json, Router,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/nodes", get(list))
        .route("/api/v1/nodes/join-command", get(join_command))
        .route("/api/v1/nodes/join-token/rotate", post(rotate))
        .route("/api/v1/nodes/{id}", delete(remove))
        .route("/api/v1/nodes/{id}/availability", put(availability))
        .route(
            "/api/v1/nodes/{id}/labels/{key}",
            put(set_label).delete(remove_label),
        )
}

async fn list(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    Ok(Json(command::list(&s.engine, &m.caller()).await?).into_response())
}

async fn join_command(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    let command = command::join_command(s.deps(), &s.engine, &m.caller()).await?;
    Ok(Json(command).into_response())
}

async fn rotate(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    let command = command::rotate_join_token(s.deps(), &s.engine, &m.caller()).await?;
    Ok(Json(command).into_response())
}

async fn availability(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    command::may_change(s.deps(), &caller).await?;
    let body: AvailabilityBody = b.parse()?;
    let node =
        command::set_availability(s.deps(), &s.engine, &caller, &id, body.availability).await?;
    Ok(Json(node).into_response())
}

async fn set_label(
    State(s): State<AppState>,
    m: Member,
    Path((id, key)): Path<(String, String)>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    command::may_change(s.deps(), &caller).await?;
    let body: LabelBody = b.parse()?;
    let node =
        command::set_label(s.deps(), &s.engine, &caller, &id, &key, Some(&body.value)).await?;
    Ok(Json(node).into_response())
}

async fn remove_label(
    State(s): State<AppState>,
    m: Member,
    Path((id, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let node = command::set_label(s.deps(), &s.engine, &m.caller(), &id, &key, None).await?;
    Ok(Json(node).into_response())
}

async fn remove(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    command::remove(s.deps(), &s.engine, &m.caller(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
