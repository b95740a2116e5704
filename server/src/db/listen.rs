//! Following a Postgres `NOTIFY` channel for as long as the process lives, through
//! outages: the worker's wake-ups, the live hub and the builder's queue all use this.

use super::backoff::Backoff;
use sqlx::{postgres::PgListener, PgPool};

/// Listens on `channel` forever. `connected()` runs each time the listener is (re)connected:
/// notifications sent while nobody listened are lost, so the caller re-reads what it
/// follows then. `notified(payload)` runs for each notification. A lost connection is
/// retried with back-off (0.5 s → 10 s); each outage is logged once as a warning (`who`
/// names the follower) and its end once.
pub async fn follow(
    pool: PgPool,
    channel: &'static str,
    who: &'static str,
    mut connected: impl FnMut(),
    mut notified: impl FnMut(&str),
) {
    // A connection of its own, outside `pool`: a listener holds its connection for as long
    // as it listens, and three followers held three of the pool's. With sqlx's test pools
    // (5 connections) that left two for the worker and the requests, and a request under
    // load waited out the 30 s acquire timeout and answered 503.
    let own = super::pool_options()
        .max_connections(1)
        .connect_lazy_with((*pool.connect_options()).clone());
    let mut backoff = Backoff::for_database();
    loop {
        let mut listening = false;
        let session = async {
            let mut listener = PgListener::connect_with(&own).await?;
            listener.listen(channel).await?;
            listening = true;
            if backoff.failures() > 0 {
                tracing::info!(who, "Postgres listener connected again");
            }
            connected();
            // `try_recv` answers `None` when the connection dropped; `recv` would reconnect
            // silently and hide that notifications were missed.
            while let Some(n) = listener.try_recv().await? {
                notified(n.payload());
            }
            Ok::<(), sqlx::Error>(())
        };
        let outcome = session.await;
        if listening {
            backoff.reset();
            let error = outcome.err().map(|e| e.to_string());
            tracing::warn!(
                who,
                ?error,
                "Postgres listener lost; reconnecting with back-off"
            );
        } else if backoff.failures() == 0 {
            let error = outcome.err().map(|e| e.to_string());
            tracing::warn!(
                who,
                ?error,
                "cannot listen to Postgres; retrying with back-off"
            );
        } else if let Err(e) = outcome {
            tracing::debug!(who, error = %e, "Postgres listener still unavailable");
        }
        tokio::time::sleep(backoff.fail()).await;
    }
}
