//! Plain types shared by the browser and the server: no I/O, no framework state.

pub mod account;
pub mod backup;
pub mod backup_destination;
pub mod form_error;
pub mod instance;
pub mod jobs;
pub mod live;
pub mod log_line;
pub mod notification;
pub mod outbound;
pub mod permission;
pub mod service;
pub mod session;
pub mod system;
pub mod team;

pub use account::{LoginForm, SetupForm};
pub use form_error::FormError;
pub use permission::Permission;
pub use session::{Role, SessionInfo, TeamSummary, UserSummary};
pub use system::{DockerStatus, PostgresStatus, SystemStatus};
