//! The live dashboard's streams against the real server, Docker and Postgres: the team's
//! change stream announces what a person sees change (a killed container, its repair), a
//! service's logs follow its replicas with their output cleaned, metrics are sampled, the
//! timeline tells what happened, and nobody outside the team hears or reads any of it.

mod common;

use common::api::Api;
use common::docker::docker;
use common::{quick_worker, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use server::live::{EventReader, StreamEvent};
use sqlx::PgPool;
use std::time::{Duration, Instant};

fn change_for(id: &str, topic: &str) -> impl Fn(&StreamEvent) -> bool {
    let (id, topic) = (id.to_owned(), topic.to_owned());
    move |e| {
        e.event == "change"
            && serde_json::from_str::<Value>(&e.data)
                .is_ok_and(|v| v["service"] == id.as_str() && v["topic"] == topic.as_str())
    }
}

#[sqlx::test(migrations = false)]
async fn a_killed_container_is_announced_at_once_and_its_repair_too(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let id = api.create(api.spec("web")).await;
    let view = api.running(&id, 1).await;
    let container = view["containers"][0]["id"].as_str().unwrap().to_owned();
    let started_at = view["containers"][0]["started_at"].clone();
    assert!(started_at.is_string(), "{view:#}");

    let mut stream = EventReader::open(&api.client, &api.server.url("/api/v1/events"))
        .await
        .unwrap();
    let first = stream
        .next(Duration::from_secs(5))
        .await
        .expect("a first event");
    assert_eq!(
        first.event, "resync",
        "a stream begins by asking for a full read"
    );

    let killed = Instant::now();
    docker(&["kill", &container]);
    stream
        .until(Duration::from_secs(5), change_for(&id, "containers"))
        .await
        .expect("the kill is announced");
    let announced = killed.elapsed();
    // What the announcement points at is already true when it arrives.
    let (_, now) = api
        .call(Method::GET, &format!("/api/v1/services/{id}"), None)
        .await;
    // Berth may already have started the container again by now (same id, running, no
    // restart counted by Docker), so "not running" would be a passing state: the kill
    // shows for good as a state other than before, or as a new start time.
    let c = &now["containers"][0];
    let unchanged = now["status"]["health"] == "running"
        && c["id"] == container.as_str()
        && c["state"] == "running"
        && c["restart_count"] == 0
        && c["started_at"] == started_at;
    assert!(
        !unchanged,
        "after the announcement the service shows the kill: {now:#}"
    );
    assert!(
        announced < Duration::from_secs(2),
        "announced after {announced:?}"
    );

    // The repair is announced too, and the service is back.
    api.running(&id, 1).await;
    let (_, events) = api
        .call(Method::GET, &format!("/api/v1/services/{id}/events"), None)
        .await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let text = events.to_string();
    assert!(
        kinds.contains(&"crash") || kinds.contains(&"restart"),
        "{events:#}"
    );
    assert!(
        text.contains("Replica 0 stopped running") || text.contains("Replica 0 was restarted"),
        "{text}"
    );
    assert!(
        text.contains("is live"),
        "the deployment is on the timeline: {text}"
    );
}

#[sqlx::test(migrations = false)]
async fn logs_follow_the_replicas_cleaned_and_download_as_text(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    // Prints HTML, colour codes, a very long line and binary bytes, then a line per second.
    let script = r#"printf '<script>alert(1)</script>\n'; printf '\033[1;31mred alert\033[0m\n'; i=0; while [ $i -lt 6000 ]; do printf x; i=$((i+1)); done; printf '\n'; printf 'bin\377\001end\n'; n=0; while true; do n=$((n+1)); echo "tick $n"; sleep 1; done"#;
    let id = api
        .create(json!({
            "name": "talker",
            "image": api.image,
            "command": ["sh", "-c", script],
        }))
        .await;
    api.running(&id, 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let url = api
        .server
        .url(&format!("/api/v1/services/{id}/logs/stream?tail=100"));
    let mut stream = EventReader::open(&api.client, &url).await.unwrap();
    let mut lines: Vec<String> = Vec::new();
    let mut last_tick_seen_first = None;
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let Some(e) = stream.next(Duration::from_secs(3)).await else {
            break;
        };
        assert_eq!(e.event, "log");
        let v: Value = serde_json::from_str(&e.data).unwrap();
        assert_eq!(v["replica"], 0);
        let line = v["line"].as_str().unwrap().to_owned();
        if line.starts_with("tick ") && last_tick_seen_first.is_none() {
            last_tick_seen_first = Some(line.clone());
        }
        let later_tick =
            line.starts_with("tick ") && last_tick_seen_first.as_deref().is_some_and(|f| f != line);
        lines.push(line);
        if later_tick {
            break; // a line printed after the stream opened arrived live
        }
    }
    assert!(
        lines.iter().any(|l| l == "<script>alert(1)</script>"),
        "HTML stays text: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l == "red alert"),
        "colour codes stripped: {lines:?}"
    );
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')));
    let long = lines
        .iter()
        .find(|l| l.starts_with("xxxx"))
        .expect("the long line");
    assert!(
        long.ends_with("more bytes]") && long.len() < 4200,
        "long line cut: {}",
        long.len()
    );
    assert!(
        lines.iter().any(|l| l == "bin\u{fffd}\u{fffd}end"),
        "binary replaced: {lines:?}"
    );
    let ticks = lines.iter().filter(|l| l.starts_with("tick ")).count();
    assert!(ticks >= 2, "followed live: {lines:?}");

    let r = api
        .client
        .get(
            api.server
                .url(&format!("/api/v1/services/{id}/logs?tail=500")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("talker.log"));
    let text = r.text().await.unwrap();
    assert!(text.contains("[replica 0] red alert\n"), "{text}");

    // Bad input changes nothing and says why.
    let (status, body) = api
        .call(
            Method::GET,
            &format!("/api/v1/services/{id}/logs?tail=999999"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = api
        .call(
            Method::GET,
            &format!("/api/v1/services/{id}/logs?replica=abc"),
            None,
        )
        .await;
    assert_eq!(status, 400);
}

#[sqlx::test(migrations = false)]
async fn metrics_are_sampled_and_actions_show_their_steps(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let mut spec = api.spec("metered");
    spec["memory_mb"] = json!(64);
    let id = api.create(spec).await;
    api.running(&id, 1).await;

    let path = format!("/api/v1/services/{id}/metrics");
    let start = Instant::now();
    let metrics = loop {
        let (status, m) = api.call(Method::GET, &path, None).await;
        assert_eq!(status, 200);
        if m["total"].as_array().is_some_and(|t| !t.is_empty()) {
            break m;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no samples: {m}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let c = &metrics["containers"][0];
    assert_eq!(c["mem_limit"], 64 * 1024 * 1024);
    assert!(
        c["samples"][0]["mem_bytes"].as_u64().unwrap() > 0,
        "{metrics}"
    );

    // Redeploy replaces the container; the log marks each step; rollback goes back to #1.
    let (status, _) = api
        .call(
            Method::POST,
            &format!("/api/v1/services/{id}/redeploy"),
            None,
        )
        .await;
    assert_eq!(status, 202);
    let view = api
        .until(&id, 40, "deployment #2 live", |v| v["live_deployment"] == 2)
        .await;
    let d2 = view["latest_deployment"]["id"].as_str().unwrap().to_owned();
    let (_, d) = api
        .call(Method::GET, &format!("/api/v1/deployments/{d2}"), None)
        .await;
    let steps: Vec<&str> = d["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["step"].as_str())
        .collect();
    let first_of = |s: &str| {
        steps
            .iter()
            .position(|x| *x == s)
            .unwrap_or_else(|| panic!("{s} in {steps:?}"))
    };
    assert!(first_of("pull") < first_of("start"));
    assert!(first_of("start") < first_of("stop_old"));
    assert!(first_of("stop_old") < first_of("live"));

    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/services/{id}/rollback"),
            Some(json!({"deployment": 9})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = api
        .call(
            Method::POST,
            &format!("/api/v1/services/{id}/rollback"),
            Some(json!({"deployment": 1})),
        )
        .await;
    assert_eq!(status, 202);
    let view = api
        .until(&id, 40, "rollback live", |v| v["live_deployment"] == 3)
        .await;
    assert_eq!(view["latest_deployment"]["trigger"], "rollback");
}

#[sqlx::test(migrations = false)]
async fn another_team_hears_and_reads_nothing(pool: PgPool) {
    let s = TestServer::start(pool.clone()).await;
    let c = s.owner().await;
    let mut stream = EventReader::open(&c, &s.url("/api/v1/events"))
        .await
        .unwrap();
    assert_eq!(
        stream.next(Duration::from_secs(5)).await.unwrap().event,
        "resync"
    );

    let (team_b, theirs) = common::other_teams_service(&pool, "theirs").await;
    let team_a: uuid::Uuid = sqlx::query_scalar("SELECT id FROM teams WHERE id <> $1")
        .bind(team_b)
        .fetch_one(&pool)
        .await
        .unwrap();
    let mine = common::create_service(&pool, team_a, "mine").await;
    // Everything up to our own change: none of it is about their service.
    let mut heard = Vec::new();
    while let Some(e) = stream.next(Duration::from_secs(3)).await {
        let done = e.data.contains(&mine.to_string());
        heard.push(e);
        if done {
            break;
        }
    }
    assert!(
        heard.iter().any(|e| e.data.contains(&mine.to_string())),
        "{heard:?}"
    );
    assert!(
        heard.iter().all(|e| !e.data.contains(&theirs.to_string())),
        "{heard:?}"
    );

    for path in [
        format!("/api/v1/services/{theirs}/logs/stream"),
        format!("/api/v1/services/{theirs}/logs"),
        format!("/api/v1/services/{theirs}/events"),
        format!("/api/v1/services/{theirs}/metrics"),
    ] {
        let r = c.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = c
        .post(s.url(&format!("/api/v1/services/{theirs}/rollback")))
        .json(&json!({"deployment": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let deployments: i64 =
        sqlx::query_scalar("SELECT count(*) FROM deployments WHERE service_id = $1")
            .bind(theirs)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(deployments, 1, "nothing changed");

    // Signed out: no stream at all.
    let anonymous = s.client();
    for path in [
        "/api/v1/events".to_owned(),
        format!("/api/v1/services/{mine}/logs/stream"),
    ] {
        let r = anonymous.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
}

#[sqlx::test(migrations = false)]
async fn signing_out_ends_the_open_streams(pool: PgPool) {
    let s = TestServer::start(pool.clone()).await;
    let c = s.owner().await;
    let mine = common::create_service(
        &pool,
        sqlx::query_scalar("SELECT id FROM teams")
            .fetch_one(&pool)
            .await
            .unwrap(),
        "mine",
    )
    .await;
    let mut changes = EventReader::open(&c, &s.url("/api/v1/events"))
        .await
        .unwrap();
    let logs_url = s.url(&format!("/api/v1/services/{mine}/logs/stream"));
    let mut logs = EventReader::open(&c, &logs_url).await.unwrap();
    assert_eq!(
        changes.next(Duration::from_secs(5)).await.unwrap().event,
        "resync"
    );

    let r = c.post(s.url("/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // Streams re-check their caller every 10 s.
    assert!(
        changes.ends_within(Duration::from_secs(13)).await,
        "change stream still open"
    );
    assert!(
        logs.ends_within(Duration::from_secs(3)).await,
        "log stream still open"
    );
}
