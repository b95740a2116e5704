//! The `berth` binary with no DATABASE_URL: it creates, runs and stops its own Postgres in
//! its data directory. These tests start the real binary as a person would.

mod common;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

struct Berth {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(data: &Path, port: u16) -> Child {
    spawn_with(data, port, &[])
}

fn spawn_with(data: &Path, port: u16, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .env_remove("DATABASE_URL")
        .env_remove("BERTH_SECRET_KEY")
        .envs(env.iter().copied())
        .env("BERTH_ADDR", format!("127.0.0.1:{port}"))
        .env("BERTH_DATA_DIR", data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

impl Berth {
    async fn start(data: &Path) -> Berth {
        let port = free_port();
        let mut berth = Berth {
            child: spawn(data, port),
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/healthz", berth.base)).await {
                if r.status().is_success() {
                    return berth;
                }
            }
            if let Ok(Some(status)) = berth.child.try_wait() {
                panic!(
                    "berth exited ({status}) while starting:\n{}",
                    stderr_of(&mut berth.child)
                );
            }
            assert!(Instant::now() < deadline, "berth did not become healthy");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn signal(&self, sig: &str) {
        Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
    }

    async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "berth did not exit");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.signal("TERM");
            let _ = self.child.wait();
        }
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut out = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut out);
    }
    out
}

/// Live `postgres` processes whose command line names this data directory.
fn postgres_processes(pgdata: &Path) -> Vec<u32> {
    let needle = pgdata.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains("postgres") && cmd.contains(&needle)
        })
        .collect()
}

async fn create_owner(base: &str) {
    let r = reqwest::Client::new()
        .post(format!("{base}/auth/setup"))
        .header("accept", "application/json")
        .form(&[
            ("name", "Ada"),
            ("email", "ada@example.com"),
            ("password", "correct horse battery"),
            ("team_name", "Engines"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// Whether /login shows the sign-in form (set up) rather than sending to /setup. A 503
/// (the database not answering yet, seen once right after a takeover on a loaded
/// machine) is asked again for up to 10 s; any other answer is final.
async fn is_set_up(base: &str) -> bool {
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        let r = c.get(format!("{base}/login")).send().await.unwrap();
        if r.status() != 503 || start.elapsed() > Duration::from_secs(10) {
            return r.status() == 200;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn runs_its_own_postgres_keeps_data_and_stops_it_cleanly() {
    let root = common::data_root("berth-embedded-");
    let data = root.path().join("data");
    let mut berth = Berth::start(&data).await;
    let pgdata = data.join("postgres").canonicalize().unwrap();
    assert!(
        pgdata.join("PG_VERSION").is_file(),
        "the cluster lives in the data directory"
    );
    let health: serde_json::Value = reqwest::get(format!("{}/healthz", berth.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["postgres"]["reachable"], true);
    // Unix socket only: postgresql.conf is left alone and listen_addresses is empty.
    assert!(!postgres_processes(&pgdata).is_empty());
    create_owner(&berth.base).await;

    // A second berth on the same data directory refuses, clearly, and harms nothing.
    let mut second = spawn(&data, free_port());
    let status = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Some(s) = second.try_wait().unwrap() {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the second berth should exit");
    assert!(!status.success());
    let err = stderr_of(&mut second);
    assert!(
        err.contains("already running on the data directory"),
        "{err}"
    );
    assert!(is_set_up(&berth.base).await, "the first berth still serves");

    // SIGTERM: berth stops its Postgres and exits 0.
    berth.signal("TERM");
    assert!(berth.wait_exit(Duration::from_secs(60)).await.success());
    assert!(
        postgres_processes(&pgdata).is_empty(),
        "Postgres stopped with berth"
    );
    assert!(!pgdata.join("postmaster.pid").exists(), "clean shutdown");
    let log = std::fs::read_to_string(data.join("postgres.log")).unwrap();
    assert!(log.contains("database system is shut down"), "{log}");

    // Started again: the owner is still there.
    let berth = Berth::start(&data).await;
    assert!(is_set_up(&berth.base).await);
}

#[tokio::test]
async fn recovers_after_berth_is_killed() {
    let root = common::data_root("berth-embedded-");
    let data = root.path().join("data");
    let mut berth = Berth::start(&data).await;
    create_owner(&berth.base).await;
    let pgdata = data.join("postgres").canonicalize().unwrap();

    // SIGKILL gives berth no chance to stop its Postgres, which is left running.
    berth.signal("KILL");
    berth.wait_exit(Duration::from_secs(10)).await;
    assert!(
        !postgres_processes(&pgdata).is_empty(),
        "the orphaned Postgres is still up"
    );

    // The next start takes over: stops the orphan, starts its own, keeps the data.
    let mut berth = Berth::start(&data).await;
    assert!(is_set_up(&berth.base).await);
    // Helper processes are titled "postgres: checkpointer" etc.; only postmasters name the data directory.
    assert_eq!(
        postgres_processes(&pgdata).len(),
        1,
        "exactly one postmaster"
    );
    berth.signal("INT");
    assert!(
        berth.wait_exit(Duration::from_secs(60)).await.success(),
        "Ctrl-C stops cleanly too"
    );
    assert!(postgres_processes(&pgdata).is_empty());
}

#[tokio::test]
async fn a_wrong_secret_key_fails_closed() {
    let root = common::data_root("berth-embedded-");
    let data = root.path().join("data");
    let mut berth = Berth::start(&data).await;
    let key_file = data.join("secret.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the key file is private");
    berth.signal("TERM");
    assert!(berth.wait_exit(Duration::from_secs(60)).await.success());

    // Another key for the same database: refused before serving, Postgres stopped again.
    let other_key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let mut wrong = spawn_with(&data, free_port(), &[("BERTH_SECRET_KEY", other_key)]);
    let status =
        tokio::task::spawn_blocking(move || (wrong.wait().unwrap(), stderr_of(&mut wrong)))
            .await
            .unwrap();
    assert!(!status.0.success());
    assert!(
        status.1.contains("secret key does not match"),
        "{}",
        status.1
    );
    let pgdata = data.join("postgres").canonicalize().unwrap();
    assert!(
        postgres_processes(&pgdata).is_empty(),
        "no Postgres left behind"
    );

    // The right key (the file) still works.
    let berth = Berth::start(&data).await;
    assert!(!is_set_up(&berth.base).await);
}
