//! The user's own settings: a password change ends the other sessions; a user ends only
//! their own sessions.

use crate::audit::{audit, entries};
use crate::common::team::{call, server_fn, Caller, Teams};
use crate::common::{location, EMAIL, PASSWORD};
use serde_json::Value;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn changing_the_password_ends_the_other_sessions(pool: PgPool) {
    // What a user checks after a leak: a new password signs out every other browser, the
    // old password stops working, and this browser stays signed in.
    let t = Teams::start(pool).await;
    let s = &t.s;
    let laptop = t.owner.client.clone();
    let phone = s.client();
    assert_eq!(
        s.sign_in_json(&phone, EMAIL, PASSWORD, None)
            .await
            .status()
            .as_u16(),
        200
    );
    let new = "a brand new passphrase";

    server_fn(
        s,
        &Caller::Cookie(laptop.clone()),
        "change_password",
        &[("current", "not my password"), ("new", new)],
    )
    .await;
    let phone_me = call(s, &Caller::Cookie(phone.clone()), "GET", "/api/v1/me", None).await;
    assert_eq!(phone_me.0, 200, "a wrong current password changes nothing");
    let (status, body) = server_fn(
        s,
        &Caller::Cookie(laptop.clone()),
        "change_password",
        &[("current", PASSWORD), ("new", new)],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    assert_eq!(
        call(s, &Caller::Cookie(phone.clone()), "GET", "/api/v1/me", None)
            .await
            .0,
        401
    );
    assert_eq!(
        location(&phone.get(s.url("/")).send().await.unwrap()),
        "/login"
    );
    assert_eq!(
        call(
            s,
            &Caller::Cookie(laptop.clone()),
            "GET",
            "/api/v1/me",
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        s.sign_in_json(&s.client(), EMAIL, PASSWORD, None)
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        s.sign_in_json(&s.client(), EMAIL, new, None)
            .await
            .status()
            .as_u16(),
        200
    );
    let all = entries(&audit(s, &Caller::Cookie(laptop), "?action=user.password").await);
    assert_eq!(all.len(), 1, "{all:#?}");
}

#[sqlx::test(migrations = false)]
async fn a_user_can_sign_out_another_of_their_sessions(pool: PgPool) {
    // Settings list the user's sessions; "Sign out" on one ends it, and only it. Nobody
    // can end someone else's session.
    let t = Teams::start(pool).await;
    let s = &t.s;
    let laptop = t.owner.cookie();
    let phone = s.client();
    assert_eq!(
        s.sign_in_json(&phone, EMAIL, PASSWORD, None)
            .await
            .status()
            .as_u16(),
        200
    );
    let (status, body) = server_fn(s, &laptop, "my_logins", &[]).await;
    assert_eq!(status, 200, "{body}");
    let logins: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(logins.len(), 2, "{body}");
    let other = logins.iter().find(|l| l["current"] == false).unwrap();
    let other_id = other["id"].as_str().unwrap();

    // Another member can't end it.
    server_fn(s, &t.admin.cookie(), "end_login", &[("id", other_id)]).await;
    let phone_caller = Caller::Cookie(phone.clone());
    assert_eq!(
        call(s, &phone_caller, "GET", "/api/v1/me", None).await.0,
        200
    );

    let (status, body) = server_fn(s, &laptop, "end_login", &[("id", other_id)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        call(s, &phone_caller, "GET", "/api/v1/me", None).await.0,
        401
    );
    assert_eq!(call(s, &laptop, "GET", "/api/v1/me", None).await.0, 200);
    let page = s.page(&t.owner.client, "/settings").await;
    assert!(page.contains("Sign out"), "{page}");
}
