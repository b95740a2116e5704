//! `/api/v1/services/{id}/deployments`, `/api/v1/deployments/{id}` and the verbs that start
//! a deployment (redeploy, rollback, deploy now): each answers `202` with `Location` at the
//! new deployment.

use super::answers::{DeployQueued, DeploymentWithLog};
use super::boundary::JsonBody;
use super::member::{parse_id, Member};
use super::page::Page;
use super::services::with_location;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::service as command;
use app::domain::service::ServiceView;
use app::domain::Permission;
use app::store::{deployments, services as store};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services/{id}/redeploy", post(redeploy))
        .route("/api/v1/services/{id}/rollback", post(rollback))
        .route("/api/v1/services/{id}/deploy", post(deploy))
        .route("/api/v1/services/{id}/deployments", get(deployments))
        .route("/api/v1/deployments/{id}", get(deployment))
}

/// Newest first, 50 a page by default; the cursor is a deployment number.
async fn deployments(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    page: Page<50>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let before: Option<i32> = page.cursor_number()?;
    let limit = page.limit as i64 + 1;
    let list = deployments::history(&s.pool, team, parse_id(&id)?, limit, before).await?;
    Ok(page.of_keyed(list, |d| d.number, |d| d))
}

async fn deployment(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let team = m.team_for(Permission::ReadServices)?;
    let (deployment, log) = deployments::with_log(&s.pool, team, parse_id(&id)?).await?;
    Ok(Json(DeploymentWithLog { deployment, log }).into_response())
}

/// `202` with the service, `Location` at its newest deployment (the one just made).
fn accepted(view: ServiceView) -> Response {
    let at = view.latest_deployment.as_ref().map(|d| d.id);
    let r = (StatusCode::ACCEPTED, Json(view)).into_response();
    match at {
        Some(d) => with_location(r, format!("/api/v1/deployments/{d}")),
        None => r,
    }
}

async fn redeploy(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    command::redeploy(s.deps(), &caller, id).await?;
    Ok(accepted(
        store::get(&s.pool, caller.actor.team_id, caller.role, id).await?,
    ))
}

/// `POST /services/{id}/rollback`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = Rollback)]
#[serde(deny_unknown_fields)]
pub(super) struct RollbackBody {
    /// The number of an earlier deployment that went live.
    #[schema(minimum = 1)]
    deployment: i32,
}

async fn rollback(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageServices)?;
    let id = parse_id(&id)?;
    let RollbackBody { deployment } = b.parse()?;
    command::rollback(s.deps(), &caller, id, deployment).await?;
    Ok(accepted(
        store::get(&s.pool, caller.actor.team_id, caller.role, id).await?,
    ))
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
    let (deployment, number) = command::deploy_now(s.deps(), &caller, id).await?;
    let answer = DeployQueued {
        queued: true,
        number,
        deployment,
    };
    let r = (StatusCode::ACCEPTED, Json(answer)).into_response();
    Ok(with_location(
        r,
        format!("/api/v1/deployments/{deployment}"),
    ))
}
