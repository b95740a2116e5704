//! Health checks that fit real applications, against the real Docker engine, Postgres and
//! real images: a Flask app that checks its `Host` header (issue 17, case 2), a slow
//! starter whose start period is longer than the deploy timeout (case 5), an image's own
//! HEALTHCHECK that starts failing, or is turned off (case 6), and a replica its memory
//! limit kills (case 7).

mod common;

use common::api::Api;
use common::debian_images::{self, WEB_PORT};
use common::docker::docker;
use common::images::BUSYBOX;
use common::quick_worker;
use serde_json::{json, Value};
use server::engine::BuildContext;
use sqlx::PgPool;
use std::time::Duration;

/// The service's timeline, newest first, as "kind: message" lines.
async fn timeline(api: &Api, id: &str) -> Vec<String> {
    let (status, body) = api
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/services/{id}/events?limit=100"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}: {}", e["kind"].as_str().unwrap(), e["message"]))
        .collect()
}

/// Waits (at most `secs`) until a timeline line contains every one of `words`.
async fn until_told(api: &Api, id: &str, secs: u64, words: &[&str]) -> Vec<String> {
    let start = std::time::Instant::now();
    loop {
        let lines = timeline(api, id).await;
        if lines.iter().any(|l| words.iter().all(|w| l.contains(w))) {
            return lines;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            panic!("waited {secs} s for a timeline line with {words:?}; it is:\n{lines:#?}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn finished(v: &Value) -> bool {
    matches!(
        v["latest_deployment"]["state"].as_str(),
        Some("succeeded" | "failed" | "rolled_back")
    )
}

/// The Flask app image (built once and cached by the rig), from async code.
async fn web_app_image() -> String {
    tokio::task::spawn_blocking(debian_images::web_app)
        .await
        .unwrap()
}

fn flask(image: &str, name: &str, domain: &str, host: Option<&str>) -> Value {
    let mut check = json!({
        "probe": { "kind": "http", "path": "/", "port": WEB_PORT },
        "interval_s": 1, "timeout_s": 2, "retries": 1
    });
    if let Some(h) = host {
        check["host"] = json!(h);
    }
    json!({
        "name": name,
        "image": image,
        "env": [{ "key": "ALLOWED_HOSTS", "value": "app.example.test" }],
        "http": { "domains": [domain], "port": WEB_PORT },
        "health_check": check
    })
}

#[sqlx::test(migrations = false)]
async fn a_host_checking_app_is_probed_with_its_domain(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let image = web_app_image().await;

    // Its domain is an allowed host: the probe sends it, the rollout succeeds.
    let ok = api
        .create(flask(&image, "flask", "app.example.test", None))
        .await;
    let view = api.until(&ok, 90, "a finished deployment", finished).await;
    assert_eq!(view["latest_deployment"]["state"], "succeeded", "{view:#}");
    assert_eq!(view["containers"][0]["health"], "healthy");

    // A domain the app does not allow: the app answers 400, and both the container and
    // the failed rollout say so.
    let strict = api
        .create(flask(&image, "strict", "other.example.test", None))
        .await;
    let view = api
        .until(&strict, 60, "the container's note", |v| {
            v["containers"][0]["note"]
                .as_str()
                .is_some_and(|n| n.contains("answered 400"))
        })
        .await;
    let note = view["containers"][0]["note"].as_str().unwrap();
    assert!(note.contains("Host other.example.test"), "{note}");
    let view = api
        .until(&strict, 90, "a finished deployment", finished)
        .await;
    assert_eq!(view["latest_deployment"]["state"], "failed", "{view:#}");
    let reason = view["latest_deployment"]["reason"].as_str().unwrap();
    assert!(reason.contains("answered 400"), "{reason}");
    assert!(
        reason.contains("health check GET / on port 8000"),
        "{reason}"
    );

    // The same domain, with the check's Host set to one the app allows: it succeeds.
    let overridden = api
        .create(flask(
            &image,
            "overridden",
            "third.example.test",
            Some("app.example.test"),
        ))
        .await;
    let view = api
        .until(&overridden, 90, "a finished deployment", finished)
        .await;
    assert_eq!(view["latest_deployment"]["state"], "succeeded", "{view:#}");

    // A Host that is not a host name is refused, naming the field.
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/services",
            Some(flask(&image, "bad", "bad.example.test", Some("app:80"))),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("health_check.host"), "{body}");
}

#[sqlx::test(migrations = false)]
async fn a_slow_starter_gets_its_start_period_beyond_the_deploy_timeout(pool: PgPool) {
    let worker = server::worker::WorkerSettings {
        deploy_timeout: Duration::from_secs(5),
        ..quick_worker()
    };
    let api = Api::start(pool, worker).await;
    // Healthy after ~8 s, longer than the 5 s deploy timeout; its start period says so.
    let id = api
        .create(json!({
            "name": "slow",
            "image": api.image,
            "command": ["sh", "-c", "sleep 8; mkdir -p /tmp; touch /tmp/ok; exec httpd -f -p 8080 -h /www"],
            "health_check": {
                "probe": { "kind": "command", "argv": [BUSYBOX, "test", "-f", "/tmp/ok"] },
                "interval_s": 1, "timeout_s": 1, "retries": 3, "start_period_s": 15
            }
        }))
        .await;
    let view = api.until(&id, 90, "a finished deployment", finished).await;
    assert_eq!(view["latest_deployment"]["state"], "succeeded", "{view:#}");
    let log = api
        .deployment_log(view["latest_deployment"]["id"].as_str().unwrap())
        .await;
    // 15 s start period + 1 s × 3 retries + the 10 s margin.
    assert!(log.iter().any(|l| l.contains("deadline 28 s")), "{log:#?}");
}

/// A web server whose image has its own HEALTHCHECK: healthy while /tmp/ok exists (made
/// at start).
fn self_checking_context() -> BuildContext {
    let busybox = std::fs::read(BUSYBOX).unwrap();
    let mut ctx = BuildContext::new();
    ctx.add_file(
        "Dockerfile",
        b"FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n\
          HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD [\"/bin/busybox\", \"cat\", \"/tmp/ok\"]\n\
          ENTRYPOINT [\"/bin/busybox\"]\n\
          CMD [\"sh\", \"-c\", \"mkdir -p /tmp; echo ok > /tmp/ok; exec httpd -f -p 8080 -h /www\"]\n",
        0o644,
    )
    .unwrap()
    .add_file("busybox", &busybox, 0o755)
    .unwrap()
    .add_file("www/index.html", b"hello\n", 0o644)
    .unwrap();
    ctx
}

struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", &self.0])
            .output();
    }
}

fn container_id(v: &Value) -> String {
    v["containers"][0]["id"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrations = false)]
async fn an_images_own_failing_check_is_told_and_the_replica_replaced(pool: PgPool) {
    let worker = server::worker::WorkerSettings {
        unhealthy_replace_after: Some(Duration::from_secs(4)),
        ..quick_worker()
    };
    let api = Api::start(pool, worker).await;
    let image = Image(common::images::unique_tag("self-checking"));
    api.server
        .engine
        .build_image(&image.0, self_checking_context(), |_| {})
        .await
        .unwrap();
    let id = api
        .create(json!({"name": "checked", "image": image.0}))
        .await;
    let view = api.running(&id, 1).await;
    assert_eq!(view["containers"][0]["health"], "healthy");
    until_told(&api, &id, 20, &["health: ", "Replica 0 is healthy."]).await;
    let first = container_id(&view);

    // As a person would: the file the check reads goes away inside the container.
    docker(&["exec", &first, "/bin/busybox", "rm", "/tmp/ok"]);
    let lines = until_told(
        &api,
        &id,
        30,
        &["Replica 0 is unhealthy", "can't open '/tmp/ok'"],
    )
    .await;
    assert!(
        lines.iter().any(|l| l.starts_with("health: ")),
        "{lines:#?}"
    );
    until_told(
        &api,
        &id,
        30,
        &["Replaced replica 0", "unhealthy for", "the limit is 4 s"],
    )
    .await;
    let view = api
        .until(&id, 40, "a new healthy replica", |v| {
            v["status"]["ready"] == 1
                && v["containers"].as_array().map(Vec::len) == Some(1)
                && v["containers"][0]["id"] != first.as_str()
        })
        .await;
    assert_eq!(view["containers"][0]["health"], "healthy");
}

#[sqlx::test(migrations = false)]
async fn the_images_own_check_can_be_turned_off(pool: PgPool) {
    let worker = server::worker::WorkerSettings {
        unhealthy_replace_after: Some(Duration::from_secs(2)),
        ..quick_worker()
    };
    let api = Api::start(pool, worker).await;
    let image = Image(common::images::unique_tag("self-checking"));
    api.server
        .engine
        .build_image(&image.0, self_checking_context(), |_| {})
        .await
        .unwrap();
    let id = api
        .create(json!({
            "name": "unchecked",
            "image": image.0,
            "health_check": { "probe": { "kind": "none" } }
        }))
        .await;
    let view = api.running(&id, 1).await;
    let first = container_id(&view);
    assert_eq!(
        docker(&["inspect", "-f", "{{json .Config.Healthcheck.Test}}", &first]).trim(),
        r#"["NONE"]"#
    );
    assert_eq!(view["containers"][0]["health"], Value::Null);
    docker(&["exec", &first, "/bin/busybox", "rm", "/tmp/ok"]);
    // Longer than the image's check would need to fail (2 × 1 s) and the replacement
    // limit (2 s), with resyncs every 2 s between: nothing happens to it.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let view = api.running(&id, 1).await;
    assert_eq!(container_id(&view), first);
    let lines = timeline(&api, &id).await;
    assert!(
        !lines.iter().any(|l| l.starts_with("health: ")),
        "{lines:#?}"
    );
}

#[sqlx::test(migrations = false)]
async fn a_replica_killed_by_its_memory_limit_says_out_of_memory(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    // Up long enough to go live, then it allocates ~100 MB under a 16 MB limit, again at
    // every restart.
    let id = api
        .create(json!({
            "name": "hungry",
            "image": api.image,
            "memory_mb": 16,
            "command": [
                "sh", "-c",
                "sleep 2; x=$(head -c 100000000 /dev/zero | tr '\\0' a); sleep 100"
            ]
        }))
        .await;
    let view = api
        .until(&id, 90, "the container's note", |v| {
            v["containers"][0]["note"].as_str() == Some("killed: out of memory (limit 16 MB)")
        })
        .await;
    assert_eq!(view["latest_deployment"]["state"], "succeeded", "{view:#}");
    let c = &view["containers"][0];
    assert_ne!(c["restart_count"], 0, "{c:#}");
    let lines = until_told(
        &api,
        &id,
        60,
        &["is crash-looping", "killed: out of memory (limit 16 MB)"],
    )
    .await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("restarted by Docker") && l.contains("out of memory")),
        "{lines:#?}"
    );
}
