//! A git service's card: where it builds from, "Deploy now", and its push webhook (one URL
//! per forge with where to put it; the secret is shown only right after it is generated).

use crate::api::services::{webhook_info, RotateWebhook, ServiceAction};
use crate::domain::service::{GitSource, ServiceView};
use leptos::prelude::*;

/// `rotate` belongs to the page, not the card: the card is rebuilt whenever the service is
/// re-read (rotating the secret itself causes that), and the new secret must stay shown.
#[component]
pub fn GitSourceCard(
    service: ServiceView,
    act: ServerAction<ServiceAction>,
    rotate: ServerAction<RotateWebhook>,
    /// The role may deploy and rotate the secret.
    manage: bool,
) -> impl IntoView {
    let Some(git) = service.spec.git.clone() else {
        return ().into_any();
    };
    let id = service.id.to_string();
    let info = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        webhook_info,
    );
    let deploy_id = id.clone();
    view! {
        <section class="card" id="git-source">
            <h2>"Git source"</h2>
            <SourceFacts git=git image=service.spec.image.clone() />
            {manage.then(|| view! {
                <div class="actions">
                    <ActionForm action=act attr:class="inline">
                        <input type="hidden" name="id" value=deploy_id />
                        <input type="hidden" name="action" value="deploy" />
                        <input type="hidden" name="replicas" value="" />
                        <button type="submit" id="deploy-now">"Deploy now"</button>
                    </ActionForm>
                    <small class="muted">"builds the head of the branch and rolls it out"</small>
                </div>
            })}
            <h3>"Push webhook"</h3>
            <Transition fallback=|| ()>
                {move || {
                    let id = id.clone();
                    Suspend::new(async move {
                    let Ok(info) = info.await else { return ().into_any() };
                    let shown = rotate.value().get().and_then(Result::ok);
                    let has_secret = info.has_secret || shown.is_some();
                    view! {
                        <p id="webhook-secret-state">
                            {match (&shown, has_secret) {
                                (Some(_), _) => "New secret generated: copy it now, it is not shown again. The old one no longer works.",
                                (None, true) => "A secret is set (not shown again). Rotate it to get a new one.",
                                (None, false) => "No secret yet: generate one, then add the webhook in your forge.",
                            }}
                        </p>
                        {shown.and_then(|s| s.secret).map(|secret| view! {
                            <p><code id="webhook-secret" class="secret">{secret}</code></p>
                        })}
                        {manage.then(|| view! {
                            <ActionForm action=rotate attr:class="inline">
                                <input type="hidden" name="id" value=id.clone() />
                                <button type="submit" class="ghost" id="rotate-webhook">
                                    {if has_secret { "Rotate secret" } else { "Generate secret" }}
                                </button>
                            </ActionForm>
                        })}
                        <dl class="facts" id="webhook-urls">
                            {info.urls.into_iter().map(|u| view! {
                                <dt>{u.provider.label()}</dt>
                                <dd>
                                    <code data-provider=u.provider.as_str()>{u.url}</code>
                                    <br /><small class="muted">{u.provider.instructions()}</small>
                                </dd>
                            }).collect_view()}
                        </dl>
                    }.into_any()
                })}}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn SourceFacts(git: GitSource, image: String) -> impl IntoView {
    view! {
        <dl class="facts">
            <dt>"Repository"</dt><dd><code id="git-repo">{git.repo}</code></dd>
            <dt>"Branch"</dt><dd><code>{git.branch}</code></dd>
            <dt>"Build"</dt><dd><code>{git.dockerfile}</code>" in "<code>{git.context}</code>
                {(!git.build_args.is_empty()).then(|| format!(" with {}", git.build_args.iter().map(|a| a.key.clone()).collect::<Vec<_>>().join(", ")))}
            </dd>
            <dt>"Built image"</dt><dd>{if image.is_empty() { view! { <span class="muted">"nothing built yet"</span> }.into_any() } else { view! { <code>{image}</code> }.into_any() }}</dd>
        </dl>
    }
}
