//! The team's notification channels: each with its target, its rules (the events it
//! hears), "Send test" and its delivery log; admins add, edit and delete channels. Every
//! form is a plain form, so the page works without JavaScript.

mod channel_form;
mod delivery_log;

use super::team::{error_text, failure};
use crate::api::notifications::{notifications_console, DeleteChannel, SaveChannel, TestChannel};
use crate::components::AppLayout;
use crate::domain::notification::{ChannelLog, ChannelView};
use leptos::prelude::*;

/// The page's actions; the page reads its data again when one finished.
#[derive(Clone, Copy)]
pub(crate) struct Actions {
    pub save: ServerAction<SaveChannel>,
    pub delete: ServerAction<DeleteChannel>,
    pub test: ServerAction<TestChannel>,
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let acts = Actions {
        save: ServerAction::new(),
        delete: ServerAction::new(),
        test: ServerAction::new(),
    };
    let finished = move || {
        (
            acts.save.version().get(),
            acts.delete.version().get(),
            acts.test.version().get(),
        )
    };
    let console = Resource::new(finished, |_| notifications_console());
    view! {
        <AppLayout title="Notifications">
            <header class="page-header">
                <h1>"Notifications"</h1>
                <a href="/notifications" class="button ghost" id="refresh-notifications">"Refresh"</a>
            </header>
            {move || failure(acts.save.value().get())}
            {move || failure(acts.delete.value().get())}
            {move || failure(acts.test.value().get())}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match console.await {
                        Ok(c) => {
                            let manage = c.can_manage;
                            view! {
                                {c.channels.is_empty().then(|| view! {
                                    <p class="muted" id="no-channels">"No channels yet: nothing is sent."</p>
                                })}
                                {c.channels.into_iter().map(|log| view! { <Channel log=log manage=manage acts=acts /> }).collect_view()}
                                {manage.then(|| view! {
                                    <section class="card" id="new-channel">
                                        <h2>"Add a channel"</h2>
                                        <channel_form::ChannelEditor channel=None save=acts.save />
                                    </section>
                                })}
                            }.into_any()
                        }
                        Err(e) => view! { <p class="banner error">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppLayout>
    }
}

/// Where a channel sends, in words.
fn target(c: &ChannelView) -> String {
    match (&c.url, &c.smtp) {
        (Some(url), _) => url.clone(),
        (None, Some(s)) => format!(
            "{}:{} ({}) → {}",
            s.host,
            s.port,
            s.security.as_str(),
            s.to.join(", ")
        ),
        _ => String::new(),
    }
}

#[component]
fn Channel(log: ChannelLog, manage: bool, acts: Actions) -> impl IntoView {
    let c = log.channel;
    let id = c.id.to_string();
    let section_id = format!("channel-{id}");
    let (test_id, delete_id) = (id.clone(), id);
    let events = if c.events.is_empty() {
        "none (only tests)".to_owned()
    } else {
        c.events
            .iter()
            .map(|e| e.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <section class="card channel" data-name=c.name.clone() id=section_id>
            <h2>{c.name.clone()} " " <span class="muted">"(" {c.kind.label()} ")"</span></h2>
            <p class="channel-target"><code>{target(&c)}</code>
                {c.has_secret.then(|| view! { <span class="muted">" · secret stored"</span> })}</p>
            <p>"Hears: " <span class="channel-events">{events}</span></p>
            {manage.then(|| view! {
                <div class="inline-form">
                    <ActionForm action=acts.test attr:class="inline">
                        <input type="hidden" name="id" value=test_id />
                        <button type="submit" class="send-test">"Send test"</button>
                    </ActionForm>
                    <ActionForm action=acts.delete attr:class="inline">
                        <input type="hidden" name="id" value=delete_id />
                        <button type="submit" class="ghost delete-channel">"Delete"</button>
                    </ActionForm>
                </div>
                <details class="edit-channel">
                    <summary>"Edit"</summary>
                    <channel_form::ChannelEditor channel=Some(c.clone()) save=acts.save />
                </details>
            })}
            <delivery_log::DeliveryLog list=log.deliveries />
        </section>
    }
}
