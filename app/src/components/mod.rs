//! Components used by more than one page.

mod form_notice;
mod layout;
mod live;
mod password_input;
mod refresh;
mod service_badge;
mod system_status_card;

pub use form_notice::{query_error, query_value, ErrorBanner, FieldHint};
pub use layout::{AppLayout, AuthLayout};
pub use live::refresh_on_live;
pub use password_input::PasswordInput;
pub use refresh::refresh_every;
pub use service_badge::ServiceBadge;
pub use system_status_card::{DockerBanner, SystemStatusCard};
