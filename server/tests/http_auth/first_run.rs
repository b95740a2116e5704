//! The first run: the only page until an owner exists, one owner however many try at once,
//! and bad input refused with its code and nothing written.

use crate::common::{location, setup_form, TestServer, EMAIL, PASSWORD};
use reqwest::StatusCode;
use sqlx::PgPool;

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
