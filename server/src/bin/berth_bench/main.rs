//! Benchmarks of the `berth` binary next to this one (release build), started on a fresh
//! data directory with its embedded Postgres, against a busybox `FROM scratch` web image.
//! `berth-bench deploy|stream|zero-downtime|swarm`: see each module.
//!
//! Each prints progress on stderr and one JSON object as its last line on stdout.

mod deploy;
mod stream;
mod swarm;
mod zero_downtime;

// The tests' Swarm cluster fixture and what it uses, for `swarm`: the bench runs on the
// same cluster the tests prove, rather than a second copy of it. Only part is used here.
#[allow(dead_code)]
#[path = "../../../tests/common/cluster/mod.rs"]
mod cluster;
#[path = "../../../tests/common/debian_images.rs"]
mod debian_images;
#[allow(dead_code)]
#[path = "../../../tests/common/images.rs"]
mod images;
#[allow(dead_code)]
#[path = "../../../tests/common/registry.rs"]
mod registry;

use anyhow::{bail, Context};
use reqwest::Client;
use serde_json::Value;
use server::engine::{BuildContext, Engine};
use server::proxy::local_caddy::LocalCaddy;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(5);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let what = std::env::args().nth(1).unwrap_or_default();
    if !["deploy", "stream", "zero-downtime", "swarm"].contains(&what.as_str()) {
        bail!("usage: berth-bench deploy|stream|zero-downtime|swarm");
    }
    let dir = tempfile::tempdir()?;
    if what == "swarm" {
        // Two berths (single-engine, then Swarm mode) and a cluster: it starts its own.
        let (figures, image) = swarm::bench(dir.path()).await?;
        let _ = Command::new("docker").args(["rmi", "-f", &image]).output();
        println!("{}", figures?);
        return Ok(());
    }
    let port = free_port();
    let caddy = match what.as_str() {
        "zero-downtime" => Some(LocalCaddy::start().await?),
        _ => None,
    };
    let proxy_env = caddy.as_ref().map(proxy_env);
    let berth = start_berth(dir.path(), port, &proxy_env.unwrap_or_default())?;
    let outcome = match (what.as_str(), &caddy) {
        ("deploy", _) => deploy::bench(port, berth.id()).await,
        ("stream", _) => stream::bench_stream(port, berth.id()).await,
        (_, Some(caddy)) => zero_downtime::bench(port, caddy).await,
        _ => unreachable!("zero-downtime starts caddy"),
    };
    drop(berth);
    drop(caddy);
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

/// Berth's settings for routing through `caddy` (plain HTTP on its port).
fn proxy_env(caddy: &LocalCaddy) -> Vec<(&'static str, String)> {
    vec![
        ("BERTH_CADDY_ADMIN", caddy.admin.clone()),
        ("BERTH_PROXY_TLS", "off".to_owned()),
        ("BERTH_PROXY_HTTP_PORT", caddy.http_port.to_string()),
        ("BERTH_DRAIN_DELAY", "2s".to_owned()),
    ]
}

/// A running `berth`; stopped (SIGTERM, then waited for) when dropped, also when the
/// bench fails half-way.
struct BerthProcess(Child);

impl BerthProcess {
    fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for BerthProcess {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid, which `wait` below has not reaped yet.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

/// Starts the `berth` next to this binary on `port`, its data (and embedded Postgres)
/// under `data`, with a 1 s stop grace; `env` comes last and may override any of it.
fn start_berth(
    data: &std::path::Path,
    port: u16,
    env: &[(&str, String)],
) -> anyhow::Result<BerthProcess> {
    let exe = std::env::current_exe()?.with_file_name("berth");
    let child = Command::new(&exe)
        .env_remove("DATABASE_URL")
        .env("BERTH_ADDR", format!("127.0.0.1:{port}"))
        .env("BERTH_DATA_DIR", data.join("data"))
        .env("BERTH_STOP_GRACE", "1s")
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    Ok(BerthProcess(child))
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

    /// `POST /api/v1/services/{id}/redeploy`: a new deployment of the same definition.
    async fn redeploy(&self, id: &str) -> anyhow::Result<()> {
        let path = format!("/api/v1/services/{id}/redeploy");
        self.call(reqwest::Method::POST, &path, None).await?;
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

fn ready(v: &Value, n: u64) -> bool {
    v["status"]["ready"] == n && v["containers"].as_array().map(Vec::len) == Some(n as usize)
}

/// Berth signed in as a fresh owner, the engine, and the bench image.
async fn open(port: u16) -> anyhow::Result<(Berth, bollard::Docker, String)> {
    let berth = sign_up(port).await?;
    let (docker, image) = bench_image().await?;
    Ok((berth, docker, image))
}

/// Waits for the berth on `port` to answer, then sets it up with a fresh owner (and
/// team), signed in.
async fn sign_up(port: u16) -> anyhow::Result<Berth> {
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
    Ok(Berth { base, http })
}

/// The machine's engine, and the bench image built on it: `busybox httpd` serving
/// `/www/index.html` ("bench") on port 8080, in a `FROM scratch` image with a unique tag.
async fn bench_image() -> anyhow::Result<(bollard::Docker, String)> {
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
    Ok((docker, image))
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
