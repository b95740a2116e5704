//! A channel's delivery log: time, event, status, attempts, error.

use crate::domain::notification::{DeliveryStatus, DeliveryView};
use crate::pages::team::{when, when_or};
use leptos::prelude::*;

#[component]
pub fn DeliveryLog(list: Vec<DeliveryView>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted no-deliveries">"Nothing sent yet."</p> }.into_any();
    }
    view! {
        <table class="table delivery-log">
            <thead><tr><th>"Queued"</th><th>"Event"</th><th>"Status"</th><th>"Attempts"</th><th>"Finished"</th><th>"Error"</th></tr></thead>
            <tbody>
                {list.into_iter().map(|d| {
                    let status = match d.status {
                        DeliveryStatus::Pending => match d.next_attempt_at {
                            Some(t) if d.attempts > 0 => format!("pending (retry {})", when(t)),
                            _ => "pending".to_owned(),
                        },
                        other => other.as_str().to_owned(),
                    };
                    view! {
                        <tr class="delivery" data-status=d.status.as_str()>
                            <td class="muted">{when(d.created_at)}</td>
                            <td title=d.message.clone()>{d.event.clone()}</td>
                            <td class="delivery-status">{status}</td>
                            <td>{d.attempts}</td>
                            <td class="muted">{when_or(d.finished_at, "")}</td>
                            <td class="delivery-error">{d.last_error.clone().unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
