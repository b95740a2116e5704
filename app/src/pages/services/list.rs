use crate::api::services::list_services;
use crate::components::{refresh_on_live, AppLayout, ServiceBadge};
use crate::domain::service::ServiceView;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn ServicesPage() -> impl IntoView {
    let services = Resource::new(|| (), |_| list_services());
    refresh_on_live(|c| c.topic.is_status(), move || services.refetch());
    view! {
        <AppLayout title="Services">
            <header class="page-header">
                <h1>"Services"</h1>
                <A href="/services/new" attr:class="button" attr:id="new-service">"New service"</A>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match services.await {
                        Ok(list) if list.is_empty() => view! {
                            <section class="card">
                                <p>"No services yet. A service is an image (or a git repository Berth builds) that Berth runs as containers, with its env, ports, replicas and health check."</p>
                                <A href="/services/new">"Define your first service"</A>
                            </section>
                        }.into_any(),
                        Ok(list) => view! { <ServiceTable services=list place=true /> }.into_any(),
                        Err(e) => view! { <p class="banner error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppLayout>
    }
}

/// The services with status, image, domains and deployment; `place`: with a column for
/// their project and environment.
#[component]
pub(crate) fn ServiceTable(
    services: Vec<ServiceView>,
    #[prop(optional)] place: bool,
) -> impl IntoView {
    view! {
        <table class="table" id="services">
            <thead><tr><th>"Name"</th>{place.then(|| view! { <th>"Environment"</th> })}<th>"Status"</th><th>"Image"</th><th>"Domains"</th><th>"Deployment"</th><th>"Last deploy"</th></tr></thead>
            <tbody>
                {services.into_iter().map(|s| {
                    let name = s.name.clone();
                    let href = format!("/services/{}", s.id);
                    let deployment = s.latest_deployment.as_ref().map(|d| format!("#{} {}", d.number, d.state.label())).unwrap_or_default();
                    view! {
                        <tr data-service=s.name.clone()>
                            <td><A href=href>{name}</A></td>
                            {place.then(|| {
                                let at = format!("/projects/{}?env={}", s.place.project_id, s.place.environment_id);
                                view! { <td class="place"><A href=at>{format!("{} / {}", s.place.project, s.place.environment)}</A></td> }
                            })}
                            <td><ServiceBadge status=s.status.clone() />{s.needs_redeploy.then(|| view! { " " <span class="badge warn needs-redeploy" title="A value its env refers to changed: redeploy to give its containers the new value">"needs redeploy"</span> })}</td>
                            <td><code>{match &s.spec.git {
                                Some(g) => format!("{} ({})", g.repo, g.branch),
                                None => s.spec.image.clone(),
                            }}</code></td>
                            <td>{super::domain_links(&s)}</td>
                            <td>{deployment}</td>
                            <td class="muted">{s.latest_deployment.as_ref().map(|d| super::ago(d.finished_at.unwrap_or(d.created_at)))}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
