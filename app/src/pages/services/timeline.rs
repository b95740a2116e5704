//! What happened to a service, in words: deployments, crashes, restarts, scaling, repairs.

use crate::api::services::service_events;
use crate::components::refresh_on_live;
use crate::domain::live::LiveTopic;
use leptos::prelude::*;

#[component]
pub fn Timeline(id: String) -> impl IntoView {
    let service = id.clone();
    let events = Resource::new(move || id.clone(), service_events);
    refresh_on_live(
        move |c| c.service.to_string() == service && c.topic == LiveTopic::Events,
        move || events.refetch(),
    );
    view! {
        <section class="card">
            <h2>"Timeline"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = events.await.unwrap_or_default();
                    view! {
                        <ol class="timeline" id="timeline">
                            {list.into_iter().map(|e| view! {
                                <li data-kind=e.kind.as_str()>
                                    <time class="muted">{super::ago(e.at)}</time>
                                    " "
                                    <span class=format!("kind {}", e.kind.as_str())>{e.kind.as_str()}</span>
                                    " "
                                    {e.message}
                                </li>
                            }).collect_view()}
                        </ol>
                    }
                })}
            </Transition>
        </section>
    }
}
