//! The services pages: list, create/edit form, detail.

mod deployments;
mod detail;
mod form;
mod list;
mod logs;
mod metrics;
mod timeline;

pub use detail::ServiceDetailPage;
pub use form::{EditServicePage, NewServicePage};
pub use list::ServicesPage;

/// "3 min ago"-style age of a timestamp, for tables.
fn ago(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
