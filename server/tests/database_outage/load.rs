//! What both outages start from (an owner, a token, a service with two replicas), the load
//! sent through the outage, and what must hold afterwards.

use super::common;
use super::common::images::build_httpd;
use super::harness::{containers_of, Berth, Cleanup};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request's answer during the load: when it was sent (since the outage began), its
/// status, and how long it took.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub at: Duration,
    pub status: u16,
    pub took: Duration,
}

pub async fn service(client: &reqwest::Client, berth: &Berth, token: &str, id: &str) -> Value {
    let r = client
        .get(berth.url(&format!("/api/v1/services/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub async fn until_ready(client: &reqwest::Client, berth: &Berth, token: &str, id: &str, n: u64) {
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
pub struct Team {
    pub browser: reqwest::Client,
    pub program: reqwest::Client,
    pub token: String,
    pub id: String,
    /// The service's two containers.
    pub containers: Vec<String>,
}

pub async fn set_up(berth: &Berth, cleanup: &mut Cleanup) -> Team {
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

pub type Answers = Arc<Mutex<Vec<(&'static str, Seen)>>>;

/// Load through the outage, every 100 ms each: a program with its token (`token`), a
/// person with their session (`session`), a health checker (`healthz`; also
/// `healthz-restarting` when it said the embedded server was being restarted).
pub struct Load {
    pub seen: Answers,
    pub stop: Arc<AtomicBool>,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `outage`: when the database is taken away; answers are timed from then.
    pub fn start(berth: &Berth, team: &Team, outage: Instant) -> Load {
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
    pub fn refused(&self, who: &str) -> bool {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|(w, s)| *w == who && s.status == 503)
    }

    /// Waits until the token is served again (a 200 sent after its first failure, or
    /// after the outage began when none failed), at most `within` from `since`; answers
    /// how long after `since` that was.
    pub async fn served_again(&self, berth: &Berth, since: Instant, within: Duration) -> Duration {
        loop {
            let elapsed = since.elapsed();
            let back = {
                let seen = self.seen.lock().unwrap();
                let first_failure = seen
                    .iter()
                    .filter(|(who, s)| *who == "token" && s.status != 200)
                    .map(|(_, s)| s.at)
                    .min();
                // A token whose requests never failed (each fell between the outage's
                // checks) was served throughout: a 200 after the outage began is enough.
                let after = first_failure.unwrap_or_default();
                seen.iter()
                    .any(|(who, s)| *who == "token" && s.status == 200 && s.at > after)
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
    pub async fn finish(self, refused: &[&str]) {
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
        // The outage as the clients saw it: from the first 503 to the last.
        let refusals = seen
            .iter()
            .filter(|(_, s)| s.status == 503)
            .map(|(_, s)| s.at);
        let first = refusals.clone().min().unwrap_or_default();
        let last = refusals.max().unwrap_or_default();
        for who in refused {
            // A request in flight across the whole outage waits (the pool's 3 s at most)
            // and is then served: it had no moment to be refused in.
            let waited_through = seen.iter().any(|(w, s)| {
                w == who && s.status == 200 && s.at <= first && s.at + s.took >= last
            });
            assert!(
                waited_through || seen.iter().any(|(w, s)| w == who && s.status == 503),
                "{who} never answered 503 during the outage: {seen:?}"
            );
        }
    }
}

/// After the outage: nothing lost (the person is still signed in, the service and its
/// env are there), no container duplicated or replaced, and the worker listens to the
/// database again by itself (it lost its lock with the connection, led again and listens
/// anew) — with a 10 min resync, only a notification can carry a scale to Docker.
pub async fn nothing_lost_and_the_worker_listens(berth: &Berth, team: &Team) {
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
