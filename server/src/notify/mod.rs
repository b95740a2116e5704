//! The notification sender: takes queued deliveries (rows the worker, the builder and
//! the commands inserted with `app::store::notifications::enqueue`) and sends them, each
//! in its own task, so a slow or failing channel holds up nothing else. Each attempt
//! re-checks the target (resolve, judge every address, connect to the judged one);
//! a failed attempt is retried on the configured back-off, then the delivery is marked
//! failed. A refused target is not retried.

mod email;
mod http_post;
pub mod signature;

use app::domain::notification::{retry_after, ChannelKind, DEFAULT_RETRY_DELAYS_S};
use app::store::notifications::{self as store, secret_context, DueDelivery};
use app::store::secret_box::SecretBox;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How deliveries are retried.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The waits after failed attempts 1, 2, …; one attempt more than there are waits.
    pub retry_delays: Vec<Duration>,
    /// How long one attempt may take (connect, send, answer).
    pub attempt_timeout: Duration,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            retry_delays: DEFAULT_RETRY_DELAYS_S
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            attempt_timeout: Duration::from_secs(15),
        }
    }
}

/// Deliveries sent at once.
const CONCURRENCY: usize = 16;
/// How often the queue is looked at when it was empty.
const POLL: Duration = Duration::from_millis(500);

/// Why one attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The target is (or resolves to) an internal address: not retried.
    #[error("{0}")]
    Refused(String),
    /// Anything else (connection refused, timeout, an error status): retried.
    #[error("{0}")]
    Failed(String),
}

impl From<app::commands::outbound::TargetError> for SendError {
    fn from(e: app::commands::outbound::TargetError) -> Self {
        match e {
            app::commands::outbound::TargetError::Refused(_) => SendError::Refused(e.to_string()),
            other => SendError::Failed(other.to_string()),
        }
    }
}

#[derive(Clone)]
pub struct Sender {
    pool: PgPool,
    secrets: SecretBox,
    settings: NotifySettings,
}

impl Sender {
    pub fn new(pool: PgPool, secrets: SecretBox, settings: NotifySettings) -> Sender {
        Sender {
            pool,
            secrets,
            settings,
        }
    }

    /// Sends queued deliveries until the task is dropped.
    pub async fn run(self) {
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        loop {
            let free = permits.available_permits();
            if free == 0 {
                tokio::time::sleep(POLL).await;
                continue;
            }
            let hold = self.settings.attempt_timeout * 2 + Duration::from_secs(30);
            let due = match store::take_due(&self.pool, free as i64, hold).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the notification queue");
                    Vec::new()
                }
            };
            if due.is_empty() {
                tokio::time::sleep(POLL).await;
                continue;
            }
            for d in due {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let me = self.clone();
                tokio::spawn(async move {
                    me.deliver(d).await;
                    drop(permit);
                });
            }
        }
    }

    async fn deliver(&self, d: DueDelivery) {
        let attempt = d.attempts.max(0) as u32 + 1;
        let outcome = tokio::time::timeout(self.settings.attempt_timeout, self.attempt(&d))
            .await
            .unwrap_or_else(|_| {
                Err(SendError::Failed(format!(
                    "no answer within {} s",
                    self.settings.attempt_timeout.as_secs()
                )))
            });
        let (error, retry_in) = match &outcome {
            Ok(()) => (None, None),
            Err(SendError::Refused(why)) => (Some(why.clone()), None),
            Err(SendError::Failed(why)) => (
                Some(why.clone()),
                retry_after(&self.settings.retry_delays, attempt),
            ),
        };
        match &error {
            None => tracing::info!(
                delivery = d.id,
                event = d.event.event.as_str(),
                "notification delivered"
            ),
            Some(e) => {
                tracing::warn!(delivery = d.id, attempt, error = %e, retry = ?retry_in, "notification not delivered")
            }
        }
        if let Err(e) = store::record_attempt(&self.pool, d.id, error.as_deref(), retry_in).await {
            tracing::warn!(delivery = d.id, error = %e, "cannot record a notification attempt");
        }
    }

    async fn attempt(&self, d: &DueDelivery) -> Result<(), SendError> {
        let allow_private = app::store::settings::allow_private_targets(&self.pool)
            .await
            .map_err(|e| SendError::Failed(format!("cannot read the instance settings: {e}")))?;
        let secret = match &d.secret_sealed {
            Some(sealed) => Some(
                self.secrets
                    .open_text(sealed, &secret_context(d.channel_id))
                    .map_err(|_| {
                        SendError::Refused(
                            "the channel's secret cannot be opened (another secret key?)".into(),
                        )
                    })?,
            ),
            None => None,
        };
        match d.kind {
            ChannelKind::Email => email::send(d, secret.as_deref(), allow_private).await,
            _ => http_post::send(d, secret.as_deref(), allow_private).await,
        }
    }
}
