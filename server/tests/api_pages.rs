//! Every list of the REST API pages the same way: `?limit=&cursor=`, and a
//! `Link: <…>; rel="next"` while there is more. Following the links yields every item once.

mod common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

/// The `rel="next"` target of a `Link` header, if any.
fn next_link(r: &reqwest::Response) -> Option<String> {
    let link = r.headers().get("link")?.to_str().unwrap();
    let target = link.strip_prefix('<')?.split_once(">; rel=\"next\"")?.0;
    Some(target.to_owned())
}

/// Every page from `first`: the items of each (for the audit: its `entries`).
async fn walk(s: &TestServer, c: &reqwest::Client, first: &str) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut at = Some(first.to_owned());
    while let Some(path) = at {
        let r = c.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        at = next_link(&r);
        let body: Value = r.json().await.unwrap();
        let items = match body {
            Value::Array(items) => items,
            other => other["entries"].as_array().unwrap().clone(),
        };
        pages.push(items);
        assert!(pages.len() < 100, "no end of pages");
    }
    pages
}

async fn create(s: &TestServer, c: &reqwest::Client, name: &str) -> String {
    let r = c
        .post(s.url("/api/v1/services"))
        .json(&json!({"name": name, "image": "nginx"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[sqlx::test(migrations = false)]
async fn every_list_pages_by_cursor_and_link(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    let id = create(&s, &c, "web").await;
    create(&s, &c, "api").await;
    create(&s, &c, "db").await;
    // 1 (create) + 51 redeploys: more than the 50 the history used to stop at.
    for _ in 0..51 {
        let r = c
            .post(s.url(&format!("/api/v1/services/{id}/redeploy")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }

    let services = walk(&s, &c, "/api/v1/services?limit=2").await;
    assert_eq!(services.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);

    let history = format!("/api/v1/services/{id}/deployments");
    let pages = walk(&s, &c, &history).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 2]);
    let numbers: Vec<i64> = pages
        .concat()
        .iter()
        .map(|d| d["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=52).rev().collect::<Vec<_>>());
    let pages = walk(&s, &c, &format!("{history}?limit=20")).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [20, 20, 12]);

    let timeline = walk(&s, &c, &format!("/api/v1/services/{id}/events?limit=7")).await;
    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM service_events WHERE service_id = $1")
            .bind(uuid::Uuid::parse_str(&id).unwrap())
            .fetch_one(&s.pool)
            .await
            .unwrap();
    assert!(events > 50, "{events}");
    assert_eq!(timeline.concat().len() as i64, events);
    assert!(timeline.iter().all(|p| p.len() <= 7));

    let audit = walk(&s, &c, "/api/v1/audit?action=service&limit=10").await;
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'service.%'")
            .fetch_one(&s.pool)
            .await
            .unwrap();
    let ids: Vec<i64> = audit
        .concat()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len() as i64, audited);
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, each once"
    );

    for (list, pages) in [
        ("/api/v1/members", 1),
        ("/api/v1/tokens", 1),
        ("/api/v1/teams", 1),
    ] {
        assert_eq!(
            walk(&s, &c, &format!("{list}?limit=1")).await.len(),
            pages,
            "{list}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn a_bad_limit_or_cursor_is_a_json_error(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    let id = create(&s, &c, "web").await;
    for (path, status) in [
        ("/api/v1/services?limit=0".to_owned(), 422),
        ("/api/v1/services?limit=201".to_owned(), 422),
        ("/api/v1/services?limit=many".to_owned(), 400),
        (
            format!("/api/v1/services/{id}/deployments?cursor=yesterday"),
            400,
        ),
        ("/api/v1/audit?limit=51".to_owned(), 422),
    ] {
        let r = c.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}
