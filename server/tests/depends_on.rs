//! `depends_on` against the real Docker engine and Postgres: a compose file whose `api`
//! depends on a real PostgreSQL (`condition: service_healthy`, checked with `pg_isready`)
//! starts `api`'s container only after `db` became healthy, with the wait on its timeline;
//! a dependency whose deployment fails makes the dependent's deployment fail naming it; a
//! cycle is refused at save and at import, and nothing is created; "Redeploy environment"
//! queues every service in dependency order.

mod common;

use chrono::{DateTime, Utc};
use common::api::Api;
use common::debian_images;
use common::docker::docker;
use common::quick_worker;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// A project's `production` environment id.
async fn production(api: &Api, name: &str) -> String {
    let (status, project) = api
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn import(api: &Api, env: &str, yaml: &str) -> (u16, Value) {
    api.call(
        Method::POST,
        &format!("/api/v1/environments/{env}/compose"),
        Some(json!({ "yaml": yaml })),
    )
    .await
}

/// The environment's services by name → id.
async fn ids(api: &Api, env: &str) -> Vec<(String, String)> {
    let (status, list) = api
        .call(
            Method::GET,
            &format!("/api/v1/environments/{env}/services"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn id_of<'a>(ids: &'a [(String, String)], name: &str) -> &'a str {
    &ids.iter().find(|(n, _)| n == name).unwrap().1
}

/// The service's newest deployment.
async fn latest_deployment(api: &Api, id: &str) -> Value {
    let (status, list) = api
        .call(
            Method::GET,
            &format!("/api/v1/services/{id}/deployments"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap()[0].clone()
}

/// Polls the newest deployment until `pred` holds (at most `secs`).
async fn deployment_until(api: &Api, id: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let d = latest_deployment(api, id).await;
        if pred(&d) {
            return d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "waited {secs} s; the deployment is now:\n{d:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.trim().trim_matches('"'))
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .with_timezone(&Utc)
}

#[sqlx::test(migrations = false)]
async fn api_starts_only_after_db_is_healthy(pool: PgPool) {
    let postgres = tokio::task::spawn_blocking(debian_images::postgres)
        .await
        .unwrap();
    let api = Api::start(pool, quick_worker()).await;
    let env = production(&api, "shop").await;
    // `api` comes first in the file: the order is the dependencies', not the file's.
    let yaml = format!(
        "services:
  api:
    image: {image}
    ports: [\"8080\"]
    depends_on:
      db:
        condition: service_healthy
  db:
    image: {postgres}
    environment:
      POSTGRES_PASSWORD: pw
    healthcheck:
      test: [\"CMD\", \"/usr/lib/postgresql/15/bin/pg_isready\", \"-h\", \"127.0.0.1\", \"-U\", \"postgres\"]
      interval: 2s
      timeout: 3s
      retries: 30
",
        image = api.image
    );
    let (status, plan) = import(&api, &env, &yaml).await;
    assert_eq!(status, 200, "{plan}");
    let ids = ids(&api, &env).await;
    let (api_id, db_id) = (id_of(&ids, "api"), id_of(&ids, "db"));
    let view = api.service(api_id).await;
    assert_eq!(
        view["spec"]["depends_on"],
        json!([{"service": "db", "condition": "service_healthy"}])
    );

    // While db is not healthy yet, api's deployment waits with no container of its own.
    let waiting = latest_deployment(&api, api_id).await;
    let db_ready = api.service(db_id).await["status"]["ready"] != 0;
    if waiting["state"] == "pending" && !db_ready {
        assert_eq!(
            api.service(api_id).await["containers"],
            json!([]),
            "no api container while db is not healthy"
        );
    }

    // Watched until api runs: whenever api has a container, db is healthy (api is read
    // first, so a db healthy only later would show).
    let start = Instant::now();
    let api_view = loop {
        let a = api.service(api_id).await;
        let d = api.service(db_id).await;
        let api_containers = a["containers"].as_array().map_or(0, Vec::len);
        let db_healthy = d["containers"][0]["health"] == "healthy";
        assert!(
            api_containers == 0 || db_healthy,
            "api has a container while db is not healthy:\n{a:#}\n{d:#}"
        );
        if a["containers"][0]["state"] == "running" {
            break a;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "api never ran:\n{a:#}\n{d:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let db_view = api
        .until(db_id, 10, "db healthy", |v| {
            v["containers"][0]["health"] == "healthy"
        })
        .await;

    // Docker's own record: api started after db's first passing health check ended (when
    // db's health log, which keeps the last 5 checks, still holds the failing ones before
    // it), and after db started in any case.
    let db_container = db_view["containers"][0]["id"].as_str().unwrap();
    let api_container = api_view["containers"][0]["id"].as_str().unwrap();
    let inspect = |id: &str, what: &str| docker(&["inspect", "-f", what, id]);
    let health: Value =
        serde_json::from_str(&inspect(db_container, "{{json .State.Health}}")).unwrap();
    let checks = health["Log"].as_array().unwrap();
    let first_pass = checks.iter().position(|l| l["ExitCode"] == 0).unwrap();
    let api_started = time(&inspect(api_container, "{{json .State.StartedAt}}"));
    let db_started = time(&inspect(db_container, "{{json .State.StartedAt}}"));
    assert!(
        api_started > db_started,
        "api {api_started}, db {db_started}"
    );
    if first_pass > 0 {
        let healthy_at = time(checks[first_pass]["End"].as_str().unwrap());
        assert!(
            api_started > healthy_at,
            "api started {api_started}, db healthy at {healthy_at}"
        );
    }

    // The wait is on api's deployment log and its timeline.
    let id = waiting["id"].as_str().unwrap();
    let log = api.deployment_log(id).await;
    assert!(
        log.iter()
            .any(|l| l.contains("Waiting for db (healthy) before starting (depends_on).")),
        "{log:#?}"
    );
    let (_, events) = api
        .call(
            Method::GET,
            &format!("/api/v1/services/{api_id}/events"),
            None,
        )
        .await;
    assert!(
        events.to_string().contains("Waiting for db (healthy)"),
        "{events:#}"
    );
    let done = latest_deployment(&api, api_id).await;
    assert_eq!(done["state"], "succeeded", "{done:#}");

    // "Redeploy environment": db first, then api, which waits for db's new deployment.
    let (status, redeployed) = api
        .call(
            Method::POST,
            &format!("/api/v1/environments/{env}/redeploy"),
            None,
        )
        .await;
    assert_eq!(status, 202, "{redeployed}");
    assert_eq!(redeployed["services"], json!(["db", "api"]));
    let api_done = deployment_until(&api, api_id, 120, |d| {
        d["number"] == 2 && d["state"] == "succeeded"
    })
    .await;
    let db_done = latest_deployment(&api, db_id).await;
    assert_eq!(db_done["state"], "succeeded", "{db_done:#}");
    assert!(
        time(api_done["started_at"].as_str().unwrap())
            >= time(db_done["finished_at"].as_str().unwrap()) - chrono::Duration::seconds(2),
        "api's rollout began once db's new deployment was up:\n{api_done:#}\n{db_done:#}"
    );
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'environment.redeploy'")
            .fetch_one(&api.server.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

#[sqlx::test(migrations = false)]
async fn a_failing_dependency_fails_the_dependent_naming_it(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let env = production(&api, "shop").await;
    // db's image is not on the engine and may not be pulled: its deployment fails.
    let yaml = format!(
        "services:
  web:
    image: {image}
    depends_on: [db]
  db:
    image: berth-test/not-there:1
    pull_policy: never
",
        image = api.image
    );
    let (status, plan) = import(&api, &env, &yaml).await;
    assert_eq!(status, 200, "{plan}");
    let ids = ids(&api, &env).await;
    let web_id = id_of(&ids, "web");
    let failed = deployment_until(&api, web_id, 60, |d| d["state"] == "failed").await;
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.starts_with("db failed: "), "{reason}");
    assert!(reason.contains("berth-test/not-there:1"), "{reason}");
    assert_eq!(api.service(web_id).await["containers"], json!([]));
}

#[sqlx::test(migrations = false)]
async fn a_cycle_is_refused_at_save_and_at_import_and_nothing_is_created(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let env = production(&api, "shop").await;
    let image = api.image.clone();

    let yaml = format!(
        "services:
  a: {{image: {image}, depends_on: [b]}}
  b: {{image: {image}, depends_on: {{a: {{condition: service_healthy}}}}}}
"
    );
    let (status, body) = import(&api, &env, &yaml).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("services.a.depends_on"), "{body}");
    assert!(body.to_string().contains("a → b → a"), "{body}");
    assert_eq!(api.server.count("services").await, 0);

    // At save: b depends on a; a depending on b closes a cycle.
    let a = api
        .create(json!({"name": "a", "image": image, "environment_id": env}))
        .await;
    let b = api
        .create(json!({"name": "b", "image": image, "environment_id": env,
                       "depends_on": [{"service": "a"}]}))
        .await;
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/api/v1/services/{a}"),
            Some(json!({"name": "a", "image": image, "depends_on": [{"service": "b"}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(text.contains("depends_on[0].service"), "{body}");
    assert!(
        text.contains("depends_on forms a cycle: a → b → a"),
        "{body}"
    );
    // A missing service, at create: nothing created.
    let (status, body) = api
        .call(
            Method::POST,
            "/api/v1/services",
            Some(json!({"name": "c", "image": image, "environment_id": env,
                        "depends_on": [{"service": "queue", "condition": "service_started"}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string().contains("queue, which is not a service"),
        "{body}"
    );
    assert_eq!(api.server.count("services").await, 2);
    // Deleting what another depends on is refused, naming it.
    let (status, body) = api
        .call(Method::DELETE, &format!("/api/v1/services/{a}"), None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("b depends on a"), "{body}");
    // Reserved labels are refused by key.
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/api/v1/services/{b}"),
            Some(json!({"name": "b", "image": image, "labels": {"berth.service": "x"}})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("labels.berth.service"), "{body}");
    // Another team's (or no) environment: 404.
    let (status, _) = api
        .call(
            Method::POST,
            &format!("/api/v1/environments/{}/redeploy", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(status, 404);
}
