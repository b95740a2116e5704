//! API tokens: a form (name, role never above the admin's own, expiry), the new token shown
//! once, and the team's tokens with their last use and "Revoke".

use super::{failure, when, when_or, Actions, ShownOnce};
use crate::api::team::RevokeToken;
use crate::domain::team::{TokenView, TOKEN_MAX_DAYS, TOKEN_NAME_MAX_CHARS};
use crate::domain::Role;
use leptos::prelude::*;

#[component]
pub fn Tokens(role: Role, list: Vec<TokenView>, acts: Actions) -> impl IntoView {
    let (create, revoke) = (acts.create_token, acts.revoke_token);
    let grantable: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| role.at_least(*r))
        .collect();
    view! {
        <section class="card" id="tokens">
            <h2>"API tokens"</h2>
            <p class="muted">"For scripts and CI: send " <code>"Authorization: Bearer berth_…"</code> " to " <code>"/api/v1/"</code>
                ". A token acts with its role, never more than its creator's current role."</p>
            <ActionForm action=create attr:class="inline-form" attr:id="token-form">
                <label>"Name"
                    <input id="token-name" name="form[name]" required maxlength=TOKEN_NAME_MAX_CHARS.to_string() autocomplete="off" placeholder="ci-deploy" />
                </label>
                <label>"Role"
                    <select id="token-role" name="form[role]">
                        {grantable.into_iter().map(|r| view! { <option value=r.as_str() selected=r == Role::Developer>{r.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Expires in (days)"
                    <input id="token-days" name="form[expires_in_days]" type="number" min="0" max=TOKEN_MAX_DAYS.to_string() value="90" placeholder="never" class="narrow" />
                </label>
                <button type="submit" class="primary" id="token-submit">"Create token"</button>
            </ActionForm>
            <p class="hint">"Empty or 0 days: the token never expires."</p>
            {move || match create.value().get() {
                Some(Ok(new)) => Some(view! {
                    <ShownOnce id="new-token" value=new.token.clone()>
                        "Token " <strong>{new.token_info.name.clone()}</strong> " (" {new.token_info.role.as_str()}
                        "). Copy it now: it is shown only this once."
                    </ShownOnce>
                }.into_any()),
                other => failure(other).map(|v| v.into_any()),
            }}
            {move || failure(revoke.value().get())}
            {if list.is_empty() {
                view! { <p class="muted" id="no-tokens">"No API tokens."</p> }.into_any()
            } else {
                view! { <TokenTable list=list revoke=revoke /> }.into_any()
            }}
        </section>
    }
}

#[component]
fn TokenTable(list: Vec<TokenView>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    view! {
        <table class="table" id="token-list">
            <thead><tr><th>"Name"</th><th>"Role"</th><th>"Created by"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|t| view! {
                    <tr class="token" data-name=t.name.clone()>
                        <td>{t.name.clone()}</td>
                        <td>{t.role.as_str()}</td>
                        <td>{t.created_by.clone()}</td>
                        <td class="muted">{when(t.created_at)}</td>
                        <td class="muted">{when_or(t.expires_at, "never")}</td>
                        <td class="muted">{when_or(t.last_used_at, "not yet")}</td>
                        <td>
                            <ActionForm action=revoke attr:class="inline">
                                <input type="hidden" name="id" value=t.id.to_string() />
                                <button type="submit" class="ghost revoke-token">"Revoke"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
