//! One file per page.

mod audit;
mod dashboard;
mod invite;
mod login;
mod nodes;
mod not_found;
mod notifications;
mod placeholder;
mod projects;
mod services;
mod settings;
mod setup;
mod team;

pub use audit::AuditLogPage;
pub use dashboard::DashboardPage;
pub use invite::InvitePage;
pub use login::LoginPage;
pub use nodes::NodesPage;
pub use not_found::NotFoundPage;
pub use notifications::NotificationsPage;
pub use placeholder::{PlaceholderPage, Upcoming};
pub use projects::{ProjectPage, ProjectsPage};
pub use services::{EditServicePage, NewServicePage, ServiceDetailPage, ServicesPage};
pub use settings::SettingsPage;
pub use setup::SetupPage;
pub use team::TeamPage;
