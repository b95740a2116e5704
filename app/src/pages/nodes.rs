//! The Nodes page (admins and owners): the Docker Swarm's nodes with role, availability,
//! state, engine, CPUs/memory, running tasks and labels, read again every 3 s; the
//! `docker swarm join` command for a new worker (its token for the instance owner only)
//! and "Rotate token"; drain, pause, activate; label set and remove; remove a node that is
//! down. The buttons are drawn for the instance owner (the server refuses anyone else
//! anyway). Every form also works without JavaScript (then reload to refresh).

use crate::api::nodes::{
    nodes_overview, NodesOverview, RemoveNode, RemoveNodeLabel, RotateJoinToken,
    SetNodeAvailability, SetNodeLabel,
};
use crate::components::{refresh_every, AppLayout};
use crate::domain::node::{
    format_bytes, Availability, NodeList, NodeRole, NodeState, NodeView, LABEL_KEY_MAX,
    LABEL_VALUE_MAX,
};
use crate::pages::team::{error_text, failure};
use leptos::prelude::*;
use std::time::Duration;

/// How often the table is read again.
const POLL: Duration = Duration::from_secs(3);

#[derive(Clone, Copy)]
struct Actions {
    availability: ServerAction<SetNodeAvailability>,
    set_label: ServerAction<SetNodeLabel>,
    remove_label: ServerAction<RemoveNodeLabel>,
    remove: ServerAction<RemoveNode>,
    rotate: ServerAction<RotateJoinToken>,
}

impl Actions {
    fn new() -> Self {
        Actions {
            availability: ServerAction::new(),
            set_label: ServerAction::new(),
            remove_label: ServerAction::new(),
            remove: ServerAction::new(),
            rotate: ServerAction::new(),
        }
    }

    fn finished(&self) -> [usize; 5] {
        [
            self.availability.version().get(),
            self.set_label.version().get(),
            self.remove_label.version().get(),
            self.remove.version().get(),
            self.rotate.version().get(),
        ]
    }
}

#[component]
pub fn NodesPage() -> impl IntoView {
    let acts = Actions::new();
    let live = Resource::new(move || acts.finished(), |_| nodes_overview());
    // The label form's node list: read when an action finished, not on every poll, so
    // what is being typed stays.
    let forms = Resource::new(move || acts.finished(), |_| nodes_overview());
    refresh_every(POLL, move || live.refetch());
    view! {
        <AppLayout title="Nodes">
            <header class="page-header">
                <h1>"Nodes"</h1>
                <span class="muted">"The Docker Swarm Berth's engine manages"</span>
            </header>
            {move || failure(acts.availability.value().get())}
            {move || failure(acts.remove_label.value().get())}
            {move || failure(acts.remove.value().get())}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match live.await {
                        Ok(o) => view! { <Overview o=o acts=acts /> }.into_any(),
                        Err(e) => view! { <p class="banner error" id="nodes-error">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    forms.await.ok().filter(|o| o.may_change && o.list.swarm).map(|o| view! {
                        <LabelForm nodes=o.list.nodes acts=acts />
                    })
                })}
            </Transition>
        </AppLayout>
    }
}

#[component]
fn Overview(o: NodesOverview, acts: Actions) -> impl IntoView {
    let NodesOverview {
        list,
        join,
        may_change,
    } = o;
    if !list.swarm {
        return view! { <NotASwarm list=list /> }.into_any();
    }
    let join = join.map(|j| {
        view! {
            <section class="card" id="join">
                <h2>"Add a worker"</h2>
                <p class="muted">"Run this on the new machine (Docker installed, ports 2377/tcp, 7946/tcp+udp and 4789/udp open to the managers):"</p>
                <code id="join-command" class="secret">{j.command.clone()}</code>
                {j.token_hidden.then(|| view! { <p class="hint" id="token-hidden">"The token is shown to the instance owner only."</p> })}
                {may_change.then(|| view! {
                    <ActionForm action=acts.rotate attr:class="inline-form" attr:id="rotate-form">
                        <button type="submit" id="rotate-token">"Rotate token"</button>
                    </ActionForm>
                    <p class="hint">"Rotating stops the old token from joining; nodes already joined stay."</p>
                })}
                {move || failure(acts.rotate.value().get())}
            </section>
        }
        .into_any()
    });
    view! {
        <section class="card" id="nodes">
            <table class="table" id="node-list">
                <thead><tr>
                    <th>"Hostname"</th><th>"Role"</th><th>"Availability"</th><th>"State"</th>
                    <th>"Engine"</th><th>"CPU / memory"</th><th>"Tasks"</th><th>"Labels"</th><th></th>
                </tr></thead>
                <tbody>
                    {list.nodes.into_iter().map(|n| view! { <NodeRow n=n may_change=may_change acts=acts /> }).collect_view()}
                </tbody>
            </table>
            <p class="muted" id="swarm-mode-hint">"Services run as Swarm services across these nodes when Berth runs with "
                <code>"BERTH_ORCHESTRATOR=swarm"</code>"; otherwise as containers on this engine only. The README's \"Swarm mode\" says how to switch and what happens to running services."</p>
        </section>
        {join}
    }
    .into_any()
}

#[component]
fn NotASwarm(list: NodeList) -> impl IntoView {
    view! {
        <section class="card" id="no-swarm">
            <p>"Berth's Docker engine is not a swarm manager (its swarm state: "
                <strong id="swarm-state">{list.local_state}</strong> ")."</p>
            <p class="muted">"To run services on several machines, make it one: "
                <code>"docker swarm init --advertise-addr <this machine's address>"</code>
                ", then reload. The README's \"Nodes (Docker Swarm)\" says more."</p>
        </section>
    }
}

fn role_word(r: NodeRole) -> &'static str {
    match r {
        NodeRole::Manager => "manager",
        NodeRole::Worker => "worker",
    }
}

fn state_word(s: NodeState) -> &'static str {
    match s {
        NodeState::Ready => "ready",
        NodeState::Down => "down",
        NodeState::Unknown => "unknown",
        NodeState::Disconnected => "disconnected",
    }
}

#[component]
fn NodeRow(n: NodeView, may_change: bool, acts: Actions) -> impl IntoView {
    let id = n.id.clone();
    let buttons = may_change.then(|| {
        let others: Vec<Availability> = Availability::ALL
            .into_iter()
            .filter(|a| *a != n.availability)
            .collect();
        let removable = n.state == NodeState::Down && n.role == NodeRole::Worker;
        let id = id.clone();
        view! {
            {others.into_iter().map(|a| {
                let word = match a {
                    Availability::Active => "Activate",
                    Availability::Pause => "Pause",
                    Availability::Drain => "Drain",
                };
                let node_id = id.clone();
                view! {
                    <ActionForm action=acts.availability attr:class="inline">
                        <input type="hidden" name="id" value=node_id />
                        <input type="hidden" name="availability" value=a.as_str() />
                        <button type="submit" class=format!("node-{}", a.as_str())>{word}</button>
                    </ActionForm>
                }
            }).collect_view()}
            {removable.then(move || view! {
                <ActionForm action=acts.remove attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="danger node-remove">"Remove"</button>
                </ActionForm>
            })}
        }
        .into_any()
    });
    let labels = n
        .labels
        .iter()
        .map(|(k, v)| {
            let (node_id, key) = (id.clone(), k.clone());
            let remove = may_change.then(move || {
                view! {
                    <ActionForm action=acts.remove_label attr:class="inline">
                        <input type="hidden" name="id" value=node_id />
                        <input type="hidden" name="key" value=key />
                        <button type="submit" class="link label-remove" title="Remove this label">"×"</button>
                    </ActionForm>
                }
            });
            view! { <span class="badge node-label">{format!("{k}={v}")}{remove}</span> " " }.into_any()
        })
        .collect_view();
    view! {
        <tr class="node" data-node=n.id.clone()>
            <td class="node-hostname">{n.hostname.clone()}{n.leader.then(|| view! { " " <span class="badge">"leader"</span> })}
                <br /><span class="muted">{n.address.clone().unwrap_or_default()}</span></td>
            <td class="node-role">{role_word(n.role)}</td>
            <td class="node-availability">{n.availability.as_str()}</td>
            <td class=format!("node-state {}", state_word(n.state))>{state_word(n.state)}</td>
            <td>{n.engine_version.clone().unwrap_or_else(|| "?".into())}</td>
            <td>{format!("{:.1} CPU / {}", n.cpus, format_bytes(n.memory_bytes))}</td>
            <td class="node-tasks">{n.running_tasks}</td>
            <td>{labels}</td>
            <td class="actions">{buttons}</td>
        </tr>
    }
    .into_any()
}

#[component]
fn LabelForm(nodes: Vec<NodeView>, acts: Actions) -> impl IntoView {
    view! {
        <section class="card" id="node-labels">
            <h2>"Set a label"</h2>
            <p class="muted">"Services can be placed by node labels. Keys: letters, digits, '.', '-', '_'; Docker's com.docker.*, io.docker.* and org.dockerproject.* are reserved."</p>
            <ActionForm action=acts.set_label attr:class="inline-form" attr:id="label-form">
                <label>"Node"
                    <select name="id" id="label-node">
                        {nodes.into_iter().map(|n| view! { <option value=n.id.clone()>{n.hostname.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Key" <input name="key" id="label-key" required maxlength=LABEL_KEY_MAX.to_string() placeholder="zone" /></label>
                <label>"Value" <input name="value" id="label-value" maxlength=LABEL_VALUE_MAX.to_string() placeholder="eu-1" /></label>
                <button type="submit" id="label-submit">"Set label"</button>
            </ActionForm>
            {move || failure(acts.set_label.value().get())}
        </section>
    }
}
