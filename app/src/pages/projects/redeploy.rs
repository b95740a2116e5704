//! An environment's "Redeploy environment" action: a new deployment of every service,
//! started in dependency order by the worker.

use super::super::team::failure;
use crate::api::variables::RedeployEnvironment;
use leptos::prelude::*;

#[component]
pub fn RedeployEnvironmentButton(project: String, environment: String) -> impl IntoView {
    let redeploy = ServerAction::<RedeployEnvironment>::new();
    view! {
        <div class="inline-form" id="redeploy-environment-section">
            {move || failure(redeploy.value().get())}
            {move || match redeploy.value().get() {
                Some(Ok(names)) => Some(view! {
                    <p class="banner" role="status" id="environment-redeployed">{
                        if names.is_empty() {
                            "Nothing to redeploy.".to_owned()
                        } else {
                            format!("Redeploying {} (in dependency order).", names.join(", "))
                        }
                    }</p>
                }),
                _ => None,
            }}
            <ActionForm action=redeploy attr:class="inline">
                <input type="hidden" name="project" value=project />
                <input type="hidden" name="environment" value=environment />
                <button type="submit" id="redeploy-environment">"Redeploy environment"</button>
            </ActionForm>
        </div>
    }
}
