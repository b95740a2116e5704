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

/// What the load loops counted.
#[derive(Default)]
pub(super) struct Tally {
    pub requests: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
    pub first_failures: Mutex<Vec<String>>,
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

/// Requests `url` with `Host: host` until `stop`, one at a time, each expecting 200 and the
/// bench page; counted in `tally` (see the module's note on re-sending).
async fn load(url: String, host: &str, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("an HTTP client");
    while !stop.load(Ordering::Relaxed) {
        tally.requests.fetch_add(1, Ordering::Relaxed);
        let mut sent = client.get(&url).header("host", host).send().await;
        if matches!(&sent, Err(e) if !e.is_timeout()) {
            tally.retried.fetch_add(1, Ordering::Relaxed);
            sent = client.get(&url).header("host", host).send().await;
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

/// `CLIENTS` load loops through Caddy to the route of `host`, from [`Load::start`] until
/// [`Load::finish`].
pub(super) struct Load {
    pub tally: Arc<Tally>,
    pub began: Instant,
    stop: Arc<AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Waits (up to 30 s) until the route answers 200, then starts the clients.
    pub(super) async fn start(caddy: &LocalCaddy, host: &'static str) -> anyhow::Result<Load> {
        let start = Instant::now();
        while caddy.get(host, "/").await.map(|(s, _)| s) != Some(200) {
            if start.elapsed() > Duration::from_secs(30) {
                bail!("the route never answered");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = format!("http://127.0.0.1:{}/", caddy.http_port);
        let tally = Arc::new(Tally::default());
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..CLIENTS)
            .map(|_| tokio::spawn(load(url.clone(), host, tally.clone(), stop.clone())))
            .collect();
        Ok(Load {
            tally,
            began: Instant::now(),
            stop,
            clients,
        })
    }

    /// "after 12.3 s; 4567 requests, 0 failed so far".
    pub(super) fn so_far(&self) -> String {
        format!(
            "after {:.1} s; {} requests, {} failed so far",
            self.began.elapsed().as_secs_f64(),
            self.tally.requests.load(Ordering::Relaxed),
            self.tally.failed.load(Ordering::Relaxed)
        )
    }

    /// Stops the clients and waits for them; the counts.
    pub(super) async fn finish(self) -> anyhow::Result<Arc<Tally>> {
        self.stop.store(true, Ordering::Relaxed);
        for c in self.clients {
            c.await.context("a load task")?;
        }
        Ok(self.tally)
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
    let load = Load::start(caddy, HOST).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut number = 1;
    for i in 1..=3 {
        berth.redeploy(id).await?;
        number += 1;
        live(berth, id, number).await?;
        eprintln!("redeploy {i} live {}", load.so_far());
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
    eprintln!("rollback live {}", load.so_far());
    let began = load.began;
    let rest = MIN_LOAD
        .saturating_sub(began.elapsed())
        .max(Duration::from_secs(2));
    tokio::time::sleep(rest).await;
    let tally = load.finish().await?;
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
