//! First run, sign-in, sign-out and sessions, through the real server and a real Postgres.

mod common;

use common::{location, setup_form, TestServer, EMAIL, PASSWORD};
use reqwest::StatusCode;
use server::http::Settings;
use sqlx::PgPool;
use std::time::{Duration, Instant};

#[sqlx::test(migrations = false)]
async fn first_run_is_the_only_page_until_an_owner_exists(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.client();
    for path in ["/", "/login", "/services", "/team"] {
        let r = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(location(&r), "/setup", "{path}");
    }
    let page = c.get(s.url("/setup")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Create owner account"), "{html}");

    let r = c
        .post(s.url("/auth/setup"))
        .form(&setup_form())
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/");
    let cookie = r
        .headers()
        .get("set-cookie")
        .expect("session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("berth_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http in development: {cookie}"
    );

    let home = c.get(s.url("/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.unwrap();
    assert!(
        html.contains("Ada Lovelace") && html.contains("Engines"),
        "dashboard shows who and which team"
    );

    // Closed for good: the page redirects and the form refuses, for anyone.
    assert_eq!(location(&c.get(s.url("/setup")).send().await.unwrap()), "/");
    let stranger = s.client();
    assert_eq!(
        location(&stranger.get(s.url("/setup")).send().await.unwrap()),
        "/login"
    );
    let again = stranger
        .post(s.url("/auth/setup"))
        .form(&[
            ("name", "Eve"),
            ("email", "eve@example.com"),
            ("password", "evil evil evil"),
            ("team_name", "Evil"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&again), "/login?error=already_set_up");
    assert_eq!(s.count("users").await, 1);
}

#[sqlx::test(migrations = false)]
async fn concurrent_first_runs_make_one_owner(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let attempts = (0..6).map(|i| {
        let c = s.client();
        let url = s.url("/auth/setup");
        tokio::spawn(async move {
            let email = format!("owner{i}@example.com");
            let form = [
                ("name", "Owner"),
                ("email", email.as_str()),
                ("password", PASSWORD),
                ("team_name", "Team"),
            ];
            let r = c
                .post(url)
                .header("accept", "application/json")
                .form(&form)
                .send()
                .await
                .unwrap();
            r.status()
        })
    });
    let mut statuses = Vec::new();
    for a in attempts.collect::<Vec<_>>() {
        statuses.push(a.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(s.count("users").await, 1);
    assert_eq!(s.count("memberships").await, 1);
}

#[sqlx::test(migrations = false)]
async fn bad_first_run_input_is_refused_and_writes_nothing(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let long_password = "p".repeat(10_000);
    let long_name = "n".repeat(101);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("name", "Ada"),
                ("email", ""),
                ("password", PASSWORD),
                ("team_name", "T"),
            ],
            "email_missing",
        ),
        (
            vec![
                ("name", "Ada"),
                ("email", "ada@"),
                ("password", PASSWORD),
                ("team_name", "T"),
            ],
            "email_invalid",
        ),
        (
            vec![
                ("name", "Ada"),
                ("email", "a b@example.com"),
                ("password", PASSWORD),
                ("team_name", "T"),
            ],
            "email_invalid",
        ),
        (
            vec![
                ("name", ""),
                ("email", EMAIL),
                ("password", PASSWORD),
                ("team_name", "T"),
            ],
            "name_missing",
        ),
        (
            vec![
                ("name", &long_name),
                ("email", EMAIL),
                ("password", PASSWORD),
                ("team_name", "T"),
            ],
            "name_too_long",
        ),
        (
            vec![
                ("name", "Ada"),
                ("email", EMAIL),
                ("password", ""),
                ("team_name", "T"),
            ],
            "password_missing",
        ),
        (
            vec![
                ("name", "Ada"),
                ("email", EMAIL),
                ("password", "short"),
                ("team_name", "T"),
            ],
            "password_too_short",
        ),
        (
            vec![
                ("name", "Ada"),
                ("email", EMAIL),
                ("password", &long_password),
                ("team_name", "T"),
            ],
            "password_too_long",
        ),
        (
            vec![
                ("name", "Ada"),
                ("email", EMAIL),
                ("password", PASSWORD),
                ("team_name", ""),
            ],
            "team_missing",
        ),
        (
            vec![
                ("name", "Ada"),
                ("email", EMAIL),
                ("password", PASSWORD),
                ("team_name", "T"),
                ("role", "admin"),
            ],
            "unknown_field",
        ),
        (
            vec![("name", "Ada"), ("email", EMAIL), ("password", PASSWORD)],
            "malformed_form",
        ),
    ];
    for (form, code) in cases {
        let c = s.client();
        let r = c
            .post(s.url("/auth/setup"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let to = location(&r);
        assert!(
            to.starts_with(&format!("/setup?error={code}")),
            "{code}: redirected to {to}"
        );
        assert!(!to.contains("password="), "never echo a password: {to}");
        assert!(
            r.headers().get("set-cookie").is_none(),
            "{code}: no session"
        );
        // The same through JSON: status and code.
        let r = c
            .post(s.url("/auth/setup"))
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{code}: {}", r.status());
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], code);
        assert!(body["message"].as_str().unwrap().len() > 10);
    }
    // The page shows the message for the code, next to its field.
    let html = s.page(&s.client(), "/setup?error=password_too_long").await;
    assert!(
        html.contains("A password can be at most 256 characters."),
        "{html}"
    );
    // An unknown code shows nothing (a URL cannot put words on the page).
    let html = s.page(&s.client(), "/setup?error=%3Cscript%3E").await;
    assert!(!html.contains("<script>alert") && !html.contains("role=\"alert\""));
    assert_eq!(s.count("users").await, 0);
    assert_eq!(s.count("tower_sessions.session").await, 0);
}

#[sqlx::test(migrations = false)]
async fn sign_in_rotates_the_session_and_sign_out_ends_it(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let owner = s.owner().await;
    let first = session_cookie(&owner, &s).await;

    // Signing in again (same browser) gets a new session id: no fixation.
    let r = owner
        .post(s.url("/auth/login"))
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/");
    let second = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(
        s.count("tower_sessions.session").await,
        1,
        "the old session row is gone"
    );

    let r = owner.post(s.url("/auth/logout")).send().await.unwrap();
    assert_eq!(location(&r), "/login?notice=signed_out");
    assert_eq!(s.count("tower_sessions.session").await, 0);
    assert_eq!(
        location(&owner.get(s.url("/")).send().await.unwrap()),
        "/login"
    );

    // Replaying the sign-out with the old cookie: a clear answer, nothing written.
    let replay = s.client();
    let r = replay
        .post(s.url("/auth/logout"))
        .header("cookie", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login?error=not_signed_in");
    let r = replay
        .post(s.url("/auth/logout"))
        .header("cookie", &second)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(s.count("tower_sessions.session").await, 0);
    // The old cookie does not open the dashboard.
    let r = replay
        .get(s.url("/"))
        .header("cookie", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login");
}

async fn session_cookie(c: &reqwest::Client, s: &TestServer) -> String {
    // reqwest keeps cookies internally; re-login through JSON to read the header instead.
    let r = c
        .post(s.url("/auth/login"))
        .header("accept", "application/json")
        .json(&serde_json::json!({ "email": EMAIL, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

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

#[sqlx::test(migrations = false)]
async fn cross_site_posts_are_refused(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.client();
    // Before first run: a cross-site page must not be able to create the owner.
    let r = c
        .post(s.url("/auth/setup"))
        .header("origin", "http://evil.example")
        .form(&setup_form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.text().await.unwrap(), "Cross-site request refused.");
    assert_eq!(s.count("users").await, 0);

    let owner = s.owner().await;
    for (path, headers) in [
        ("/auth/logout", vec![("sec-fetch-site", "cross-site")]),
        ("/auth/logout", vec![("origin", "http://evil.example")]),
        ("/auth/logout", vec![("origin", "null")]),
        ("/api/system_status", vec![("sec-fetch-site", "same-site")]),
        ("/auth/login", vec![("sec-fetch-site", "cross-site")]),
    ] {
        let mut req = owner.post(s.url(path));
        for (k, v) in headers.iter() {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} {headers:?}");
    }
    // Still signed in: the cross-site sign-outs did nothing.
    assert_eq!(
        owner.get(s.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );
    // The same request from our own origin goes through.
    let own = s.base.clone();
    let r = owner
        .post(s.url("/auth/logout"))
        .header("origin", own)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login?notice=signed_out");
}

#[sqlx::test(migrations = false)]
async fn sessions_end_after_idle_timeout_and_absolute_lifetime(pool: PgPool) {
    let idle = Settings {
        session_idle_timeout: Duration::from_secs(2),
        ..Settings::default()
    };
    let s = TestServer::start_with(pool.clone(), idle, None).await;
    let owner = s.owner().await;
    assert_eq!(
        owner.get(s.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        location(&owner.get(s.url("/")).send().await.unwrap()),
        "/login",
        "idle timeout"
    );
    drop(s);

    // Active all along, but past the absolute lifetime.
    let lifetime = Settings {
        session_lifetime: Duration::from_secs(5),
        ..Settings::default()
    };
    let s = TestServer::start_with(pool, lifetime, None).await;
    let c = s.client();
    let r = c
        .post(s.url("/auth/login"))
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/");
    // Measured from the sign-in, so a slow (loaded) machine cannot make this flaky.
    let signed_in = std::time::Instant::now();
    while signed_in.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(700)).await;
        if signed_in.elapsed() < Duration::from_millis(3500) {
            assert_eq!(
                c.get(s.url("/")).send().await.unwrap().status(),
                StatusCode::OK
            );
        }
    }
    tokio::time::sleep(
        Duration::from_secs(5).saturating_sub(signed_in.elapsed()) + Duration::from_millis(500),
    )
    .await;
    assert_eq!(
        location(&c.get(s.url("/")).send().await.unwrap()),
        "/login",
        "absolute lifetime"
    );
}

#[sqlx::test(migrations = false)]
async fn secure_cookies_when_served_over_https(pool: PgPool) {
    let https = Settings {
        secure_cookies: true,
        ..Settings::default()
    };
    let s = TestServer::start_with(pool, https, None).await;
    let r = s
        .client()
        .post(s.url("/auth/setup"))
        .form(&setup_form())
        .send()
        .await
        .unwrap();
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        cookie.contains("Secure")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}
