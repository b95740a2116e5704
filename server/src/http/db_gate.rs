//! While the database is unreachable, every request that would need it answers
//! `503 Service Unavailable` at once — never `401` (a program would throw away a valid
//! token, a person would be sent to sign in) and never after a wait on the pool.
//! `/healthz` (which says why) and the static files under `/pkg/` are still served.

use super::state::AppState;
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
    Json,
};

/// Seconds a client is told to wait before asking again.
const RETRY_AFTER: &str = "2";

/// Middleware, outside the session layer: 503 while the availability signal is down.
pub async fn refuse_while_down(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let exempt = path == "/healthz" || path.starts_with("/pkg/");
    if state.database.is_down() && !exempt {
        return unavailable(req.headers(), path);
    }
    next.run(req).await
}

/// The 503 answer: `{"error": "database_unavailable", "message": …}` (the REST API's error
/// shape) for the API, webhooks and JSON callers, a short page for browsers; with
/// `Retry-After`.
pub fn unavailable(headers: &HeaderMap, path: &str) -> Response {
    let wants_html = !path.starts_with("/api/")
        && !path.starts_with("/hooks/")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    let mut response = if wants_html {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>Berth: database unavailable</title></head><body>\
                 <h1>Database unavailable</h1><p>Berth cannot reach its database right now. \
                 It keeps trying; reload this page in a few seconds.</p></body></html>",
            ),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "error": "database_unavailable",
                "message": "database unavailable: Berth cannot reach its database right now; try again in a few seconds",
            })),
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
    response
}
