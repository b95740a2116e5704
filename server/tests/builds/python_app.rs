//! A real application pushed to deploy: a git repository holding a Python (Flask) web app
//! whose Dockerfile builds `FROM` an image made of Debian's packages, as a framework app's
//! repository does.

use crate::common::api::Api;
use crate::common::debian_images;
use crate::common::git_repo::Repo;
use crate::common::quick_worker;
use crate::fixtures::{deliver, finished, rotate, served_on, BuiltImages};
use serde_json::json;
use sqlx::PgPool;

/// `GET /` of the live replica on the web app's port.
async fn answer(api: &Api, id: &str) -> String {
    served_on(api, id, debian_images::WEB_PORT).await
}

#[sqlx::test(migrations = false)]
async fn a_python_app_built_from_a_debian_base_is_pushed_and_rolled_out(pool: PgPool) {
    let files = tokio::task::spawn_blocking(debian_images::web_app_repository_files)
        .await
        .unwrap();
    let _images = BuiltImages("flask-app");
    let api = Api::start(pool, quick_worker()).await;
    let repo = Repo::new();
    let first = repo.commit_files("main", &files, "Flask app");
    let id = api
        .create(json!({
            "name": "flask-app",
            "git": { "repo": repo.url(), "branch": "main" },
            "env": [{ "key": "APP_VERSION", "value": "from env" }],
            "health_check": {
                "probe": { "kind": "http", "path": "/", "port": debian_images::WEB_PORT },
                "interval_s": 1, "timeout_s": 2, "retries": 1
            }
        }))
        .await;
    let d = finished(&api, &id, 1, 180).await;
    assert_eq!(d["state"], "succeeded", "{d:#}");
    assert_eq!(d["commit"]["sha"], first.as_str());
    assert!(
        answer(&api, &id).await.ends_with("version from env\n"),
        "the Python app serves"
    );

    // A push changing the app (its Dockerfile still FROM the base) is built and rolled out.
    let mut changed = files.clone();
    for (path, contents) in changed.iter_mut() {
        if path == "app.py" {
            *contents = contents.replace("hello from", "greetings from");
        }
    }
    let second = repo.commit_files("main", &changed, "Greet differently");
    let secret = rotate(&api, &id).await;
    let payload = serde_json::to_vec(&json!({
        "ref": "refs/heads/main", "before": first, "after": second,
        "repository": { "full_name": "acme/flask" },
        "head_commit": { "id": second, "message": "Greet differently",
                         "author": { "name": "Ada Lovelace", "email": "ada@example.com" } },
        "commits": []
    }))
    .unwrap();
    let (status, body) = deliver(&api, "github", &id, &secret, "push", "d-2", payload).await;
    assert_eq!(status, 202, "{body}");
    let d = finished(&api, &id, 2, 180).await;
    assert_eq!(d["state"], "succeeded", "{d:#}");
    let served = answer(&api, &id).await;
    assert!(served.starts_with("greetings from"), "{served}");
}
