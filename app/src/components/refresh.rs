use leptos::prelude::*;
use std::time::Duration;

/// Calls `refresh` every `every` while the page is open in a hydrated browser: for figures
/// that are sampled (charts), not announced (see `refresh_on_live`). Without JavaScript:
/// reload to refresh.
pub fn refresh_every(every: Duration, refresh: impl Fn() + Clone + Send + Sync + 'static) {
    Effect::new(move |_| {
        let handle = set_interval_with_handle(refresh.clone(), every).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
}
