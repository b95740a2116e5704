//! The team's projects: a list (admins add one), and a project page with one tab per
//! environment. Every form is a plain form, so the pages work without JavaScript.

mod compose;
mod project;
mod redeploy;
mod repository;
mod service_map;
mod variables;

pub use project::ProjectPage;

use super::team::{error_text, failure};
use crate::api::projects::{projects_console, SaveProject};
use crate::components::AppLayout;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let save = ServerAction::<SaveProject>::new();
    let console = Resource::new(move || save.version().get(), |_| projects_console());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = save.value().get() {
            navigate(&format!("/projects/{id}"), Default::default());
        }
    });
    view! {
        <AppLayout title="Projects">
            <header class="page-header">
                <h1>"Projects"</h1>
            </header>
            {move || failure(save.value().get())}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match console.await {
                        Ok(c) => view! {
                            {c.projects.is_empty().then(|| view! {
                                <p class="muted" id="no-projects">"No projects yet. A project groups the services of one application; each of its environments (production, staging…) has its own private network."</p>
                            })}
                            <table class="table" id="projects">
                                <thead><tr><th>"Project"</th><th>"Environments"</th><th>"Description"</th></tr></thead>
                                <tbody>
                                    {c.projects.into_iter().map(|p| {
                                        let envs = p.environments.iter()
                                            .map(|e| format!("{} ({})", e.name, e.services))
                                            .collect::<Vec<_>>()
                                            .join(", ");
                                        let (key, name, href) = (p.name.clone(), p.name, format!("/projects/{}", p.id));
                                        view! {
                                            <tr data-project=key>
                                                <td><A href=href>{name}</A></td>
                                                <td>{envs}</td>
                                                <td class="muted">{p.description}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {c.can_manage.then(|| view! {
                                <section class="card" id="new-project">
                                    <h2>"New project"</h2>
                                    <ActionForm action=save attr:class="form">
                                        <input type="hidden" name="id" value="" />
                                        <label>"Name" <small class="muted">"lowercase letters, digits and '-'"</small>
                                            <input name="name" required autocomplete="off" />
                                        </label>
                                        <label>"Description" <input name="description" autocomplete="off" /></label>
                                        <p class="muted">"It starts with one environment, production."</p>
                                        <button type="submit" id="create-project">"Create project"</button>
                                    </ActionForm>
                                </section>
                            })}
                        }.into_any(),
                        Err(e) => view! { <p class="banner error">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppLayout>
    }
}
