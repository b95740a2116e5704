//! What wakes the worker: the database's announcements (a person, a build or a webhook
//! changed what a service should run; the same trigger-fed `berth_live` channel the live
//! pages listen to), Docker events for Berth's containers (something happened to one), and
//! a periodic resync (events can be missed). A source that loses its connection reconnects
//! and asks for a full resync.

use crate::engine::Engine;
use app::domain::live::{Announcement, LIVE_CHANNEL};
use futures::StreamExt;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use uuid::Uuid;

const RECONNECT: Duration = Duration::from_secs(1);

/// Why the scheduler should look at services.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    Service(Uuid),
    /// Everything: after a missed event or on the resync timer.
    All,
}

/// Follows the database's announcements; a change to a service's row, routes or
/// deployments names that service.
pub async fn announcements(pool: PgPool, tx: UnboundedSender<Trigger>) {
    crate::db::listen::follow(
        pool,
        LIVE_CHANNEL,
        "worker",
        // Anything committed while we were not listening.
        || {
            let _ = tx.send(Trigger::All);
        },
        |payload| match Announcement::parse(payload) {
            Ok(a) if a.concerns_desired_state() => {
                let _ = tx.send(Trigger::Service(a.service));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "ignoring a malformed announcement"),
        },
    )
    .await
}

pub async fn docker_events(engine: Engine, tx: UnboundedSender<Trigger>) {
    loop {
        match engine.container_events().await {
            Ok(events) => {
                let _ = tx.send(Trigger::All);
                let mut events = std::pin::pin!(events);
                while let Some(event) = events.next().await {
                    match event {
                        Ok(Some(id)) => {
                            tracing::debug!(service = %id, "docker event");
                            let _ = tx.send(Trigger::Service(id));
                        }
                        Ok(None) => {
                            let _ = tx.send(Trigger::All);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "worker: Docker event stream broke");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "worker: Docker events unavailable"),
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// In Swarm mode: the manager's service and node events (a task moved because its node
/// went down shows first as a node event) make the worker look at every service.
pub async fn swarm_events(engine: Engine, tx: UnboundedSender<Trigger>) {
    loop {
        match engine.swarm_events().await {
            Ok(events) => {
                let mut events = std::pin::pin!(events);
                while let Some(event) = events.next().await {
                    if let Err(e) = event {
                        tracing::warn!(error = %e, "worker: Swarm event stream broke");
                        break;
                    }
                    let _ = tx.send(Trigger::All);
                }
            }
            Err(e) => tracing::debug!(error = %e, "worker: Swarm events unavailable"),
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

pub async fn resync_timer(every: Duration, tx: UnboundedSender<Trigger>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if tx.send(Trigger::All).is_err() {
            return;
        }
    }
}
