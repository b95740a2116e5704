//! Sessions: what is stored in one, and the layer that turns a request into a `Viewer`
//! (user, team, role) — from the session cookie, or under `/api/v1/` from an API token —
//! checked against Postgres on every request, so a removed or demoted member loses the old
//! rights at once.

use super::state::AppState;
use app::api::context::{ClientAddr, Viewer};
use app::domain::{Permission, SessionInfo};
use app::store::{accounts, tokens};
use axum::{
    extract::{ConnectInfo, Request, State},
    http::header,
    middleware::Next,
    response::Response,
};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use tower_sessions::{session::Error as SessionError, session_store, Session};
use uuid::Uuid;

const AUTH_KEY: &str = "auth";

/// What a signed-in session holds. Only ids: names and roles are read fresh each request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: Uuid,
    /// The team the dashboard shows (the switcher changes it).
    pub team_id: Uuid,
    /// The `logins` row: deleting it (Settings → sessions, a password change) ends this
    /// session on its next request.
    pub login_id: Uuid,
    /// Unix seconds at sign-in, for the absolute lifetime.
    pub signed_in_at: i64,
}

/// Signs in: a new session id (no fixation), then the user's ids.
pub async fn sign_in(
    session: &Session,
    user_id: Uuid,
    team_id: Uuid,
    login_id: Uuid,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    let auth = SessionAuth {
        user_id,
        team_id,
        login_id,
        signed_in_at: chrono::Utc::now().timestamp(),
    };
    session.insert(AUTH_KEY, auth).await
}

/// Makes `team_id` the session's current team (the caller checked the membership).
pub async fn switch_team(
    session: &Session,
    team_id: Uuid,
) -> Result<bool, tower_sessions::session::Error> {
    let Some(mut auth) = session.get::<SessionAuth>(AUTH_KEY).await? else {
        return Ok(false);
    };
    auth.team_id = team_id;
    session.insert(AUTH_KEY, auth).await?;
    Ok(true)
}

/// Signs out: ends the login, deletes the session row and the cookie. `false` when there
/// was no sign-in.
pub async fn sign_out(state: &AppState, session: &Session) -> anyhow::Result<bool> {
    let Some(auth) = session.get::<SessionAuth>(AUTH_KEY).await? else {
        return Ok(false);
    };
    accounts::forget_login(&state.pool, auth.login_id).await?;
    session.flush().await?;
    Ok(true)
}

/// Middleware: resolves the caller of every request and their address.
pub async fn resolve_viewer(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| {
            super::client_ip::client_ip(*peer, req.headers(), &state.settings.trusted_proxies)
        });
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    // Tokens are for programs: only the REST API takes them. With a token, the cookie is
    // ignored, so a bad token is never rescued by a browser session.
    let under_api = req.uri().path().starts_with("/api/v1/");
    let resolve = async {
        match bearer {
            Some(token) if under_api => tokens::resolve(&state.pool, &token)
                .await
                .map_err(Into::into),
            _ => viewer_of(&state, &session).await,
        }
    };
    let viewer = tokio::select! {
        // A caller resolved without the database (no cookie, no token) is never refused.
        biased;
        viewer = resolve => viewer,
        // The outage became known while this request waited on the pool.
        _ = state.database.down() => Err(anyhow::anyhow!("the database went away")),
    };
    // Not knowing who calls is not "nobody calls": a database error answers 503, so a
    // program keeps its token and a person stays signed in.
    let viewer = match viewer {
        Ok(viewer) => viewer,
        Err(err) => {
            tracing::warn!("resolving the caller: {err:#}");
            state.database.suspect();
            return super::db_gate::unavailable(req.headers(), req.uri().path());
        }
    };
    req.extensions_mut().insert(Viewer(viewer));
    req.extensions_mut().insert(ClientAddr(ip));
    next.run(req).await
}

/// The token of an `Authorization: Bearer <token>` value; the scheme name in any case
/// (RFC 9110: schemes are case-insensitive).
fn bearer_token(value: &str) -> Option<String> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The signed-in member of a browser session. A session past its absolute lifetime, whose
/// login was ended, or whose user or every membership is gone, is ended here.
async fn viewer_of(state: &AppState, session: &Session) -> anyhow::Result<Option<SessionInfo>> {
    let auth = match session.get::<SessionAuth>(AUTH_KEY).await {
        Ok(auth) => auth,
        // The store could not be read (the database): not knowing is not "signed out".
        Err(e @ SessionError::Store(session_store::Error::Backend(_))) => return Err(e.into()),
        // A session of an older shape, or one that does not decode: signed out (once).
        Err(e) => {
            tracing::info!(error = %e, "a session that cannot be read counts as signed out");
            None
        }
    };
    let Some(auth) = auth else {
        return Ok(None);
    };
    let age = chrono::Utc::now().timestamp() - auth.signed_in_at;
    if age < 0 || age as u64 >= state.settings.session_lifetime.as_secs() {
        tracing::info!(user = %auth.user_id, "session reached its absolute lifetime");
        accounts::forget_login(&state.pool, auth.login_id).await?;
        session.flush().await?;
        return Ok(None);
    }
    let info = if accounts::login_alive(&state.pool, auth.login_id, auth.user_id).await? {
        accounts::session_info(&state.pool, auth.user_id, Some(auth.team_id)).await?
    } else {
        None
    };
    let Some(mut info) = info else {
        session.flush().await?;
        return Ok(None);
    };
    if info.team.id != auth.team_id {
        // Removed from the team the session showed: carry on in another of theirs.
        switch_team(session, info.team.id).await?;
    }
    info.login = Some(auth.login_id);
    Ok(Some(info))
}

/// Whether `caller` may still do `p`: for a browser session, its login still open and its
/// membership's role still allowing it; for a token, the token still valid with a role
/// allowing it. Open streams ask this again and again: they outlive the request that was
/// checked.
pub async fn still_allowed(state: &AppState, caller: &SessionInfo, p: Permission) -> bool {
    let now = match (caller.token, caller.login) {
        (Some(token), _) => tokens::still_valid(&state.pool, token).await,
        (None, Some(login)) => {
            match accounts::login_alive(&state.pool, login, caller.user.id).await {
                Ok(true) => {
                    accounts::session_info(&state.pool, caller.user.id, Some(caller.team.id)).await
                }
                Ok(false) => Ok(None),
                Err(e) => Err(e),
            }
        }
        (None, None) => Ok(None),
    };
    matches!(now, Ok(Some(info)) if info.team.id == caller.team.id && info.role.allows(p))
}

/// The session cookie's name.
pub const COOKIE: &str = "berth_session";

/// Middleware, outside the session layer: a `berth_session` cookie that is not a session id
/// at all (garbage, truncated, tampered) is logged once per distinct value, taken off the
/// request (so the session layer, which would warn on every request, never sees it) and
/// cleared in the browser with an expired `Set-Cookie` (unless the answer sets a new one).
pub async fn drop_malformed_cookie(mut req: Request, next: Next) -> Response {
    let mut malformed = false;
    let mut kept_headers = Vec::new();
    for value in req.headers().get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else {
            kept_headers.push(value.clone());
            continue;
        };
        let mut kept = Vec::new();
        for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((name, v))
                    if name == COOKIE && v.parse::<tower_sessions::session::Id>().is_err() =>
                {
                    malformed = true;
                    if first_time_seen(v) {
                        tracing::warn!(length = v.len(), "ignored a malformed session cookie");
                    }
                }
                _ => kept.push(pair),
            }
        }
        if let Ok(v) = kept.join("; ").parse() {
            if !kept.is_empty() {
                kept_headers.push(v);
            }
        }
    }
    if !malformed {
        return next.run(req).await;
    }
    req.headers_mut().remove(header::COOKIE);
    for v in kept_headers {
        req.headers_mut().append(header::COOKIE, v);
    }
    let mut response = next.run(req).await;
    let sets_new = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|v| v.starts_with(&format!("{COOKIE}=")))
        });
    if !sets_new {
        let clear = format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
        if let Ok(v) = clear.parse() {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Whether this malformed cookie value is new (remembers the last 1024 distinct ones).
fn first_time_seen(value: &str) -> bool {
    use std::hash::{Hash, Hasher};
    static SEEN: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    let key = h.finish();
    let Ok(mut seen) = SEEN.lock() else {
        return true;
    };
    if seen.contains(&key) {
        return false;
    }
    if seen.len() >= 1024 {
        seen.remove(0);
    }
    seen.push(key);
    true
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER  abc ", "BeArEr abc"] {
            assert_eq!(bearer_token(v).as_deref(), Some("abc"), "{v}");
        }
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearerabc"), None);
    }
}
