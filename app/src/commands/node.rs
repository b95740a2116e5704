//! The swarm's nodes: list them, show the join command, rotate the worker join token, set a
//! node's availability, set and remove its labels, remove a node that is down.
//!
//! Who may: seeing the nodes and the join command (without its token) needs
//! `Permission::ReadNodes` (admins and owners of the caller's team). The token and every
//! change belong to the instance owner (the account that set Berth up, the rule of the
//! instance settings): nodes serve every team of the installation. Every change is audited
//! in the caller's team (`node.availability`, `node.label`, `node.remove`,
//! `swarm.rotate_token`); a join token is never written to the audit log nor to a log.
//!
//! The engine is behind [`Swarm`], so these rules stay engine-agnostic: the server gives
//! the bollard implementation.

use crate::commands::{instance, Caller, CommandError, Deps};
use crate::domain::node::{
    valid_node_id, validate_label_key, validate_label_value, Availability, JoinCommand, NodeList,
    NodeRole, NodeState, NodeView,
};
use crate::domain::Permission;
use crate::store::audit;
use serde_json::{json, Value};
use std::{future::Future, pin::Pin};

/// What a [`Swarm`] call answers.
pub type SwarmFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SwarmError>> + Send + 'a>>;

/// Why the engine did not do it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwarmError {
    /// The engine is not a swarm manager; its swarm state (`inactive`, `pending`, `error`,
    /// `locked`, `active` on a worker) or `unreachable`.
    #[error("the engine is not a swarm manager ({0})")]
    NotManager(String),
    #[error("no such node")]
    NoSuchNode,
    /// The engine refused because of the swarm's state; its words.
    #[error("{0}")]
    Refused(String),
    /// Anything else the engine answered.
    #[error("the Docker engine failed: {0}")]
    Failed(String),
}

/// Where a worker joins and with which token (a secret: never logged).
#[derive(Clone)]
pub struct JoinInfo {
    /// The manager's `host:port` (2377 by default).
    pub manager_address: String,
    pub worker_token: String,
}

impl std::fmt::Debug for JoinInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinInfo")
            .field("manager_address", &self.manager_address)
            .field("worker_token", &"<hidden>")
            .finish()
    }
}

/// The swarm as seen from a manager. Ids are full node ids (checked by the commands).
pub trait Swarm: Send + Sync + 'static {
    /// Every node, with its running tasks counted.
    fn nodes(&self) -> SwarmFuture<'_, Vec<NodeView>>;
    /// One node; `NoSuchNode` when the swarm has none with this id.
    fn node(&self, id: String) -> SwarmFuture<'_, NodeView>;
    fn join_info(&self) -> SwarmFuture<'_, JoinInfo>;
    /// A new worker join token (the old one stops working; joined nodes stay).
    fn rotate_worker_token(&self) -> SwarmFuture<'_, ()>;
    fn set_availability(&self, id: String, availability: Availability) -> SwarmFuture<'_, ()>;
    /// Sets `key` to `value`, or removes it (`None`).
    fn set_label(&self, id: String, key: String, value: Option<String>) -> SwarmFuture<'_, ()>;
    fn remove_node(&self, id: String) -> SwarmFuture<'_, ()>;
}

impl From<SwarmError> for CommandError {
    fn from(e: SwarmError) -> Self {
        match e {
            SwarmError::NotManager(state) => CommandError::Conflict(not_a_manager(&state)),
            SwarmError::NoSuchNode => CommandError::NotFound,
            SwarmError::Refused(why) => CommandError::Conflict(why),
            SwarmError::Failed(why) => {
                tracing::warn!(error = %why, "swarm call failed");
                CommandError::Conflict(format!("The Docker engine failed: {why}"))
            }
        }
    }
}

/// What a person reads when the engine is no swarm manager.
fn not_a_manager(state: &str) -> String {
    match state {
        "unreachable" => "Berth cannot reach its Docker engine, so it cannot manage nodes.".into(),
        "active" => "Berth's Docker engine is a swarm worker: only a manager manages nodes. Point Berth at a manager's engine.".into(),
        s => format!(
            "Berth's Docker engine is not a swarm manager (its swarm state: {s}). Turn it into one with `docker swarm init --advertise-addr <its address>` (see the README's \"Nodes (Docker Swarm)\")."
        ),
    }
}

/// `Forbidden` below `ReadNodes`, then `ForbiddenBecause` unless the caller is the
/// instance owner: who may change nodes (adapters ask it before parsing a body, so a
/// caller without the right hears 403 first).
pub async fn may_change(deps: Deps<'_>, caller: &Caller) -> Result<(), CommandError> {
    caller.may(Permission::ReadNodes)?;
    if instance::is_owner(deps, caller).await? {
        Ok(())
    } else {
        Err(CommandError::ForbiddenBecause(
            "Only the instance owner can change the swarm's nodes and its join token.".into(),
        ))
    }
}

/// The node `id` of the swarm (404 for an id that is not a node id, before any call).
async fn existing(swarm: &dyn Swarm, id: &str) -> Result<NodeView, CommandError> {
    if !valid_node_id(id) {
        return Err(CommandError::NotFound);
    }
    Ok(swarm.node(id.to_owned()).await?)
}

async fn audited(
    deps: Deps<'_>,
    caller: &Caller,
    action: &str,
    kind: &str,
    label: &str,
    summary: Value,
) -> Result<(), CommandError> {
    let mut tx = deps.pool.begin().await?;
    audit::record(
        &mut tx,
        &caller.actor,
        action,
        audit::Target {
            kind,
            id: None,
            label,
        },
        summary,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every node, or `swarm: false` with the engine's swarm state when it is no manager.
/// Admins and owners of the caller's team.
pub async fn list(swarm: &dyn Swarm, caller: &Caller) -> Result<NodeList, CommandError> {
    caller.may(Permission::ReadNodes)?;
    match swarm.nodes().await {
        Ok(mut nodes) => {
            nodes.sort_by(|a, b| {
                (a.role != NodeRole::Manager, &a.hostname, &a.id).cmp(&(
                    b.role != NodeRole::Manager,
                    &b.hostname,
                    &b.id,
                ))
            });
            Ok(NodeList {
                swarm: true,
                local_state: "active".into(),
                nodes,
            })
        }
        Err(SwarmError::NotManager(state)) => Ok(NodeList {
            swarm: false,
            local_state: state,
            nodes: Vec::new(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// The `docker swarm join` command for a new worker; its token only for the instance
/// owner. Admins and owners of the caller's team; 409 when the engine is no manager.
pub async fn join_command(
    deps: Deps<'_>,
    swarm: &dyn Swarm,
    caller: &Caller,
) -> Result<JoinCommand, CommandError> {
    caller.may(Permission::ReadNodes)?;
    let show = instance::is_owner(deps, caller).await?;
    let info = swarm.join_info().await?;
    Ok(JoinCommand::new(
        &info.manager_address,
        &info.worker_token,
        show,
    ))
}

/// A new worker join token (the old one stops working; nodes already joined stay); the
/// new command answers. Instance owner; audited `swarm.rotate_token` (without the token).
pub async fn rotate_join_token(
    deps: Deps<'_>,
    swarm: &dyn Swarm,
    caller: &Caller,
) -> Result<JoinCommand, CommandError> {
    may_change(deps, caller).await?;
    swarm.rotate_worker_token().await?;
    audited(
        deps,
        caller,
        "swarm.rotate_token",
        "swarm",
        "worker join token",
        json!({"token": "worker"}),
    )
    .await?;
    let info = swarm.join_info().await?;
    Ok(JoinCommand::new(
        &info.manager_address,
        &info.worker_token,
        true,
    ))
}

/// Sets a node's availability (`drain` moves its tasks elsewhere); the node answers.
/// Instance owner; audited `node.availability` when it changes.
pub async fn set_availability(
    deps: Deps<'_>,
    swarm: &dyn Swarm,
    caller: &Caller,
    id: &str,
    availability: Availability,
) -> Result<NodeView, CommandError> {
    may_change(deps, caller).await?;
    let node = existing(swarm, id).await?;
    if node.availability == availability {
        return Ok(node);
    }
    swarm.set_availability(id.to_owned(), availability).await?;
    audited(
        deps,
        caller,
        "node.availability",
        "node",
        &node.hostname,
        json!({"node": id, "availability": {"before": node.availability, "after": availability}}),
    )
    .await?;
    Ok(swarm.node(id.to_owned()).await?)
}

/// Sets (`Some`) or removes (`None`) a node label; the node answers. The key and value
/// follow `domain::node`'s rules (422 naming `key` / `value`). Instance owner; audited
/// `node.label` when it changes (removing an absent label changes nothing).
pub async fn set_label(
    deps: Deps<'_>,
    swarm: &dyn Swarm,
    caller: &Caller,
    id: &str,
    key: &str,
    value: Option<&str>,
) -> Result<NodeView, CommandError> {
    may_change(deps, caller).await?;
    let errors: Vec<_> = [
        validate_label_key(key).err(),
        value.and_then(|v| validate_label_value(v).err()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !errors.is_empty() {
        return Err(CommandError::Invalid(errors));
    }
    let node = existing(swarm, id).await?;
    let before = node.labels.get(key).map(String::as_str);
    if before == value {
        return Ok(node);
    }
    swarm
        .set_label(id.to_owned(), key.to_owned(), value.map(str::to_owned))
        .await?;
    audited(
        deps,
        caller,
        "node.label",
        "node",
        &node.hostname,
        json!({"node": id, "key": key, "before": before, "after": value}),
    )
    .await?;
    Ok(swarm.node(id.to_owned()).await?)
}

/// Removes a node from the swarm: only a worker that is down (409 otherwise, saying what
/// to do). Instance owner; audited `node.remove`.
pub async fn remove(
    deps: Deps<'_>,
    swarm: &dyn Swarm,
    caller: &Caller,
    id: &str,
) -> Result<(), CommandError> {
    may_change(deps, caller).await?;
    let node = existing(swarm, id).await?;
    if node.role == NodeRole::Manager {
        return Err(CommandError::Conflict(format!(
            "{} is a manager: demote it first (`docker node demote {}` on a manager), then remove it once it is down.",
            node.hostname, node.id
        )));
    }
    if node.state != NodeState::Down {
        return Err(CommandError::Conflict(format!(
            "{} is {}: only a node that is down can be removed. Drain it, then run `docker swarm leave` on it (or stop its engine), and remove it once it shows down.",
            node.hostname,
            state_word(node.state)
        )));
    }
    swarm.remove_node(id.to_owned()).await?;
    audited(
        deps,
        caller,
        "node.remove",
        "node",
        &node.hostname,
        json!({"node": id, "role": node.role, "availability": node.availability}),
    )
    .await
}

fn state_word(s: NodeState) -> &'static str {
    match s {
        NodeState::Ready => "ready",
        NodeState::Down => "down",
        NodeState::Unknown => "in an unknown state",
        NodeState::Disconnected => "disconnected",
    }
}
