//! One function per verb. Each authorises the caller (the one permission table), validates
//! the input (the domain), applies the pure rules (the domain) and writes through the
//! store, and answers with one typed error. Server functions, REST handlers, plain-form
//! handlers and webhooks are adapters around these: parse → command → render.

pub mod backup;
pub mod backup_destination;
pub mod compose;
pub mod dependencies;
pub mod environment_repository;
mod error;
pub mod instance;
pub mod jobs;
pub mod node;
pub mod notifications;
pub mod outbound;
pub mod project;
pub mod s3;
pub mod service;
pub mod service_map;
pub mod team;
pub mod variables;

pub use error::CommandError;

use crate::domain::{Permission, Role, SessionInfo};
use crate::store::audit::Actor;
use crate::store::secret_box::SecretBox;
use sqlx::PgPool;

/// What every command needs from the server: the database, the key that seals secrets,
/// and the folder local git repositories must be below (BERTH_GIT_LOCAL_ROOT; `None`: no
/// local repositories).
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub pool: &'a PgPool,
    pub secrets: &'a SecretBox,
    pub git_local_root: Option<&'a str>,
}

/// Who asks: a member of a team with a role (a signed-in user, or an API token acting with
/// at most its creator's role), from an address.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub actor: Actor,
    pub role: Role,
}

impl Caller {
    /// The member a session or token resolved to, calling from `ip`.
    pub fn of(me: &SessionInfo, ip: Option<std::net::IpAddr>) -> Caller {
        Caller {
            actor: Actor::of(me, ip),
            role: me.role,
        }
    }

    /// The caller as the store's actor once their role allows `p`; else `Forbidden`.
    pub fn may(&self, p: Permission) -> Result<Actor, CommandError> {
        if self.role.allows(p) {
            Ok(self.actor)
        } else {
            Err(CommandError::Forbidden)
        }
    }
}
