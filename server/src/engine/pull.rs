//! Pulling a service's image from its registry (with credentials for a private one).

use super::client::Engine;
use super::containers::is_status;
use super::containers::ContainerError;
use app::domain::service::{parse_image_ref, RegistryAuth};
use bollard::auth::DockerCredentials;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::StreamExt;

impl Engine {
    /// Pulls `image` (with `auth` for a private registry) unless the engine has it already.
    pub async fn ensure_image(
        &self,
        image: &str,
        auth: Option<&RegistryAuth>,
    ) -> Result<(), ContainerError> {
        let docker = self.client().await?;
        match docker.inspect_image(image).await {
            Ok(_) => return Ok(()),
            Err(e) if is_status(&e, 404) => {}
            Err(e) => return Err(e.into()),
        }
        let options = CreateImageOptionsBuilder::default()
            .from_image(image)
            .build();
        let credentials = auth.map(|a| DockerCredentials {
            username: Some(a.username.clone()),
            password: Some(a.password.clone()),
            serveraddress: parse_image_ref(image).ok().and_then(|r| r.domain),
            ..Default::default()
        });
        let mut progress = docker.create_image(Some(options), None, credentials);
        while let Some(item) = progress.next().await {
            let reason = match item {
                Ok(info) => info.error_detail.and_then(|d| d.message),
                Err(DockerError::DockerStreamError { error }) => Some(error),
                Err(DockerError::DockerResponseServerError { message, .. }) => Some(message),
                Err(other) => return Err(other.into()),
            };
            if let Some(reason) = reason {
                return Err(ContainerError::Pull {
                    image: image.to_owned(),
                    reason,
                });
            }
        }
        Ok(())
    }
}
