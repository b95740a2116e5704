//! Pulling a service's image from its registry (with credentials for a private one), with
//! its progress, and what the engine has under a reference: the image id and the registry
//! digests.

use super::client::Engine;
use super::containers::is_status;
use super::containers::ContainerError;
use super::pull_progress::{PullProgress, PullTally};
use app::domain::service::{parse_image_ref, RegistryAuth};
use bollard::auth::DockerCredentials;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::StreamExt;
use tokio::sync::watch;

/// An image as the engine has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    /// `sha256:…`: the digest of the image config, what the engine runs.
    pub id: String,
    /// `repo@sha256:…`, one per registry repository it was pulled from or pushed to.
    pub repo_digests: Vec<String>,
}

impl LocalImage {
    /// The registry digest of this image in `reference`'s repository
    /// (`localhost:5000/demo:latest` → `localhost:5000/demo@sha256:…`), when it has one.
    pub fn digest_for(&self, reference: &str) -> Option<String> {
        let repo = parse_image_ref(reference).ok().map(|r| match r.domain {
            Some(d) => format!("{d}/{}", r.path),
            None => r.path,
        })?;
        let familiar = repo.strip_prefix("library/").unwrap_or(&repo);
        self.repo_digests
            .iter()
            .find(|d| {
                d.split_once('@')
                    .is_some_and(|(r, _)| r == repo || r == familiar)
            })
            .cloned()
    }
}

impl Engine {
    /// The image the engine has under `reference` (a tag, a digest or an id), or `None`.
    pub async fn local_image(&self, reference: &str) -> Result<Option<LocalImage>, ContainerError> {
        match self.client().await?.inspect_image(reference).await {
            Ok(image) => Ok(image.id.map(|id| LocalImage {
                id,
                repo_digests: image.repo_digests.unwrap_or_default(),
            })),
            Err(e) if is_status(&e, 404) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Pulls `image` from its registry (with `auth` for a private one), whether or not the
    /// engine has it, publishing the download's progress on `progress` as it goes. A pull
    /// the registry refuses (unknown image, credentials refused) is
    /// [`ContainerError::Pull`]. Dropping the future stops the pull.
    pub async fn pull_image(
        &self,
        image: &str,
        auth: Option<&RegistryAuth>,
        progress: &watch::Sender<PullProgress>,
    ) -> Result<(), ContainerError> {
        let docker = self.client().await?;
        let options = CreateImageOptionsBuilder::default()
            .from_image(image)
            .build();
        let credentials = auth.map(|a| DockerCredentials {
            username: Some(a.username.clone()),
            password: Some(a.password.clone()),
            serveraddress: parse_image_ref(image).ok().and_then(|r| r.domain),
            ..Default::default()
        });
        let mut tally = PullTally::default();
        let mut stream = docker.create_image(Some(options), None, credentials);
        while let Some(item) = stream.next().await {
            let reason = match item {
                Ok(info) => {
                    if let (Some(layer), Some(status)) = (&info.id, &info.status) {
                        let detail = info.progress_detail.as_ref();
                        tally.see(
                            layer,
                            status,
                            detail.and_then(|d| d.current),
                            detail.and_then(|d| d.total),
                        );
                        progress.send_replace(tally.progress());
                    }
                    info.error_detail.and_then(|d| d.message)
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_the_one_of_the_references_repository() {
        let image = LocalImage {
            id: "sha256:1".into(),
            repo_digests: vec![
                "localhost:5001/other@sha256:aa".into(),
                "localhost:5000/demo@sha256:bb".into(),
                "nginx@sha256:cc".into(),
            ],
        };
        assert_eq!(
            image.digest_for("localhost:5000/demo:latest").as_deref(),
            Some("localhost:5000/demo@sha256:bb")
        );
        assert_eq!(
            image.digest_for("nginx:1.27").as_deref(),
            Some("nginx@sha256:cc")
        );
        assert_eq!(image.digest_for("localhost:5002/demo:latest"), None);
    }
}
