//! Following a service's container output live: the last lines on open, then what the
//! containers print; one replica or all, pause/resume, a text filter, download. Lines are
//! inserted as text (never HTML) and arrive already stripped of terminal escapes.

use crate::domain::live::LogLine;
use crate::domain::service::ReplicaIndex;
use leptos::prelude::*;

/// Lines kept on the page; older ones scroll away.
const KEEP: usize = 2000;
const TAIL: usize = 100;

#[component]
pub fn LogViewer(id: String, replicas: Signal<Vec<ReplicaIndex>>) -> impl IntoView {
    let lines = RwSignal::new(Vec::<LogLine>::new());
    let held = RwSignal::new(Vec::<LogLine>::new());
    let paused = RwSignal::new(false);
    let filter = RwSignal::new(String::new());
    let replica = RwSignal::new(None::<ReplicaIndex>);
    let connected = RwSignal::new(false);

    let push = move |line: LogLine| {
        let target = if paused.get_untracked() { held } else { lines };
        target.update(|v| {
            v.push(line);
            if v.len() > KEEP {
                v.drain(..v.len() - KEEP);
            }
        });
    };
    let stream_url = {
        let id = id.clone();
        move || {
            let mut url = format!("/api/v1/services/{id}/logs/stream?tail={TAIL}");
            if let Some(r) = replica.get() {
                url.push_str(&format!("&replica={r}"));
            }
            url
        }
    };
    Effect::new(move |_| {
        let url = stream_url();
        lines.set(Vec::new());
        held.set(Vec::new());
        // A reconnect sends the last lines again: start afresh on every (re)open.
        let opened = move || {
            lines.set(Vec::new());
            held.set(Vec::new());
            connected.set(true);
        };
        #[cfg(feature = "hydrate")]
        client::follow(&url, push, opened, connected);
        #[cfg(not(feature = "hydrate"))]
        let _ = (url, push, opened);
    });
    // Keep the newest line in view as lines arrive.
    let log_box = NodeRef::<leptos::html::Pre>::new();
    Effect::new(move |_| {
        lines.track();
        #[cfg(feature = "hydrate")]
        if let Some(el) = log_box.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    let toggle = move |_| {
        if paused.get_untracked() {
            let mut waiting = held.get_untracked();
            held.set(Vec::new());
            lines.update(|v| v.append(&mut waiting));
        }
        paused.update(|p| *p = !*p);
    };
    let download = {
        let id = id.clone();
        move || match replica.get() {
            Some(r) => format!("/api/v1/services/{id}/logs?tail=10000&replica={r}"),
            None => format!("/api/v1/services/{id}/logs?tail=10000"),
        }
    };
    let shown = move || {
        let needle = filter.get().to_lowercase();
        lines
            .get()
            .into_iter()
            .filter(|l| needle.is_empty() || l.line.to_lowercase().contains(&needle))
            .map(|l| {
                view! {
                    <div class=format!("log-line {}", l.stream) data-replica=ReplicaIndex::label(l.replica)>
                        <span class="muted">"[" {ReplicaIndex::label(l.replica)} "] "</span>{l.line}
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" id="logs">
            <div class="card-header">
                <h2>"Logs"</h2>
                <span class="muted" id="log-state">{move || if !connected.get() { "connecting…".to_owned() } else if paused.get() { format!("paused, {} new", held.get().len()) } else { "live".to_owned() }}</span>
            </div>
            <div class="log-controls">
                <select id="log-replica" aria-label="Replica" on:change=move |ev| replica.set(ReplicaIndex::parse(&event_target_value(&ev)))>
                    <option value="">"All replicas"</option>
                    {move || replicas.get().into_iter().map(|r| view! { <option value=r.to_string()>"Replica " {r.to_string()}</option> }).collect_view()}
                </select>
                <input type="search" id="log-filter" placeholder="Filter lines" aria-label="Filter lines"
                    on:input=move |ev| filter.set(event_target_value(&ev)) />
                <button type="button" class="ghost" id="log-pause" on:click=toggle>
                    {move || if paused.get() { "Resume" } else { "Pause" }}
                </button>
                <a class="button ghost" id="log-download" href=download download="">"Download"</a>
            </div>
            <pre class="log" id="container-log" node_ref=log_box>{shown}</pre>
        </section>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use super::*;
    use crate::domain::live::EVENT_LOG;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{Event, EventSource, MessageEvent};

    pub fn follow(
        url: &str,
        push: impl Fn(LogLine) + 'static,
        opened: impl Fn() + 'static,
        connected: RwSignal<bool>,
    ) {
        let Ok(source) = EventSource::new(url) else {
            return;
        };
        let on_line = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(line) = e
                .data()
                .as_string()
                .and_then(|d| serde_json::from_str::<LogLine>(&d).ok())
            {
                push(line);
            }
        });
        let on_open = Closure::<dyn Fn(Event)>::new(move |_: Event| opened());
        let on_error = Closure::<dyn Fn(Event)>::new(move |_: Event| connected.set(false));
        let _ =
            source.add_event_listener_with_callback(EVENT_LOG, on_line.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("open", on_open.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
        let held = SendWrapper::new((source, on_line, on_open, on_error));
        on_cleanup(move || held.0.close());
    }
}
