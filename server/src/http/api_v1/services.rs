//! `/api/v1/services` and `/api/v1/deployments`.

use super::body;
use super::member::{parse_id, Member};
use super::ApiError;
use crate::http::state::AppState;
use app::commands::{service as command, Deps};
use app::domain::service::{Change, ServiceSpec, WebhookInfo};
use app::domain::Permission;
use app::store::services as store;
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services", get(list).post(create))
        .route(
            "/api/v1/services/{id}",
            get(show).put(replace).delete(remove),
        )
        .route("/api/v1/services/{id}/scale", post(scale))
        .route("/api/v1/services/{id}/stop", post(stop))
        .route("/api/v1/services/{id}/start", post(start))
        .route("/api/v1/services/{id}/redeploy", post(redeploy))
        .route("/api/v1/services/{id}/rollback", post(rollback))
        .route("/api/v1/services/{id}/deploy", post(deploy))
        .route("/api/v1/services/{id}/webhook", get(webhook))
        .route("/api/v1/services/{id}/webhook/rotate", post(rotate_webhook))
        .route("/api/v1/services/{id}/deployments", get(deployments))
        .route("/api/v1/deployments/{id}", get(deployment))
}

fn deps(s: &AppState) -> Deps<'_> {
    Deps {
        pool: &s.pool,
        secrets: &s.secrets,
    }
}

async fn list(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let list: Vec<_> = store::list(&s.pool, team)
        .await?
        .into_iter()
        .map(|v| v.with_urls(s.settings.proxy))
        .collect();
    Ok(Json(list).into_response())
}

async fn create(State(s): State<AppState>, m: Member, bytes: Bytes) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let spec: ServiceSpec = body(&bytes)?;
    let id = command::create(deps(&s), &caller, spec).await?;
    let view = store::get(&s.pool, caller.actor.team_id, id).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn show(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let view = store::get(&s.pool, team, parse_id(&id)?).await?;
    Ok(Json(view.with_urls(s.settings.proxy)).into_response())
}

/// `{"change": "none"|"scale"|"rollout", "service": …}` after an edit or a scale.
async fn changed(
    s: &AppState,
    team: uuid::Uuid,
    id: uuid::Uuid,
    change: Change,
) -> Result<Response, ApiError> {
    let word = change.as_str();
    let view = store::get(&s.pool, team, id).await?;
    Ok(Json(serde_json::json!({ "change": word, "service": view })).into_response())
}

async fn replace(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    let spec: ServiceSpec = body(&bytes)?;
    let change = command::update(deps(&s), &caller, id, spec).await?;
    changed(&s, caller.actor.team_id, id, change).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleBody {
    replicas: u32,
}

async fn scale(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    let ScaleBody { replicas } = body(&bytes)?;
    let change = command::scale(deps(&s), &caller, id, replicas).await?;
    changed(&s, caller.actor.team_id, id, change).await
}

async fn set_stopped(
    s: &AppState,
    m: &Member,
    id: &str,
    stopped: bool,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(id)?;
    if stopped {
        command::stop(deps(s), &caller, id).await?;
    } else {
        command::start(deps(s), &caller, id).await?;
    }
    Ok(Json(store::get(&s.pool, caller.actor.team_id, id).await?).into_response())
}

async fn stop(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_stopped(&s, &m, &id, true).await
}

async fn start(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_stopped(&s, &m, &id, false).await
}

async fn remove(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    command::delete(deps(&s), &caller, parse_id(&id)?).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "deleting": true })),
    )
        .into_response())
}

async fn deployments(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let history = app::store::deployments::history(&s.pool, team, parse_id(&id)?, 50, None).await?;
    Ok(Json(history).into_response())
}

async fn deployment(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let (deployment, log) =
        app::store::deployments::with_log(&s.pool, team, parse_id(&id)?).await?;
    Ok(Json(serde_json::json!({ "deployment": deployment, "log": log })).into_response())
}

async fn redeploy(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    command::redeploy(deps(&s), &caller, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(store::get(&s.pool, caller.actor.team_id, id).await?),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    /// The number of an earlier deployment that went live.
    deployment: i32,
}

async fn rollback(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    let RollbackBody { deployment } = body(&bytes)?;
    command::rollback(deps(&s), &caller, id, deployment).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(store::get(&s.pool, caller.actor.team_id, id).await?),
    )
        .into_response())
}

/// Builds the head of a git service's branch and rolls it out.
async fn deploy(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    let (_, number) = command::deploy_now(deps(&s), &caller, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "queued": true, "number": number })),
    )
        .into_response())
}

fn public_base(s: &AppState, headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    app::domain::service::public_base(s.settings.public_origin.as_deref(), host)
}

/// The webhook URLs and whether a secret exists (the secret is never shown again).
async fn webhook(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let id = parse_id(&id)?;
    let has = app::store::builds::has_webhook_secret(&s.pool, team, id).await?;
    Ok(Json(WebhookInfo::new(&public_base(&s, &headers), id, has)).into_response())
}

/// A new webhook secret, shown in this answer only; the old one stops working.
async fn rotate_webhook(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    let secret = command::rotate_webhook_secret(deps(&s), &caller, id).await?;
    let mut info = WebhookInfo::new(&public_base(&s, &headers), id, true);
    info.secret = Some(secret);
    Ok(Json(info).into_response())
}
