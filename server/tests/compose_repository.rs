//! An environment's git repository (`/api/v1/environments/{id}/repository`), the compose
//! import's all-or-nothing guarantee, and the compose form without JavaScript, against a
//! real server and Postgres (no worker: nothing here needs to run). The build from the
//! repository is `builds/compose_build.rs`.

mod common;

use common::team::{call, Caller, Teams};
use serde_json::{json, Value};
use sqlx::PgPool;

/// Team A's `shop` project and its `production` environment (ids).
async fn shop(t: &Teams) -> (String, String) {
    let (status, project) = call(
        &t.s,
        &t.owner.cookie(),
        "POST",
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

async fn set_repository(t: &Teams, who: &Caller, env: &str, body: Value) -> (u16, Value) {
    let path = format!("/api/v1/environments/{env}/repository");
    call(&t.s, who, "PUT", &path, Some(body)).await
}

async fn stored_repository(pool: &PgPool, env: &str) -> Option<Value> {
    sqlx::query_scalar("SELECT repository FROM environments WHERE id = $1::uuid")
        .bind(env)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn an_environment_repository_is_set_checked_masked_cloned_and_removed(pool: PgPool) {
    let t = Teams::start(pool).await;
    let (project, env) = shop(&t).await;
    let dev = t.developer.cookie();
    let repo = json!({
        "repo": "https://git.example.com/shop.git",
        "branch": "main",
        "credentials": {"kind": "token", "token": "s3cret-token"}
    });

    // Without one, a build is refused at its path and nothing is stored.
    let compose = |yaml: &str| json!({ "yaml": yaml });
    let file = "services:\n  web:\n    build: {context: app}\n";
    let path = format!("/api/v1/environments/{env}/compose");
    let (status, body) = call(&t.s, &dev, "POST", &path, Some(compose(file))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "services.web.build", "{body}");

    // A developer sets it; the token is sealed at rest and never sent back.
    let (status, view) = set_repository(&t, &dev, &env, repo.clone()).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        view["repository"]["repo"],
        "https://git.example.com/shop.git"
    );
    assert_eq!(view["repository"]["credentials"]["token"], "********");
    assert!(!view.to_string().contains("s3cret"), "{view}");
    let (_, shown) = call(
        &t.s,
        &dev,
        "GET",
        &format!("/api/v1/environments/{env}"),
        None,
    )
    .await;
    assert_eq!(shown["repository"], view["repository"], "{shown}");
    let stored = stored_repository(&t.s.pool, &env).await.unwrap();
    let sealed = stored["credentials"]["token"].as_str().unwrap().to_owned();
    assert!(!sealed.contains("s3cret") && !sealed.is_empty(), "{stored}");

    // Bad input: 422 naming the field (the rules of a git service's source); nothing changes.
    for (bad, field) in [
        (json!({"repo": "ext::sh", "branch": "main"}), "repo"),
        (
            json!({"repo": "http://127.0.0.1/shop.git", "branch": "main"}),
            "repo",
        ),
        (
            json!({"repo": "https://git.example.com/a.git", "branch": "-x"}),
            "branch",
        ),
        (
            json!({"repo": "https://git.example.com/a.git", "branch": "main",
                   "credentials": {"kind": "deploy_key", "private_key": "k"}}),
            "credentials",
        ),
    ] {
        let (status, body) = set_repository(&t, &dev, &env, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(
            body["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == field),
            "{bad}: {body}"
        );
    }
    let (status, body) =
        set_repository(&t, &dev, &env, json!({"repo": "https://x.example/a.git"})).await;
    assert_eq!(status, 400, "a missing branch is a malformed body: {body}");
    assert_eq!(stored_repository(&t.s.pool, &env).await.unwrap(), stored);

    // A viewer may not; another team's member finds no such environment.
    let (status, _) = set_repository(&t, &t.viewer.cookie(), &env, repo.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = set_repository(&t, &t.outsider.cookie(), &env, repo.clone()).await;
    assert_eq!(status, 404);
    let outsider_delete = format!("/api/v1/environments/{env}/repository");
    let (status, _) = call(&t.s, &t.outsider.cookie(), "DELETE", &outsider_delete, None).await;
    assert_eq!(status, 404);

    // The masked token sent back keeps the stored one (same host).
    let mut again = repo.clone();
    again["branch"] = json!("release");
    again["credentials"]["token"] = json!("********");
    let (status, view) = set_repository(&t, &dev, &env, again).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["repository"]["branch"], "release");
    assert!(stored_repository(&t.s.pool, &env).await.unwrap()["credentials"]["token"].is_string());

    // A clone keeps it, its token sealed again for the copy.
    let envs = format!("/api/v1/projects/{project}/environments");
    let (status, created) = call(
        &t.s,
        &t.owner.cookie(),
        "POST",
        &envs,
        Some(json!({"name": "staging", "clone_from": env})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let staging = created["environment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["environment"]["repository"]["branch"], "release",
        "{created}"
    );
    let copy = stored_repository(&t.s.pool, &staging).await.unwrap();
    let original = stored_repository(&t.s.pool, &env).await.unwrap();
    assert_eq!(copy["repo"], original["repo"]);
    assert_ne!(
        copy["credentials"]["token"],
        original["credentials"]["token"]
    );

    // Removed: a build is refused again. Every change was audited, never with the token.
    let (status, view) = call(&t.s, &dev, "DELETE", &outsider_delete, None).await;
    assert_eq!(status, 200, "{view}");
    assert!(view.get("repository").is_none(), "{view}");
    let (status, _) = call(&t.s, &dev, "POST", &path, Some(compose(file))).await;
    assert_eq!(status, 422);
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT summary::text FROM audit_log WHERE action = 'environment.repository' ORDER BY id",
    )
    .fetch_all(&t.s.pool)
    .await
    .unwrap();
    assert_eq!(audit.len(), 4, "{audit:?}");
    assert!(audit.iter().all(|a| !a.contains("s3cret")), "{audit:?}");
}

#[sqlx::test(migrations = false)]
async fn an_import_that_fails_at_store_time_leaves_nothing(pool: PgPool) {
    let t = Teams::start(pool).await;
    let (_, env) = shop(&t).await;
    let dev = t.developer.cookie();
    // A service that holds host port 18931 (machine-wide: checked only when stored).
    let holder = json!({"name": "holder", "image": "nginx:1", "environment_id": env,
                        "ports": [{"container": 80, "host": 18931}]});
    let (status, body) = call(&t.s, &dev, "POST", "/api/v1/services", Some(holder)).await;
    assert_eq!(status, 201, "{body}");
    let audit_before = t.s.count("audit_log").await;
    let deployments_before = t.s.count("deployments").await;
    let file = "services:
  first:
    image: nginx:1
    environment:
      PEER: ${{ second.HOST }}
  second:
    image: nginx:1
    ports: [\"18931:80\"]
";
    let path = format!("/api/v1/environments/{env}/compose");
    // The file itself is fine (the preview creates both, `first` referring to `second`) …
    let (status, plan) = call(
        &t.s,
        &dev,
        "POST",
        &format!("{path}?dry_run=true"),
        Some(json!({ "yaml": file })),
    )
    .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["changes"].as_array().unwrap().len(), 3, "{plan}");
    // … but the second service's port is taken when it is stored: nothing is kept, not
    // even the first service, its deployment or an audit entry.
    let (status, body) = call(&t.s, &dev, "POST", &path, Some(json!({ "yaml": file }))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["fields"][0]["field"], "services.second.ports[0].host",
        "{body}"
    );
    assert!(body.to_string().contains("18931"), "{body}");
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM services ORDER BY name")
        .fetch_all(&t.s.pool)
        .await
        .unwrap();
    assert_eq!(names, ["holder"]);
    assert_eq!(t.s.count("deployments").await, deployments_before);
    assert_eq!(t.s.count("audit_log").await, audit_before);

    // With the port free, the same file goes in whole, audited per service and once.
    let file = file.replace("18931:80", "80");
    let (status, plan) = call(&t.s, &dev, "POST", &path, Some(json!({ "yaml": file }))).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(t.s.count("services").await, 3);
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE id > (SELECT max(id) FROM audit_log) - 3 ORDER BY id",
    )
    .fetch_all(&t.s.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "service.create",
            "service.create",
            "environment.compose_import"
        ]
    );
}

/// A plain form post to the compose form's action, as a browser without JavaScript sends
/// it: the status and the page that answers.
async fn post_form(t: &Teams, env: &str, yaml: &str, intent: &str) -> (u16, String) {
    let r = t
        .owner
        .client
        .post(t.s.url(&format!("/environments/{env}/compose")))
        .header("accept", "text/html,application/xhtml+xml")
        .form(&[("yaml", yaml), ("intent", intent)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[sqlx::test(migrations = false)]
async fn the_compose_form_works_without_javascript(pool: PgPool) {
    let t = Teams::start(pool).await;
    let (project, env) = shop(&t).await;
    // The tab's form posts to the plain route, the file in `yaml`, the button in `intent`.
    let tab =
        t.s.page(&t.owner.client, &format!("/projects/{project}?env={env}"))
            .await;
    assert!(
        tab.contains(&format!("action=\"/environments/{env}/compose\"")),
        "{tab}"
    );
    assert!(
        tab.contains("name=\"yaml\"") && tab.contains("value=\"import\""),
        "{tab}"
    );
    assert!(tab.contains("/pkg/berth.js"), "a page hydrates: {tab}");

    let file = "services:\n  web:\n    image: nginx:1\n  cache:\n    image: redis:7\n";
    let (status, page) = post_form(&t, &env, file, "preview").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Preview: nothing is stored until Create."),
        "{page}"
    );
    assert!(
        page.contains("data-service=\"web\"") && page.contains("data-service=\"cache\""),
        "{page}"
    );
    assert!(
        page.contains("image: redis:7"),
        "the file stays in its box: {page}"
    );
    assert!(
        !page.contains("/pkg/berth.js"),
        "the answer does not hydrate: {page}"
    );
    assert_eq!(t.s.count("services").await, 0, "a preview stores nothing");

    let (status, page) = post_form(&t, &env, file, "import").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Imported: the new and changed services are deploying."),
        "{page}"
    );
    assert_eq!(t.s.count("services").await, 2);
    // The page is the environment's tab: the new services are listed.
    assert!(page.contains("data-environment=\"production\""), "{page}");

    // A refused file: every problem by path, nothing stored.
    let bad = "services:\n  db:\n    image: postgres:16\n    privileged: true\n    volumes: [\"/:/root\"]\n";
    let (status, page) = post_form(&t, &env, bad, "import").await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("data-path=\"services.db.privileged\""),
        "{page}"
    );
    assert!(
        page.contains("data-path=\"services.db.volumes[0]\""),
        "{page}"
    );
    assert_eq!(t.s.count("services").await, 2);

    // A viewer is refused, and another team's member finds no such environment.
    let r = t
        .viewer
        .client
        .post(t.s.url(&format!("/environments/{env}/compose")))
        .header("accept", "text/html")
        .form(&[("yaml", file), ("intent", "import")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = t
        .outsider
        .client
        .post(t.s.url(&format!("/environments/{env}/compose")))
        .header("accept", "text/html")
        .form(&[("yaml", file), ("intent", "preview")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
