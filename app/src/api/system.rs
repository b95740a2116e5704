use crate::domain::SystemStatus;
use leptos::prelude::*;

/// Postgres and Docker engine status, for signed-in members.
#[server(name = SystemStatusFn, prefix = "/api", endpoint = "system_status")]
pub async fn system_status() -> Result<SystemStatus, ServerFnError> {
    use super::context::{require_member, server_context};
    require_member()?;
    let ctx = server_context()?;
    Ok(ctx.probe.status().await)
}
