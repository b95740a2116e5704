//! The HTTP surface: pages (SSR), server functions, sign-in forms, /healthz.

pub mod api_v1;
mod auth_forms;
mod client_ip;
mod csrf;
mod health;
mod hooks;
mod pages;
mod respond;
mod team_forms;

use crate::live::{LiveHub, MetricsSampler};
use crate::{auth::rate_limit::LoginLimiter, engine::Engine, secrets::SecretBox};
use app::api::context::{ServerContext, SystemProbe};
use axum::http::{header, HeaderValue};
use axum::{extract::FromRef, routing::get, routing::post, Router};
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use std::{
    net::{IpAddr, SocketAddr},
    sync::{atomic::AtomicBool, Arc},
    time::Duration,
};
use tower_http::{set_header::SetResponseHeaderLayer, trace::TraceLayer};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

pub(crate) use client_ip::client_ip;
pub use health::BerthProbe;

/// HTTP behaviour that configuration decides.
#[derive(Debug, Clone)]
pub struct Settings {
    pub secure_cookies: bool,
    pub session_idle_timeout: Duration,
    pub session_lifetime: Duration,
    pub trusted_proxies: Vec<IpAddr>,
    /// Extra origin accepted for unsafe requests besides the request's own Host.
    pub public_origin: Option<String>,
    /// How the edge proxy listens (for the URLs pages show); `None`: no routing.
    pub proxy: Option<app::domain::service::ProxyListen>,
}

impl Settings {
    pub fn from_config(c: &crate::config::Config) -> Self {
        Settings {
            secure_cookies: c.secure_cookies(),
            session_idle_timeout: c.session_idle_timeout,
            session_lifetime: c.session_lifetime,
            trusted_proxies: c.trusted_proxies.clone(),
            public_origin: c
                .public_url
                .as_deref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            proxy: c.proxy_settings().map(|p| p.listen),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            session_idle_timeout: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 3600),
            trusted_proxies: Vec::new(),
            public_origin: None,
            proxy: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub engine: Engine,
    pub secrets: SecretBox,
    pub settings: Arc<Settings>,
    pub leptos_options: LeptosOptions,
    pub limiter: Arc<LoginLimiter>,
    /// Cached "an owner exists": once true it stays true.
    pub set_up: Arc<AtomicBool>,
    /// A real hash to check against when the email is unknown, so both failures take as long.
    pub decoy_hash: Arc<str>,
    /// Database change announcements for the live streams.
    pub hub: LiveHub,
    pub metrics: MetricsSampler,
    /// Set when berth shuts down: open streams end so in-flight requests can finish.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub async fn new(
        pool: PgPool,
        engine: Engine,
        secrets: SecretBox,
        settings: Settings,
        leptos_options: LeptosOptions,
    ) -> anyhow::Result<Self> {
        let decoy = crate::auth::password::hash(uuid::Uuid::new_v4().to_string()).await?;
        Ok(AppState {
            pool: pool.clone(),
            engine: engine.clone(),
            secrets,
            settings: Arc::new(settings),
            leptos_options,
            limiter: Arc::default(),
            set_up: Arc::default(),
            decoy_hash: decoy.into(),
            hub: LiveHub::start(pool.clone()),
            metrics: MetricsSampler::start(engine.clone()),
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
        })
    }

    pub fn probe(&self) -> BerthProbe {
        BerthProbe {
            pool: self.pool.clone(),
            engine: self.engine.clone(),
        }
    }

    /// What pages and server functions get through Leptos' context.
    pub fn server_context(&self) -> ServerContext {
        let probe: Arc<dyn SystemProbe> = Arc::new(self.probe());
        ServerContext {
            pool: self.pool.clone(),
            probe,
            secrets: self.secrets.clone(),
            metrics: Arc::new(self.metrics.clone()),
            proxy: self.settings.proxy,
            public_url: self.settings.public_origin.clone(),
            passwords: Arc::new(crate::auth::password::Argon2Passwords),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let session_store = PostgresStore::new(state.pool.clone());
    let idle = time::Duration::seconds(state.settings.session_idle_timeout.as_secs() as i64);
    let sessions = SessionManagerLayer::new(session_store)
        .with_name("berth_session")
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
        .merge(api_v1::router())
        .merge(hooks::router())
        .route("/api/{*fn_name}", get(pages::server_fn).post(pages::server_fn))
        .merge(pages::router(state.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::session::resolve_viewer))
        .layer(sessions)
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
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
        }))
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closing = state.closing.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.send_replace(true);
        })
        .await
}
