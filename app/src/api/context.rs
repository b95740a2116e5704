//! What server functions get from the server: the pool, the status probe, and the viewer
//! the server's session layer resolved for this request.

use crate::domain::{SessionInfo, SystemStatus};
use leptos::prelude::*;
use sqlx::PgPool;
use std::{future::Future, pin::Pin, sync::Arc};

/// The signed-in member for this request (`None`: signed out). The server's session layer
/// inserts it into the request extensions before any page or server function runs: it is
/// the one place where a session becomes a user, a team and a role.
#[derive(Debug, Clone, Default)]
pub struct Viewer(pub Option<SessionInfo>);

/// The caller's address (behind trusted proxies: the forwarded one), for the audit log.
/// Inserted by the same layer as `Viewer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

/// Password hashing (argon2id, on the server's blocking pool); implemented by the server.
pub trait Passwords: Send + Sync + 'static {
    fn hash(&self, password: String) -> Pin<Box<dyn Future<Output = Option<String>> + Send>>;
    fn verify(&self, password: String, hash: String) -> Pin<Box<dyn Future<Output = bool> + Send>>;
}

/// Reports on Postgres and the Docker engine; implemented by the server.
pub trait SystemProbe: Send + Sync + 'static {
    fn status(&self) -> Pin<Box<dyn Future<Output = SystemStatus> + Send + '_>>;
}

/// CPU/memory samples of a service's containers; implemented by the server's sampler.
pub trait MetricsSource: Send + Sync + 'static {
    /// Also marks the service as looked at, so it is sampled often for a while.
    fn service_metrics(
        &self,
        service: uuid::Uuid,
        mem_limit_mb: Option<u32>,
    ) -> crate::domain::service::ServiceMetrics;
}

/// Provided to every page render and server function call.
#[derive(Clone)]
pub struct ServerContext {
    pub pool: PgPool,
    pub probe: Arc<dyn SystemProbe>,
    /// Seals secret values before the store writes them.
    pub secrets: crate::store::secret_box::SecretBox,
    pub metrics: Arc<dyn MetricsSource>,
    /// How the edge proxy listens; `None` when Berth routes no domains.
    pub proxy: Option<crate::domain::service::ProxyListen>,
    /// The dashboard's public URL (BERTH_PUBLIC_URL), for links given to other systems.
    pub public_url: Option<String>,
    pub passwords: Arc<dyn Passwords>,
    /// BERTH_GIT_LOCAL_ROOT: local git repositories must be below it (`None`: none allowed).
    pub git_local_root: Option<String>,
    /// BERTH_TIME_ZONE: job schedules are read and previewed in it.
    pub time_zone: chrono_tz::Tz,
    /// The swarm's nodes, through Berth's engine (the Nodes page).
    pub swarm: Arc<dyn crate::commands::node::Swarm>,
}

impl ServerContext {
    /// The public URL, or (unset) the address this request came to.
    pub fn public_base(&self) -> String {
        let parts = use_context::<http::request::Parts>();
        let host = parts
            .as_ref()
            .and_then(|p| p.headers.get(http::header::HOST))
            .and_then(|h| h.to_str().ok());
        crate::domain::service::public_base(self.public_url.as_deref(), host)
    }
}

impl ServerContext {
    /// What a command needs from the server.
    pub fn deps(&self) -> crate::commands::Deps<'_> {
        crate::commands::Deps {
            pool: &self.pool,
            secrets: &self.secrets,
            git_local_root: self.git_local_root.as_deref(),
        }
    }
}

/// The signed-in member as a command's caller (401 when signed out), with the server's
/// context. The role is checked by each command.
pub fn caller() -> Result<(ServerContext, crate::commands::Caller), ServerFnError> {
    let me = require_member()?;
    let caller = crate::commands::Caller::of(&me, client_addr());
    Ok((server_context()?, caller))
}

pub fn server_context() -> Result<ServerContext, ServerFnError> {
    use_context::<ServerContext>().ok_or_else(|| ServerFnError::new("server context missing"))
}

/// The viewer of the current request.
pub fn viewer() -> Option<SessionInfo> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Viewer>().cloned())
        .and_then(|v| v.0)
}

/// The viewer, or a 401 for the caller.
pub fn require_member() -> Result<SessionInfo, ServerFnError> {
    viewer().ok_or_else(|| {
        set_status(http::StatusCode::UNAUTHORIZED);
        ServerFnError::new("You are not signed in.")
    })
}

/// Sets the answer's status of a server function (or of the page it renders in).
pub fn set_status(code: http::StatusCode) {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(code);
    }
}

/// The caller's address for this request.
pub fn client_addr() -> Option<std::net::IpAddr> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ClientAddr>().copied())
        .and_then(|a| a.0)
}

/// The member as the store's actor: who, in which team, from where.
pub fn actor_of(me: &SessionInfo) -> crate::store::audit::Actor {
    crate::store::audit::Actor::of(me, client_addr())
}

/// The one authorisation check of a server function: signed in (401) and the role allows
/// `p` (403).
pub fn require(
    p: crate::domain::Permission,
) -> Result<(ServerContext, SessionInfo, crate::store::audit::Actor), ServerFnError> {
    let me = require_member()?;
    if !me.role.allows(p) {
        set_status(http::StatusCode::FORBIDDEN);
        return Err(ServerFnError::new("Your role does not allow this."));
    }
    let actor = actor_of(&me);
    Ok((server_context()?, me, actor))
}
