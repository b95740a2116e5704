//! The worker's shared vocabulary: the handle every reconcile runs with, what a reconcile
//! can fail with, when to look again, and the deployment whose containers should run. Of
//! its sibling modules it imports only the pure [`plan`](super::plan).

use super::pulls::Pulls;
use super::settings::WorkerSettings;
use crate::{
    engine::{ContainerError, Engine, ImageError},
    proxy::Proxy,
    secrets::SecretBox,
};
use app::domain::service::{DeployStep, EventKind, RestartPolicy, ServiceSpec};
use app::store::{change::add_event, worker as store, worker::DeploymentRow, StoreError};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use uuid::Uuid;

/// What the reconciler needs; cheap to clone into each reconcile task.
#[derive(Clone)]
pub struct Worker {
    pub(super) pool: PgPool,
    pub(super) engine: Engine,
    pub(super) secrets: SecretBox,
    pub(super) settings: Arc<WorkerSettings>,
    /// This process, as a rollout lease owner.
    pub(super) instance: Uuid,
    pub(super) proxy: Option<Arc<Proxy>>,
    /// Image pulls of rollouts, running beside the reconciles.
    pub(super) pulls: Pulls,
    /// Since when this process has seen each (service, container) unhealthy without a
    /// break: the clock of [`WorkerSettings::unhealthy_replace_after`].
    pub(super) unhealthy_since: Arc<Mutex<UnhealthyClock>>,
    /// What each waiting deployment was last told it waits for (see `gate`), so the
    /// line is written once per change.
    pub(super) waiting_told: Arc<Mutex<HashMap<Uuid, String>>>,
}

/// Since when each (service, container id) has been seen unhealthy without a break.
pub(super) type UnhealthyClock = HashMap<(Uuid, String), DateTime<Utc>>;

impl Worker {
    pub fn new(pool: PgPool, engine: Engine, secrets: SecretBox, settings: WorkerSettings) -> Self {
        Worker {
            pool,
            engine,
            secrets,
            proxy: settings.proxy.clone().map(Proxy::new),
            settings: Arc::new(settings),
            instance: Uuid::new_v4(),
            pulls: Pulls::default(),
            unhealthy_since: Arc::default(),
            waiting_told: Arc::default(),
        }
    }

    /// SIGTERM → SIGKILL grace when a container is stopped, in whole seconds.
    pub(super) fn grace(&self) -> i32 {
        self.settings.stop_grace.as_secs() as i32
    }

    /// Appends to a deployment's log; a failure to log does not stop the worker.
    pub(super) async fn log(&self, deployment: Uuid, step: Option<DeployStep>, line: &str) {
        if let Err(e) = store::log(&self.pool, deployment, step, line).await {
            tracing::warn!(error = %e, "could not write the deployment log");
        }
    }

    /// Adds to a service's timeline; a failure to do so does not stop the worker.
    pub(super) async fn event(&self, service: Uuid, kind: EventKind, message: &str) {
        if let Err(e) = add_event(&self.pool, service, kind, message).await {
            tracing::warn!(error = %e, "could not write the service timeline");
        }
    }
}

/// When to look at a service again after a reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Only when a trigger names it.
    Idle,
    After(Duration),
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    Image(#[from] ImageError),
}

/// The deployment whose containers should run, with its spec opened (secrets in the clear).
pub(super) struct Goal {
    pub deployment: DeploymentRow,
    pub spec: ServiceSpec,
    /// It is the open rollout (not the live deployment).
    pub rolling: bool,
}

impl Goal {
    /// Replicas wanted: none while the service is stopped.
    pub fn replicas(&self, stopped: bool) -> u32 {
        if stopped {
            0
        } else {
            self.spec.replicas
        }
    }

    /// What its containers run: the image id the deployment recorded, or the spec's
    /// reference for one that recorded none (made before image ids were recorded).
    pub fn image(&self) -> &str {
        self.deployment
            .image_id
            .as_deref()
            .unwrap_or(&self.spec.image)
    }

    /// What the container plan aims at; outside a rollout a replica unhealthy for
    /// `replace_unhealthy_after` is replaced.
    pub fn target(
        &self,
        stopped: bool,
        replace_unhealthy_after: Option<Duration>,
    ) -> super::plan::Target {
        super::plan::Target {
            template: self.deployment.template.clone(),
            replicas: self.replicas(stopped),
            rolling: self.rolling,
            stop_first: self.spec.stop_first_reason().is_some(),
            restart_exited: self.spec.restart_policy != RestartPolicy::No,
            replace_unhealthy_after,
        }
    }
}
