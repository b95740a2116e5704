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
    //! One EventSource per page, shared by every part of it that listens: browsers allow
    //! only six connections per host over HTTP/1.1, and server functions need some.
    use super::*;
    use crate::domain::live::{EVENT_CHANGE, EVENT_RESYNC};
    use leptos::prelude::*;
    use std::{cell::Cell, cell::RefCell, rc::Rc};
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{EventSource, MessageEvent};

    /// `None`: re-read everything.
    type Listener = Rc<dyn Fn(Option<&LiveChange>)>;

    struct Shared {
        source: EventSource,
        listeners: Vec<(u64, Listener)>,
        next_id: u64,
        _handlers: [Closure<dyn Fn(MessageEvent)>; 2],
    }

    thread_local! {
        static SHARED: RefCell<Option<Shared>> = const { RefCell::new(None) };
    }

    fn notify(change: Option<&LiveChange>) {
        let listeners: Vec<Listener> = SHARED.with_borrow(|s| {
            s.as_ref()
                .map(|s| s.listeners.iter().map(|(_, l)| l.clone()).collect())
                .unwrap_or_default()
        });
        for l in listeners {
            l(change);
        }
    }

    fn open() -> Option<Shared> {
        let source = EventSource::new("/api/v1/events").ok()?;
        let on_change = Closure::<dyn Fn(MessageEvent)>::new(|e: MessageEvent| {
            if let Some(c) = e
                .data()
                .as_string()
                .and_then(|d| serde_json::from_str::<LiveChange>(&d).ok())
            {
                notify(Some(&c));
            }
        });
        let on_resync = Closure::<dyn Fn(MessageEvent)>::new(|_: MessageEvent| notify(None));
        let _ = source
            .add_event_listener_with_callback(EVENT_CHANGE, on_change.as_ref().unchecked_ref());
        let _ = source
            .add_event_listener_with_callback(EVENT_RESYNC, on_resync.as_ref().unchecked_ref());
        Some(Shared {
            source,
            listeners: Vec::new(),
            next_id: 0,
            _handlers: [on_change, on_resync],
        })
    }

    pub fn subscribe(
        concerns: impl Fn(&LiveChange) -> bool + 'static,
        refresh: impl Fn() + 'static,
    ) {
        let refresh = Rc::new(refresh);
        let scheduled = Rc::new(Cell::new(false));
        let listener: Listener = Rc::new(move |change: Option<&LiveChange>| {
            if change.is_some_and(|c| !concerns(c)) || scheduled.replace(true) {
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
        let id = SHARED.with_borrow_mut(|shared| {
            if shared.is_none() {
                *shared = open();
            }
            let s = shared.as_mut()?;
            s.next_id += 1;
            s.listeners.push((s.next_id, listener));
            Some(s.next_id)
        });
        let Some(id) = id else { return };
        // The last listener to go closes the connection.
        on_cleanup(move || {
            SHARED.with_borrow_mut(|shared| {
                if let Some(s) = shared.as_mut() {
                    s.listeners.retain(|(i, _)| *i != id);
                    if s.listeners.is_empty() {
                        s.source.close();
                        *shared = None;
                    }
                }
            })
        });
    }
}
