//! `/api/v1/services`: the team's services, one at a time or all, and the verbs that
//! change one (deployments and rollouts are in `deployments.rs`).

use super::answers::{Changed, Deleting};
use super::boundary::JsonBody;
use super::member::{parse_id, Member};
use super::page::Page;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::service as command;
use app::domain::service::{Change, ServiceSpec, ServiceView, VolumesOnDelete, WebhookInfo};
use app::domain::Permission;
use app::store::services as store;
use axum::{
    extract::{rejection::QueryRejection, Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
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
        .route("/api/v1/services/{id}/webhook", get(webhook))
        .route("/api/v1/services/{id}/webhook/rotate", post(rotate_webhook))
}

/// `Location: <path>` on an answer (a `201`'s new resource, a `202`'s thing to watch).
pub(super) fn with_location(mut r: Response, path: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&path) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The version of a service's definition, as a strong ETag: it changes with every edit,
/// scale, stop/start, build that sets the image, and deletion (the row's `updated_at`).
fn etag(view: &ServiceView) -> String {
    etag_of(view.updated_at)
}

fn etag_of(updated_at: chrono::DateTime<chrono::Utc>) -> String {
    format!("\"{:x}\"", updated_at.timestamp_micros())
}

fn with_etag(mut r: Response, tag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(tag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// Whether `If-Match` (optional: `*` or a list of ETags) names the current version.
fn if_match(headers: &HeaderMap, current: &str) -> bool {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return true;
    };
    raw.to_str().is_ok_and(|raw| {
        raw.split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag == current)
    })
}

async fn list(State(s): State<AppState>, m: Member, page: Page<100>) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let mut list: Vec<_> = store::list(&s.pool, team, m.0.role)
        .await?
        .into_iter()
        .map(|v| v.with_urls(s.settings.proxy))
        .collect();
    app::commands::variables::mark_needs_redeploy(s.deps(), &mut list).await?;
    page.of_list(list)
}

async fn create(State(s): State<AppState>, m: Member, b: JsonBody) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let mut body: serde_json::Value = b.parse()?;
    let environment = match body
        .as_object_mut()
        .and_then(|o| o.remove("environment_id"))
    {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .ok_or_else(|| {
                    ApiError::from(app::commands::CommandError::field(
                        "environment_id",
                        "An environment id is a UUID.",
                    ))
                })?,
        ),
    };
    let spec: ServiceSpec = serde_json::from_value(body)
        .map_err(|e| ApiError::BadRequest(format!("Invalid JSON body: {e}")))?;
    let id = command::create(s.deps(), &caller, environment, spec).await?;
    let view = store::get(&s.pool, caller.actor.team_id, caller.role, id).await?;
    let tag = etag(&view);
    let r = with_etag((StatusCode::CREATED, Json(view)).into_response(), &tag);
    Ok(with_location(r, format!("/api/v1/services/{id}")))
}

async fn show(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let view = store::get(&s.pool, team, m.0.role, parse_id(&id)?).await?;
    let tag = etag(&view);
    let mut views = [view.with_urls(s.settings.proxy)];
    app::commands::variables::mark_needs_redeploy(s.deps(), &mut views).await?;
    let [view] = views;
    Ok(with_etag(Json(view).into_response(), &tag))
}

/// `{"change": "none"|"scale"|"rollout", "service": …}` after an edit or a scale.
async fn changed(
    s: &AppState,
    caller: &app::commands::Caller,
    id: uuid::Uuid,
    change: Change,
) -> Result<Response, ApiError> {
    let service = store::get(&s.pool, caller.actor.team_id, caller.role, id).await?;
    let tag = etag(&service);
    let answer = Changed { change, service };
    Ok(with_etag(Json(answer).into_response(), &tag))
}

async fn replace(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    let spec: ServiceSpec = b.parse()?;
    let current = |version| if_match(&headers, &etag_of(version));
    let change = command::update_if(s.deps(), &caller, id, spec, current).await?;
    changed(&s, &caller, id, change).await
}

/// `POST /services/{id}/scale`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = Scale)]
#[serde(deny_unknown_fields)]
pub(super) struct ScaleBody {
    #[schema(maximum = 50)]
    replicas: u32,
}

async fn scale(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    let ScaleBody { replicas } = b.parse()?;
    let change = command::scale(s.deps(), &caller, id, replicas).await?;
    changed(&s, &caller, id, change).await
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
        command::stop(s.deps(), &caller, id).await?;
    } else {
        command::start(s.deps(), &caller, id).await?;
    }
    Ok(Json(store::get(&s.pool, caller.actor.team_id, caller.role, id).await?).into_response())
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

/// `DELETE /services/{id}?volumes=keep|delete` (keep when absent).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteQuery {
    volumes: Option<String>,
}

async fn remove(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    q: Result<Query<DeleteQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    let Query(q) =
        q.map_err(|e| ApiError::BadRequest(format!("Invalid query: {}", e.body_text())))?;
    let volumes =
        VolumesOnDelete::parse(q.volumes.as_deref()).map_err(|e| ApiError::Invalid(vec![e]))?;
    // Asked again while it is going: the same answer (the first choice of volumes), and
    // no second audit entry.
    let volumes = command::delete(s.deps(), &caller, id, volumes).await?;
    let answer = Deleting {
        deleting: true,
        volumes,
    };
    let r = (StatusCode::ACCEPTED, Json(answer)).into_response();
    Ok(with_location(r, format!("/api/v1/services/{id}")))
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
    let secret = command::rotate_webhook_secret(s.deps(), &caller, id).await?;
    let mut info = WebhookInfo::new(&public_base(&s, &headers), id, true);
    info.secret = Some(secret);
    Ok(Json(info).into_response())
}
