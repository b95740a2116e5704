//! `/api/v1/notifications/channels`: a team's notification channels (secrets never
//! answered), their rules (each channel's `events`), a test send and the delivery log.
//! Viewers read; admins change.

use super::boundary::JsonBody;
use super::member::Member;
use super::page::Page;
use super::services::with_location;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::notifications as command;
use app::domain::notification::ChannelForm;
use app::domain::Permission;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Serialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications/channels", get(list).post(create))
        .route(
            "/api/v1/notifications/channels/{id}",
            get(show).put(replace).delete(remove),
        )
        .route("/api/v1/notifications/channels/{id}/test", post(test))
        .route(
            "/api/v1/notifications/channels/{id}/deliveries",
            get(deliveries),
        )
}

/// `POST /notifications/channels/{id}/test`: `202`, the test message is queued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestQueued {
    /// The delivery's id: its row in the channel's delivery log.
    pub delivery: i64,
}

async fn list(State(s): State<AppState>, m: Member, page: Page<100>) -> Result<Response, ApiError> {
    page.of_list(command::list(s.deps(), &m.caller()).await?)
}

async fn show(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ReadNotifications, &id)?;
    Ok(Json(command::show(s.deps(), &caller, id).await?).into_response())
}

async fn create(State(s): State<AppState>, m: Member, b: JsonBody) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageNotifications)?;
    let form: ChannelForm = b.parse()?;
    let channel = command::create(s.deps(), &caller, form).await?;
    let at = format!("/api/v1/notifications/channels/{}", channel.id);
    Ok(with_location(
        (StatusCode::CREATED, Json(channel)).into_response(),
        at,
    ))
}

async fn replace(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageNotifications, &id)?;
    let form: ChannelForm = b.parse()?;
    Ok(Json(command::replace(s.deps(), &caller, id, form).await?).into_response())
}

async fn remove(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageNotifications, &id)?;
    command::delete(s.deps(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn test(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ManageNotifications, &id)?;
    let delivery = command::send_test(s.deps(), &caller, id).await?;
    Ok((StatusCode::ACCEPTED, Json(TestQueued { delivery })).into_response())
}

/// Newest first, 50 a page by default; the cursor is a delivery id.
async fn deliveries(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    page: Page<50>,
) -> Result<Response, ApiError> {
    let (caller, id) = m.caller_and_id(Permission::ReadNotifications, &id)?;
    let before: Option<i64> = page.cursor_number()?;
    let limit = page.limit as i64 + 1;
    let list = command::deliveries(s.deps(), &caller, id, limit, before).await?;
    Ok(page.of_keyed(list, |d| d.id, |d| d))
}
