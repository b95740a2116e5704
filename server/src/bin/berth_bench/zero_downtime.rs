//! `berth-bench zero-downtime`: a request loop through a real Caddy to a routed service of
//! two replicas while it is redeployed three times and rolled back once. Every request
//! must answer 200 with the page; any error or other status counts as failed.
//!
//! The client is reqwest (hyper) with keep-alive, 8 connections in parallel. HTTP/1.1
//! has one unavoidable race: when Caddy reloads its config (each route change) it closes
//! idle keep-alive connections, and a request written onto one at that instant is reset
//! before any answer. Browsers (and curl-like clients) re-send an idempotent request once
//! in that case; so does this loop, and it reports how often as `retried`. A request that
//! got an answer is never re-sent: a wrong status or body, a timeout, or a second
//! connection error counts as failed.

use super::{open, ready, Berth};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use server::proxy::local_caddy::LocalCaddy;
use std::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering},
    Arc, Mutex,
};
use std::time::{Duration, Instant};

const HOST: &str = "zd.berth.test";
const CLIENTS: usize = 8;
/// The loop runs at least this long, whatever the deploys take.
const MIN_LOAD: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    first_failures: Mutex<Vec<String>>,
}

impl Tally {
    fn fail(&self, why: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_failures.lock().unwrap();
        if first.len() < 5 {
            first.push(why);
        }
    }
}

async fn load(url: String, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("an HTTP client");
    while !stop.load(Ordering::Relaxed) {
        tally.requests.fetch_add(1, Ordering::Relaxed);
        let mut sent = client.get(&url).header("host", HOST).send().await;
        if matches!(&sent, Err(e) if !e.is_timeout()) {
            tally.retried.fetch_add(1, Ordering::Relaxed);
            sent = client.get(&url).header("host", HOST).send().await;
        }
        match sent {
            Ok(r) if r.status() == 200 => match r.text().await {
                Ok(body) if body == "bench\n" => {}
                Ok(body) => tally.fail(format!("unexpected body {body:?}")),
                Err(e) => tally.fail(format!("body: {e}")),
            },
            Ok(r) => tally.fail(format!("status {}", r.status())),
            Err(e) => tally.fail(format!("{e:?}")),
        }
    }
}

/// Waits until deployment `number` has gone live with both replicas ready.
async fn live(berth: &Berth, id: &str, number: u64) -> anyhow::Result<()> {
    let v = berth
        .until(id, |v| {
            let latest = &v["latest_deployment"];
            latest["number"] == number && !latest["state"].as_str().is_some_and(is_open)
        })
        .await?;
    if v["latest_deployment"]["state"] != "succeeded" {
        bail!("deployment #{number} did not go live: {v}");
    }
    berth.until(id, |v| ready(v, 2)).await?;
    Ok(())
}

fn is_open(state: &str) -> bool {
    state == "pending" || state == "in_progress"
}

pub async fn bench(port: u16, caddy: &LocalCaddy) -> anyhow::Result<(Value, String)> {
    let (berth, docker, image) = open(port).await?;
    let id = berth
        .create(json!({
            "name": "zd",
            "image": image,
            "replicas": 2,
            "http": { "domains": [HOST], "port": 8080 },
            "health_check": {
                "probe": { "kind": "http", "path": "/index.html", "port": 8080 },
                "interval_s": 1, "timeout_s": 1, "retries": 1
            }
        }))
        .await?;
    // The service goes whatever happens, so a failed run leaves no container behind.
    let outcome = load_through_redeploys(&berth, &id, caddy).await;
    berth.delete_all(std::slice::from_ref(&id), &docker).await?;
    Ok((outcome?, image))
}

/// The measurement proper: its figures.
async fn load_through_redeploys(
    berth: &Berth,
    id: &str,
    caddy: &LocalCaddy,
) -> anyhow::Result<Value> {
    live(berth, id, 1).await?;
    let start = Instant::now();
    while caddy.get(HOST, "/").await.map(|(s, _)| s) != Some(200) {
        if start.elapsed() > Duration::from_secs(30) {
            bail!("the route never answered");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let url = format!("http://127.0.0.1:{}/", caddy.http_port);
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(load(url.clone(), tally.clone(), stop.clone())))
        .collect();
    let began = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut number = 1;
    for i in 1..=3 {
        berth
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/services/{id}/redeploy"),
                None,
            )
            .await?;
        number += 1;
        live(berth, id, number).await?;
        eprintln!(
            "redeploy {i} live after {:.1} s; {} requests, {} failed so far",
            began.elapsed().as_secs_f64(),
            tally.requests.load(Ordering::Relaxed),
            tally.failed.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    berth
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/services/{id}/rollback"),
            Some(json!({ "deployment": 1 })),
        )
        .await?;
    number += 1;
    live(berth, id, number).await?;
    eprintln!("rollback live after {:.1} s", began.elapsed().as_secs_f64());
    let rest = MIN_LOAD
        .saturating_sub(began.elapsed())
        .max(Duration::from_secs(2));
    tokio::time::sleep(rest).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.context("a load task")?;
    }
    let seconds = began.elapsed().as_secs_f64();
    let requests = tally.requests.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    let retried = tally.retried.load(Ordering::Relaxed);
    let first_failures = tally.first_failures.lock().unwrap().clone();
    eprintln!(
        "{requests} requests in {seconds:.1} s ({:.0}/s), {failed} failed {first_failures:?}, {retried} re-sent after a reset keep-alive connection",
        requests as f64 / seconds
    );
    Ok(json!({
        "seconds": (seconds * 10.0).round() / 10.0,
        "requests_per_s": (requests as f64 / seconds).round(),
        "first_failures": first_failures,
        "retried": retried,
        "rollbacks": 1,
        "redeploys": 3,
        "failed": failed,
        "requests": requests,
    }))
}
