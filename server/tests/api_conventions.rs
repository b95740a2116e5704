//! The REST API behaves as a client expects, against the real server: JSON errors for every
//! status (unknown paths, 405 with Allow, 413, 415, the cross-site 403), WWW-Authenticate and
//! a case-insensitive Bearer, Location on 201/202, ETag + If-Match, an idempotent DELETE,
//! and one rule for control characters.

mod common;

use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

/// The server with its owner signed in (cookie client) and an owner API token.
async fn signed_in(pool: PgPool) -> (TestServer, reqwest::Client, String) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    let r = c
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "ci", "role": "owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "/api/v1/tokens/{}",
            body["token_info"]["id"].as_str().unwrap()
        )
    );
    (s, c, body["token"].as_str().unwrap().to_owned())
}

async fn json_error(r: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "{:?}", r.headers());
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{status}: {:?}",
        r.headers()
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    body
}

#[sqlx::test(migrations = false)]
async fn every_error_is_json(pool: PgPool) {
    let (s, c, _) = signed_in(pool).await;
    let r = c.get(s.url("/api/v1/nope/deeper")).send().await.unwrap();
    json_error(r, 404, "not_found").await;

    let r = c.patch(s.url("/api/v1/services")).send().await.unwrap();
    let allow = r.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    json_error(r, 405, "method_not_allowed").await;

    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(3 * 1024 * 1024));
    let r = c
        .post(s.url("/api/v1/services"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    json_error(r, 413, "payload_too_large").await;

    let r = c
        .post(s.url("/api/v1/services"))
        .header("content-type", "text/plain")
        .body(r#"{"name": "web", "image": "nginx"}"#)
        .send()
        .await
        .unwrap();
    json_error(r, 415, "unsupported_media_type").await;
    let r = c
        .post(s.url("/api/v1/services"))
        .body(r#"{"name": "web", "image": "nginx"}"#)
        .send()
        .await
        .unwrap();
    json_error(r, 415, "unsupported_media_type").await;

    let r = c
        .post(s.url("/api/v1/services"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"name": "web", "image": "nginx"}))
        .send()
        .await
        .unwrap();
    json_error(r, 403, "forbidden").await;
    assert_eq!(s.count("services").await, 0);

    let r = c
        .get(s.url("/api/v1/services/not-a-uuid"))
        .send()
        .await
        .unwrap();
    json_error(r, 404, "not_found").await;
}

#[sqlx::test(migrations = false)]
async fn a_caller_without_credentials_is_told_how_to_authenticate(pool: PgPool) {
    let (s, _, token) = signed_in(pool).await;
    let anon = reqwest::Client::new();
    let r = anon.get(s.url("/api/v1/services")).send().await.unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"berth\"");
    json_error(r, 401, "unauthorized").await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = anon
            .get(s.url("/api/v1/me"))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{scheme}");
    }
}

#[sqlx::test(migrations = false)]
async fn control_characters_are_refused_everywhere_with_422(pool: PgPool) {
    let (s, c, _) = signed_in(pool).await;
    for path in [
        "/api/v1/audit?actor=%00",
        "/api/v1/audit?target=a%01b",
        "/api/v1/services?cursor=%7F",
        "/api/v1/services/%00",
    ] {
        let r = c.get(s.url(path)).send().await.unwrap();
        json_error(r, 422, "invalid").await;
    }
    let r = c
        .post(s.url("/api/v1/services"))
        .json(&json!({"name": "web", "image": "nginx", "env": [{"key": "A", "value": "x\u{0}y"}]}))
        .send()
        .await
        .unwrap();
    json_error(r, 422, "invalid").await;
    let r = c
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "bot\u{1b}", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    json_error(r, 422, "invalid").await;
    // Newlines and tabs are text: an env value may hold them.
    let r = c
        .post(s.url("/api/v1/services"))
        .json(&json!({"name": "web", "image": "nginx", "env": [{"key": "A", "value": "one\ntwo\tthree"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[sqlx::test(migrations = false)]
async fn created_and_accepted_answers_say_where(pool: PgPool) {
    let (s, c, _) = signed_in(pool).await;
    let r = c
        .post(s.url("/api/v1/services"))
        .json(&json!({"name": "web", "image": "nginx"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/services/{id}"));
    assert_eq!(
        c.get(s.url(&location)).send().await.unwrap().status(),
        StatusCode::OK
    );

    let r = c
        .post(s.url(&format!("/api/v1/services/{id}/redeploy")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let view: Value = r.json().await.unwrap();
    let deployment = &view["latest_deployment"];
    assert_eq!(deployment["trigger"], "redeploy");
    assert_eq!(
        location,
        format!("/api/v1/deployments/{}", deployment["id"].as_str().unwrap())
    );
    let d: Value = c
        .get(s.url(&location))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["deployment"]["number"], deployment["number"]);

    let r = c
        .post(s.url("/api/v1/invitations"))
        .json(&json!({"email": "bob@example.com", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let inv: Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "/api/v1/invitations/{}",
            inv["invitation"]["id"].as_str().unwrap()
        )
    );
}

#[sqlx::test(migrations = false)]
async fn a_replace_based_on_a_stale_read_is_refused_with_412(pool: PgPool) {
    let (s, c, _) = signed_in(pool).await;
    let created: Value = c
        .post(s.url("/api/v1/services"))
        .json(&json!({"name": "web", "image": "nginx"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/services/{}", created["id"].as_str().unwrap());
    let etag = |r: &reqwest::Response| r.headers()["etag"].to_str().unwrap().to_owned();
    let first = etag(&c.get(s.url(&path)).send().await.unwrap());
    assert!(
        first.starts_with('"') && first.ends_with('"'),
        "a strong ETag: {first}"
    );
    assert_eq!(first, etag(&c.get(s.url(&path)).send().await.unwrap()));

    // Editor A saves first, with the version it read.
    let put = |tag: Option<String>, replicas: u32| {
        let mut req = c
            .request(Method::PUT, s.url(&path))
            .json(&json!({"name": "web", "image": "nginx", "replicas": replicas}));
        if let Some(t) = tag {
            req = req.header("if-match", t);
        }
        req.send()
    };
    let r = put(Some(first.clone()), 2).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let second = etag(&r);
    assert_ne!(second, first);
    // Editor B still holds the first version: refused, nothing lost.
    let r = put(Some(first.clone()), 3).await.unwrap();
    let body = json_error(r, 412, "precondition_failed").await;
    assert!(body["message"].as_str().unwrap().contains("If-Match"));
    let now: Value = c
        .get(s.url(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["spec"]["replicas"], 2);
    // `*`, the current version, or no If-Match at all: accepted.
    assert_eq!(put(Some(second), 3).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        put(Some("*".into()), 4).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(put(None, 5).await.unwrap().status(), StatusCode::OK);
}

#[sqlx::test(migrations = false)]
async fn a_repeated_delete_is_answered_alike_and_audited_once(pool: PgPool) {
    let (s, c, _) = signed_in(pool).await;
    let created: Value = c
        .post(s.url("/api/v1/services"))
        .json(&json!({"name": "web", "image": "nginx"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/services/{}", created["id"].as_str().unwrap());
    // Asked again, even with another choice of volumes: the first choice stands.
    for query in ["", "?volumes=delete", ""] {
        let r = c
            .delete(s.url(&format!("{path}{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        assert_eq!(r.headers()["location"], path.as_str());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"deleting": true, "volumes": "keep"}));
    }
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'service.delete'")
            .fetch_one(&s.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

#[sqlx::test(migrations = false)]
async fn deploy_now_answers_its_deployment(pool: PgPool) {
    // No worker runs here: the builds stay queued, which is all this needs.
    let (s, c, _) = signed_in(pool).await;
    let spec = json!({"name": "app", "git": {"repo": "https://git.example.com/a/app.git", "branch": "main"}});
    let r = c
        .post(s.url("/api/v1/services"))
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .post(s.url(&format!("/api/v1/services/{id}/deploy")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["queued"], true);
    let deployment = body["deployment"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/deployments/{deployment}"));
    let d: Value = c
        .get(s.url(&location))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["deployment"]["number"], body["number"]);
    assert_eq!(d["deployment"]["trigger"], "deploy");
}
