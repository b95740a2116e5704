use crate::{api::system_status, domain::SystemStatus};
use leptos::prelude::*;

/// Postgres and Docker engine status, with a button to check again.
#[component]
pub fn SystemStatusCard() -> impl IntoView {
    let status = Resource::new(|| (), |_| system_status());
    view! {
        <section class="card" id="system-status">
            <header class="card-header">
                <h2>"System"</h2>
                <button type="button" class="ghost" id="check-status" on:click=move |_| status.refetch()>
                    "Check again"
                </button>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Checking…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => view! { <StatusRows status=s /> }.into_any(),
                        Err(e) => view! { <p class="banner error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn StatusRows(status: SystemStatus) -> impl IntoView {
    let docker = status.docker;
    let docker_detail = if docker.reachable {
        format!(
            "Engine {} · API {}",
            docker.engine_version.unwrap_or_else(|| "?".into()),
            docker.api_version.unwrap_or_else(|| "?".into())
        )
    } else {
        docker.error.unwrap_or_else(|| "not reached".into())
    };
    let pg_detail = status.postgres.error.unwrap_or_else(|| "Connected".into());
    view! {
        <dl class="status-list">
            <div>
                <dt>"Postgres"</dt>
                <dd><Dot ok=status.postgres.reachable /> {pg_detail}</dd>
            </div>
            <div>
                <dt>"Docker engine"</dt>
                <dd id="docker-status" data-reachable=docker.reachable.to_string()>
                    <Dot ok=docker.reachable /> {docker_detail}
                </dd>
            </div>
        </dl>
    }
}

#[component]
fn Dot(ok: bool) -> impl IntoView {
    view! { <span class=if ok { "dot ok" } else { "dot bad" } aria-label=if ok { "reachable" } else { "not reachable" }></span> }
}

/// A warning on every page while the Docker engine cannot be reached.
#[component]
pub fn DockerBanner() -> impl IntoView {
    let status = Resource::new(|| (), |_| system_status());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                status.await.ok().filter(|s| !s.docker.reachable).map(|s| view! {
                    <p class="banner warning" role="status" id="docker-banner">
                        <strong>"Docker engine not reachable. "</strong>
                        "Berth keeps serving the dashboard; deploys wait until the engine is back. "
                        <span class="muted">{s.docker.error.unwrap_or_default()}</span>
                    </p>
                })
            })}
        </Suspense>
    }
}
