//! Invitations: a form (email + role, never above the admin's own), the new link shown
//! once, and the pending ones with "Revoke".

use super::{failure, when, Actions, ShownOnce};
use crate::api::team::RevokeInvitation;
use crate::domain::team::{InvitationView, INVITATION_DAYS};
use crate::domain::Role;
use leptos::prelude::*;

#[component]
pub fn Invitations(role: Role, list: Vec<InvitationView>, acts: Actions) -> impl IntoView {
    let (invite, revoke) = (acts.invite, acts.revoke_invitation);
    // Effects run only in the browser once this section is hydrated: until then a click
    // would post the form the plain way (which works, but can't show the link).
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let grantable: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| role.may_grant(*r))
        .collect();
    view! {
        <section class="card" id="invitations" data-ready=move || ready.get().then_some("true")>
            <h2>"Invitations"</h2>
            <p class="muted">{format!("An invitation is a link that adds one email address to this team with the role you choose. It works once, for {INVITATION_DAYS} days.")}</p>
            <ActionForm action=invite attr:class="inline-form" attr:id="invite-form">
                <label>"Email"
                    <input id="invite-email" name="form[email]" type="email" required autocomplete="off" placeholder="name@example.com" />
                </label>
                <label>"Role"
                    <select id="invite-role" name="form[role]">
                        {grantable.into_iter().map(|r| view! { <option value=r.as_str() selected=r == Role::Developer>{r.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="primary" id="invite-submit">"Invite"</button>
            </ActionForm>
            {move || match invite.value().get() {
                Some(Ok(new)) => Some(view! {
                    <ShownOnce id="new-invitation-url" value=new.url.clone()>
                        "Invitation for " <strong>{new.invitation.email.clone()}</strong> " as " {new.invitation.role.as_str()}
                        ". Send them this link: it is shown only now."
                    </ShownOnce>
                }.into_any()),
                other => failure(other).map(|v| v.into_any()),
            }}
            {move || failure(revoke.value().get())}
            {if list.is_empty() {
                view! { <p class="muted" id="no-invitations">"No pending invitations."</p> }.into_any()
            } else {
                view! { <Pending list=list revoke=revoke /> }.into_any()
            }}
        </section>
    }
}

#[component]
fn Pending(list: Vec<InvitationView>, revoke: ServerAction<RevokeInvitation>) -> impl IntoView {
    view! {
        <table class="table" id="pending-invitations">
            <thead><tr><th>"Email"</th><th>"Role"</th><th>"Invited by"</th><th>"Sent"</th><th>"Expires"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|i| view! {
                    <tr class="invitation" data-email=i.email.clone()>
                        <td>{i.email.clone()}</td>
                        <td>{i.role.as_str()}</td>
                        <td>{i.invited_by.clone().unwrap_or_else(|| "—".into())}</td>
                        <td class="muted">{when(i.created_at)}</td>
                        <td class="muted">{when(i.expires_at)}</td>
                        <td>
                            <ActionForm action=revoke attr:class="inline">
                                <input type="hidden" name="id" value=i.id.to_string() />
                                <button type="submit" class="ghost revoke-invitation">"Revoke"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
