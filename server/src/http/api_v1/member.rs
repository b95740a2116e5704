//! Who calls the API: the signed-in member the session layer resolved (API tokens come with
//! team administration). Every handler starts here, so authorisation has one shape.

use super::ApiError;
use app::api::context::Viewer;
use app::domain::{Permission, SessionInfo};
use axum::{extract::FromRequestParts, http::request::Parts};
use uuid::Uuid;

pub struct Member(pub SessionInfo);

impl<S: Send + Sync> FromRequestParts<S> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Viewer>()
            .and_then(|v| v.0.clone())
            .map(Member)
            .ok_or(ApiError::Unauthorized)
    }
}

impl Member {
    /// The caller's team, once its role allows `p`.
    pub fn team_for(&self, p: Permission) -> Result<Uuid, ApiError> {
        if self.0.role.allows(p) {
            Ok(self.0.team.id)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn actor(&self, p: Permission) -> Result<app::store::services::Actor, ApiError> {
        Ok(app::store::services::Actor {
            team_id: self.team_for(p)?,
            user_id: Some(self.0.user.id),
        })
    }
}

/// An id from the path; one that does not parse does not exist.
pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}
