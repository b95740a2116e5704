//! Deleting a service keeps its volumes unless asked: without the option the data stays
//! for a new service naming the volume; with it (REST `?volumes=delete`, or the dashboard's
//! checkbox posted without JavaScript) the volume goes — unless another service of the team
//! still mounts it.

use super::common::api::Api;
use super::common::debian_images;
use super::common::quick_worker;
use super::pg::{self, notes, psql, volume_exists, ApiWithVolumes};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn gone(api: &Api, id: &str) {
    api.until(id, 60, "the service deleted", |v| v["error"] == "not_found")
        .await;
}

#[sqlx::test(migrations = false)]
async fn deleting_a_service_keeps_its_volumes_unless_asked(pool: PgPool) {
    let image = pg::image().await;
    let mut worker = quick_worker();
    worker.deploy_timeout = std::time::Duration::from_secs(90);
    let api = ApiWithVolumes::start(pool, worker, vec!["pgdata"]).await;
    let team = api.cleanup.team;

    let db = api.create(pg::spec("db", &image, "pgdata")).await;
    let view = api.running(&db, 1).await;
    let container = view["containers"][0]["name"].as_str().unwrap().to_owned();
    psql(
        &container,
        "CREATE TABLE notes (id serial PRIMARY KEY, note text NOT NULL); \
         INSERT INTO notes (note) VALUES ('kept across deletion');",
    );

    // The page says how it rolls out and offers the volumes' deletion, unchecked.
    let page = api
        .server
        .page(&api.client, &format!("/services/{db}"))
        .await;
    assert!(
        page.contains("rolls out stop-first: the volume pgdata is writable"),
        "{page}"
    );
    let checkbox = page
        .split("<input")
        .filter_map(|i| i.split_once('>').map(|(tag, _)| tag))
        .find(|tag| tag.contains("id=\"delete-volumes\""))
        .expect("a checkbox to delete the volumes");
    assert!(
        !checkbox.contains("checked"),
        "unchecked by default: {checkbox}"
    );

    // A choice that is neither keep nor delete: refused, nothing changes.
    let (status, body) = api
        .call(
            Method::DELETE,
            &format!("/api/v1/services/{db}?volumes=yes"),
            None,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "volumes", "{body}");
    assert_eq!(api.service(&db).await["deleting"], false);

    // Deleted without the option: the volume and its rows stay.
    let (status, body) = api
        .call(Method::DELETE, &format!("/api/v1/services/{db}"), None)
        .await;
    assert_eq!((status, &body["volumes"]), (202, &json!("keep")), "{body}");
    gone(&api, &db).await;
    assert!(volume_exists(team, "pgdata"), "kept by default");

    // A new service naming the volume mounts the old data.
    let again = api.create(pg::spec("db-again", &image, "pgdata")).await;
    let view = api.running(&again, 1).await;
    assert_eq!(notes(&view), ["kept across deletion"]);

    // A web app of the team reaches it by its service name.
    let web_image = tokio::task::spawn_blocking(debian_images::web_app)
        .await
        .unwrap();
    let port = debian_images::WEB_PORT;
    let web = api
        .create(json!({
            "name": "notes",
            "image": web_image,
            "env": [{"key": "DATABASE_URL", "value":
                format!("postgresql://postgres:{}@db-again:5432/postgres", pg::PASSWORD)}],
            "ports": [{"container": port}],
            "health_check": {"probe": {"kind": "http", "path": "/", "port": port}, "interval_s": 1}
        }))
        .await;
    let view = api.running(&web, 1).await;
    let ip = view["containers"][0]["ip"].as_str().unwrap();
    let listed = reqwest::get(format!("http://{ip}:{port}/notes"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(listed, "kept across deletion\n");

    // Another service mounts it read-only: deleting the first with its volumes keeps it.
    let mut reader = api.spec("reader");
    reader["volumes"] = json!([{"name": "pgdata", "path": "/pgdata", "read_only": true}]);
    let reader = api.create(reader).await;
    api.running(&reader, 1).await;
    // Through the dashboard's confirmation, without JavaScript, the box ticked.
    let r = api
        .client
        .post(api.server.url("/api/service_action"))
        .header("accept", "text/html")
        .header("referer", api.server.url(&format!("/services/{again}")))
        .form(&[
            ("id", again.as_str()),
            ("action", "delete"),
            ("replicas", ""),
            ("volumes", "delete"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    gone(&api, &again).await;
    assert!(volume_exists(team, "pgdata"), "still mounted by reader");

    // The last service using it, deleted with its volumes: the volume is gone, audited.
    let (status, body) = api
        .call(
            Method::DELETE,
            &format!("/api/v1/services/{reader}?volumes=delete"),
            None,
        )
        .await;
    assert_eq!(
        (status, &body["volumes"]),
        (202, &json!("delete")),
        "{body}"
    );
    gone(&api, &reader).await;
    assert!(
        !volume_exists(team, "pgdata"),
        "deleted with its last service"
    );
    let (_, audit) = api
        .call(
            Method::GET,
            "/api/v1/audit?action=service.volumes_delete",
            None,
        )
        .await;
    let entries = audit["entries"].as_array().expect("audit entries");
    assert_eq!(entries.len(), 1, "{audit:#}");
    assert_eq!(entries[0]["target"], "reader", "{audit:#}");
    assert_eq!(
        entries[0]["summary"]["removed"],
        json!(["pgdata"]),
        "{audit:#}"
    );
    let (_, audit) = api
        .call(Method::GET, "/api/v1/audit?action=service.delete", None)
        .await;
    let choices: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["summary"]["volumes"])
        .collect();
    assert_eq!(
        choices,
        [&json!("delete"), &json!("delete"), &json!("keep")]
    );
}
