//! `/api/v1/instance/settings`: the installation's own settings, for the instance owner
//! (the account that set Berth up) only; anyone else hears 403.

use super::boundary::JsonBody;
use super::member::Member;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::instance as command;
use app::domain::instance::InstanceSettings;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/instance/settings", get(show).put(replace))
}

async fn show(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    Ok(Json(command::show(s.deps(), &m.caller()).await?).into_response())
}

async fn replace(State(s): State<AppState>, m: Member, b: JsonBody) -> Result<Response, ApiError> {
    let caller = m.caller();
    // 403 before anything about the body.
    command::show(s.deps(), &caller).await?;
    let new: InstanceSettings = b.parse()?;
    Ok(Json(command::update(s.deps(), &caller, new).await?).into_response())
}
