//! The status probe behind `/healthz` and the dashboard's status card: Postgres answers
//! within 3 s, and what the Docker engine says of itself. While (or as soon as) the
//! availability signal says the database is down, Postgres is reported unreachable at
//! once (the signal's own checker connects every 0.5 s), so a health checker never waits
//! on the pool.

use crate::db::DatabaseHealth;
use crate::engine::Engine;
use app::api::context::SystemProbe;
use app::domain::{PostgresStatus, SystemStatus};
use sqlx::PgPool;
use std::{future::Future, pin::Pin, time::Duration};

#[derive(Clone)]
pub struct BerthProbe {
    pub pool: PgPool,
    pub engine: Engine,
    pub database: DatabaseHealth,
}

impl BerthProbe {
    pub async fn check(&self) -> SystemStatus {
        let (postgres, docker) = tokio::join!(self.postgres(), self.engine.status());
        SystemStatus { postgres, docker }
    }

    async fn postgres(&self) -> PostgresStatus {
        if self.database.is_down() {
            return PostgresStatus {
                reachable: false,
                error: Some("database unavailable".into()),
            };
        }
        let ping = tokio::time::timeout(Duration::from_secs(3), app::store::ping(&self.pool));
        let error = tokio::select! {
            biased;
            pg = ping => match pg {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some("no answer within 3 s".into()),
            },
            // The outage became known while the ping waited on the pool.
            _ = self.database.down() => Some("database unavailable".into()),
        };
        if error.is_some() {
            self.database.suspect();
        }
        PostgresStatus {
            reachable: error.is_none(),
            error,
        }
    }
}

impl SystemProbe for BerthProbe {
    fn status(&self) -> Pin<Box<dyn Future<Output = SystemStatus> + Send + '_>> {
        Box::pin(self.check())
    }
}
