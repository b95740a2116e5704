//! The team itself: rename (admins), transfer ownership and delete (owners), create another
//! team, leave this one.

use super::failure;
use crate::api::team::{DeleteTeam, RemoveMember, RenameTeam, TransferOwnership};
use crate::components::{query_error, ErrorBanner, FieldHint};
use crate::domain::account::TEAM_NAME_MAX_CHARS;
use crate::domain::instance::InstanceSettings;
use crate::domain::team::MemberView;
use crate::domain::{Permission, SessionInfo};
use leptos::prelude::*;

#[component]
pub fn TeamSettings(me: SessionInfo, members: Vec<MemberView>) -> impl IntoView {
    let rename = ServerAction::<RenameTeam>::new();
    let leave = ServerAction::<RemoveMember>::new();
    let owner = me.role.allows(Permission::OwnTeam);
    let team_name = me.team.name.clone();
    let my_id = me.user.id.to_string();
    // Sent back by `POST /auth/teams` (`?error=<code>`).
    let error = query_error();
    let rename_form = me.role.allows(Permission::ManageTeam).then(|| {
        let team_name = team_name.clone();
        view! {
                <h3>"Name"</h3>
                <ActionForm action=rename attr:class="inline-form" attr:id="rename-form">
                    <input id="team-name" name="name" required maxlength=TEAM_NAME_MAX_CHARS.to_string() value=team_name aria-label="Team name" />
                    <button type="submit" id="rename-team">"Rename"</button>
                </ActionForm>
                {move || failure(rename.value().get())}
        }
    });
    let owner_controls = owner.then(|| view! { <OwnerControls me=me.clone() members=members /> });
    view! {
        <section class="card" id="team-settings">
            <h2>"Team settings"</h2>
            {rename_form}
            {owner_controls}

            <h3>"Another team"</h3>
            <p class="muted">"A new team starts empty, with you as its owner; the switcher in the top bar moves between your teams."</p>
            <form method="post" action="/auth/teams" class="inline-form" id="create-team-form">
                <input name="team_name" id="new-team-name" required maxlength=TEAM_NAME_MAX_CHARS.to_string() aria-label="New team's name" placeholder="Team name" />
                <button type="submit" id="create-team">"Create team"</button>
            </form>
            <FieldHint error=error field="team_name" />
            <ErrorBanner error=error />

            <h3>"Leave"</h3>
            <p class="muted">"You lose access to this team's services at once. The last owner cannot leave: transfer ownership or delete the team first."</p>
            <ActionForm action=leave attr:class="inline-form" attr:id="leave-form">
                <input type="hidden" name="user_id" value=my_id />
                <button type="submit" class="danger" id="leave-team">"Leave " {team_name}</button>
            </ActionForm>
            {move || failure(leave.value().get())}
        </section>
    }
}

#[component]
fn OwnerControls(me: SessionInfo, members: Vec<MemberView>) -> impl IntoView {
    let transfer = ServerAction::<TransferOwnership>::new();
    let delete = ServerAction::<DeleteTeam>::new();
    let my_id = me.user.id;
    let others: Vec<MemberView> = members.into_iter().filter(|m| m.user_id != my_id).collect();
    view! {
        <h3>"Ownership"</h3>
        <p class="muted">"The member you choose becomes an owner; you become an admin."</p>
        {if others.is_empty() {
            view! { <p class="muted">"Invite someone first: there is nobody to hand the team to."</p> }.into_any()
        } else {
            view! {
                <ActionForm action=transfer attr:class="inline-form" attr:id="transfer-form">
                    <select name="user_id" id="transfer-to" aria-label="New owner">
                        {others.into_iter().map(|m| view! { <option value=m.user_id.to_string()>{format!("{} <{}>", m.name, m.email)}</option> }).collect_view()}
                    </select>
                    <button type="submit" id="transfer-ownership">"Transfer ownership"</button>
                </ActionForm>
            }.into_any()
        }}
        {move || failure(transfer.value().get())}

        <h3>"Delete"</h3>
        <p class="muted">"Delete its services first. Members, invitations, tokens and the audit log go with the team. Type "
            <strong>{me.team.name.clone()}</strong> " to confirm."</p>
        <ActionForm action=delete attr:class="inline-form" attr:id="delete-team-form">
            <input name="confirm" id="delete-confirm" required autocomplete="off" aria-label="The team's name, to confirm" />
            <button type="submit" class="danger" id="delete-team">"Delete team"</button>
        </ActionForm>
        {move || failure(delete.value().get())}
    }
}

/// The installation's settings, drawn only for the instance owner (the page's one reading
/// carries them for nobody else, and the command refuses anyone else anyway). Saving reads
/// the page again, like the page's other actions.
#[component]
pub fn InstanceSettingsForm(settings: InstanceSettings, acts: super::Actions) -> impl IntoView {
    let save = acts.set_instance;
    view! {
        <section class="card" id="instance-settings">
            <h2>"Instance"</h2>
            <p class="muted">"For every team of this Berth. Off, git repositories on loopback, link-local, private and cloud metadata addresses are refused."</p>
            <ActionForm action=save attr:class="inline-form" attr:id="instance-form">
                <label for="allow-private-targets">
                    <input type="checkbox" id="allow-private-targets" name="allow_private_targets" value="on" checked=settings.allow_private_targets />
                    " Allow private targets"
                </label>
                <button type="submit" id="save-instance">"Save"</button>
            </ActionForm>
            {move || failure(save.value().get())}
            <p><a href="/nodes" id="nodes-link">"Nodes (Docker Swarm) →"</a>
                <span class="muted">" the machines Berth's engine runs services on: add, drain, label, remove."</span></p>
        </section>
    }
}
