//! What Berth reports about a service: its containers as last observed in Docker, its
//! deployments, and a one-word summary for lists and badges.

use super::{ContainerView, ServiceSpec};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a secret value is replaced with whenever a spec leaves the server.
pub const SECRET_MASK: &str = "********";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// A build waiting for a build slot.
    Queued,
    /// Its image is being built (git services).
    Building,
    Pending,
    InProgress,
    Succeeded,
    /// Failed with nothing to fall back to (or before anything was started).
    Failed,
    /// Failed, and the previous deployment keeps serving.
    RolledBack,
    /// A newer deployment replaced it before it finished.
    Superseded,
}

impl DeploymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Building => "building",
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::RolledBack => "rolled_back",
            Self::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Building,
            Self::Pending,
            Self::InProgress,
            Self::Succeeded,
            Self::Failed,
            Self::RolledBack,
            Self::Superseded,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// Rolling out (or about to): what the worker acts on.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::InProgress)
    }

    /// Not finished: building, or rolling out.
    pub fn is_active(self) -> bool {
        self.is_open() || matches!(self, Self::Queued | Self::Building)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Building => "building",
            Self::Pending => "pending",
            Self::InProgress => "in progress",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::RolledBack => "rolled back",
            Self::Superseded => "superseded",
        }
    }
}

/// A state word that is none of [`DeploymentState`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown deployment state {0:?}")]
pub struct UnknownDeploymentState(pub String);

impl TryFrom<String> for DeploymentState {
    type Error = UnknownDeploymentState;

    /// From the `deployments.state` column.
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or(UnknownDeploymentState(s))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentView {
    pub id: Uuid,
    pub service_id: Uuid,
    pub number: i32,
    pub trigger: String,
    pub triggered_by: Option<String>,
    pub state: DeploymentState,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
    /// The spec it rolls out, secrets masked.
    pub spec: ServiceSpec,
    /// Git services: the commit built, with its message and author when known.
    #[serde(default)]
    pub commit: Option<CommitInfo>,
    /// `github`, `gitlab` or `gitea` when a push webhook asked for it.
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub build_started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub build_finished_at: Option<DateTime<Utc>>,
    /// Image retention removed its image: it can no longer be rolled back to.
    #[serde(default)]
    pub image_removed: bool,
    /// The image it ran (`sha256:…`, the id of the image config), once its rollout
    /// resolved it; its containers are created from this id.
    #[serde(default)]
    pub image_id: Option<String>,
    /// The registry digest of that image (`localhost:5000/demo@sha256:…`), when it was
    /// pulled from a registry.
    #[serde(default)]
    pub image_digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommitInfo {
    pub sha: String,
    pub message: Option<String>,
    pub author: Option<String>,
}

impl CommitInfo {
    pub fn short(&self) -> &str {
        &self.sha[..12.min(self.sha.len())]
    }

    /// The first line of the message.
    pub fn title(&self) -> &str {
        self.message
            .as_deref()
            .and_then(|m| m.lines().next())
            .unwrap_or("")
    }
}

impl DeploymentView {
    /// From the start of its build (or rollout) to its end, when it has ended.
    pub fn duration(&self) -> Option<chrono::Duration> {
        let start = self.build_started_at.or(self.started_at)?;
        Some(self.finished_at.or(self.build_finished_at)? - start)
    }

    /// The image it ran, short (the first 12 hex digits of its id, as `docker images`
    /// shows them), when recorded.
    pub fn image_short(&self) -> Option<&str> {
        let id = self.image_id.as_deref()?;
        let hex = id.strip_prefix("sha256:").unwrap_or(id);
        Some(&hex[..12.min(hex.len())])
    }

    /// What set it off, in words: "push (GitHub)", "rollback", "deploy now"…
    pub fn trigger_label(&self) -> String {
        match (self.trigger.as_str(), self.provider.as_deref()) {
            ("webhook", Some("github")) => "push (GitHub)".to_owned(),
            ("webhook", Some("gitlab")) => "push (GitLab)".to_owned(),
            ("webhook", Some("gitea")) => "push (Gitea/Forgejo)".to_owned(),
            ("deploy", _) => "deploy now".to_owned(),
            (other, _) => other.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentLogLine {
    pub at: DateTime<Utc>,
    pub line: String,
    /// The rollout step this line reports, if it marks one.
    pub step: Option<super::DeployStep>,
}

/// A service's state in one word, for badges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceHealth {
    /// All wanted replicas ready.
    Running,
    /// A deployment is rolling out.
    Deploying,
    /// Fewer replicas ready than wanted.
    Degraded,
    CrashLooping,
    /// Stopped by a person, or 0 replicas.
    Stopped,
    /// The last deployment failed and nothing serves.
    Failed,
    Deleting,
}

impl ServiceHealth {
    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Deploying => "deploying",
            Self::Degraded => "degraded",
            Self::CrashLooping => "crash-looping",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
            Self::Deleting => "deleting",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceStatus {
    pub health: ServiceHealth,
    pub ready: u32,
    pub desired: u32,
}

impl ServiceStatus {
    /// The summary from the desired replica count, the open deployment (if one rolls out),
    /// the last finished deployment's state, and the observed containers.
    pub fn summarize(
        desired: u32,
        deleting: bool,
        rolling_out: bool,
        last_failed_with_nothing_live: bool,
        containers: &[ContainerView],
    ) -> Self {
        let ready = containers.iter().filter(|c| c.is_ready()).count() as u32;
        let health = if deleting {
            ServiceHealth::Deleting
        } else if rolling_out {
            ServiceHealth::Deploying
        } else if containers.iter().any(|c| c.crash_looping) {
            ServiceHealth::CrashLooping
        } else if desired == 0 {
            if last_failed_with_nothing_live && containers.is_empty() {
                ServiceHealth::Failed
            } else {
                ServiceHealth::Stopped
            }
        } else if last_failed_with_nothing_live && ready == 0 {
            ServiceHealth::Failed
        } else if ready >= desired {
            ServiceHealth::Running
        } else {
            ServiceHealth::Degraded
        };
        ServiceStatus {
            health,
            ready,
            desired,
        }
    }
}

/// A service as the dashboard and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceView {
    pub id: Uuid,
    pub name: String,
    /// Secrets masked.
    pub spec: ServiceSpec,
    pub stopped: bool,
    pub deleting: bool,
    pub status: ServiceStatus,
    pub live_deployment: Option<i32>,
    pub latest_deployment: Option<DeploymentView>,
    pub containers: Vec<ContainerView>,
    /// What the edge proxy last applied for this service's domains (`None`: nothing yet,
    /// or no domains, or Berth routes none).
    pub route: Option<RouteStatus>,
    /// Public URLs of the domains (filled where the proxy's settings are known).
    #[serde(default)]
    pub urls: Vec<String>,
    /// The project and environment it belongs to.
    pub place: crate::domain::project::ServicePlace,
    /// Its env would resolve differently now than its live deployment's did (a shared
    /// variable, another service's variable or a fact it refers to changed): a redeploy
    /// gives its containers the new values.
    #[serde(default)]
    pub needs_redeploy: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The edge proxy's side of a service's route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RouteStatus {
    /// Replicas the proxy sends requests to now.
    pub upstreams: i32,
    /// Why the proxy could not be configured.
    pub error: Option<String>,
}

impl ServiceView {
    /// Fills [`ServiceView::urls`] for the way the edge proxy listens.
    pub fn with_urls(mut self, proxy: Option<super::ProxyListen>) -> Self {
        if let (Some(p), Some(route)) = (proxy, &self.spec.http) {
            self.urls = route.domains.iter().map(|d| p.url(d)).collect();
        }
        self
    }
}

impl RouteStatus {
    /// Requests to the service's domains reach a replica.
    pub fn live(&self) -> bool {
        self.error.is_none() && self.upstreams > 0
    }
}

impl ServiceSpec {
    /// The spec with every secret value replaced by [`SECRET_MASK`].
    pub fn masked(mut self) -> Self {
        for var in self.env.iter_mut().filter(|v| v.secret) {
            var.value = SECRET_MASK.to_owned();
        }
        if let Some(auth) = self.registry_auth.as_mut() {
            auth.password = SECRET_MASK.to_owned();
        }
        if let Some(c) = self.git.as_mut().and_then(|g| g.credentials.as_mut()) {
            *c.secret_mut() = SECRET_MASK.to_owned();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::service::ReplicaIndex;

    fn container(state: &str, health: Option<&str>, crash: bool) -> ContainerView {
        ContainerView {
            id: "c".into(),
            name: "n".into(),
            replica: Some(ReplicaIndex(0)),
            deployment_id: None,
            state: state.into(),
            health: health.map(Into::into),
            exit_code: None,
            restart_count: 0,
            started_at: None,
            crash_looping: crash,
            last_logs: None,
            ip: None,
            observed_at: Utc::now(),
            note: None,
            node: None,
        }
    }

    #[test]
    fn summary_words() {
        let run = container("running", None, false);
        let sick = container("running", Some("unhealthy"), false);
        let crash = container("restarting", None, true);
        let s = |d, del, roll, failed, cs: &[ContainerView]| {
            ServiceStatus::summarize(d, del, roll, failed, cs).health
        };
        assert_eq!(
            s(1, false, false, false, std::slice::from_ref(&run)),
            ServiceHealth::Running
        );
        assert_eq!(
            s(2, false, false, false, &[run.clone(), sick.clone()]),
            ServiceHealth::Degraded
        );
        assert_eq!(
            s(1, false, true, false, std::slice::from_ref(&run)),
            ServiceHealth::Deploying
        );
        assert_eq!(
            s(1, false, false, false, &[crash]),
            ServiceHealth::CrashLooping
        );
        assert_eq!(s(0, false, false, false, &[]), ServiceHealth::Stopped);
        assert_eq!(s(1, false, false, true, &[]), ServiceHealth::Failed);
        assert_eq!(s(1, true, false, false, &[run]), ServiceHealth::Deleting);
        assert_eq!(
            ServiceStatus::summarize(2, false, false, false, &[sick]).ready,
            0
        );
    }

    #[test]
    fn deployment_states_read_from_their_column() {
        assert_eq!(
            DeploymentState::try_from("rolled_back".to_owned()),
            Ok(DeploymentState::RolledBack)
        );
        assert_eq!(
            DeploymentState::try_from("lost".to_owned()),
            Err(UnknownDeploymentState("lost".to_owned()))
        );
    }

    #[test]
    fn masking_hides_only_secret_values() {
        let spec: ServiceSpec = serde_json::from_value(serde_json::json!({
            "name": "web", "image": "nginx",
            "env": [{"key": "A", "value": "plain"}, {"key": "B", "value": "hunter2", "secret": true}]
        }))
        .unwrap();
        let m = spec.masked();
        assert_eq!(m.env[0].value, "plain");
        assert_eq!(m.env[1].value, SECRET_MASK);
    }
}
