//! Where Berth connects on a team's behalf, against the real server, real git and a real
//! TCP listener standing in for an internal service: repositories on loopback, link-local,
//! private and metadata addresses are refused (at save, and again when a build connects)
//! until the instance owner allows private targets; local repositories only below
//! BERTH_GIT_LOCAL_ROOT; a stored token or registry password never follows its definition
//! to another host; and only the instance owner changes the instance settings.

mod common;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use common::api::Api;
use common::team::{call, Teams};
use common::{quick_worker, TestServer};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP listener on 127.0.0.1 that records the head of every HTTP request it gets and
/// answers 404 (so git gives up at once).
struct Recorder {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start() -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf).to_lowercase());
                    let _ = conn
                        .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Recorder { port, heads, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// Waits for a request whose head contains `needle`.
    async fn until(&self, needle: &str, secs: u64) -> String {
        let start = Instant::now();
        loop {
            if let Some(h) = self.heads().into_iter().find(|h| h.contains(needle)) {
                return h;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "no request with {needle:?} in {secs} s; got {:?}",
                self.heads()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn git_service(name: &str, repo: &str, token: Option<&str>) -> Value {
    let mut git = json!({ "repo": repo, "branch": "main" });
    if let Some(t) = token {
        git["credentials"] = json!({ "kind": "token", "token": t });
    }
    json!({ "name": name, "git": git })
}

fn basic(token: &str) -> String {
    format!(
        "authorization: basic {}",
        STANDARD
            .encode(format!("x-access-token:{token}"))
            .to_lowercase()
    )
}

async fn post_service(api: &Api, spec: Value) -> (u16, Value) {
    api.call(reqwest::Method::POST, "/api/v1/services", Some(spec))
        .await
}

async fn put_service(api: &Api, id: &str, spec: Value) -> (u16, Value) {
    api.call(
        reqwest::Method::PUT,
        &format!("/api/v1/services/{id}"),
        Some(spec),
    )
    .await
}

async fn allow_private(api: &Api, allow: bool) {
    let (status, body) = api
        .call(
            reqwest::Method::PUT,
            "/api/v1/instance/settings",
            Some(json!({ "allow_private_targets": allow })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["allow_private_targets"], allow);
}

/// The one refused field of a 422, and its message.
fn refused_field(status: u16, body: &Value) -> (String, String) {
    assert_eq!(status, 422, "{body}");
    let f = &body["fields"][0];
    (
        f["field"].as_str().unwrap_or_default().to_owned(),
        f["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[sqlx::test(migrations = false)]
async fn internal_repository_addresses_are_refused_until_the_owner_allows_them(pool: PgPool) {
    let api = Api::start(pool.clone(), quick_worker()).await;
    let internal = Recorder::start().await;

    // (a) A loopback repository: refused at save, and nothing connects to it.
    let (status, body) =
        post_service(&api, git_service("loop", &internal.url("/a.git"), None)).await;
    let (field, message) = refused_field(status, &body);
    assert_eq!(field, "git.repo");
    assert!(
        message.contains("127.0.0.1 is a loopback address"),
        "{message}"
    );
    // (b) Every internal address, however it is written, with the address message.
    for (repo, what) in [
        ("http://[::1]/x", "::1 is a loopback address"),
        ("http://169.254.169.254/x", "cloud metadata"),
        ("http://10.0.0.1/x", "private address"),
        ("http://0x7f.1/x", "127.0.0.1 is a loopback address"),
        ("http://[::ffff:169.254.169.254]/x", "cloud metadata"),
        ("git@192.168.1.1:acme/app.git", "private address"),
        ("ssh://git@[fd00:ec2::254]/app.git", "cloud metadata"),
        (
            "https://localhost/app.git",
            "localhost is a loopback address",
        ),
    ] {
        let (status, body) = post_service(&api, git_service("internal", repo, None)).await;
        let (field, message) = refused_field(status, &body);
        assert_eq!(field, "git.repo", "{repo}");
        assert!(message.contains(what), "{repo}: {message}");
    }
    // Transport helpers stay refused.
    let (status, body) = post_service(&api, git_service("helper", "ext::sh", None)).await;
    assert!(refused_field(status, &body).1.contains("Transport helpers"));
    // (c) A local repository outside BERTH_GIT_LOCAL_ROOT (the tests' temp folder).
    let (status, body) =
        post_service(&api, git_service("local", "file:///srv/git/app.git", None)).await;
    let (field, message) = refused_field(status, &body);
    assert_eq!(field, "git.repo");
    assert!(message.contains("BERTH_GIT_LOCAL_ROOT"), "{message}");
    assert_eq!(api.server.count("services").await, 0, "nothing was stored");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(internal.heads().is_empty(), "{:?}", internal.heads());

    // With the owner's setting on, the same repository is saved and the build reaches it.
    allow_private(&api, true).await;
    let (status, body) =
        post_service(&api, git_service("loop", &internal.url("/a.git"), None)).await;
    assert_eq!(status, 201, "{body}");
    internal.until("get /a.git/info/refs", 60).await;
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'instance.settings'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

#[sqlx::test(migrations = false)]
async fn a_stored_token_never_follows_the_repository_to_another_host(pool: PgPool) {
    let api = Api::start(pool.clone(), quick_worker()).await;
    allow_private(&api, true).await;
    let (first, second) = (Recorder::start().await, Recorder::start().await);
    let id = api
        .create(git_service(
            "private",
            &first.url("/a.git"),
            Some("s3cret-token"),
        ))
        .await;
    first.until(&basic("s3cret-token"), 60).await;
    let stored_repo = || async {
        sqlx::query_scalar::<_, String>("SELECT spec->'git'->>'repo' FROM services")
            .fetch_one(&pool)
            .await
            .unwrap()
    };

    // Another host with the token left empty ("keep the stored one"): refused, nothing
    // stored, and the other host never hears the token.
    let (status, body) = put_service(
        &api,
        &id,
        git_service("private", &second.url("/b.git"), Some("")),
    )
    .await;
    let (field, message) = refused_field(status, &body);
    assert_eq!(field, "git.credentials.token");
    assert_eq!(
        message,
        "The repository moved to another host: enter the token again."
    );
    assert_eq!(stored_repo().await, first.url("/a.git"));
    // Another scheme on the same host and port is another origin too.
    let https = format!("https://127.0.0.1:{}/a.git", first.port);
    let (status, body) = put_service(&api, &id, git_service("private", &https, Some(""))).await;
    assert_eq!(refused_field(status, &body).0, "git.credentials.token");

    // The same origin keeps the stored token.
    let (status, body) = put_service(
        &api,
        &id,
        git_service("private", &first.url("/b.git"), Some("")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let head = first.until("get /b.git/info/refs", 60).await;
    assert!(head.contains(&basic("s3cret-token")), "{head}");

    // Given again, the token goes to the new host.
    let (status, body) = put_service(
        &api,
        &id,
        git_service("private", &second.url("/b.git"), Some("new-token")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    second.until(&basic("new-token"), 60).await;
    assert!(
        !second
            .heads()
            .iter()
            .any(|h| h.contains(&basic("s3cret-token"))),
        "{:?}",
        second.heads()
    );
}

#[sqlx::test(migrations = false)]
async fn a_registry_password_never_follows_the_image_to_another_registry(pool: PgPool) {
    let server = TestServer::start(pool.clone()).await;
    let owner = common::team::Caller::Cookie(server.owner().await);
    let spec = |image: &str, password: &str| {
        json!({ "name": "pulled", "image": image, "replicas": 0,
                "registry_auth": { "username": "robot", "password": password } })
    };
    let (status, body) = call(
        &server,
        &owner,
        "POST",
        "/api/v1/services",
        Some(spec("localhost:5000/a:1", "pw")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let path = format!("/api/v1/services/{}", body["id"].as_str().unwrap());
    let (status, body) = call(
        &server,
        &owner,
        "PUT",
        &path,
        Some(spec("localhost:5001/a:1", "")),
    )
    .await;
    let (field, message) = refused_field(status, &body);
    assert_eq!(field, "registry_auth.password");
    assert!(message.contains("another registry"), "{message}");
    let image: String = sqlx::query_scalar("SELECT spec->>'image' FROM services")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(image, "localhost:5000/a:1", "nothing stored");
    let (status, body) = call(
        &server,
        &owner,
        "PUT",
        &path,
        Some(spec("localhost:5000/a:2", "")),
    )
    .await;
    assert_eq!(status, 200, "the same registry keeps it: {body}");
    let (status, body) = call(
        &server,
        &owner,
        "PUT",
        &path,
        Some(spec("localhost:5001/a:2", "pw2")),
    )
    .await;
    assert_eq!(status, 200, "given again: {body}");
}

#[sqlx::test(migrations = false)]
async fn only_the_instance_owner_changes_the_instance_settings(pool: PgPool) {
    let t = Teams::start(pool.clone()).await;
    let allow = json!({ "allow_private_targets": true });
    // An admin of the owner's team, and the owner of another team: 403.
    for who in [&t.admin, &t.outsider] {
        let (status, body) = call(
            &t.s,
            &who.cookie(),
            "PUT",
            "/api/v1/instance/settings",
            Some(allow.clone()),
        )
        .await;
        assert_eq!(status, 403, "{}: {body}", who.name);
        let (status, _) = call(
            &t.s,
            &who.cookie(),
            "GET",
            "/api/v1/instance/settings",
            None,
        )
        .await;
        assert_eq!(status, 403);
    }
    let (status, body) = call(
        &t.s,
        &t.owner.cookie(),
        "GET",
        "/api/v1/instance/settings",
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({ "allow_private_targets": false }))
    );
    let (status, body) = call(
        &t.s,
        &t.owner.cookie(),
        "PUT",
        "/api/v1/instance/settings",
        Some(allow.clone()),
    )
    .await;
    assert_eq!((status, body), (200, allow));

    // The team page draws the form for the instance owner alone, with the stored value.
    let page = t.s.page(&t.owner.client, "/team").await;
    let form = page
        .split("id=\"instance-form\"")
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
        .expect("the instance owner's team page has the instance form");
    assert!(form.contains("checked"), "the setting shown on");
    for who in [&t.admin, &t.outsider] {
        let page = t.s.page(&who.client, "/team").await;
        assert!(
            page.contains("id=\"team-title\""),
            "{}: the page itself",
            who.name
        );
        assert!(
            !page.contains("instance-form"),
            "{} sees no instance form",
            who.name
        );
    }
    let (status, _) = call(
        &t.s,
        &t.owner.cookie(),
        "PUT",
        "/api/v1/instance/settings",
        Some(json!({ "allow_private_targets": "yes" })),
    )
    .await;
    assert_eq!(status, 400, "a body of the wrong shape");
}
