//! One `LISTEN berth_live` per berth process, whatever the number of open pages. Database
//! triggers announce every change a page shows (whoever wrote it: this process, another
//! berth, the worker); the hub hands each announcement to the streams of its team.

use app::domain::live::{Announcement, LiveChange, LIVE_CHANNEL};
use sqlx::PgPool;
use tokio::sync::broadcast;
use uuid::Uuid;

/// Announcements a slow stream may fall behind by before it is told to re-read everything.
const BACKLOG: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubMessage {
    Change {
        team: Uuid,
        change: LiveChange,
    },
    /// Announcements may have been lost (the listener reconnected): re-read everything.
    Resync,
}

#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<HubMessage>,
}

impl LiveHub {
    /// Starts listening; the task lives as long as the process.
    pub fn start(pool: PgPool) -> Self {
        let (tx, _) = broadcast::channel(BACKLOG);
        tokio::spawn(listen(pool, tx.clone()));
        LiveHub { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HubMessage> {
        self.tx.subscribe()
    }
}

async fn listen(pool: PgPool, tx: broadcast::Sender<HubMessage>) {
    crate::db::listen::follow(
        pool,
        LIVE_CHANNEL,
        "live updates",
        // Whatever changed while nobody listened.
        || {
            let _ = tx.send(HubMessage::Resync);
        },
        |payload| match Announcement::parse(payload) {
            Ok(p) => {
                let change = LiveChange {
                    service: p.service,
                    topic: p.topic,
                };
                let _ = tx.send(HubMessage::Change {
                    team: p.team,
                    change,
                });
            }
            Err(e) => tracing::warn!(error = %e, "ignoring a malformed live notification"),
        },
    )
    .await
}
