//! The REST API's one error type and how each variant answers:
//! `{"error": code, "message": text, "fields": [{field, message}]?}`.

use app::commands::CommandError;
use app::domain::service::FieldError;
use app::store::StoreError;
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    Forbidden,
    /// Forbidden, saying which rule refused it.
    ForbiddenBecause(String),
    /// A 422 with one message (a field-less rule).
    BadInput(String),
    /// Also what another team's id gets: it does not exist for the caller.
    NotFound,
    Invalid(Vec<FieldError>),
    BadRequest(String),
    Conflict(String),
    Internal,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, fields) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in first.".to_owned(),
                None,
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Your role does not allow this.".to_owned(),
                None,
            ),
            ApiError::ForbiddenBecause(m) => (StatusCode::FORBIDDEN, "forbidden", m, None),
            ApiError::BadInput(m) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m, None),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "No such resource.".to_owned(),
                None,
            ),
            ApiError::Invalid(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join(" "),
                Some(fields),
            ),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m, None),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m, None),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on the server; it was logged.".to_owned(),
                None,
            ),
        };
        let mut body = serde_json::json!({ "error": code, "message": message });
        if let Some(fields) = fields {
            body["fields"] = serde_json::to_value(fields).unwrap_or_default();
        }
        (status, Json(body)).into_response()
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::NotFound => ApiError::NotFound,
            CommandError::Forbidden => ApiError::Forbidden,
            CommandError::ForbiddenBecause(why) => ApiError::ForbiddenBecause(why),
            CommandError::Unprocessable(why) => ApiError::BadInput(why),
            CommandError::Invalid(_) | CommandError::Taken(_) => {
                ApiError::Invalid(e.field_errors())
            }
            CommandError::Conflict(why) => ApiError::Conflict(why),
            CommandError::Internal(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            e => {
                tracing::error!(error = %e, "API store error");
                ApiError::Internal
            }
        }
    }
}

impl From<app::store::team::TeamError> for ApiError {
    fn from(e: app::store::team::TeamError) -> Self {
        CommandError::from(e).into()
    }
}
