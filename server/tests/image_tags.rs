//! Issue 17, case 1: images that move. A service follows its tag through a real registry
//! (Debian's docker-registry on loopback): a Redeploy pulls the tag again and runs what it
//! names now; every deployment records the image id and registry digest it ran, and its
//! scale-ups, repairs and a rollback to it run exactly that image, whatever the tag names
//! meanwhile. A private registry refuses a wrong password (the old version keeps serving),
//! and the pull policy `never` refuses an image the engine does not have.

mod common;

use common::api::Api;
use common::docker::docker;
use common::images::{build_httpd, unique_tag};
use common::quick_worker;
use common::registry::{image_id, ImageGuard, Login, Registry};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn http_get(ip: &str) -> String {
    common::get_text(&format!("http://{ip}:8080/")).await
}

/// What every replica of the service answers on `/`, sorted.
async fn answers(view: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for c in view["containers"].as_array().unwrap() {
        out.push(http_get(c["ip"].as_str().expect("container ip")).await);
    }
    out.sort();
    out
}

/// Builds three versions of the busybox web server (different bodies, so different image
/// ids): `(local tag, image id)` each, registered with `guard` for removal.
async fn versions(api: &Api, guard: &mut ImageGuard) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for v in ["v1", "v2", "v3"] {
        let tag = unique_tag(&format!("moving-{v}"));
        build_httpd(&api.server.engine, &tag, &format!("{v}\n")).await;
        let id = image_id(&api.server.engine, &tag).await;
        guard.0.push(id.clone());
        out.push((tag, id));
    }
    out
}

fn spec(name: &str, image: &str) -> Value {
    json!({
        "name": name,
        "image": image,
        "ports": [{ "container": 8080 }],
        "health_check": {
            "probe": { "kind": "http", "path": "/index.html", "port": 8080 },
            "interval_s": 1, "timeout_s": 1, "retries": 1
        }
    })
}

async fn live_deployment(api: &Api, id: &str, number: u64) -> Value {
    api.until(id, 60, &format!("deployment #{number} live"), |v| {
        v["latest_deployment"]["number"] == number && v["latest_deployment"]["state"] == "succeeded"
    })
    .await["latest_deployment"]
        .clone()
}

#[sqlx::test(migrations = false)]
async fn a_moved_tag_is_pulled_and_each_deployment_keeps_the_image_it_ran(pool: PgPool) {
    let mut guard = ImageGuard::default();
    let registry = Registry::start().await;
    let mut api = Api::start(pool, quick_worker()).await;
    let v = versions(&api, &mut guard).await;
    let engine = api.server.engine.clone();
    let image = registry.push(&engine, &v[0].0, "demo:latest", None).await;
    let repo = format!("{}/demo", registry.host());

    let id = api.create(spec("moving", &image)).await;
    let first = live_deployment(&api, &id, 1).await;
    assert_eq!(answers(&api.running(&id, 1).await).await, ["v1\n"]);
    assert_eq!(first["image_id"], v[0].1.as_str());
    let digest = first["image_digest"].as_str().expect("a registry digest");
    assert!(digest.starts_with(&format!("{repo}@sha256:")), "{digest}");
    let log = api.deployment_log(first["id"].as_str().unwrap()).await;
    assert!(
        log.iter()
            .any(|l| l.starts_with(&format!("Pulled {image} in"))
                && l.contains(&format!("→ {digest}"))),
        "{log:#?}"
    );

    // The tag moves to v2; a Redeploy pulls it again and runs v2.
    registry.push(&engine, &v[1].0, "demo:latest", None).await;
    let (status, body) = api.act(&id, "redeploy", None).await;
    assert_eq!(status, 202, "{body}");
    let second = live_deployment(&api, &id, 2).await;
    assert_eq!(second["image_id"], v[1].1.as_str());
    assert_ne!(second["image_digest"], first["image_digest"]);
    assert_eq!(answers(&api.running(&id, 1).await).await, ["v2\n"]);

    // The tag moves to v3; scaling up adds a replica of the image deployment #2 ran.
    registry.push(&engine, &v[2].0, "demo:latest", None).await;
    let (status, body) = api.act(&id, "scale", Some(json!({"replicas": 2}))).await;
    assert_eq!(status, 200, "{body}");
    let third = live_deployment(&api, &id, 3).await;
    assert_eq!(third["image_id"], v[1].1.as_str(), "a scale does not pull");
    let view = api.running(&id, 2).await;
    assert_eq!(answers(&view).await, ["v2\n", "v2\n"]);

    // A replica removed by hand comes back with the same image.
    let gone = view["containers"][0]["id"].as_str().unwrap().to_owned();
    docker(&["rm", "-f", &gone]);
    let view = api
        .until(&id, 30, "the replacement replica", |v| {
            v["status"]["ready"] == 2
                && v["containers"].as_array().unwrap().len() == 2
                && v["containers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["id"] != gone.as_str())
        })
        .await;
    assert_eq!(answers(&view).await, ["v2\n", "v2\n"]);

    // A rollback to #1 runs v1's image id, not what the tag names now.
    let (status, body) = api
        .act(&id, "rollback", Some(json!({"deployment": 1})))
        .await;
    assert_eq!(status, 202, "{body}");
    let fourth = live_deployment(&api, &id, 4).await;
    assert_eq!(fourth["image_id"], v[0].1.as_str());
    assert_eq!(fourth["image_digest"], first["image_digest"]);
    assert_eq!(answers(&api.running(&id, 1).await).await, ["v1\n"]);

    api.server.stop_worker_and_clean_up();
}

#[sqlx::test(migrations = false)]
async fn a_private_registry_needs_the_right_password_and_never_needs_the_image(pool: PgPool) {
    let mut guard = ImageGuard::default();
    let login = Login {
        username: "robot".into(),
        password: "r3gistry-pass".into(),
    };
    let registry = Registry::start_with_auth(&login.username, &login.password).await;
    let mut api = Api::start(pool, quick_worker()).await;
    let v = versions(&api, &mut guard).await;
    let engine = api.server.engine.clone();
    let image = registry
        .push(&engine, &v[0].0, "private:latest", Some(&login))
        .await;

    let mut private = spec("private", &image);
    private["registry_auth"] = json!({"username": "robot", "password": login.password});
    let id = api.create(private.clone()).await;
    live_deployment(&api, &id, 1).await;
    assert_eq!(answers(&api.running(&id, 1).await).await, ["v1\n"]);

    // v2 under the same tag, asked for with a wrong password: refused, v1 keeps serving
    // (even though the engine has an image under that name).
    registry
        .push(&engine, &v[1].0, "private:latest", Some(&login))
        .await;
    private["registry_auth"]["password"] = json!("wrong password");
    api.put(&id, private.clone()).await;
    let view = api
        .until(&id, 60, "the refused pull", |v| {
            v["latest_deployment"]["number"] == 2
                && v["latest_deployment"]["state"] == "rolled_back"
        })
        .await;
    let reason = view["latest_deployment"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("could not pull image {image}: "))
            && reason.contains("unauthorized"),
        "{reason}"
    );
    assert_eq!(view["live_deployment"], 1);
    assert_eq!(answers(&api.running(&id, 1).await).await, ["v1\n"]);

    // The right password: v2 goes live.
    private["registry_auth"]["password"] = json!(login.password);
    api.put(&id, private).await;
    let third = live_deployment(&api, &id, 3).await;
    assert_eq!(third["image_id"], v[1].1.as_str());
    assert_eq!(answers(&api.running(&id, 1).await).await, ["v2\n"]);

    // Pull policy `never` and an image the engine does not have: failed, saying why.
    let mut never = spec("never", &format!("{}/absent:1", registry.host()));
    never["pull_policy"] = json!("never");
    let never_id = api.create(never).await;
    let view = api
        .until(&never_id, 30, "the refused rollout", |v| {
            v["latest_deployment"]["state"] == "failed"
        })
        .await;
    assert_eq!(
        view["latest_deployment"]["reason"],
        format!(
            "image {}/absent:1 is not on this engine and the service's pull policy is never",
            registry.host()
        )
    );
    assert_eq!(view["spec"]["pull_policy"], "never");

    api.server.stop_worker_and_clean_up();
}

/// The pull policy is one field in the form (without JavaScript), the REST API and its
/// OpenAPI document, with one rule: unknown names and a policy on a git service refused.
#[sqlx::test(migrations = false)]
async fn the_pull_policy_is_set_through_the_form_and_the_api(pool: PgPool) {
    use common::team::{call, Caller};
    let s = common::TestServer::start(pool).await;
    let c = s.owner().await;
    let save = |policy: &'static str| {
        c.post(s.url("/api/save_service"))
            .form(&[
                ("id", ""),
                ("form[name]", "pinned"),
                ("form[image]", "localhost:5000/demo:1"),
                ("form[pull_policy]", policy),
            ])
            .send()
    };
    let outcome: Value = save("sometimes").await.unwrap().json().await.unwrap();
    assert_eq!(outcome["Invalid"][0]["field"], "pull_policy", "{outcome}");
    assert_eq!(s.count("services").await, 0);
    let outcome: Value = save("if-missing").await.unwrap().json().await.unwrap();
    let id = outcome["Saved"]["id"].as_str().expect("saved").to_owned();
    let owner = Caller::Cookie(c.clone());
    let (_, view) = call(&s, &owner, "GET", &format!("/api/v1/services/{id}"), None).await;
    assert_eq!(view["spec"]["pull_policy"], "if-missing");
    let edit = s.page(&c, &format!("/services/{id}/edit")).await;
    assert!(
        edit.contains("<option value=\"if-missing\" selected"),
        "the edit form shows the stored policy"
    );

    let git = json!({"name": "built", "pull_policy": "always",
        "git": {"repo": "https://example.com/app.git", "branch": "main"}});
    let (status, body) = call(&s, &owner, "POST", "/api/v1/services", Some(git)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("pull_policy"), "{body}");

    let (_, doc) = call(&s, &Caller::Nobody, "GET", "/api/v1/openapi.json", None).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["PullPolicy"]["enum"],
        json!(["always", "if-missing", "never"]),
        "{:#}",
        schemas["PullPolicy"]
    );
    assert!(schemas["ServiceSpec"]["properties"]["pull_policy"].is_object());
    assert!(schemas["DeploymentView"]["properties"]["image_id"].is_object());
    assert!(schemas["DeploymentView"]["properties"]["image_digest"].is_object());
}
