//! Pushing an image Berth built to the registry the swarm's nodes pull from
//! (`BERTH_REGISTRY`), so every node runs the same bits by digest.

use super::client::Engine;
use super::image::ImageError;
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use futures::StreamExt;

/// The reference of built image `local` (`berth/acme/web:<sha>`) in `registry`
/// (`10.0.0.5:5000` or `registry.example.com/team`): `<registry>/berth/acme/web:<sha>`.
pub fn registry_reference(registry: &str, local: &str) -> String {
    format!("{}/{local}", registry.trim_end_matches('/'))
}

impl Engine {
    /// Tags `local` as `target` (`host[:port]/repo:tag`) and pushes it; answers the
    /// digest reference the registry gave it (`host[:port]/repo@sha256:…`). A push the
    /// registry refuses (unreachable, TLS required, credentials) is
    /// [`ImageError::PushFailed`] with the engine's reason.
    pub async fn push_image(&self, local: &str, target: &str) -> Result<String, ImageError> {
        let failed = |reason: String| ImageError::PushFailed {
            target: target.to_owned(),
            reason,
        };
        let (repo, tag) = match target.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, tag),
            _ => (target, "latest"),
        };
        let docker = self.client().await?;
        let options = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        docker.tag_image(local, Some(options)).await?;
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let mut progress = docker.push_image(repo, Some(options), None);
        while let Some(item) = progress.next().await {
            match item {
                Ok(info) => {
                    if let Some(reason) = info.error_detail.and_then(|d| d.message) {
                        return Err(failed(reason));
                    }
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(failed(error))
                }
                Err(e) => return Err(failed(e.to_string())),
            }
        }
        let image = docker.inspect_image(target).await?;
        let prefix = format!("{repo}@");
        image
            .repo_digests
            .unwrap_or_default()
            .into_iter()
            .find(|d| d.starts_with(&prefix))
            .ok_or_else(|| failed("the registry gave no digest".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_images_keep_their_path_under_the_registry() {
        assert_eq!(
            registry_reference("10.0.0.5:5000/", "berth/acme/web:abc"),
            "10.0.0.5:5000/berth/acme/web:abc"
        );
    }
}
