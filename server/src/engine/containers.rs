//! Containers Berth owns: found by label, created from a service spec, started, removed.
//! Every operation that is already true counts as success (create 409, start 304,
//! remove 404), so the worker can repeat any of them after a crash.

use super::Engine;
use app::domain::service::{
    parse_image_ref, HealthProbe, Protocol, RegistryAuth, RestartPolicy, ServiceSpec,
};
use bollard::auth::DockerCredentials;
use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, Mount, MountType,
    NetworkCreateRequest, NetworkingConfig, PortBinding, RestartPolicy as DockerRestart,
    RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, EventsOptionsBuilder,
    ListContainersOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use std::collections::HashMap;
use uuid::Uuid;

pub const LABEL_MANAGED: &str = "berth.managed";
pub const LABEL_INSTANCE: &str = "berth.instance";
pub const LABEL_TEAM: &str = "berth.team";
pub const LABEL_SERVICE: &str = "berth.service";
pub const LABEL_DEPLOYMENT: &str = "berth.deployment";
pub const LABEL_TEMPLATE: &str = "berth.template";
pub const LABEL_REPLICA: &str = "berth.replica";

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("Docker engine: {0}")]
    Engine(#[from] DockerError),
    #[error("could not pull image {image}: {reason}")]
    Pull { image: String, reason: String },
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
            | ContainerError::HostPortTaken(_)
            | ContainerError::NameTaken(_) => true,
            ContainerError::Engine(DockerError::DockerResponseServerError {
                status_code, ..
            }) => *status_code == 400,
            ContainerError::Engine(_) => false,
        }
    }
}

/// A container as Docker reports it, with Berth's labels read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub id: String,
    pub name: String,
    pub service_id: Option<Uuid>,
    pub deployment_id: Option<Uuid>,
    pub template: String,
    pub replica: Option<u32>,
    /// created, running, paused, restarting, removing, exited, dead.
    pub state: String,
    /// Docker's health status when the container has a health check.
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    pub restart_count: i64,
    pub started_at: Option<DateTime<Utc>>,
    /// Address on the team network.
    pub ip: Option<String>,
}

/// A running container of Berth's, as a list call reports it.
#[derive(Debug, Clone)]
pub struct RunningReplica {
    pub id: String,
    pub name: String,
    pub service_id: Option<Uuid>,
    /// -1 when the label is missing.
    pub replica: i32,
}

/// One replica to create.
pub struct ReplicaTemplate<'a> {
    pub team_id: Uuid,
    pub service_id: Uuid,
    pub deployment_id: Uuid,
    pub template: &'a str,
    pub replica: u32,
    /// Secrets opened: values go to the container literally.
    pub spec: &'a ServiceSpec,
}

impl ReplicaTemplate<'_> {
    pub fn container_name(&self) -> String {
        format!(
            "berth-{}-{}-{}",
            self.spec.name, self.template, self.replica
        )
    }
}

/// The Docker network a team's containers share.
pub fn team_network(team_id: Uuid) -> String {
    format!("berth-team-{}", team_id.simple())
}

/// Volume names are per team, so two teams' `data` volumes never meet.
pub fn team_volume(team_id: Uuid, name: &str) -> String {
    format!("berth-{}-{name}", &team_id.simple().to_string()[..12])
}

fn is_status(e: &DockerError, code: u16) -> bool {
    matches!(e, DockerError::DockerResponseServerError { status_code, .. } if *status_code == code)
}

fn parse_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| t.timestamp() > 0) // Docker's "never" is year 1
}

fn label_filter(pairs: &[(&str, String)]) -> HashMap<&'static str, Vec<String>> {
    HashMap::from([(
        "label",
        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    )])
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
                Ok(c) => observed.push(observed_from(c)),
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
    /// read their output or resource use, without inspecting each.
    pub async fn running_replicas(
        &self,
        service: Option<Uuid>,
    ) -> Result<Vec<RunningReplica>, ContainerError> {
        use bollard::models::ContainerSummaryStateEnum as S;
        Ok(self
            .list_managed(service)
            .await?
            .into_iter()
            .filter(|c| c.state == Some(S::RUNNING))
            .filter_map(|c| {
                let label = |k: &str| c.labels.as_ref().and_then(|l| l.get(k).cloned());
                Some(RunningReplica {
                    service_id: label(LABEL_SERVICE).and_then(|s| s.parse().ok()),
                    replica: label(LABEL_REPLICA)
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(-1),
                    name: c
                        .names
                        .as_ref()
                        .and_then(|n| n.first())
                        .map(|n| n.trim_start_matches('/').to_owned())
                        .unwrap_or_default(),
                    id: c.id?,
                })
            })
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
        Ok(docker.list_containers(Some(options)).await?)
    }

    /// Creates the team's network unless it exists.
    pub async fn ensure_team_network(&self, team_id: Uuid) -> Result<String, ContainerError> {
        let docker = self.client().await?;
        let name = team_network(team_id);
        let _one_at_a_time = self.network_lock.lock().await;
        match docker.inspect_network(&name, None).await {
            Ok(_) => return Ok(name),
            Err(e) if is_status(&e, 404) => {}
            Err(e) => return Err(e.into()),
        }
        let request = NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            labels: Some(HashMap::from([
                (LABEL_MANAGED.to_owned(), "true".to_owned()),
                (LABEL_INSTANCE.to_owned(), self.instance.to_string()),
                (LABEL_TEAM.to_owned(), team_id.to_string()),
            ])),
            ..Default::default()
        };
        match docker.create_network(request).await {
            Ok(_) => Ok(name),
            Err(e) if is_status(&e, 409) => Ok(name),
            Err(e) => Err(e.into()),
        }
    }

    /// Pulls `image` (with `auth` for a private registry) unless the engine has it already.
    pub async fn ensure_image(
        &self,
        image: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<(), ContainerError> {
        let docker = self.client().await?;
        match docker.inspect_image(image).await {
            Ok(_) => return Ok(()),
            Err(e) if is_status(&e, 404) => {}
            Err(e) => return Err(e.into()),
        }
        let options = CreateImageOptionsBuilder::default()
            .from_image(image)
            .build();
        let credentials = auth.map(|a| DockerCredentials {
            username: Some(a.username.clone()),
            password: Some(a.password.clone()),
            serveraddress: parse_image_ref(image).ok().and_then(|r| r.domain),
            ..Default::default()
        });
        let mut progress = docker.create_image(Some(options), None, credentials);
        while let Some(item) = progress.next().await {
            let reason = match item {
                Ok(info) => info.error_detail.and_then(|d| d.message),
                Err(DockerError::DockerStreamError { error }) => Some(error),
                Err(DockerError::DockerResponseServerError { message, .. }) => Some(message),
                Err(other) => return Err(other.into()),
            };
            if let Some(reason) = reason {
                return Err(ContainerError::Pull {
                    image: image.to_owned(),
                    reason,
                });
            }
        }
        Ok(())
    }

    /// Creates and starts one replica. A container of the same name that Berth made for the
    /// same replica is reused (the worker crashed after creating it).
    pub async fn run_replica(&self, r: &ReplicaTemplate<'_>) -> Result<String, ContainerError> {
        let docker = self.client().await?;
        let network = self.ensure_team_network(r.team_id).await?;
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

    /// The last `lines` lines a container printed (stdout and stderr).
    pub async fn tail_logs(&self, id: &str, lines: usize) -> Result<String, ContainerError> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.client().await?.logs(id, Some(options));
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk?.into_bytes()));
        }
        Ok(text)
    }

    /// Docker events for Berth's containers: the service id of each container that changed
    /// (`None` for a labelled container without a valid service label).
    pub async fn container_events(
        &self,
    ) -> Result<impl Stream<Item = Result<Option<Uuid>, ContainerError>>, ContainerError> {
        let docker = self.client().await?;
        let mut filters = label_filter(&[
            (LABEL_MANAGED, "true".to_owned()),
            (LABEL_INSTANCE, self.instance.to_string()),
        ]);
        filters.insert("type", vec!["container".to_owned()]);
        // Lifecycle only: health-check commands also make exec_* events, one per interval.
        filters.insert(
            "event",
            [
                "create",
                "start",
                "restart",
                "die",
                "stop",
                "destroy",
                "pause",
                "unpause",
                "oom",
                "health_status",
            ]
            .map(str::to_owned)
            .to_vec(),
        );
        let options = EventsOptionsBuilder::default().filters(&filters).build();
        Ok(docker.events(Some(options)).map(|event| {
            let event = event?;
            Ok(event
                .actor
                .and_then(|a| a.attributes)
                .and_then(|attrs| attrs.get(LABEL_SERVICE).and_then(|s| s.parse().ok())))
        }))
    }
}

fn observed_from(c: bollard::models::ContainerInspectResponse) -> Observed {
    let labels = c
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let state = c.state.unwrap_or_default();
    let ip = c
        .network_settings
        .and_then(|n| n.networks)
        .and_then(|nets| {
            nets.into_iter()
                .find(|(name, _)| name.starts_with("berth-team-"))
                .and_then(|(_, e)| e.ip_address)
        })
        .filter(|ip| !ip.is_empty());
    Observed {
        id: c.id.unwrap_or_default(),
        name: c
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        service_id: labels.get(LABEL_SERVICE).and_then(|s| s.parse().ok()),
        deployment_id: labels.get(LABEL_DEPLOYMENT).and_then(|s| s.parse().ok()),
        template: labels.get(LABEL_TEMPLATE).cloned().unwrap_or_default(),
        replica: labels.get(LABEL_REPLICA).and_then(|s| s.parse().ok()),
        state: state
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "unknown".into()),
        health: state
            .health
            .and_then(|h| h.status)
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty() && s != "none"),
        exit_code: state.exit_code,
        restart_count: c.restart_count.unwrap_or(0),
        started_at: parse_time(state.started_at.as_deref()),
        ip,
    }
}

fn container_body(r: &ReplicaTemplate<'_>, network: &str, instance: &str) -> ContainerCreateBody {
    let spec = r.spec;
    let labels = HashMap::from([
        (LABEL_MANAGED.to_owned(), "true".to_owned()),
        (LABEL_INSTANCE.to_owned(), instance.to_owned()),
        (LABEL_TEAM.to_owned(), r.team_id.to_string()),
        (LABEL_SERVICE.to_owned(), r.service_id.to_string()),
        (LABEL_DEPLOYMENT.to_owned(), r.deployment_id.to_string()),
        (LABEL_TEMPLATE.to_owned(), r.template.to_owned()),
        (LABEL_REPLICA.to_owned(), r.replica.to_string()),
    ]);
    let port_key = |p: &app::domain::service::PortSpec| {
        let proto = if p.protocol == Protocol::Udp {
            "udp"
        } else {
            "tcp"
        };
        format!("{}/{proto}", p.container)
    };
    let port_bindings: HashMap<String, Option<Vec<PortBinding>>> = spec
        .ports
        .iter()
        .filter_map(|p| {
            p.host.map(|h| {
                (
                    port_key(p),
                    Some(vec![PortBinding {
                        host_ip: None,
                        host_port: Some(h.to_string()),
                    }]),
                )
            })
        })
        .collect();
    let healthcheck = spec.health_check.as_ref().and_then(|h| match &h.probe {
        HealthProbe::Command { argv } => Some(HealthConfig {
            test: Some(
                std::iter::once("CMD".to_owned())
                    .chain(argv.iter().cloned())
                    .collect(),
            ),
            interval: Some(i64::from(h.interval_s) * 1_000_000_000),
            timeout: Some(i64::from(h.timeout_s) * 1_000_000_000),
            retries: Some(i64::from(h.retries)),
            start_period: Some(i64::from(h.start_period_s) * 1_000_000_000),
            start_interval: None,
        }),
        // Berth probes HTTP itself, from outside the container.
        HealthProbe::Http { .. } => None,
    });
    let restart = match spec.restart_policy {
        RestartPolicy::No => RestartPolicyNameEnum::NO,
        RestartPolicy::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
        RestartPolicy::Always => RestartPolicyNameEnum::ALWAYS,
        RestartPolicy::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
    };
    let mounts = spec
        .volumes
        .iter()
        .map(|v| Mount {
            target: Some(v.path.clone()),
            source: Some(team_volume(r.team_id, &v.name)),
            typ: Some(MountType::VOLUME),
            read_only: Some(v.read_only),
            ..Default::default()
        })
        .collect();
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: (!spec.command.is_empty()).then(|| spec.command.clone()),
        env: Some(
            spec.env
                .iter()
                .map(|v| format!("{}={}", v.key, v.value))
                .collect(),
        ),
        labels: Some(labels),
        exposed_ports: Some(spec.ports.iter().map(port_key).collect()),
        healthcheck,
        host_config: Some(HostConfig {
            network_mode: Some(network.to_owned()),
            port_bindings: Some(port_bindings),
            restart_policy: Some(DockerRestart {
                name: Some(restart),
                maximum_retry_count: None,
            }),
            nano_cpus: spec.cpu_millis.map(|m| i64::from(m) * 1_000_000),
            memory: spec.memory_mb.map(|m| i64::from(m) * 1024 * 1024),
            mounts: Some(mounts),
            privileged: Some(false),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network.to_owned(),
                EndpointSettings {
                    aliases: Some(vec![spec.name.clone()]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    }
}
