//! The nodes of a Docker Swarm as the Nodes page and the API show them, and the rules their
//! inputs follow (node ids, availability, node labels). Pure: the engine adapter fills
//! these types, the commands check the inputs with these rules.

use super::service::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A node id as swarmkit makes them (`identity.NewID`): 25 characters of `[0-9a-z]`.
pub const NODE_ID_LEN: usize = 25;
/// Longest label key Berth accepts (bytes). Docker sets no limit; Berth keeps node specs
/// small and keys readable in a table.
pub const LABEL_KEY_MAX: usize = 128;
/// Longest label value Berth accepts (bytes). Docker sets no limit either.
pub const LABEL_VALUE_MAX: usize = 1024;
/// Key prefixes Docker reserves for its own use ("Docker object labels" in Docker's
/// documentation: `com.docker.*`, `io.docker.*`, `org.dockerproject.*`).
pub const RESERVED_LABEL_PREFIXES: [&str; 3] = ["com.docker.", "io.docker.", "org.dockerproject."];

/// What a node does in the swarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    Manager,
    Worker,
}

/// Whether the scheduler may place tasks on a node: `active` (yes), `pause` (no new tasks,
/// the running ones stay), `drain` (no tasks: the running ones are moved elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    Active,
    Pause,
    Drain,
}

impl Availability {
    pub const ALL: [Availability; 3] = [
        Availability::Active,
        Availability::Pause,
        Availability::Drain,
    ];

    /// The word Docker and the API use.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Active => "active",
            Availability::Pause => "pause",
            Availability::Drain => "drain",
        }
    }

    /// `active`, `pause` or `drain` (exactly, lowercase); else a field error on
    /// `availability`.
    pub fn parse(raw: &str) -> Result<Availability, FieldError> {
        Availability::ALL
            .into_iter()
            .find(|a| a.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(
                    "availability",
                    "Availability is one of active, pause or drain.",
                )
            })
    }
}

/// A node's state as its manager sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    Ready,
    Down,
    Unknown,
    Disconnected,
}

/// One node of the swarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeView {
    /// The swarm's id of the node (25 characters of `[0-9a-z]`).
    pub id: String,
    pub hostname: String,
    pub role: NodeRole,
    pub availability: Availability,
    pub state: NodeState,
    /// The node's Docker Engine version (`None` while unknown).
    pub engine_version: Option<String>,
    /// CPUs the node offers (nano-CPUs / 10⁹; `0.0` while unknown).
    pub cpus: f64,
    /// Memory the node offers, in bytes (`0` while unknown).
    pub memory_bytes: i64,
    /// Tasks Swarm wants running on the node and that run.
    pub running_tasks: u32,
    /// The node's labels (set from a manager; not the engine's own labels).
    pub labels: BTreeMap<String, String>,
    /// Whether this node is the managers' current leader.
    pub leader: bool,
    /// The node's address as the swarm sees it (a manager: its `host:port` for joins).
    pub address: Option<String>,
}

/// `GET /api/v1/nodes`: the nodes when Berth's engine is a swarm manager. Otherwise
/// `swarm` is `false`, `nodes` empty, and `local_state` says why: the engine's swarm state
/// (`inactive`, `pending`, `error`, `locked`), `active` on a worker (only managers list
/// nodes), or `unreachable` when Berth cannot reach the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeList {
    pub swarm: bool,
    pub local_state: String,
    pub nodes: Vec<NodeView>,
}

/// `GET /api/v1/nodes/join-command`: how to add a worker. `token` (and the token inside
/// `command`) only for the instance owner; anyone else gets `token_hidden: true` and the
/// command with `<token>` in its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JoinCommand {
    /// `docker swarm join --token <token> <manager_address>`, to run on the new machine.
    pub command: String,
    /// The manager's `host:port` (port 2377 by default) the worker joins through.
    pub manager_address: String,
    pub token: Option<String>,
    pub token_hidden: bool,
}

impl JoinCommand {
    /// The command to run on a new worker; the token shown only when `show_token`.
    pub fn new(manager_address: &str, token: &str, show_token: bool) -> JoinCommand {
        let shown = if show_token { token } else { "<token>" };
        JoinCommand {
            command: format!("docker swarm join --token {shown} {manager_address}"),
            manager_address: manager_address.to_owned(),
            token: show_token.then(|| token.to_owned()),
            token_hidden: !show_token,
        }
    }
}

/// `PUT /api/v1/nodes/{id}/availability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AvailabilityBody {
    pub availability: Availability,
}

/// `PUT /api/v1/nodes/{id}/labels/{key}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LabelBody {
    /// May be empty; at most 1024 bytes, no control characters.
    #[cfg_attr(feature = "ssr", schema(max_length = 1024))]
    pub value: String,
}

/// Whether `raw` is a node id as swarmkit makes them (25 of `[0-9a-z]`). Anything else is
/// not a node (the API answers 404, as for an id that does not parse).
pub fn valid_node_id(raw: &str) -> bool {
    raw.len() == NODE_ID_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// A node label key. Docker's CLI (`opts.ValidateLabel`) refuses an empty key, and since a
/// label travels as `key=value` a key cannot hold `=`; Docker's label guideline ("Docker
/// object labels") asks for letters, digits, `.` and `-` and reserves `com.docker.*`,
/// `io.docker.*`, `org.dockerproject.*`. Berth follows the guideline (also allowing `_`),
/// requires a letter or digit first and last, and limits keys to 128 bytes.
pub fn validate_label_key(key: &str) -> Result<(), FieldError> {
    let bad = |m: &str| Err(FieldError::new("key", m));
    if key.is_empty() {
        return bad("A label key cannot be empty.");
    }
    if key.len() > LABEL_KEY_MAX {
        return bad("A label key is at most 128 characters.");
    }
    if key.contains('=') {
        return bad("A label key cannot contain '=' (Docker writes labels as key=value).");
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return bad("A label key holds letters, digits, '.', '-' and '_' only.");
    }
    let edge_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    if !edge_ok(key.bytes().next()) || !edge_ok(key.bytes().last()) {
        return bad("A label key starts and ends with a letter or a digit.");
    }
    let lower = key.to_ascii_lowercase();
    if RESERVED_LABEL_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return bad("Docker reserves com.docker.*, io.docker.* and org.dockerproject.* keys.");
    }
    Ok(())
}

/// A node label value: may be empty; at most 1024 bytes (Berth's limit: Docker sets none);
/// no control characters (the API refuses them everywhere).
pub fn validate_label_value(value: &str) -> Result<(), FieldError> {
    if value.len() > LABEL_VALUE_MAX {
        return Err(FieldError::new(
            "value",
            "A label value is at most 1024 characters.",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            "value",
            "A label value cannot hold control characters.",
        ));
    }
    Ok(())
}

/// Bytes as a person reads them: `512 MiB`, `7.8 GiB`.
pub fn format_bytes(bytes: i64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    const MIB: f64 = 1024.0 * 1024.0;
    let b = bytes.max(0) as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.0} MiB", b / MIB)
    }
}

#[cfg(test)]
#[path = "node_tests.rs"]
mod tests;
