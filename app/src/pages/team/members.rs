//! The member list; admins change roles and remove members here (owners only by owners).

use super::{failure, when, Actions};
use crate::api::team::{RemoveMember, SetMemberRole};
use crate::domain::team::MemberView;
use crate::domain::{Permission, Role, SessionInfo};
use leptos::prelude::*;

#[component]
pub fn Members(me: SessionInfo, list: Vec<MemberView>, acts: Actions) -> impl IntoView {
    let (set_role, remove) = (acts.set_role, acts.remove);
    view! {
        <section class="card" id="members">
            <h2>"Members"</h2>
            {move || failure(set_role.value().get())}
            {move || failure(remove.value().get())}
            <MemberTable members=list me=me set_role=set_role remove=remove />
        </section>
    }
}

#[component]
fn MemberTable(
    members: Vec<MemberView>,
    me: SessionInfo,
    set_role: ServerAction<SetMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let admin = me.role.allows(Permission::ManageMembers);
    view! {
        <table class="table" id="member-list">
            <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Joined"</th>{admin.then(|| view! { <th></th> })}</tr></thead>
            <tbody>
                {members.into_iter().map(|m| {
                    let is_me = m.user_id == me.user.id;
                    // The roles this viewer may move the member to (their current one included).
                    let choices: Vec<Role> = Role::ALL
                        .into_iter()
                        .filter(|r| *r == m.role || me.role.may_change_member(m.role, Some(*r)))
                        .collect();
                    let may_change = admin && choices.len() > 1;
                    let may_remove = admin && !is_me && me.role.may_change_member(m.role, None);
                    let uid = m.user_id.to_string();
                    let current = m.role;
                    let role_cell = if may_change {
                        let uid = uid.clone();
                        let label = format!("Role of {}", m.email);
                        view! {
                            <ActionForm action=set_role attr:class="inline">
                                <input type="hidden" name="user_id" value=uid />
                                <select name="role" aria-label=label class="member-role">
                                    {choices.into_iter().map(|r| view! { <option value=r.as_str() selected=r == current>{r.as_str()}</option> }).collect_view()}
                                </select>
                                <button type="submit" class="ghost">"Save"</button>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! { <span class="badge">{current.as_str()}</span> }.into_any()
                    };
                    view! {
                        <tr class="member" data-email=m.email.clone() data-role=m.role.as_str()>
                            <td>{m.name.clone()}{is_me.then_some(" (you)")}</td>
                            <td>{m.email.clone()}</td>
                            <td>{role_cell}</td>
                            <td class="muted">{when(m.joined_at)}</td>
                            {admin.then(|| view! {
                                <td>{may_remove.then(|| view! {
                                    <ActionForm action=remove attr:class="inline">
                                        <input type="hidden" name="user_id" value=uid.clone() />
                                        <button type="submit" class="danger remove-member">"Remove"</button>
                                    </ActionForm>
                                })}</td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
