//! `/healthz` and the status probe behind it and the dashboard.

use crate::engine::Engine;
use app::api::context::SystemProbe;
use app::domain::{PostgresStatus, SystemStatus};
use axum::{extract::State, http::StatusCode, Json};
use sqlx::PgPool;
use std::{future::Future, pin::Pin, time::Duration};

#[derive(Clone)]
pub struct BerthProbe {
    pub pool: PgPool,
    pub engine: Engine,
}

impl BerthProbe {
    pub async fn check(&self) -> SystemStatus {
        let pg = tokio::time::timeout(Duration::from_secs(3), app::store::ping(&self.pool));
        let (pg, docker) = tokio::join!(pg, self.engine.status());
        let postgres = match pg {
            Ok(Ok(_)) => PostgresStatus {
                reachable: true,
                error: None,
            },
            Ok(Err(e)) => PostgresStatus {
                reachable: false,
                error: Some(e.to_string()),
            },
            Err(_) => PostgresStatus {
                reachable: false,
                error: Some("no answer within 3 s".into()),
            },
        };
        SystemStatus { postgres, docker }
    }
}

impl SystemProbe for BerthProbe {
    fn status(&self) -> Pin<Box<dyn Future<Output = SystemStatus> + Send + '_>> {
        Box::pin(self.check())
    }
}

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
