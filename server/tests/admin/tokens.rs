//! API tokens: never stronger than their maker, shown once, stored as a digest, ended by
//! revocation or expiry, and good for the REST API only.

use crate::common::location;
use crate::common::team::{call, demote, me, new_token, server_fn, token_of, Caller, Teams};
use crate::common::EMAIL;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn a_token_never_outranks_whoever_made_it(pool: PgPool) {
    // An admin can't mint an owner token; a developer or viewer can't mint any; a token
    // made by an admin who is later demoted acts with the demoted role.
    let t = Teams::start(pool).await;
    let tokens_before = t.s.count("api_tokens").await;
    let (status, body) = new_token(&t.s, &t.admin.cookie(), "root", "owner", None).await;
    assert_eq!(status, 403, "{body}");
    for p in [&t.developer, &t.viewer] {
        for role in ["owner", "admin", "developer", "viewer"] {
            let (status, body) = new_token(&t.s, &p.cookie(), "mine", role, None).await;
            assert_eq!(status, 403, "{} → {role} token: {body}", p.name);
        }
    }
    assert_eq!(
        t.s.count("api_tokens").await,
        tokens_before,
        "nothing stored"
    );

    // Tokens can't mint stronger tokens either.
    let (_, admin_token) = token_of(&t.s, &t.admin.cookie(), "admin bot", "admin").await;
    let bot = Caller::Bearer(admin_token);
    let (status, _) = new_token(&t.s, &bot, "escalate", "owner", None).await;
    assert_eq!(status, 403);
    let (_, dev_token) = token_of(&t.s, &t.owner.cookie(), "dev bot", "developer").await;
    let (status, _) = new_token(&t.s, &Caller::Bearer(dev_token), "x", "viewer", None).await;
    assert_eq!(status, 403, "a developer token can't manage tokens");

    // The admin is demoted to viewer: their admin token now acts as a viewer.
    demote(&t, &t.admin, "viewer").await;
    assert_eq!(me(&t.s, &bot).await["role"], "viewer");
    let (status, _) = call(&t.s, &bot, "GET", "/api/v1/invitations", None).await;
    assert_eq!(status, 403);
    let (status, _) = call(&t.s, &bot, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &t.s,
        &bot,
        "POST",
        "/api/v1/services",
        Some(json!({"name": "sneaky", "image": "nginx"})),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(t.s.count("services").await, 0);
}

#[sqlx::test(migrations = false)]
async fn api_tokens_are_shown_once_stored_hashed_and_end_when_revoked_or_expired(pool: PgPool) {
    // What an admin checks: the token is shown once and never again, the database holds no
    // copy, its last use is shown, and revoking or expiry ends it at once.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let owner = t.owner.cookie();
    let (status, created) = new_token(s, &owner, "ci", "developer", None).await;
    assert_eq!(status, 201, "{created}");
    let value = created["token"].as_str().unwrap().to_owned();
    let hex = value.strip_prefix("berth_").expect("berth_ prefix");
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{value}"
    );
    let id = created["token_info"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["token_info"]["role"], "developer");
    assert!(
        created["token_info"]["created_by"]
            .as_str()
            .unwrap_or("")
            .contains("Ada Lovelace"),
        "{created}"
    );

    let (status, list) = call(s, &owner, "GET", "/api/v1/tokens", None).await;
    assert_eq!(status, 200);
    assert!(list.to_string().contains(&id));
    assert!(
        !list.to_string().contains(hex),
        "the list never shows the value"
    );
    let page = s.page(&t.owner.client, "/team").await;
    assert!(page.contains("ci"), "the team page lists it");
    assert!(!page.contains(hex), "the team page never shows the value");
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT row_to_json(t)::text || encode(token_hash, 'hex') || encode(token_hash, 'escape')
           FROM api_tokens t",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        stored.iter().all(|row| !row.contains(hex)),
        "stored in the clear: {stored:?}"
    );
    let hash_len: i32 =
        sqlx::query_scalar("SELECT length(token_hash) FROM api_tokens WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(hash_len, 32, "a SHA-256 digest");

    // Used: the time shows.
    assert!(list[0]["last_used_at"].is_null(), "{list}");
    let bot = Caller::Bearer(value.clone());
    let who = me(s, &bot).await;
    assert_eq!(who["token"], id.as_str());
    assert_eq!(who["role"], "developer");
    let (_, list) = call(s, &owner, "GET", "/api/v1/tokens", None).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap();
    assert!(listed["last_used_at"].is_string(), "{listed}");

    // Revoked: refused, gone from the list, kept in the database as revoked.
    let (status, _) = call(s, &owner, "DELETE", &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(status, 204);
    let (status, body) = call(s, &bot, "GET", "/api/v1/services", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let (_, list) = call(s, &owner, "GET", "/api/v1/tokens", None).await;
    assert!(
        !list.to_string().contains(&id),
        "revoked tokens are not listed"
    );

    // Expired.
    let (status, created) = new_token(s, &owner, "short", "viewer", Some(1)).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["token_info"]["expires_at"].is_string());
    let short = Caller::Bearer(created["token"].as_str().unwrap().to_owned());
    assert_eq!(
        call(s, &short, "GET", "/api/v1/services", None).await.0,
        200
    );
    sqlx::query(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        call(s, &short, "GET", "/api/v1/services", None).await.0,
        401
    );

    // Made up or malformed.
    for fake in [
        format!("berth_{}", "0".repeat(64)),
        "berth_xyz".to_owned(),
        hex.to_owned(),
        String::new(),
    ] {
        let (status, _) = call(s, &Caller::Bearer(fake.clone()), "GET", "/api/v1/me", None).await;
        assert_eq!(status, 401, "{fake:?}");
    }
    // Bad forms.
    for (name, role, days) in [
        ("", "viewer", None),
        ("x", "root", None),
        ("x", "viewer", Some(99_999)),
    ] {
        let (status, body) = new_token(s, &owner, name, role, days).await;
        assert!(
            status == 422 || status == 400,
            "{name:?} {role} {days:?}: {status} {body}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn a_bearer_token_opens_only_the_rest_api(pool: PgPool) {
    // A leaked token must not open the dashboard: pages and server functions with only a
    // Bearer header are treated as signed out.
    let t = Teams::start(pool).await;
    let s = &t.s;
    let (_, value) = token_of(s, &t.owner.cookie(), "ci", "owner").await;
    let bot = Caller::Bearer(value.clone());
    assert_eq!(call(s, &bot, "GET", "/api/v1/me", None).await.0, 200);
    for page in ["/", "/services", "/team", "/audit", "/settings"] {
        let r = s
            .client()
            .get(s.url(page))
            .bearer_auth(&value)
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/login", "{page} with a Bearer token");
    }
    let (status, body) = server_fn(s, &bot, "list_services", &[]).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = server_fn(s, &bot, "whoami", &[]).await;
    assert!(
        !body.contains(EMAIL),
        "whoami with a token: {status} {body}"
    );
    let r = s
        .client()
        .post(s.url("/auth/logout"))
        .bearer_auth(&value)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "sign-out with a token");
}
