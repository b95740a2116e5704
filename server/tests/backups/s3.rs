//! An S3-compatible destination (a real S3 server: moto's, on loopback): refused while
//! private targets are off (422 naming `endpoint`), then a PostgreSQL service's volume
//! backed up locally and to the bucket, its local archive deleted, restored from the
//! bucket → the rows are back; retention removes the remote object too. Berth's own
//! database dumped on a schedule (every 2 s, seconds first) into the bucket with a
//! checksum that matches; an unreachable bucket fails the dump, with the reason.

use super::common::api::Api;
use super::common::moto::Moto;
use super::pg::{notes, psql};
use super::{
    api_with_pgdata, audit_actions, back_up, container_of, postgres_with_notes, restore,
    sha256_file, until, worker,
};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

const BUCKET: &str = "berth-backups";
const SECRET: &str = "moto-secret-key-0001";

fn destination(moto: &Moto, prefix: &str) -> Value {
    json!({"endpoint": moto.endpoint(), "region": "us-east-1", "bucket": BUCKET,
           "prefix": prefix, "access_key_id": "berth-test", "secret_access_key": SECRET,
           "path_style": true})
}

/// Allows private targets (moto listens on loopback), then saves moto's bucket under
/// `prefix` as the destination; the saved destination.
async fn save_destination(api: &Api, moto: &Moto, prefix: &str) -> Value {
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/v1/instance/settings",
            Some(json!({"allow_private_targets": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/v1/backup-destination",
            Some(destination(moto, prefix)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[sqlx::test(migrations = false)]
async fn a_volume_backed_up_to_s3_restores_from_there_and_retention_prunes_it(pool: PgPool) {
    let moto = Moto::start().await;
    moto.create_bucket(BUCKET).await;
    let (api, dir) = api_with_pgdata(pool).await;

    // Loopback is refused while private targets are off: 422 on `endpoint`, nothing saved.
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/v1/backup-destination",
            Some(destination(&moto, "prod/volumes")),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "endpoint", "{body}");
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("loopback"),
        "{body}"
    );
    let (status, _) = api
        .call(Method::GET, "/api/v1/backup-destination", None)
        .await;
    assert_eq!(status, 404, "nothing saved");

    // The instance owner allows private targets; then it saves, never showing the secret.
    let body = save_destination(&api, &moto, "prod/volumes").await;
    assert_eq!(body["has_secret"], true, "{body}");
    assert!(!body.to_string().contains(SECRET), "{body}");
    let (status, body) = api
        .call(Method::POST, "/api/v1/backup-destination/test", None)
        .await;
    assert_eq!((status, &body["ok"]), (200, &json!(true)), "{body}");

    let db = postgres_with_notes(&api).await;
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/api/v1/services/{db}/backup-plan"),
            Some(json!({"keep_last": 1})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["time_zone"], "UTC", "{body}");

    // Back up (stopped while archived): written locally and uploaded, the same bytes.
    let backup = back_up(&api, &db, Some(json!({"stop_service": true}))).await;
    assert_eq!(backup["state"], "succeeded", "{backup:#}");
    let id = backup["id"].as_str().unwrap().to_owned();
    let file = backup["file"].as_str().unwrap().to_owned();
    let key = format!("prod/volumes/{file}");
    assert_eq!(
        backup["remote"],
        format!("s3://{BUCKET}/{key}"),
        "{backup:#}"
    );
    let remote = moto.object(BUCKET, &key).await.expect("uploaded");
    assert_eq!(sha256(&remote), backup["sha256"].as_str().unwrap());
    let local = dir.path().join(&file);
    assert_eq!(sha256_file(&local), backup["sha256"].as_str().unwrap());
    assert!(moto
        .object(BUCKET, &format!("{key}.sha256"))
        .await
        .is_some());

    // The table is dropped by mistake, and the local archive is gone too.
    let view = api.running(&db, 1).await;
    psql(&container_of(&view), "DROP TABLE notes;");
    std::fs::remove_file(&local).unwrap();

    // Restore: downloaded from the bucket, checksum checked, rows back.
    let restored = restore(&api, &id, 240, "restored from S3").await;
    assert_eq!(restored["restore_state"], "succeeded", "{restored:#}");
    assert!(local.exists(), "downloaded into the backup folder");
    let view = api.running(&db, 1).await;
    assert_eq!(notes(&view), ["first", "second"]);

    // Keeping 1: the next backup removes the first, locally and in the bucket.
    let second = back_up(&api, &db, None).await;
    assert_eq!(second["state"], "succeeded", "{second:#}");
    let second_key = format!("prod/volumes/{}", second["file"].as_str().unwrap());
    assert!(moto.object(BUCKET, &second_key).await.is_some());
    assert_eq!(
        moto.object(BUCKET, &key).await,
        None,
        "the first object is gone"
    );
    assert!(!local.exists(), "the first local archive is gone");
    let (_, list) = api
        .call(Method::GET, &format!("/api/v1/services/{db}/backups"), None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");

    // Audited: the destination saved and tested.
    let actions = audit_actions(&api, "backup.destination").await;
    assert!(
        actions.contains(&"backup.destination.save".into()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"backup.destination.test".into()),
        "{actions:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn berths_database_is_dumped_on_schedule_into_the_bucket(pool: PgPool) {
    let moto = Moto::start().await;
    moto.create_bucket(BUCKET).await;
    let dir = tempfile::tempdir().unwrap();
    let mut api = Api::start(pool, worker(dir.path())).await;
    save_destination(&api, &moto, "db").await;

    // A wrong schedule is refused naming it; a plan every 2 s shows its next runs.
    let plan = "/api/v1/instance/backup-plan";
    let (status, body) = api
        .call(Method::PUT, plan, Some(json!({"schedule": "often"})))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "schedule", "{body}");
    let (status, body) = api
        .call(
            Method::PUT,
            plan,
            Some(json!({"schedule": "*/2 * * * * *", "keep_last": 2})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["time_zone"], "UTC", "{body}");
    assert_eq!(body["next_runs"].as_array().unwrap().len(), 5, "{body}");

    let list = until(
        &api,
        "/api/v1/instance/backups",
        90,
        "a scheduled dump",
        |l| {
            l.as_array()
                .unwrap()
                .iter()
                .any(|b| b["trigger"] == "schedule" && b["state"] == "succeeded")
        },
    )
    .await;
    // The schedule stops; retention kept at most the newest two (and the one running).
    let (status, body) = api
        .call(Method::PUT, plan, Some(json!({"keep_last": 2})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(list.as_array().unwrap().len() <= 3, "{list:#}");
    let dump = list
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["trigger"] == "schedule" && b["state"] == "succeeded")
        .unwrap()
        .clone();
    let file = dump["file"].as_str().unwrap();
    let sha = dump["sha256"].as_str().unwrap();
    let remote = dump["remote"].as_str().unwrap();
    assert_eq!(remote, format!("s3://{BUCKET}/db/{file}"), "{dump:#}");
    let object = moto.object(BUCKET, &format!("db/{file}")).await;
    // It may have been pruned by a newer dump since; if it is there it is the same bytes.
    if let Some(bytes) = object {
        assert_eq!(sha256(&bytes), sha, "the uploaded dump's checksum");
    }
    if dir.path().join(file).exists() {
        assert_eq!(sha256_file(&dir.path().join(file)), sha);
    }
    let (_, list) = api
        .call(Method::GET, "/api/v1/instance/backups", None)
        .await;
    let newest = list
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["state"] == "succeeded")
        .unwrap()
        .clone();
    let bytes = moto
        .object(BUCKET, &format!("db/{}", newest["file"].as_str().unwrap()))
        .await
        .expect("the newest dump is in the bucket");
    assert_eq!(sha256(&bytes), newest["sha256"].as_str().unwrap());
    let manifest = moto
        .object(
            BUCKET,
            &format!("db/{}.manifest.json", newest["file"].as_str().unwrap()),
        )
        .await
        .expect("the manifest is uploaded beside it");
    assert!(String::from_utf8_lossy(&manifest).contains("cannot open the sealed secrets"));

    // The bucket's server is gone: the dump fails, saying it was not uploaded, and the
    // team that made it hears it (audit `backup.failed`).
    drop(moto);
    let (status, body) = api
        .call(Method::POST, "/api/v1/instance/backups", None)
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let list = until(
        &api,
        "/api/v1/instance/backups",
        120,
        "the dump failed",
        |l| {
            l.as_array()
                .unwrap()
                .iter()
                .any(|b| b["id"] == id.as_str() && b["state"] == "failed")
        },
    )
    .await;
    let failed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == id.as_str())
        .unwrap();
    assert!(
        failed["error"].as_str().unwrap().contains("not uploaded"),
        "{failed:#}"
    );
    let (_, audit) = api
        .call(Method::GET, "/api/v1/audit?action=backup.failed", None)
        .await;
    assert!(audit["entries"].to_string().contains(&id), "{audit:#}");
    api.server.stop_worker_and_clean_up();
}
