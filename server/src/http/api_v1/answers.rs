//! The answers of the REST API that are not a domain type as such: their schemas are
//! derived from these types, so the document says exactly what is sent.

use app::domain::service::{
    Change, DeploymentLogLine, DeploymentView, ServiceView, VolumesOnDelete,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// `PUT /services/{id}` and `POST /services/{id}/scale`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    pub change: Change,
    pub service: ServiceView,
}

/// `DELETE /services/{id}`: `202`, the containers go, then (when asked) the volumes no
/// other service of the team uses, then the service.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleting {
    /// Always `true`.
    pub deleting: bool,
    /// What happens to the service's volumes: `keep` (the default) or `delete`.
    pub volumes: VolumesOnDelete,
}

/// `POST /services/{id}/deploy`: `202`, a build was queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeployQueued {
    /// Always `true`.
    pub queued: bool,
    /// The new deployment's number in the service.
    pub number: i32,
    /// The new deployment's id (`GET /api/v1/deployments/{id}`; also in `Location`).
    pub deployment: Uuid,
}

/// `GET /deployments/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentWithLog {
    pub deployment: DeploymentView,
    pub log: Vec<DeploymentLogLine>,
}

/// `GET /job-runs/{id}`: a run and what it printed (cleaned; at most
/// `app::domain::jobs::MAX_LOG_LINES` lines).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobRunWithLog {
    pub run: app::domain::jobs::JobRunView,
    pub log: Vec<app::domain::jobs::RunLogLine>,
}
