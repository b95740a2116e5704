//! One-off containers of scheduled jobs and one-off commands: made from the service's live
//! image with its env, team network, volumes and limits, labelled with the run
//! (`berth.job_run`) so the reconciler never counts them as replicas, found again by that
//! label after a restart, stopped (SIGTERM, then SIGKILL) and removed. In Swarm mode a run
//! is still one container on Berth's engine (the manager), joined to its environment's
//! overlay network so that it reaches the environment's services on any node.

use super::client::Engine;
use super::containers::{is_status, ContainerError};
use super::observed::{
    label_filter, LABEL_INSTANCE, LABEL_JOB, LABEL_JOB_RUN, LABEL_MANAGED, LABEL_SERVICE,
    LABEL_TEAM,
};
use super::replica::{env_list, volume_mounts};
use app::domain::service::ServiceSpec;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, NetworkingConfig,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures::StreamExt;
use std::collections::HashMap;
use uuid::Uuid;

/// The container of one run.
pub struct JobContainer<'a> {
    pub team_id: Uuid,
    /// The service's environment: its network and volume names.
    pub placement: &'a app::domain::project::Placement,
    pub service_id: Uuid,
    /// `None`: a one-off command.
    pub job_id: Option<Uuid>,
    pub run_id: Uuid,
    /// The live deployment's image id (`sha256:…`), or the spec's reference.
    pub image: &'a str,
    /// The live deployment's spec, secrets opened.
    pub spec: &'a ServiceSpec,
    /// argv: the first replaces the image's entrypoint, the rest are its arguments.
    pub command: &'a [String],
    /// Swarm mode: the run joins its environment's attachable overlay network, where the
    /// environment's Swarm services are (on a single engine, its bridge network).
    pub overlay: bool,
}

/// How a run's container is, found by its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobExit {
    Running { id: String },
    Exited { id: String, code: i64 },
}

impl Engine {
    /// Creates and starts a run's container; returns its id. One made for this run already
    /// (a crash between create and start) is reused.
    pub async fn start_job(&self, j: &JobContainer<'_>) -> Result<String, ContainerError> {
        let docker = self.client().await?;
        let network = if j.overlay {
            let network = super::overlay_network(j.placement);
            self.ensure_overlay_network(j.team_id, j.placement, &network)
                .await?;
            network
        } else {
            self.ensure_network(j.team_id, j.placement).await?
        };
        let name = format!("berth-{}-run-{}", j.spec.name, j.run_id.simple());
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let id = match docker
            .create_container(Some(options), self.job_body(j, &network))
            .await
        {
            Ok(created) => created.id,
            Err(e) if is_status(&e, 409) => name,
            Err(e) if is_status(&e, 404) => {
                return Err(ContainerError::ImageMissing(j.image.to_owned()))
            }
            Err(e) => return Err(e.into()),
        };
        match docker.start_container(&id, None).await {
            Ok(()) => Ok(id),
            Err(e) if is_status(&e, 304) => Ok(id),
            Err(e) => {
                // A container that cannot start (no such program) is not kept.
                let _ = self.remove_job(&id).await;
                Err(e.into())
            }
        }
    }

    fn job_body(&self, j: &JobContainer<'_>, network: &str) -> ContainerCreateBody {
        let spec = j.spec;
        let labels = HashMap::from([
            (LABEL_MANAGED.to_owned(), "true".to_owned()),
            (LABEL_INSTANCE.to_owned(), self.instance.to_string()),
            (LABEL_TEAM.to_owned(), j.team_id.to_string()),
            (LABEL_SERVICE.to_owned(), j.service_id.to_string()),
            (
                LABEL_JOB.to_owned(),
                j.job_id.map(|id| id.to_string()).unwrap_or_default(),
            ),
            (LABEL_JOB_RUN.to_owned(), j.run_id.to_string()),
        ]);
        ContainerCreateBody {
            image: Some(j.image.to_owned()),
            entrypoint: j.command.first().map(|p| vec![p.clone()]),
            cmd: Some(j.command.iter().skip(1).cloned().collect()),
            env: Some(env_list(spec)),
            labels: Some(labels),
            // A run is not a replica: no health check of the image's own.
            healthcheck: Some(HealthConfig {
                test: Some(vec!["NONE".to_owned()]),
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                network_mode: Some(network.to_owned()),
                nano_cpus: spec.cpu_millis.map(|m| i64::from(m) * 1_000_000),
                memory: spec.memory_mb.map(|m| i64::from(m) * 1024 * 1024),
                mounts: Some(volume_mounts(j.placement, spec)),
                privileged: Some(false),
                ..Default::default()
            }),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(
                    network.to_owned(),
                    EndpointSettings::default(),
                )])),
            }),
            ..Default::default()
        }
    }

    /// The container of a run, if one exists, and whether it still runs.
    pub async fn job_container(&self, run: Uuid) -> Result<Option<JobExit>, ContainerError> {
        let docker = self.client().await?;
        let labels = [
            (LABEL_INSTANCE, self.instance.to_string()),
            (LABEL_JOB_RUN, run.to_string()),
        ];
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&label_filter(&labels))
            .build();
        let Some(id) = docker
            .list_containers(Some(options))
            .await?
            .into_iter()
            .find_map(|c| c.id)
        else {
            return Ok(None);
        };
        self.job_state(&id).await
    }

    async fn job_state(&self, id: &str) -> Result<Option<JobExit>, ContainerError> {
        let docker = self.client().await?;
        match docker.inspect_container(id, None).await {
            Ok(c) => {
                let state = c.state.unwrap_or_default();
                let id = c.id.unwrap_or_else(|| id.to_owned());
                Ok(Some(if state.running == Some(true) {
                    JobExit::Running { id }
                } else {
                    JobExit::Exited {
                        id,
                        code: state.exit_code.unwrap_or(-1),
                    }
                }))
            }
            Err(e) if is_status(&e, 404) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The ids of service `service`'s run containers (jobs and one-off commands), running
    /// or not.
    pub async fn service_job_containers(
        &self,
        service: Uuid,
    ) -> Result<Vec<String>, ContainerError> {
        let docker = self.client().await?;
        let labels = [
            (LABEL_INSTANCE, self.instance.to_string()),
            (LABEL_SERVICE, service.to_string()),
        ];
        let mut filters = label_filter(&labels);
        // A label without a value: any run.
        filters
            .entry("label")
            .or_default()
            .push(LABEL_JOB_RUN.to_owned());
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        Ok(docker
            .list_containers(Some(options))
            .await?
            .into_iter()
            .filter_map(|c| c.id)
            .collect())
    }

    /// Waits until a run's container exits; its exit code (`None`: it is gone).
    pub async fn wait_job(&self, id: &str) -> Result<Option<i64>, ContainerError> {
        let docker = self.client().await?;
        let options = WaitContainerOptionsBuilder::default()
            .condition("not-running")
            .build();
        let mut wait = docker.wait_container(id, Some(options));
        // bollard answers a non-zero exit as an error: the inspect below reads the code.
        while wait.next().await.is_some() {}
        match self.job_state(id).await? {
            Some(JobExit::Exited { code, .. }) => Ok(Some(code)),
            Some(JobExit::Running { .. }) => Box::pin(self.wait_job(id)).await,
            None => Ok(None),
        }
    }

    /// Stops a run's container: SIGTERM, then SIGKILL after `grace_s` seconds.
    pub async fn stop_job(&self, id: &str, grace_s: i32) -> Result<(), ContainerError> {
        let docker = self.client().await?;
        let stop = StopContainerOptionsBuilder::default().t(grace_s).build();
        match docker.stop_container(id, Some(stop)).await {
            Ok(()) => Ok(()),
            Err(e) if is_status(&e, 304) || is_status(&e, 404) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a finished run's container (its output is kept by Berth).
    pub async fn remove_job(&self, id: &str) -> Result<(), ContainerError> {
        let docker = self.client().await?;
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        match docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if is_status(&e, 404) || is_status(&e, 409) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
