//! Shared variables and references against the real Docker engine and Postgres: values are
//! filled in when a deployment starts (the container's env has them, the API shows them as
//! written, secrets masked and sealed at rest); a changed value marks its users "needs
//! redeploy" and one action redeploys exactly those; unknown names and cycles are refused
//! when saved, naming the field.

mod common;

use common::api::Api;
use common::docker::docker;
use common::quick_worker;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

/// The env of the service's (first) container, as the engine has it.
fn container_env(view: &Value) -> Vec<String> {
    let id = view["containers"][0]["id"].as_str().expect("a container");
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", id]);
    serde_json::from_str(env.trim()).expect("a JSON list")
}

async fn call_ok(api: &Api, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = api.call(method.clone(), path, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// A project's `production` environment id.
async fn environment(api: &Api, project: &str) -> String {
    let p = call_ok(
        api,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": project})),
    )
    .await;
    p["environments"][0]["id"].as_str().unwrap().to_owned()
}

fn field_errors(answer: &Value) -> Vec<(String, String)> {
    answer["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_owned(),
                        e["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[sqlx::test(migrations = false)]
async fn references_are_filled_in_at_deploy_and_a_changed_value_is_redeployed(pool: PgPool) {
    let api = Api::start(pool.clone(), quick_worker()).await;
    let env = environment(&api, "shop").await;
    let vars_path = format!("/api/v1/environments/{env}/variables");

    // Shared variables: the secret is masked when answered and sealed in its row.
    let shared = call_ok(
        &api,
        Method::PUT,
        &vars_path,
        Some(json!({"variables": [
            {"key": "GREETING", "value": "hello"},
            {"key": "TOKEN", "value": "s3cret-token", "secret": true}
        ]})),
    )
    .await;
    assert_eq!(shared["variables"][1]["value"], "********");
    let read = call_ok(&api, Method::GET, &vars_path, None).await;
    assert_eq!(read["variables"][0]["value"], "hello");
    assert_eq!(read["variables"][1]["value"], "********");
    let row: String =
        sqlx::query_scalar("SELECT variables::text FROM environments WHERE id = $1::uuid")
            .bind(&env)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(row.contains("GREETING") && row.contains("hello"), "{row}");
    assert!(
        !row.contains("s3cret-token"),
        "a secret is sealed at rest: {row}"
    );

    // `db` with a secret password; `api` refers to it, to a fact and to shared ones.
    let mut spec = api.spec("db");
    spec["environment_id"] = json!(env);
    spec["env"] = json!([{"key": "POSTGRES_PASSWORD", "value": "first-pw", "secret": true}]);
    let db = api.create(spec).await;
    let url =
        "postgresql://postgres:${{ db.POSTGRES_PASSWORD }}@${{ db.HOST }}:${{ db.PORT }}/postgres";
    let mut spec = api.spec("api");
    spec["environment_id"] = json!(env);
    spec["env"] = json!([
        {"key": "DATABASE_URL", "value": url},
        {"key": "GREETING", "value": "${{ shared.GREETING }}, world"},
        {"key": "TOKEN", "value": "${{ shared.TOKEN }}"},
        {"key": "LITERAL", "value": "$HOME and ${HOME} and $${{"},
    ]);
    let api_id = api.create(spec.clone()).await;
    api.running(&db, 1).await;
    let view = api.running(&api_id, 1).await;
    let got = container_env(&view);
    for want in [
        "DATABASE_URL=postgresql://postgres:first-pw@db:8080/postgres",
        "GREETING=hello, world",
        "TOKEN=s3cret-token",
        "LITERAL=$HOME and ${HOME} and ${{",
    ] {
        assert!(got.iter().any(|e| e == want), "{want} in {got:?}");
    }
    // The API shows the values as written; nothing is outdated.
    assert_eq!(view["spec"]["env"][0]["value"], url);
    assert_eq!(view["needs_redeploy"], false);

    // db's password changes: db rolls out, api is marked, the containers keep their env.
    let mut db_spec = api.spec("db");
    db_spec["env"] = json!([{"key": "POSTGRES_PASSWORD", "value": "second-pw", "secret": true}]);
    api.put(&db, db_spec).await;
    api.until(&db, 60, "db's second deployment live", |v| {
        v["live_deployment"] == 2 && v["status"]["health"] == "running"
    })
    .await;
    call_ok(
        &api,
        Method::PUT,
        &vars_path,
        Some(json!({"variables": [
            {"key": "GREETING", "value": "hi"},
            {"key": "TOKEN", "value": "********", "secret": true}
        ]})),
    )
    .await;
    let view = api.service(&api_id).await;
    assert_eq!(view["needs_redeploy"], true, "{view:#}");
    assert_eq!(api.service(&db).await["needs_redeploy"], false);
    let list = call_ok(
        &api,
        Method::GET,
        &format!("/api/v1/environments/{env}/services"),
        None,
    )
    .await;
    let marked: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["needs_redeploy"] == true)
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["api"]);
    assert!(container_env(&view)
        .iter()
        .any(|e| e == "DATABASE_URL=postgresql://postgres:first-pw@db:8080/postgres"));

    // One action redeploys exactly the outdated services.
    let done = call_ok(
        &api,
        Method::POST,
        &format!("/api/v1/environments/{env}/redeploy-outdated"),
        None,
    )
    .await;
    assert_eq!(done["services"], json!(["api"]));
    let view = api
        .until(&api_id, 60, "api's redeploy live", |v| {
            v["live_deployment"] == 2
                && v["status"]["health"] == "running"
                && v["containers"].as_array().map(Vec::len) == Some(1)
        })
        .await;
    let got = container_env(&view);
    for want in [
        "DATABASE_URL=postgresql://postgres:second-pw@db:8080/postgres",
        "GREETING=hi, world",
        "TOKEN=s3cret-token",
    ] {
        assert!(got.iter().any(|e| e == want), "{want} in {got:?}");
    }
    assert_eq!(view["needs_redeploy"], false);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action IN ('environment.variables', 'service.redeploy')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 3);
}

#[sqlx::test(migrations = false)]
async fn unknown_names_and_cycles_are_refused_naming_the_field(pool: PgPool) {
    let api = Api::start(pool.clone(), quick_worker()).await;
    let env = environment(&api, "shop").await;
    let vars_path = format!("/api/v1/environments/{env}/variables");
    let mut db = api.spec("db");
    db["environment_id"] = json!(env);
    db["env"] = json!([{"key": "PASSWORD", "value": "pw", "secret": true}]);
    api.create(db).await;

    // An unknown variable of another service, an unknown service: 422, nothing stored.
    let mut spec = api.spec("api");
    spec["environment_id"] = json!(env);
    spec["env"] = json!([
        {"key": "A", "value": "fine ${{ db.PASSWORD }}"},
        {"key": "B", "value": "${{ db.NOPE }}"},
        {"key": "C", "value": "${{ cache.HOST }}"},
    ]);
    let (status, answer) = api
        .call(Method::POST, "/api/v1/services", Some(spec.clone()))
        .await;
    assert_eq!(status, 422, "{answer}");
    let errors = field_errors(&answer);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "env[1].value");
    assert!(
        errors[0].1.contains("db has no variable NOPE"),
        "{errors:?}"
    );
    assert_eq!(errors[1].0, "env[2].value");
    assert!(errors[1].1.contains("cache"), "{errors:?}");
    let services: i64 = sqlx::query_scalar("SELECT count(*) FROM services")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(services, 1);

    // A cycle between shared variables, and one through a service.
    let (status, answer) = api
        .call(
            Method::PUT,
            &vars_path,
            Some(json!({"variables": [
                {"key": "A", "value": "${{ shared.B }}"},
                {"key": "B", "value": "x${{ shared.A }}"}
            ]})),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let errors = field_errors(&answer);
    assert_eq!(errors[0].0, "variables[0].value", "{errors:?}");
    assert!(errors[0].1.contains("cycle"), "{errors:?}");

    // A shared variable in use cannot be removed: the user is named.
    call_ok(
        &api,
        Method::PUT,
        &vars_path,
        Some(json!({"variables": [{"key": "HOST_NAME", "value": "x"}]})),
    )
    .await;
    spec["env"] = json!([{"key": "H", "value": "${{ shared.HOST_NAME }}"}]);
    let api_id = api.create(spec).await;
    let (status, answer) = api
        .call(Method::PUT, &vars_path, Some(json!({"variables": []})))
        .await;
    assert_eq!(status, 422, "{answer}");
    let errors = field_errors(&answer);
    assert_eq!(errors[0].0, "variables");
    assert!(errors[0].1.starts_with("api.H:"), "{errors:?}");
    // A bad name is named too.
    let (status, answer) = api
        .call(
            Method::PUT,
            &vars_path,
            Some(json!({"variables": [{"key": "HOST_NAME", "value": "x"}, {"key": "1X", "value": ""}]})),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(field_errors(&answer)[0].0, "variables[1].key");

    // An update that would refer to itself in a cycle is refused.
    let mut cyc = api.spec("api");
    cyc["env"] = json!([
        {"key": "X", "value": "${{ api.Y }}"},
        {"key": "Y", "value": "${{ api.X }}"}
    ]);
    let (status, answer) = api
        .call(
            Method::PUT,
            &format!("/api/v1/services/{api_id}"),
            Some(cyc),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(field_errors(&answer)[0].1.contains("cycle"), "{answer}");

    // Another team's environment is one that does not exist.
    let (other_team, _) = common::other_teams_service(&pool, "web").await;
    let other_env: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM environments WHERE team_id = $1")
            .bind(other_team)
            .fetch_one(&pool)
            .await
            .unwrap();
    let (status, _) = api
        .call(
            Method::GET,
            &format!("/api/v1/environments/{other_env}/variables"),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrations = false)]
async fn a_service_others_refer_to_is_not_deleted(pool: PgPool) {
    let api = Api::start(pool.clone(), quick_worker()).await;
    let env = environment(&api, "shop").await;
    let mut db = api.spec("db");
    db["environment_id"] = json!(env);
    let db = api.create(db).await;
    let mut web = api.spec("web");
    web["environment_id"] = json!(env);
    web["env"] = json!([{"key": "DB", "value": "${{ db.HOST }}"}]);
    let web = api.create(web).await;
    let (status, answer) = api
        .call(Method::DELETE, &format!("/api/v1/services/{db}"), None)
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("web.DB"),
        "{answer}"
    );
    let deleting: bool = sqlx::query_scalar("SELECT deleting FROM services WHERE id = $1::uuid")
        .bind(&db)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!deleting);
    // Once nothing refers to it, it goes.
    let (status, _) = api
        .call(Method::DELETE, &format!("/api/v1/services/{web}"), None)
        .await;
    assert!((200..300).contains(&status));
    let (status, answer) = api
        .call(Method::DELETE, &format!("/api/v1/services/{db}"), None)
        .await;
    assert!((200..300).contains(&status), "{answer}");
}
