//! The JSON REST API under `/api/v1/`: the same rules as the dashboard (validation in the
//! domain, SQL in the store, one permission table), for programs.

mod error;
mod live;
mod member;
mod openapi;
mod services;
mod team;

pub use error::ApiError;

use super::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    services::router()
        .merge(live::router())
        .merge(team::router())
        .merge(openapi::router())
}

/// A JSON body, with serde's message (e.g. "unknown field `privileged`") as the error.
fn body<T: serde::de::DeserializeOwned>(bytes: &axum::body::Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("Invalid JSON body: {e}")))
}
