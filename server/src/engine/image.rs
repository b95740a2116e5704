//! Image builds from a tar context, through the engine's build API (no docker CLI).

use super::client::Engine;
use bollard::query_parameters::{BuildImageOptionsBuilder, RemoveImageOptionsBuilder};
use futures::StreamExt;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("Docker engine not reachable: {0}")]
    Engine(#[from] bollard::errors::Error),
    #[error("could not build image {tag}: {reason}")]
    BuildFailed { tag: String, reason: String },
    #[error("could not push {target} to the registry: {reason}")]
    PushFailed { target: String, reason: String },
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

    /// Adds everything under `dir` (not `.git`), symbolic links as links: a link pointing
    /// outside the directory is never followed, so nothing outside it reaches the engine.
    pub fn add_dir(&mut self, dir: &std::path::Path) -> Result<&mut Self, ImageError> {
        self.archive.follow_symlinks(false);
        let mut stack = vec![(dir.to_path_buf(), std::path::PathBuf::new())];
        while let Some((on_disk, in_tar)) = stack.pop() {
            for entry in std::fs::read_dir(&on_disk)? {
                let entry = entry?;
                let name = entry.file_name();
                if in_tar.as_os_str().is_empty() && name == ".git" {
                    continue;
                }
                let (path, tar_path) = (entry.path(), in_tar.join(&name));
                if entry.file_type()?.is_dir() {
                    self.archive.append_dir(&tar_path, &path)?;
                    stack.push((path, tar_path));
                } else {
                    self.archive.append_path_with_name(&path, &tar_path)?;
                }
            }
        }
        Ok(self)
    }

    pub fn into_tar(self) -> Result<Vec<u8>, ImageError> {
        Ok(self.archive.into_inner()?)
    }
}

/// What to build besides the context: the tag, the Dockerfile's path in the context,
/// build arguments and image labels.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub tag: String,
    pub dockerfile: String,
    pub build_args: std::collections::HashMap<String, String>,
    pub labels: std::collections::HashMap<String, String>,
}

impl Engine {
    /// Builds `tag` from `context` (a tar with a `Dockerfile` at its root), handing every
    /// line of build output to `on_line` as it arrives.
    pub async fn build_image(
        &self,
        tag: &str,
        context: BuildContext,
        on_line: impl FnMut(&str) + Send,
    ) -> Result<(), ImageError> {
        let options = BuildOptions {
            tag: tag.to_owned(),
            dockerfile: "Dockerfile".to_owned(),
            ..Default::default()
        };
        self.build_image_with(&options, context, on_line).await
    }

    /// Builds an image as `options` say, handing every line of output to `on_line`.
    pub async fn build_image_with(
        &self,
        options: &BuildOptions,
        context: BuildContext,
        mut on_line: impl FnMut(&str) + Send,
    ) -> Result<(), ImageError> {
        let tag = options.tag.as_str();
        let docker = self.client().await?;
        let options = BuildImageOptionsBuilder::default()
            .dockerfile(&options.dockerfile)
            .t(tag)
            .rm(true)
            .forcerm(true)
            .buildargs(&options.build_args)
            .labels(&options.labels)
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

    /// The tags of every image in `repository` (`berth/acme/web` → `berth/acme/web:…`).
    pub async fn image_tags(&self, repository: &str) -> Result<Vec<String>, ImageError> {
        let filters = std::collections::HashMap::from([("reference", vec![repository])]);
        let options = bollard::query_parameters::ListImagesOptionsBuilder::default()
            .filters(&filters)
            .build();
        let images = self.client().await?.list_images(Some(options)).await?;
        let prefix = format!("{repository}:");
        Ok(images
            .into_iter()
            .flat_map(|i| i.repo_tags)
            .filter(|t| t.starts_with(&prefix))
            .collect())
    }

    /// Removes untagged images carrying `label` (`key=value`): what rebuilding a tag leaves.
    pub async fn prune_untagged(&self, label: &str) -> Result<(), ImageError> {
        let filters =
            std::collections::HashMap::from([("dangling", vec!["true"]), ("label", vec![label])]);
        let options = bollard::query_parameters::PruneImagesOptionsBuilder::default()
            .filters(&filters)
            .build();
        self.client().await?.prune_images(Some(options)).await?;
        Ok(())
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
