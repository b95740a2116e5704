//! One project: a tab per environment (`?env=<id>`; the first when absent) listing its
//! services like the Services list, "New service" into it, and for admins: new
//! environment (empty or a clone of another), rename/delete environment and project.

use super::super::services::ServiceTable;
use super::super::team::{error_text, failure};
use crate::api::environment_repository::{RemoveEnvironmentRepository, SaveEnvironmentRepository};
use crate::api::projects::{
    project_console, CreateEnvironment, DeleteEnvironment, DeleteProject, EnvironmentTab,
    ProjectConsole, RenameEnvironment, SaveProject,
};
use crate::components::{refresh_on_live, AppLayout};
use crate::domain::project::EnvironmentCreated;
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
};

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveProject>,
    delete: ServerAction<DeleteProject>,
    create_env: ServerAction<CreateEnvironment>,
    rename_env: ServerAction<RenameEnvironment>,
    delete_env: ServerAction<DeleteEnvironment>,
    save_repo: ServerAction<SaveEnvironmentRepository>,
    remove_repo: ServerAction<RemoveEnvironmentRepository>,
}

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let tab = move || query.read().get("env").unwrap_or_default();
    let acts = Actions {
        save: ServerAction::new(),
        delete: ServerAction::new(),
        create_env: ServerAction::new(),
        rename_env: ServerAction::new(),
        delete_env: ServerAction::new(),
        save_repo: ServerAction::new(),
        remove_repo: ServerAction::new(),
    };
    let finished = move || {
        (
            id(),
            acts.save.version().get(),
            acts.create_env.version().get(),
            acts.rename_env.version().get(),
            acts.delete_env.version().get(),
            acts.save_repo.version().get() + acts.remove_repo.version().get(),
        )
    };
    let console = Resource::new(finished, |(id, ..)| project_console(id));
    // The tab shows services' status: log lines and job runs do not change it.
    refresh_on_live(|c| c.topic.is_status(), move || console.refetch());
    provide_context(super::compose::ComposeDraft::new());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(created)) = acts.create_env.value().get() {
            let at = format!("/projects/{}?env={}", id(), created.environment.id);
            navigate(&at, Default::default());
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = acts.delete.value().get() {
            navigate("/projects", Default::default());
        }
    });
    view! {
        <AppLayout title="Project">
            {move || failure(acts.save.value().get())}
            {move || failure(acts.delete.value().get())}
            {move || failure(acts.create_env.value().get())}
            {move || failure(acts.rename_env.value().get())}
            {move || failure(acts.delete_env.value().get())}
            {move || match acts.create_env.value().get() {
                Some(Ok(created)) => Some(view! { <CloneReport created=created /> }),
                _ => None,
            }}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match console.await {
                        Ok(c) => view! { <Project c=c tab=tab() acts=acts /> }.into_any(),
                        Err(e) => view! { <h1>"Project"</h1><p class="banner error">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppLayout>
    }
}

/// What a new environment holds, and what its clone left out.
#[component]
fn CloneReport(created: EnvironmentCreated) -> impl IntoView {
    let copied = if created.services.is_empty() {
        format!("Environment {} created, empty.", created.environment.name)
    } else {
        format!(
            "Environment {} created with {}: they deploy like new services, with new, empty volumes.",
            created.environment.name,
            created.services.join(", ")
        )
    };
    view! {
        <div class="banner" id="clone-report" role="status">
            <p>{copied}</p>
            {(!created.dropped.is_empty()).then(|| view! {
                <p>"Not copied (they belong to the original):"</p>
                <ul id="clone-dropped">
                    {created.dropped.into_iter().map(|d| {
                        let mut parts = Vec::new();
                        if !d.domains.is_empty() {
                            parts.push(format!("domains {}", d.domains.join(", ")));
                        }
                        if !d.host_ports.is_empty() {
                            let ports: Vec<String> = d.host_ports.iter().map(|p| p.to_string()).collect();
                            parts.push(format!("host ports {}", ports.join(", ")));
                        }
                        view! { <li data-service=d.service.clone()>{format!("{}: {}", d.service, parts.join("; "))}</li> }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}

#[component]
fn Project(c: ProjectConsole, tab: String, acts: Actions) -> impl IntoView {
    let p = c.project.clone();
    let selected = c
        .tabs
        .iter()
        .position(|t| t.environment.id.to_string() == tab)
        .unwrap_or(0);
    let tabs_nav = c
        .tabs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let href = format!("/projects/{}?env={}", p.id, t.environment.id);
            let current = if i == selected { "page" } else { "false" };
            let label = format!("{} ({})", t.environment.name, t.environment.services);
            // A plain link: the router's `A` marks every tab current (one path, other query).
            view! { <a href=href class="tab" aria-current=current data-environment=t.environment.name.clone()>{label}</a> }
        })
        .collect_view();
    let options: Vec<(String, String)> = c
        .tabs
        .iter()
        .map(|t| (t.environment.id.to_string(), t.environment.name.clone()))
        .collect();
    let current = c.tabs.get(selected).cloned();
    let (manage, create) = (c.can_manage, c.can_create_services);
    let project_id = p.id.to_string();
    let (env_project, save_id, delete_id) = (project_id.clone(), project_id.clone(), project_id);
    let (name, description) = (p.name.clone(), p.description.clone());
    view! {
        <header class="page-header">
            <h1 id="project-name">{p.name.clone()}</h1>
            <span class="muted">{p.description.clone()}</span>
        </header>
        <nav class="tabs" id="environments" aria-label="Environments">{tabs_nav}</nav>
        {current.map(|t| view! { <Environment t=t manage=manage create=create acts=acts /> })}
        {manage.then(|| view! {
            <section class="card" id="new-environment">
                <h2>"New environment"</h2>
                <ActionForm action=acts.create_env attr:class="form">
                    <input type="hidden" name="project" value=env_project />
                    <label>"Name" <input name="name" required autocomplete="off" placeholder="staging" /></label>
                    <label>"Start from"
                        <select name="clone_from">
                            <option value="">"empty"</option>
                            {options.into_iter().map(|(id, name)| view! {
                                <option value=id>{format!("a clone of {name}")}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <p class="muted">"A clone copies every service's definition and variables (secrets stay sealed); not its domains or host ports; its volumes start empty. The copies deploy at once."</p>
                    <button type="submit" id="create-environment">"Create environment"</button>
                </ActionForm>
            </section>
            <section class="card" id="project-settings">
                <h2>"Project"</h2>
                <ActionForm action=acts.save attr:class="form">
                    <input type="hidden" name="id" value=save_id />
                    <label>"Name" <input name="name" value=name required autocomplete="off" /></label>
                    <label>"Description" <input name="description" value=description autocomplete="off" /></label>
                    <button type="submit" id="save-project">"Save"</button>
                </ActionForm>
                <ActionForm action=acts.delete attr:class="inline">
                    <input type="hidden" name="id" value=delete_id />
                    <button type="submit" class="ghost danger" id="delete-project">"Delete project"</button>
                    <small class="muted">" Only a project without services can be deleted."</small>
                </ActionForm>
            </section>
        })}
    }
}

#[component]
fn Environment(t: EnvironmentTab, manage: bool, create: bool, acts: Actions) -> impl IntoView {
    let e = t.environment;
    let id = e.id.to_string();
    let (rename_id, delete_id) = (id.clone(), id.clone());
    let (vars_project, vars_env) = (e.project_id.to_string(), id.clone());
    let (repo_project, repo_env) = (e.project_id.to_string(), id.clone());
    let (key, current_name) = (e.name.clone(), e.name.clone());
    view! {
        <section class="card environment" id="environment" data-environment=key>
            <header class="page-header">
                <h2>{e.name.clone()}</h2>
                <small class="muted">"network " <code>{e.network.clone()}</code></small>
                {create.then(|| view! {
                    <A href=format!("/services/new?environment={id}") attr:class="button" attr:id="new-service-here">"New service"</A>
                })}
            </header>
            {if t.services.is_empty() {
                view! { <p class="muted" id="no-services">"No services in this environment yet. Once it has some, their map appears here."</p> }.into_any()
            } else {
                view! {
                    <super::service_map::ServiceMap svg=t.map />
                    <ServiceTable services=t.services />
                }.into_any()
            }}
            <super::variables::SharedVariables project=vars_project environment=vars_env />
            <super::repository::RepositoryForm project=repo_project environment=repo_env
                repository=e.repository.clone() can_edit=create save=acts.save_repo remove=acts.remove_repo />
            <super::compose::ComposeImport environment=id.clone() create=create />
            {create.then(|| view! { <super::redeploy::RedeployEnvironmentButton project=e.project_id.to_string() environment=id.clone() /> })}
            {manage.then(|| view! {
                <div class="inline-form">
                    <ActionForm action=acts.rename_env attr:class="inline">
                        <input type="hidden" name="id" value=rename_id />
                        <input name="name" value=current_name required aria-label="Environment name" />
                        <button type="submit" class="ghost" id="rename-environment">"Rename"</button>
                    </ActionForm>
                    <ActionForm action=acts.delete_env attr:class="inline">
                        <input type="hidden" name="id" value=delete_id />
                        <button type="submit" class="ghost danger" id="delete-environment">"Delete environment"</button>
                    </ActionForm>
                </div>
            })}
        </section>
    }
}
