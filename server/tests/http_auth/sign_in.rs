//! Signing in: a wrong email and a wrong password look the same, failed attempts are
//! limited per account and per peer address, and bad input gets a clear error.

use crate::common::{location, TestServer, EMAIL, PASSWORD};
use reqwest::StatusCode;
use sqlx::PgPool;
use std::time::Instant;

#[sqlx::test(migrations = false)]
async fn wrong_email_and_wrong_password_look_the_same(pool: PgPool) {
    let s = TestServer::start(pool).await;
    s.owner().await;
    let c = s.client();
    let mut timings = Vec::new();
    for email in ["nobody@example.com", EMAIL] {
        let started = Instant::now();
        let r = s.sign_in_json(&c, email, "wrong password", None).await;
        timings.push(started.elapsed());
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "bad_credentials");
        assert_eq!(body["message"], "Wrong email or password.");
    }
    // Both paths verify an argon2id hash; an unknown email must not answer in a fraction
    // of the time (the bound is loose on purpose: this checks the decoy, not speed).
    let (unknown, known) = (timings[0].as_secs_f64(), timings[1].as_secs_f64());
    assert!(
        unknown > known / 4.0,
        "unknown email answered in {unknown:.4}s vs {known:.4}s"
    );
    let r = c
        .post(s.url("/auth/login"))
        .form(&[("email", "NOBODY@example.com"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        "/login?error=bad_credentials&email=nobody%40example.com"
    );
}

#[sqlx::test(migrations = false)]
async fn sixth_failed_sign_in_within_a_minute_is_refused(pool: PgPool) {
    let s = TestServer::start(pool).await;
    s.owner().await;
    let c = s.client();
    for i in 1..=5 {
        assert_eq!(
            s.sign_in_json(&c, EMAIL, "wrong password", None)
                .await
                .status(),
            StatusCode::UNAUTHORIZED,
            "try {i}"
        );
    }
    // Even the right password is refused now, with a clear message.
    let r = s.sign_in_json(&c, EMAIL, PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Too many failed sign-in attempts"));
    assert_eq!(
        s.count("tower_sessions.session").await,
        1,
        "only the owner's first-run session"
    );
}

#[sqlx::test(migrations = false)]
async fn an_invented_forwarded_for_does_not_dodge_the_peer_limit(pool: PgPool) {
    let s = TestServer::start(pool).await;
    s.owner().await;
    let c = s.client();
    // Five different accounts, each from a "different" address the client made up.
    for i in 1..=5 {
        let (email, ip) = (format!("user{i}@example.com"), format!("203.0.113.{i}"));
        let r = s.sign_in_json(&c, &email, "guess guess", Some(&ip)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = s
        .sign_in_json(&c, EMAIL, PASSWORD, Some("198.51.100.77"))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the TCP peer is what counts"
    );
}

#[sqlx::test(migrations = false)]
async fn bad_sign_in_input_gets_a_clear_error(pool: PgPool) {
    let s = TestServer::start(pool).await;
    s.owner().await;
    let c = s.client();
    let long = "x".repeat(10_000);
    for (form, code) in [
        (vec![("email", ""), ("password", "x")], "email_missing"),
        (
            vec![("email", "not-an-email"), ("password", "x")],
            "email_invalid",
        ),
        (vec![("email", EMAIL), ("password", "")], "password_missing"),
        (
            vec![("email", EMAIL), ("password", long.as_str())],
            "password_too_long",
        ),
        (
            vec![("email", EMAIL), ("password", PASSWORD), ("remember", "1")],
            "unknown_field",
        ),
    ] {
        let r = c
            .post(s.url("/auth/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(
            location(&r).starts_with(&format!("/login?error={code}")),
            "{code}: {}",
            location(&r)
        );
    }
    assert_eq!(s.count("tower_sessions.session").await, 1);
}
