//! An environment's named volumes read out as one tar stream and written back from one, through the
//! engine's archive API and a helper container that never starts: created from the
//! service's own image (no `tar` needed inside it) with each volume mounted at
//! `/berth-backup/<name>`, and always removed (with any anonymous volume its image
//! declares) afterwards.

use super::client::Engine;
use super::containers::{is_status, ContainerError};
use super::observed::LABEL_INSTANCE;
use super::replica::volume_mount;
use app::domain::project::Placement;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use std::collections::HashMap;
use uuid::Uuid;

/// Where the helper mounts the volumes; the archive's top folder.
pub const ARCHIVE_ROOT: &str = "/berth-backup";
/// The label on a helper container (besides the instance's).
pub const LABEL_BACKUP_HELPER: &str = "berth.backup-helper";

impl Engine {
    /// Streams a tar of the environment's volumes `names` (entries `berth-backup/<name>/…`),
    /// read through a helper made from `image` (an image id); every chunk goes to `sink`.
    pub async fn export_volumes(
        &self,
        image: &str,
        placement: &Placement,
        names: &[String],
        mut sink: impl FnMut(Bytes) -> std::io::Result<()>,
    ) -> Result<(), ContainerError> {
        let helper = self.backup_helper(image, placement, names).await?;
        let result = async {
            let docker = self.client().await?;
            let options = DownloadFromContainerOptionsBuilder::default()
                .path(ARCHIVE_ROOT)
                .build();
            let mut stream = docker.download_from_container(&helper, Some(options));
            while let Some(chunk) = stream.next().await {
                sink(chunk?).map_err(|err| bollard::errors::Error::IOError { err })?;
            }
            Ok(())
        }
        .await;
        self.remove_helper(&helper).await;
        result
    }

    /// Writes a tar made by [`Engine::export_volumes`] back into the environment's volumes
    /// `names` (each removed first, so nothing but the archive's files remains; a volume a
    /// container still uses refuses).
    pub async fn import_volumes(
        &self,
        image: &str,
        placement: &Placement,
        names: &[String],
        tar: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    ) -> Result<(), ContainerError> {
        for name in names {
            if let super::VolumeRemoval::InUse(why) = self.remove_volume(placement, name).await? {
                return Err(ContainerError::NameTaken(format!(
                    "volume {name} is still in use: {why}"
                )));
            }
        }
        let helper = self.backup_helper(image, placement, names).await?;
        let result = async {
            let docker = self.client().await?;
            let options = UploadToContainerOptionsBuilder::default().path("/").build();
            docker
                .upload_to_container(&helper, Some(options), bollard::body_try_stream(tar))
                .await?;
            Ok(())
        }
        .await;
        self.remove_helper(&helper).await;
        result
    }

    async fn backup_helper(
        &self,
        image: &str,
        placement: &Placement,
        names: &[String],
    ) -> Result<String, ContainerError> {
        let docker = self.client().await?;
        let mounts = names
            .iter()
            .map(|name| volume_mount(placement, name, &format!("{ARCHIVE_ROOT}/{name}"), false))
            .collect();
        let labels = HashMap::from([
            (LABEL_INSTANCE.to_owned(), self.instance.to_string()),
            (LABEL_BACKUP_HELPER.to_owned(), "true".to_owned()),
        ]);
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            labels: Some(labels),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                mounts: Some(mounts),
                network_mode: Some("none".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let name = format!("berth-backup-{}", Uuid::new_v4().simple());
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        Ok(docker.create_container(Some(options), body).await?.id)
    }

    async fn remove_helper(&self, id: &str) {
        let Ok(docker) = self.client().await else {
            return;
        };
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match docker.remove_container(id, Some(options)).await {
            Ok(()) => {}
            Err(e) if is_status(&e, 404) => {}
            Err(e) => {
                tracing::warn!(container = id, error = %e, "backup: helper container not removed")
            }
        }
    }
}
