//! Server functions behind an environment tab's "Git repository" form: the same commands
//! as `PUT`/`DELETE /api/v1/environments/{id}/repository`. Without JavaScript the form
//! comes back to the environment's tab.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::team::guard;

/// Sets the environment's repository. `credentials`: empty (none), `token` (with
/// `username`, empty: `x-access-token`) or `deploy_key`; `secret` empty keeps the stored
/// one (same host).
#[server(name = SaveEnvironmentRepository, prefix = "/api", endpoint = "save_environment_repository")]
pub async fn save_environment_repository(
    project: String,
    environment: String,
    repo: String,
    branch: String,
    credentials: String,
    username: String,
    secret: String,
) -> Result<(), ServerFnError> {
    use crate::domain::environment_repository::EnvironmentRepository;
    use crate::domain::service::GitCredentials;
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&environment, "environment")?;
    let credentials = match credentials.as_str() {
        "" => None,
        "token" => Some(GitCredentials::Token {
            username: match username.trim() {
                "" => "x-access-token".to_owned(),
                u => u.to_owned(),
            },
            token: secret,
        }),
        "deploy_key" => Some(GitCredentials::DeployKey {
            private_key: secret,
        }),
        _ => {
            return Err(guard::invalid(
                "credentials: none, a token or a deploy key.".to_owned(),
            ))
        }
    };
    let repo = EnvironmentRepository {
        repo,
        branch,
        credentials,
    };
    crate::commands::environment_repository::set(ctx.deps(), &caller, id, repo)
        .await
        .map_err(|e| guard::refused("environment", e))?;
    if crate::api::services::guard::without_js() {
        leptos_axum::redirect(&format!("/projects/{project}?env={id}"));
    }
    Ok(())
}

#[server(name = RemoveEnvironmentRepository, prefix = "/api", endpoint = "remove_environment_repository")]
pub async fn remove_environment_repository(
    project: String,
    environment: String,
) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&environment, "environment")?;
    crate::commands::environment_repository::remove(ctx.deps(), &caller, id)
        .await
        .map_err(|e| guard::refused("environment", e))?;
    if crate::api::services::guard::without_js() {
        leptos_axum::redirect(&format!("/projects/{project}?env={id}"));
    }
    Ok(())
}
