//! A service's deployments: history with rollback, and the latest one step by step.

use crate::api::services::{deployment_log, ServiceAction};
use crate::components::refresh_on_live;
use crate::domain::live::LiveTopic;
use crate::domain::service::{progress, DeploymentState, DeploymentView};
use leptos::prelude::*;

/// `shown`: the deployment whose steps and log are open (`None`: the latest); kept by the
/// page, so re-reading the service does not close what a person opened.
#[component]
pub fn Deployments(
    deployments: Vec<DeploymentView>,
    live: Option<i32>,
    act: ServerAction<ServiceAction>,
    shown: RwSignal<Option<uuid::Uuid>>,
    /// The role may roll back.
    manage: bool,
) -> impl IntoView {
    let summaries: Vec<(uuid::Uuid, DeploymentState, uuid::Uuid, i32, bool)> = deployments
        .iter()
        .map(|d| (d.id, d.state, d.service_id, d.number, d.spec.git.is_some()))
        .collect();
    let open = move || {
        let wanted = shown.get();
        summaries
            .iter()
            .find(|d| Some(d.0) == wanted)
            .or(summaries.first())
            .copied()
    };
    view! {
        <section class="card">
            <h2>"Deployments"</h2>
            {move || open().map(|(id, state, service, number, built)| view! {
                <h3 id="shown-deployment">"Deployment #" {number}</h3>
                <DeploymentProgress id=id.to_string() state=state service=service built=built />
            })}
            <table class="table" id="deployments">
                <thead><tr><th>"#"</th><th>"Trigger"</th><th>"By"</th><th>"Commit"</th><th>"Image"</th><th>"State"</th><th>"Reason"</th><th>"Created"</th><th>"Took"</th><th></th></tr></thead>
                <tbody>
                    {deployments.into_iter().map(|d| {
                        let can_roll_back = manage && d.state == DeploymentState::Succeeded && Some(d.number) != live && !d.image_removed;
                        let took = d.duration().map(|t| format!("{:.1} s", t.num_milliseconds() as f64 / 1000.0));
                        let trigger = d.trigger_label();
                        let by = d.triggered_by.clone().or_else(|| d.commit.as_ref().and_then(|c| c.author.clone())).unwrap_or_default();
                        view! {
                            <tr data-state=d.state.as_str() data-number=d.number>
                                <td>
                                    <button type="button" class="link" title="Show its steps and log"
                                        on:click=move |_| shown.set(Some(d.id))>{d.number}</button>
                                </td>
                                <td>{trigger}</td>
                                <td>{by}</td>
                                <td class="commit">{d.commit.as_ref().map(|c| view! {
                                    <code title=c.sha.clone()>{c.short().to_owned()}</code>" "{c.title().to_owned()}
                                })}{d.image_removed.then_some(" (image removed)")}</td>
                                <td class="image">{d.image_short().map(|short| {
                                    let full = d.image_digest.clone().into_iter().chain(d.image_id.clone()).collect::<Vec<_>>().join("\n");
                                    view! { <code title=full>{short.to_owned()}</code> }
                                })}</td>
                                <td><span class=format!("badge {}", d.state.as_str())>{d.state.label()}</span></td>
                                <td>{d.reason.clone().unwrap_or_default()}</td>
                                <td class="muted">{super::ago(d.created_at)}</td>
                                <td class="muted">{took.unwrap_or_default()}</td>
                                <td>{can_roll_back.then(|| view! {
                                    <ActionForm action=act attr:class="inline">
                                        <input type="hidden" name="id" value=d.service_id.to_string() />
                                        <input type="hidden" name="action" value="rollback" />
                                        <input type="hidden" name="replicas" value=d.number.to_string() />
                                        <button type="submit" class="ghost small" id=format!("rollback-{}", d.number)>"Roll back to this"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The latest deployment's steps and log, re-read as the worker writes them.
#[component]
fn DeploymentProgress(
    id: String,
    state: DeploymentState,
    service: uuid::Uuid,
    built: bool,
) -> impl IntoView {
    let log = Resource::new(move || id.clone(), deployment_log);
    refresh_on_live(
        move |c| c.service == service && c.topic == LiveTopic::Log,
        move || log.refetch(),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let lines = log.await.unwrap_or_default();
                let steps = progress(state, &lines, built);
                view! {
                    <ol class="steps" id="deployment-steps">
                        {steps.into_iter().map(|(step, s)| view! {
                            <li class=format!("step {}", s.as_str()) data-step=step.as_str() data-state=s.as_str()>{step.label()}</li>
                        }).collect_view()}
                    </ol>
                    <pre class="log" id="deployment-log">
                        {lines.into_iter().map(|l| format!("{}  {}\n", l.at.format("%H:%M:%S"), l.line)).collect::<String>()}
                    </pre>
                }
            })}
        </Transition>
    }
}
