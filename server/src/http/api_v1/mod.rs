//! The JSON REST API under `/api/v1/`: the same rules as the dashboard (validation in the
//! domain, SQL in the store, one permission table), for programs. What every request and
//! answer passes through (JSON bodies and errors, the control-character rule) is in
//! `boundary`; lists page the same way (`page`); `openapi` describes it all.

mod answers;
mod backup_destination;
mod backups;
mod boundary;
mod deployments;
mod environment_repository;
mod error;
mod instance;
mod jobs;
mod live;
mod member;
mod nodes;
mod notifications;
mod openapi;
mod page;
mod projects;
mod service_map;
mod services;
mod team;

pub use error::ApiError;

use super::state::AppState;
use axum::{middleware::from_fn, routing::any, Router};

pub fn router() -> Router<AppState> {
    services::router()
        .merge(backups::router())
        .merge(backup_destination::router())
        .merge(deployments::router())
        .merge(jobs::router())
        .merge(live::router())
        .merge(team::router())
        .merge(instance::router())
        .merge(nodes::router())
        .merge(notifications::router())
        .merge(projects::router())
        .merge(environment_repository::router())
        .merge(service_map::router())
        .merge(openapi::router())
        .route("/api/v1/{*rest}", any(boundary::no_such_endpoint))
        .layer(from_fn(boundary::refuse_control_characters))
        .layer(from_fn(boundary::json_errors))
}
