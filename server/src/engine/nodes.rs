//! The swarm's nodes through the Docker Engine API (bollard): the server's implementation
//! of `app::commands::node::Swarm`. Every call first asks the engine whether it is a swarm
//! manager (`GET /info`): when it is not, the call answers `NotManager` with the engine's
//! swarm state, or `unreachable`. Node updates send the version index they were read at,
//! and are read again and retried when another update came in between.

use super::Engine;
use app::commands::node::{JoinInfo, Swarm, SwarmError, SwarmFuture};
use app::domain::node::{Availability, NodeRole, NodeState, NodeView};
use bollard::errors::Error as DockerError;
use bollard::models::{
    LocalNodeState, Node, NodeSpec, NodeSpecAvailabilityEnum, NodeSpecRoleEnum, TaskState,
};
use bollard::query_parameters::{
    DeleteNodeOptions, ListTasksOptions, UpdateNodeOptions, UpdateSwarmOptions,
};
use bollard::Docker;
use std::collections::HashMap;

/// Tries of a node update whose version was overtaken by another update.
const UPDATE_TRIES: usize = 3;
/// The port managers listen on for joins when the engine does not say.
const DEFAULT_SWARM_PORT: u16 = 2377;

/// What the engine's error means for a swarm call.
fn swarm_error(e: DockerError) -> SwarmError {
    match e {
        DockerError::DockerResponseServerError {
            status_code: 404, ..
        } => SwarmError::NoSuchNode,
        DockerError::DockerResponseServerError {
            status_code: 503,
            message,
        } => SwarmError::NotManager(if message.contains("not a swarm manager") {
            "active".into()
        } else {
            "inactive".into()
        }),
        DockerError::DockerResponseServerError {
            status_code: 400 | 409 | 412,
            message,
        } => SwarmError::Refused(message),
        DockerError::DockerResponseServerError { message, .. } => SwarmError::Failed(message),
        other => SwarmError::Failed(other.to_string()),
    }
}

fn out_of_sequence(e: &DockerError) -> bool {
    matches!(e, DockerError::DockerResponseServerError { message, .. } if message.contains("out of sequence"))
}

/// The node as the page shows it, with its running tasks.
fn node_view(n: Node, running: &HashMap<String, u32>) -> NodeView {
    let id = n.id.unwrap_or_default();
    let spec = n.spec.unwrap_or_default();
    let description = n.description.unwrap_or_default();
    let status = n.status.unwrap_or_default();
    let manager = n.manager_status.unwrap_or_default();
    let resources = description.resources.unwrap_or_default();
    NodeView {
        hostname: description
            .hostname
            .or(spec.name)
            .unwrap_or_else(|| id.clone()),
        role: match spec.role {
            Some(NodeSpecRoleEnum::MANAGER) => NodeRole::Manager,
            _ => NodeRole::Worker,
        },
        availability: match spec.availability {
            Some(NodeSpecAvailabilityEnum::PAUSE) => Availability::Pause,
            Some(NodeSpecAvailabilityEnum::DRAIN) => Availability::Drain,
            _ => Availability::Active,
        },
        state: match status.state {
            Some(bollard::models::NodeState::READY) => NodeState::Ready,
            Some(bollard::models::NodeState::DOWN) => NodeState::Down,
            Some(bollard::models::NodeState::DISCONNECTED) => NodeState::Disconnected,
            _ => NodeState::Unknown,
        },
        engine_version: description.engine.and_then(|e| e.engine_version),
        cpus: resources.nano_cpus.unwrap_or(0) as f64 / 1e9,
        memory_bytes: resources.memory_bytes.unwrap_or(0),
        running_tasks: running.get(&id).copied().unwrap_or(0),
        labels: spec.labels.unwrap_or_default().into_iter().collect(),
        leader: manager.leader.unwrap_or(false),
        address: manager.addr.or(status.addr),
        id,
    }
}

impl Engine {
    /// The client, once the engine says it is a swarm manager; else why not.
    async fn manager(&self) -> Result<Docker, SwarmError> {
        let docker = self
            .client()
            .await
            .map_err(|_| SwarmError::NotManager("unreachable".into()))?;
        let info = match docker.info().await {
            Ok(info) => info,
            Err(DockerError::DockerResponseServerError { message, .. }) => {
                return Err(SwarmError::Failed(message))
            }
            Err(_) => return Err(SwarmError::NotManager("unreachable".into())),
        };
        let swarm = info.swarm.unwrap_or_default();
        let state = swarm.local_node_state.unwrap_or(LocalNodeState::INACTIVE);
        if state != LocalNodeState::ACTIVE {
            let word = state.to_string();
            return Err(SwarmError::NotManager(if word.is_empty() {
                "inactive".into()
            } else {
                word
            }));
        }
        if swarm.control_available != Some(true) {
            return Err(SwarmError::NotManager("active".into()));
        }
        Ok(docker)
    }

    /// Tasks Swarm wants running and that run, per node id.
    async fn running_tasks(docker: &Docker) -> Result<HashMap<String, u32>, SwarmError> {
        let filters = HashMap::from([("desired-state".to_owned(), vec!["running".to_owned()])]);
        let tasks = docker
            .list_tasks(Some(ListTasksOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(swarm_error)?;
        let mut running = HashMap::new();
        for t in tasks {
            let is_running = t.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING);
            if let (true, Some(node)) = (is_running, t.node_id) {
                *running.entry(node).or_insert(0) += 1;
            }
        }
        Ok(running)
    }

    async fn list_nodes(&self) -> Result<Vec<NodeView>, SwarmError> {
        let docker = self.manager().await?;
        let running = Self::running_tasks(&docker).await?;
        let nodes = docker.list_nodes(None).await.map_err(swarm_error)?;
        Ok(nodes.into_iter().map(|n| node_view(n, &running)).collect())
    }

    async fn one_node(&self, id: &str) -> Result<NodeView, SwarmError> {
        let docker = self.manager().await?;
        let node = docker.inspect_node(id).await.map_err(swarm_error)?;
        // An id prefix or a hostname also finds a node: only the exact id is this node.
        if node.id.as_deref() != Some(id) {
            return Err(SwarmError::NoSuchNode);
        }
        let running = Self::running_tasks(&docker).await?;
        Ok(node_view(node, &running))
    }

    /// Reads the node's spec and version, applies `change`, and updates it at that version
    /// (again from a fresh read when another update overtook it).
    async fn update_spec(
        &self,
        id: &str,
        change: impl Fn(&mut NodeSpec),
    ) -> Result<(), SwarmError> {
        let docker = self.manager().await?;
        let mut tries = 0;
        loop {
            tries += 1;
            let node = docker.inspect_node(id).await.map_err(swarm_error)?;
            let version = node.version.and_then(|v| v.index).unwrap_or(0);
            let mut spec = node.spec.unwrap_or_default();
            change(&mut spec);
            let options = UpdateNodeOptions {
                version: version as i64,
            };
            match docker.update_node(id, spec, options).await {
                Ok(()) => return Ok(()),
                Err(e) if out_of_sequence(&e) && tries < UPDATE_TRIES => continue,
                Err(e) => return Err(swarm_error(e)),
            }
        }
    }

    async fn join(&self) -> Result<JoinInfo, SwarmError> {
        let docker = self.manager().await?;
        let swarm = docker.inspect_swarm().await.map_err(swarm_error)?;
        let worker_token = swarm
            .join_tokens
            .and_then(|t| t.worker)
            .ok_or_else(|| SwarmError::Failed("the swarm has no worker join token".into()))?;
        let info = docker
            .info()
            .await
            .map_err(swarm_error)?
            .swarm
            .unwrap_or_default();
        let mut address = None;
        if let Some(me) = info.node_id.as_deref() {
            if let Ok(node) = docker.inspect_node(me).await {
                address = node.manager_status.and_then(|m| m.addr);
            }
        }
        let address = address
            .or_else(|| {
                info.remote_managers
                    .unwrap_or_default()
                    .into_iter()
                    .find_map(|p| p.addr)
            })
            .or_else(|| info.node_addr.map(|a| format!("{a}:{DEFAULT_SWARM_PORT}")))
            .ok_or_else(|| SwarmError::Failed("the swarm names no manager address".into()))?;
        Ok(JoinInfo {
            manager_address: address,
            worker_token,
        })
    }

    async fn rotate(&self) -> Result<(), SwarmError> {
        let docker = self.manager().await?;
        let swarm = docker.inspect_swarm().await.map_err(swarm_error)?;
        let version = swarm.version.and_then(|v| v.index).unwrap_or(0);
        let options = UpdateSwarmOptions {
            version: version as i64,
            rotate_worker_token: true,
            ..Default::default()
        };
        docker
            .update_swarm(swarm.spec.unwrap_or_default(), options)
            .await
            .map_err(swarm_error)
    }

    async fn delete(&self, id: &str) -> Result<(), SwarmError> {
        let docker = self.manager().await?;
        docker
            .delete_node(id, Some(DeleteNodeOptions { force: false }))
            .await
            .map_err(swarm_error)
    }
}

impl Swarm for Engine {
    fn nodes(&self) -> SwarmFuture<'_, Vec<NodeView>> {
        Box::pin(self.list_nodes())
    }

    fn node(&self, id: String) -> SwarmFuture<'_, NodeView> {
        Box::pin(async move { self.one_node(&id).await })
    }

    fn join_info(&self) -> SwarmFuture<'_, JoinInfo> {
        Box::pin(self.join())
    }

    fn rotate_worker_token(&self) -> SwarmFuture<'_, ()> {
        Box::pin(self.rotate())
    }

    fn set_availability(&self, id: String, availability: Availability) -> SwarmFuture<'_, ()> {
        let wanted = match availability {
            Availability::Active => NodeSpecAvailabilityEnum::ACTIVE,
            Availability::Pause => NodeSpecAvailabilityEnum::PAUSE,
            Availability::Drain => NodeSpecAvailabilityEnum::DRAIN,
        };
        Box::pin(async move {
            self.update_spec(&id, |spec| spec.availability = Some(wanted))
                .await
        })
    }

    fn set_label(&self, id: String, key: String, value: Option<String>) -> SwarmFuture<'_, ()> {
        Box::pin(async move {
            self.update_spec(&id, |spec| {
                let labels = spec.labels.get_or_insert_with(HashMap::new);
                match &value {
                    Some(v) => labels.insert(key.clone(), v.clone()),
                    None => labels.remove(&key),
                };
            })
            .await
        })
    }

    fn remove_node(&self, id: String) -> SwarmFuture<'_, ()> {
        Box::pin(async move { self.delete(&id).await })
    }
}
