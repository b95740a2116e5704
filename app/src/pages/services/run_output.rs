//! One run's output on the jobs card: the lines kept when the page read it, then — while
//! the run is queued or running — the lines it prints, streamed as they come
//! (`/api/v1/job-runs/{id}/output/stream`, starting after the lines shown). Lines are
//! inserted as text, never HTML. Without JavaScript: the lines as of the request.

use crate::domain::jobs::{JobRunView, RunLogLine};
use leptos::prelude::*;

#[component]
pub fn RunOutput(
    run: JobRunView,
    /// The lines kept when the run was read.
    log: Vec<RunLogLine>,
    /// Called when the stream says the run is over (to read its final state).
    ended: Callback<()>,
) -> impl IntoView {
    let streamed = RwSignal::new(Vec::<RunLogLine>::new());
    if run.state.is_open() {
        let url = format!(
            "/api/v1/job-runs/{}/output/stream?after={}",
            run.id,
            log.len()
        );
        let push = move |line: RunLogLine| streamed.update(|v| v.push(line));
        #[cfg(feature = "hydrate")]
        client::follow(&url, push, move || ended.run(()));
        #[cfg(not(feature = "hydrate"))]
        let _ = (url, push, ended);
    }
    // Keep the newest line in view as lines arrive.
    let log_box = NodeRef::<leptos::html::Pre>::new();
    Effect::new(move |_| {
        streamed.track();
        #[cfg(feature = "hydrate")]
        if let Some(el) = log_box.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    let line =
        |l: RunLogLine| view! { <span class=format!("line {}", l.stream)>{l.line}"\n"</span> };
    let state = run.state.as_str();
    view! {
        <div id="run-output" data-state=state>
            <h3>{format!("Run #{} — {}", run.number, state.replace('_', " "))}
                {run.exit_code.map(|c| format!(", exit code {c}"))}</h3>
            {run.reason.clone().map(|why| view! { <p class="muted" id="run-output-reason">{why}</p> })}
            <pre class="log" id="run-output-lines" node_ref=log_box>
                {log.into_iter().map(line).collect_view()}
                {move || streamed.get().into_iter().map(line).collect_view()}
            </pre>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use super::*;
    use crate::domain::live::{EVENT_END, EVENT_LOG};
    use send_wrapper::SendWrapper;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{EventSource, MessageEvent};

    /// Follows the stream until the run's `end` (then closes it: the browser would
    /// otherwise reconnect) or until the component goes. A reconnect after a drop resumes
    /// after the last line received (`Last-Event-ID`).
    pub fn follow(url: &str, push: impl Fn(RunLogLine) + 'static, ended: impl Fn() + 'static) {
        let Ok(source) = EventSource::new(url) else {
            return;
        };
        let on_line = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(line) = e
                .data()
                .as_string()
                .and_then(|d| serde_json::from_str::<RunLogLine>(&d).ok())
            {
                push(line);
            }
        });
        let closer = source.clone();
        let on_end = Closure::<dyn Fn(MessageEvent)>::new(move |_: MessageEvent| {
            closer.close();
            ended();
        });
        let _ =
            source.add_event_listener_with_callback(EVENT_LOG, on_line.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback(EVENT_END, on_end.as_ref().unchecked_ref());
        let held = SendWrapper::new((source, on_line, on_end));
        on_cleanup(move || held.0.close());
    }
}
