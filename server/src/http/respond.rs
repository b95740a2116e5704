//! How the sign-in forms answer. A browser form gets a 303 redirect (to the next page, or
//! back to the form with `?error=<code>`); a program that sends `Accept: application/json`
//! gets the status code and `{"error": code, "message": text}`.

use app::domain::FormError;
use axum::{
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Json,
};
use serde::de::DeserializeOwned;

pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Parses a form body (urlencoded, or JSON when so labelled); unknown fields are an error.
pub fn parse_form<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, FormError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let result = if is_json {
        serde_json::from_slice::<T>(body).map_err(|e| e.to_string())
    } else {
        serde_urlencoded::from_bytes::<T>(body).map_err(|e| e.to_string())
    };
    result.map_err(|msg| {
        if msg.contains("unknown field") {
            FormError::UnknownField
        } else {
            FormError::MalformedForm
        }
    })
}

/// Back to `page` with the error code and the given fields echoed (never a password).
pub fn failure(
    headers: &HeaderMap,
    error: FormError,
    page: &str,
    echo: &[(&str, &str)],
) -> Response {
    if wants_json(headers) {
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        return (
            status,
            Json(serde_json::json!({ "error": error.code(), "message": error.message() })),
        )
            .into_response();
    }
    let mut query = vec![("error", error.code())];
    query.extend(
        echo.iter()
            .filter(|(_, v)| !v.is_empty() && v.len() <= 256)
            .copied(),
    );
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    Redirect::to(&format!("{page}?{query}")).into_response()
}

/// On to `next`; JSON callers get `{"ok": true, "redirect": next}`.
pub fn success(headers: &HeaderMap, next: &str) -> Response {
    if wants_json(headers) {
        return Json(serde_json::json!({ "ok": true, "redirect": next })).into_response();
    }
    Redirect::to(next).into_response()
}
