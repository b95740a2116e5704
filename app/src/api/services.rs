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
pub(crate) mod guard {
    use crate::api::context::{set_status, ServerContext};
    use crate::commands::CommandError;
    use crate::domain::service::{FieldError, FormProblem, ServiceForm, Taken};
    use leptos::prelude::*;

    /// For reads: the caller's context and actor once their role allows `p`.
    pub fn member(
        p: crate::domain::Permission,
    ) -> Result<(ServerContext, crate::store::audit::Actor), ServerFnError> {
        let (ctx, caller) = reader(p)?;
        Ok((ctx, caller.actor))
    }

    /// For reads that depend on the role too: the caller once their role allows `p`.
    pub fn reader(
        p: crate::domain::Permission,
    ) -> Result<(ServerContext, crate::commands::Caller), ServerFnError> {
        let (ctx, caller) = crate::api::context::caller()?;
        caller.may(p).map_err(fail)?;
        Ok((ctx, caller))
    }

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

    /// The problem code a form returned without JavaScript carries for `e`.
    fn problem_of(e: &CommandError) -> FormProblem {
        match e {
            CommandError::Taken(Taken::Name { .. }) => FormProblem::NameTaken,
            CommandError::Taken(Taken::HostPort { .. }) => FormProblem::HostPortTaken,
            CommandError::Taken(Taken::Domain { .. }) => FormProblem::DomainTaken,
            _ => FormProblem::Fields,
        }
    }

    /// The refused form's outcome (`errors` against the form's fields); without
    /// JavaScript, also a redirect back to the form with the values (secrets blanked) and
    /// the problem's code, so the page can show the errors.
    pub fn back_to_form(
        id: &str,
        form: &ServiceForm,
        problem: FormProblem,
        errors: Vec<FieldError>,
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

    /// A command's refusal of the form's definition `spec`, against the form's fields.
    pub fn refused(
        id: &str,
        form: &ServiceForm,
        spec: &crate::domain::service::ServiceSpec,
        e: &CommandError,
    ) -> super::SaveOutcome {
        let errors = e
            .field_errors()
            .into_iter()
            .map(|f| {
                FieldError::new(
                    crate::domain::service::form_field(&f.field, spec),
                    f.message,
                )
            })
            .collect();
        back_to_form(id, form, problem_of(e), errors)
    }

    pub fn id(raw: &str) -> Result<uuid::Uuid, ServerFnError> {
        raw.parse().map_err(|_| fail(CommandError::NotFound))
    }

    /// The error as a server function's answer: its message, with the status the REST API
    /// gives the same error (422 invalid or taken, 409 in the way, 412 stale, 403, 404;
    /// 500 only for the server's own failure, which is logged). The page shows the message
    /// whatever the status. Without JavaScript, see below.
    pub fn fail(e: impl Into<CommandError>) -> ServerFnError {
        use http::StatusCode as S;
        let e = e.into();
        let status = match &e {
            CommandError::Invalid(_) | CommandError::Taken(_) | CommandError::Unprocessable(_) => {
                S::UNPROCESSABLE_ENTITY
            }
            CommandError::Conflict(_) => S::CONFLICT,
            CommandError::Stale => S::PRECONDITION_FAILED,
            CommandError::NotFound => S::NOT_FOUND,
            CommandError::Forbidden | CommandError::ForbiddenBecause(_) => S::FORBIDDEN,
            CommandError::Internal(inner) => {
                tracing::error!(error = %inner, "services page");
                S::INTERNAL_SERVER_ERROR
            }
        };
        // A form posted without JavaScript is sent back to its page (leptos redirects to the
        // referrer) unless a status is set; only "not found" and "forbidden" replace it.
        if !without_js() || matches!(status, S::NOT_FOUND | S::FORBIDDEN) {
            set_status(status);
        }
        ServerFnError::new(e.message())
    }
}

#[server(name = ListServices, prefix = "/api", endpoint = "list_services")]
pub async fn list_services() -> Result<Vec<ServiceView>, ServerFnError> {
    let (ctx, caller) = guard::reader(crate::domain::Permission::ReadServices)?;
    let list = crate::store::services::list(&ctx.pool, caller.actor.team_id, caller.role)
        .await
        .map_err(guard::fail)?;
    let mut list: Vec<ServiceView> = list.into_iter().map(|s| s.with_urls(ctx.proxy)).collect();
    crate::commands::variables::mark_needs_redeploy(ctx.deps(), &mut list)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(list)
}

/// A service with its recent deployments.
#[server(name = GetService, prefix = "/api", endpoint = "get_service")]
pub async fn get_service(id: String) -> Result<(ServiceView, Vec<DeploymentView>), ServerFnError> {
    use crate::store::services as store;
    let (ctx, caller) = guard::reader(crate::domain::Permission::ReadServices)?;
    let team = caller.actor.team_id;
    let id = guard::id(&id)?;
    let view = store::get(&ctx.pool, team, caller.role, id)
        .await
        .map_err(guard::fail)?
        .with_urls(ctx.proxy);
    let mut views = [view];
    crate::commands::variables::mark_needs_redeploy(ctx.deps(), &mut views)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    let [view] = views;
    let deployments = crate::store::deployments::history(&ctx.pool, team, id, 20, None)
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
    let (_, log) = crate::store::deployments::with_log(&ctx.pool, actor.team_id, guard::id(&id)?)
        .await
        .map_err(guard::fail)?;
    Ok(log)
}

/// Creates (empty `id`) or updates a service from the form.
#[server(name = SaveService, prefix = "/api", endpoint = "save_service")]
pub async fn save_service(id: String, form: ServiceForm) -> Result<SaveOutcome, ServerFnError> {
    use crate::commands::service;
    use crate::domain::service::FormProblem;
    let (ctx, caller) = crate::api::context::caller()?;
    let spec = match form.parse() {
        Ok(spec) => spec,
        Err(errors) => return Ok(guard::back_to_form(&id, &form, FormProblem::Fields, errors)),
    };
    let deps = ctx.deps();
    let saved = if id.is_empty() {
        let environment = match form.environment.trim() {
            "" => None,
            typed => Some(guard::id(typed)?),
        };
        service::create(deps, &caller, environment, spec.clone()).await
    } else {
        let id = guard::id(&id)?;
        service::update(deps, &caller, id, spec.clone())
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
        Err(e) if !e.field_errors().is_empty() => Ok(guard::refused(&id, &form, &spec, &e)),
        Err(e) => Err(guard::fail(e)),
    }
}

/// `scale` (with `replicas`), `stop`, `start`, `redeploy`, `deploy` (build the branch head
/// of a git service), `rollback` (with the deployment number in `replicas`) or `delete`
/// (with `volumes`: absent or `keep` keeps the service's volumes, `delete` removes them).
#[server(name = ServiceAction, prefix = "/api", endpoint = "service_action")]
pub async fn service_action(
    id: String,
    action: String,
    replicas: String,
    volumes: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::commands::{service, CommandError};
    use crate::domain::service::VolumesOnDelete;
    let (ctx, caller) = crate::api::context::caller()?;
    caller
        .may(crate::domain::Permission::ManageServices)
        .map_err(guard::fail)?;
    let deps = ctx.deps();
    let id = guard::id(&id)?;
    let replicas: Option<u32> = replicas.trim().parse().ok();
    let done = match (action.as_str(), replicas) {
        ("scale", Some(n)) => service::scale(deps, &caller, id, n).await.map(|_| ()),
        ("stop", _) => service::stop(deps, &caller, id).await,
        ("start", _) => service::start(deps, &caller, id).await,
        ("delete", _) => match VolumesOnDelete::parse(volumes.as_deref()) {
            Ok(volumes) => service::delete(deps, &caller, id, volumes)
                .await
                .map(|_| ()),
            Err(e) => Err(CommandError::Invalid(vec![e])),
        },
        ("redeploy", _) => service::redeploy(deps, &caller, id).await.map(|_| ()),
        ("deploy", _) => service::deploy_now(deps, &caller, id).await.map(|_| ()),
        ("rollback", Some(n)) => service::rollback(deps, &caller, id, n as i32)
            .await
            .map(|_| ()),
        ("rollback", None) => Err(CommandError::field(
            "deployment",
            "Give the deployment to roll back to.",
        )),
        ("scale", None) => Err(CommandError::field(
            "replicas",
            "Give the number of replicas (0–50).",
        )),
        _ => Err(CommandError::field("action", "Unknown action.")),
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
        .map_err(guard::fail)
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
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&id)?;
    let secret = crate::commands::service::rotate_webhook_secret(ctx.deps(), &caller, id)
        .await
        .map_err(guard::fail)?;
    let mut info = WebhookInfo::new(&ctx.public_base(), id, true);
    info.secret = Some(secret);
    Ok(info)
}
