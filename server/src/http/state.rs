//! What every handler shares: the pool, the engine, the secret box, settings, the live hub
//! and the sign-in limiter; and what pages and server functions get from it.

use super::probe::BerthProbe;
use crate::live::{LiveHub, MetricsSampler};
use crate::{
    auth::rate_limit::LoginLimiter, db::DatabaseHealth, engine::Engine, secrets::SecretBox,
};
use app::api::context::{ServerContext, SystemProbe};
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use std::{
    net::IpAddr,
    sync::{atomic::AtomicBool, Arc},
    time::Duration,
};

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
    /// BERTH_GIT_LOCAL_ROOT, canonical: local git repositories must be below it.
    pub git_local_root: Option<String>,
    /// A connection that has not sent a whole request head (line and headers) this long
    /// after it opened, or after its previous request, is closed.
    pub header_read_timeout: Duration,
    /// A request body not received in full this long after its handler starts: 408.
    pub body_read_timeout: Duration,
    /// BERTH_TIME_ZONE: job schedules are read and previewed in it.
    pub time_zone: chrono_tz::Tz,
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
            git_local_root: c.git_local_root(),
            header_read_timeout: c.header_read_timeout,
            body_read_timeout: c.body_read_timeout,
            time_zone: c.time_zone,
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
            git_local_root: None,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            time_zone: chrono_tz::Tz::UTC,
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
    /// Whether the database answers (and the embedded server's supervisor status).
    pub database: DatabaseHealth,
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
            database: DatabaseHealth::new(&pool, None),
        })
    }

    /// Uses `database` as the availability signal (the one that follows the embedded
    /// server's supervisor).
    pub fn with_database(mut self, database: DatabaseHealth) -> Self {
        self.database = database;
        self
    }

    pub fn probe(&self) -> BerthProbe {
        BerthProbe {
            pool: self.pool.clone(),
            engine: self.engine.clone(),
            database: self.database.clone(),
        }
    }

    /// What a command needs from the server.
    pub fn deps(&self) -> app::commands::Deps<'_> {
        app::commands::Deps {
            pool: &self.pool,
            secrets: &self.secrets,
            git_local_root: self.settings.git_local_root.as_deref(),
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
            git_local_root: self.settings.git_local_root.clone(),
            time_zone: self.settings.time_zone,
            swarm: Arc::new(self.engine.clone()),
        }
    }
}
