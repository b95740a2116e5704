//! Pages listen to their team's live stream (`/api/v1/events`, Server-Sent Events) and
//! re-read what changed. The browser's EventSource reconnects by itself, and the server
//! begins every connection with `resync`, so a page that lost its connection re-reads
//! everything: no final state is missed. Without JavaScript: reload to refresh.

use crate::domain::live::LiveChange;
use std::time::Duration;

/// Changes that arrive this close together cause one re-read.
const COALESCE: Duration = Duration::from_millis(100);

/// Calls `refresh` whenever the stream announces a change `concerns` accepts, or asks for a
/// resync; a burst of changes makes one call.
pub fn refresh_on_live(
    concerns: impl Fn(&LiveChange) -> bool + 'static,
    refresh: impl Fn() + 'static,
) {
    #[cfg(feature = "hydrate")]
    client::subscribe(concerns, refresh);
    #[cfg(not(feature = "hydrate"))]
    let _ = (concerns, refresh, COALESCE);
}

#[cfg(feature = "hydrate")]
mod client {
    use super::*;
    use crate::domain::live::{EVENT_CHANGE, EVENT_RESYNC};
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use std::{cell::Cell, rc::Rc};
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{EventSource, MessageEvent};

    pub fn subscribe(
        concerns: impl Fn(&LiveChange) -> bool + 'static,
        refresh: impl Fn() + 'static,
    ) {
        let refresh = Rc::new(refresh);
        let scheduled = Rc::new(Cell::new(false));
        let poke = Rc::new(move || {
            if scheduled.replace(true) {
                return;
            }
            let (refresh, scheduled) = (refresh.clone(), scheduled.clone());
            set_timeout(
                move || {
                    scheduled.set(false);
                    refresh();
                },
                COALESCE,
            );
        });
        let Ok(source) = EventSource::new("/api/v1/events") else {
            return;
        };
        let on_change = {
            let poke = poke.clone();
            Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
                let change = e
                    .data()
                    .as_string()
                    .and_then(|d| serde_json::from_str::<LiveChange>(&d).ok());
                if change.is_some_and(|c| concerns(&c)) {
                    poke();
                }
            })
        };
        let on_resync = Closure::<dyn Fn(MessageEvent)>::new(move |_: MessageEvent| poke());
        let _ = source
            .add_event_listener_with_callback(EVENT_CHANGE, on_change.as_ref().unchecked_ref());
        let _ = source
            .add_event_listener_with_callback(EVENT_RESYNC, on_resync.as_ref().unchecked_ref());
        let held = SendWrapper::new((source, on_change, on_resync));
        on_cleanup(move || held.0.close());
    }
}
