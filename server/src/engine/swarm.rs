//! Berth's Swarm services through the Docker Engine API (bollard): found by Berth's labels,
//! created or updated from a [`SwarmTemplate`](super::swarm_spec::SwarmTemplate), their
//! tasks read as [`Observed`] replicas, removed. The engine must be a swarm manager; a
//! call to one that is not fails with the engine's own message (503 "This node is not a
//! swarm manager").

use super::client::Engine;
use super::containers::{is_status, ContainerError};
use super::observed::{
    label_filter, Observed, LABEL_DEPLOYMENT, LABEL_INSTANCE, LABEL_MANAGED, LABEL_SERVICE,
    LABEL_TEMPLATE,
};
use super::swarm_spec::{swarm_service_spec, SwarmTemplate};
use app::domain::project::Placement;
use app::domain::service::{parse_image_ref, RegistryAuth, ReplicaIndex};
use bollard::auth::DockerCredentials;
use bollard::models::{
    EndpointPortConfigProtocolEnum, Service, ServiceUpdateStatusStateEnum, Task, TaskState,
};
use bollard::query_parameters::{
    ListNodesOptions, ListServicesOptionsBuilder, ListTasksOptionsBuilder, UpdateServiceOptions,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// Where a Swarm service's last update stands (`UpdateStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateState {
    /// No update since it was created, or the last one completed.
    Settled,
    /// Tasks are being replaced.
    Updating,
    /// Swarm paused the update on a failed task, with its message.
    Paused(String),
    /// Swarm is rolling back, or rolled back (only by hand: Berth never asks it to).
    RolledBack(String),
}

/// A Berth service's Swarm service as the manager reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmService {
    pub id: String,
    /// The version an update must name (Swarm refuses an update from an older read).
    pub version: u64,
    /// `berth.deployment` on the service: the deployment it was last set to.
    pub deployment: Option<Uuid>,
    /// `berth.template` of its task template, and the deployment that introduced it.
    pub template: String,
    pub template_deployment: Option<Uuid>,
    pub replicas: u32,
    pub update: UpdateState,
}

impl SwarmService {
    fn from_service(s: Service) -> Option<SwarmService> {
        let spec = s.spec?;
        let labels = spec.labels.unwrap_or_default();
        let task_labels = spec
            .task_template
            .and_then(|t| t.container_spec)
            .and_then(|c| c.labels)
            .unwrap_or_default();
        let update = match s.update_status {
            None => UpdateState::Settled,
            Some(u) => {
                let message = u.message.unwrap_or_default();
                match u.state {
                    Some(ServiceUpdateStatusStateEnum::UPDATING) => UpdateState::Updating,
                    Some(ServiceUpdateStatusStateEnum::PAUSED) => UpdateState::Paused(message),
                    Some(
                        ServiceUpdateStatusStateEnum::ROLLBACK_STARTED
                        | ServiceUpdateStatusStateEnum::ROLLBACK_PAUSED
                        | ServiceUpdateStatusStateEnum::ROLLBACK_COMPLETED,
                    ) => UpdateState::RolledBack(message),
                    _ => UpdateState::Settled,
                }
            }
        };
        Some(SwarmService {
            id: s.id?,
            version: s.version.and_then(|v| v.index).unwrap_or(0),
            deployment: labels.get(LABEL_DEPLOYMENT).and_then(|d| d.parse().ok()),
            template: task_labels.get(LABEL_TEMPLATE).cloned().unwrap_or_default(),
            template_deployment: task_labels
                .get(LABEL_DEPLOYMENT)
                .and_then(|d| d.parse().ok()),
            replicas: spec
                .mode
                .and_then(|m| m.replicated)
                .and_then(|r| r.replicas)
                .and_then(|r| u32::try_from(r).ok())
                .unwrap_or(0),
            update,
        })
    }
}

/// What a task needs to know of its node: its hostname and address.
struct SwarmNode {
    hostname: String,
    /// The address other machines reach it at; a manager may report `0.0.0.0` in its
    /// status, so its manager address is taken then.
    address: String,
}

impl From<bollard::models::Node> for SwarmNode {
    fn from(n: bollard::models::Node) -> Self {
        let status = n.status.and_then(|s| s.addr).unwrap_or_default();
        let manager = n
            .manager_status
            .and_then(|m| m.addr)
            .and_then(|a| a.rsplit_once(':').map(|(host, _)| host.to_owned()));
        let address = match (status.as_str(), manager) {
            ("" | "0.0.0.0", Some(m)) => m,
            _ => status,
        };
        SwarmNode {
            hostname: n
                .description
                .and_then(|d| d.hostname)
                .or(n.id)
                .unwrap_or_default(),
            address,
        }
    }
}

/// A task's state as a container's (`Observed::state`): `running`; `created` on its way
/// there (new … starting, including a health check not yet passed); `exited` once over.
fn task_state(state: Option<&TaskState>) -> &'static str {
    match state {
        Some(TaskState::RUNNING) => "running",
        Some(
            TaskState::COMPLETE
            | TaskState::SHUTDOWN
            | TaskState::FAILED
            | TaskState::REJECTED
            | TaskState::REMOVE
            | TaskState::ORPHANED,
        ) => "exited",
        _ => "created",
    }
}

/// A task as a replica: its container's id (the task's id before it has a container), the
/// template and deployment from its labels, its slot as the replica index (slot 1 is
/// replica 0), and the node it runs on.
fn task_replica(t: Task, nodes: &HashMap<String, SwarmNode>, route_port: Option<u16>) -> Observed {
    let labels = t
        .spec
        .as_ref()
        .and_then(|s| s.container_spec.as_ref())
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let status = t.status.unwrap_or_default();
    let container = status.container_status.unwrap_or_default();
    let state = task_state(status.state.as_ref());
    let task_id = t.id.unwrap_or_default();
    let slot = t.slot.and_then(|s| u32::try_from(s).ok()).unwrap_or(0);
    let node = t.node_id.as_ref().and_then(|n| nodes.get(n));
    // The task's TCP ports published on its node, as addresses Berth's machine dials.
    let node_ports: HashMap<u16, String> = match node.filter(|n| !n.address.is_empty()) {
        Some(n) => status
            .port_status
            .as_ref()
            .and_then(|p| p.ports.as_ref())
            .into_iter()
            .flatten()
            .filter(|p| p.protocol != Some(EndpointPortConfigProtocolEnum::UDP))
            .filter_map(|p| {
                let target = u16::try_from(p.target_port?).ok()?;
                Some((target, format!("{}:{}", n.address, p.published_port?)))
            })
            .collect(),
        None => HashMap::new(),
    };
    let dial = route_port.and_then(|r| node_ports.get(&r).cloned());
    let since: Option<DateTime<Utc>> = status
        .timestamp
        .as_ref()
        .and_then(|t| t.to_string().parse().ok());
    Observed {
        id: container.container_id.unwrap_or_else(|| task_id.clone()),
        name: format!("task {slot} ({})", &task_id[..task_id.len().min(12)]),
        service_id: labels.get(LABEL_SERVICE).and_then(|s| s.parse().ok()),
        deployment_id: labels.get(LABEL_DEPLOYMENT).and_then(|s| s.parse().ok()),
        template: labels.get(LABEL_TEMPLATE).cloned().unwrap_or_default(),
        replica: slot.checked_sub(1).map(ReplicaIndex),
        state: state.to_owned(),
        health: (status.state == Some(TaskState::STARTING)).then(|| "starting".to_owned()),
        exit_code: container.exit_code,
        started_at: since.filter(|_| state == "running"),
        node: node.map(|n| n.hostname.clone()),
        dial,
        node_ports,
        health_output: status.err.filter(|e| !e.is_empty()),
        ..Default::default()
    }
}

/// The registry credentials Swarm passes to the nodes that pull `image`.
pub fn credentials(auth: Option<&RegistryAuth>, image: &str) -> Option<DockerCredentials> {
    auth.map(|a| DockerCredentials {
        username: Some(a.username.clone()),
        password: Some(a.password.clone()),
        serveraddress: parse_image_ref(image).ok().and_then(|r| r.domain),
        ..Default::default()
    })
}

impl Engine {
    fn own_services_filter(&self, service: Option<Uuid>) -> HashMap<&'static str, Vec<String>> {
        let mut labels = vec![
            (LABEL_MANAGED, "true".to_owned()),
            (LABEL_INSTANCE, self.instance.to_string()),
        ];
        if let Some(id) = service {
            labels.push((LABEL_SERVICE, id.to_string()));
        }
        label_filter(&labels)
    }

    async fn list_swarm_services(
        &self,
        service: Option<Uuid>,
    ) -> Result<Vec<Service>, ContainerError> {
        let options = ListServicesOptionsBuilder::default()
            .filters(&self.own_services_filter(service))
            .build();
        Ok(self.client().await?.list_services(Some(options)).await?)
    }

    /// The services Berth's Swarm services name.
    pub async fn swarm_service_ids(&self) -> Result<Vec<Uuid>, ContainerError> {
        Ok(self
            .list_swarm_services(None)
            .await?
            .into_iter()
            .filter_map(|s| s.spec?.labels?.get(LABEL_SERVICE)?.parse().ok())
            .collect())
    }

    /// The Swarm service of Berth service `service`, if there is one.
    pub async fn swarm_service(
        &self,
        service: Uuid,
    ) -> Result<Option<SwarmService>, ContainerError> {
        Ok(self
            .list_swarm_services(Some(service))
            .await?
            .into_iter()
            .find_map(SwarmService::from_service))
    }

    /// The tasks Swarm wants running for Swarm service `swarm_id`, as replicas (each with
    /// the hostname of its node and, for `route_port`, the address the proxy dials).
    pub async fn swarm_tasks(
        &self,
        swarm_id: &str,
        route_port: Option<u16>,
    ) -> Result<Vec<Observed>, ContainerError> {
        let docker = self.client().await?;
        let filters = HashMap::from([
            ("service", vec![swarm_id.to_owned()]),
            ("desired-state", vec!["running".to_owned()]),
        ]);
        let options = ListTasksOptionsBuilder::default().filters(&filters).build();
        let tasks = docker.list_tasks(Some(options)).await?;
        let nodes: HashMap<String, SwarmNode> = docker
            .list_nodes(None::<ListNodesOptions>)
            .await?
            .into_iter()
            .filter_map(|n| Some((n.id.clone()?, SwarmNode::from(n))))
            .collect();
        Ok(tasks
            .into_iter()
            .map(|t| task_replica(t, &nodes, route_port))
            .collect())
    }

    /// Creates the Swarm service of `template` on `network` (`current` is `None`) or
    /// updates `current` to it, sending `credentials` so the nodes can pull a private image.
    pub async fn put_swarm_service(
        &self,
        template: &SwarmTemplate<'_>,
        network: &str,
        current: Option<&SwarmService>,
        credentials: Option<DockerCredentials>,
    ) -> Result<(), ContainerError> {
        let docker = self.client().await?;
        let spec = swarm_service_spec(template, network, &self.instance);
        match current {
            None => match docker.create_service(spec, credentials).await {
                Ok(_) => Ok(()),
                // Made by a pass that crashed before it could see it: the next pass updates it.
                Err(e) if is_status(&e, 409) => Ok(()),
                Err(e) => Err(e.into()),
            },
            Some(current) => {
                let options = UpdateServiceOptions {
                    version: i32::try_from(current.version).unwrap_or(i32::MAX),
                    ..Default::default()
                };
                docker
                    .update_service(&current.id, spec, options, credentials)
                    .await?;
                Ok(())
            }
        }
    }

    /// Removes Berth service `service`'s Swarm service; none is success.
    pub async fn remove_swarm_service(&self, service: Uuid) -> Result<(), ContainerError> {
        let docker = self.client().await?;
        for s in self.list_swarm_services(Some(service)).await? {
            let Some(id) = s.id else { continue };
            match docker.delete_service(&id).await {
                Ok(()) => {}
                Err(e) if is_status(&e, 404) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Creates the environment's attachable overlay network `name` unless it exists.
    pub async fn ensure_overlay_network(
        &self,
        team_id: Uuid,
        placement: &Placement,
        name: &str,
    ) -> Result<(), ContainerError> {
        self.ensure_labelled_network(team_id, placement, name, true)
            .await
    }
}
