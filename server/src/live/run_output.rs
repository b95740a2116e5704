//! Following a run's output (a scheduled job's or a one-off command's) while it runs. The
//! leading worker follows the container's output (Docker's logs, followed) and keeps each
//! line as it comes; every kept line is announced on the live channel (`job_output`), so
//! whichever berth serves the page sends the new lines at once. The stream starts with
//! the lines the reader does not have yet and ends, after the last line, when the run is
//! over.

use super::{HubMessage, LiveHub};
use app::domain::jobs::{RunLogLine, RunState};
use app::domain::live::LiveTopic;
use app::store::jobs::{output_after, OutputSince};
use app::store::StoreError;
use futures::Stream;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::{broadcast::error::RecvError, mpsc};
use uuid::Uuid;

/// Lines buffered for a slow reader.
const BUFFER: usize = 256;
/// A look without an announcement, in case one was missed.
const LOOK_AGAIN: Duration = Duration::from_secs(15);

/// What a follower of a run's output receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutput {
    /// The run's `number`th line (1-based).
    Line { number: i64, line: RunLogLine },
    /// The run is over; every line was sent.
    End(RunState),
}

/// The run's lines after the first `after`, as they are kept, then its end. `NotFound`
/// for another team's run (checked before the stream starts). The stream ends when the
/// reader drops it.
pub async fn follow(
    pool: PgPool,
    hub: &LiveHub,
    team: Uuid,
    run: Uuid,
    after: i64,
) -> Result<impl Stream<Item = RunOutput>, StoreError> {
    // Subscribed before the first look: no line kept in between is missed.
    let changes = hub.subscribe();
    let first = output_after(&pool, team, run, after).await?;
    let (tx, mut rx) = mpsc::channel(BUFFER);
    tokio::spawn(send_loop(pool, changes, team, run, after, first, tx));
    Ok(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

async fn send_loop(
    pool: PgPool,
    mut changes: tokio::sync::broadcast::Receiver<HubMessage>,
    team: Uuid,
    run: Uuid,
    mut sent: i64,
    mut look: OutputSince,
    tx: mpsc::Sender<RunOutput>,
) {
    let service = look.service_id;
    loop {
        for line in std::mem::take(&mut look.lines) {
            sent += 1;
            if tx
                .send(RunOutput::Line { number: sent, line })
                .await
                .is_err()
            {
                return;
            }
        }
        if !look.state.is_open() {
            let _ = tx.send(RunOutput::End(look.state)).await;
            return;
        }
        // Wait for a line or a change of the run, or for the reader to leave.
        loop {
            tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep(LOOK_AGAIN) => break,
                msg = changes.recv() => match msg {
                    Ok(HubMessage::Change { team: t, change }) if t == team
                        && change.service == service
                        && matches!(change.topic, LiveTopic::JobOutput | LiveTopic::Jobs) => break,
                    Ok(HubMessage::Change { .. }) => {}
                    Ok(HubMessage::Resync) | Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                },
            }
        }
        look = match output_after(&pool, team, run, sent).await {
            Ok(l) => l,
            // The run was deleted with its job: nothing more to send.
            Err(StoreError::NotFound) => return,
            Err(e) => {
                tracing::debug!(%run, error = %e, "run output: cannot read; trying again");
                OutputSince {
                    service_id: service,
                    state: RunState::Running,
                    lines: Vec::new(),
                }
            }
        };
    }
}
