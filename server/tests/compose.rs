//! Compose import and export through `/api/v1/environments/{id}/compose`, against the real
//! Docker engine and Postgres: a dry run stores nothing, an import creates and runs the
//! services, a re-import previews what changes, an export imports into another environment
//! as the same definitions, and refused files (each problem by path) create nothing.

mod common;

use common::api::Api;
use common::quick_worker;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn production(api: &Api) -> (String, String) {
    let (status, project) = api
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(json!({"name": "shop"})),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    (
        project["id"].as_str().unwrap().to_owned(),
        project["environments"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

async fn import(api: &Api, env: &str, yaml: &str, dry_run: bool) -> (u16, Value) {
    api.call(
        Method::POST,
        &format!("/api/v1/environments/{env}/compose?dry_run={dry_run}"),
        Some(json!({ "yaml": yaml })),
    )
    .await
}

async fn export(api: &Api, env: &str) -> String {
    let r = api
        .client
        .get(
            api.server
                .url(&format!("/api/v1/environments/{env}/compose")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/yaml");
    r.text().await.unwrap()
}

fn file(image: &str, greeting: &str) -> String {
    format!(
        "services:
  web:
    image: {image}
    ports: [\"8080\"]
    environment:
      GREETING: {greeting}
    deploy:
      replicas: 2
  worker:
    image: {image}
    volumes: [\"data:/data\"]
    depends_on: [web]
volumes:
  data: {{}}
"
    )
}

async fn services_in(api: &Api, env: &str) -> Vec<Value> {
    let (status, list) = api
        .call(
            Method::GET,
            &format!("/api/v1/environments/{env}/services"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().clone()
}

#[sqlx::test(migrations = false)]
async fn a_compose_file_is_previewed_imported_and_exported(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let (project, env) = production(&api).await;
    let yaml = file(&api.image, "hello");

    // A dry run answers the plan and stores nothing.
    let (status, plan) = import(&api, &env, &yaml, true).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["applied"], false);
    assert_eq!(
        plan["changes"],
        json!([{"action": "create", "service": "web"}, {"action": "create", "service": "worker"}])
    );
    assert_eq!(plan["volumes"], json!(["data"]));
    assert_eq!(
        plan["notes"],
        json!([]),
        "depends_on is kept now, not noted"
    );
    assert_eq!(api.server.count("services").await, 0);

    // The import creates both, and they run.
    let (status, done) = import(&api, &env, &yaml, false).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["applied"], true);
    let list = services_in(&api, &env).await;
    let names: Vec<&str> = list.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["web", "worker"]);
    for s in &list {
        let id = s["id"].as_str().unwrap();
        let n = if s["name"] == "web" { 2 } else { 1 };
        api.running(id, n).await;
    }
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'environment.compose_import'",
    )
    .fetch_one(&api.server.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The same file again changes nothing; a changed variable is an update that rolls out.
    let (status, plan) = import(&api, &env, &yaml, true).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(
        plan["changes"],
        json!([{"action": "unchanged", "service": "web"}, {"action": "unchanged", "service": "worker"}])
    );
    let (status, plan) = import(&api, &env, &file(&api.image, "bonjour"), true).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(
        plan["changes"][0],
        json!({"action": "update", "service": "web", "fields": ["env"], "change": "rollout"})
    );
    assert_eq!(plan["changes"][1]["action"], "unchanged");

    // Exported, then imported into a new environment: the same definitions.
    let exported = export(&api, &env).await;
    assert!(exported.contains("GREETING: \"hello\""), "{exported}");
    let (status, staging) = api
        .call(
            Method::POST,
            &format!("/api/v1/projects/{project}/environments"),
            Some(json!({"name": "staging"})),
        )
        .await;
    assert_eq!(status, 201, "{staging}");
    let staging = staging["environment"]["id"].as_str().unwrap().to_owned();
    let (status, done) = import(&api, &staging, &exported, false).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(export(&api, &staging).await, exported);
    let specs = |env: String| {
        let pool = api.server.pool.clone();
        async move {
            let rows: Vec<Value> = sqlx::query_scalar(
                "SELECT spec FROM services WHERE environment_id = $1::uuid ORDER BY name",
            )
            .bind(env)
            .fetch_all(&pool)
            .await
            .unwrap();
            rows
        }
    };
    assert_eq!(specs(env.clone()).await, specs(staging.clone()).await);
}

#[sqlx::test(migrations = false)]
async fn refused_files_name_each_problem_and_create_nothing(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let (_, env) = production(&api).await;
    let image = api.image.clone();
    let web = |extra: &str| format!("services:\n  web:\n    image: {image}\n{extra}");
    let mut bomb = String::from("x-a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
    for i in 1..9 {
        let p = i - 1;
        bomb.push_str(&format!(
            "x-a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    bomb.push_str(&web(""));
    let mut huge = web("    environment:\n");
    while huge.len() < 2 * 1024 * 1024 {
        let n = huge.len();
        huge.push_str(&format!("      K{n}: \"{}\"\n", "x".repeat(100)));
    }
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            web("    volumes: [\"/etc:/host-etc\"]\n"),
            vec!["services.web.volumes[0]"],
        ),
        (
            web("    privileged: true\n"),
            vec!["services.web.privileged"],
        ),
        (
            web("    network_mode: host\n"),
            vec!["services.web.network_mode"],
        ),
        (web("    colour: blue\n"), vec!["services.web.colour"]),
        (
            web("    depends_on: [db]\n  db:\n    image: x\n    depends_on: [web]\n"),
            vec!["services.web.depends_on"],
        ),
        (
            web("    depends_on: [cache]\n"),
            vec!["services.web.depends_on"],
        ),
        // No repository in this environment to build from.
        (
            "services:\n  web:\n    build: .\n".to_owned(),
            vec!["services.web.build"],
        ),
        // Compose would tag the built image `image`: refused (see the README).
        (web("    build: .\n"), vec!["services.web.image"]),
        (
            // A reference to a service that is nowhere (db, valid, is not created either).
            format!(
                "services:\n  db:\n    image: {image}\n  web:\n    image: {image}\n    \
                 environment:\n      CACHE_URL: \"redis://${{{{ cache.HOST }}}}:6379\"\n"
            ),
            vec!["services.web.environment.CACHE_URL"],
        ),
        (
            // Two problems in one file: both named.
            web("    privileged: true\n    volumes: [\"/:/root\"]\n"),
            vec!["services.web.privileged", "services.web.volumes[0]"],
        ),
        (huge, vec!["yaml"]),
        (bomb, vec!["x-a"]),
    ];
    for (yaml, paths) in cases {
        for dry_run in [true, false] {
            let (status, body) = import(&api, &env, &yaml, dry_run).await;
            assert_eq!(status, 422, "{paths:?}: {body}");
            assert_eq!(body["error"], "invalid");
            let fields: Vec<&str> = body["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["field"].as_str().unwrap())
                .collect();
            for p in &paths {
                assert!(
                    fields.iter().any(|f| f.starts_with(p)),
                    "{p} not in {fields:?}"
                );
            }
        }
    }
    assert_eq!(api.server.count("services").await, 0);
    assert_eq!(api.server.count("deployments").await, 0);

    // Another team's (or no) environment: 404.
    let (status, _) = import(&api, &uuid::Uuid::new_v4().to_string(), &web(""), true).await;
    assert_eq!(status, 404);
}
