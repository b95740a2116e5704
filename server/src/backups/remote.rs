//! The S3-compatible copy of a backup: uploaded after the local archive is made (with its
//! `.sha256`, and a dump's manifest), removed with it by retention, downloaded again for a
//! restore whose local archive is gone. Each connects through `commands::s3`, which checks
//! the destination's address right before (private targets only when allowed).

use super::{Backups, Made};
use app::commands::backup_destination::open;
use app::store::backup_destinations as destinations;
use app::store::backups::{self as store, Claimed, Finished};
use std::path::Path;

/// The files uploaded beside an archive, when they exist.
const SIDECARS: [&str; 2] = [".sha256", ".manifest.json"];

impl Backups {
    /// Uploads a made archive to the destination of its team (a volume backup's team, a
    /// database dump's team) if that team has one, and records where it went; the error
    /// says what failed (the backup then counts as failed).
    pub(super) async fn upload(&self, job: &Claimed, made: &Made) -> Result<(), String> {
        let team = if job.service_id.is_some() {
            job.team_id
        } else {
            job.via_team_id
        };
        let Some(team) = team else { return Ok(()) };
        let stored = destinations::stored_of_team(&self.pool, team)
            .await
            .map_err(|e| e.to_string())?;
        let Some(stored) = stored else { return Ok(()) };
        let bucket_name = format!("s3://{}", stored.destination.bucket);
        let fail = |e: String| {
            format!(
                "the archive was made ({}) but not uploaded to {bucket_name}: {e}",
                made.file
            )
        };
        let bucket = open(&self.pool, &self.secrets, &stored)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let key = bucket.key(&made.file);
        bucket
            .upload(&self.path_of(&made.file)?, &key)
            .await
            .map_err(|e| fail(e.to_string()))?;
        for side in SIDECARS {
            let file = format!("{}{side}", made.file);
            let path = self.path_of(&file)?;
            if path.exists() {
                bucket
                    .upload(&path, &bucket.key(&file))
                    .await
                    .map_err(|e| fail(e.to_string()))?;
            }
        }
        store::record_remote(&self.pool, job.id, stored.id, &key, &bucket.url(&key))
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(backup = %job.id, remote = %bucket.url(&key), "backups: archive uploaded");
        Ok(())
    }

    /// Removes a backup's remote object and its sidecars (none, or a destination removed
    /// since: nothing to do).
    pub(super) async fn remove_remote(&self, f: &Finished) -> Result<(), String> {
        let (Some(destination), Some(key)) = (f.destination_id, &f.remote_key) else {
            return Ok(());
        };
        let Some(stored) = destinations::by_id(&self.pool, destination)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let bucket = open(&self.pool, &self.secrets, &stored)
            .await
            .map_err(|e| e.to_string())?;
        bucket.delete(key).await.map_err(|e| e.to_string())?;
        for side in SIDECARS {
            bucket
                .delete(&format!("{key}{side}"))
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Downloads a backup's archive into the backup folder (`to`) from where it was
    /// uploaded; the caller checks its SHA-256 next.
    pub(super) async fn fetch(&self, job: &Claimed, file: &str, to: &Path) -> Result<(), String> {
        let gone = || format!("the archive {file} is not in the backup folder");
        let (Some(destination), Some(key)) = (job.destination_id, &job.remote_key) else {
            return Err(format!("{} and was not uploaded anywhere", gone()));
        };
        let stored = destinations::by_id(&self.pool, destination)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{}, and its S3 destination was removed", gone()))?;
        super::ensure_dir(&self.settings.dir)?;
        let bucket = open(&self.pool, &self.secrets, &stored)
            .await
            .map_err(|e| format!("{}; fetching it: {e}", gone()))?;
        bucket
            .download(key, to)
            .await
            .map_err(|e| format!("{}; fetching it: {e}", gone()))?;
        tracing::info!(backup = %job.id, remote = %bucket.url(key), "backups: archive downloaded for a restore");
        Ok(())
    }
}
