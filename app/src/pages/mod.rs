//! One file per page.

mod dashboard;
mod login;
mod not_found;
mod placeholder;
mod services;
mod setup;

pub use dashboard::DashboardPage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use placeholder::{PlaceholderPage, Upcoming};
pub use services::{EditServicePage, NewServicePage, ServiceDetailPage, ServicesPage};
pub use setup::SetupPage;
