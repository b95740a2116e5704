//! `/healthz`: whether Berth can serve, from the status probe.

use axum::{extract::State, http::StatusCode, Json};

/// 200 while Berth can serve (Postgres reachable), 503 otherwise. Docker being away makes
/// the status "degraded", not unhealthy: the dashboard still works.
pub async fn healthz(
    State(state): State<super::state::AppState>,
) -> (StatusCode, Json<serde_json::Value>) {
    let status = state.probe().check().await;
    let (code, word) = match (status.postgres.reachable, status.docker.reachable) {
        (true, true) => (StatusCode::OK, "ok"),
        (true, false) => (StatusCode::OK, "degraded"),
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    let body = serde_json::json!({
        "status": word,
        "version": env!("CARGO_PKG_VERSION"),
        "postgres": status.postgres,
        "docker": status.docker,
    });
    (code, Json(body))
}
