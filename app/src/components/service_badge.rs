use crate::domain::service::ServiceStatus;
use leptos::prelude::*;

/// A service's state in one word, with ready/desired replicas.
#[component]
pub fn ServiceBadge(status: ServiceStatus) -> impl IntoView {
    let word = status.health.label();
    view! {
        <span class=format!("badge {word}") data-health=word>
            {word} " " <small>{status.ready} "/" {status.desired}</small>
        </span>
    }
}
