//! Retention: a plan keeping 2 backups removes the oldest file after the third; a plan
//! with a bad field is refused with the field named, nothing changed; a schedule runs by
//! itself.

use super::common::api::Api;
use super::pg::VolumeCleanup;
use super::{finished, worker};
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn keeping_two_of_three_removes_the_oldest(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let mut api = Api::start(pool, worker(dir.path())).await;
    let team = super::pg::team_id(&api.server.pool).await;
    let _volumes = VolumeCleanup {
        team,
        names: vec!["files"],
    };
    let mut spec = api.spec("files");
    spec["volumes"] = json!([{"name": "files", "path": "/data"}]);
    let svc = api.create(spec).await;
    api.running(&svc, 1).await;

    let plan = format!("/api/v1/services/{svc}/backup-plan");
    let (status, body) = api
        .call(
            Method::PUT,
            &plan,
            Some(json!({"keep_last": 0, "schedule": "often"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["schedule", "keep_last"], "{body}");
    let (_, unchanged) = api.call(Method::GET, &plan, None).await;
    assert_eq!(unchanged["keep_last"], json!(null), "{unchanged}");

    let (status, body) = api
        .call(
            Method::PUT,
            &plan,
            Some(json!({"keep_last": 2, "schedule": "0 3 * * *"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let mut files = Vec::new();
    for _ in 0..3 {
        let (status, body) = api
            .call(
                Method::POST,
                &format!("/api/v1/services/{svc}/backups"),
                None,
            )
            .await;
        assert_eq!(status, 202, "{body}");
        let b = finished(&api, body["id"].as_str().unwrap()).await;
        assert_eq!(b["state"], "succeeded", "{b:#}");
        files.push(dir.path().join(b["file"].as_str().unwrap()));
    }
    assert!(!files[0].exists(), "the oldest is gone");
    assert!(
        files[1].exists() && files[2].exists(),
        "the newest two stay"
    );
    let (_, list) = api
        .call(
            Method::GET,
            &format!("/api/v1/services/{svc}/backups"),
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list:#}");

    // A schedule runs by itself (every 2 s, seconds first), then stops when removed.
    let (status, body) = api
        .call(
            Method::PUT,
            &plan,
            Some(json!({"keep_last": 2, "schedule": "*/2 * * * * *"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let scheduled = super::until(
        &api,
        &format!("/api/v1/services/{svc}/backups"),
        60,
        "a scheduled backup",
        |l| {
            l.as_array()
                .unwrap()
                .iter()
                .any(|b| b["trigger"] == "schedule" && b["state"] == "succeeded")
        },
    )
    .await;
    assert!(
        scheduled.as_array().unwrap().len() <= 3,
        "retention still applies: {scheduled:#}"
    );
    let (status, body) = api
        .call(Method::PUT, &plan, Some(json!({"keep_last": 2})))
        .await;
    assert_eq!(status, 200, "{body}");
    api.server.stop_worker_and_clean_up();
}
