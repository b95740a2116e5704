//! The HTTP surface: pages (SSR), server functions, sign-in forms, /healthz.

pub mod api_v1;
mod auth_forms;
mod body_deadline;
mod client_ip;
mod compose_form;
mod csrf;
pub(crate) mod db_gate;
mod health;
mod hooks;
mod pages;
mod probe;
mod respond;
mod serve;
mod session;
pub mod state;
mod team_forms;

use axum::http::{header, HeaderValue};
use axum::{routing::get, routing::post, Router};
use tower_http::{set_header::SetResponseHeaderLayer, trace::TraceLayer};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

pub use probe::BerthProbe;
pub use serve::serve;
pub use state::{AppState, Settings};

pub fn router(state: AppState) -> Router {
    let session_store = PostgresStore::new(state.pool.clone());
    let idle = time::Duration::seconds(state.settings.session_idle_timeout.as_secs() as i64);
    let sessions = SessionManagerLayer::new(session_store)
        .with_name(session::COOKIE)
        .with_secure(state.settings.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_expiry(Expiry::OnInactivity(idle));

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/auth/setup", post(auth_forms::setup))
        .route("/auth/login", post(auth_forms::login))
        .route("/auth/logout", post(auth_forms::logout))
        .route("/auth/team", post(team_forms::switch))
        .route("/auth/teams", post(team_forms::create))
        .route("/auth/accept", post(team_forms::accept))
        .route("/environments/{id}/compose", post(compose_form::post))
        .merge(api_v1::router())
        .merge(hooks::router())
        .route("/api/{*fn_name}", get(pages::server_fn).post(pages::server_fn))
        .merge(pages::router(state.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::resolve_viewer))
        .layer(sessions)
        .layer(axum::middleware::from_fn(session::drop_malformed_cookie))
        // Outside the session layer: while the database is down nothing waits on it.
        .layer(axum::middleware::from_fn_with_state(state.clone(), db_gate::refuse_while_down))
        // On every answer: no framing by other sites (clickjacking), no MIME sniffing,
        // no full URLs leaking to other sites in Referer.
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Outside the session layer: a refused cross-site request touches no session.
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::reject_cross_site))
        // A request body that does not arrive in time is answered 408.
        .layer(axum::middleware::from_fn_with_state(
            state.settings.body_read_timeout,
            body_deadline::enforce,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
        }))
        .with_state(state)
}
