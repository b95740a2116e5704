//! Server functions behind an environment's "Shared variables" section and its
//! "Redeploy outdated services" and "Redeploy environment" actions: the same commands as
//! `/api/v1/environments/{id}/variables` and `…/redeploy-outdated` and `…/redeploy`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::team::guard;

/// The section's content: the plain variables as `KEY=value` text, the secret ones'
/// names (`KEY=`: kept when saved so), and the services that need a redeploy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SharedVariablesPanel {
    pub env: String,
    pub secret_env: String,
    /// Whether the reader may change them (developers).
    pub can_edit: bool,
    pub outdated: Vec<String>,
}

#[server(name = GetSharedVariables, prefix = "/api", endpoint = "shared_variables_panel")]
pub async fn shared_variables_panel(
    environment: String,
) -> Result<SharedVariablesPanel, ServerFnError> {
    use crate::commands::variables as command;
    use crate::domain::service::form_text::write_pairs;
    use crate::domain::Permission;
    let (ctx, caller) = crate::api::context::caller()?;
    let refused = |e| guard::refused("environment", e);
    let id = guard::id(&environment, "environment")?;
    let vars = command::shared(ctx.deps(), &caller, id)
        .await
        .map_err(refused)?;
    let outdated = command::outdated_services(ctx.deps(), &caller, id)
        .await
        .map_err(refused)?;
    let plain = vars.iter().filter(|v| !v.secret);
    let secret = vars.iter().filter(|v| v.secret);
    Ok(SharedVariablesPanel {
        env: write_pairs(plain.map(|v| (v.key.as_str(), v.value.as_str()))),
        secret_env: write_pairs(secret.map(|v| (v.key.as_str(), ""))),
        can_edit: caller.role.allows(Permission::ManageServices),
        outdated,
    })
}

/// Replaces the shared variables with the two texts' (`KEY=value` lines; a secret `KEY=`
/// keeps its stored value). Without JavaScript, back to the project page's tab.
#[server(name = SaveSharedVariables, prefix = "/api", endpoint = "save_shared_variables")]
pub async fn save_shared_variables(
    project: String,
    environment: String,
    env: String,
    secret_env: String,
) -> Result<(), ServerFnError> {
    use crate::domain::service::form_text::read_items;
    use crate::domain::service::EnvVar;
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&environment, "environment")?;
    let mut vars = Vec::new();
    for (text, secret) in [(&env, false), (&secret_env, true)] {
        let (items, problems) = read_items(text, true);
        if let Some(p) = problems.first() {
            return Err(guard::invalid(p.clone()));
        }
        vars.extend(items.into_iter().map(|i| EnvVar {
            key: i.key.unwrap_or_default(),
            value: i.value,
            secret,
        }));
    }
    crate::commands::variables::set_shared(ctx.deps(), &caller, id, vars)
        .await
        .map_err(|e| guard::refused("environment", e))?;
    if crate::api::services::guard::without_js() {
        leptos_axum::redirect(&format!("/projects/{project}?env={id}"));
    }
    Ok(())
}

/// Redeploys the environment's services marked "needs redeploy"; answers their names.
#[server(name = RedeployOutdatedServices, prefix = "/api", endpoint = "redeploy_outdated_services")]
pub async fn redeploy_outdated_services(
    project: String,
    environment: String,
) -> Result<Vec<String>, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&environment, "environment")?;
    let done = crate::commands::variables::redeploy_outdated(ctx.deps(), &caller, id)
        .await
        .map_err(|e| guard::refused("environment", e))?;
    if crate::api::services::guard::without_js() {
        leptos_axum::redirect(&format!("/projects/{project}?env={id}"));
    }
    Ok(done.services)
}

/// Redeploys every service of the environment (dependency order); answers their names.
#[server(name = RedeployEnvironment, prefix = "/api", endpoint = "redeploy_environment")]
pub async fn redeploy_environment(
    project: String,
    environment: String,
) -> Result<Vec<String>, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&environment, "environment")?;
    let done = crate::commands::dependencies::redeploy_environment(ctx.deps(), &caller, id)
        .await
        .map_err(|e| guard::refused("environment", e))?;
    if crate::api::services::guard::without_js() {
        leptos_axum::redirect(&format!("/projects/{project}?env={id}"));
    }
    Ok(done.services)
}
