//! Image builds from a tar context, through the engine's build API (no docker CLI).

use super::Engine;
use bollard::query_parameters::{BuildImageOptionsBuilder, RemoveImageOptionsBuilder};
use futures::StreamExt;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("Docker engine not reachable: {0}")]
    Engine(#[from] bollard::errors::Error),
    #[error("could not build image {tag}: {reason}")]
    BuildFailed { tag: String, reason: String },
    #[error("could not assemble the build context: {0}")]
    Context(#[from] std::io::Error),
}

/// Files for a build, packed as the tar archive the engine expects.
pub struct BuildContext {
    archive: tar::Builder<Vec<u8>>,
}

impl Default for BuildContext {
    fn default() -> Self {
        Self::new()
    }
}

impl BuildContext {
    pub fn new() -> Self {
        BuildContext {
            archive: tar::Builder::new(Vec::new()),
        }
    }

    /// Adds a file at `path` (relative, '/'-separated) with Unix `mode`.
    pub fn add_file(
        &mut self,
        path: &str,
        contents: &[u8],
        mode: u32,
    ) -> Result<&mut Self, ImageError> {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_cksum();
        self.archive.append_data(&mut header, path, contents)?;
        Ok(self)
    }

    pub fn into_tar(self) -> Result<Vec<u8>, ImageError> {
        Ok(self.archive.into_inner()?)
    }
}

impl Engine {
    /// Builds `tag` from `context` (a tar with a `Dockerfile` at its root), handing every
    /// line of build output to `on_line` as it arrives.
    pub async fn build_image(
        &self,
        tag: &str,
        context: BuildContext,
        mut on_line: impl FnMut(&str) + Send,
    ) -> Result<(), ImageError> {
        let docker = self.client().await?;
        let options = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(tag)
            .rm(true)
            .forcerm(true)
            .build();
        let body = bollard::body_full(context.into_tar()?.into());
        let mut output = docker.build_image(options, None, Some(body));
        while let Some(item) = output.next().await {
            let failure = match item {
                Ok(info) => {
                    for line in info
                        .stream
                        .iter()
                        .flat_map(|s| s.lines())
                        .filter(|l| !l.trim().is_empty())
                    {
                        on_line(line);
                    }
                    info.error_detail.and_then(|d| d.message)
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => Some(error),
                Err(other) => return Err(other.into()),
            };
            if let Some(reason) = failure {
                on_line(&reason);
                return Err(ImageError::BuildFailed {
                    tag: tag.to_owned(),
                    reason,
                });
            }
        }
        Ok(())
    }

    /// True when the engine has an image by this reference.
    pub async fn image_exists(&self, reference: &str) -> Result<bool, ImageError> {
        match self.client().await?.inspect_image(reference).await {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an image; one that is already gone is success.
    pub async fn remove_image(&self, reference: &str) -> Result<(), ImageError> {
        let options = RemoveImageOptionsBuilder::default().force(true).build();
        match self
            .client()
            .await?
            .remove_image(reference, Some(options), None)
            .await
        {
            Ok(_)
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
