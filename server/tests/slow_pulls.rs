//! Issue 17, case 4: slow pulls. An image of a few MB comes through a slow link (a
//! throttling proxy in front of a real registry): the pull has its own budget
//! (BERTH_PULL_TIMEOUT) and tells its progress in the deployment's log, the rollout's
//! deadline starts once the image is present, a pull past its budget fails the rollout
//! saying so, and a newer deployment stops a pull that is still running.

mod common;

use common::api::Api;
use common::images::{httpd_context, unique_tag};
use common::quick_worker;
use common::registry::{image_id, ImageGuard, Registry};
use common::throttle::ThrottledProxy;
use serde_json::{json, Value};
use server::worker::WorkerSettings;
use sqlx::PgPool;
use std::time::Duration;

/// Size of the incompressible file that makes the image big.
const BLOB_BYTES: usize = 5_000_000;
/// The slow link's rate: the blob takes about 10 s through it.
const SLOW_LINK: u64 = 500_000;

/// Bytes no compressor shrinks (xorshift), different for every `seed`.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Builds a busybox web server with a blob of [`BLOB_BYTES`], pushes it to `registry`
/// as `big:1` and removes it from the engine again (so a pull downloads the blob).
async fn push_big_image(api: &Api, registry: &Registry, guard: &mut ImageGuard) -> String {
    let engine = &api.server.engine;
    let tag = unique_tag("big");
    let mut context = httpd_context("big\n");
    let seed = uuid::Uuid::new_v4().as_u128() as u64;
    context
        .add_file("www/blob", &noise(BLOB_BYTES, seed), 0o644)
        .unwrap();
    engine.build_image(&tag, context, |_| {}).await.unwrap();
    let id = image_id(engine, &tag).await;
    guard.0.push(id.clone());
    registry.push(engine, &tag, "big:1", None).await;
    engine.remove_image(&id).await.unwrap();
    id
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

fn settings(deploy_timeout_s: u64, pull_timeout_s: u64) -> WorkerSettings {
    WorkerSettings {
        deploy_timeout: Duration::from_secs(deploy_timeout_s),
        pull_timeout: Duration::from_secs(pull_timeout_s),
        ..quick_worker()
    }
}

#[sqlx::test(migrations = false)]
async fn a_slow_pull_has_its_own_budget_and_tells_its_progress(pool: PgPool) {
    let mut guard = ImageGuard::default();
    let registry = Registry::start().await;
    let mut api = Api::start(pool, settings(5, 120)).await;
    let id = push_big_image(&api, &registry, &mut guard).await;
    let proxy = ThrottledProxy::start(registry.port(), SLOW_LINK).await;
    let image = format!("{}/big:1", proxy.host());
    guard.0.push(image.clone());

    let service = api.create(spec("big", &image)).await;
    let view = api
        .until(&service, 120, "the slow deployment", |v| {
            v["latest_deployment"]["state"] != "in_progress"
                && v["latest_deployment"]["state"] != "pending"
        })
        .await;
    let deployment = &view["latest_deployment"];
    assert_eq!(deployment["state"], "succeeded", "{deployment:#}");
    assert_eq!(deployment["image_id"], id.as_str());
    let log = api.deployment_log(deployment["id"].as_str().unwrap()).await;
    let progress: Vec<&String> = log
        .iter()
        .filter(|l| l.starts_with(&format!("Pulling {image}: downloading ")))
        .collect();
    assert!(!progress.is_empty(), "progress lines: {log:#?}");
    let pulled = log
        .iter()
        .find(|l| l.starts_with(&format!("Pulled {image} in ")))
        .unwrap_or_else(|| panic!("{log:#?}"));
    let took: f64 = pulled
        .trim_start_matches(&format!("Pulled {image} in "))
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    eprintln!(
        "pulled {BLOB_BYTES} bytes at {SLOW_LINK} B/s in {took} s, {} progress lines",
        progress.len()
    );
    assert!(
        took > 5.0,
        "the pull took longer than the 5 s deadline, which started after it: {took} s"
    );
    api.server.stop_worker_and_clean_up();
}

#[sqlx::test(migrations = false)]
async fn a_pull_past_its_budget_fails_the_rollout_saying_so(pool: PgPool) {
    let mut guard = ImageGuard::default();
    let registry = Registry::start().await;
    let mut api = Api::start(pool, settings(20, 3)).await;
    push_big_image(&api, &registry, &mut guard).await;
    let proxy = ThrottledProxy::start(registry.port(), SLOW_LINK).await;
    let image = format!("{}/big:1", proxy.host());
    guard.0.push(image.clone());

    let service = api.create(spec("timeout", &image)).await;
    let view = api
        .until(&service, 60, "the timed-out pull", |v| {
            v["latest_deployment"]["state"] == "failed"
        })
        .await;
    let reason = view["latest_deployment"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!(
            "pull timed out after 3 s (BERTH_PULL_TIMEOUT) while pulling {image}"
        )),
        "{reason}"
    );
    assert_eq!(view["latest_deployment"]["image_id"], Value::Null);
    api.server.stop_worker_and_clean_up();
}

#[sqlx::test(migrations = false)]
async fn a_newer_deployment_stops_a_running_pull_and_goes_live(pool: PgPool) {
    let mut guard = ImageGuard::default();
    let registry = Registry::start().await;
    let mut api = Api::start(pool, settings(20, 600)).await;
    push_big_image(&api, &registry, &mut guard).await;
    // A link so slow that the pull would take most of an hour.
    let stalled = ThrottledProxy::start(registry.port(), 2_000).await;
    let image = format!("{}/big:1", stalled.host());
    guard.0.push(image.clone());

    let mut definition = spec("stalled", &image);
    let service = api.create(definition.clone()).await;
    let first = api.service(&service).await["latest_deployment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let began = std::time::Instant::now();
    while !api
        .deployment_log(&first)
        .await
        .iter()
        .any(|l| l.starts_with(&format!("Pulling {image}")))
    {
        assert!(began.elapsed() < Duration::from_secs(30), "no pull started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The definition changes to an image the engine has: it goes live while the pull
    // would still run, and the pull is stopped.
    definition["image"] = json!(api.image);
    api.put(&service, definition).await;
    api.until(&service, 60, "the newer deployment live", |v| {
        v["latest_deployment"]["number"] == 2 && v["latest_deployment"]["state"] == "succeeded"
    })
    .await;
    let (_, old) = api
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/deployments/{first}"),
            None,
        )
        .await;
    assert_eq!(old["deployment"]["state"], "superseded", "{old:#}");
    let log = api.deployment_log(&first).await;
    assert!(
        log.iter().any(|l| l.starts_with("Pull stopped")),
        "{log:#?}"
    );
    api.server.stop_worker_and_clean_up();
}
