//! Invitations never hand out more than their sender may: who can invite whom, and links
//! that are tampered with, replayed, expired, withdrawn or orphaned by a demotion.

use crate::common::team::{
    accept, call, demote, invite, me, role_in, server_fn, Caller, Teams, MEMBER_PASSWORD,
};
use crate::common::{location, TestServer, EMAIL};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// Accepting `token` as a brand-new person in a fresh browser.
async fn accept_new(s: &TestServer, token: &str, name: &str) -> (u16, Value) {
    accept(s, &s.client(), token, name, MEMBER_PASSWORD).await
}

async fn users_and_members(s: &TestServer) -> (i64, i64) {
    (s.count("users").await, s.count("memberships").await)
}

#[sqlx::test(migrations = false)]
async fn invitations_never_grant_more_than_their_sender_may(pool: PgPool) {
    // What an owner checks: nobody can invite above their own role, and a link that was
    // tampered with, used, expired, withdrawn or orphaned by a demotion lets nobody in.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let count = || async move { s.count("invitations").await };

    let before = count().await;
    for role in ["owner", "admin", "developer", "viewer"] {
        let (status, body) = invite(s, &t.developer.cookie(), "x@example.com", role).await;
        assert_eq!(status, 403, "developer invites {role}: {body}");
        let (status, body) = invite(s, &t.viewer.cookie(), "x@example.com", role).await;
        assert_eq!(status, 403, "viewer invites {role}: {body}");
    }
    let (status, body) = invite(s, &t.admin.cookie(), "boss@example.com", "owner").await;
    assert_eq!(status, 403, "admin invites an owner: {body}");
    assert_eq!(count().await, before, "nothing stored");
    let (status, body) = invite(s, &t.admin.cookie(), "peer@example.com", "admin").await;
    assert_eq!(status, 201, "an admin may invite an admin: {body}");
    let (status, _) = invite(s, &t.owner.cookie(), EMAIL, "viewer").await;
    assert_eq!(status, 409, "already a member");

    // Tampered: one hex digit changed.
    let (_, inv) = invite(s, &t.owner.cookie(), "tamper@example.com", "viewer").await;
    let token = inv["token"].as_str().unwrap().to_owned();
    let last = token.chars().last().unwrap();
    let tampered = format!(
        "{}{}",
        &token[..token.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let counts = users_and_members(s).await;
    let (status, body) = accept_new(s, &tampered, "Mallory").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("invitation_unknown")),
        "{body}"
    );
    let r = s
        .client()
        .post(s.url("/auth/accept"))
        .form(&[
            ("token", tampered.as_str()),
            ("name", "Mallory"),
            ("password", MEMBER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        format!("/invite/{tampered}?problem=invitation_unknown")
    );
    assert_eq!(users_and_members(s).await, counts, "nobody joined");

    // Used once, then replayed: refused, the role unchanged.
    let (status, body) = accept_new(s, &token, "Tim Tamper").await;
    assert!((200..300).contains(&status), "{status} {body}");
    let tim: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'tamper@example.com'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        role_in(&pool, t.team_a, tim).await.as_deref(),
        Some("viewer")
    );
    let counts = users_and_members(s).await;
    let (status, body) = accept_new(s, &token, "Tim Again").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (410, Some("invitation_used")),
        "{body}"
    );
    let (status, body) = accept(s, &s.client(), &token, "Tim Tamper", MEMBER_PASSWORD).await;
    assert!(
        status == 410 || status == 409,
        "replayed by its own account: {status} {body}"
    );
    assert_eq!(
        role_in(&pool, t.team_a, tim).await.as_deref(),
        Some("viewer")
    );
    assert_eq!(users_and_members(s).await, counts);

    // Expired.
    let (_, inv) = invite(s, &t.owner.cookie(), "late@example.com", "developer").await;
    sqlx::query("UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1")
        .bind(
            inv["invitation"]["id"]
                .as_str()
                .unwrap()
                .parse::<Uuid>()
                .unwrap(),
        )
        .execute(&pool)
        .await
        .unwrap();
    let (status, body) = accept_new(s, inv["token"].as_str().unwrap(), "Late").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (410, Some("invitation_expired")),
        "{body}"
    );

    // Revoked.
    let (_, inv) = invite(s, &t.owner.cookie(), "gone@example.com", "developer").await;
    let id = inv["invitation"]["id"].as_str().unwrap();
    let (status, _) = call(
        s,
        &t.admin.cookie(),
        "DELETE",
        &format!("/api/v1/invitations/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, pending) = call(s, &t.owner.cookie(), "GET", "/api/v1/invitations", None).await;
    assert!(
        !pending.to_string().contains(id),
        "a revoked invitation is not pending"
    );
    let (status, body) = accept_new(s, inv["token"].as_str().unwrap(), "Gone").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (410, Some("invitation_revoked")),
        "{body}"
    );

    // The inviter is demoted below the role before it is accepted.
    let (status, inv) = invite(s, &t.admin.cookie(), "orphan@example.com", "admin").await;
    assert_eq!(status, 201, "{inv}");
    demote(&t, &t.admin, "developer").await;
    let counts = users_and_members(s).await;
    let (status, body) = accept_new(s, inv["token"].as_str().unwrap(), "Orphan").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("invitation_inviter_lost")),
        "{body}"
    );
    assert_eq!(users_and_members(s).await, counts, "nobody joined");
    let orphan: Option<String> = sqlx::query_scalar(
        "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE u.email = 'orphan@example.com'",
    )
    .fetch_optional(&pool)
    .await
    .unwrap();
    assert_eq!(orphan, None);
}

#[sqlx::test(migrations = false)]
async fn an_invitation_gives_exactly_its_role(pool: PgPool) {
    // Whoever accepts gets the role on the invitation, not one they post alongside.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let (_, inv) = invite(s, &t.owner.cookie(), "exact@example.com", "viewer").await;
    let c = s.client();
    let r = c
        .post(s.url("/auth/accept"))
        .header("accept", "application/json")
        .form(&[
            ("token", inv["token"].as_str().unwrap()),
            ("name", "Exact"),
            ("password", MEMBER_PASSWORD),
            ("role", "owner"),
        ])
        .send()
        .await
        .unwrap();
    if !r.status().is_success() {
        // Refused for the extra field: accept it properly.
        let (status, body) = accept(
            s,
            &c,
            inv["token"].as_str().unwrap(),
            "Exact",
            MEMBER_PASSWORD,
        )
        .await;
        assert!((200..300).contains(&status), "{status} {body}");
    }
    assert_eq!(me(s, &Caller::Cookie(c)).await["role"], "viewer");
}

#[sqlx::test(migrations = false)]
async fn an_existing_account_accepts_with_its_own_password(pool: PgPool) {
    // Someone who already has an account (here: the outsider, now only in team B) joins
    // with their own password; a wrong one lets nobody in and leaves the link usable.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let (status, inv) = invite(s, &t.owner.cookie(), &t.outsider.email, "developer").await;
    assert_eq!(status, 201, "{inv}");
    let token = inv["token"].as_str().unwrap();

    // The invitation page tells who invites to what, without signing in.
    let html = s.page(&s.client(), &format!("/invite/{token}")).await;
    assert!(
        html.contains("Engines") && html.contains("developer"),
        "{html}"
    );
    let (status, offer) =
        server_fn(s, &Caller::Nobody, "invitation_offer", &[("token", token)]).await;
    assert_eq!(status, 200, "{offer}");
    assert!(offer.contains("\"account_exists\":true"), "{offer}");

    let (status, body) = accept(s, &s.client(), token, "Otto", "not the password").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(role_in(&pool, t.team_a, t.outsider.id).await, None);

    // A plain form post: signed in to team A, on to the dashboard.
    let c = s.client();
    let r = c
        .post(s.url("/auth/accept"))
        .form(&[
            ("token", token),
            ("name", "Otto"),
            ("password", MEMBER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/");
    assert_eq!(
        role_in(&pool, t.team_a, t.outsider.id).await.as_deref(),
        Some("developer")
    );
    let who = me(s, &Caller::Cookie(c)).await;
    assert_eq!(who["team"]["id"], t.team_a.to_string());
    assert_eq!(who["role"], "developer");
    let (_, teams) = call(s, &t.outsider.cookie(), "GET", "/api/v1/teams", None).await;
    assert_eq!(teams.as_array().map(Vec::len), Some(2), "{teams}");

    // Invited again while already a member: refused.
    let (status, _) = invite(s, &t.owner.cookie(), &t.outsider.email, "admin").await;
    assert_eq!(status, 409, "already a member");
}
