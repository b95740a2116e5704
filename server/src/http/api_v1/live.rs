//! Live routes: the team's change stream, container logs (followed or downloaded), a
//! run's output as it is printed, a service's timeline and its CPU/memory samples. Same member check and team scope as the
//! rest of the API; another team's service answers 404.

use super::member::{parse_id, Member};
use super::page::Page;
use super::ApiError;
use crate::http::session::still_allowed;
use crate::http::state::AppState;
use crate::live::{logs, run_output, HubMessage};
use app::domain::live::{LiveChange, EVENT_CHANGE, EVENT_END, EVENT_LOG, EVENT_RESYNC};
use app::domain::Permission;
use app::store::services as store;
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::get,
    Json, Router,
};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use std::{convert::Infallible, time::Duration};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

const KEEP_ALIVE: Duration = Duration::from_secs(15);
const MAX_TAIL: usize = 10_000;
const DEFAULT_TAIL: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", get(changes))
        .route("/api/v1/services/{id}/logs", get(download_logs))
        .route("/api/v1/services/{id}/logs/stream", get(follow_logs))
        .route("/api/v1/services/{id}/events", get(timeline))
        .route("/api/v1/services/{id}/metrics", get(metrics))
        .route(
            "/api/v1/job-runs/{id}/output/stream",
            get(follow_run_output),
        )
}

/// How often an open stream checks that its caller may still read.
const RECHECK: Duration = Duration::from_secs(10);

/// A stream ends when berth shuts down (so a graceful shutdown does not wait for pages),
/// and when its caller may no longer read: signed out, session expired, removed from the
/// team, or a role that no longer reads.
fn while_allowed<S: Stream + Send + 'static>(
    s: &AppState,
    m: &Member,
    p: Permission,
    stream: S,
) -> impl Stream<Item = S::Item> {
    let mut closing = s.closing.subscribe();
    let state = s.clone();
    let caller = m.0.clone();
    let revoked = async move {
        loop {
            tokio::time::sleep(RECHECK).await;
            if !still_allowed(&state, &caller, p).await {
                return;
            }
        }
    };
    stream.take_until(async move {
        tokio::select! {
            _ = closing.wait_for(|c| *c) => {}
            _ = revoked => {}
        }
    })
}

/// `text/event-stream` of the caller's team: `resync` first (and whenever announcements may
/// have been lost), then a `change` per service that changed.
async fn changes(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let rx = s.hub.subscribe();
    let resync = || Event::default().event(EVENT_RESYNC).data("{}");
    let first = futures::stream::once(async move { resync() });
    let rest = futures::stream::unfold(rx, move |mut rx| async move {
        loop {
            let event = match rx.recv().await {
                Ok(HubMessage::Change { team: t, change }) if t == team => change_event(change),
                Ok(HubMessage::Change { .. }) => continue,
                Ok(HubMessage::Resync) | Err(RecvError::Lagged(_)) => resync(),
                Err(RecvError::Closed) => return None,
            };
            return Some((event, rx));
        }
    });
    let stream =
        while_allowed(&s, &m, Permission::ReadServices, first.chain(rest)).map(Ok::<_, Infallible>);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

fn change_event(change: LiveChange) -> Event {
    Event::default()
        .event(EVENT_CHANGE)
        .json_data(change)
        .unwrap_or_else(|_| Event::default().event(EVENT_RESYNC).data("{}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    tail: Option<usize>,
    replica: Option<app::domain::service::ReplicaIndex>,
}

impl LogQuery {
    fn tail(&self) -> Result<usize, ApiError> {
        match self.tail {
            Some(n) if n > MAX_TAIL => Err(ApiError::BadRequest(format!(
                "tail must be at most {MAX_TAIL} lines"
            ))),
            Some(n) => Ok(n),
            None => Ok(DEFAULT_TAIL),
        }
    }

    /// One replica's lines only: an index below the replica limit (0–49).
    fn replica(&self) -> Result<Option<app::domain::service::ReplicaIndex>, ApiError> {
        match self.replica {
            Some(r) if r.0 >= app::domain::service::MAX_REPLICAS => {
                Err(ApiError::BadRequest(format!(
                    "replica must be an index below {}",
                    app::domain::service::MAX_REPLICAS
                )))
            }
            r => Ok(r),
        }
    }
}

/// The service, if the caller's team has it and their role allows `p`.
async fn service_of(
    s: &AppState,
    m: &Member,
    id: &str,
    p: Permission,
) -> Result<(Uuid, Uuid, app::domain::service::ServiceSpec), ApiError> {
    let team = m.team_for(p)?;
    let id = parse_id(id)?;
    let spec = store::spec(&s.pool, team, id).await?;
    Ok((team, id, spec))
}

fn log_query(
    q: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<LogQuery, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::BadRequest(format!("Invalid query: {}", e.body_text())))
}

/// `text/event-stream` of `log` events (`LogLine` JSON): the last `tail` lines, then live.
async fn follow_logs(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    q: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = log_query(q)?;
    let (tail, replica) = (q.tail()?, q.replica()?);
    let (team, service, _) = service_of(&s, &m, &id, Permission::ReadContainerLogs).await?;
    let lines = logs::follow(
        s.engine.clone(),
        &s.hub,
        logs::Follow {
            team,
            service,
            replica,
            tail,
        },
    );
    let events = lines.map(|line| {
        Ok::<_, Infallible>(
            Event::default()
                .event(EVENT_LOG)
                .json_data(line)
                .unwrap_or_default(),
        )
    });
    Ok(
        Sse::new(while_allowed(&s, &m, Permission::ReadContainerLogs, events))
            .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
            .into_response(),
    )
}

/// The last `tail` lines as a text file.
async fn download_logs(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    q: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = log_query(q)?;
    let (tail, replica) = (q.tail()?, q.replica()?);
    let (_, service, spec) = service_of(&s, &m, &id, Permission::ReadContainerLogs).await?;
    let text = logs::recent(&s.engine, service, replica, tail).await;
    let disposition = format!("attachment; filename=\"{}.log\"", spec.name);
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}

/// Newest first, 200 a page by default; the cursor is an event id.
async fn timeline(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    page: Page<200>,
) -> Result<Response, ApiError> {
    let (team, service, _) = service_of(&s, &m, &id, Permission::ReadServices).await?;
    let before: Option<i64> = page.cursor_number()?;
    let limit = page.limit as i64 + 1;
    let events = store::events_page(&s.pool, team, service, before, limit).await?;
    // The body lists the events alone; their ids only make the cursor.
    Ok(page.of_keyed(events, |(id, _)| *id, |(_, event)| event))
}

async fn metrics(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, service, spec) = service_of(&s, &m, &id, Permission::ReadServices).await?;
    Ok(Json(s.metrics.service(service, spec.memory_mb)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputQuery {
    /// Lines the reader has already.
    after: Option<i64>,
}

/// `text/event-stream` of a run's output: a `log` event per line (`RunLogLine` JSON, the
/// line's number in the run as the event id) after the first `after` (or `Last-Event-ID`)
/// lines, as they are printed, then `end` (`{"state": …}`) once the run is over.
async fn follow_run_output(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    headers: HeaderMap,
    q: Result<Query<OutputQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = q
        .map(|Query(q)| q)
        .map_err(|e| ApiError::BadRequest(format!("Invalid query: {}", e.body_text())))?;
    let after = match q.after {
        Some(n) if n < 0 => {
            return Err(ApiError::BadRequest(
                "after must be a number of lines, 0 or more".into(),
            ))
        }
        Some(n) => n,
        // A browser reconnecting says which line it saw last.
        None => headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0)
            .max(0),
    };
    let team = m.team_for(Permission::ReadContainerLogs)?;
    let run = parse_id(&id)?;
    let output = run_output::follow(s.pool.clone(), &s.hub, team, run, after).await?;
    let events = output.map(|o| {
        Ok::<_, Infallible>(match o {
            run_output::RunOutput::Line { number, line } => Event::default()
                .event(EVENT_LOG)
                .id(number.to_string())
                .json_data(line)
                .unwrap_or_default(),
            run_output::RunOutput::End(state) => Event::default()
                .event(EVENT_END)
                .json_data(serde_json::json!({ "state": state }))
                .unwrap_or_default(),
        })
    });
    Ok(
        Sse::new(while_allowed(&s, &m, Permission::ReadContainerLogs, events))
            .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
            .into_response(),
    )
}
