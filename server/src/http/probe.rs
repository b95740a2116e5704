//! The status probe behind `/healthz` and the dashboard's status card: Postgres answers
//! within 3 s, and what the Docker engine says of itself.

use crate::engine::Engine;
use app::api::context::SystemProbe;
use app::domain::{PostgresStatus, SystemStatus};
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
