//! Server functions behind the services pages: the same store, validation and permission
//! table as the REST API.

use crate::domain::service::{
    DeploymentLogLine, DeploymentView, FieldError, ServiceEvent, ServiceForm, ServiceMetrics,
    ServiceView, WebhookInfo,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What saving the form did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved { id: String },
    Invalid(Vec<FieldError>),
}

#[cfg(feature = "ssr")]
mod guard {
    use crate::api::context::{require, ServerContext};
    use crate::domain::Permission;
    use crate::store::services::{Actor, ServiceError};
    use leptos::prelude::*;

    /// The caller as an actor of their team, once their role allows `p`.
    pub fn member(p: Permission) -> Result<(ServerContext, Actor), ServerFnError> {
        let (ctx, _, actor) = require(p)?;
        Ok((ctx, actor))
    }

    use crate::api::context::set_status as status;

    /// A plain HTML form post (no JavaScript): the browser wants a page, not JSON.
    pub fn without_js() -> bool {
        use_context::<http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"))
        })
    }

    /// The invalid outcome; without JavaScript, also a redirect back to the form with the
    /// values (secrets blanked) and the problem's code, so the page can show the errors.
    pub fn without_js_back(
        id: &str,
        form: &crate::domain::service::ServiceForm,
        problem: crate::domain::service::FormProblem,
        errors: Vec<crate::domain::service::FieldError>,
    ) -> super::SaveOutcome {
        if without_js() {
            let page = if id.is_empty() {
                "/services/new".to_owned()
            } else {
                format!("/services/{id}/edit")
            };
            let values = serde_urlencoded::to_string(form.without_secrets()).unwrap_or_default();
            leptos_axum::redirect(&format!("{page}?problem={}&{values}", problem.code()));
        }
        super::SaveOutcome::Invalid(errors)
    }

    pub fn id(raw: &str) -> Result<uuid::Uuid, ServerFnError> {
        raw.parse().map_err(|_| not_found())
    }

    pub fn not_found() -> ServerFnError {
        status(http::StatusCode::NOT_FOUND);
        ServerFnError::new("No such service.")
    }

    pub fn fail(e: ServiceError) -> ServerFnError {
        match e {
            ServiceError::NotFound => not_found(),
            ServiceError::Deleting => ServerFnError::new("The service is being deleted."),
            ServiceError::Invalid(f) => ServerFnError::new(
                f.into_iter()
                    .map(|f| f.message)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            ServiceError::Store(e) => {
                tracing::error!(error = %e, "services page");
                ServerFnError::new("Something went wrong on the server; it was logged.")
            }
        }
    }
}

#[server(name = ListServices, prefix = "/api", endpoint = "list_services")]
pub async fn list_services() -> Result<Vec<ServiceView>, ServerFnError> {
    let (ctx, actor) = guard::member(crate::domain::Permission::ReadServices)?;
    let list = crate::store::services::list(&ctx.pool, actor.team_id)
        .await
        .map_err(|e| guard::fail(e.into()))?;
    Ok(list.into_iter().map(|s| s.with_urls(ctx.proxy)).collect())
}

/// A service with its recent deployments.
#[server(name = GetService, prefix = "/api", endpoint = "get_service")]
pub async fn get_service(id: String) -> Result<(ServiceView, Vec<DeploymentView>), ServerFnError> {
    use crate::store::services as store;
    let (ctx, actor) = guard::member(crate::domain::Permission::ReadServices)?;
    let id = guard::id(&id)?;
    let view = store::get(&ctx.pool, actor.team_id, id)
        .await
        .map_err(guard::fail)?
        .with_urls(ctx.proxy);
    let deployments = store::deployments(&ctx.pool, actor.team_id, id, 20)
        .await
        .map_err(guard::fail)?;
    Ok((view, deployments))
}

/// The edit form, pre-filled (secret values left out).
#[server(name = ServiceFormFor, prefix = "/api", endpoint = "service_form")]
pub async fn service_form(id: String) -> Result<ServiceForm, ServerFnError> {
    let (ctx, actor) = guard::member(crate::domain::Permission::ManageServices)?;
    let spec = crate::store::services::spec(&ctx.pool, actor.team_id, guard::id(&id)?)
        .await
        .map_err(guard::fail)?;
    Ok(ServiceForm::from_spec(&spec))
}

#[server(name = DeploymentLog, prefix = "/api", endpoint = "deployment_log")]
pub async fn deployment_log(id: String) -> Result<Vec<DeploymentLogLine>, ServerFnError> {
    let (ctx, actor) = guard::member(crate::domain::Permission::ReadServices)?;
    let (_, log) = crate::store::services::deployment(&ctx.pool, actor.team_id, guard::id(&id)?)
        .await
        .map_err(guard::fail)?;
    Ok(log)
}

/// Creates (empty `id`) or updates a service from the form.
#[server(name = SaveService, prefix = "/api", endpoint = "save_service")]
pub async fn save_service(id: String, form: ServiceForm) -> Result<SaveOutcome, ServerFnError> {
    use crate::domain::service::FormProblem;
    use crate::store::services::{self as store, ServiceError};
    let (ctx, actor) = guard::member(crate::domain::Permission::ManageServices)?;
    let spec = match form.parse() {
        Ok(spec) => spec,
        Err(errors) => {
            return Ok(guard::without_js_back(
                &id,
                &form,
                FormProblem::Fields,
                errors,
            ))
        }
    };
    let saved = if id.is_empty() {
        store::create(&ctx.pool, &ctx.secrets, actor, spec.clone()).await
    } else {
        let id = guard::id(&id)?;
        store::update(&ctx.pool, &ctx.secrets, actor, id, spec.clone())
            .await
            .map(|_| id)
    };
    match saved {
        Ok(id) => {
            if guard::without_js() {
                leptos_axum::redirect(&format!("/services/{id}"));
            }
            Ok(SaveOutcome::Saved { id: id.to_string() })
        }
        Err(ServiceError::Invalid(errors)) => {
            let problem = FormProblem::of_store_error(&errors[0].field);
            let errors = errors
                .into_iter()
                .map(|e| FieldError {
                    field: crate::domain::service::form_field(&e.field, &spec),
                    message: e.message,
                })
                .collect();
            Ok(guard::without_js_back(&id, &form, problem, errors))
        }
        Err(e) => Err(guard::fail(e)),
    }
}

/// `scale` (with `replicas`), `stop`, `start`, `redeploy`, `deploy` (build the branch head
/// of a git service), `rollback` (with the deployment number in `replicas`) or `delete`.
#[server(name = ServiceAction, prefix = "/api", endpoint = "service_action")]
pub async fn service_action(
    id: String,
    action: String,
    replicas: String,
) -> Result<(), ServerFnError> {
    use crate::store::services as store;
    let (ctx, actor) = guard::member(crate::domain::Permission::ManageServices)?;
    let id = guard::id(&id)?;
    let replicas: Option<u32> = replicas.trim().parse().ok();
    let done = match (action.as_str(), replicas) {
        ("scale", Some(n)) => store::scale(&ctx.pool, &ctx.secrets, actor, id, n)
            .await
            .map(|_| ()),
        ("stop", _) => store::set_stopped(&ctx.pool, actor, id, true).await,
        ("start", _) => store::set_stopped(&ctx.pool, actor, id, false).await,
        ("delete", _) => store::delete(&ctx.pool, actor, id).await,
        ("redeploy", _) => store::redeploy(&ctx.pool, actor, id, None).await,
        ("deploy", _) => crate::store::builds::deploy_now(&ctx.pool, actor, id)
            .await
            .map(|_| ()),
        ("rollback", Some(n)) => store::redeploy(&ctx.pool, actor, id, Some(n as i32)).await,
        ("rollback", None) => {
            return Err(ServerFnError::new("Give the deployment to roll back to."))
        }
        ("scale", None) => return Err(ServerFnError::new("Give the number of replicas (0–50).")),
        _ => return Err(ServerFnError::new("Unknown action.")),
    };
    done.map_err(guard::fail)?;
    if action == "delete" {
        leptos_axum::redirect("/services");
    }
    Ok(())
}

/// A service's timeline, newest first.
#[server(name = ServiceEvents, prefix = "/api", endpoint = "service_events")]
pub async fn service_events(id: String) -> Result<Vec<ServiceEvent>, ServerFnError> {
    let (ctx, actor) = guard::member(crate::domain::Permission::ReadServices)?;
    let id = guard::id(&id)?;
    crate::store::services::spec(&ctx.pool, actor.team_id, id)
        .await
        .map_err(guard::fail)?;
    crate::store::services::events(&ctx.pool, actor.team_id, id, 100)
        .await
        .map_err(|e| guard::fail(e.into()))
}

/// CPU and memory samples of a service's containers (the last hour).
#[server(name = ServiceMetricsFor, prefix = "/api", endpoint = "service_metrics")]
pub async fn service_metrics(id: String) -> Result<ServiceMetrics, ServerFnError> {
    let (ctx, actor) = guard::member(crate::domain::Permission::ReadServices)?;
    let id = guard::id(&id)?;
    let spec = crate::store::services::spec(&ctx.pool, actor.team_id, id)
        .await
        .map_err(guard::fail)?;
    Ok(ctx.metrics.service_metrics(id, spec.memory_mb))
}

/// A git service's webhook URLs and whether it has a secret.
#[server(name = WebhookFor, prefix = "/api", endpoint = "webhook_info")]
pub async fn webhook_info(id: String) -> Result<WebhookInfo, ServerFnError> {
    let (ctx, actor) = guard::member(crate::domain::Permission::ReadServices)?;
    let id = guard::id(&id)?;
    let has = crate::store::builds::has_webhook_secret(&ctx.pool, actor.team_id, id)
        .await
        .map_err(guard::fail)?;
    Ok(WebhookInfo::new(&ctx.public_base(), id, has))
}

/// Generates a new webhook secret (the old one stops working) and shows it, this once.
#[server(name = RotateWebhook, prefix = "/api", endpoint = "rotate_webhook")]
pub async fn rotate_webhook(id: String) -> Result<WebhookInfo, ServerFnError> {
    let (ctx, actor) = guard::member(crate::domain::Permission::ManageServices)?;
    let id = guard::id(&id)?;
    let secret = crate::store::builds::rotate_webhook_secret(&ctx.pool, &ctx.secrets, actor, id)
        .await
        .map_err(guard::fail)?;
    let mut info = WebhookInfo::new(&ctx.public_base(), id, true);
    info.secret = Some(secret);
    Ok(info)
}
