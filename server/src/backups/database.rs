//! Berth's own database: `pg_dump --format=custom` into `database-<time>-<id>.dump`, the
//! connection read from the pool's options (the embedded cluster's socket, or
//! DATABASE_URL's host), its password only in `pg_dump`'s environment (PGPASSWORD), no
//! shell; a `<file>.manifest.json` beside it says where the secret key lives.

use super::{archive_file, BackupSettings, Made};
use bytes::Bytes;
use sqlx::PgPool;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use uuid::Uuid;

pub use app::domain::backup::KEY_WARNING;

pub async fn dump(pool: &PgPool, settings: &BackupSettings, id: Uuid) -> Result<Made, String> {
    let options = pool.connect_options();
    let file = format!(
        "database-{}-{}.dump",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        &id.simple().to_string()[..8]
    );
    let mut cmd = Command::new(&settings.pg_dump);
    cmd.arg("--format=custom").arg("--no-password");
    let host = match options.get_socket() {
        Some(dir) => dir.display().to_string(),
        None => options.get_host().to_owned(),
    };
    cmd.arg("--host")
        .arg(host)
        .arg("--port")
        .arg(options.get_port().to_string())
        .arg("--username")
        .arg(options.get_username())
        .arg("--dbname")
        .arg(options.get_database().unwrap_or("postgres"));
    cmd.env_remove("PGPASSWORD");
    if let Some(p) = &settings.database_password {
        cmd.env("PGPASSWORD", p);
    }
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", settings.pg_dump.display()))?;
    let writer = archive_file::Writer::start(&settings.dir, &file, false)?;
    let mut stdout = child.stdout.take().ok_or("no pg_dump output")?;
    let mut stderr = child.stderr.take().ok_or("no pg_dump errors")?;
    let errors = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    let mut buf = vec![0u8; 256 * 1024];
    let mut io_error = None;
    loop {
        match stdout.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                if let Err(e) = writer.send(Bytes::copy_from_slice(&buf[..n])) {
                    io_error = Some(e.to_string());
                    break;
                }
            }
            Err(e) => {
                io_error = Some(e.to_string());
                break;
            }
        }
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    let made = writer.finish().await;
    let errors = errors.await.unwrap_or_default();
    if !status.success() || io_error.is_some() {
        archive_file::remove(&settings.dir, &file);
        return Err(format!(
            "pg_dump failed ({status}): {}",
            io_error.unwrap_or_else(|| errors.trim().chars().take(500).collect())
        ));
    }
    let made = made?;
    let manifest = serde_json::json!({
        "format": "pg_dump --format=custom (restore with pg_restore)",
        "database": options.get_database(),
        "sha256": made.sha256,
        "created_at": chrono::Utc::now(),
        "secret_key": settings.secret_key_location,
        "warning": KEY_WARNING,
    });
    let path = archive_file::inside(&settings.dir, &format!("{file}.manifest.json"))?;
    std::fs::write(
        path,
        serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
    )
    .map_err(|e| format!("cannot write the manifest: {e}"))?;
    Ok(made)
}
