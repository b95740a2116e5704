use super::DockerBanner;
use crate::api::{team::my_teams, whoami};
use crate::domain::{team::MyTeam, Permission, SessionInfo};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

/// The signed-in frame: navigation, who and which team, sign-out. Signed-out visitors are
/// sent to the sign-in page (the server does this before rendering, too).
#[component]
pub fn AppLayout(#[prop(into)] title: String, children: ChildrenFn) -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    let teams = Resource::new(|| (), |_| my_teams());
    let children = StoredValue::new(children);
    view! {
        <Title text=title.clone() />
        <Suspense fallback=|| view! { <div class="loading">"Loading…"</div> }>
            {move || Suspend::new(async move {
                let me = me.await;
                let teams = teams.await.unwrap_or_default();
                match me {
                    Ok(Some(me)) => view! {
                        <div class="app">
                            <TopBar me=me teams=teams />
                            <main class="content">
                                <DockerBanner />
                                {children.read_value()()}
                            </main>
                        </div>
                    }
                    .into_any(),
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(e) => view! { <p class="banner error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TopBar(me: SessionInfo, teams: Vec<MyTeam>) -> impl IntoView {
    let current = me.team.id;
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <img src="/favicon.svg" alt="" width="22" height="22" />
                "Berth"
            </A>
            <nav aria-label="Main">
                <A href="/" exact=true>"Overview"</A>
                <A href="/projects">"Projects"</A>
                <A href="/services">"Services"</A>
                <A href="/deployments">"Deployments"</A>
                <A href="/team">"Team"</A>
                <A href="/notifications">"Notifications"</A>
                {me.role.allows(Permission::ReadAudit).then(|| view! { <A href="/audit">"Audit"</A> })}
                <A href="/settings">"Settings"</A>
            </nav>
            <div class="who">
                <span class="team" title="Current team">{me.team.name}</span>
                // A plain form: switching reloads every page's data for the other team.
                {(teams.len() > 1).then(|| view! {
                    <form method="post" action="/auth/team" class="team-switch">
                        <select name="team" id="team-select" aria-label="Switch to team">
                            {teams.into_iter().map(|t| view! {
                                <option value=t.id.to_string() selected=t.id == current>{t.name}</option>
                            }).collect_view()}
                        </select>
                        <button type="submit" class="ghost" id="switch-team">"Switch"</button>
                    </form>
                })}
                <span class="user" id="current-user" title=me.user.email>
                    {me.user.name}
                    <small class="role">{me.role.as_str()}</small>
                </span>
                <form method="post" action="/auth/logout">
                    <button type="submit" class="ghost" id="logout">"Sign out"</button>
                </form>
            </div>
        </header>
    }
}

/// The frame of the signed-out pages (first run, sign-in).
#[component]
pub fn AuthLayout(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <main class="auth">
            <div class="auth-card">
                <div class="brand big">
                    <img src="/favicon.svg" alt="" width="32" height="32" />
                    "Berth"
                </div>
                {children()}
            </div>
            <p class="muted small">"Self-hosted deploys: your server, your containers."</p>
        </main>
    }
}
