//! `berth-bench stream`: `docker kill` → the change arriving on the team's live stream,
//! p50/p95 of 20 tries; berth's CPU use over a minute with 200 containers idle.

use super::{cpu_seconds, median, open, percentile, ready};
use anyhow::Context;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub async fn bench_stream(port: u16, pid: u32) -> anyhow::Result<(Value, String)> {
    let (berth, docker, image) = open(port).await?;

    // Kill → the change on the live stream, as a dashboard page receives it.
    let victim = berth
        .create(json!({ "name": "victim", "image": image }))
        .await?;
    let url = format!("{}/api/v1/events", berth.base);
    let mut stream = server::live::EventReader::open(&berth.http, &url).await?;
    let (mut latencies, mut kill_calls) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let before = berth.until(&victim, |v| ready(v, 1)).await?;
        // What arrived meanwhile is not this try's.
        while stream.next(Duration::from_millis(300)).await.is_some() {}
        let id = before["containers"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let t = Instant::now();
        docker
            .kill_container(&id, None::<bollard::query_parameters::KillContainerOptions>)
            .await?;
        kill_calls.push(t.elapsed().as_secs_f64());
        let about_victim = |e: &server::live::StreamEvent| {
            e.event == "change" && e.data.contains(&victim) && e.data.contains("containers")
        };
        stream
            .until(Duration::from_secs(30), about_victim)
            .await
            .context("no change arrived on the stream")?;
        latencies.push(t.elapsed().as_secs_f64());
    }
    drop(stream);
    let stream_p50_s = percentile(latencies.clone(), 0.5);
    let stream_p95_s = percentile(latencies, 0.95);
    eprintln!(
        "kill → stream p50 {stream_p50_s:.3} s, p95 {stream_p95_s:.3} s (measured from issuing the kill; the kill call itself takes p50 {:.3} s)",
        median(kill_calls)
    );
    berth.delete_and_wait(&victim).await?;

    // Idle CPU with 200 containers: 20 services of 10 replicas.
    let mut services = Vec::new();
    for i in 0..20 {
        let spec = json!({ "name": format!("idle-{i}"), "image": image, "replicas": 10 });
        services.push(berth.create(spec).await?);
    }
    for id in &services {
        berth.until(id, |v| ready(v, 10)).await?;
    }
    eprintln!("200 containers running; measuring berth's CPU for 60 s");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (cpu0, t0) = (cpu_seconds(pid)?, Instant::now());
    tokio::time::sleep(Duration::from_secs(60)).await;
    let idle_cpu_pct = (cpu_seconds(pid)? - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
    eprintln!("idle CPU with 200 containers: {idle_cpu_pct:.2} % of one core");
    berth.delete_all(&services, &docker).await?;

    let round3 = |x: f64| (x * 1000.0).round() / 1000.0;
    Ok((
        json!({
            "stream_p50_s": round3(stream_p50_s),
            "stream_p95_s": round3(stream_p95_s),
            "idle_cpu_pct_200_containers": (idle_cpu_pct * 100.0).round() / 100.0,
        }),
        image,
    ))
}
