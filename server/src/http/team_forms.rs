//! The forms that change which team a session is in: switching team, creating a team, and
//! accepting an invitation (which may also create the account and sign in). Plain form
//! posts, so they work with JavaScript off; JSON callers get JSON.

use super::session;
use super::{auth_forms::start_session, client_ip::client_ip, respond, state::AppState};
use crate::auth::password;
use app::api::context::Viewer;
use app::domain::account::{validate_name, validate_new_password};
use app::domain::team::InvitationProblem;
use app::domain::FormError;
use app::store::invitations::{self, AcceptAs};
use app::store::team::{self, TeamError};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Extension, Json,
};
use serde::Deserialize;
use std::{net::SocketAddr, time::Instant};
use tower_sessions::Session;
use uuid::Uuid;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchForm {
    team: String,
}

/// The signed-in browser user (an API token does not count) and their form; refused: the
/// problem and the page to send the person back to (`back` for a bad form).
fn signed_in_form<'a, T: serde::de::DeserializeOwned>(
    viewer: Option<app::domain::SessionInfo>,
    headers: &HeaderMap,
    body: &[u8],
    back: &'a str,
) -> Result<(app::domain::SessionInfo, T), (FormError, &'a str)> {
    let me = viewer
        .filter(|me| me.token.is_none())
        .ok_or((FormError::NotSignedIn, "/login"))?;
    let form = respond::parse_form(headers, body).map_err(|e| (e, back))?;
    Ok((me, form))
}

/// Makes another of the user's teams the current one.
pub async fn switch(
    State(state): State<AppState>,
    Extension(Viewer(viewer)): Extension<Viewer>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (me, form): (_, SwitchForm) = match signed_in_form(viewer, &headers, &body, "/") {
        Ok(v) => v,
        Err((problem, page)) => return respond::failure(&headers, problem, page, &[]),
    };
    let mine = team::my_teams(&state.pool, me.user.id).await;
    let target = form.team.parse::<Uuid>().ok();
    match mine {
        Ok(teams) if teams.iter().any(|t| Some(t.id) == target) => {
            match session::switch_team(&session, target.expect("checked")).await {
                Ok(_) => respond::success(&headers, "/"),
                Err(err) => {
                    tracing::error!("switching team: {err:#}");
                    respond::failure(&headers, FormError::Internal, "/", &[])
                }
            }
        }
        Ok(_) => (StatusCode::NOT_FOUND, "No such team.").into_response(),
        Err(err) => {
            tracing::error!("switching team: {err:#}");
            respond::failure(&headers, FormError::Internal, "/", &[])
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTeamForm {
    team_name: String,
}

/// Creates a team owned by the caller and switches to it.
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(Viewer(viewer)): Extension<Viewer>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (me, form): (_, NewTeamForm) = match signed_in_form(viewer, &headers, &body, "/team") {
        Ok(v) => v,
        Err((problem, page)) => return respond::failure(&headers, problem, page, &[]),
    };
    let ip = client_ip(peer, &headers, &state.settings.trusted_proxies);
    match team::create(&state.pool, me.user.id, &form.team_name, Some(ip)).await {
        Ok(created) => match session::switch_team(&session, created.id).await {
            Ok(_) if respond::wants_json(&headers) => {
                (StatusCode::CREATED, Json(created)).into_response()
            }
            Ok(_) => Redirect::to("/team").into_response(),
            Err(err) => {
                tracing::error!("switching to a new team: {err:#}");
                respond::failure(&headers, FormError::Internal, "/team", &[])
            }
        },
        Err(TeamError::Invalid(_)) => {
            let error = app::domain::account::validate_team_name(&form.team_name)
                .err()
                .unwrap_or(FormError::TeamNameInvalid);
            respond::failure(&headers, error, "/team", &[])
        }
        Err(err) => {
            tracing::error!("creating a team: {err:#}");
            respond::failure(&headers, FormError::Internal, "/team", &[])
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptForm {
    token: String,
    #[serde(default)]
    name: String,
    password: String,
}

/// Why accepting failed, as the invitation page (`?problem=<code>`) or a JSON caller sees it.
enum Refusal {
    Invitation(InvitationProblem),
    Form(FormError),
}

impl Refusal {
    fn respond(self, headers: &HeaderMap, token: &str) -> Response {
        let (status, code, message) = match self {
            Refusal::Invitation(p) => (p.status(), p.code(), p.message()),
            Refusal::Form(e) => (e.status(), e.code(), e.message()),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        if respond::wants_json(headers) {
            return (
                status,
                Json(serde_json::json!({"error": code, "message": message})),
            )
                .into_response();
        }
        // Only a well-formed token goes back into the URL.
        let page = if app::domain::team::looks_like_secret(token) {
            format!("/invite/{token}")
        } else {
            "/invite/invalid".to_owned()
        };
        Redirect::to(&format!("{page}?problem={code}")).into_response()
    }
}

/// Accepts an invitation: a new account (name + new password) or the existing account of
/// the invited email (its password), then the membership and a session in that team.
pub async fn accept(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: AcceptForm = match respond::parse_form(&headers, &body) {
        Ok(f) => f,
        Err(e) => return Refusal::Form(e).respond(&headers, ""),
    };
    let token = form.token.trim().to_owned();
    match accept_as(&state, peer, &headers, &form, &token).await {
        Ok((user, team)) => {
            let ip = client_ip(peer, &headers, &state.settings.trusted_proxies);
            match start_session(&state, &session, &headers, user, team, ip).await {
                Ok(()) => respond::success(&headers, "/"),
                Err(err) => {
                    tracing::error!("starting a session after accepting: {err:#}");
                    Refusal::Form(FormError::Internal).respond(&headers, &token)
                }
            }
        }
        Err(refusal) => refusal.respond(&headers, &token),
    }
}

async fn accept_as(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    form: &AcceptForm,
    token: &str,
) -> Result<(Uuid, Uuid), Refusal> {
    let internal = |err: &dyn std::fmt::Display| {
        tracing::error!("accepting an invitation: {err}");
        Refusal::Form(FormError::Internal)
    };
    let invitation = invitations::find(&state.pool, token)
        .await
        .map_err(|e| internal(&e))?
        .map_err(Refusal::Invitation)?;
    let ip = client_ip(peer, headers, &state.settings.trusted_proxies);
    let who = match &invitation.account {
        Some((user, hash)) => {
            // The same limits as the sign-in form: a link must not become a password oracle.
            if state
                .limiter
                .check(&invitation.email, ip, Instant::now())
                .is_err()
            {
                return Err(Refusal::Form(FormError::RateLimited));
            }
            if !password::verify(form.password.clone(), hash.clone()).await {
                state
                    .limiter
                    .record_failure(&invitation.email, ip, Instant::now());
                return Err(Refusal::Form(FormError::BadCredentials));
            }
            AcceptAs::Existing(*user)
        }
        None => {
            let name = validate_name(&form.name).map_err(Refusal::Form)?;
            let new = validate_new_password(&form.password).map_err(Refusal::Form)?;
            let password_hash = password::hash(new.to_owned())
                .await
                .map_err(|e| internal(&e))?;
            AcceptAs::New {
                name,
                password_hash,
            }
        }
    };
    invitations::accept(&state.pool, token, who, Some(ip))
        .await
        .map_err(|e| internal(&e))?
        .map_err(Refusal::Invitation)
}
