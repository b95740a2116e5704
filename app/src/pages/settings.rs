//! The signed-in user's own settings: their password and their open sessions.

use super::team::{error_text, failure, when};
use crate::api::account::ChangePassword;
use crate::api::team::{my_logins, EndLogin};
use crate::components::AppLayout;
use crate::domain::account::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::domain::team::LoginView;
use leptos::prelude::*;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let end = ServerAction::<EndLogin>::new();
    let logins = Resource::new(
        move || (change.version().get(), end.version().get()),
        |_| my_logins(),
    );
    view! {
        <AppLayout title="Settings">
            <h1>"Settings"</h1>
            <section class="card" id="password">
                <h2>"Password"</h2>
                <p class="muted">"Changing it signs out your other sessions."</p>
                <ActionForm action=change attr:class="stack narrow-form" attr:id="password-form">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" name="current" type="password" autocomplete="current-password" required maxlength=PASSWORD_MAX_CHARS.to_string() />
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new" type="password" autocomplete="new-password" required minlength=PASSWORD_MIN_CHARS.to_string() maxlength=PASSWORD_MAX_CHARS.to_string() aria-describedby="new-password-hint" />
                    <p class="hint" id="new-password-hint">{format!("At least {PASSWORD_MIN_CHARS} characters.")}</p>
                    <button type="submit" class="primary" id="change-password">"Change password"</button>
                </ActionForm>
                {move || match change.value().get() {
                    Some(Ok(ended)) => Some(view! {
                        <p class="banner info" role="status" id="password-changed">
                            {match ended {
                                0 => "Password changed.".to_owned(),
                                1 => "Password changed; your other session was signed out.".to_owned(),
                                n => format!("Password changed; your {n} other sessions were signed out."),
                            }}
                        </p>
                    }.into_any()),
                    other => failure(other).map(|v| v.into_any()),
                }}
            </section>
            <section class="card" id="sessions">
                <h2>"Sessions"</h2>
                <p class="muted">"Where you are signed in. Sign out any you don't recognise, then change your password."</p>
                {move || failure(end.value().get())}
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match logins.await {
                            Ok(list) => view! { <Logins list=list end=end /> }.into_any(),
                            Err(e) => view! { <p class="banner error">{error_text(&e)}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </AppLayout>
    }
}

#[component]
fn Logins(list: Vec<LoginView>, end: ServerAction<EndLogin>) -> impl IntoView {
    view! {
        <table class="table" id="login-list">
            <thead><tr><th>"Signed in"</th><th>"Last seen"</th><th>"Address"</th><th>"Browser"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|l| view! {
                    <tr class="login" data-current=l.current.to_string()>
                        <td class="muted">{when(l.created_at)}</td>
                        <td class="muted">{when(l.last_seen_at)}</td>
                        <td><code>{l.ip.clone().unwrap_or_else(|| "—".into())}</code></td>
                        <td class="agent">{l.user_agent.clone().unwrap_or_else(|| "—".into())}</td>
                        <td>{if l.current {
                            view! { <span class="badge running">"this session"</span> }.into_any()
                        } else {
                            view! {
                                <ActionForm action=end attr:class="inline">
                                    <input type="hidden" name="id" value=l.id.to_string() />
                                    <button type="submit" class="ghost end-login">"Sign out"</button>
                                </ActionForm>
                            }.into_any()
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
