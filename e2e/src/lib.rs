//! Harness for the browser tests: the release `berth` binary on a fresh data directory
//! (so it runs its embedded Postgres), chromedriver, and a Chromium session. Every process
//! is killed on drop, so a failing test leaves nothing running.

use anyhow::{bail, Context};
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where screenshots go, for a person to look at.
pub fn screenshot_dir() -> PathBuf {
    let dir = workspace_root().join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running berth (release build) with its own data directory.
pub struct Berth {
    child: Child,
    pub base: String,
    pub data: tempfile::TempDir,
    /// Berth's team networks that existed before it started: the others are its own,
    /// removed when it stops (berth keeps a team's network for the team's life).
    networks_before: Vec<String>,
}

/// The docker CLI with its output discarded (clean-up that may find nothing to do).
fn quiet_docker(args: &[&str]) -> std::io::Result<std::process::ExitStatus> {
    Command::new("docker")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
}

/// The ids of the Docker networks Berth manages, as the docker CLI lists them.
fn berth_networks() -> Vec<String> {
    Command::new("docker")
        .args([
            "network",
            "ls",
            "-q",
            "--filter",
            "label=berth.managed=true",
        ])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Berth {
    pub fn start() -> anyhow::Result<Berth> {
        let binary = std::env::var_os("BERTH_E2E_BINARY")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/release/berth"));
        if !binary.is_file() {
            bail!(
                "{} not found: run `scripts/build` first (scripts/test does)",
                binary.display()
            );
        }
        let data = tempfile::Builder::new().prefix("berth-e2e-").tempdir()?;
        // The embedded Postgres runs as an unprivileged account that must pass through.
        std::fs::set_permissions(
            data.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )?;
        let port = free_port();
        let networks_before = berth_networks();
        let log = std::fs::File::create(data.path().join("berth.log"))?;
        // Started from an unrelated folder: berth must find its site by itself.
        let child = Command::new(&binary)
            .current_dir(data.path())
            .env_remove("DATABASE_URL")
            .env_remove("LEPTOS_SITE_ROOT")
            .env("BERTH_ADDR", format!("127.0.0.1:{port}"))
            .env("BERTH_DATA_DIR", data.path().join("data"))
            // The fixtures' git repositories are temporary folders (file:// URLs).
            .env("BERTH_GIT_LOCAL_ROOT", std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting berth")?;
        let berth = Berth {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data,
            networks_before,
        };
        berth.wait_healthy(Duration::from_secs(90))?;
        Ok(berth)
    }

    fn wait_healthy(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        let url = format!("{}/healthz", self.base);
        while Instant::now() < deadline {
            if probe::answers_200(&url).unwrap_or(false) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("berth did not become healthy; its log:\n{}", self.log())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("berth.log")).unwrap_or_default()
    }
}

impl Berth {
    /// SIGTERM, so it stops its Postgres; SIGKILL if that takes too long.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The docker CLI's output lines (none when it fails).
fn docker_lines(args: &[&str]) -> Vec<String> {
    Command::new("docker")
        .args(args)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for Berth {
    fn drop(&mut self) {
        self.stop();
        let own: Vec<String> = berth_networks()
            .into_iter()
            .filter(|n| !self.networks_before.contains(n))
            .collect();
        // Every container of this berth, by its instance label (read from its networks):
        // one created just before berth stopped is in state `created`, attached to none.
        let mut instances: Vec<String> = own
            .iter()
            .flat_map(|n| {
                docker_lines(&[
                    "network",
                    "inspect",
                    "--format",
                    "{{index .Labels \"berth.instance\"}}",
                    n,
                ])
            })
            .collect();
        instances.sort();
        instances.dedup();
        for instance in &instances {
            let label = format!("label=berth.instance={instance}");
            for container in docker_lines(&["ps", "-aq", "--filter", &label]) {
                let _ = quiet_docker(&["rm", "-f", &container]);
            }
        }
        for network in own {
            // The test's containers may still be attached (their fixtures go after berth).
            let attached = Command::new("docker")
                .args(["ps", "-aq", "--filter", &format!("network={network}")])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            for container in attached.lines() {
                let _ = quiet_docker(&["rm", "-f", container]);
            }
            let _ = quiet_docker(&["network", "rm", &network]);
        }
    }
}

/// chromedriver on a free port.
pub struct Chromedriver {
    child: Child,
    pub url: String,
}

impl Chromedriver {
    pub fn start() -> anyhow::Result<Chromedriver> {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver (apt-get install chromium-driver)")?;
        let driver = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(driver)
    }

    /// Capabilities for headless Debian Chromium with a fresh profile.
    pub fn capabilities(
        profile: &Path,
        javascript: bool,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1280,860".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false".into());
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        caps
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

mod probe {
    //! A blocking GET without pulling in a blocking HTTP client: one request over a TCP
    //! socket is all the readiness check needs.
    use std::io::{Read, Write};

    pub fn answers_200(url: &str) -> std::io::Result<bool> {
        let rest = url.strip_prefix("http://").unwrap_or(url);
        let (host, path) = rest
            .split_once('/')
            .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
        let mut stream = std::net::TcpStream::connect(host)?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut buf = String::new();
        stream.read_to_string(&mut buf)?;
        Ok(buf.starts_with("HTTP/1.1 200"))
    }
}
