//! One signal for "the database is not answering", shared by the HTTP layer, the health
//! probe and the supervisor of the embedded Postgres.
//!
//! It turns *down* when the supervisor reports the embedded server gone, or when a check
//! started by a failing request ([`DatabaseHealth::suspect`]) is refused, or gets no
//! answer within 3 s twice in a row.
//! While down, a checker connects every 0.5 s (a fresh connection, not the pool, so a
//! busy pool is never mistaken for an outage) and turns the signal *up* on the first
//! success (at once when the supervisor has restarted the server). Requests look at the
//! flag and answer 503 at once instead of waiting on the pool.

use super::supervisor::{SupervisorState, SupervisorStatus};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};
use std::time::Duration;
use tokio::sync::watch;

/// As long as the pool's acquire timeout (`db::pool_options`): on a loaded machine a fresh
/// connection can take over a second (1 s turned a busy moment into a false outage, and
/// every request into a 503). A stopped server refuses at once, so an outage is still seen
/// at once.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);
const CHECK_EVERY: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct DatabaseHealth {
    inner: Arc<Inner>,
}

struct Inner {
    options: PgConnectOptions,
    down: watch::Sender<bool>,
    checking: AtomicBool,
    /// Wakes a sleeping checker (the supervisor restarted the server).
    recheck: tokio::sync::Notify,
    supervisor: Option<watch::Receiver<SupervisorStatus>>,
}

impl DatabaseHealth {
    /// For the pool's database; `supervisor` is the embedded server's, when there is one.
    pub fn new(pool: &PgPool, supervisor: Option<watch::Receiver<SupervisorStatus>>) -> Self {
        let health = DatabaseHealth {
            inner: Arc::new(Inner {
                options: (*pool.connect_options()).clone(),
                down: watch::Sender::new(false),
                checking: AtomicBool::new(false),
                recheck: tokio::sync::Notify::new(),
                supervisor: supervisor.clone(),
            }),
        };
        if let Some(mut status) = supervisor {
            let weak = Arc::downgrade(&health.inner);
            tokio::spawn(async move {
                while status.changed().await.is_ok() {
                    let state = status.borrow_and_update().state;
                    let Some(inner) = weak.upgrade() else { return };
                    match state {
                        SupervisorState::Restarting => DatabaseHealth { inner }.went_down(),
                        SupervisorState::Running => inner.recheck.notify_one(),
                        SupervisorState::Stopped => {}
                    }
                }
            });
        }
        health
    }

    /// Whether the database was last seen unreachable.
    pub fn is_down(&self) -> bool {
        *self.inner.down.borrow()
    }

    /// Resolves once the signal is down (at once if it is): a wait on the pool can stop
    /// waiting when the outage is known.
    pub async fn down(&self) {
        let mut rx = self.inner.down.subscribe();
        let _ = rx.wait_for(|down| *down).await;
    }

    /// The embedded server's supervisor status; `None` with an external database.
    pub fn supervisor(&self) -> Option<SupervisorStatus> {
        self.inner.supervisor.as_ref().map(|s| s.borrow().clone())
    }

    /// Something failed in a way that may mean the database is gone (a query error while
    /// resolving a caller, a failed health ping): check now, and until it answers again.
    pub fn suspect(&self) {
        self.check();
    }

    /// The database is known to be gone (its server exited): down at once, then checked.
    pub fn went_down(&self) {
        self.mark_down();
        self.check();
    }

    fn mark_down(&self) {
        if !self.inner.down.send_replace(true) {
            tracing::warn!("database unreachable: answering 503 until it is back");
        }
    }

    fn check(&self) {
        if self.inner.checking.swap(true, Ordering::AcqRel) {
            return; // a checker already runs
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut silent_once = false;
            loop {
                match this.answers().await {
                    Check::Answered => {
                        if this.inner.down.send_replace(false) {
                            tracing::info!("database reachable again");
                        }
                        this.inner.checking.store(false, Ordering::Release);
                        return;
                    }
                    // A loaded machine can take over 3 s for one fresh connection: a first
                    // silent check is tried again before every request is refused.
                    Check::Silent if !silent_once && !this.is_down() => silent_once = true,
                    Check::Silent | Check::Failed => this.mark_down(),
                }
                tokio::select! {
                    _ = tokio::time::sleep(CHECK_EVERY) => {}
                    _ = this.inner.recheck.notified() => {}
                }
            }
        });
    }

    async fn answers(&self) -> Check {
        let attempt = async {
            let mut conn = PgConnection::connect_with(&self.inner.options).await?;
            conn.ping().await?;
            conn.close().await
        };
        match tokio::time::timeout(CHECK_TIMEOUT, attempt).await {
            Ok(Ok(())) => Check::Answered,
            Ok(Err(_)) => Check::Failed,
            Err(_) => Check::Silent,
        }
    }
}

/// What one check of the database got.
enum Check {
    Answered,
    /// Refused or broken: a stopped server, at once.
    Failed,
    /// No answer within [`CHECK_TIMEOUT`]: a hung server, or a machine too busy to connect.
    Silent,
}
