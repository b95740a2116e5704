//! The REST API's one error type and how each variant answers:
//! `{"error": code, "message": text, "fields": [{field, message}]?}` (the `Error` schema).

use app::commands::CommandError;
use app::domain::service::FieldError;
use app::store::StoreError;
use axum::{
    http::{header, HeaderValue, StatusCode},
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
    /// 412: the `If-Match` of a replace names a version that is no longer current.
    Stale,
    /// 415: a body that is not `application/json`.
    NotJson,
    /// Any other status with its message (what axum itself answers: 405, 413, …).
    Status(StatusCode, String),
    /// 503: the database could not be reached (the request may be tried again).
    Unavailable,
    Internal,
}

/// The body of every error answer under `/api/v1/`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A stable code: `unauthorized`, `forbidden`, `not_found`, `invalid`, `bad_request`,
    /// `conflict`, `precondition_failed`, `unsupported_media_type`, `payload_too_large`,
    /// `method_not_allowed`, `database_unavailable`, `internal`.
    pub error: String,
    /// A sentence for a person.
    pub message: String,
    /// With `invalid`: every field that was refused (`env[2].key`) and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
}

/// The error code of a status (`405` → `method_not_allowed`).
pub fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        412 => "precondition_failed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid",
        s if s >= 500 => "internal",
        _ => "error",
    }
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
            ApiError::Stale => (
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "The service changed since you read it (If-Match is stale): read it again."
                    .to_owned(),
                None,
            ),
            ApiError::NotJson => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.".to_owned(),
                None,
            ),
            ApiError::Status(status, m) => (status, code_of(status), m, None),
            ApiError::Unavailable => {
                return crate::http::db_gate::unavailable(&Default::default(), "/api/v1/")
            }
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on the server; it was logged.".to_owned(),
                None,
            ),
        };
        let body = ErrorBody {
            error: code.to_owned(),
            message,
            fields,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"berth\""),
            );
        }
        response
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
            CommandError::Stale => ApiError::Stale,
            CommandError::Internal(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "API: the database is unavailable");
                ApiError::Unavailable
            }
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
