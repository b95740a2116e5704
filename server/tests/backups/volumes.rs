//! A PostgreSQL service's volume backed up (stopped while archived), its table dropped,
//! restored from the dashboard's REST twin → the rows are back; a flipped byte in the
//! archive is refused before the service is stopped.

use super::pg::{notes, psql};
use super::{
    api_with_pgdata, audit_actions, back_up, container_of, helpers_left, postgres_with_notes,
    restore, sha256_file,
};
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn a_postgres_volume_backed_up_and_restored_brings_the_rows_back(pool: PgPool) {
    let (api, dir) = api_with_pgdata(pool).await;
    let db = postgres_with_notes(&api).await;

    // Back up now, stopping the service while its files are read.
    let backup = back_up(&api, &db, Some(json!({"stop_service": true}))).await;
    assert_eq!(backup["state"], "succeeded", "{backup:#}");
    let id = backup["id"].as_str().unwrap().to_owned();
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
    let container = container_of(&view);
    assert_eq!(notes(&view), ["first", "second"]);
    psql(&container, "DROP TABLE notes;");

    // A corrupted archive (one byte flipped) is refused before anything stops.
    let original = std::fs::read(&file).unwrap();
    let mut corrupted = original.clone();
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 0xff;
    std::fs::write(&file, &corrupted).unwrap();
    let refused = restore(&api, &id, 60, "restore refused").await;
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
    let restored = restore(&api, &id, 240, "restored").await;
    assert_eq!(restored["restore_state"], "succeeded", "{restored:#}");
    let view = api.running(&db, 1).await;
    assert_eq!(notes(&view), ["first", "second"]);
    assert_eq!(helpers_left(&api.server.instance), "", "helper removed");

    // Audited: who asked for the restore.
    let actions = audit_actions(&api, "backup").await;
    assert!(actions.contains(&"backup.restore".into()), "{actions:?}");
    assert!(actions.contains(&"backup.run".into()), "{actions:?}");
}
