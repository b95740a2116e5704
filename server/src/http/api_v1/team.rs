//! `/api/v1/me`, `/teams`, `/team`, `/members`, `/invitations`, `/tokens`, `/audit`: team
//! administration for programs, with the same store and rules as the team pages.

use super::boundary::JsonBody;
use super::member::{parse_id, Member};
use super::page::Page;
use super::services::with_location;
use super::ApiError;
use crate::http::state::AppState;
use app::commands::team as command;
use app::domain::team::{AuditFilter, InviteForm, TokenForm, AUDIT_PAGE};
use app::domain::{Permission, Role};
use app::store::{audit, invitations, team, tokens};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, patch, post},
    Json, Router,
};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/teams", get(my_teams))
        .route("/api/v1/team", get(show).patch(rename).delete(delete))
        .route("/api/v1/team/transfer", post(transfer))
        .route("/api/v1/members", get(members))
        .route(
            "/api/v1/members/{user_id}",
            patch(change_role).delete(remove),
        )
        .route("/api/v1/invitations", get(pending).post(invite))
        .route(
            "/api/v1/invitations/{id}",
            axum::routing::delete(revoke_invitation),
        )
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/api/v1/audit", get(audit_log))
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

async fn me(m: Member) -> Json<app::domain::SessionInfo> {
    Json(m.0)
}

async fn my_teams(
    State(s): State<AppState>,
    m: Member,
    page: Page<100>,
) -> Result<Response, ApiError> {
    let mut teams = team::my_teams(&s.pool, m.0.user.id).await?;
    if m.0.token.is_some() {
        teams.retain(|t| t.id == m.0.team.id);
        for t in &mut teams {
            t.role = m.role();
        }
    }
    page.of_list(teams)
}

async fn show(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    let id = m.team_for(Permission::ReadServices)?;
    Ok(Json(team::summary(&s.pool, id).await?).into_response())
}

/// `PATCH /team`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = TeamRename)]
#[serde(deny_unknown_fields)]
pub(super) struct Rename {
    #[schema(min_length = 1, max_length = 60)]
    name: String,
}

async fn rename(State(s): State<AppState>, m: Member, b: JsonBody) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageTeam)?;
    let Rename { name } = b.parse()?;
    Ok(Json(command::rename(s.deps(), &caller, &name).await?).into_response())
}

async fn delete(State(s): State<AppState>, m: Member) -> Result<Response, ApiError> {
    command::delete(s.deps(), &m.caller()).await?;
    Ok(no_content())
}

/// `POST /team/transfer`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Transfer {
    user_id: uuid::Uuid,
}

async fn transfer(State(s): State<AppState>, m: Member, b: JsonBody) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::OwnTeam)?;
    let Transfer { user_id } = b.parse()?;
    command::transfer_ownership(s.deps(), &caller, user_id).await?;
    Ok(no_content())
}

async fn members(
    State(s): State<AppState>,
    m: Member,
    page: Page<100>,
) -> Result<Response, ApiError> {
    let id = m.team_for(Permission::ReadServices)?;
    page.of_list(team::members(&s.pool, id).await?)
}

/// `PATCH /members/{user_id}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = RoleChange)]
#[serde(deny_unknown_fields)]
pub(super) struct RoleBody {
    #[schema(value_type = Role)]
    role: String,
}

async fn change_role(
    State(s): State<AppState>,
    m: Member,
    Path(user): Path<String>,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageMembers)?;
    let user = parse_id(&user)?;
    let RoleBody { role } = b.parse()?;
    let role: Role = app::domain::team::parse_role(&role).map_err(ApiError::BadInput)?;
    let member = command::change_role(s.deps(), &caller, user, role).await?;
    Ok(Json(member).into_response())
}

/// Anyone may remove themselves (leave); removing others needs ManageMembers.
async fn remove(
    State(s): State<AppState>,
    m: Member,
    Path(user): Path<String>,
) -> Result<Response, ApiError> {
    let user = parse_id(&user)?;
    command::remove_member(s.deps(), &m.caller(), user).await?;
    Ok(no_content())
}

async fn pending(
    State(s): State<AppState>,
    m: Member,
    page: Page<100>,
) -> Result<Response, ApiError> {
    let id = m.team_for(Permission::ManageMembers)?;
    page.of_list(invitations::pending(&s.pool, id).await?)
}

async fn invite(
    State(s): State<AppState>,
    m: Member,
    headers: axum::http::HeaderMap,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageMembers)?;
    let form: InviteForm = b.parse()?;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let base = app::domain::service::public_base(s.settings.public_origin.as_deref(), host);
    let created = command::invite(s.deps(), &caller, &form, &base).await?;
    let at = format!("/api/v1/invitations/{}", created.invitation.id);
    Ok(with_location(
        (StatusCode::CREATED, Json(created)).into_response(),
        at,
    ))
}

async fn revoke_invitation(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageMembers)?;
    command::revoke_invitation(s.deps(), &caller, parse_id(&id)?).await?;
    Ok(no_content())
}

async fn list_tokens(
    State(s): State<AppState>,
    m: Member,
    page: Page<100>,
) -> Result<Response, ApiError> {
    let id = m.team_for(Permission::ManageTokens)?;
    page.of_list(tokens::list(&s.pool, id).await?)
}

async fn create_token(
    State(s): State<AppState>,
    m: Member,
    b: JsonBody,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageTokens)?;
    let form: TokenForm = b.parse()?;
    let created = command::create_token(s.deps(), &caller, &form).await?;
    let at = format!("/api/v1/tokens/{}", created.token_info.id);
    Ok(with_location(
        (StatusCode::CREATED, Json(created)).into_response(),
        at,
    ))
}

async fn revoke_token(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = m.caller();
    caller.may(Permission::ManageTokens)?;
    command::revoke_token(s.deps(), &caller, parse_id(&id)?).await?;
    Ok(no_content())
}

/// Newest first, 50 a page at most; `cursor` (or the older `before`) is an entry id.
async fn audit_log(
    State(s): State<AppState>,
    m: Member,
    page: Page<{ AUDIT_PAGE as usize }>,
) -> Result<Response, ApiError> {
    let id = m.team_for(Permission::ReadAudit)?;
    if page.limit > AUDIT_PAGE as usize {
        return Err(ApiError::BadInput(format!(
            "limit goes from 1 to {AUDIT_PAGE} here."
        )));
    }
    let query = serde_urlencoded::to_string(&page.rest).map_err(|_| ApiError::Internal)?;
    let filter: AuditFilter = serde_urlencoded::from_str(&query)
        .map_err(|e| ApiError::BadRequest(format!("Invalid query: {e}")))?;
    let mut filter = filter.validate().map_err(ApiError::BadInput)?;
    if let Some(cursor) = page.cursor_number()? {
        filter.before = Some(cursor);
    }
    let mut found = audit::page(&s.pool, id, &filter).await?;
    if found.entries.len() > page.limit {
        found.entries.truncate(page.limit);
        found.next_before = found.entries.last().map(|e| e.id);
    }
    let next = found.next_before.map(|n| n.to_string());
    Ok(page.answer(found, next))
}
