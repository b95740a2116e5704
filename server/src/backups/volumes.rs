//! A service's named volumes: backed up into `volumes-<service>-<time>-<id>.tar.gz` and
//! restored from one, each through a helper container made from the service's own image.
//! Stopping the service (for a backup when asked, always for a restore) goes through the
//! desired state: the service is marked stopped, the worker removes its replicas, and it is
//! started again afterwards the same way.

use super::{archive_file, Backups, Made};
use app::store::backups::{self as store, Claimed, VolumeSource};
use std::time::Instant;
use uuid::Uuid;

impl Backups {
    pub(super) async fn back_up_volumes(
        &self,
        job: &Claimed,
        service: Uuid,
    ) -> Result<Made, String> {
        let team = job.team_id.ok_or("a volume backup without a team")?;
        let source = store::volume_source(&self.pool, service)
            .await
            .map_err(|e| e.to_string())?;
        let image = source_image(&source)?;
        let stop = job.stop_service && !source.stopped;
        if stop {
            self.stop(team, service, "a backup").await?;
        }
        let file = format!(
            "volumes-{}-{}-{}.tar.gz",
            service.simple(),
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
            &job.id.simple().to_string()[..8]
        );
        let result = async {
            let writer = archive_file::Writer::start(&self.settings.dir, &file, true)?;
            let exported = self
                .engine
                .export_volumes(&image, &source.placement, &source.volumes, |chunk| {
                    writer.send(chunk)
                })
                .await;
            let made = writer.finish().await;
            match (exported, made) {
                (Ok(()), Ok(made)) => Ok(made),
                (Err(e), _) => {
                    archive_file::remove(&self.settings.dir, &file);
                    Err(format!("reading the volumes failed: {e}"))
                }
                (_, Err(e)) => Err(e),
            }
        }
        .await;
        if stop {
            self.start(team, service, "a backup").await?;
        }
        result
    }

    /// Downloads the archive first if it is gone from the backup folder but was uploaded;
    /// checks its checksum (before anything stops), stops the service, replaces
    /// its volumes with the archive's files, and starts it again if it ran.
    pub(super) async fn restore(&self, job: &Claimed) -> Result<(), String> {
        let (Some(team), Some(service)) = (job.team_id, job.service_id) else {
            return Err("only a service's volume backup can be restored here".into());
        };
        let file = job.file.as_deref().ok_or("the backup has no file")?;
        let path = self.path_of(file)?;
        if !path.exists() {
            self.fetch(job, file, &path).await?;
        }
        let actual = archive_file::sha256_of(path.clone()).await?;
        if Some(actual.as_str()) != job.sha256.as_deref() {
            return Err(format!(
                "the archive {file} does not match its checksum (expected {}, found {actual}): not restored, nothing stopped",
                job.sha256.as_deref().unwrap_or("none")
            ));
        }
        let source = store::volume_source(&self.pool, service)
            .await
            .map_err(|e| e.to_string())?;
        let image = source_image(&source)?;
        let stop = !source.stopped;
        if stop {
            self.stop(team, service, "a restore").await?;
        }
        let result = self
            .engine
            .import_volumes(
                &image,
                &source.placement,
                &source.volumes,
                archive_file::gunzip_stream(path),
            )
            .await
            .map_err(|e| format!("writing the volumes failed: {e}"));
        if stop {
            self.start(team, service, "a restore").await?;
        }
        result
    }

    async fn stop(&self, team: Uuid, service: Uuid, why: &str) -> Result<(), String> {
        store::set_stopped_for(&self.pool, team, service, true, why)
            .await
            .map_err(|e| format!("could not stop the service: {e}"))?;
        let deadline = Instant::now() + self.settings.stop_timeout;
        loop {
            match self.engine.managed_containers(Some(service)).await {
                Ok(c) if c.is_empty() => return Ok(()),
                Ok(_) | Err(_) if Instant::now() > deadline => {
                    let _ = self.start(team, service, why).await;
                    return Err("the service's containers did not stop in time".into());
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            }
        }
    }

    async fn start(&self, team: Uuid, service: Uuid, why: &str) -> Result<(), String> {
        store::set_stopped_for(&self.pool, team, service, false, why)
            .await
            .map_err(|e| format!("could not start the service again: {e}"))
    }
}

fn source_image(source: &VolumeSource) -> Result<String, String> {
    if source.volumes.is_empty() {
        return Err("the service has no volumes to back up".into());
    }
    source
        .image_id
        .clone()
        .ok_or_else(|| "the service has not run yet: no image to read its volumes with".into())
}
