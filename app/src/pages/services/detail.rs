use super::{
    backups::Backups, deployments::Deployments, git::GitSourceCard, jobs::JobsCard,
    logs::LogViewer, metrics::MetricsCharts, timeline::Timeline,
};
use crate::api::services::{get_service, RotateWebhook, ServiceAction};
use crate::components::{refresh_on_live, AppLayout, ServiceBadge};
use crate::domain::live::LiveTopic;
use crate::domain::service::{ContainerView, ReplicaIndex, ServiceSpec, ServiceView};
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

#[component]
pub fn ServiceDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let service = Resource::new(id, get_service);
    let me = Resource::new(|| (), |_| crate::api::whoami());
    let act = ServerAction::<ServiceAction>::new();
    let rotate = ServerAction::<RotateWebhook>::new();
    let shown_deployment = RwSignal::new(None);
    Effect::new(move |_| {
        if act.version().get() > 0 {
            service.refetch();
        }
    });
    refresh_on_live(
        move |c| {
            c.service.to_string() == id()
                && matches!(
                    c.topic,
                    LiveTopic::Services | LiveTopic::Containers | LiveTopic::Deployments
                )
        },
        move || service.refetch(),
    );
    // Replica numbers for the log view's choice, from the last reading of the service.
    let replicas = Signal::derive(move || {
        let mut r: Vec<ReplicaIndex> = service
            .get()
            .and_then(Result::ok)
            .map(|(s, _)| s.containers.iter().filter_map(|c| c.replica).collect())
            .unwrap_or_default();
        r.sort_unstable();
        r.dedup();
        r
    });
    view! {
        <AppLayout title="Service">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    // Viewers read; the buttons that change the service are for the roles
                    // that may (the server refuses the others anyway).
                    let manage = me.await.ok().flatten().is_some_and(|m| {
                        m.role.allows(crate::domain::Permission::ManageServices)
                    });
                    match service.await {
                        Ok((s, deployments)) => view! {
                            <ServiceHeader service=s.clone() act=act manage=manage />
                            <GitSourceCard service=s.clone() act=act rotate=rotate manage=manage />
                            <Domains service=s.clone() />
                            {move || act.value().get().and_then(|r| r.err()).map(|e| view! { <p class="banner error" id="action-error">{e.to_string()}</p> })}
                            <Containers containers=s.containers.clone() />
                            <Deployments deployments=deployments live=s.live_deployment act=act shown=shown_deployment manage=manage />
                        }.into_any(),
                        Err(e) => view! { <h1>"Service"</h1><p class="banner error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            // Outside the block above: they keep their own state (lines, charts) while the
            // service is re-read.
            {move || (!id().is_empty()).then(|| view! {
                <MetricsCharts id=id() />
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let reads_logs = me.await.ok().flatten().is_some_and(|m| {
                            m.role.allows(crate::domain::Permission::ReadContainerLogs)
                        });
                        let manage = me.await.ok().flatten().is_some_and(|m| {
                            m.role.allows(crate::domain::Permission::ManageServices)
                        });
                        let jobs = view! { <JobsCard id=id() manage=manage reads_logs=reads_logs /> };
                        if reads_logs {
                            view! { {jobs} <LogViewer id=id() replicas=replicas /> }.into_any()
                        } else {
                            view! {
                                {jobs}
                                <section class="card" id="logs-not-allowed">
                                    <h2>"Logs"</h2>
                                    <p class="muted">"Container output can carry secrets: developers, admins and owners read it."</p>
                                </section>
                            }.into_any()
                        }
                    })}
                </Suspense>
                <Timeline id=id() />
                <Backups id=id() />
            })}
        </AppLayout>
    }
}

#[component]
fn ServiceHeader(
    service: ServiceView,
    act: ServerAction<ServiceAction>,
    manage: bool,
) -> impl IntoView {
    let s = service;
    let id = s.id.to_string();
    let action_form = move |action: &'static str, label: &'static str, class: &'static str| {
        let id = id.clone();
        view! {
            <ActionForm action=act attr:class="inline">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="action" value=action />
                <input type="hidden" name="replicas" value="" />
                <button type="submit" class=class id=format!("{action}-service")>{label}</button>
            </ActionForm>
        }
    };
    let sid = s.id.to_string();
    view! {
        <header class="page-header">
            <h1 id="service-name">{s.name.clone()}</h1>
            <ServiceBadge status=s.status.clone() />
            {s.needs_redeploy.then(|| view! { <span class="badge warn needs-redeploy" id="needs-redeploy" title="A value its env refers to changed: redeploy to give its containers the new value">"needs redeploy"</span> })}
        </header>
        <section class="card">
            <dl class="facts">
                <dt>"Environment"</dt><dd id="service-place"><A href=format!("/projects/{}?env={}", s.place.project_id, s.place.environment_id)>{format!("{} / {}", s.place.project, s.place.environment)}</A></dd>
                <dt>"Image"</dt><dd><code>{if s.spec.image.is_empty() { "not built yet".to_owned() } else { s.spec.image.clone() }}</code></dd>
                <dt>"Replicas"</dt><dd>{s.status.ready} " ready of " {s.status.desired} {s.stopped.then_some(" (stopped)")}</dd>
                <dt>"Live deployment"</dt><dd>{s.live_deployment.map(|n| format!("#{n}")).unwrap_or_else(|| "none yet".into())}</dd>
                <dt>"Ports"</dt><dd>{s.spec.ports.iter().map(|p| match p.host { Some(h) => format!("{h}→{}", p.container), None => p.container.to_string() }).collect::<Vec<_>>().join(", ")}</dd>
                <dt>"Environment"</dt><dd>{s.spec.env.iter().map(|v| v.key.clone()).collect::<Vec<_>>().join(", ")}</dd>
                <dt>"Volumes"</dt><dd id="volumes">{volume_list(&s.spec)}</dd>
                <dt>"Rollout"</dt><dd id="rollout-kind">{rollout_kind(&s.spec)}</dd>
                <dt>"Depends on"</dt><dd id="depends-on">{crate::domain::service::wording::depends_summary(&s.spec.depends_on)}</dd>
                {(!s.spec.entrypoint.is_empty()).then(|| view! { <dt>"Entrypoint"</dt><dd id="entrypoint"><code>{format!("{:?}", s.spec.entrypoint)}</code></dd> })}
                {(!s.spec.placement.is_empty()).then(|| view! { <dt>"Placement"</dt><dd id="placement">{crate::domain::service::wording::placement_summary(&s.spec.placement)}</dd> })}
                {(!s.spec.labels.is_empty()).then(|| view! { <dt>"Labels"</dt><dd id="labels">{s.spec.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")}</dd> })}
            </dl>
            {if manage {
                view! {
                    <div class="actions">
                        <A href=format!("/services/{}/edit", s.id) attr:class="button" attr:id="edit-service">"Edit"</A>
                        {action_form("redeploy", "Redeploy", "ghost")}
                        <ActionForm action=act attr:class="inline">
                            <input type="hidden" name="id" value=sid />
                            <input type="hidden" name="action" value="scale" />
                            <input name="replicas" type="number" min="0" max="50" value=s.spec.replicas.to_string() aria-label="Replicas" class="narrow" />
                            <button type="submit" class="ghost" id="scale-service">"Scale"</button>
                        </ActionForm>
                        {if s.stopped { action_form("start", "Start", "ghost") } else { action_form("stop", "Stop", "ghost") }}
                        <DeleteService service=s.clone() act=act />
                    </div>
                }.into_any()
            } else {
                view! { <p class="muted" id="read-only">"Your role reads this service; developers, admins and owners change it."</p> }.into_any()
            }}
        </section>
    }
}

/// `data → /var/lib/data (read-only)`, one per volume, or "none".
fn volume_list(spec: &ServiceSpec) -> String {
    if spec.volumes.is_empty() {
        return "none".to_owned();
    }
    let list: Vec<String> = spec
        .volumes
        .iter()
        .map(|v| {
            let mode = match (v.read_only, v.shared) {
                (true, _) => " (read-only)",
                (false, true) => " (shared)",
                (false, false) => "",
            };
            format!("{} → {}{mode}", v.name, v.path)
        })
        .collect();
    list.join(", ")
}

/// How a rollout replaces the containers, and why.
fn rollout_kind(spec: &ServiceSpec) -> String {
    match spec.stop_first_reason() {
        Some(why) => format!("rolls out {why}"),
        None => "rolls out start-first: new replicas are ready before the old ones stop".to_owned(),
    }
}

/// Delete, behind a confirmation that opens without JavaScript (`<details>`): a service
/// with volumes offers to delete them too, unchecked (they are kept by default).
#[component]
fn DeleteService(service: ServiceView, act: ServerAction<ServiceAction>) -> impl IntoView {
    let names: Vec<String> = service
        .spec
        .volumes
        .iter()
        .map(|v| v.name.clone())
        .collect();
    let volumes = (!names.is_empty()).then(|| {
        view! {
            <label class="check">
                <input type="checkbox" name="volumes" value="delete" id="delete-volumes" />
                " also delete its volumes (data cannot be recovered): " {names.join(", ")}
            </label>
            <p class="muted">"Unchecked, the volumes are kept: a new service naming one mounts its data again."</p>
        }
    });
    view! {
        <details class="inline confirm" id="delete-confirm">
            <summary class="button danger">"Delete…"</summary>
            <ActionForm action=act attr:class="confirm-form">
                <input type="hidden" name="id" value=service.id.to_string() />
                <input type="hidden" name="action" value="delete" />
                <input type="hidden" name="replicas" value="" />
                <p>"Delete " <strong>{service.name.clone()}</strong> "? Its containers are stopped and removed."</p>
                {volumes}
                <button type="submit" class="danger" id="delete-service">"Delete"</button>
            </ActionForm>
        </details>
    }
}

/// The service's public URLs, and whether the edge proxy sends their requests anywhere.
#[component]
fn Domains(service: ServiceView) -> impl IntoView {
    let Some(route) = service.spec.http.clone() else {
        return ().into_any();
    };
    let (class, state) = match (&service.route, service.urls.is_empty()) {
        (_, true) => (
            "badge",
            "not routed: Berth has no edge proxy configured (BERTH_CADDY_ADMIN)".to_owned(),
        ),
        (None, false) => ("badge", "waiting for the proxy".to_owned()),
        (Some(r), false) => match &r.error {
            Some(e) => ("badge failed", format!("proxy error: {e}")),
            None if r.upstreams == 0 => {
                ("badge failed", "no ready replica: answering 503".to_owned())
            }
            None => (
                "badge running",
                format!("live: {} replica(s) serving", r.upstreams),
            ),
        },
    };
    view! {
        <section class="card" id="domains">
            <h2>"Domains"</h2>
            <p><span class=class id="route-state" data-live=service.route.as_ref().is_some_and(|r| r.live()).to_string()>{state}</span></p>
            <p class="links">{super::domain_links(&service)}</p>
            <p class="muted">"Container port " {route.port}
                {route.www_redirect.then_some("; www. names redirect to their domain")}
                {(!route.https_redirect).then_some("; plain http is served, not redirected")}
            </p>
        </section>
    }
    .into_any()
}

#[component]
fn Containers(containers: Vec<ContainerView>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Containers"</h2>
            {if containers.is_empty() {
                view! { <p class="muted">"No containers run."</p> }.into_any()
            } else {
                view! {
                    <table class="table" id="containers">
                        <thead><tr><th>"Replica"</th><th>"Name"</th><th>"State"</th><th>"Health"</th><th>"Restarts"</th><th>"Exit code"</th><th>"Up since"</th><th>"Address"</th></tr></thead>
                        <tbody>
                            {containers.into_iter().map(|c| {
                                let logs = c.last_logs.clone().filter(|_| c.crash_looping);
                                let up = (c.state == "running").then_some(c.started_at).flatten();
                                view! {
                                    <tr data-state=c.state.clone() data-replica=ReplicaIndex::label(c.replica) data-id=c.id.clone() data-restarts=c.restart_count data-node=c.node.clone().unwrap_or_default()>
                                        <td>{ReplicaIndex::label(c.replica)}</td>
                                        <td><code>{c.name.clone()}</code>{c.node.clone().map(|n| view! { <br /><small class="muted container-node">"on node " {n}</small> })}</td>
                                        <td>{c.state.clone()}{c.crash_looping.then(|| view! { " " <span class="badge crash-looping">"crash-looping"</span> })}{c.note.clone().map(|n| view! { <br /><small class="muted container-note">{n}</small> })}</td>
                                        <td>{c.health.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{c.restart_count}</td>
                                        <td>{c.exit_code.map(|x| x.to_string()).unwrap_or_default()}</td>
                                        <td class="muted">{up.map(super::ago).unwrap_or_default()}</td>
                                        <td><code>{c.ip.clone().unwrap_or_default()}</code></td>
                                    </tr>
                                    {logs.map(|l| view! { <tr><td colspan="8"><pre class="log">{l}</pre></td></tr> })}
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
