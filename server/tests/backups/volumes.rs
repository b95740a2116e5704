//! A PostgreSQL service's volume backed up (stopped while archived), its table dropped,
//! restored from the dashboard's REST twin → the rows are back; a flipped byte in the
//! archive is refused before the service is stopped.

use super::pg::{self, notes, psql, ApiWithVolumes};
use super::{finished, helpers_left, sha256_file, until, worker};
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn a_postgres_volume_backed_up_and_restored_brings_the_rows_back(pool: PgPool) {
    let image = pg::image().await;
    let dir = tempfile::tempdir().unwrap();
    let api = ApiWithVolumes::start(pool, worker(dir.path()), vec!["pgdata"]).await;

    let db = api.create(pg::spec("db", &image, "pgdata")).await;
    let view = api.running(&db, 1).await;
    let container = view["containers"][0]["name"].as_str().unwrap().to_owned();
    psql(
        &container,
        "CREATE TABLE notes (id serial PRIMARY KEY, note text NOT NULL); \
         INSERT INTO notes (note) VALUES ('first'), ('second');",
    );

    // Back up now, stopping the service while its files are read.
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/services/{db}/backups"),
            Some(json!({"stop_service": true})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let backup = finished(&api, &id).await;
    assert_eq!(backup["state"], "succeeded", "{backup:#}");
    let file = dir.path().join(backup["file"].as_str().unwrap());
    let sha = backup["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64, "{backup:#}");
    assert_eq!(sha256_file(&file), sha, "the stored checksum is the file's");
    let sidecar = std::fs::read_to_string(
        file.with_file_name(format!("{}.sha256", backup["file"].as_str().unwrap())),
    )
    .unwrap();
    assert!(sidecar.starts_with(sha), "{sidecar}");
    assert_eq!(helpers_left(&api.server.instance), "", "helper removed");

    // Listed for the service.
    let (_, list) = api
        .call(Method::GET, &format!("/api/v1/services/{db}/backups"), None)
        .await;
    assert_eq!(list[0]["id"], id.as_str(), "{list:#}");

    // Started again after the backup; then the table is dropped by mistake.
    let view = api.running(&db, 1).await;
    let container = view["containers"][0]["name"].as_str().unwrap().to_owned();
    assert_eq!(notes(&view), ["first", "second"]);
    psql(&container, "DROP TABLE notes;");

    // A corrupted archive (one byte flipped) is refused before anything stops.
    let original = std::fs::read(&file).unwrap();
    let mut corrupted = original.clone();
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 0xff;
    std::fs::write(&file, &corrupted).unwrap();
    let (status, body) = api
        .call(Method::POST, &format!("/api/v1/backups/{id}/restore"), None)
        .await;
    assert_eq!(status, 202, "{body}");
    let refused = until(
        &api,
        &format!("/api/v1/backups/{id}"),
        60,
        "restore refused",
        |b| b["restore_state"] == "failed",
    )
    .await;
    assert!(
        refused["restore_error"]
            .as_str()
            .unwrap()
            .contains("does not match its checksum"),
        "{refused:#}"
    );
    let after = api.service(&db).await;
    assert_eq!(
        after["containers"][0]["name"],
        container.as_str(),
        "not stopped: {after:#}"
    );
    assert_eq!(after["stopped"], false, "{after:#}");

    // The intact archive restores: stop → restore → start; the rows are back.
    std::fs::write(&file, &original).unwrap();
    let (status, body) = api
        .call(Method::POST, &format!("/api/v1/backups/{id}/restore"), None)
        .await;
    assert_eq!(status, 202, "{body}");
    let restored = until(
        &api,
        &format!("/api/v1/backups/{id}"),
        240,
        "restored",
        |b| b["restore_state"] == "succeeded" || b["restore_state"] == "failed",
    )
    .await;
    assert_eq!(restored["restore_state"], "succeeded", "{restored:#}");
    let view = api.running(&db, 1).await;
    assert_eq!(notes(&view), ["first", "second"]);
    assert_eq!(helpers_left(&api.server.instance), "", "helper removed");

    // Audited: who asked for the restore.
    let (_, audit) = api
        .call(Method::GET, "/api/v1/audit?action=backup", None)
        .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"backup.restore"), "{actions:?}");
    assert!(actions.contains(&"backup.run"), "{actions:?}");
}
