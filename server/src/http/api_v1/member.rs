//! Who calls the API: the member the session layer resolved from a session cookie or an
//! API token (`Authorization: Bearer`). Every handler starts here, so authorisation has one
//! shape: `team_for(p)` (reads) and `caller()` (a command checks the role) refuse (403)
//! when the role does not allow it.

use super::ApiError;
use app::api::context::{ClientAddr, Viewer};
use app::commands::Caller;
use app::domain::{Permission, Role, SessionInfo};
use axum::{extract::FromRequestParts, http::request::Parts};
use uuid::Uuid;

pub struct Member(pub SessionInfo, pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let ip = parts.extensions.get::<ClientAddr>().and_then(|a| a.0);
        parts
            .extensions
            .get::<Viewer>()
            .and_then(|v| v.0.clone())
            .map(|me| Member(me, ip))
            .ok_or(ApiError::Unauthorized)
    }
}

impl Member {
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// The caller's team, once its role allows `p`.
    pub fn team_for(&self, p: Permission) -> Result<Uuid, ApiError> {
        if self.0.role.allows(p) {
            Ok(self.0.team.id)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// The caller of a command. The command checks the role; a handler that also reads an
    /// id or a body asks `caller.may(p)` first, so a caller without the right hears 403
    /// before any 400/404/415 about what they sent.
    pub fn caller(&self) -> Caller {
        Caller::of(&self.0, self.1)
    }

    /// The caller and the path's `id` of a handler on one thing, checked in the order every
    /// such handler checks them: the role must allow `p` (403, before anything about what
    /// was sent), then the id must parse (404). A body or query is parsed after this.
    pub fn caller_and_id(&self, p: Permission, id: &str) -> Result<(Caller, Uuid), ApiError> {
        let caller = self.caller();
        caller.may(p)?;
        Ok((caller, parse_id(id)?))
    }
}

/// An id from the path; one that does not parse does not exist.
pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}
