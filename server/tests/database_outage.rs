//! The database goes away under load and comes back: berth answers `503` meanwhile (never
//! `401`), serves the same token again within 10 s, loses nothing and duplicates no
//! container; its worker's listener reconnects by itself. Twice: the embedded database
//! (`kill -9` of its postmaster; berth restarts it) and an external one named by
//! `DATABASE_URL` (stopped and started again by its operator). And the log has no colour
//! codes when it goes to a pipe or a file.

mod common;

use common::docker::{docker, remove_instance};
use common::images::{build_httpd, unique_tag};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Berth {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Berth {
    /// The real binary with its data in `data`, on the external database `database_url`
    /// or (`None`) its own embedded cluster; its log (stderr) in a file.
    async fn start(data: &Path, database_url: Option<&str>) -> Berth {
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
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
struct Cleanup {
    service: Option<String>,
    image: String,
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
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A throwaway PostgreSQL cluster of the test's own (not the shared test database), run
/// by the `postgres` account, reached only through a unix socket in its folder. Stopped
/// (`-m immediate`) and removed however the test ends.
struct ExternalPostgres {
    dir: tempfile::TempDir,
}

impl ExternalPostgres {
    fn start() -> ExternalPostgres {
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

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Berth's `DATABASE_URL` for this cluster.
    fn url(&self) -> String {
        format!(
            "postgres://berth@localhost/postgres?host={}",
            self.dir.path().display()
        )
    }

    fn pg_ctl(&self, args: &[&str]) -> std::process::Output {
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
    fn start_again(&self) {
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
    fn stop_immediately(&self) {
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

fn containers_of(service: &str) -> Vec<String> {
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

fn data_root() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("berth-outage-")
        .tempdir()
        .unwrap();
    // Postgres runs as an unprivileged account that must pass through this folder.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

/// One request's answer during the load: when it was sent (since the outage began), its
/// status, and how long it took.
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: Duration,
    status: u16,
    took: Duration,
}

async fn service(client: &reqwest::Client, berth: &Berth, token: &str, id: &str) -> Value {
    let r = client
        .get(berth.url(&format!("/api/v1/services/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn until_ready(client: &reqwest::Client, berth: &Berth, token: &str, id: &str, n: u64) {
    let start = Instant::now();
    loop {
        let v = service(client, berth, token, id).await;
        if v["status"]["ready"] == n && v["containers"].as_array().map(Vec::len) == Some(n as usize)
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "waited for {n} ready replicas; service is now:\n{v:#}\nberth's log:\n{}",
            berth.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What both outages start from: the owner signed in (a browser session) has made an
/// owner token, and the token has defined a service with two ready replicas.
struct Team {
    browser: reqwest::Client,
    program: reqwest::Client,
    token: String,
    id: String,
    /// The service's two containers.
    containers: Vec<String>,
}

async fn set_up(berth: &Berth, cleanup: &mut Cleanup) -> Team {
    build_httpd(
        &server::engine::Engine::new(None),
        &cleanup.image,
        "still here\n",
    )
    .await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = browser
        .post(berth.url("/auth/setup"))
        .header("accept", "application/json")
        .form(&common::setup_form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = browser
        .post(berth.url("/api/v1/tokens"))
        .json(&json!({"name": "load", "role": "owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let program = reqwest::Client::new();
    let r = program
        .post(berth.url("/api/v1/services"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "web",
            "image": cleanup.image,
            "replicas": 2,
            "ports": [{ "container": 8080 }],
            "env": [{ "key": "GREETING", "value": "written before the outage" }],
            "health_check": {
                "probe": { "kind": "http", "path": "/index.html", "port": 8080 },
                "interval_s": 1, "timeout_s": 1, "retries": 1
            }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    cleanup.service = Some(id.clone());
    until_ready(&program, berth, &token, &id, 2).await;
    let containers = containers_of(&id);
    assert_eq!(containers.len(), 2);
    Team {
        browser,
        program,
        token,
        id,
        containers,
    }
}

type Answers = Arc<Mutex<Vec<(&'static str, Seen)>>>;

/// Load through the outage, every 100 ms each: a program with its token (`token`), a
/// person with their session (`session`), a health checker (`healthz`; also
/// `healthz-restarting` when it said the embedded server was being restarted).
struct Load {
    seen: Answers,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `outage`: when the database is taken away; answers are timed from then.
    fn start(berth: &Berth, team: &Team, outage: Instant) -> Load {
        let seen: Answers = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for (who, client, path, token) in [
            (
                "token",
                team.program.clone(),
                format!("/api/v1/services/{}", team.id),
                Some(team.token.clone()),
            ),
            (
                "session",
                team.browser.clone(),
                "/api/v1/me".to_owned(),
                None,
            ),
            ("healthz", team.program.clone(), "/healthz".to_owned(), None),
        ] {
            let (seen, stop, url) = (seen.clone(), stop.clone(), berth.url(&path));
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let mut req = client.get(&url).timeout(Duration::from_secs(20));
                    if let Some(t) = &token {
                        req = req.bearer_auth(t);
                    }
                    let status = match req.send().await {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            if who == "healthz" && status == 503 {
                                let body: Value = r.json().await.unwrap_or_default();
                                if body["postgres"]["supervisor"]["state"] == "restarting" {
                                    // Marked so the test can tell /healthz said so.
                                    seen.lock().unwrap().push((
                                        "healthz-restarting",
                                        Seen {
                                            at: sent.saturating_duration_since(outage),
                                            status,
                                            took: sent.elapsed(),
                                        },
                                    ));
                                }
                            }
                            status
                        }
                        Err(_) => 0,
                    };
                    seen.lock().unwrap().push((
                        who,
                        Seen {
                            at: sent.saturating_duration_since(outage),
                            status,
                            took: sent.elapsed(),
                        },
                    ));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }));
        }
        Load { seen, stop, tasks }
    }

    /// Whether `who` got a `503` already.
    fn refused(&self, who: &str) -> bool {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|(w, s)| *w == who && s.status == 503)
    }

    /// Waits until the token is served again (a 200 sent after its first failure), at
    /// most `within` from `since`; answers how long after `since` that was.
    async fn served_again(&self, berth: &Berth, since: Instant, within: Duration) -> Duration {
        loop {
            let elapsed = since.elapsed();
            let back = {
                let seen = self.seen.lock().unwrap();
                let first_failure = seen
                    .iter()
                    .filter(|(who, s)| *who == "token" && s.status != 200)
                    .map(|(_, s)| s.at)
                    .min();
                first_failure.is_some_and(|f| {
                    seen.iter()
                        .any(|(who, s)| *who == "token" && s.status == 200 && s.at > f)
                })
            };
            if back {
                return elapsed;
            }
            assert!(
                elapsed < within,
                "not served again within {within:?}; answers: {:?}\nberth's log:\n{}",
                self.seen.lock().unwrap(),
                berth.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Lets the load run a moment on the database that came back, stops it and checks
    /// the outage's answers: `200` or `503`, at once (the pool's 3 s at most), never
    /// `401`; each of `refused` got a `503`.
    async fn finish(self, refused: &[&str]) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        let seen = self.seen.lock().unwrap().clone();
        eprintln!("answers: {seen:?}");
        for (who, s) in &seen {
            assert!(
                matches!(s.status, 200 | 503),
                "{who} got {} at {:?}: {seen:?}",
                s.status,
                s.at
            );
            assert!(
                s.took < Duration::from_secs(4),
                "{who} waited {:?} at {:?}",
                s.took,
                s.at
            );
        }
        for who in refused {
            assert!(
                seen.iter().any(|(w, s)| w == who && s.status == 503),
                "{who} never answered 503 during the outage: {seen:?}"
            );
        }
    }
}

/// After the outage: nothing lost (the person is still signed in, the service and its
/// env are there), no container duplicated or replaced, and the worker listens to the
/// database again by itself (it lost its lock with the connection, led again and listens
/// anew) — with a 10 min resync, only a notification can carry a scale to Docker.
async fn nothing_lost_and_the_worker_listens(berth: &Berth, team: &Team) {
    let me = team
        .browser
        .get(berth.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let view = service(&team.program, berth, &team.token, &team.id).await;
    assert_eq!(view["spec"]["replicas"], 2, "{view:#}");
    assert!(view.to_string().contains("GREETING"), "{view:#}");

    // Even after the worker has led again a while.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        containers_of(&team.id),
        team.containers,
        "the same two containers"
    );

    let r = team
        .program
        .post(berth.url(&format!("/api/v1/services/{}/scale", team.id)))
        .bearer_auth(&team.token)
        .json(&json!({"replicas": 3}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    until_ready(&team.program, berth, &team.token, &team.id, 3).await;
    let after = containers_of(&team.id);
    assert_eq!(after.len(), 3);
    assert!(team.containers.iter().all(|c| after.contains(c)));
}

#[tokio::test]
async fn the_embedded_database_killed_under_load_is_restarted_and_nothing_is_lost() {
    let root = data_root();
    let data = root.path().join("data");
    // Declared before berth so it is dropped after berth has stopped: removed earlier,
    // berth's worker would create the containers again.
    let mut cleanup = Cleanup {
        service: None,
        image: unique_tag("outage"),
    };
    let berth = Berth::start(&data, None).await;
    let team = set_up(&berth, &mut cleanup).await;

    let killed_at = Instant::now() + Duration::from_millis(500);
    let load = Load::start(&berth, &team, killed_at);

    // kill -9 of the postmaster, as the operator would do it.
    tokio::time::sleep_until(killed_at.into()).await;
    let pidfile =
        std::fs::read_to_string(data.join("postgres/postmaster.pid")).expect("postmaster.pid");
    let pid = pidfile.lines().next().unwrap().trim().to_owned();
    assert!(Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap()
        .success());

    // Within 10 s the same token is served again.
    let back = load
        .served_again(&berth, killed_at, Duration::from_secs(10))
        .await;
    eprintln!("served again {back:?} after the kill");
    load.finish(&["token", "session", "healthz", "healthz-restarting"])
        .await;

    // /healthz: healthy again, and says what happened.
    let health: Value = reqwest::get(berth.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health:#}");
    let supervisor = &health["postgres"]["supervisor"];
    assert_eq!(supervisor["state"], "running", "{health:#}");
    assert_eq!(supervisor["restarts"], 1, "{health:#}");
    assert!(
        supervisor["last_exit"].as_str().unwrap().contains("9"),
        "{health:#}"
    );
    let log = berth.log();
    assert!(
        log.contains("embedded Postgres exited unexpectedly"),
        "{log}"
    );
    assert!(log.contains("embedded Postgres restarted"), "{log}");

    nothing_lost_and_the_worker_listens(&berth, &team).await;
}

#[tokio::test]
async fn an_external_database_stopped_under_load_is_reconnected_and_nothing_is_lost() {
    let root = data_root();
    // Both declared before berth so they are dropped after berth has stopped: the
    // containers are removed once no worker can create them again, and the cluster
    // outlives its client.
    let postgres = ExternalPostgres::start();
    let mut cleanup = Cleanup {
        service: None,
        image: unique_tag("extoutage"),
    };
    let berth = Berth::start(&root.path().join("data"), Some(&postgres.url())).await;
    let team = set_up(&berth, &mut cleanup).await;

    let stopped_at = Instant::now() + Duration::from_millis(500);
    let load = Load::start(&berth, &team, stopped_at);

    // The operator stops the database hard; berth has nothing to restart.
    tokio::time::sleep_until(stopped_at.into()).await;
    postgres.stop_immediately();

    // While it is down: 503 for everyone, whichever way they call.
    let down = Instant::now();
    while !["token", "session", "healthz"]
        .iter()
        .all(|who| load.refused(who))
    {
        assert!(
            down.elapsed() < Duration::from_secs(10),
            "not every caller got 503 while the database was down: {:?}\nberth's log:\n{}",
            load.seen.lock().unwrap(),
            berth.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Down a while longer: the listeners' back-off grows past its first steps.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let health: Value = reqwest::get(berth.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "unavailable", "{health:#}");

    // Started again: within 10 s the same token is served again.
    postgres.start_again();
    let restarted = Instant::now();
    let back = load
        .served_again(&berth, restarted, Duration::from_secs(10))
        .await;
    eprintln!("served again {back:?} after the restart");
    load.finish(&["token", "session", "healthz"]).await;

    let health: Value = reqwest::get(berth.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health:#}");
    assert!(
        health["postgres"].get("supervisor").is_none(),
        "no supervisor for an external database: {health:#}"
    );

    nothing_lost_and_the_worker_listens(&berth, &team).await;
}

#[tokio::test]
async fn the_log_has_no_colour_codes_when_it_is_not_a_terminal() {
    // A database that cannot exist: berth logs its start and the error, then exits.
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .env_remove("NO_COLOR")
        .env(
            "DATABASE_URL",
            format!(
                "postgres://berth@localhost/berth?host={}",
                root.path().join("nowhere").display()
            ),
        )
        .env("BERTH_DATA_DIR", root.path().join("data"))
        .env("BERTH_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("INFO") && log.contains("ERROR"), "{log}");
    assert!(!log.contains('\u{1b}'), "escape codes in the log: {log:?}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
}
