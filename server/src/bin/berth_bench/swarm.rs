//! `berth-bench swarm`: Berth in Swarm mode (`BERTH_ORCHESTRATOR=swarm`) on a real
//! three-node swarm on this machine — a manager and two workers, each an extra `dockerd`
//! in a network namespace of its own, pulling from a registry beside them (the tests'
//! fixture, `server/tests/common/cluster/`, so it needs root) — routing through a real
//! Caddy. One routed service of six replicas of the bench image (`busybox httpd`, which
//! keeps serving after SIGTERM until Docker kills it, as a gracefully stopping server does):
//!
//! - `deploy_6_across_3_s`: API call → deployment #1 succeeded with six replicas running,
//!   as the API shows them; `deploy_6_single_engine_s` is the same deploy by a Berth in
//!   single-engine mode on the machine's engine, and `deploy_ratio` the first over it;
//! - `failed` of `requests` through Caddy during three redeploys, each replacing every task
//!   across the nodes (must be 0; the loop is `zero_downtime`'s: 8 clients, one re-send
//!   after a reset keep-alive connection, counted as `retried`);
//! - `node_loss_recovery_s`: a worker's daemon stopped (SIGTERM) → six replicas running on
//!   the nodes left, as the API shows them; p50 of 3 (each try stops a worker that runs
//!   replicas, then starts it again and checks that Berth shows six, not more).
//!
//! The cluster, both berths and Caddy are gone when it ends, whatever happened.

use super::cluster::Cluster;
use super::zero_downtime::Load;
use super::{bench_image, free_port, median, proxy_env, sign_up, start_berth, Berth};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use server::proxy::local_caddy::LocalCaddy;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const HOST: &str = "swarm.berth.test";
const REPLICAS: usize = 6;
/// Time for Berth to take a stopping task out of Caddy before Docker kills it (the swarm
/// test's figure).
const STOP_GRACE: &str = "4s";

/// The service: `busybox httpd` that ignores SIGTERM (ignored signals stay ignored across
/// exec), so it finishes serving until Docker kills it after the stop grace.
fn spec(image: &str) -> Value {
    json!({
        "name": "web",
        "image": image,
        "entrypoint": ["/bin/busybox", "sh", "-c",
            "trap '' TERM; exec /bin/busybox httpd -f -p 8080 -h /www"],
        "replicas": REPLICAS,
        "http": { "domains": [HOST], "port": 8080 }
    })
}

/// The running replicas of a service view: (container id, node hostname).
fn running(view: &Value) -> Vec<(String, String)> {
    view["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["state"] == "running")
        .map(|c| {
            let field = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (field("id"), field("node"))
        })
        .collect()
}

/// Waits until deployment `number` has succeeded with six replicas running; its view.
async fn live(berth: &Berth, id: &str, number: u64) -> anyhow::Result<Value> {
    let v = berth
        .until(id, |v| {
            let latest = &v["latest_deployment"];
            latest["number"] == number
                && (latest["state"] != "in_progress" && latest["state"] != "pending")
                && (latest["state"] != "succeeded" || running(v).len() == REPLICAS)
        })
        .await?;
    if v["latest_deployment"]["state"] != "succeeded" {
        bail!("deployment #{number} did not go live: {v}");
    }
    Ok(v)
}

/// The figures (or why there are none), and the bench image for the caller to remove
/// either way.
pub async fn bench(data: &Path) -> anyhow::Result<(anyhow::Result<Value>, String)> {
    let caddy = LocalCaddy::start().await?;
    let (docker, image) = bench_image().await?;
    let outcome = async {
        let single = single_engine_deploy(&data.join("single"), &caddy, &image, &docker).await?;
        eprintln!("single engine: 6 replicas live in {single:.2} s");
        let mut figures = in_swarm_mode(&data.join("swarm"), &caddy, &image).await?;
        figures["deploy_6_single_engine_s"] = json!(round2(single));
        let across = figures["deploy_6_across_3_s"].as_f64().unwrap_or_default();
        figures["deploy_ratio"] = json!(round2(across / single));
        Ok::<_, anyhow::Error>(figures)
    }
    .await;
    Ok((outcome, image))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The baseline: the same deploy by a Berth on the machine's engine; seconds.
async fn single_engine_deploy(
    data: &Path,
    caddy: &LocalCaddy,
    image: &str,
    docker: &bollard::Docker,
) -> anyhow::Result<f64> {
    let port = free_port();
    let mut env = proxy_env(caddy);
    env.push(("BERTH_STOP_GRACE", STOP_GRACE.to_owned()));
    let _berth = start_berth(data, port, &env)?;
    let berth = sign_up(port).await?;
    let t = Instant::now();
    let id = berth.create(spec(image)).await?;
    let outcome = live(&berth, &id, 1)
        .await
        .map(|_| t.elapsed().as_secs_f64());
    berth.delete_all(std::slice::from_ref(&id), docker).await?;
    outcome
}

/// The cluster, its registry holding the bench image, and a Berth in Swarm mode on its
/// manager: the figures.
async fn in_swarm_mode(data: &Path, caddy: &LocalCaddy, image: &str) -> anyhow::Result<Value> {
    let t = Instant::now();
    let mut cluster = Cluster::start(2).await;
    let reference = cluster.push(image).await;
    eprintln!("cluster of 3 nodes up, image pushed in {:.1?}", t.elapsed());
    let port = free_port();
    let mut env = proxy_env(caddy);
    env.extend([
        ("BERTH_ORCHESTRATOR", "swarm".to_owned()),
        (
            "BERTH_DOCKER_HOST",
            format!("unix://{}", cluster.manager_socket().display()),
        ),
        ("BERTH_STOP_GRACE", STOP_GRACE.to_owned()),
    ]);
    // Dropped before the cluster (declared after it): berth stops first.
    let _berth = start_berth(data, port, &env)?;
    let berth = sign_up(port).await?;

    let t = Instant::now();
    let id = berth.create(spec(&reference)).await?;
    let view = live(&berth, &id, 1).await?;
    let deploy = t.elapsed().as_secs_f64();
    let nodes: std::collections::BTreeSet<String> =
        running(&view).into_iter().map(|(_, n)| n).collect();
    eprintln!("swarm: 6 replicas live on {nodes:?} in {deploy:.2} s");
    if nodes.len() != cluster.node_count() {
        bail!("the replicas run on {nodes:?}, not on all three nodes");
    }

    let load = load_through_redeploys(&berth, &id, caddy, view).await?;
    let recoveries = node_losses(&berth, &id, &mut cluster).await?;
    Ok(json!({
        "deploy_6_across_3_s": round2(deploy),
        "node_loss_recovery_s": round2(median(recoveries.clone())),
        "node_loss_recovery_tries_s": recoveries.iter().map(|s| round2(*s)).collect::<Vec<_>>(),
        "redeploys": 3,
        "requests": load["requests"],
        "retried": load["retried"],
        "first_failures": load["first_failures"],
        "failed": load["failed"],
    }))
}

/// Requests through Caddy while the service is redeployed three times; each redeploy must
/// replace every task. Its counts.
async fn load_through_redeploys(
    berth: &Berth,
    id: &str,
    caddy: &LocalCaddy,
    view: Value,
) -> anyhow::Result<Value> {
    let load = Load::start(caddy, HOST).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The load stops whatever the redeploys did, so no client outlives the bench.
    let redeployed = redeploy_three_times(berth, id, view, &load).await;
    let seconds = load.began.elapsed().as_secs_f64();
    let tally = load.finish().await?;
    redeployed?;
    let requests = tally.requests.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    let first_failures = tally.first_failures.lock().unwrap().clone();
    eprintln!("{requests} requests in {seconds:.1} s, {failed} failed {first_failures:?}");
    Ok(json!({
        "requests": requests,
        "failed": failed,
        "retried": tally.retried.load(Ordering::Relaxed),
        "first_failures": first_failures,
    }))
}

/// Deployments #2 to #4: each a redeploy that must go live having replaced every task.
async fn redeploy_three_times(
    berth: &Berth,
    id: &str,
    mut view: Value,
    load: &Load,
) -> anyhow::Result<()> {
    for number in 2..=4 {
        let before: Vec<String> = running(&view).into_iter().map(|(c, _)| c).collect();
        berth.redeploy(id).await?;
        view = live(berth, id, number).await?;
        let kept = running(&view)
            .into_iter()
            .filter(|(c, _)| before.contains(c))
            .count();
        if kept > 0 {
            bail!("redeploy #{number} kept {kept} of the old tasks");
        }
        eprintln!("redeploy {} live {}", number - 1, load.so_far());
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok(())
}

/// Three times: a worker that runs replicas is stopped; seconds until six run on the
/// nodes left. The worker is started again and must not bring a seventh.
async fn node_losses(berth: &Berth, id: &str, cluster: &mut Cluster) -> anyhow::Result<Vec<f64>> {
    let mut seconds = Vec::new();
    for _ in 0..3 {
        let view = berth.until(id, |v| running(v).len() == REPLICAS).await?;
        let lost = (1..cluster.node_count())
            .find(|&i| {
                let name = cluster.hostname(i);
                running(&view).iter().any(|(_, n)| *n == name)
            })
            .context("no worker runs a replica")?;
        let lost_name = cluster.hostname(lost);
        let t = Instant::now();
        cluster.stop_node(lost);
        berth
            .until(id, |v| {
                let now = running(v);
                now.len() == REPLICAS && now.iter().all(|(_, n)| *n != lost_name)
            })
            .await?;
        seconds.push(t.elapsed().as_secs_f64());
        eprintln!(
            "{lost_name} stopped: 6 replicas running on the others after {:.2} s",
            t.elapsed().as_secs_f64()
        );
        cluster.start_node(lost).await;
        // The returned node's old tasks are shut down by Swarm, not run again.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let after = running(&berth.until(id, |_| true).await?).len();
        if after != REPLICAS {
            bail!("{after} replicas running after {lost_name} came back");
        }
    }
    Ok(seconds)
}
