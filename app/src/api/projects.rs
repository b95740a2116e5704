//! Server functions behind the Projects pages: the same commands, rules and permission
//! table as `/api/v1/projects/…` and `/api/v1/environments/…`.

use crate::domain::project::{EnvironmentCreated, EnvironmentView, ProjectView};
use crate::domain::service::ServiceView;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::team::guard;

/// The Projects list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectsConsole {
    /// Whether the reader may create, rename and delete projects (admins).
    pub can_manage: bool,
    pub projects: Vec<ProjectView>,
}

/// One environment tab of a project page: the environment, its services, and their map.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvironmentTab {
    pub environment: EnvironmentView,
    pub services: Vec<ServiceView>,
    /// The service map as one `<svg>` element, drawn on the server and escaped there
    /// (`domain::service_map::render_svg`): the page puts it in as inner HTML.
    pub map: String,
}

/// A project page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectConsole {
    pub can_manage: bool,
    /// Whether the reader may create services (developers).
    pub can_create_services: bool,
    pub project: ProjectView,
    pub tabs: Vec<EnvironmentTab>,
}

#[server(name = GetProjects, prefix = "/api", endpoint = "projects_console")]
pub async fn projects_console() -> Result<ProjectsConsole, ServerFnError> {
    use crate::domain::Permission;
    let (ctx, caller) = crate::api::context::caller()?;
    let projects = crate::commands::project::list(ctx.deps(), &caller)
        .await
        .map_err(|e| guard::refused("project", e))?;
    Ok(ProjectsConsole {
        can_manage: caller.role.allows(Permission::ManageProjects),
        projects,
    })
}

#[server(name = GetProject, prefix = "/api", endpoint = "project_console")]
pub async fn project_console(id: String) -> Result<ProjectConsole, ServerFnError> {
    use crate::commands::project as command;
    use crate::domain::Permission;
    let (ctx, caller) = crate::api::context::caller()?;
    let refused = |e| guard::refused("project", e);
    let id = guard::id(&id, "project")?;
    let project = command::show(ctx.deps(), &caller, id)
        .await
        .map_err(refused)?;
    let mut tabs = Vec::new();
    for environment in project.environments.iter().cloned() {
        let mut services: Vec<ServiceView> =
            command::environment_services(ctx.deps(), &caller, environment.id)
                .await
                .map_err(refused)?
                .into_iter()
                .map(|v| v.with_urls(ctx.proxy))
                .collect();
        crate::commands::variables::mark_needs_redeploy(ctx.deps(), &mut services)
            .await
            .map_err(refused)?;
        let map = crate::commands::service_map::render(ctx.deps(), environment.id, &services).await;
        tabs.push(EnvironmentTab {
            environment,
            services,
            map,
        });
    }
    Ok(ProjectConsole {
        can_manage: caller.role.allows(Permission::ManageProjects),
        can_create_services: caller.role.allows(Permission::ManageServices),
        project,
        tabs,
    })
}

/// Creates a project (empty `id`) or renames the one `id` names. Without JavaScript, a new
/// project's page is opened.
#[server(name = SaveProject, prefix = "/api", endpoint = "save_project")]
pub async fn save_project(
    id: String,
    name: String,
    description: String,
) -> Result<String, ServerFnError> {
    use crate::commands::project as command;
    use crate::domain::project::ProjectForm;
    let (ctx, caller) = crate::api::context::caller()?;
    let refused = |e| guard::refused("project", e);
    let form = ProjectForm { name, description };
    let project = match id.trim() {
        "" => command::create(ctx.deps(), &caller, form).await,
        id => command::update(ctx.deps(), &caller, guard::id(id, "project")?, form).await,
    }
    .map_err(refused)?;
    if crate::api::services::guard::without_js() {
        leptos_axum::redirect(&format!("/projects/{}", project.id));
    }
    Ok(project.id.to_string())
}

#[server(name = DeleteProject, prefix = "/api", endpoint = "delete_project")]
pub async fn delete_project(id: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&id, "project")?;
    crate::commands::project::delete(ctx.deps(), &caller, id)
        .await
        .map_err(|e| guard::refused("project", e))?;
    if crate::api::services::guard::without_js() {
        leptos_axum::redirect("/projects");
    }
    Ok(())
}

/// Creates an environment in project `project`: empty, or a clone of `clone_from` (an
/// environment id; empty: none).
#[server(name = CreateEnvironment, prefix = "/api", endpoint = "create_environment")]
pub async fn create_environment(
    project: String,
    name: String,
    clone_from: String,
) -> Result<EnvironmentCreated, ServerFnError> {
    use crate::domain::project::EnvironmentForm;
    let (ctx, caller) = crate::api::context::caller()?;
    let project = guard::id(&project, "project")?;
    let clone_from = match clone_from.trim() {
        "" => None,
        id => Some(guard::id(id, "environment")?),
    };
    let form = EnvironmentForm { name, clone_from };
    let created = crate::commands::project::create_environment(ctx.deps(), &caller, project, form)
        .await
        .map_err(|e| guard::refused("project", e))?;
    if crate::api::services::guard::without_js() {
        let tab = created.environment.id;
        leptos_axum::redirect(&format!("/projects/{project}?env={tab}"));
    }
    Ok(created)
}

#[server(name = RenameEnvironment, prefix = "/api", endpoint = "rename_environment")]
pub async fn rename_environment(id: String, name: String) -> Result<(), ServerFnError> {
    use crate::domain::project::EnvironmentForm;
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&id, "environment")?;
    let form = EnvironmentForm {
        name,
        clone_from: None,
    };
    crate::commands::project::rename_environment(ctx.deps(), &caller, id, form)
        .await
        .map(|_| ())
        .map_err(|e| guard::refused("environment", e))
}

#[server(name = DeleteEnvironment, prefix = "/api", endpoint = "delete_environment")]
pub async fn delete_environment(id: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&id, "environment")?;
    crate::commands::project::delete_environment(ctx.deps(), &caller, id)
        .await
        .map_err(|e| guard::refused("environment", e))
}
