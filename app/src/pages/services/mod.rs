//! The services pages: list, create/edit form, detail.

pub(crate) mod backups;
mod deployments;
mod detail;
mod form;
mod git;
mod jobs;
mod list;
mod logs;
mod metrics;
mod run_output;
mod timeline;

pub use detail::ServiceDetailPage;
pub use form::{EditServicePage, NewServicePage};
pub(crate) use list::ServiceTable;
pub use list::ServicesPage;

/// A service's URLs as links, or its bare domains when Berth routes none (one place for
/// the list and the service page).
fn domain_links(s: &crate::domain::service::ServiceView) -> impl leptos::prelude::IntoView {
    use leptos::prelude::*;
    if s.urls.is_empty() {
        let domains = s
            .spec
            .http
            .as_ref()
            .map(|r| r.domains.clone())
            .unwrap_or_default();
        domains
            .into_iter()
            .map(|d| view! { <code class="domain">{d}</code>" " })
            .collect_view()
            .into_any()
    } else {
        s.urls
            .iter()
            .map(|u| view! { <a href=u.clone() target="_blank" rel="noopener">{u.clone()}</a>" " })
            .collect_view()
            .into_any()
    }
}

/// "3 min ago"-style age of a timestamp, for tables.
fn ago(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
