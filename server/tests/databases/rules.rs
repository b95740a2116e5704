//! The replica rule of writable volumes, through the REST API (create, scale, replace,
//! rollback).

use super::common::quick_worker;
use super::common::team::{call, Caller};
use super::pg::ApiWithVolumes;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

fn replicas_error(body: &Value) -> String {
    body["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("field errors: {body:#}"))
        .iter()
        .find(|e| e["field"] == "replicas")
        .unwrap_or_else(|| panic!("an error on replicas: {body:#}"))["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[sqlx::test(migrations = false)]
async fn a_writable_volume_allows_one_replica_unless_shared_or_read_only(pool: PgPool) {
    let api = ApiWithVolumes::start(pool, quick_worker(), vec!["files", "assets"]).await;
    let with = |replicas: u32, volume: Value| {
        let mut spec = api.spec("files");
        spec["replicas"] = json!(replicas);
        spec["volumes"] = json!([volume]);
        spec
    };
    let files = json!({"name": "files", "path": "/data"});

    // Two replicas on one writable volume: refused, saying why; nothing is created.
    let (status, body) = api
        .call(
            Method::POST,
            "/api/v1/services",
            Some(with(2, files.clone())),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let why = replicas_error(&body);
    assert!(why.contains("The volume files is writable"), "{why}");
    assert!(why.contains("shared"), "{why}");
    assert_eq!(api.server.count("services").await, 0);

    // One replica is fine; scaling it to two is refused the same way.
    let id = api.create(with(1, files.clone())).await;
    let (status, body) = api.act(&id, "scale", Some(json!({"replicas": 2}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(replicas_error(&body).contains("files is writable"));
    assert_eq!(api.service(&id).await["spec"]["replicas"], 1);

    // Declared shared (the application handles concurrent access): two replicas roll out.
    let shared = json!({"name": "files", "path": "/data", "shared": true});
    let changed = api.put(&id, with(2, shared)).await;
    assert_eq!(changed["service"]["spec"]["volumes"][0]["shared"], true);
    api.running(&id, 2).await;

    // Read-only mounts are fine too.
    let assets = json!({"name": "assets", "path": "/assets", "read_only": true});
    let mut spec = with(3, assets);
    spec["name"] = json!("assets");
    api.create(spec).await;
}

/// A rollback is held to the rule too: a deployment recorded with two replicas on a
/// writable volume (as a Berth from before the rule left it; the test writes that record)
/// is refused as a rollback target, naming why, and nothing changes.
#[sqlx::test(migrations = false)]
async fn a_rollback_to_replicas_sharing_a_writable_volume_is_refused(pool: PgPool) {
    let s = super::common::TestServer::start(pool).await;
    let owner = Caller::Cookie(s.owner().await);
    let spec = json!({"name": "files", "image": "nginx",
                      "volumes": [{"name": "files", "path": "/data"}]});
    let (status, body) = call(&s, &owner, "POST", "/api/v1/services", Some(spec)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    sqlx::query(
        "UPDATE deployments SET state = 'succeeded', spec = jsonb_set(spec, '{replicas}', '2')
         WHERE service_id = $1::uuid AND number = 1",
    )
    .bind(&id)
    .execute(&s.pool)
    .await
    .unwrap();
    let deployments = s.count("deployments").await;

    let path = format!("/api/v1/services/{id}/rollback");
    let (status, body) = call(&s, &owner, "POST", &path, Some(json!({"deployment": 1}))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "deployment", "{body}");
    let why = body["fields"][0]["message"].as_str().unwrap();
    assert!(why.contains("The volume files is writable"), "{why}");
    assert_eq!(s.count("deployments").await, deployments, "no deployment");
    let (_, view) = call(&s, &owner, "GET", &format!("/api/v1/services/{id}"), None).await;
    assert_eq!(view["spec"]["replicas"], 1, "{view:#}");
}
