//! Role changes apply at once: a demoted or removed member (and their tokens) lose access
//! on the very next request; the last owner stays; an admin can't touch an owner.

use crate::common::location;
use crate::common::team::{call, demote, join, me, role_in, token_of, Caller, Teams};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn a_demoted_or_removed_member_loses_access_on_the_next_request(pool: PgPool) {
    // What an admin checks after demoting or removing someone: the very next request of
    // that person's open browser (or their token) is refused.
    let t = Teams::start(pool).await;
    let s = &t.s;
    let owner = t.owner.cookie();
    let (status, body) = call(
        s,
        &owner,
        "POST",
        "/api/v1/services",
        Some(json!({"name": "web", "image": "nginx"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let service = body["id"].as_str().unwrap().to_owned();

    let admin = t.admin.cookie();
    let (status, _) = call(s, &admin, "GET", "/api/v1/invitations", None).await;
    assert_eq!(status, 200);
    demote(&t, &t.admin, "viewer").await;
    let (status, _) = call(s, &admin, "GET", "/api/v1/invitations", None).await;
    assert_eq!(status, 403, "the same cookie, the very next request");
    let (status, _) = call(
        s,
        &admin,
        "PUT",
        &format!("/api/v1/services/{service}"),
        Some(json!({"name": "web", "image": "nginx:1.27"})),
    )
    .await;
    assert_eq!(status, 403, "a viewer can't change a service");
    let (status, _) = call(
        s,
        &admin,
        "GET",
        &format!("/api/v1/services/{service}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "but may still look");
    assert_eq!(me(s, &admin).await["role"], "viewer");

    // Removed: signed out everywhere in this team.
    let (status, _) = call(
        s,
        &owner,
        "DELETE",
        &format!("/api/v1/members/{}", t.developer.id),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let dev = t.developer.cookie();
    let (status, _) = call(s, &dev, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 401, "a removed member's session");
    let r = t
        .developer
        .client
        .get(s.url("/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login", "pages send them to sign in");

    // A token made by a member who is then removed stops working.
    let maker = join(s, &owner, "Tom Tokenmaker", "admin").await;
    let (_, value) = token_of(s, &maker.cookie(), "tom's bot", "developer").await;
    let bot = Caller::Bearer(value);
    let (status, _) = call(s, &bot, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        s,
        &owner,
        "DELETE",
        &format!("/api/v1/members/{}", maker.id),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(s, &bot, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 401, "the token of a removed member");

    // Leaving (removing oneself) is open to anyone, but the last owner can't.
    let (status, _) = call(
        s,
        &t.viewer.cookie(),
        "DELETE",
        &format!("/api/v1/members/{}", t.viewer.id),
        None,
    )
    .await;
    assert_eq!(status, 204, "a viewer may leave");
    let (status, body) = call(
        s,
        &owner,
        "DELETE",
        &format!("/api/v1/members/{}", t.owner.id),
        None,
    )
    .await;
    assert_eq!(status, 409, "the last owner can't leave: {body}");
    let (status, body) = call(
        s,
        &owner,
        "PATCH",
        &format!("/api/v1/members/{}", t.owner.id),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, 409, "nor be demoted: {body}");
    // An admin can't touch an owner.
    demote(&t, &t.admin, "admin").await;
    let (status, _) = call(
        s,
        &admin,
        "PATCH",
        &format!("/api/v1/members/{}", t.owner.id),
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, 403, "an admin demotes the owner");
    let (status, _) = call(
        s,
        &admin,
        "PATCH",
        &format!("/api/v1/members/{}", t.admin.id),
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(status, 403, "an admin promotes themselves to owner");
    assert_eq!(
        role_in(&s.pool, t.team_a, t.owner.id).await.as_deref(),
        Some("owner")
    );
    assert_eq!(
        role_in(&s.pool, t.team_a, t.admin.id).await.as_deref(),
        Some("admin")
    );
}
