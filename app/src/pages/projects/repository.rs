//! An environment tab's "Git repository": where the `build:` sections of a compose file
//! imported here are built from. Developers set or remove it; the credential's secret is
//! never shown (an empty box keeps the stored one). A plain form: works without
//! JavaScript.

use super::super::team::failure;
use crate::api::environment_repository::{RemoveEnvironmentRepository, SaveEnvironmentRepository};
use crate::domain::environment_repository::EnvironmentRepository;
use crate::domain::service::GitCredentials;
use leptos::prelude::*;

#[component]
pub fn RepositoryForm(
    project: String,
    environment: String,
    repository: Option<EnvironmentRepository>,
    can_edit: bool,
    save: ServerAction<SaveEnvironmentRepository>,
    remove: ServerAction<RemoveEnvironmentRepository>,
) -> impl IntoView {
    let (url, branch, kind, username) = match &repository {
        Some(r) => {
            let (kind, user) = match &r.credentials {
                None => ("", ""),
                Some(GitCredentials::Token { username, .. }) => ("token", username.as_str()),
                Some(GitCredentials::DeployKey { .. }) => ("deploy_key", ""),
            };
            (r.repo.clone(), r.branch.clone(), kind, user.to_owned())
        }
        None => (String::new(), "main".to_owned(), "", String::new()),
    };
    let summary = match &repository {
        Some(r) => view! {
            <p id="repository-current">"Builds from " <code>{r.repo.clone()}</code> ", branch " <code>{r.branch.clone()}</code>
                {r.credentials.as_ref().map(|_| " (with credentials, not shown)")}</p>
        }
        .into_any(),
        None => view! {
            <p class="muted" id="no-repository">"None: a compose file with build: is refused here."</p>
        }
        .into_any(),
    };
    let has_repository = repository.is_some();
    let (p2, e2) = (project.clone(), environment.clone());
    let option = move |value: &'static str, label: &'static str| {
        view! { <option value=value selected=kind == value>{label}</option> }
    };
    view! {
        <section class="environment-repository" id="environment-repository">
            <h3>"Git repository"</h3>
            {move || failure(save.value().get())}
            {move || failure(remove.value().get())}
            <p class="muted">"A compose file imported here builds each build: section from this repository (context, Dockerfile and args from the file); each such service then deploys on every push like any git service."</p>
            {summary}
            {can_edit.then(|| view! {
                <ActionForm action=save attr:class="form">
                    <input type="hidden" name="project" value=project />
                    <input type="hidden" name="environment" value=environment />
                    <label>"Repository URL"
                        <input name="repo" value=url required autocomplete="off" placeholder="https://git.example.com/shop.git" />
                    </label>
                    <label>"Branch" <input name="branch" value=branch required autocomplete="off" /></label>
                    <label>"Credentials"
                        <select name="credentials">
                            {option("", "none (a public repository)")}
                            {option("token", "an access token (https)")}
                            {option("deploy_key", "a deploy key (ssh)")}
                        </select>
                    </label>
                    <label>"User name" <small class="muted">"for a token; empty: x-access-token"</small>
                        <input name="username" value=username autocomplete="off" />
                    </label>
                    <label>"Token or private key" <small class="muted">"stored encrypted, never shown again; empty keeps the stored one"</small>
                        <textarea name="secret" rows="2" autocomplete="off"></textarea>
                    </label>
                    <button type="submit" id="save-repository">"Save repository"</button>
                </ActionForm>
                {has_repository.then(|| view! {
                    <ActionForm action=remove attr:class="inline">
                        <input type="hidden" name="project" value=p2.clone() />
                        <input type="hidden" name="environment" value=e2.clone() />
                        <button type="submit" class="ghost danger" id="remove-repository">"Remove repository"</button>
                    </ActionForm>
                })}
            })}
        </section>
    }
}
