//! Backups that restore (issue 20): a real PostgreSQL service's volume backed up, its table
//! dropped, restored from the archive → the rows are back (a corrupted archive is refused
//! before anything stops); Berth's own database dumped, restored into a fresh database with
//! `pg_restore`, and a Berth on it with the same key serves the same services and opens
//! their secrets; retention keeps the newest N; an S3 destination (moto's real S3
//! server) receives volume backups and scheduled database dumps, and restores from it.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../databases/pg.rs"]
mod pg;

mod database;
mod retention;
mod s3;
mod volumes;

use common::api::Api;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// The worker settings of these tests: backups into `dir`, looked for often.
pub fn worker(dir: &Path) -> server::worker::WorkerSettings {
    let mut w = common::quick_worker();
    w.deploy_timeout = Duration::from_secs(90);
    w.backups = server::backups::BackupSettings {
        dir: dir.to_owned(),
        poll: Duration::from_millis(200),
        ..Default::default()
    };
    w
}

/// `GET path` until `done` says so (at most `secs`); the last answer.
pub async fn until(
    api: &Api,
    path: &str,
    secs: u64,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (status, body) = api.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "{what}: still {body:#}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A backup once it has finished (succeeded or failed).
pub async fn finished(api: &Api, id: &str) -> Value {
    until(
        api,
        &format!("/api/v1/backups/{id}"),
        240,
        "the backup finished",
        |b| b["state"] == "succeeded" || b["state"] == "failed",
    )
    .await
}

/// A Berth whose backups go to the returned folder and whose team volume `pgdata` is
/// removed after the test.
pub async fn api_with_pgdata(pool: sqlx::PgPool) -> (pg::ApiWithVolumes, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let api = pg::ApiWithVolumes::start(pool, worker(dir.path()), vec!["pgdata"]).await;
    (api, dir)
}

/// Creates a PostgreSQL service `db` (data in volume `pgdata`), waits until it runs and
/// gives it a table `notes` holding `first` and `second`; the service's id.
pub async fn postgres_with_notes(api: &Api) -> String {
    let image = pg::image().await;
    let db = api.create(pg::spec("db", &image, "pgdata")).await;
    let view = api.running(&db, 1).await;
    pg::psql(
        &container_of(&view),
        "CREATE TABLE notes (id serial PRIMARY KEY, note text NOT NULL); \
         INSERT INTO notes (note) VALUES ('first'), ('second');",
    );
    db
}

/// The name of a service view's first container.
pub fn container_of(view: &Value) -> String {
    view["containers"][0]["name"].as_str().unwrap().to_owned()
}

/// Backs service `service` up now (`body`: the request's, e.g. `stop_service`); the
/// backup once it has finished.
pub async fn back_up(api: &Api, service: &str, body: Option<Value>) -> Value {
    let path = format!("/api/v1/services/{service}/backups");
    let (status, body) = api.call(reqwest::Method::POST, &path, body).await;
    assert_eq!(status, 202, "{body}");
    finished(api, body["id"].as_str().unwrap()).await
}

/// Restores backup `id`; the backup once its restore has finished (succeeded or failed,
/// at most `secs`).
pub async fn restore(api: &Api, id: &str, secs: u64, what: &str) -> Value {
    let path = format!("/api/v1/backups/{id}");
    let (status, body) = api
        .call(reqwest::Method::POST, &format!("{path}/restore"), None)
        .await;
    assert_eq!(status, 202, "{body}");
    until(api, &path, secs, what, |b| {
        b["restore_state"] == "succeeded" || b["restore_state"] == "failed"
    })
    .await
}

/// The actions of the audit entries `GET /api/v1/audit?action={prefix}` answers.
pub async fn audit_actions(api: &Api, prefix: &str) -> Vec<String> {
    let path = format!("/api/v1/audit?action={prefix}");
    let (status, audit) = api.call(reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 200, "{audit}");
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect()
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// The backup helper containers of this instance still on the engine.
pub fn helpers_left(instance: &str) -> String {
    common::docker::docker(&[
        "ps",
        "-a",
        "-q",
        "--filter",
        &format!("label={}", server::engine::LABEL_BACKUP_HELPER),
        "--filter",
        &format!("label=berth.instance={instance}"),
    ])
}
