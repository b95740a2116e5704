//! A throwaway Caddy (the `caddy` program on PATH) for the routing tests and
//! `berth-bench zero-downtime`: its own admin and http ports and data folder, started with
//! nothing but its admin endpoint configured, as an operator would start it for Berth.

use super::ProxySettings;
use anyhow::{bail, Context};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct LocalCaddy {
    pub admin: String,
    pub http_port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// Two distinct free ports for the admin endpoint and http. Both are held until both are
/// chosen, and they come from below Linux's ephemeral range (32768+), which every
/// `bind(0)` of tests running alongside draws from: a port handed out there and released
/// could be taken again before Caddy binds it (seen once: a test's http port answered
/// by another Caddy's admin endpoint).
fn free_ports() -> anyhow::Result<(u16, u16)> {
    use rand::Rng;
    let mut held = Vec::new();
    for _ in 0..1000 {
        let port = rand::rng().random_range(20_000..30_000);
        if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            held.push(listener);
            if held.len() == 2 {
                return Ok((held[0].local_addr()?.port(), held[1].local_addr()?.port()));
            }
        }
    }
    bail!("no free ports between 20000 and 30000")
}

impl LocalCaddy {
    pub async fn start() -> anyhow::Result<LocalCaddy> {
        let (admin_port, http_port) = free_ports()?;
        let mut caddy = LocalCaddy {
            admin: format!("http://127.0.0.1:{admin_port}"),
            http_port,
            dir: tempfile::tempdir()?,
            child: None,
        };
        let config = serde_json::json!({
            "admin": { "listen": format!("127.0.0.1:{admin_port}"), "config": { "persist": false } }
        });
        std::fs::write(caddy.dir.path().join("caddy.json"), config.to_string())?;
        caddy.spawn().await?;
        Ok(caddy)
    }

    /// Starts Caddy and waits for its admin API.
    async fn spawn(&mut self) -> anyhow::Result<()> {
        let dir = self.dir.path();
        let child = Command::new("caddy")
            .args(["run", "--config"])
            .arg(dir.join("caddy.json"))
            .env("HOME", dir)
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting caddy (scripts/setup installs it)")?;
        self.child = Some(child);
        let client = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if client
                .get(format!("{}/config/", self.admin))
                .send()
                .await
                .is_ok()
            {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(15) {
                bail!("caddy did not start");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills Caddy and starts it again with no routes (its config is not persisted).
    /// Whoever configures it (Berth's sync) may do so as soon as its admin API answers,
    /// so no read after this returns shows for sure what it came back with: a test proves
    /// the loss with a setting Berth never writes ([`LocalCaddy::set`]).
    pub async fn restart_empty(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.spawn().await
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Plain http on this Caddy's port, a short drain.
    pub fn settings(&self) -> ProxySettings {
        ProxySettings {
            admin_url: self.admin.clone(),
            listen: app::domain::service::ProxyListen {
                tls: false,
                http_port: self.http_port,
                https_port: 443,
            },
            drain_delay: Duration::from_secs(1),
            dashboard: None,
        }
    }

    /// A GET through Caddy for `host` (status, body); `None` when the connection fails.
    pub async fn get(&self, host: &str, path: &str) -> Option<(u16, String)> {
        let r = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}{path}", self.http_port))
            .header("host", host)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.text().await.ok()?))
    }

    /// Sets the config at `path` (e.g. `/logging`) through the admin API, as an operator
    /// would.
    pub async fn set(&self, path: &str, value: &serde_json::Value) -> anyhow::Result<()> {
        let r = reqwest::Client::new()
            .post(format!("{}/config{path}", self.admin))
            .json(value)
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "caddy refused {path}: {}",
            r.status()
        );
        Ok(())
    }

    /// The config Caddy holds now.
    pub async fn config(&self) -> anyhow::Result<serde_json::Value> {
        Ok(reqwest::get(format!("{}/config/", self.admin))
            .await?
            .json()
            .await?)
    }
}

impl Drop for LocalCaddy {
    fn drop(&mut self) {
        self.kill();
    }
}
