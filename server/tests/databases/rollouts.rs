//! A real PostgreSQL service keeps its rows across 3 redeploys, an env change, a rollback
//! and a `kill -9` of berth in the middle of a redeploy: each rollout stops the old server
//! before the new one opens the data directory, so none is rolled back.

use super::common::berth_process::{database_url, first_run, free_port, signed_in, Berth};
use super::common::docker::{docker, instance_containers, remove_instance};
use super::pg::{self, notes, psql, team_id, VolumeCleanup};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let body = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn view(&self, id: &str) -> Value {
        self.call(
            reqwest::Method::GET,
            &format!("/api/v1/services/{id}"),
            None,
        )
        .await
    }

    /// Waits until deployment `number` is live with one ready replica and nothing else
    /// runs; a rollout that fails fails the test with its reason.
    async fn live(&self, id: &str, number: i64) -> Value {
        let start = Instant::now();
        loop {
            let v = self.view(id).await;
            let d = &v["latest_deployment"];
            if d["number"] == number {
                assert!(
                    !matches!(d["state"].as_str(), Some("rolled_back" | "failed")),
                    "deployment #{number} did not go live: {d:#}"
                );
                if d["state"] == "succeeded"
                    && v["status"]["ready"] == 1
                    && v["containers"].as_array().map(Vec::len) == Some(1)
                {
                    return v;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "deployment #{number} not live: {v:#}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn log(&self, deployment: &Value) -> Vec<String> {
        let id = deployment["id"].as_str().unwrap();
        let body = self
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/deployments/{id}"),
                None,
            )
            .await;
        body["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["line"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The environment of the service's one container, as Docker has it.
fn container_env(view: &Value) -> Vec<String> {
    let name = view["containers"][0]["name"].as_str().unwrap();
    docker(&["inspect", "--format", "{{json .Config.Env}}", name])
        .parse::<Value>()
        .map(|v| serde_json::from_value(v).unwrap())
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn postgres_keeps_its_rows_across_redeploys_an_env_change_a_rollback_and_kill_9(
    pool: PgPool,
) {
    let image = pg::image().await;
    let url = database_url(&pool);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut berth = Berth::start(&url, data.path(), port, None).await;
    let instance = app::store::settings::instance_id(&pool)
        .await
        .unwrap()
        .to_string();
    struct Containers(String);
    impl Drop for Containers {
        fn drop(&mut self) {
            remove_instance(&self.0);
        }
    }
    let http = first_run(&berth.base).await;
    // Dropped in reverse order: the containers go before their volume.
    let _volumes = VolumeCleanup {
        team: team_id(&pool).await,
        names: vec!["pgdata"],
    };
    let _containers = Containers(instance.clone());
    let api = Client {
        http,
        base: berth.base.clone(),
    };

    let spec = pg::spec("db", &image, "pgdata");
    let created = api
        .call(
            reqwest::Method::POST,
            "/api/v1/services",
            Some(spec.clone()),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let v = api.live(&id, 1).await;
    let container = v["containers"][0]["name"].as_str().unwrap().to_owned();
    psql(
        &container,
        "CREATE TABLE notes (id serial PRIMARY KEY, note text NOT NULL); \
         INSERT INTO notes (note) VALUES ('one'), ('two');",
    );
    let rows = ["one", "two"];

    // Three redeploys: each replaces the server, stop-first, and the rows stay.
    for n in 2..=4 {
        api.call(
            reqwest::Method::POST,
            &format!("/api/v1/services/{id}/redeploy"),
            None,
        )
        .await;
        let v = api.live(&id, n).await;
        assert_ne!(v["containers"][0]["name"], container.as_str());
        assert_eq!(notes(&v), rows, "after redeploy #{n}");
        let log = api.log(&v["latest_deployment"]).await;
        assert!(
            log.iter().any(|l| l.contains(
                "stop-first: the volume pgdata is writable and cannot be opened by two replicas"
            )),
            "{log:#?}"
        );
    }

    // An env change rolls out (not rolled back) and the new server has the new env.
    let mut changed = spec.clone();
    changed["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "APP_MODE", "value": "changed"}));
    let answer = api
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/services/{id}"),
            Some(changed),
        )
        .await;
    assert_eq!(answer["change"], "rollout");
    let v = api.live(&id, 5).await;
    assert!(container_env(&v).contains(&"APP_MODE=changed".to_owned()));
    assert_eq!(notes(&v), rows, "after the env change");

    // Rolled back to #4 (before the env change): its env again, the rows still there.
    api.call(
        reqwest::Method::POST,
        &format!("/api/v1/services/{id}/rollback"),
        Some(json!({"deployment": 4})),
    )
    .await;
    let v = api.live(&id, 6).await;
    assert!(!container_env(&v).iter().any(|e| e.starts_with("APP_MODE=")));
    assert_eq!(notes(&v), rows, "after the rollback");
    psql(
        v["containers"][0]["name"].as_str().unwrap(),
        "INSERT INTO notes (note) VALUES ('three');",
    );
    let rows = ["one", "two", "three"];

    // kill -9 of berth in the middle of a redeploy; the next berth converges on one
    // server with every row.
    api.call(
        reqwest::Method::POST,
        &format!("/api/v1/services/{id}/redeploy"),
        None,
    )
    .await;
    let start = Instant::now();
    loop {
        let v = api.view(&id).await;
        if v["latest_deployment"]["number"] == 7 && v["latest_deployment"]["state"] == "in_progress"
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{v:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    berth.kill9();
    drop(berth);
    let berth = Berth::start(&url, data.path(), port, None).await;
    let api = Client {
        http: signed_in(&berth.base).await,
        base: berth.base.clone(),
    };
    let v = api.live(&id, 7).await;
    assert_eq!(instance_containers(&instance).len(), 1, "one server");
    assert_eq!(notes(&v), rows, "after kill -9 of berth");
    let history = api
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/services/{id}/deployments"),
            None,
        )
        .await;
    let states: Vec<&str> = history
        .as_array()
        .unwrap_or_else(|| panic!("{history:#}"))
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert!(states.iter().all(|s| *s == "succeeded"), "{states:?}");
    // Stopped before the clean-up, so it cannot start a server again meanwhile.
    drop(berth);
}
