//! The JSON REST API under `/api/v1/`: the same rules as the dashboard (validation in the
//! domain, SQL in the store, one permission table), for programs.

mod error;
mod live;
mod member;
mod openapi;
mod services;
mod team;

pub use error::ApiError;

use super::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    services::router()
        .merge(live::router())
        .merge(team::router())
        .merge(openapi::router())
}
