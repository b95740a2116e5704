//! /healthz, server functions and pages, against the real Docker engine (and a missing one).

mod common;

use common::{location, TestServer};
use reqwest::StatusCode;
use server::http::Settings;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn healthz_reports_postgres_and_the_docker_engine(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let r = s.client().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["postgres"]["reachable"], true);
    assert_eq!(body["docker"]["reachable"], true, "{body}");
    assert!(body["docker"]["engine_version"]
        .as_str()
        .is_some_and(|v| !v.is_empty()));
    // Negotiated with the engine, not bollard's default: never newer than the engine's.
    let api = body["docker"]["api_version"].as_str().unwrap().to_owned();
    let engine_api = docker_cli_api_version();
    assert_eq!(api, engine_api, "negotiated API version");
}

/// The engine's own API version, as the docker CLI reports it.
fn docker_cli_api_version() -> String {
    let out = std::process::Command::new("docker")
        .args(["version", "--format", "{{.Server.APIVersion}}"])
        .output()
        .expect("docker CLI");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[sqlx::test(migrations = false)]
async fn berth_serves_and_says_so_when_docker_is_unreachable(pool: PgPool) {
    let s = TestServer::start_with(
        pool,
        Settings::default(),
        Some("unix:///nonexistent/docker.sock"),
    )
    .await;
    let r = s.client().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "Docker being away does not make Berth unhealthy"
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["docker"]["reachable"], false);
    assert!(body["docker"]["error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));

    let owner = s.owner().await;
    let html = s.page(&owner, "/").await;
    assert!(
        html.contains("Docker engine not reachable"),
        "dashboard banner"
    );
}

#[sqlx::test(migrations = false)]
async fn server_functions_know_who_is_asking(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let stranger = s.client();
    let r = stranger.post(s.url("/api/whoami")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "null");
    let r = stranger
        .post(s.url("/api/system_status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let owner = s.owner().await;
    let me: serde_json::Value = owner
        .post(s.url("/api/whoami"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], common::EMAIL);
    assert_eq!(me["role"], "owner");
    assert_eq!(me["team"]["slug"], "engines");
    let status: serde_json::Value = owner
        .post(s.url("/api/system_status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["postgres"]["reachable"], true);
}

#[sqlx::test(migrations = false)]
async fn pages_need_a_session_and_unknown_ones_are_404(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let owner = s.owner().await;
    for path in ["/", "/services", "/deployments", "/team", "/settings"] {
        let r = owner.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("Sign out"), "{path} has the signed-in frame");
        // Rendered whole, not streamed behind a fallback that needs JavaScript to replace.
        assert!(!html.contains("Loading…"), "{path} arrives complete");
        assert_eq!(
            location(&s.client().get(s.url(path)).send().await.unwrap()),
            "/login",
            "{path} signed out"
        );
    }
    let r = owner.get(s.url("/")).send().await.unwrap();
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let r = owner.get(s.url("/no/such/page")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Page not found"));
}
