//! The team console: members and their roles, invitations, API tokens, and the team's own
//! settings. Each section shows only what the viewer's role may use; the server refuses
//! the rest anyway.

mod invitations;
mod members;
mod settings;
mod tokens;

use crate::api::whoami;
use crate::components::AppLayout;
use crate::domain::Permission;
use leptos::prelude::*;

#[component]
pub fn TeamPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <AppLayout title="Team">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => view! {
                            <header class="page-header">
                                <h1>"Team " <span id="team-title">{me.team.name.clone()}</span></h1>
                                <span class="muted">"You are " <strong id="my-role">{me.role.as_str()}</strong></span>
                            </header>
                            <members::Members me=me.clone() />
                            {me.role.allows(Permission::ManageMembers).then(|| view! { <invitations::Invitations role=me.role /> })}
                            {me.role.allows(Permission::ManageTokens).then(|| view! { <tokens::Tokens role=me.role /> })}
                            <settings::TeamSettings me=me />
                        }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <p class="banner error">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </AppLayout>
    }
}

/// What a server function said, without the framework's "error running server function"
/// prefix.
pub(crate) fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// The error of an action's last run, as a banner.
pub(crate) fn failure<T>(value: Option<Result<T, ServerFnError>>) -> Option<impl IntoView> {
    match value {
        Some(Err(e)) => Some(view! { <p class="banner error" role="alert">{error_text(&e)}</p> }),
        _ => None,
    }
}

/// A time for tables (UTC, to the second).
pub(crate) fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub(crate) fn when_or(t: Option<chrono::DateTime<chrono::Utc>>, none: &'static str) -> String {
    t.map(when).unwrap_or_else(|| none.to_owned())
}

/// A secret shown this once (an invitation link, an API token): what it is, then the value.
#[component]
fn ShownOnce(id: &'static str, value: String, children: Children) -> impl IntoView {
    view! {
        <div class="once" role="status">
            <p>{children()}</p>
            <p><code id=id class="secret">{value}</code></p>
        </div>
    }
}
