//! Server functions: authorise, validate, call the store, nothing else. Each is callable from
//! the browser at `/api/<endpoint>` and is covered by the server's cross-site check.

pub mod account;
pub mod backup_destination;
pub mod backups;
pub mod compose;
#[cfg(feature = "ssr")]
pub mod context;
pub mod environment_repository;
pub mod jobs;
pub mod nodes;
pub mod notifications;
pub mod projects;
pub mod services;
mod session;
mod system;
pub mod team;
pub mod variables;

pub use session::{whoami, Whoami};
pub use system::{system_status, SystemStatusFn};
