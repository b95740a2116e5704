//! Server functions behind the Nodes page: the same commands and rules as `/api/v1/nodes`
//! (`commands::node`): admins and owners read, the instance owner changes; each error
//! answers with the REST API's status.

use crate::domain::node::{JoinCommand, NodeList, NodeView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the Nodes page shows, in one reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodesOverview {
    pub list: NodeList,
    /// `None` when the engine is no swarm manager (the list says why).
    pub join: Option<JoinCommand>,
    /// Whether the viewer is the instance owner: the one who may change nodes.
    pub may_change: bool,
}

#[cfg(feature = "ssr")]
fn refused(e: crate::commands::CommandError) -> ServerFnError {
    crate::api::team::guard::refused("node", e)
}

#[server(name = NodesOverviewFn, prefix = "/api", endpoint = "nodes_overview")]
pub async fn nodes_overview() -> Result<NodesOverview, ServerFnError> {
    use crate::commands::{node, CommandError};
    let (ctx, caller) = crate::api::context::caller()?;
    let list = node::list(ctx.swarm.as_ref(), &caller)
        .await
        .map_err(refused)?;
    let join = if list.swarm {
        match node::join_command(ctx.deps(), ctx.swarm.as_ref(), &caller).await {
            Ok(join) => Some(join),
            Err(CommandError::Conflict(_)) => None,
            Err(e) => return Err(refused(e)),
        }
    } else {
        None
    };
    let may_change = node::may_change(ctx.deps(), &caller).await.is_ok();
    Ok(NodesOverview {
        list,
        join,
        may_change,
    })
}

/// `availability`: `active`, `pause` or `drain`.
#[server(name = SetNodeAvailability, prefix = "/api", endpoint = "set_node_availability")]
pub async fn set_node_availability(
    id: String,
    availability: String,
) -> Result<NodeView, ServerFnError> {
    use crate::commands::{node, CommandError};
    use crate::domain::node::Availability;
    let (ctx, caller) = crate::api::context::caller()?;
    node::may_change(ctx.deps(), &caller)
        .await
        .map_err(refused)?;
    let availability =
        Availability::parse(&availability).map_err(|e| refused(CommandError::Invalid(vec![e])))?;
    node::set_availability(ctx.deps(), ctx.swarm.as_ref(), &caller, &id, availability)
        .await
        .map_err(refused)
}

#[server(name = SetNodeLabel, prefix = "/api", endpoint = "set_node_label")]
pub async fn set_node_label(
    id: String,
    key: String,
    value: String,
) -> Result<NodeView, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    crate::commands::node::set_label(
        ctx.deps(),
        ctx.swarm.as_ref(),
        &caller,
        &id,
        key.trim(),
        Some(&value),
    )
    .await
    .map_err(refused)
}

#[server(name = RemoveNodeLabel, prefix = "/api", endpoint = "remove_node_label")]
pub async fn remove_node_label(id: String, key: String) -> Result<NodeView, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    crate::commands::node::set_label(ctx.deps(), ctx.swarm.as_ref(), &caller, &id, &key, None)
        .await
        .map_err(refused)
}

#[server(name = RemoveNode, prefix = "/api", endpoint = "remove_node")]
pub async fn remove_node(id: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    crate::commands::node::remove(ctx.deps(), ctx.swarm.as_ref(), &caller, &id)
        .await
        .map_err(refused)
}

#[server(name = RotateJoinToken, prefix = "/api", endpoint = "rotate_join_token")]
pub async fn rotate_join_token() -> Result<JoinCommand, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    crate::commands::node::rotate_join_token(ctx.deps(), ctx.swarm.as_ref(), &caller)
        .await
        .map_err(refused)
}
