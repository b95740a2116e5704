//! An environment's named volumes, as the engine keeps them (`<prefix>-<name>`, created
//! by Docker when a container first mounts one): removed only when a service is deleted with
//! its volumes. Removing one that is gone already counts as success.

use super::client::Engine;
use super::containers::{is_status, ContainerError};
use app::domain::project::Placement;
use bollard::query_parameters::RemoveVolumeOptions;

/// What removing a volume did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeRemoval {
    Removed,
    /// There was no such volume (never mounted, or removed already).
    Absent,
    /// A container still mounts it (one Berth does not own): kept, with the engine's words.
    InUse(String),
}

impl Engine {
    /// Removes the environment's volume `name` (the name a spec gives it), data and all.
    pub async fn remove_volume(
        &self,
        placement: &Placement,
        name: &str,
    ) -> Result<VolumeRemoval, ContainerError> {
        let docker = self.client().await?;
        match docker
            .remove_volume(&placement.volume(name), None::<RemoveVolumeOptions>)
            .await
        {
            Ok(()) => Ok(VolumeRemoval::Removed),
            Err(e) if is_status(&e, 404) => Ok(VolumeRemoval::Absent),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409,
                message,
            }) => Ok(VolumeRemoval::InUse(message)),
            Err(e) => Err(e.into()),
        }
    }
}
