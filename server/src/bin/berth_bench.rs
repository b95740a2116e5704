//! Benchmarks of the `berth` binary next to this one (release build), started on a fresh
//! data directory with its embedded Postgres, against a busybox `FROM scratch` web image.
//!
//! `berth-bench deploy`: (a) API call → 1 replica answering, as a ratio to `docker run` +
//! the same HTTP answer; (b) 10 replicas vs 10 sequential `docker run`s; (c) `docker kill`
//! → status change seen through the API, p50/p95 of 20 tries; (d) idle RSS, 100 services.
//!
//! `berth-bench stream`: `docker kill` → the change arriving on the team's live stream,
//! p50/p95 of 20 tries; berth's CPU use over a minute with 200 containers idle.
//!
//! Each prints progress on stderr and one JSON object as its last line on stdout.

use anyhow::{bail, Context};
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use reqwest::Client;
use serde_json::{json, Value};
use server::engine::{BuildContext, Engine};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(5);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let what = std::env::args().nth(1).unwrap_or_default();
    if what != "deploy" && what != "stream" {
        bail!("usage: berth-bench deploy|stream");
    }
    let dir = tempfile::tempdir()?;
    let port = free_port();
    let mut berth = start_berth(dir.path(), port)?;
    let outcome = match what.as_str() {
        "deploy" => bench(port, berth.id()).await,
        _ => bench_stream(port, berth.id()).await,
    };
    let _ = Command::new("kill")
        .args(["-TERM", &berth.id().to_string()])
        .status();
    let _ = berth.wait();
    let (figures, image) = outcome?;
    let _ = Command::new("docker").args(["rmi", "-f", &image]).output();
    println!("{figures}");
    Ok(())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_berth(data: &std::path::Path, port: u16) -> anyhow::Result<Child> {
    let exe = std::env::current_exe()?.with_file_name("berth");
    Command::new(&exe)
        .env_remove("DATABASE_URL")
        .env("BERTH_ADDR", format!("127.0.0.1:{port}"))
        .env("BERTH_DATA_DIR", data.join("data"))
        .env("BERTH_STOP_GRACE", "1s")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

async fn answers(client: &Client, url: &str) -> bool {
    client
        .get(url)
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

async fn wait_answer(client: &Client, url: &str) {
    while !answers(client, url).await {
        tokio::time::sleep(POLL).await;
    }
}

struct Berth {
    base: String,
    http: Client,
}

impl Berth {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {v}");
        }
        Ok(v)
    }

    async fn until(&self, id: &str, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let start = Instant::now();
        loop {
            let v = self
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/services/{id}"),
                    None,
                )
                .await?;
            if pred(&v) {
                return Ok(v);
            }
            if start.elapsed() > Duration::from_secs(120) {
                bail!("service {id} did not get there: {v}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The team network outlives the services; the bench leaves nothing behind.
    async fn remove_team_network(&self, docker: &bollard::Docker) -> anyhow::Result<()> {
        let me: Value = self
            .http
            .post(format!("{}/api/whoami", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await?
            .json()
            .await?;
        if let Some(team) = me["team"]["id"].as_str().and_then(|t| t.parse().ok()) {
            let _ = docker
                .remove_network(&server::engine::team_network(team))
                .await;
        }
        Ok(())
    }

    async fn create(&self, spec: Value) -> anyhow::Result<String> {
        let v = self
            .call(reqwest::Method::POST, "/api/v1/services", Some(spec))
            .await?;
        Ok(v["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Deletes every service (all at once, then waits for each) and the team network.
    async fn delete_all(&self, ids: &[String], docker: &bollard::Docker) -> anyhow::Result<()> {
        for id in ids {
            self.call(
                reqwest::Method::DELETE,
                &format!("/api/v1/services/{id}"),
                None,
            )
            .await?;
        }
        for id in ids {
            self.delete_and_wait(id).await.ok();
        }
        self.remove_team_network(docker).await
    }

    async fn delete_and_wait(&self, id: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::DELETE,
            &format!("/api/v1/services/{id}"),
            None,
        )
        .await?;
        while self
            .http
            .get(format!("{}/api/v1/services/{id}", self.base))
            .send()
            .await?
            .status()
            != 404
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}

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

fn ready(v: &Value, n: u64) -> bool {
    v["status"]["ready"] == n && v["containers"].as_array().map(Vec::len) == Some(n as usize)
}

/// Berth signed in as a fresh owner, the engine, and the bench image.
async fn open(port: u16) -> anyhow::Result<(Berth, bollard::Docker, String)> {
    let base = format!("http://127.0.0.1:{port}");
    let http = Client::builder().cookie_store(true).build()?;
    let start = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        if start.elapsed() > Duration::from_secs(60) {
            bail!("berth did not start");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    http.post(format!("{base}/auth/setup"))
        .header("accept", "application/json")
        .form(&[
            ("name", "Bench"),
            ("email", "bench@example.com"),
            ("password", "benchmark-password"),
            ("team_name", "Bench"),
        ])
        .send()
        .await?
        .error_for_status()?;
    let berth = Berth { base, http };

    let engine = Engine::new(None);
    let docker = engine.client().await?;
    let image = format!(
        "berth-bench/httpd:{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut ctx = BuildContext::new();
    ctx.add_file("Dockerfile", b"FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nENTRYPOINT [\"/bin/busybox\"]\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n", 0o644)?
        .add_file("busybox", &std::fs::read("/bin/busybox").context("busybox-static")?, 0o755)?
        .add_file("www/index.html", b"bench\n", 0o644)?;
    engine.build_image(&image, ctx, |_| {}).await?;
    Ok((berth, docker, image))
}

async fn bench(port: u16, pid: u32) -> anyhow::Result<(Value, String)> {
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

/// CPU seconds (user + system) the process has used so far.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok((ticks(11) + ticks(12)) / per_second)
}

async fn bench_stream(port: u16, pid: u32) -> anyhow::Result<(Value, String)> {
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
