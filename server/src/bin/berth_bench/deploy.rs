//! `berth-bench deploy`: (a) API call → 1 replica answering, as a ratio to `docker run` +
//! the same HTTP answer; (b) 10 replicas vs 10 sequential `docker run`s; (c) `docker kill`
//! → status change seen through the API, p50/p95 of 20 tries; (d) idle RSS, 100 services.

use super::{free_port, median, open, percentile, ready, wait_answer};
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use reqwest::Client;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// `docker run -d` through the API: create and start, optionally publishing 8080 and on a
/// given network.
async fn docker_run(
    docker: &bollard::Docker,
    image: &str,
    host_port: Option<u16>,
    network: Option<&str>,
) -> anyhow::Result<String> {
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        exposed_ports: Some(vec!["8080/tcp".into()]),
        host_config: Some(HostConfig {
            network_mode: network.map(str::to_owned),
            port_bindings: host_port.map(|p| {
                HashMap::from([(
                    "8080/tcp".to_owned(),
                    Some(vec![PortBinding {
                        host_ip: None,
                        host_port: Some(p.to_string()),
                    }]),
                )])
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = docker.create_container(None, body).await?.id;
    docker.start_container(&id, None).await?;
    Ok(id)
}

async fn docker_rm(docker: &bollard::Docker, id: &str) -> anyhow::Result<()> {
    let force = bollard::query_parameters::RemoveContainerOptionsBuilder::default()
        .force(true)
        .build();
    docker.remove_container(id, Some(force)).await?;
    Ok(())
}

pub async fn bench(port: u16, pid: u32) -> anyhow::Result<(Value, String)> {
    let (berth, docker, image) = open(port).await?;
    let probe = Client::new();

    // Plain `docker run`s go to the default bridge; Berth puts a team's containers on the
    // team's own network, which costs the engine ~0.1 s per start (embedded DNS). The
    // same-network baseline shows what is Berth's own overhead.
    let bench_net = format!(
        "berth-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    docker
        .create_network(bollard::models::NetworkCreateRequest {
            name: bench_net.clone(),
            ..Default::default()
        })
        .await?;

    // (a) one replica.
    let (mut plain, mut plain_net, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3 {
        for (network, times) in [
            (None, &mut plain),
            (Some(bench_net.as_str()), &mut plain_net),
        ] {
            let host_port = free_port();
            let t = Instant::now();
            let id = docker_run(&docker, &image, Some(host_port), network).await?;
            wait_answer(&probe, &format!("http://127.0.0.1:{host_port}/")).await;
            times.push(t.elapsed().as_secs_f64());
            docker_rm(&docker, &id).await?;
        }
        let host_port = free_port();
        let t = Instant::now();
        let v = berth
            .call(
                reqwest::Method::POST,
                "/api/v1/services",
                Some(json!({
                    "name": format!("one-{round}"), "image": image,
                    "ports": [{ "container": 8080, "host": host_port }]
                })),
            )
            .await?;
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        berth.until(&id, |v| ready(v, 1)).await?;
        wait_answer(&probe, &format!("http://127.0.0.1:{host_port}/")).await;
        ours.push(t.elapsed().as_secs_f64());
        berth.delete_and_wait(&id).await?;
    }
    let (plain_1, plain_net_1, ours_1) = (median(plain), median(plain_net), median(ours));
    eprintln!(
        "(a) docker run {plain_1:.3} s (on a user network {plain_net_1:.3} s), berth {ours_1:.3} s"
    );

    // (b) ten replicas.
    let mut plain_10 = Vec::new();
    for network in [None, Some(bench_net.as_str())] {
        let t = Instant::now();
        let mut ids = Vec::new();
        for _ in 0..10 {
            ids.push(docker_run(&docker, &image, None, network).await?);
        }
        for id in &ids {
            let ip = docker
                .inspect_container(id, None)
                .await?
                .network_settings
                .and_then(|n| n.networks)
                .and_then(|n| n.into_values().find_map(|e| e.ip_address))
                .unwrap_or_default();
            wait_answer(&probe, &format!("http://{ip}:8080/")).await;
        }
        plain_10.push(t.elapsed().as_secs_f64());
        for id in &ids {
            docker_rm(&docker, id).await?;
        }
    }
    docker.remove_network(&bench_net).await?;
    let t = Instant::now();
    let v = berth
        .call(
            reqwest::Method::POST,
            "/api/v1/services",
            Some(json!({ "name": "ten", "image": image, "replicas": 10 })),
        )
        .await?;
    let ten = v["id"].as_str().unwrap_or_default().to_owned();
    let v = berth.until(&ten, |v| ready(v, 10)).await?;
    for c in v["containers"].as_array().into_iter().flatten() {
        wait_answer(
            &probe,
            &format!("http://{}:8080/", c["ip"].as_str().unwrap_or_default()),
        )
        .await;
    }
    let ours_10 = t.elapsed().as_secs_f64();
    eprintln!(
        "(b) 10 sequential docker runs {:.3} s (on a user network {:.3} s), berth 10 replicas {ours_10:.3} s",
        plain_10[0], plain_10[1]
    );
    berth.delete_and_wait(&ten).await?;

    // (c) docker kill → status change through the API.
    let v = berth
        .call(
            reqwest::Method::POST,
            "/api/v1/services",
            Some(json!({ "name": "victim", "image": image })),
        )
        .await?;
    let victim = v["id"].as_str().unwrap_or_default().to_owned();
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let before = berth.until(&victim, |v| ready(v, 1)).await?;
        let c = before["containers"][0].clone();
        let fingerprint = |c: &Value| {
            (
                c["id"].clone(),
                c["state"].clone(),
                c["restart_count"].clone(),
                c["started_at"].clone(),
            )
        };
        let was = fingerprint(&c);
        docker
            .kill_container(
                c["id"].as_str().unwrap_or_default(),
                None::<bollard::query_parameters::KillContainerOptions>,
            )
            .await?;
        let t = Instant::now();
        berth
            .until(&victim, |v| fingerprint(&v["containers"][0]) != was)
            .await?;
        latencies.push(t.elapsed().as_secs_f64());
    }
    let status_p50_s = percentile(latencies.clone(), 0.5);
    let status_p95_s = percentile(latencies, 0.95);
    eprintln!("(c) kill → status p50 {status_p50_s:.3} s, p95 {status_p95_s:.3} s");
    berth.delete_and_wait(&victim).await?;

    // (d) idle RSS with 100 services, one replica each.
    let mut hundred = Vec::new();
    for i in 0..100 {
        let v = berth
            .call(
                reqwest::Method::POST,
                "/api/v1/services",
                Some(json!({ "name": format!("svc-{i}"), "image": image })),
            )
            .await?;
        hundred.push(v["id"].as_str().unwrap_or_default().to_owned());
    }
    for id in &hundred {
        berth.until(id, |v| ready(v, 1)).await?;
    }
    tokio::time::sleep(Duration::from_secs(20)).await;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let idle_rss_mb_100_services = kib / 1024.0;
    eprintln!("(d) idle RSS with 100 services: {idle_rss_mb_100_services:.1} MiB");
    berth.delete_all(&hundred, &docker).await?;

    let round3 = |x: f64| (x * 1000.0).round() / 1000.0;
    Ok((
        json!({
            "deploy_1_ratio": round3(ours_1 / plain_1),
            "deploy_10_ratio": round3(ours_10 / plain_10[0]),
            "deploy_1_ratio_same_network": round3(ours_1 / plain_net_1),
            "deploy_10_ratio_same_network": round3(ours_10 / plain_10[1]),
            "status_p50_s": round3(status_p50_s),
            "status_p95_s": round3(status_p95_s),
            "idle_rss_mb_100_services": (idle_rss_mb_100_services * 10.0).round() / 10.0,
        }),
        image,
    ))
}
