//! Containers Berth owns: found by label, created from a service spec, started, removed.
//! Every operation that is already true counts as success (create 409, start 304,
//! remove 404), so the worker can repeat any of them after a crash.

use super::client::Engine;
use super::observed::LABEL_ENVIRONMENT;
use super::observed::{
    label_filter, Observed, LABEL_INSTANCE, LABEL_JOB_RUN, LABEL_MANAGED, LABEL_SERVICE, LABEL_TEAM,
};
use super::replica::{container_body, ReplicaTemplate};
use app::domain::log_line;
use app::domain::project::Placement;
use app::domain::service::ServiceSpec;
use bollard::errors::Error as DockerError;
use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures::StreamExt;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("Docker engine: {0}")]
    Engine(#[from] DockerError),
    #[error("could not pull image {image}: {reason}")]
    Pull { image: String, reason: String },
    #[error("image {0} is no longer on this engine")]
    ImageMissing(String),
    #[error("host port {0} is already in use on this machine")]
    HostPortTaken(u16),
    #[error("a container named {0} exists and is not Berth's")]
    NameTaken(String),
}

impl ContainerError {
    /// Errors that repeating will not fix: the deployment fails instead of retrying.
    pub fn is_permanent(&self) -> bool {
        match self {
            ContainerError::Pull { .. }
            | ContainerError::ImageMissing(_)
            | ContainerError::HostPortTaken(_)
            | ContainerError::NameTaken(_) => true,
            ContainerError::Engine(DockerError::DockerResponseServerError {
                status_code, ..
            }) => *status_code == 400,
            ContainerError::Engine(_) => false,
        }
    }
}

pub(super) fn is_status(e: &DockerError, code: u16) -> bool {
    matches!(e, DockerError::DockerResponseServerError { status_code, .. } if *status_code == code)
}

impl Engine {
    /// Every container Berth owns (optionally only one service's), inspected.
    pub async fn managed_containers(
        &self,
        service: Option<Uuid>,
    ) -> Result<Vec<Observed>, ContainerError> {
        let docker = self.client().await?;
        let summaries = self.list_managed(service).await?;
        let mut observed = Vec::with_capacity(summaries.len());
        for id in summaries.into_iter().filter_map(|s| s.id) {
            match docker.inspect_container(&id, None).await {
                Ok(c) => observed.push(Observed::from_inspect(c)),
                // Removed between the list and the inspect: it is gone, which is what we saw.
                Err(e) if is_status(&e, 404) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(observed)
    }

    /// The services Berth's containers name (from one list call, no inspects), and the
    /// ids of labelled containers that name none.
    pub async fn managed_services(&self) -> Result<(Vec<Uuid>, Vec<String>), ContainerError> {
        let mut services = Vec::new();
        let mut unnamed = Vec::new();
        for c in self.list_managed(None).await? {
            let service = c
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_SERVICE))
                .and_then(|s| s.parse().ok());
            match (service, c.id) {
                (Some(id), _) => services.push(id),
                (None, Some(id)) => unnamed.push(id),
                (None, None) => {}
            }
        }
        Ok((services, unnamed))
    }

    /// Berth's running containers (one service's, or all), from one list call: enough to
    /// read their output or resource use, without inspecting each (see
    /// [`Observed::from_summary`] for what a list does not report).
    pub async fn running_replicas(
        &self,
        service: Option<Uuid>,
    ) -> Result<Vec<Observed>, ContainerError> {
        use bollard::models::ContainerSummaryStateEnum as S;
        Ok(self
            .list_managed(service)
            .await?
            .into_iter()
            .filter(|c| c.state == Some(S::RUNNING))
            .filter_map(Observed::from_summary)
            .collect())
    }

    async fn list_managed(
        &self,
        service: Option<Uuid>,
    ) -> Result<Vec<bollard::models::ContainerSummary>, ContainerError> {
        let docker = self.client().await?;
        let mut labels = vec![
            (LABEL_MANAGED, "true".to_owned()),
            (LABEL_INSTANCE, self.instance.to_string()),
        ];
        if let Some(id) = service {
            labels.push((LABEL_SERVICE, id.to_string()));
        }
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&label_filter(&labels))
            .build();
        // Job and command containers carry the service's label too, but are never replicas.
        Ok(docker
            .list_containers(Some(options))
            .await?
            .into_iter()
            .filter(|c| {
                !c.labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(LABEL_JOB_RUN))
            })
            .collect())
    }

    /// Creates an environment's bridge network unless it exists.
    pub async fn ensure_network(
        &self,
        team_id: Uuid,
        placement: &Placement,
    ) -> Result<String, ContainerError> {
        let name = placement.network.clone();
        self.ensure_labelled_network(team_id, placement, &name, false)
            .await?;
        Ok(name)
    }

    /// Creates network `name` of the environment unless it exists: a bridge, or an
    /// attachable overlay (`overlay`, Swarm mode), labelled as Berth's.
    pub(super) async fn ensure_labelled_network(
        &self,
        team_id: Uuid,
        placement: &Placement,
        name: &str,
        overlay: bool,
    ) -> Result<(), ContainerError> {
        let docker = self.client().await?;
        let _one_at_a_time = self.network_lock.lock().await;
        match docker.inspect_network(name, None).await {
            Ok(_) => return Ok(()),
            Err(e) if is_status(&e, 404) => {}
            Err(e) => return Err(e.into()),
        }
        let request = NetworkCreateRequest {
            name: name.to_owned(),
            driver: Some(if overlay { "overlay" } else { "bridge" }.into()),
            attachable: overlay.then_some(true),
            labels: Some(HashMap::from([
                (LABEL_MANAGED.to_owned(), "true".to_owned()),
                (LABEL_INSTANCE.to_owned(), self.instance.to_string()),
                (LABEL_TEAM.to_owned(), team_id.to_string()),
                (
                    LABEL_ENVIRONMENT.to_owned(),
                    placement.environment_id.to_string(),
                ),
            ])),
            ..Default::default()
        };
        match docker.create_network(request).await {
            Ok(_) => Ok(()),
            Err(e) if is_status(&e, 409) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates and starts one replica. A container of the same name that Berth made for the
    /// same replica is reused (the worker crashed after creating it).
    pub async fn run_replica(&self, r: &ReplicaTemplate<'_>) -> Result<String, ContainerError> {
        let docker = self.client().await?;
        let network = self.ensure_network(r.team_id, r.placement).await?;
        let name = r.container_name();
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let body = container_body(r, &network, &self.instance);
        let id = match docker.create_container(Some(options), body).await {
            Ok(created) => created.id,
            Err(e) if is_status(&e, 409) => {
                let existing = docker.inspect_container(&name, None).await?;
                let labels = existing.config.as_ref().and_then(|c| c.labels.as_ref());
                let ours = labels
                    .and_then(|l| l.get(LABEL_SERVICE))
                    .is_some_and(|s| *s == r.service_id.to_string());
                if !ours {
                    return Err(ContainerError::NameTaken(name));
                }
                existing.id.unwrap_or(name)
            }
            // The only thing a create can miss is its image.
            Err(e) if is_status(&e, 404) => {
                return Err(ContainerError::ImageMissing(r.image.to_owned()))
            }
            Err(e) => return Err(e.into()),
        };
        self.start(&id, r.spec).await?;
        Ok(id)
    }

    /// Starts a container; one that runs already is success.
    pub async fn start(&self, id: &str, spec: &ServiceSpec) -> Result<(), ContainerError> {
        match self.client().await?.start_container(id, None).await {
            Ok(()) => Ok(()),
            Err(e) if is_status(&e, 304) => Ok(()),
            Err(e) => {
                let text = e.to_string();
                let port_taken = text.contains("port is already allocated")
                    || text.contains("address already in use");
                match spec.ports.iter().find_map(|p| p.host) {
                    Some(port) if port_taken => Err(ContainerError::HostPortTaken(port)),
                    _ => Err(e.into()),
                }
            }
        }
    }

    /// Stops a container (SIGTERM, then SIGKILL after `grace_s`) and removes it; one that
    /// is already gone is success.
    pub async fn remove(&self, id: &str, grace_s: i32) -> Result<(), ContainerError> {
        let docker = self.client().await?;
        let stop = StopContainerOptionsBuilder::default().t(grace_s).build();
        match docker.stop_container(id, Some(stop)).await {
            Ok(()) => {}
            Err(e) if is_status(&e, 304) || is_status(&e, 404) => {}
            Err(e) => tracing::debug!(container = id, error = %e, "stop before remove failed"),
        }
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        match docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            // 404: gone; 409: removal already in progress.
            Err(e) if is_status(&e, 404) || is_status(&e, 409) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The last `lines` lines a container printed (stdout and stderr), one per line of the
    /// answer, each cleaned by [`log_line::clean`]: no terminal escapes or control
    /// characters leave the engine, so none is stored or shown.
    pub async fn tail_logs(&self, id: &str, lines: usize) -> Result<String, ContainerError> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.client().await?.logs(id, Some(options));
        let mut raw = Vec::new();
        while let Some(chunk) = stream.next().await {
            raw.extend_from_slice(&chunk?.into_bytes());
        }
        Ok(log_line::clean_block(&raw))
    }
}
