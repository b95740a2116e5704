//! Following a service's container output: every replica (or one), the last lines first,
//! then what they print, as cleaned lines. Containers that appear later (a repair, a
//! rollout) or restart are picked up when the hub says the service's containers changed.

use super::{HubMessage, LiveHub};
use crate::engine::Engine;
use app::domain::live::{LiveTopic, LogLine};
use app::domain::log_line::split_lines;
use app::domain::service::ReplicaIndex;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use std::collections::HashSet;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Lines buffered for a slow reader before followers wait.
const BUFFER: usize = 1024;

/// Which output to follow.
#[derive(Debug, Clone, Copy)]
pub struct Follow {
    pub team: Uuid,
    pub service: Uuid,
    pub replica: Option<ReplicaIndex>,
    pub tail: usize,
}

/// The lines; the stream ends when the reader drops it (the followers stop with it).
pub fn follow(engine: Engine, hub: &LiveHub, what: Follow) -> impl Stream<Item = LogLine> {
    let (tx, rx) = mpsc::channel(BUFFER);
    let changes = hub.subscribe();
    tokio::spawn(attach_loop(engine, changes, what, tx));
    lines_of(rx)
}

fn lines_of(mut rx: mpsc::Receiver<LogLine>) -> impl Stream<Item = LogLine> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn attach_loop(
    engine: Engine,
    mut changes: tokio::sync::broadcast::Receiver<HubMessage>,
    what: Follow,
    tx: mpsc::Sender<LogLine>,
) {
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<(String, Option<Seen>)>();
    let mut following: HashSet<String> = HashSet::new();
    // The last line each ended follower (its container stopped) passed on: a new follower
    // of the same container (it restarted) starts after it.
    let mut resume_after: std::collections::HashMap<String, Option<Seen>> = Default::default();
    let mut first = true;
    // Dropped on return (the reader left): every follower stops with it.
    let mut followers = tokio::task::JoinSet::new();
    loop {
        if let Ok(running) = engine.running_replicas(Some(what.service)).await {
            for c in running {
                let replica = c.replica;
                let wanted = what.replica.is_none_or(|r| Some(r) == replica);
                if !wanted || following.contains(&c.id) {
                    continue;
                }
                // The first attach shows the last lines; a later one (a new or restarted
                // container) everything since it was last followed.
                let (tail, after) = match resume_after.get(&c.id) {
                    Some(seen) => (None, *seen),
                    None if first => (Some(what.tail), None),
                    None => (None, None),
                };
                following.insert(c.id.clone());
                followers.spawn(follow_one(
                    engine.clone(),
                    c.id.clone(),
                    replica,
                    tail,
                    after,
                    tx.clone(),
                    ended_tx.clone(),
                ));
            }
        }
        first = false;
        // Wait for a reason to look again, or for the reader to leave.
        loop {
            tokio::select! {
                _ = tx.closed() => return,
                Some((id, seen)) = ended_rx.recv() => {
                    following.remove(&id);
                    resume_after.insert(id, seen);
                }
                Some(_) = followers.join_next() => {}
                msg = changes.recv() => match msg {
                    Ok(HubMessage::Change { team, change }) if team == what.team
                        && change.service == what.service
                        && change.topic == LiveTopic::Containers => break,
                    Ok(HubMessage::Change { .. }) => {}
                    Ok(HubMessage::Resync) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }
}

/// Docker's time of the last line passed on.
type Seen = DateTime<Utc>;

#[allow(clippy::too_many_arguments)]
async fn follow_one(
    engine: Engine,
    id: String,
    replica: Option<ReplicaIndex>,
    tail: Option<usize>,
    after: Option<Seen>,
    tx: mpsc::Sender<LogLine>,
    ended: mpsc::UnboundedSender<(String, Option<Seen>)>,
) {
    let mut last = after;
    let since = after.map_or(0, |t| t.timestamp());
    if let Ok(output) = engine.output(&id, tail, since, true, true).await {
        let mut output = std::pin::pin!(output);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(Ok(chunk)) = output.next().await {
            let pending = if chunk.stderr { &mut err } else { &mut out };
            for stamped in split_lines(pending, &chunk.bytes) {
                let (at, line) = split_timestamp(&stamped);
                // `since` has whole seconds: skip what an earlier follower passed on.
                if let (Some(at), Some(after)) = (at, after) {
                    if at <= after {
                        continue;
                    }
                }
                last = at.or(last);
                let line = LogLine {
                    replica,
                    stream: if chunk.stderr { "stderr" } else { "stdout" }.to_owned(),
                    line: line.to_owned(),
                };
                if tx.send(line).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = ended.send((id, last));
}

/// Docker's timestamp prefix ("2026-11-27T11:55:55.123456789Z ") and the line after it.
fn split_timestamp(stamped: &str) -> (Option<Seen>, &str) {
    match stamped.split_once(' ') {
        Some((ts, rest)) => match DateTime::parse_from_rfc3339(ts) {
            Ok(t) => (Some(t.with_timezone(&Utc)), rest),
            Err(_) => (None, stamped),
        },
        None => match DateTime::parse_from_rfc3339(stamped) {
            Ok(t) => (Some(t.with_timezone(&Utc)), ""),
            Err(_) => (None, stamped),
        },
    }
}

/// A download stops growing here (50 replicas × 10 000 lines of 4 KiB would be 2 GB).
const MAX_DOWNLOAD_BYTES: usize = 16 * 1024 * 1024;

/// The last `tail` lines of a service's containers (one replica or all), for a download.
pub async fn recent(
    engine: &Engine,
    service: Uuid,
    replica: Option<ReplicaIndex>,
    tail: usize,
) -> String {
    let mut text = String::new();
    let Ok(containers) = engine.managed_containers(Some(service)).await else {
        return text;
    };
    for c in containers {
        if replica.is_some_and(|want| Some(want) != c.replica) {
            continue;
        }
        let r = ReplicaIndex::label(c.replica);
        let Ok(output) = engine.output(&c.id, Some(tail), 0, false, false).await else {
            continue;
        };
        let mut output = std::pin::pin!(output);
        let mut pending = Vec::new();
        while let Some(Ok(chunk)) = output.next().await {
            for line in split_lines(&mut pending, &chunk.bytes) {
                if text.len() > MAX_DOWNLOAD_BYTES {
                    text.push_str("[the download stops here: 16 MiB reached]\n");
                    return text;
                }
                text.push_str(&format!("[replica {r}] {line}\n"));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_timestamps_are_split_off() {
        let (at, line) = split_timestamp("2026-11-27T11:55:55.123456789Z tick 3");
        assert_eq!(line, "tick 3");
        assert_eq!(at.unwrap().timestamp_subsec_nanos(), 123_456_789);
        let (at, line) = split_timestamp("2026-11-27T11:55:55Z");
        assert!(at.is_some() && line.is_empty());
        assert_eq!(split_timestamp("no stamp here"), (None, "no stamp here"));
    }
}
