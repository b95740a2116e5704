//! An environment's "Shared variables" section (a form like a service's env) and its
//! "Redeploy N outdated services" action.

use super::super::team::{error_text, failure};
use crate::api::variables::{
    shared_variables_panel, RedeployOutdatedServices, SaveSharedVariables, SharedVariablesPanel,
};
use leptos::prelude::*;

#[component]
pub fn SharedVariables(project: String, environment: String) -> impl IntoView {
    let save = ServerAction::<SaveSharedVariables>::new();
    let redeploy = ServerAction::<RedeployOutdatedServices>::new();
    let env_id = environment.clone();
    let panel = Resource::new(
        move || (save.version().get(), redeploy.version().get()),
        move |_| shared_variables_panel(env_id.clone()),
    );
    view! {
        <section class="shared-variables" id="shared-variables">
            <h3>"Shared variables"</h3>
            {move || failure(save.value().get())}
            {move || failure(redeploy.value().get())}
            {move || match redeploy.value().get() {
                Some(Ok(names)) if !names.is_empty() => Some(view! {
                    <p class="banner" role="status" id="redeployed">{format!("Redeploying {}.", names.join(", "))}</p>
                }),
                _ => None,
            }}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {
                    let (project, environment) = (project.clone(), environment.clone());
                    move || {
                        let (project, environment) = (project.clone(), environment.clone());
                        Suspend::new(async move {
                            match panel.await {
                                Ok(p) => view! { <Panel p=p project=project environment=environment save=save redeploy=redeploy /> }.into_any(),
                                Err(e) => view! { <p class="banner error">{error_text(&e)}</p> }.into_any(),
                            }
                        })
                    }
                }
            </Transition>
        </section>
    }
}

#[component]
fn Panel(
    p: SharedVariablesPanel,
    project: String,
    environment: String,
    save: ServerAction<SaveSharedVariables>,
    redeploy: ServerAction<RedeployOutdatedServices>,
) -> impl IntoView {
    let outdated = p.outdated.clone();
    let (project2, environment2) = (project.clone(), environment.clone());
    let can_edit = p.can_edit;
    view! {
        {(!outdated.is_empty()).then(|| view! {
            <div class="banner" id="needs-redeploy" role="status">
                <p>{format!("Needs redeploy (a value they refer to changed): {}.", outdated.join(", "))}</p>
                {can_edit.then(|| view! {
                    <ActionForm action=redeploy attr:class="inline">
                        <input type="hidden" name="project" value=project2.clone() />
                        <input type="hidden" name="environment" value=environment2.clone() />
                        <button type="submit" id="redeploy-outdated">{format!("Redeploy {} outdated service{}", outdated.len(), if outdated.len() == 1 { "" } else { "s" })}</button>
                    </ActionForm>
                })}
            </div>
        })}
        <p class="muted">"Any service here reads them as ${{ shared.NAME }}; a service's own variables as ${{ db.NAME }}, and ${{ db.HOST }}, ${{ db.PORT }}, ${{ web.URL }}. Filled in when a service deploys."</p>
        {if can_edit {
            view! {
                <ActionForm action=save attr:class="form">
                    <input type="hidden" name="project" value=project />
                    <input type="hidden" name="environment" value=environment />
                    <label>"Variables" <small class="muted">"KEY=value, one per line (quotes for several lines, as in a service's env)"</small>
                        <textarea name="env" rows="4">{p.env}</textarea>
                    </label>
                    <label>"Secret variables" <small class="muted">"stored encrypted, never shown again; KEY= alone keeps the stored value"</small>
                        <textarea name="secret_env" rows="2">{p.secret_env}</textarea>
                    </label>
                    <button type="submit" id="save-shared-variables">"Save shared variables"</button>
                </ActionForm>
            }.into_any()
        } else {
            view! { <pre id="shared-variables-text">{p.env}</pre> }.into_any()
        }}
    }
}
