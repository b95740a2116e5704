//! The worker against the real Docker engine and Postgres: services defined through the
//! REST API are deployed, scaled, rolled out, rolled back, repaired and reported.

mod common;

use common::api::Api;
use common::docker::{docker, instance_containers};
use common::quick_worker;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};

async fn http_get(ip: &str, path: &str) -> String {
    common::get_text(&format!("http://{ip}:8080{path}")).await
}

fn ids(view: &Value) -> Vec<String> {
    let mut ids: Vec<String> = view["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn first_ip(view: &Value) -> String {
    view["containers"][0]["ip"]
        .as_str()
        .expect("container ip")
        .to_owned()
}

#[sqlx::test(migrations = false)]
async fn deploys_scales_rolls_out_and_deletes(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let mut spec = api.spec("web");
    spec["env"] = json!([{ "key": "GREETING", "value": "one" }]);
    let id = api.create(spec.clone()).await;

    let view = api.running(&id, 1).await;
    assert_eq!(view["latest_deployment"]["state"], "succeeded");
    assert_eq!(view["live_deployment"], 1);
    let ip = first_ip(&view);
    assert_eq!(http_get(&ip, "/").await, "hello from berth\n");
    assert!(http_get(&ip, "/cgi-bin/env")
        .await
        .contains("GREETING=one\n"));
    let first = ids(&view);

    // Scale 1 → 3: two replicas are added, the first one is kept.
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/services/{id}/scale"),
            Some(json!({"replicas": 3})),
        )
        .await;
    assert_eq!((status, body["change"].as_str()), (200, Some("scale")));
    let view = api.running(&id, 3).await;
    assert!(
        ids(&view).contains(&first[0]),
        "scaling up replaces nothing"
    );
    // Scale 3 → 1.
    api.call(
        reqwest::Method::POST,
        &format!("/api/v1/services/{id}/scale"),
        Some(json!({"replicas": 1})),
    )
    .await;
    let view = api.running(&id, 1).await;
    assert_eq!(ids(&view), first, "scaling down keeps replica 0");

    // An env change rolls out: new replica healthy first, then the old one goes.
    spec["env"] = json!([{ "key": "GREETING", "value": "two" }]);
    let body = api.put(&id, spec.clone()).await;
    assert_eq!(body["change"], "rollout");
    let view = api
        .until(&id, 40, "the rollout", |v| {
            v["latest_deployment"]["number"] == 4 && v["latest_deployment"]["state"] == "succeeded"
        })
        .await;
    let view = if view["containers"].as_array().unwrap().len() == 1 {
        view
    } else {
        api.running(&id, 1).await
    };
    assert_ne!(ids(&view), first, "the container was replaced");
    assert!(http_get(&first_ip(&view), "/cgi-bin/env")
        .await
        .contains("GREETING=two\n"));
    let log = api
        .deployment_log(view["latest_deployment"]["id"].as_str().unwrap())
        .await;
    let started = log
        .iter()
        .position(|l| l.starts_with("Started replica 0"))
        .expect("started line");
    let removed = log
        .iter()
        .position(|l| l.starts_with("Removed container"))
        .expect("removed line");
    let live = log
        .iter()
        .position(|l| l.contains("is live"))
        .expect("live line");
    assert!(
        started < removed && removed <= live,
        "start-first order: {log:#?}"
    );

    // Stop and start.
    api.call(
        reqwest::Method::POST,
        &format!("/api/v1/services/{id}/stop"),
        None,
    )
    .await;
    api.until(&id, 30, "stopped", |v| {
        v["status"]["health"] == "stopped" && v["containers"].as_array().unwrap().is_empty()
    })
    .await;
    api.call(
        reqwest::Method::POST,
        &format!("/api/v1/services/{id}/start"),
        None,
    )
    .await;
    api.running(&id, 1).await;

    // Delete: the containers go, then the service.
    let (status, _) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/services/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 202);
    let start = Instant::now();
    while api
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/services/{id}"),
            None,
        )
        .await
        .0
        != 404
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "service not deleted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(instance_containers(&api.server.instance).is_empty());
}

#[sqlx::test(migrations = false)]
async fn an_unhealthy_rollout_is_rolled_back_and_the_old_version_keeps_serving(pool: PgPool) {
    let settings = server::worker::WorkerSettings {
        deploy_timeout: Duration::from_secs(6),
        ..quick_worker()
    };
    let api = Api::start(pool, settings).await;
    let mut spec = api.spec("steady");
    let id = api.create(spec.clone()).await;
    let before = api.running(&id, 1).await;

    spec["health_check"]["probe"]["path"] = json!("/missing");
    api.put(&id, spec.clone()).await;
    let view = api
        .until(&id, 40, "the rollback", |v| {
            v["latest_deployment"]["state"] == "rolled_back"
        })
        .await;
    let reason = view["latest_deployment"]["reason"].as_str().unwrap();
    // The deadline covers the check (1 s × 1 retry) and a 10 s margin: 11 s, not 6.
    assert!(reason.contains("not ready within 11 s"), "{reason}");
    assert!(reason.contains("GET /missing"), "{reason}");
    assert!(reason.contains("deployment #1 keeps serving"), "{reason}");
    let view = api.running(&id, 1).await;
    assert_eq!(
        ids(&view),
        ids(&before),
        "the old replica was never stopped"
    );
    assert_eq!(http_get(&first_ip(&view), "/").await, "hello from berth\n");
    assert_eq!(view["live_deployment"], 1);

    // An image that cannot be pulled fails the same way, with Docker's reason.
    spec["health_check"]["probe"]["path"] = json!("/index.html");
    spec["image"] = json!("registry.invalid/berth/nothing:1");
    api.put(&id, spec).await;
    let view = api
        .until(&id, 40, "the failed pull", |v| {
            v["latest_deployment"]["number"] == 3
                && v["latest_deployment"]["state"] == "rolled_back"
        })
        .await;
    let reason = view["latest_deployment"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("could not pull image registry.invalid/berth/nothing:1: "),
        "{reason}"
    );
    assert_eq!(ids(&api.running(&id, 1).await), ids(&before));
}

/// Case 6 of issue 16: a new image whose container exits at once was rolled back only
/// after the whole deadline. A crashing new replica fails the rollout now, with its exit
/// code and last lines; the deadline (here 120 s) stays the upper bound.
#[sqlx::test(migrations = false)]
async fn a_rollout_whose_new_replica_crashes_is_rolled_back_before_its_deadline(pool: PgPool) {
    let settings = server::worker::WorkerSettings {
        deploy_timeout: Duration::from_secs(120),
        ..quick_worker()
    };
    let api = Api::start(pool, settings).await;
    let mut spec = api.spec("crashing");
    let id = api.create(spec.clone()).await;
    let before = api.running(&id, 1).await;

    // Restarted by Docker (restart policy unless-stopped), it crashes again and again.
    spec["command"] = json!(["sh", "-c", "echo cannot read /etc/app.toml >&2; exit 3"]);
    api.put(&id, spec.clone()).await;
    let view = api
        .until(&id, 30, "the rollback of a crashing rollout", |v| {
            v["latest_deployment"]["number"] == 2
                && v["latest_deployment"]["state"] == "rolled_back"
        })
        .await;
    let reason = view["latest_deployment"]["reason"].as_str().unwrap();
    assert!(reason.contains("new replica 0 keeps crashing"), "{reason}");
    assert!(reason.contains("exit code 3"), "{reason}");
    assert!(reason.contains("\"cannot read /etc/app.toml\""), "{reason}");
    assert!(reason.contains("deployment #1 keeps serving"), "{reason}");
    let view = api.running(&id, 1).await;
    assert_eq!(ids(&view), ids(&before), "the old replica keeps serving");
    assert_eq!(http_get(&first_ip(&view), "/").await, "hello from berth\n");
    assert_eq!(view["live_deployment"], 1);

    // With restart policy "no" nothing starts it again: the first exit fails the rollout.
    spec["restart_policy"] = json!("no");
    api.put(&id, spec).await;
    let view = api
        .until(&id, 30, "the rollback of an exited rollout", |v| {
            v["latest_deployment"]["number"] == 3
                && v["latest_deployment"]["state"] == "rolled_back"
        })
        .await;
    let reason = view["latest_deployment"]["reason"].as_str().unwrap();
    assert!(reason.contains("exited with exit code 3"), "{reason}");
    assert!(reason.contains("restart policy (no)"), "{reason}");
    assert!(reason.contains("cannot read /etc/app.toml"), "{reason}");
    assert_eq!(ids(&api.running(&id, 1).await), ids(&before));
}

#[sqlx::test(migrations = false)]
async fn drift_is_repaired_and_orphans_are_removed(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let id = api.create(api.spec("drifty")).await;
    let first = ids(&api.running(&id, 1).await);

    // Removed by hand: it comes back.
    docker(&["rm", "-f", &first[0]]);
    let view = api
        .until(&id, 20, "a replacement", |v| {
            v["status"]["ready"] == 1 && ids(v) != first && ids(v).len() == 1
        })
        .await;
    let second = ids(&view);
    // Stopped by hand: it is started again.
    docker(&["stop", "-t", "1", &second[0]]);
    api.until(&id, 20, "a restart", |v| {
        v["status"]["ready"] == 1 && ids(v) == second
    })
    .await;

    // A container with this Berth's labels that no service wants is removed.
    let orphan = docker(&[
        "create",
        "--label",
        "berth.managed=true",
        "--label",
        &format!("berth.instance={}", api.server.instance),
        "--label",
        &format!("berth.service={}", uuid::Uuid::new_v4()),
        &api.image,
    ]);
    docker(&["start", &orphan]);
    let start = Instant::now();
    while instance_containers(&api.server.instance)
        .iter()
        .any(|c| orphan.starts_with(c.as_str()))
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "orphan not removed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        instance_containers(&api.server.instance).len(),
        1,
        "no duplicates"
    );
}

/// The live replica crash-loops (a rollout's crashing replica is removed with its failed
/// rollout, so this one went live first and crashes when the test says so): it is flagged,
/// with its exit code and last lines, and nothing removes it.
#[sqlx::test(migrations = false)]
async fn a_crash_looping_replica_is_flagged_with_its_exit_code_and_logs(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let mut spec = api.spec("crashy");
    spec["restart_policy"] = json!("always");
    // Serves (httpd in the background) until /crash exists; every later start gives up.
    spec["command"] = json!([
        "sh",
        "-c",
        "test -e /ran && { echo giving up >&2; exit 3; }; touch /ran; \
         httpd -p 8080 -h /www; while ! test -e /crash; do sleep 0.2; done; exit 1"
    ]);
    let id = api.create(spec).await;
    let live = ids(&api.running(&id, 1).await);
    docker(&["exec", &live[0], "/bin/busybox", "touch", "/crash"]);
    let view = api
        .until(&id, 40, "crash-looping", |v| {
            v["status"]["health"] == "crash_looping"
        })
        .await;
    let c = &view["containers"][0];
    assert_eq!(ids(&view), live, "the same container, restarted by Docker");
    assert!(c["restart_count"].as_i64().unwrap() >= 3, "{c}");
    assert_eq!(c["exit_code"], 3);
    assert!(
        c["last_logs"].as_str().unwrap_or("").contains("giving up"),
        "{c}"
    );
    assert_eq!(view["latest_deployment"]["state"], "succeeded");
}

#[sqlx::test(migrations = false)]
async fn env_values_arrive_literally_and_secrets_stay_sealed(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let weird = "line1\nline2 \"double\" 'single' $(id) `id` ${HOME} ; rm -rf / #";
    let mut spec = api.spec("literal");
    spec["env"] = json!([
        { "key": "WEIRD", "value": weird },
        { "key": "API_TOKEN", "value": "s3cr3t-token-value", "secret": true }
    ]);
    // The image is local, so these are never used for a pull, but they are kept sealed.
    spec["registry_auth"] = json!({ "username": "deployer", "password": "registry-pa55word" });
    let id = api.create(spec.clone()).await;
    let view = api.running(&id, 1).await;
    let env = http_get(&first_ip(&view), "/cgi-bin/env").await;
    assert!(env.contains(&format!("WEIRD={weird}\n")), "{env}");
    assert!(env.contains("API_TOKEN=s3cr3t-token-value\n"), "{env}");

    // Never sent back, never stored in the clear.
    assert_eq!(view["spec"]["env"][1]["value"], "********");
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT spec::text FROM services UNION ALL SELECT spec::text FROM deployments",
    )
    .fetch_all(&api.server.pool)
    .await
    .unwrap();
    assert!(
        stored.iter().all(|s| !s.contains("s3cr3t-token-value")),
        "{stored:?}"
    );
    assert!(
        stored.iter().all(|s| !s.contains("registry-pa55word")),
        "{stored:?}"
    );
    assert_eq!(view["spec"]["registry_auth"]["password"], "********");
    assert_eq!(view["spec"]["registry_auth"]["username"], "deployer");

    // Sent back empty on an edit, the stored value is kept (no new rollout).
    spec["env"][1]["value"] = json!("");
    spec["registry_auth"]["password"] = json!("");
    let body = api.put(&id, spec).await;
    assert_eq!(body["change"], "none");
}

#[sqlx::test(migrations = false)]
async fn a_host_port_in_use_fails_the_deployment_with_the_reason(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let squatter = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    let mut spec = api.spec("porty");
    spec["ports"] = json!([{ "container": 8080, "host": port }]);
    let id = api.create(spec).await;
    let view = api
        .until(&id, 40, "the failed deployment", |v| {
            v["latest_deployment"]["state"] == "failed"
                && v["containers"].as_array().unwrap().is_empty()
        })
        .await;
    let reason = view["latest_deployment"]["reason"].as_str().unwrap();
    assert_eq!(
        reason,
        format!("host port {port} is already in use on this machine")
    );
    assert_eq!(view["status"]["health"], "failed");
    drop(squatter);
}

#[sqlx::test(migrations = false)]
async fn replicas_starting_together_share_one_team_network(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let mut spec = api.spec("many");
    spec["replicas"] = json!(4);
    let id = api.create(spec).await;
    api.running(&id, 4).await;
    let label = format!("label=berth.instance={}", api.server.instance);
    let networks = docker(&["network", "ls", "-q", "--filter", &label]);
    assert_eq!(
        networks.lines().count(),
        1,
        "one network for the team, however many replicas start at once"
    );
}
