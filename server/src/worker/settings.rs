//! How the worker behaves: deadlines, intervals, concurrency, and what runs beside it.

use crate::{
    build::BuildSettings, jobs::JobSettings, notify::NotifySettings, proxy::ProxySettings,
};
use std::time::Duration;

/// What runs a service's replicas (`BERTH_ORCHESTRATOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Orchestrator {
    /// Containers on the one engine Berth speaks to (the default).
    #[default]
    Engine,
    /// A Docker Swarm service per Berth service, on the swarm whose manager Berth speaks
    /// to: Swarm schedules, restarts and reschedules the tasks.
    Swarm,
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// What runs the replicas: containers on the engine, or Swarm services.
    pub orchestrator: Orchestrator,
    /// A rollout whose new replicas are not all ready by then is rolled back.
    pub deploy_timeout: Duration,
    /// A rollout's image pull not finished by then fails the rollout; the deadline above
    /// starts once the image is present.
    pub pull_timeout: Duration,
    /// How long a deployment may wait for the services it depends on (`depends_on`)
    /// before it fails; its deadline above starts when the wait ends.
    pub dependency_wait: Duration,
    /// How often every service is reconciled even without a trigger.
    pub resync_interval: Duration,
    /// SIGTERM → SIGKILL grace when a container is stopped.
    pub stop_grace: Duration,
    /// Outside a rollout, a running replica unhealthy (its own check failing, or Berth's
    /// HTTP probe) for this long is replaced; `None`: never.
    pub unhealthy_replace_after: Option<Duration>,
    /// How long a rollout's lease lasts without renewal.
    pub lease: Duration,
    /// Reconciles running at once (different services).
    pub concurrency: usize,
    /// The edge proxy (Caddy) that routes domains to ready replicas; `None`: no routing.
    pub proxy: Option<ProxySettings>,
    /// Image builds of git services (run by the leader, next to the reconciler).
    pub build: BuildSettings,
    /// Backups and restores (run by the leader, next to the reconciler).
    pub backups: crate::backups::BackupSettings,
    /// Notification deliveries (sent by the leader, next to the reconciler).
    pub notify: NotifySettings,
    /// Scheduled jobs and one-off commands (run by the leader, next to the reconciler).
    pub jobs: JobSettings,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            orchestrator: Orchestrator::Engine,
            deploy_timeout: Duration::from_secs(300),
            pull_timeout: Duration::from_secs(600),
            dependency_wait: Duration::from_secs(900),
            resync_interval: Duration::from_secs(15),
            stop_grace: Duration::from_secs(10),
            unhealthy_replace_after: Some(Duration::from_secs(60)),
            lease: Duration::from_secs(30),
            concurrency: 8,
            proxy: None,
            backups: Default::default(),
            build: BuildSettings::default(),
            notify: NotifySettings::default(),
            jobs: JobSettings::default(),
        }
    }
}
