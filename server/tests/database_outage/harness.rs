//! The berth binary, a throwaway external PostgreSQL and the clean-up guards the outage
//! tests run with.

use super::common::docker::{docker, remove_instance};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Berth {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Berth {
    /// The real binary with its data in `data`, on the external database `database_url`
    /// or (`None`) its own embedded cluster; its log (stderr) in a file.
    pub async fn start(data: &Path, database_url: Option<&str>) -> Berth {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = data.with_extension("log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        for (key, _) in std::env::vars() {
            if key.starts_with("BERTH_") {
                cmd.env_remove(key);
            }
        }
        match database_url {
            Some(url) => cmd.env("DATABASE_URL", url),
            None => cmd.env_remove("DATABASE_URL"),
        };
        let child = cmd
            .env("BERTH_ADDR", format!("127.0.0.1:{port}"))
            .env("BERTH_DATA_DIR", data)
            .env("BERTH_STOP_GRACE", "1s")
            // Only a notification can wake the worker after the outage: proves its
            // listener reconnected.
            .env("BERTH_RESYNC_INTERVAL", "10m")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let berth = Berth {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let start = Instant::now();
        loop {
            if let Ok(r) = reqwest::get(berth.url("/healthz")).await {
                if r.status().is_success() {
                    return berth;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "berth did not become healthy:\n{}",
                berth.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Removes the service's containers, its team network and the image, however the test ends.
pub struct Cleanup {
    pub service: Option<String>,
    pub image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(id) = &self.service {
            let filter = format!("label=berth.service={id}");
            let out = Command::new("docker")
                .args(["ps", "-aq", "--filter", &filter])
                .output()
                .unwrap();
            let first = String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(str::to_owned);
            if let Some(container) = first {
                let instance = docker(&[
                    "inspect",
                    "-f",
                    "{{index .Config.Labels \"berth.instance\"}}",
                    &container,
                ]);
                remove_instance(&instance);
            }
        }
        let _ = Command::new("docker")
            .args(["rmi", "-f", &self.image])
            .output();
    }
}

/// The PostgreSQL server programs the throwaway cluster runs.
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A throwaway PostgreSQL cluster of the test's own (not the shared test database), run
/// by the `postgres` account, reached only through a unix socket in its folder. Stopped
/// (`-m immediate`) and removed however the test ends.
pub struct ExternalPostgres {
    pub dir: tempfile::TempDir,
}

impl ExternalPostgres {
    pub fn start() -> ExternalPostgres {
        let dir = tempfile::Builder::new()
            .prefix("berth-extpg-")
            .tempdir()
            .unwrap();
        let chown = Command::new("chown")
            .arg("postgres:")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(chown.success());
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let pg = ExternalPostgres { dir };
        let data = pg.data();
        let initdb = Command::new("runuser")
            .args(["-u", "postgres", "--", &format!("{PG_BIN}/initdb"), "-D"])
            .arg(&data)
            .args([
                "-U",
                "berth",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            initdb.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        pg.start_again();
        pg
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Berth's `DATABASE_URL` for this cluster.
    pub fn url(&self) -> String {
        format!(
            "postgres://berth@localhost/postgres?host={}",
            self.dir.path().display()
        )
    }

    pub fn pg_ctl(&self, args: &[&str]) -> std::process::Output {
        Command::new("runuser")
            .args(["-u", "postgres", "--", &format!("{PG_BIN}/pg_ctl"), "-D"])
            .arg(self.data())
            .args(args)
            .stdin(Stdio::null())
            // pg_ctl's server keeps inherited pipes open: only the log file gets its output.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .unwrap()
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_again(&self) {
        let log = self.dir.path().join("log");
        let options = format!(
            "-c listen_addresses= -k {} -c fsync=off",
            self.dir.path().display()
        );
        let out = self.pg_ctl(&["-l", log.to_str().unwrap(), "-w", "-o", &options, "start"]);
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops the server hard: every backend ends at once, as in a crash.
    pub fn stop_immediately(&self) {
        let out = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
        assert!(out.status.success(), "pg_ctl stop failed");
    }
}

impl Drop for ExternalPostgres {
    fn drop(&mut self) {
        // Already stopped when the test failed while it was down: the answer does not matter.
        let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }
}

pub fn containers_of(service: &str) -> Vec<String> {
    let mut ids: Vec<String> = docker(&[
        "ps",
        "-aq",
        "--no-trunc",
        "--filter",
        &format!("label=berth.service={service}"),
    ])
    .lines()
    .map(str::to_owned)
    .collect();
    ids.sort();
    ids
}
