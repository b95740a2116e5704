//! Only one worker acts at a time, even with two berth processes on one database: the one
//! holding a session-level Postgres advisory lock. The lock lives on its own connection;
//! if that connection dies, the lock is gone and this process stops acting at once.

use crate::db::backoff::Backoff;
use app::store::worker::{connection_alive, try_worker_lock};
use sqlx::{Connection, PgConnection, PgPool};
use std::{future::Future, time::Duration};

const RETRY: Duration = Duration::from_secs(2);
const KEEPALIVE: Duration = Duration::from_secs(5);

/// Runs `work()` whenever this process holds the lock; stops it when the lock is lost and
/// runs it again once the lock is back. Never returns.
pub async fn while_leader<F, Fut>(pool: PgPool, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut waiting_logged = false;
    // While Postgres is away: one warning, then retries with back-off (0.5 s → 10 s).
    let mut unreachable = Backoff::for_database();
    loop {
        let mut conn = match PgConnection::connect_with(&pool.connect_options()).await {
            Ok(c) => c,
            Err(e) => {
                if unreachable.failures() == 0 {
                    tracing::warn!(error = %e, "worker: cannot reach Postgres for the leader lock; retrying with back-off");
                } else {
                    tracing::debug!(error = %e, "worker: Postgres still unreachable");
                }
                tokio::time::sleep(unreachable.fail()).await;
                continue;
            }
        };
        if unreachable.failures() > 0 {
            tracing::info!(
                attempts = unreachable.failures(),
                "worker: Postgres reachable again"
            );
            unreachable.reset();
        }
        let held = try_worker_lock(&mut conn).await.unwrap_or(false);
        if !held {
            if !waiting_logged {
                tracing::info!("worker: another berth holds the worker lock; standing by");
                waiting_logged = true;
            }
            let _ = conn.close().await;
            tokio::time::sleep(RETRY).await;
            continue;
        }
        waiting_logged = false;
        tracing::info!("worker: holding the worker lock; reconciling");
        let keepalive = async {
            loop {
                tokio::time::sleep(KEEPALIVE).await;
                if !connection_alive(&mut conn).await {
                    return;
                }
            }
        };
        tokio::select! {
            _ = work() => {}
            _ = keepalive => tracing::warn!("worker: lost the worker lock's connection; stopping"),
        }
    }
}
