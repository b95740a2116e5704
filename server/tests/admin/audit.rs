//! The audit log: who did what to what from where, secrets never in it, filters and paging.

use crate::common::team::{call, demote, token_of, Caller, Teams};
use crate::common::{TestServer, EMAIL, PASSWORD};
use serde_json::{json, Value};
use sqlx::PgPool;

pub(crate) async fn audit(s: &TestServer, who: &Caller, query: &str) -> Value {
    let (status, page) = call(s, who, "GET", &format!("/api/v1/audit{query}"), None).await;
    assert_eq!(status, 200, "audit{query}: {page}");
    page
}

pub(crate) fn entries(page: &Value) -> Vec<Value> {
    page["entries"].as_array().cloned().unwrap_or_default()
}

/// The newest entry with `action`.
fn entry<'a>(all: &'a [Value], action: &str) -> &'a Value {
    all.iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} entry in {all:#?}"))
}

#[sqlx::test(migrations = false)]
async fn the_audit_log_says_who_did_what_to_what_from_where(pool: PgPool) {
    // What an admin checks after an incident: each change with its actor, target and
    // address; secrets never shown; the filters and paging find what they look for.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let owner = t.owner.cookie();
    assert_eq!(
        s.sign_in_json(&s.client(), EMAIL, "wrong password", None)
            .await
            .status()
            .as_u16(),
        401
    );
    let again = s.client();
    assert_eq!(
        s.sign_in_json(&again, EMAIL, PASSWORD, None)
            .await
            .status()
            .as_u16(),
        200
    );
    demote(&t, &t.viewer, "developer").await;
    let (token_id, value) = token_of(s, &owner, "deploy bot", "developer").await;
    let secret = "s3cr3t-value-4711";
    let (status, body) = call(
        s,
        &Caller::Bearer(value),
        "POST",
        "/api/v1/services",
        Some(json!({"name": "web", "image": "nginx",
                    "env": [{"key": "API_KEY", "value": secret, "secret": true},
                            {"key": "MODE", "value": "prod"}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let service = body["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        s,
        &owner,
        "POST",
        &format!("/api/v1/services/{service}/scale"),
        Some(json!({"replicas": 3})),
    )
    .await;
    assert_eq!(status, 200);
    let changed_secret = "an0ther-s3cr3t-0815";
    let (status, body) = call(
        s,
        &owner,
        "PUT",
        &format!("/api/v1/services/{service}"),
        Some(json!({"name": "web", "image": "nginx", "replicas": 3,
                    "env": [{"key": "API_KEY", "value": changed_secret, "secret": true},
                            {"key": "MODE", "value": "prod"}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(
        s,
        &owner,
        "DELETE",
        &format!("/api/v1/tokens/{token_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);

    let all = entries(&audit(s, &owner, "").await);
    let ada = t.owner.label();
    let check = |action: &str, actor: &str, target_kind: &str, target: &str| {
        let e = all
            .iter()
            .find(|e| {
                e["action"] == action
                    && (e["target"].as_str().unwrap_or("").contains(target)
                        || e["target_id"].as_str() == Some(target))
            })
            .unwrap_or_else(|| panic!("no {action} entry about {target} in {all:#?}"));
        assert_eq!(e["actor"], actor, "{action}: {e}");
        assert_eq!(e["target_kind"], target_kind, "{action}: {e}");
        assert_eq!(e["ip"], "127.0.0.1", "{action}: {e}");
    };
    check("auth.sign_in", &ada, "user", "Ada Lovelace");
    check("auth.sign_in_failed", &ada, "user", "Ada Lovelace");
    check(
        "invitation.create",
        &ada,
        "invitation",
        "vic.viewer@example.com",
    );
    check(
        "invitation.accept",
        &t.viewer.label(),
        "invitation",
        "vic.viewer@example.com",
    );
    check(
        "member.add",
        &t.viewer.label(),
        "member",
        "vic.viewer@example.com",
    );
    check("member.role", &ada, "member", "vic.viewer@example.com");
    check("member.remove", &ada, "member", "otto.outsider@example.com");
    check("token.create", &ada, "token", "deploy bot");
    check("token.revoke", &ada, "token", "deploy bot");
    check(
        "service.create",
        "token deploy bot (of Ada Lovelace)",
        "service",
        "web",
    );
    check("service.scale", &ada, "service", "web");
    check("service.update", &ada, "service", "web");
    assert_eq!(entry(&all, "service.create")["actor_kind"], "token");
    assert_eq!(entry(&all, "service.scale")["target_id"], service.as_str());
    let role = entry(&all, "member.role")["summary"].to_string();
    assert!(
        role.contains("viewer") && role.contains("developer"),
        "{role}"
    );

    let text = serde_json::to_string(&all).unwrap();
    for s3 in [secret, changed_secret] {
        assert!(!text.contains(s3), "a secret in the audit log: {text}");
    }
    let stored: String = sqlx::query_scalar("SELECT string_agg(summary::text, ' ') FROM audit_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        !stored.contains(secret) && !stored.contains(changed_secret),
        "{stored}"
    );
    let update = &entry(&all, "service.update")["summary"];
    assert!(
        update.get("env").is_some(),
        "the changed secret is recorded (not shown): {update}"
    );

    // Filters.
    let services = entries(&audit(s, &owner, "?action=service").await);
    assert!(services.len() >= 3);
    assert!(services
        .iter()
        .all(|e| e["action"].as_str().unwrap().starts_with("service.")));
    let by_vic = entries(&audit(s, &owner, "?actor=vic").await);
    assert!(!by_vic.is_empty());
    assert!(by_vic
        .iter()
        .all(|e| e["actor"].as_str().unwrap().contains("Vic")));
    let about = entries(&audit(s, &owner, &format!("?target={service}")).await);
    assert!(about.len() >= 3, "{about:#?}");
    assert!(about.iter().all(|e| e["target_id"] == service.as_str()));
    let today = chrono::Utc::now().date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let tomorrow = day(today.succ_opt().unwrap());
    let yesterday = day(today.pred_opt().unwrap());
    assert!(entries(&audit(s, &owner, &format!("?from={tomorrow}")).await).is_empty());
    assert!(entries(&audit(s, &owner, &format!("?to={yesterday}")).await).is_empty());
    let window = format!("?from={yesterday}&to={tomorrow}");
    assert_eq!(entries(&audit(s, &owner, &window).await).len(), all.len());
    let (status, _) = call(s, &owner, "GET", "/api/v1/audit?from=yesterday", None).await;
    assert!(
        status == 422 || status == 400,
        "a bad time is refused: {status}"
    );

    // Paging: 60 more entries, read back newest first in pages, none twice, none missed.
    for i in 0..60 {
        let (status, _) = call(
            s,
            &owner,
            "POST",
            &format!("/api/v1/services/{service}/scale"),
            Some(json!({"replicas": i % 5})),
        )
        .await;
        assert_eq!(status, 200);
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE team_id = $1")
        .bind(t.team_a)
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut seen: Vec<i64> = Vec::new();
    let mut query = String::new();
    loop {
        let page = audit(s, &owner, &query).await;
        let ids: Vec<i64> = entries(&page)
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect();
        assert!(ids.len() <= 50);
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
        if let Some(last) = seen.last() {
            assert!(
                ids.first().is_none_or(|first| first < last),
                "pages overlap"
            );
        }
        seen.extend(&ids);
        match page["next_before"].as_i64() {
            Some(before) => query = format!("?before={before}"),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, total, "every entry once");
    // Paging combines with a filter.
    let first = audit(s, &owner, "?action=service.scale").await;
    let before = first["next_before"]
        .as_i64()
        .expect("more than a page of scales");
    let second =
        entries(&audit(s, &owner, &format!("?action=service.scale&before={before}")).await);
    assert!(!second.is_empty());
    assert!(second
        .iter()
        .all(|e| e["action"] == "service.scale" && e["id"].as_i64().unwrap() < before));

    // Non-admins can't read it.
    for p in [&t.developer, &t.viewer] {
        let (status, _) = call(s, &p.cookie(), "GET", "/api/v1/audit", None).await;
        assert_eq!(status, 403);
    }
    // The audit page shows the same.
    let html = s.page(&t.owner.client, "/audit?action=member.role").await;
    assert!(html.contains("vic.viewer@example.com"), "{html}");
}
