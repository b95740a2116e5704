//! Backups, run by the leader beside the reconciler: scheduled plans queue a backup when
//! their cron time comes; queued backups and restores are claimed one at a time and run —
//! a service's volumes ([`volumes`]) or Berth's own database ([`database`]) — into the
//! backup folder, each archive with its SHA-256 ([`archive_file`]); retention follows each
//! backup. When the backup's team has an S3-compatible destination the archive is also
//! uploaded there ([`remote`]); retention removes the remote objects too, and a restore
//! whose local archive is gone downloads it first. A failure (an upload's too) is recorded
//! on the backup, in the audit log, and by [`on_backup_failed`].

mod archive_file;
mod database;
mod remote;
mod volumes;

use app::domain::notification::{Event, NotifyEvent};
use app::store::backups::{self as store, Claimed};
use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::time::Duration;
use uuid::Uuid;

use crate::engine::Engine;

/// Where backups go and how Berth's database is dumped.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    /// BERTH_BACKUP_DIR (default `<data dir>/backups`): created (mode 0700) when needed.
    pub dir: PathBuf,
    /// The `pg_dump` program (Debian's PostgreSQL client).
    pub pg_dump: PathBuf,
    /// The password of DATABASE_URL, handed to `pg_dump` in its environment (PGPASSWORD).
    pub database_password: Option<String>,
    /// Where the key that seals secrets lives, written into each database backup's manifest.
    pub secret_key_location: String,
    /// How often the leader looks for queued work and due schedules.
    pub poll: Duration,
    /// How long a stop (or start) for a backup may take before it fails.
    pub stop_timeout: Duration,
    /// BERTH_TIME_ZONE: plans' cron schedules are read in it (as jobs' are).
    pub time_zone: chrono_tz::Tz,
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings {
            dir: std::env::temp_dir().join("berth-backups"),
            pg_dump: default_pg_dump(),
            database_password: None,
            secret_key_location: "BERTH_SECRET_KEY or <data dir>/secret.key".into(),
            poll: Duration::from_secs(1),
            stop_timeout: Duration::from_secs(120),
            time_zone: chrono_tz::Tz::UTC,
        }
    }
}

/// The newest Debian `pg_dump` (`/usr/lib/postgresql/<n>/bin`), else `pg_dump` on PATH.
pub fn default_pg_dump() -> PathBuf {
    crate::db::postgres_bin_dir(None)
        .map(|d| d.join("pg_dump"))
        .ok()
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("pg_dump"))
}

/// The password of a `postgres://user:password@host/db` URL, its `%XX` escapes decoded.
pub fn password_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let raw = url.password()?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(&raw[i + 1..i + 3], 16).ok())
            .flatten();
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// What a backup run needs.
#[derive(Clone)]
pub struct Backups {
    pub pool: PgPool,
    pub engine: Engine,
    /// Opens S3 destinations' secret access keys.
    pub secrets: app::store::secret_box::SecretBox,
    pub settings: BackupSettings,
}

impl Backups {
    /// Runs while this process leads: never returns.
    pub async fn run(self) {
        if let Err(e) = store::requeue_running(&self.pool).await {
            tracing::warn!(error = %e, "backups: could not settle what was running");
        }
        loop {
            if let Err(e) = self.queue_due().await {
                tracing::warn!(error = %e, "backups: schedules not read");
            }
            match store::claim(&self.pool).await {
                Ok(Some(job)) => self.run_one(job).await,
                Ok(None) => tokio::time::sleep(self.settings.poll).await,
                Err(e) => {
                    tracing::warn!(error = %e, "backups: queue not read");
                    tokio::time::sleep(self.settings.poll).await;
                }
            }
        }
    }

    /// Queues a backup for each plan (a service's, or Berth's database's) whose cron time,
    /// in the instance's time zone, has come since its last run.
    async fn queue_due(&self) -> Result<(), app::store::StoreError> {
        let now = Utc::now();
        let tz = self.settings.time_zone;
        for plan in store::scheduled(&self.pool).await? {
            if app::domain::backup::is_due(&plan.schedule, tz, plan.last_run_at, now) {
                let id = store::queue_scheduled(&self.pool, &plan, now).await?;
                tracing::info!(service = %plan.service_id, backup = %id, "backups: scheduled backup queued");
            }
        }
        if let Some((schedule, team, last_run)) = store::database_scheduled(&self.pool).await? {
            if app::domain::backup::is_due(&schedule, tz, last_run, now) {
                let id = store::queue_scheduled_database(&self.pool, team, now).await?;
                tracing::info!(backup = %id, "backups: scheduled database dump queued");
            }
        }
        Ok(())
    }

    async fn run_one(&self, job: Claimed) {
        if job.restore {
            let result = self.restore(&job).await;
            if let Err(e) = &result {
                tracing::warn!(backup = %job.id, error = %e, "backups: restore failed");
                let _ = store::audit_failure(
                    &self.pool,
                    job.team_id,
                    job.service_id,
                    "backup.restore_failed",
                    json!({"backup": job.id, "error": e}),
                )
                .await;
            }
            let _ = store::finish_restore(&self.pool, job.id, result.err().as_deref()).await;
            return;
        }
        let result = match job.service_id {
            Some(service) => self.back_up_volumes(&job, service).await,
            None => database::dump(&self.pool, &self.settings, job.id).await,
        };
        let team = job.team_id.or(job.via_team_id);
        let result = match result {
            Ok(done) => match self.upload(&job, &done).await {
                Ok(()) => Ok(done),
                Err(e) => {
                    let _ = store::fail_upload(
                        &self.pool,
                        job.id,
                        (&done.file, done.size as i64, &done.sha256),
                        &e,
                    )
                    .await;
                    on_backup_failed(&self.pool, team, job.service_id, job.id, &e).await;
                    return;
                }
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(done) => {
                let _ = store::finish(
                    &self.pool,
                    job.id,
                    Ok((&done.file, done.size as i64, &done.sha256)),
                )
                .await;
                tracing::info!(backup = %job.id, file = %done.file, bytes = done.size, "backups: backup made");
                if let Err(e) = self.apply_retention(job.service_id).await {
                    tracing::warn!(error = %e, "backups: retention not applied");
                }
            }
            Err(e) => {
                let _ = store::finish(&self.pool, job.id, Err(&e)).await;
                on_backup_failed(&self.pool, team, job.service_id, job.id, &e).await;
            }
        }
    }

    /// Removes the files — local, and remote where they were uploaded — of the backups
    /// the plan's retention (a service's, or Berth's database's) expires, and marks their
    /// rows. A remote object that cannot be removed now keeps its row for the next time.
    async fn apply_retention(&self, service: Option<Uuid>) -> Result<(), app::store::StoreError> {
        let (keep_last, max_age_days) = store::retention(&self.pool, service).await?;
        let finished = store::finished(&self.pool, service).await?;
        let kept = finished.iter().map(|f| f.kept).collect();
        for id in app::domain::backup::expired(kept, keep_last, max_age_days, Utc::now()) {
            let Some(f) = finished.iter().find(|f| f.kept.id == id) else {
                continue;
            };
            if let Err(e) = self.remove_remote(f).await {
                tracing::warn!(backup = %id, error = %e, "backups: remote copy not removed; retried after the next backup");
                continue;
            }
            if let Some(file) = &f.file {
                archive_file::remove(&self.settings.dir, file);
            }
            store::mark_deleted(&self.pool, id).await?;
        }
        Ok(())
    }

    /// The path of a stored archive (a bare file name in the backup folder).
    fn path_of(&self, file: &str) -> Result<PathBuf, String> {
        archive_file::inside(&self.settings.dir, file)
    }
}

/// A backup that failed: logged, written to the team's audit log, and queued as a
/// "backup failed" notification to the team's channels that hear it (for a dump of Berth's
/// database: the team it was made for, see `store::backups::queue_database`; none: logged
/// only).
pub async fn on_backup_failed(
    pool: &PgPool,
    team: Option<Uuid>,
    service: Option<Uuid>,
    backup: Uuid,
    error: &str,
) {
    tracing::warn!(%backup, ?service, error, "backups: backup failed");
    if let Err(e) = store::audit_failure(
        pool,
        team,
        service,
        "backup.failed",
        json!({"backup": backup, "error": error}),
    )
    .await
    {
        tracing::warn!(error = %e, "backups: failure not audited");
    }
    let Some(team) = team else { return };
    let event = Event {
        service_id: service,
        ..Event::plain(
            NotifyEvent::BackupFailed,
            format!("Backup {backup} failed: {error}"),
        )
    };
    if let Err(e) = app::store::notifications::enqueue(pool, team, &event).await {
        tracing::warn!(error = %e, "backups: failure not notified");
    }
}

/// A finished archive.
#[derive(Debug, Clone)]
pub struct Made {
    /// Its name in the backup folder.
    pub file: String,
    pub size: u64,
    pub sha256: String,
}

/// Whether `dir` exists or could be made (mode 0700).
fn ensure_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create the backup folder {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::password_of;

    #[test]
    fn the_password_of_a_database_url_is_decoded() {
        assert_eq!(
            password_of("postgres://berth:p%40ss%20w@db:5432/berth").as_deref(),
            Some("p@ss w")
        );
        assert_eq!(password_of("postgres://berth@db/berth"), None);
        assert_eq!(password_of("not a url"), None);
    }
}
