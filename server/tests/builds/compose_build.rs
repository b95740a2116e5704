//! A compose file's `build:` built from the environment's git repository: a real Flask app
//! in a folder of a real git repository, its Dockerfile `FROM` an image made of Debian's
//! packages, built with the file's build argument, deployed, answering; its webhook builds
//! the next push; export writes the `build:` back and a re-import changes nothing.

use crate::common::api::Api;
use crate::common::debian_images::{self, WEB_PORT};
use crate::common::git_repo::Repo;
use crate::common::quick_worker;
use crate::fixtures::{deliver, finished, rotate, served_on, BuiltImages};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

/// The web app under `app/`, its Dockerfile taking `APP_VERSION` (which the app prints)
/// as a build argument.
fn app_in_a_folder(files: Vec<(String, String)>) -> Vec<(String, String)> {
    files
        .into_iter()
        .map(|(path, contents)| {
            let contents = if path == "Dockerfile" {
                contents.replace(
                    "ENV PYTHONUNBUFFERED=1\n",
                    "ARG APP_VERSION=unset\nENV PYTHONUNBUFFERED=1 APP_VERSION=${APP_VERSION}\n",
                )
            } else {
                contents
            };
            (format!("app/{path}"), contents)
        })
        .collect()
}

async fn import(api: &Api, env: &str, yaml: &str, dry_run: bool) -> (u16, Value) {
    api.call(
        Method::POST,
        &format!("/api/v1/environments/{env}/compose?dry_run={dry_run}"),
        Some(json!({ "yaml": yaml })),
    )
    .await
}

#[sqlx::test(migrations = false)]
async fn a_compose_build_from_the_environments_repository_is_built_and_answers(pool: PgPool) {
    let files = tokio::task::spawn_blocking(debian_images::web_app_repository_files)
        .await
        .unwrap();
    let files = app_in_a_folder(files);
    let _images = BuiltImages("compose-web");
    let api = Api::start(pool, quick_worker()).await;
    let repo = Repo::new();
    let first = repo.commit_files("main", &files, "Flask app under app/");
    let (status, project) = api
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(json!({"name": "shop"})),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    let env = project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let yaml = format!(
        "services:
  compose-web:
    build:
      context: ./app
      dockerfile: Dockerfile
      args:
        APP_VERSION: from a build arg
    healthcheck:
      interval: 1s
      timeout: 2s
      retries: 1
    x-berth:
      http_check: {{path: /, port: {WEB_PORT}}}
"
    );

    // Without a repository the build is refused, at its path.
    let (status, body) = import(&api, &env, &yaml, false).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "services.compose-web.build");
    assert_eq!(api.server.count("services").await, 0);

    // With one, the import creates a git service from it and the file's build section.
    let (status, view) = api
        .call(
            Method::PUT,
            &format!("/api/v1/environments/{env}/repository"),
            Some(json!({"repo": repo.url(), "branch": "main"})),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    let (status, plan) = import(&api, &env, &yaml, false).await;
    assert_eq!(status, 200, "{plan}");
    let (_, list) = api
        .call(
            Method::GET,
            &format!("/api/v1/environments/{env}/services"),
            None,
        )
        .await;
    let service = &list[0];
    let id = service["id"].as_str().unwrap().to_owned();
    assert_eq!(
        service["spec"]["git"],
        json!({"repo": repo.url(), "branch": "main", "context": "app", "dockerfile": "Dockerfile",
               "build_args": [{"key": "APP_VERSION", "value": "from a build arg"}]}),
        "{service:#}"
    );

    // Built from the branch head with the argument, deployed, answering.
    let d = finished(&api, &id, 1, 240).await;
    assert_eq!(d["state"], "succeeded", "{d:#}");
    assert_eq!(d["commit"]["sha"], first.as_str());
    let served = served_on(&api, &id, WEB_PORT).await;
    assert!(served.ends_with("version from a build arg\n"), "{served}");

    // Its own webhook builds the next push, as for any git service.
    let mut changed = files.clone();
    for (path, contents) in changed.iter_mut() {
        if path == "app/app.py" {
            *contents = contents.replace("hello from", "greetings from");
        }
    }
    let second = repo.commit_files("main", &changed, "Greet differently");
    let secret = rotate(&api, &id).await;
    let payload = serde_json::to_vec(&json!({
        "ref": "refs/heads/main", "before": first, "after": second,
        "repository": { "full_name": "acme/shop" },
        "head_commit": { "id": second, "message": "Greet differently",
                         "author": { "name": "Ada Lovelace", "email": "ada@example.com" } },
        "commits": []
    }))
    .unwrap();
    let (status, body) = deliver(&api, "github", &id, &secret, "push", "c-2", payload).await;
    assert_eq!(status, 202, "{body}");
    let d = finished(&api, &id, 2, 240).await;
    assert_eq!(d["state"], "succeeded", "{d:#}");
    let served = served_on(&api, &id, WEB_PORT).await;
    assert!(served.starts_with("greetings from"), "{served}");
    assert!(served.ends_with("version from a build arg\n"), "{served}");

    // Export writes the build back (the repository is the environment's: not written);
    // importing the export changes nothing.
    let r = api
        .client
        .get(
            api.server
                .url(&format!("/api/v1/environments/{env}/compose")),
        )
        .send()
        .await
        .unwrap();
    let exported = r.text().await.unwrap();
    assert!(
        exported.contains(
            "    build:\n      context: \"app\"\n      dockerfile: \"Dockerfile\"\n      args:\n        APP_VERSION: \"from a build arg\"\n"
        ),
        "{exported}"
    );
    assert!(!exported.contains("repository:"), "{exported}");
    let (status, plan) = import(&api, &env, &exported, true).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(
        plan["changes"],
        json!([{"action": "unchanged", "service": "compose-web"}]),
        "{exported}"
    );
}
