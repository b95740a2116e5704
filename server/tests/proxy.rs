//! Routing through a real Caddy: domains reach the ready replicas, scaling and rollouts
//! move traffic only to healthy replicas, a Caddy restart is repaired, bad domains refused.

mod common;

use common::api::Api;
use common::quick_worker;
use serde_json::{json, Value};
use server::proxy::local_caddy::LocalCaddy as Caddy;
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::{Duration, Instant};

async fn start(pool: PgPool, caddy: &Caddy, deploy_timeout: u64) -> Api {
    let settings = server::worker::WorkerSettings {
        proxy: Some(caddy.settings()),
        deploy_timeout: Duration::from_secs(deploy_timeout),
        ..quick_worker()
    };
    Api::start(pool, settings).await
}

fn routed(api: &Api, name: &str, domain: &str) -> Value {
    let mut spec = api.spec(name);
    spec["http"] = json!({ "domains": [domain], "port": 8080 });
    spec
}

/// Waits until a request for `host` through Caddy answers `status`.
async fn until_answer(caddy: &Caddy, host: &str, path: &str, status: u16, secs: u64) -> String {
    let start = Instant::now();
    loop {
        let got = caddy.get(host, path).await;
        if let Some((s, body)) = &got {
            if *s == status {
                return body.clone();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{host}{path} did not answer {status} within {secs} s; last: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The container hostnames (Docker's short ids) that answered `n` requests.
async fn answering_replicas(caddy: &Caddy, host: &str, n: usize) -> HashSet<String> {
    let mut seen = HashSet::new();
    for _ in 0..n {
        let (status, body) = caddy.get(host, "/cgi-bin/env").await.expect("an answer");
        assert_eq!(status, 200, "{body}");
        let name = body
            .lines()
            .find_map(|l| l.strip_prefix("HOSTNAME="))
            .expect("HOSTNAME in the environment");
        seen.insert(name.to_owned());
    }
    seen
}

fn short_ids(view: &Value) -> HashSet<String> {
    view["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap()[..12].to_owned())
        .collect()
}

#[sqlx::test(migrations = false)]
async fn a_domain_reaches_every_ready_replica_and_scaling_moves_traffic(pool: PgPool) {
    let caddy = Caddy::start().await.unwrap();
    let api = start(pool, &caddy, 20).await;
    let host = "web.berth.test";
    let id = api.create(routed(&api, "web", host)).await;
    api.running(&id, 1).await;
    let body = until_answer(&caddy, host, "/", 200, 20).await;
    assert_eq!(body, "hello from berth\n");
    let view = api
        .until(&id, 10, "the route to be live", |v| {
            v["route"]["upstreams"] == 1 && v["route"]["error"].is_null()
        })
        .await;
    assert_eq!(
        view["urls"],
        json!([format!("http://{host}:{}", caddy.http_port)])
    );

    // A host no service has is told so.
    let (status, body) = caddy.get("nobody.berth.test", "/").await.unwrap();
    assert_eq!(status, 404);
    assert!(body.contains("No Berth service"), "{body}");

    // Scale 1 → 3: every replica answers.
    api.act(&id, "scale", Some(json!({ "replicas": 3 }))).await;
    let view = api.running(&id, 3).await;
    api.until(&id, 10, "three upstreams", |v| v["route"]["upstreams"] == 3)
        .await;
    let replicas = short_ids(&view);
    assert_eq!(answering_replicas(&caddy, host, 30).await, replicas);

    // Scale back to 1: after the switch only the remaining replica gets requests.
    api.act(&id, "scale", Some(json!({ "replicas": 1 }))).await;
    let view = api.running(&id, 1).await;
    let left = short_ids(&view);
    assert_eq!(answering_replicas(&caddy, host, 20).await, left);

    // Stopped: the domain answers 503 with the reason, nothing reaches a container.
    api.act(&id, "stop", None).await;
    let body = until_answer(&caddy, host, "/", 503, 20).await;
    assert!(body.contains("No replica of web is ready"), "{body}");
}

#[sqlx::test(migrations = false)]
async fn a_rollout_that_never_gets_ready_never_gets_traffic(pool: PgPool) {
    let caddy = Caddy::start().await.unwrap();
    let api = start(pool, &caddy, 6).await;
    let host = "steady.berth.test";
    let spec = routed(&api, "steady", host);
    let id = api.create(spec.clone()).await;
    api.running(&id, 1).await;
    until_answer(&caddy, host, "/", 200, 20).await;

    // The new definition routes to a port the app does not listen on: its replicas pass
    // their health check (port 8080) but never accept connections on 9999.
    let mut bad = spec.clone();
    bad["http"]["port"] = json!(9999);
    let answer = api.put(&id, bad).await;
    assert_eq!(answer["change"], "rollout");
    let start = Instant::now();
    let mut answers = 0;
    loop {
        let (status, body) = caddy.get(host, "/").await.expect("an answer");
        assert_eq!(
            (status, body.as_str()),
            (200, "hello from berth\n"),
            "the old replica keeps serving every request"
        );
        answers += 1;
        let view = api.service(&id).await;
        if view["latest_deployment"]["state"] == "rolled_back" {
            assert!(
                view["latest_deployment"]["reason"]
                    .as_str()
                    .unwrap()
                    .contains("not ready"),
                "{view:#}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the rollout was not rolled back: {view:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answers > 10, "only {answers} requests were made");
    let view = api.running(&id, 1).await;
    assert_eq!(view["live_deployment"], 1);
    assert_eq!(caddy.get(host, "/").await.unwrap().0, 200);
}

#[sqlx::test(migrations = false)]
async fn routes_come_back_after_caddy_restarts_empty(pool: PgPool) {
    let mut caddy = Caddy::start().await.unwrap();
    let api = start(pool, &caddy, 20).await;
    let host = "again.berth.test";
    let id = api.create(routed(&api, "again", host)).await;
    api.running(&id, 1).await;
    until_answer(&caddy, host, "/", 200, 20).await;

    // Berth may restore its routes as soon as Caddy's admin API answers again, so reading
    // Caddy's routes after the restart cannot show they were lost. A setting of the
    // operator's own shows it: Berth keeps it (it writes only its own servers) and never
    // writes it back, so only the restart takes it away.
    let marker = json!({ "logs": { "operator_marker": { "level": "ERROR", "writer": { "output": "discard" } } } });
    caddy.set("/logging", &marker).await.unwrap();
    let before = caddy.config().await.unwrap();
    assert!(
        before.pointer("/logging/logs/operator_marker").is_some(),
        "{before:#}"
    );
    assert!(before.pointer("/apps/http/servers/berth").is_some());
    caddy.restart_empty().await.unwrap();
    let restarted = Instant::now();
    let after = caddy.config().await.unwrap();
    assert!(
        after.pointer("/logging/logs/operator_marker").is_none(),
        "Caddy kept its config across the restart: {after:#}"
    );
    until_answer(&caddy, host, "/", 200, 10).await;
    eprintln!(
        "routes restored {:?} after the restart",
        restarted.elapsed()
    );
}

#[sqlx::test(migrations = false)]
async fn bad_domains_are_refused_and_change_nothing(pool: PgPool) {
    let caddy = Caddy::start().await.unwrap();
    let api = start(pool, &caddy, 20).await;
    for (domains, field, says) in [
        (json!(["Not A Host"]), "http.domains[0]", "full domain name"),
        (
            json!(["ok.example.com", "10.1.2.3"]),
            "http.domains[1]",
            "IP address",
        ),
        (
            json!(["https://x.example.com"]),
            "http.domains[0]",
            "scheme",
        ),
        (json!([]), "http.domains", "at least one"),
    ] {
        let mut spec = api.spec("bad");
        spec["http"] = json!({ "domains": domains, "port": 8080 });
        let (status, body) = api
            .call(reqwest::Method::POST, "/api/v1/services", Some(spec))
            .await;
        assert_eq!(status, 422, "{body}");
        let e = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("no error for {field}: {body}"));
        assert!(e["message"].as_str().unwrap().contains(says), "{body}");
    }
    let mut zero = api.spec("bad");
    zero["http"] = json!({ "domains": ["z.example.com"], "port": 0 });
    let (status, _) = api
        .call(reqwest::Method::POST, "/api/v1/services", Some(zero))
        .await;
    assert_eq!(status, 422);

    // A domain held by this team names the service; one held by another team does not.
    let id = api.create(routed(&api, "first", "taken.example.com")).await;
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/services",
            Some(routed(&api, "second", "taken.example.com")),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        body.to_string().contains("already used by service first"),
        "{body}"
    );

    let pool = &api.server.pool;
    let (other_team, other) = common::other_teams_service(pool, "theirs").await;
    sqlx::query("INSERT INTO service_domains (host, service_id, team_id) VALUES ('theirs.example.com', $1, $2)")
        .bind(other)
        .bind(other_team)
        .execute(pool)
        .await
        .unwrap();
    let before = api.service(&id).await["spec"].clone();
    let mut hijack = before.clone();
    hijack["http"]["domains"] = json!(["taken.example.com", "theirs.example.com"]);
    let (status, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/services/{id}"),
            Some(hijack),
        )
        .await;
    assert_eq!(status, 422);
    let text = body.to_string();
    assert!(
        text.contains("already used by a service of another team"),
        "{text}"
    );
    assert!(
        !text.contains("theirs\""),
        "the other team's service is not named: {text}"
    );
    assert_eq!(api.service(&id).await["spec"], before, "nothing changed");
    let holder: uuid::Uuid = sqlx::query_scalar(
        "SELECT service_id FROM service_domains WHERE host = 'theirs.example.com'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(holder, other);
    let services: i64 = sqlx::query_scalar("SELECT count(*) FROM services")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(services, 2, "no service was created by a refused request");
}
