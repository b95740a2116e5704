//! `POST /hooks/{provider}/{service}`: push webhooks from GitHub, GitLab and Gitea/Forgejo.
//!
//! The signature is checked against the raw body before anything in it is believed; a
//! request that fails answers 401 and queues nothing. The verified body is JSON, or a form
//! whose `payload` field is (GitHub's default content type); any other type answers 415. Verified pushes to the service's
//! branch queue a build (once per delivery id, and not for a commit that is already live
//! or on its way) and answer at once: the build runs later.

use super::state::AppState;
use crate::build::{push_event, signature};
use app::store::builds::{self as store, CommitPlace, Provider, PushOutcome};
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::json;

/// Larger bodies answer 413 before they are read further. GitHub caps push payloads at
/// 25 MB, but one with that many commits is not a deploy; 5 MiB is plenty.
pub const MAX_BODY: usize = 5 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hooks/{provider}/{service}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    answer(status, json!({ "error": message.into() }))
}

fn ignore(reason: impl Into<String>) -> Response {
    answer(StatusCode::OK, json!({ "ignored": reason.into() }))
}

async fn receive(
    State(s): State<AppState>,
    Path((provider, service)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let (Some(provider), Ok(service_id)) = (Provider::parse(&provider), service.parse()) else {
        return refuse(StatusCode::NOT_FOUND, "No such webhook.");
    };
    let target = match store::hook_target(&s.pool, &s.secrets, service_id).await {
        Ok(Some(t)) => t,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "No such webhook."),
        Err(e) => {
            tracing::error!(error = %e, "webhook: cannot read the service");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again later.");
        }
    };
    let Some(secret) = target.secret else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "This service has no webhook secret yet: generate one on its page.",
        );
    };
    if let Err(why) = signature::verify(provider, &headers, &raw, &secret) {
        tracing::warn!(service = %service_id, provider = provider.as_str(), why, "webhook refused");
        return refuse(StatusCode::UNAUTHORIZED, why);
    }
    let body = match push_event::json_body(&headers, &raw) {
        Ok(json) => json,
        Err(push_event::BodyError::Unsupported(why)) => {
            return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, why)
        }
        Err(push_event::BodyError::Malformed(why)) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    match push_event::event_kind(provider, &headers) {
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
        Ok(push_event::EventKind::Other(event)) => {
            return ignore(format!("{event} event: only pushes deploy"))
        }
        Ok(push_event::EventKind::Push) => {}
    }
    let push = match push_event::parse_push(&body) {
        Ok(p) => p,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    let commit = match push_event::decide(push, &target.branch) {
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
        Ok(Err(reason)) => return ignore(reason),
        Ok(Ok(commit)) => commit,
    };
    let delivery = push_event::delivery_id(provider, &headers, &raw);
    let team = target.team_id;
    match app::commands::service::push(s.deps(), service_id, team, provider, &delivery, &commit)
        .await
    {
        Ok(PushOutcome::Queued { deployment, number }) => answer(
            StatusCode::ACCEPTED,
            json!({ "queued": true, "deployment": deployment, "number": number, "commit": commit.sha }),
        ),
        Ok(PushOutcome::Duplicate) => ignore(format!("delivery {delivery} was already received")),
        Ok(PushOutcome::AlreadyThere(CommitPlace::Live)) => {
            ignore(format!("commit {} is already live", commit.short()))
        }
        Ok(PushOutcome::AlreadyThere(CommitPlace::OnItsWay)) => ignore(format!(
            "commit {} is already being built or rolled out",
            commit.short()
        )),
        Err(e) => {
            tracing::error!(error = %e, "webhook: cannot queue the build");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again later.")
        }
    }
}
