//! Berth's own database: dumped by the leader (instance owner's request), restored with
//! `pg_restore` into a fresh database; a Berth started on it with the same key serves the
//! same services and opens their secrets (another key cannot).

use super::common::team::{call, join, Caller};
use super::common::{api::Api, TestServer, EMAIL, PASSWORD};
use super::{until, worker};
use app::domain::service::ServiceSpec;
use reqwest::Method;
use serde_json::json;
use sqlx::{Connection, PgPool};

#[sqlx::test(migrations = false)]
async fn berth_restored_from_its_dump_serves_the_same_services(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let mut api = Api::start(pool.clone(), worker(dir.path())).await;
    let mut spec = api.spec("web");
    spec["env"] = json!([{"key": "API_TOKEN", "value": "hunter2", "secret": true}]);
    let svc = api.create(spec).await;

    // Not for a team admin: a dump holds every team's data.
    let owner = Caller::Cookie(api.client.clone());
    let admin = join(&api.server, &owner, "Alan Admin", "admin").await;
    for (method, path) in [
        ("POST", "/api/v1/instance/backups"),
        ("GET", "/api/v1/instance/backups"),
    ] {
        let (status, body) = call(&api.server, &admin.cookie(), method, path, None).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
    }

    // The instance owner's team page offers it, with the key warning; an admin's does not.
    let page = api.server.page(&api.client, "/team").await;
    assert!(page.contains("id=\"database-backups\""), "{page}");
    assert!(page.contains("cannot open the sealed secrets"), "{page}");
    let Caller::Cookie(admin_client) = admin.cookie() else {
        unreachable!()
    };
    let page = api.server.page(&admin_client, "/team").await;
    assert!(!page.contains("id=\"database-backups\""), "{page}");

    let (status, body) = api
        .call(Method::POST, "/api/v1/instance/backups", None)
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let list = until(&api, "/api/v1/instance/backups", 120, "the dump", |l| {
        l[0]["state"] == "succeeded" || l[0]["state"] == "failed"
    })
    .await;
    let dump = &list[0];
    assert_eq!(
        (dump["id"].as_str(), &dump["state"]),
        (Some(id.as_str()), &json!("succeeded")),
        "{dump:#}"
    );
    let file = dir.path().join(dump["file"].as_str().unwrap());
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            file.with_file_name(format!("{}.manifest.json", dump["file"].as_str().unwrap())),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        manifest["warning"]
            .as_str()
            .unwrap()
            .contains("cannot open the sealed secrets"),
        "{manifest:#}"
    );
    let (_, before) = api.call(Method::GET, "/api/v1/services", None).await;
    api.server.stop_worker_and_clean_up();

    // A fresh database, filled by pg_restore as the README says.
    let options = (*pool.connect_options()).clone();
    let fresh = format!("berth_restored_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect_with(&options.clone().database("postgres"))
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {fresh}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let host = options
        .get_socket()
        .map(|s| s.display().to_string())
        .unwrap_or_else(|| options.get_host().to_owned());
    let out =
        std::process::Command::new(server::backups::default_pg_dump().with_file_name("pg_restore"))
            .args(["--no-owner", "--host", &host, "--port"])
            .arg(options.get_port().to_string())
            .args(["--username", options.get_username(), "--dbname", &fresh])
            .arg(&file)
            .output()
            .unwrap();
    assert!(
        out.status.success(),
        "pg_restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let restored = PgPool::connect_with(options.clone().database(&fresh))
        .await
        .unwrap();
    {
        // A Berth on the restored database, with the same key: the same services.
        let server = TestServer::start(restored.clone()).await;
        let client = server.client();
        let r = server.sign_in_json(&client, EMAIL, PASSWORD, None).await;
        assert_eq!(r.status(), 200);
        let after: serde_json::Value = client
            .get(server.url("/api/v1/services"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].to_string() + &s["name"].to_string())
                .collect()
        };
        assert_eq!(ids(&after), ids(&before));
        assert!(ids(&after)[0].contains(&svc));
    }
    // Its secret opens with the same key, and not with another.
    let service: uuid::Uuid = svc.parse().unwrap();
    let sqlx::types::Json(stored): sqlx::types::Json<ServiceSpec> =
        sqlx::query_scalar("SELECT spec FROM services WHERE id = $1")
            .bind(service)
            .fetch_one(&restored)
            .await
            .unwrap();
    let key = server::secrets::SecretBox::from_key_bytes(&[9u8; 32]).unwrap();
    let mut opened = stored.clone();
    app::store::spec_secrets::open_env(&mut opened, service, &key).unwrap();
    assert_eq!(opened.env[0].value, "hunter2");
    let other = server::secrets::SecretBox::from_key_bytes(&[7u8; 32]).unwrap();
    let mut wrong = stored;
    assert!(app::store::spec_secrets::open_env(&mut wrong, service, &other).is_err());

    restored.close().await;
    sqlx::query(&format!("DROP DATABASE {fresh} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}
