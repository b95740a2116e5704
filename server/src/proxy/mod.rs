//! The edge proxy: Berth keeps Caddy's routes equal to what Postgres says — each routed
//! service's domains to its ready replicas — through Caddy's admin API.
//!
//! Desired routes are re-read from Postgres on every sync (the worker's container records
//! say which replicas are ready), so a berth restart rebuilds them before any reconcile
//! runs, and a periodic check re-applies them when Caddy restarts empty. Replicas about to
//! be stopped are first taken out of the routes ("drained") and stopped only after a
//! delay, so requests in flight finish and no new one reaches them.

mod admin;
pub mod caddy_config;
pub mod local_caddy;

use admin::CaddyAdmin;
use app::domain::service::{HttpRoute, ProxyListen};
use app::store::routes::{self, RouteState};
use caddy_config::ServiceRoute;
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

/// How often Caddy's config is compared with the routes even when nothing changed here.
const CHECK_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// Caddy's admin API, e.g. `http://127.0.0.1:2019`.
    pub admin_url: String,
    pub listen: ProxyListen,
    /// Between taking replicas out of the routes and stopping them.
    pub drain_delay: Duration,
    /// The dashboard's own domain and address (`berth.example.com`, `127.0.0.1:3000`).
    pub dashboard: Option<(String, String)>,
}

pub struct Proxy {
    admin: CaddyAdmin,
    settings: ProxySettings,
    state: Mutex<State>,
    wake: Notify,
}

#[derive(Default)]
struct State {
    /// Containers kept out of the routes until they are gone.
    draining: HashSet<String>,
    /// Containers in the routes Caddy last accepted; `None` before the first sync (Caddy
    /// may still hold routes written by an earlier berth).
    routed: Option<HashSet<String>>,
    /// What was last written to `service_routes`.
    recorded: Option<Vec<RouteState>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Caddy(#[from] admin::AdminError),
    #[error(transparent)]
    Store(#[from] app::store::StoreError),
}

impl Proxy {
    pub fn new(settings: ProxySettings) -> Arc<Proxy> {
        Arc::new(Proxy {
            admin: CaddyAdmin::new(&settings.admin_url),
            settings,
            state: Mutex::new(State::default()),
            wake: Notify::new(),
        })
    }

    pub fn drain_delay(&self) -> Duration {
        self.settings.drain_delay
    }

    /// Asks the sync loop for a sync soon (a replica's readiness may have changed).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Keeps Caddy in step for as long as it runs: at once, when poked, and every
    /// [`CHECK_EVERY`] (which restores the routes after Caddy restarts without them).
    pub async fn run(self: Arc<Self>, pool: PgPool) {
        let mut failing = false;
        loop {
            match self.sync(&pool).await {
                Ok(()) if failing => {
                    tracing::info!("edge proxy routes applied again");
                    failing = false;
                }
                Ok(()) => {}
                Err(e) if !failing => {
                    tracing::warn!(error = %e, "edge proxy routes not applied; retrying");
                    failing = true;
                }
                Err(_) => {}
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(CHECK_EVERY) => {}
            }
        }
    }

    /// Takes `containers` out of the routes. True when any of them was routed (the caller
    /// then waits the drain delay before stopping them).
    pub async fn drain(&self, pool: &PgPool, containers: &[String]) -> bool {
        let was_routed = {
            let mut state = self.state.lock().await;
            state.draining.extend(containers.iter().cloned());
            match &state.routed {
                Some(routed) => containers.iter().any(|c| routed.contains(c)),
                None => true,
            }
        };
        if was_routed {
            if let Err(e) = self.sync(pool).await {
                tracing::warn!(error = %e, "could not take replicas out of the routes");
            }
        }
        was_routed
    }

    /// Makes Caddy's routes equal to the desired ones, and records the outcome per service.
    pub async fn sync(&self, pool: &PgPool) -> Result<(), SyncError> {
        let mut state = self.state.lock().await;
        let sources = routes::route_sources(pool).await?;
        // A draining container that no longer shows up as ready is gone (or going): forget it.
        let ready: HashSet<&str> = sources
            .iter()
            .flat_map(|s| s.upstreams.iter().map(|u| u.container_id.as_str()))
            .collect();
        state.draining.retain(|c| ready.contains(c.as_str()));
        let mut routed = HashSet::new();
        let wanted: Vec<ServiceRoute> = sources
            .iter()
            .map(|s| {
                let live: Vec<_> = s
                    .upstreams
                    .iter()
                    .filter(|u| !state.draining.contains(&u.container_id))
                    .collect();
                routed.extend(live.iter().map(|u| u.container_id.clone()));
                ServiceRoute {
                    name: s.name.clone(),
                    route: s.route.clone(),
                    dials: live.iter().map(|u| u.dial.clone()).collect(),
                }
            })
            .collect();
        // The dashboard's route goes first: no service can take its domain over.
        let dashboard = self
            .settings
            .dashboard
            .iter()
            .map(|(host, addr)| ServiceRoute {
                name: "the Berth dashboard".to_owned(),
                route: HttpRoute {
                    domains: vec![host.clone()],
                    port: 0,
                    https_redirect: true,
                    www_redirect: false,
                },
                dials: vec![addr.clone()],
            });
        let all: Vec<ServiceRoute> = dashboard.chain(wanted.iter().cloned()).collect();
        let servers = caddy_config::servers(&self.settings.listen, &all);
        let applied = self.apply(&servers).await;
        if applied.is_ok() {
            state.routed = Some(routed);
        }
        let error = applied.as_ref().err().map(|e| e.to_string());
        let states: Vec<RouteState> = sources
            .iter()
            .zip(&wanted)
            .map(|(s, w)| RouteState {
                service_id: s.service_id,
                team_id: s.team_id,
                upstreams: w.dials.len() as i32,
                error: error.clone(),
            })
            .collect();
        if state.recorded.as_ref() != Some(&states) {
            routes::record_route_states(pool, &states).await?;
            state.recorded = Some(states);
        }
        Ok(applied?)
    }

    async fn apply(
        &self,
        servers: &[(&str, Option<serde_json::Value>)],
    ) -> Result<(), admin::AdminError> {
        // Another writer changing Caddy's config between our read and write makes the
        // write fail (ETag); read again and retry a few times.
        for _ in 0..3 {
            let (current, etag) = self.admin.config().await?;
            if caddy_config::holds(&current, servers) {
                return Ok(());
            }
            let next = caddy_config::merged(&current, servers);
            match self.admin.replace(&next, etag.as_deref()).await {
                Err(admin::AdminError::Conflict) => continue,
                other => return other,
            }
        }
        Err(admin::AdminError::Conflict)
    }
}
