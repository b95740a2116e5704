//! The team console: members and their roles, invitations, API tokens, and the team's own
//! settings. Each section shows only what the viewer's role may use; the server refuses
//! the rest anyway.

mod backup_destination;
mod database_backups;
mod invitations;
mod members;
mod settings;
mod tokens;

use crate::api::team::{
    team_console, CreateToken, Invite, RemoveMember, RevokeInvitation, RevokeToken,
    SetInstanceSettings, SetMemberRole,
};
use crate::components::AppLayout;
use leptos::prelude::*;

/// The page's actions that change its lists. They live on the page, not in the sections:
/// the sections are drawn again from each new reading, and an action's answer (a link or
/// token shown once, an error) must outlive that.
#[derive(Clone, Copy)]
pub(crate) struct Actions {
    pub set_role: ServerAction<SetMemberRole>,
    pub remove: ServerAction<RemoveMember>,
    pub invite: ServerAction<Invite>,
    pub revoke_invitation: ServerAction<RevokeInvitation>,
    pub create_token: ServerAction<CreateToken>,
    pub revoke_token: ServerAction<RevokeToken>,
    pub set_instance: ServerAction<SetInstanceSettings>,
}

impl Actions {
    fn new() -> Self {
        Actions {
            set_role: ServerAction::new(),
            remove: ServerAction::new(),
            invite: ServerAction::new(),
            revoke_invitation: ServerAction::new(),
            create_token: ServerAction::new(),
            revoke_token: ServerAction::new(),
            set_instance: ServerAction::new(),
        }
    }

    /// Changes whenever one of them finished: the page reads its data again.
    fn finished(&self) -> [usize; 7] {
        [
            self.set_role.version().get(),
            self.remove.version().get(),
            self.invite.version().get(),
            self.revoke_invitation.version().get(),
            self.create_token.version().get(),
            self.revoke_token.version().get(),
            self.set_instance.version().get(),
        ]
    }
}

#[component]
pub fn TeamPage() -> impl IntoView {
    let acts = Actions::new();
    // One reading for the whole page, made before anything is drawn, so the server
    // renders it and the browser hydrates from the same data.
    let console = Resource::new(move || acts.finished(), |_| team_console());
    view! {
        <AppLayout title="Team">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match console.await {
                        Ok(c) => {
                            let me = c.me;
                            view! {
                                <header class="page-header">
                                    <h1>"Team " <span id="team-title">{me.team.name.clone()}</span></h1>
                                    <span class="muted">"You are " <strong id="my-role">{me.role.as_str()}</strong></span>
                                </header>
                                <members::Members me=me.clone() list=c.members.clone() acts=acts />
                                {c.invitations.map(|list| view! { <invitations::Invitations role=me.role list=list acts=acts /> })}
                                {c.tokens.map(|list| view! { <tokens::Tokens role=me.role list=list acts=acts /> })}
                                <settings::TeamSettings me=me members=c.members />
                                {c.instance.map(|s| view! {
                                    <settings::InstanceSettingsForm settings=s acts=acts />
                                })}
                            }.into_any()
                        }
                        Err(e) => view! { <p class="banner error">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <backup_destination::BackupDestination />
            <database_backups::DatabaseBackups />
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
