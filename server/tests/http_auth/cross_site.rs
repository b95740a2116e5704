//! Every unsafe request from another site is refused, before and after the first run.

use crate::common::{location, setup_form, TestServer};
use reqwest::StatusCode;
use sqlx::PgPool;

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
