//! The embedded database dies under load (`kill -9` of its postmaster): berth restarts it,
//! answers `503` meanwhile (never `401`), serves the same token again within 10 s, loses
//! nothing and duplicates no container; its worker's listener reconnects by itself. And
//! the log has no colour codes when it goes to a pipe or a file.

mod common;

use common::docker::{docker, remove_instance};
use common::images::{build_httpd, unique_tag};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Berth {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Berth {
    /// The real binary on an embedded cluster in `data`, its log (stderr) in a file.
    async fn start(data: &Path) -> Berth {
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
        let child = cmd
            .env_remove("DATABASE_URL")
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

/// One request's answer during the load: when it was sent (since the kill), its status,
/// and how long it took.
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
    let berth = Berth::start(&data).await;
    build_httpd(
        &server::engine::Engine::new(None),
        &cleanup.image,
        "still here\n",
    )
    .await;

    // The owner (a browser session) makes a token; the token defines a service with two
    // replicas.
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
            "env": [{ "key": "GREETING", "value": "written before the kill" }],
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
    until_ready(&program, &berth, &token, &id, 2).await;
    let containers = containers_of(&id);
    assert_eq!(containers.len(), 2);

    // Load: a program with its token and a person with their session, every 100 ms each.
    let seen: Arc<Mutex<Vec<(&'static str, Seen)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killed_at = Instant::now() + Duration::from_millis(500);
    let mut load = Vec::new();
    for (who, client, path, token) in [
        (
            "token",
            program.clone(),
            format!("/api/v1/services/{id}"),
            Some(token.clone()),
        ),
        ("session", browser.clone(), "/api/v1/me".to_owned(), None),
        ("healthz", program.clone(), "/healthz".to_owned(), None),
    ] {
        let (seen, stop, url) = (seen.clone(), stop.clone(), berth.url(&path));
        load.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
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
                                        at: sent.saturating_duration_since(killed_at),
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
                        at: sent.saturating_duration_since(killed_at),
                        status,
                        took: sent.elapsed(),
                    },
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }

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
    let back = loop {
        let elapsed = killed_at.elapsed();
        let served =
            seen.lock().unwrap().iter().any(|(who, s)| {
                *who == "token" && s.status == 200 && s.at > Duration::from_millis(1)
            });
        let since_outage = {
            let seen = seen.lock().unwrap();
            let first_failure = seen
                .iter()
                .filter(|(who, s)| *who == "token" && s.status != 200)
                .map(|(_, s)| s.at)
                .min();
            first_failure.map(|f| {
                seen.iter()
                    .any(|(who, s)| *who == "token" && s.status == 200 && s.at > f)
            })
        };
        if served && since_outage == Some(true) {
            break elapsed;
        }
        assert!(
            elapsed < Duration::from_secs(10),
            "not served again within 10 s of the kill; answers: {:?}\nberth's log:\n{}",
            seen.lock().unwrap(),
            berth.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Let the load run a moment on the restarted database, then stop it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    eprintln!("served again {back:?} after the kill; answers: {seen:?}");

    // During the outage: 503, at once (the pool's 3 s at most), never 401.
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
    for who in ["token", "session", "healthz", "healthz-restarting"] {
        assert!(
            seen.iter().any(|(w, s)| *w == who && s.status == 503),
            "{who} never answered 503 during the outage: {seen:?}"
        );
    }

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

    // Nothing lost: the person is still signed in, the service and its env are there.
    let me = browser.get(berth.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let view = service(&program, &berth, &token, &id).await;
    assert_eq!(view["spec"]["replicas"], 2, "{view:#}");
    assert!(view.to_string().contains("GREETING"), "{view:#}");

    // No container duplicated or replaced, even after the worker has led again a while.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(containers_of(&id), containers, "the same two containers");

    // The worker's listener reconnected by itself: with a 10 min resync, only its
    // notification can carry a scale to Docker.
    let r = program
        .post(berth.url(&format!("/api/v1/services/{id}/scale")))
        .bearer_auth(&token)
        .json(&json!({"replicas": 3}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    until_ready(&program, &berth, &token, &id, 3).await;
    let after = containers_of(&id);
    assert_eq!(after.len(), 3);
    assert!(containers.iter().all(|c| after.contains(c)));
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
