//! An invitation link: what it offers (team, role, who sent it, for which email, until
//! when) and a plain form that accepts it: a name and a new password for a new account, or
//! the password of the account that already has that email.

use super::team::{error_text, when};
use crate::api::team::invitation_offer;
use crate::components::{AuthLayout, PasswordInput};
use crate::domain::account::NAME_MAX_CHARS;
use crate::domain::team::{InvitationOffer, InvitationProblem};
use crate::domain::FormError;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let offer = Resource::new(token, invitation_offer);
    let query = use_query_map();
    // A refusal sent back by `POST /auth/accept`: only known codes, so a URL can't put words
    // on the page.
    let problem = Memo::new(move |_| {
        let code = query.read().get("problem")?;
        InvitationProblem::from_code(&code)
            .map(InvitationProblem::message)
            .or_else(|| FormError::from_code(&code).map(FormError::message))
    });
    view! {
        <AuthLayout title="Invitation">
            <h1>"Join a team"</h1>
            {move || problem.get().map(|m| view! { <p class="banner error" role="alert" id="invite-problem">{m}</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match offer.await {
                        Ok(o) => view! { <Offer offer=o token=token() /> }.into_any(),
                        Err(e) => {
                            let message = error_text(&e);
                            // Not twice when the redirect already said it.
                            let shown = problem.get_untracked() == Some(message.as_str());
                            view! {
                                {(!shown).then(|| view! { <p class="banner error" role="alert" id="invite-error">{message.clone()}</p> })}
                                <p><a href="/login">"Sign in"</a> " if you already have an account."</p>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </AuthLayout>
    }
}

#[component]
fn Offer(offer: InvitationOffer, token: String) -> impl IntoView {
    let o = offer;
    let inviter = o.invited_by.clone().unwrap_or_else(|| "An admin".into());
    view! {
        <p class="lead" id="invite-summary">
            {inviter.clone()} " invites you to " <strong>{o.team.clone()}</strong> " as " <strong>{o.role.as_str()}</strong> "."
        </p>
        <dl class="facts" id="invite-facts">
            <dt>"Team"</dt><dd id="invite-team">{o.team.clone()}</dd>
            <dt>"Role"</dt><dd id="invite-role-name">{o.role.as_str()}</dd>
            <dt>"Invited by"</dt><dd>{inviter}</dd>
            <dt>"Email"</dt><dd id="invite-for">{o.email.clone()}</dd>
            <dt>"Valid until"</dt><dd>{when(o.expires_at)}</dd>
        </dl>
        <form method="post" action="/auth/accept" class="stack" id="accept-form">
            <input type="hidden" name="token" value=token />
            // Not sent: tells password managers which account this is.
            <input type="hidden" autocomplete="username" value=o.email.clone() />
            {if o.account_exists {
                view! {
                    <p class="muted">"You already have a Berth account with this email: enter its password to join."</p>
                    <label for="accept-password">"Password"</label>
                    <PasswordInput id="accept-password" autocomplete="current-password" />
                }.into_any()
            } else {
                view! {
                    <label for="accept-name">"Your name"</label>
                    <input id="accept-name" name="name" autocomplete="name" required maxlength=NAME_MAX_CHARS.to_string() />
                    <label for="accept-password">"Choose a password"</label>
                    <PasswordInput id="accept-password" autocomplete="new-password" new_password=true />
                }.into_any()
            }}
            <button type="submit" class="primary" id="accept-submit">
                {if o.account_exists { "Join the team" } else { "Create account and join" }}
            </button>
        </form>
    }
}
