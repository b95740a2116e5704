//! Plain types shared by the browser and the server: no I/O, no framework state.

pub mod account;
pub mod backup;
pub mod backup_destination;
pub mod compose;
pub mod dependencies;
pub mod digraph;
pub mod environment_repository;
pub mod form_error;
pub mod instance;
pub mod jobs;
pub mod live;
pub mod log_line;
pub mod node;
pub mod notification;
pub mod outbound;
pub mod permission;
pub mod project;
pub mod service;
#[cfg(feature = "ssr")]
pub mod service_map;
pub mod session;
pub mod system;
pub mod team;
pub mod variables;

pub use account::{LoginForm, SetupForm};
pub use form_error::FormError;
pub use permission::Permission;
pub use session::{Role, SessionInfo, TeamSummary, UserSummary};
pub use system::{DockerStatus, PostgresStatus, SystemStatus};
