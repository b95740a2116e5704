//! The first-run, sign-in and sign-out forms. Plain form posts, so they work with
//! JavaScript off; the pages that show them live in `app::pages`.

use super::session;
use super::{client_ip::client_ip, respond, state::AppState};
use crate::auth::password;
use app::domain::{FormError, LoginForm, SetupForm};
use app::store::{accounts, StoreError};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::Response,
};
use std::{net::SocketAddr, sync::atomic::Ordering, time::Instant};
use tower_sessions::Session;

pub async fn setup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if state.set_up.load(Ordering::Relaxed) {
        return respond::failure(&headers, FormError::AlreadySetUp, "/login", &[]);
    }
    let form: SetupForm = match respond::parse_form(&headers, &body) {
        Ok(f) => f,
        Err(e) => return respond::failure(&headers, e, "/setup", &[]),
    };
    let echo = [
        ("email", form.email.as_str()),
        ("name", form.name.as_str()),
        ("team_name", form.team_name.as_str()),
    ];
    let valid = match form.validate() {
        Ok(v) => v,
        Err(e) => return respond::failure(&headers, e, "/setup", &echo),
    };
    let outcome = async {
        let hash = password::hash(valid.password.clone()).await?;
        let owner = accounts::create_owner(&state.pool, &valid, &hash).await?;
        let ip = client_ip(peer, &headers, &state.settings.trusted_proxies);
        start_session(&state, &session, &headers, owner.user.id, owner.team.id, ip).await?;
        anyhow::Ok(owner)
    }
    .await;
    match outcome {
        Ok(owner) => {
            state.set_up.store(true, Ordering::Relaxed);
            tracing::info!(user = %owner.user.id, team = %owner.team.slug, "owner account created");
            respond::success(&headers, "/")
        }
        Err(err)
            if matches!(
                err.downcast_ref::<StoreError>(),
                Some(StoreError::AlreadySetUp)
            ) =>
        {
            state.set_up.store(true, Ordering::Relaxed);
            respond::failure(&headers, FormError::AlreadySetUp, "/login", &[])
        }
        Err(err) => {
            tracing::error!("first run failed: {err:#}");
            respond::failure(&headers, FormError::Internal, "/setup", &echo)
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: LoginForm = match respond::parse_form(&headers, &body) {
        Ok(f) => f,
        Err(e) => return respond::failure(&headers, e, "/login", &[]),
    };
    let (email, password) = match form.validate() {
        Ok(v) => v,
        Err(e) => {
            return respond::failure(&headers, e, "/login", &[("email", form.email.as_str())])
        }
    };
    let echo = [("email", email.as_str())];
    let ip = client_ip(peer, &headers, &state.settings.trusted_proxies);
    if let Err(retry_after) = state.limiter.check(&email, ip, Instant::now()) {
        tracing::warn!(%ip, retry_after_s = retry_after.as_secs(), "sign-in refused: too many failures");
        return respond::failure(&headers, FormError::RateLimited, "/login", &echo);
    }

    let creds = match accounts::credentials_by_email(&state.pool, &email).await {
        Ok(c) => c,
        Err(err) => {
            tracing::error!("sign-in lookup failed: {err:#}");
            return respond::failure(&headers, FormError::Internal, "/login", &echo);
        }
    };
    // Unknown emails are checked against a decoy hash: both failures cost the same time.
    let stored = creds
        .as_ref()
        .map_or_else(|| state.decoy_hash.to_string(), |c| c.password_hash.clone());
    let matches = password::verify(password.to_owned(), stored).await && creds.is_some();
    if let (Some(known), false) = (&creds, matches) {
        if let Err(err) =
            accounts::record_failed_sign_in(&state.pool, known.user_id, Some(ip)).await
        {
            tracing::error!("auditing a failed sign-in: {err:#}");
        }
    }
    let Some(creds) = creds.filter(|_| matches) else {
        state.limiter.record_failure(&email, ip, Instant::now());
        tracing::warn!(%ip, "sign-in failed: wrong email or password");
        return respond::failure(&headers, FormError::BadCredentials, "/login", &echo);
    };

    let team = match accounts::session_info(&state.pool, creds.user_id, None).await {
        Ok(Some(info)) => info.team.id,
        Ok(None) => return respond::failure(&headers, FormError::BadCredentials, "/login", &echo),
        Err(err) => {
            tracing::error!("sign-in team lookup failed: {err:#}");
            return respond::failure(&headers, FormError::Internal, "/login", &echo);
        }
    };
    if let Err(err) = start_session(&state, &session, &headers, creds.user_id, team, ip).await {
        tracing::error!("starting a session failed: {err:#}");
        return respond::failure(&headers, FormError::Internal, "/login", &echo);
    }
    state.limiter.record_success(&email);
    tracing::info!(user = %creds.user_id, %ip, "signed in");
    respond::success(&headers, "/")
}

/// A new browser session for `user` in `team`: a login row (audited) and the cookie.
pub(super) async fn start_session(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    user: uuid::Uuid,
    team: uuid::Uuid,
    ip: std::net::IpAddr,
) -> anyhow::Result<()> {
    let agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let login = accounts::start_login(&state.pool, user, team, Some(ip), agent).await?;
    session::sign_in(session, user, team, login).await?;
    Ok(())
}

pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    match session::sign_out(&state, &session).await {
        Ok(true) => respond::success(&headers, "/login?notice=signed_out"),
        Ok(false) => respond::failure(&headers, FormError::NotSignedIn, "/login", &[]),
        Err(err) => {
            tracing::error!("ending a session failed: {err:#}");
            respond::failure(&headers, FormError::Internal, "/login", &[])
        }
    }
}
