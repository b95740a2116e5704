use crate::domain::SessionInfo;
use leptos::prelude::*;

/// The signed-in user, their current team and role; `None` when signed out.
#[server(name = Whoami, prefix = "/api", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<SessionInfo>, ServerFnError> {
    Ok(super::context::viewer())
}
