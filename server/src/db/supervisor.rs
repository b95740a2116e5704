//! Berth supervises the embedded Postgres it started: when the server exits without being
//! asked to (killed, crashed, out of memory), the supervisor logs it, starts it again on the
//! same data directory and socket with back-off (0.5 s → 10 s), and logs the restart. Its
//! status is shared (a `watch`) with `/healthz` and the database-availability signal. At
//! shutdown it stops the server cleanly and restarts nothing.

use super::{backoff::Backoff, embedded::EmbeddedPostgres};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{oneshot, watch};

/// What the supervisor is doing.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SupervisorState {
    /// The server runs (started by berth, or restarted after an exit).
    Running,
    /// The server exited unexpectedly; starting it again.
    Restarting,
    /// Stopped at berth's shutdown.
    Stopped,
}

/// The supervisor's status, as `/healthz` shows it under `postgres.supervisor`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SupervisorStatus {
    pub state: SupervisorState,
    /// When the current state began (UTC).
    pub since: DateTime<Utc>,
    /// Restarts since berth started.
    pub restarts: u32,
    /// How the server last exited unexpectedly (`signal: 9 (SIGKILL)`), if it ever did.
    pub last_exit: Option<String>,
    /// While restarting: why the last attempt failed.
    pub last_error: Option<String>,
}

/// The task that owns the embedded Postgres.
pub struct Supervisor {
    status: watch::Receiver<SupervisorStatus>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Supervisor {
    /// Takes over a started server and watches it.
    pub fn start(pg: EmbeddedPostgres) -> Self {
        let (tx, status) = watch::channel(SupervisorStatus {
            state: SupervisorState::Running,
            since: Utc::now(),
            restarts: 0,
            last_exit: None,
            last_error: None,
        });
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(supervise(pg, tx, stop_rx));
        Supervisor { status, stop, task }
    }

    /// Follows the status (the current value at once, then every change).
    pub fn status(&self) -> watch::Receiver<SupervisorStatus> {
        self.status.clone()
    }

    /// Stops the server cleanly (no restart after this) and waits until it has stopped.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn supervise(
    mut pg: EmbeddedPostgres,
    tx: watch::Sender<SupervisorStatus>,
    mut stop: oneshot::Receiver<()>,
) {
    'watching: loop {
        let exit = tokio::select! {
            _ = &mut stop => break 'watching,
            exit = pg.exited() => exit,
        };
        let how = match exit {
            Ok(status) => status.to_string(),
            Err(e) => format!("could not wait for it: {e}"),
        };
        let since = Utc::now();
        tracing::error!(exit = %how, "embedded Postgres exited unexpectedly; restarting it");
        tx.send_modify(|s| {
            s.state = SupervisorState::Restarting;
            s.since = since;
            s.last_exit = Some(how);
            s.last_error = None;
        });
        let mut backoff = Backoff::for_database();
        loop {
            let attempt = tokio::select! {
                _ = &mut stop => break 'watching,
                attempt = pg.restart() => attempt,
            };
            match attempt {
                Ok(()) => {
                    let down_ms = (Utc::now() - since).num_milliseconds();
                    tx.send_modify(|s| {
                        s.state = SupervisorState::Running;
                        s.since = Utc::now();
                        s.restarts += 1;
                        s.last_error = None;
                    });
                    tracing::info!(
                        pid = pg.pid(),
                        attempts = backoff.failures() + 1,
                        down_ms,
                        restarts = tx.borrow().restarts,
                        "embedded Postgres restarted"
                    );
                    break;
                }
                Err(e) => {
                    let delay = backoff.fail();
                    let error = format!("{e:#}");
                    tracing::warn!(%error, retry_in = ?delay, "embedded Postgres did not start again");
                    tx.send_modify(|s| s.last_error = Some(error));
                    tokio::select! {
                        _ = &mut stop => break 'watching,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }
    pg.stop().await;
    tx.send_modify(|s| {
        s.state = SupervisorState::Stopped;
        s.since = Utc::now();
    });
}
