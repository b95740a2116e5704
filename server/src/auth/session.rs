//! Sessions: what is stored in one, and the layer that turns it into a `Viewer` (user,
//! team, role) for every request, checked against Postgres each time.

use crate::http::AppState;
use app::api::context::Viewer;
use axum::{extract::Request, extract::State, middleware::Next, response::Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

const AUTH_KEY: &str = "auth";

/// What a signed-in session holds. Only ids: names and roles are read fresh each request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: Uuid,
    pub team_id: Uuid,
    /// Unix seconds at sign-in, for the absolute lifetime.
    pub signed_in_at: i64,
}

/// Signs in: a new session id (no fixation), then the user's ids.
pub async fn sign_in(
    session: &Session,
    user_id: Uuid,
    team_id: Uuid,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    let auth = SessionAuth {
        user_id,
        team_id,
        signed_in_at: chrono::Utc::now().timestamp(),
    };
    session.insert(AUTH_KEY, auth).await
}

/// Signs out: deletes the session row and the cookie. `false` when there was no sign-in.
pub async fn sign_out(session: &Session) -> Result<bool, tower_sessions::session::Error> {
    let signed_in = session.get::<SessionAuth>(AUTH_KEY).await?.is_some();
    if signed_in {
        session.flush().await?;
    }
    Ok(signed_in)
}

/// Middleware: resolves the viewer of every request. A session past its absolute lifetime,
/// or whose user or membership is gone, is ended here.
pub async fn resolve_viewer(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let viewer = match viewer_of(&state, &session).await {
        Ok(v) => v,
        Err(err) => {
            tracing::error!("resolving the session: {err:#}");
            None
        }
    };
    req.extensions_mut().insert(Viewer(viewer));
    next.run(req).await
}

async fn viewer_of(
    state: &AppState,
    session: &Session,
) -> anyhow::Result<Option<app::domain::SessionInfo>> {
    let Some(auth) = session.get::<SessionAuth>(AUTH_KEY).await? else {
        return Ok(None);
    };
    let age = chrono::Utc::now().timestamp() - auth.signed_in_at;
    if age < 0 || age as u64 >= state.settings.session_lifetime.as_secs() {
        tracing::info!(user = %auth.user_id, "session reached its absolute lifetime");
        session.flush().await?;
        return Ok(None);
    }
    let info =
        app::store::accounts::session_info(&state.pool, auth.user_id, Some(auth.team_id)).await?;
    if info.is_none() {
        session.flush().await?;
    }
    Ok(info)
}

/// Whether the session `id` still lets `user` do `p` in `team`: not signed out or expired,
/// the membership still there, its role still allowing it. Open streams ask this again and
/// again: they outlive the request that was checked.
pub async fn still_allowed(
    state: &AppState,
    id: &str,
    user: Uuid,
    team: Uuid,
    p: app::domain::Permission,
) -> bool {
    if !matches!(
        app::store::accounts::session_alive(&state.pool, id).await,
        Ok(true)
    ) {
        return false;
    }
    matches!(
        app::store::accounts::session_info(&state.pool, user, Some(team)).await,
        Ok(Some(info)) if info.role.allows(p)
    )
}
