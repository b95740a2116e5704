//! `/healthz`: whether Berth can serve, from the status probe.

use axum::{extract::State, http::StatusCode, Json};

/// 200 while Berth can serve (Postgres reachable), 503 otherwise. Docker being away makes
/// the status "degraded", not unhealthy: the dashboard still works. With the embedded
/// database, `postgres.supervisor` tells what its supervisor is doing (`running`,
/// `restarting` since when, restarts, the last unexpected exit).
pub async fn healthz(
    State(state): State<super::state::AppState>,
) -> (StatusCode, Json<serde_json::Value>) {
    let status = state.probe().check().await;
    let (code, word) = match (status.postgres.reachable, status.docker.reachable) {
        (true, true) => (StatusCode::OK, "ok"),
        (true, false) => (StatusCode::OK, "degraded"),
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    let mut postgres = serde_json::json!(status.postgres);
    if let Some(supervisor) = state.database.supervisor() {
        postgres["supervisor"] = serde_json::json!(supervisor);
    }
    let body = serde_json::json!({
        "status": word,
        "version": env!("CARGO_PKG_VERSION"),
        "postgres": postgres,
        "docker": status.docker,
    });
    (code, Json(body))
}
