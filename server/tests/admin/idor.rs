//! Another team's ids: with every id of team B, even team A's owner reads nothing, changes
//! nothing and learns nothing (cookie and token).

use crate::common::team::{call, invite, join, me, role_in, server_fn, token_of, Caller, Teams};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// Every row of a team, as text: equal before and after means nothing changed.
async fn snapshot(pool: &PgPool, team: Uuid) -> String {
    let mut out = String::new();
    for (table, filter) in [
        ("teams", "id = $1"),
        ("memberships", "team_id = $1"),
        ("services", "team_id = $1"),
        (
            "deployments",
            "service_id IN (SELECT id FROM services WHERE team_id = $1)",
        ),
        ("invitations", "team_id = $1"),
        ("api_tokens", "team_id = $1"),
        ("backups", "team_id = $1"),
        ("backup_plans", "team_id = $1"),
        ("backup_destinations", "team_id = $1"),
        ("audit_log", "team_id = $1"),
        ("projects", "team_id = $1"),
        ("environments", "team_id = $1"),
    ] {
        let rows: Option<String> = sqlx::query_scalar(&format!(
            "SELECT json_agg(row_to_json(x)::text ORDER BY row_to_json(x)::text)::text
               FROM {table} x WHERE {filter}"
        ))
        .bind(team)
        .fetch_one(pool)
        .await
        .unwrap();
        out.push_str(&format!("{table}: {}\n", rows.unwrap_or_default()));
    }
    out
}

#[sqlx::test(migrations = false)]
async fn another_teams_ids_do_not_exist_even_for_an_owner(pool: PgPool) {
    // What a customer of a shared instance checks: with every id of another team, even the
    // owner of this team reads nothing, changes nothing and learns nothing.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    // Team B, built by its owner (the outsider) through the product.
    let b = t.outsider.cookie();
    let (status, body) = call(
        s,
        &b,
        "POST",
        "/api/v1/services",
        Some(json!({"name": "theirs", "image": "nginx",
                    "env": [{"key": "KEY", "value": "b-secret-value", "secret": true}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let service = body["id"].as_str().unwrap().to_owned();
    let deployment: Uuid = sqlx::query_scalar("SELECT id FROM deployments WHERE service_id = $1")
        .bind(service.parse::<Uuid>().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    // B's service went into B's default project's production.
    let (project, environment): (Uuid, Uuid) = sqlx::query_as(
        "SELECT e.project_id, e.id FROM services s JOIN environments e ON e.id = s.environment_id
          WHERE s.id = $1",
    )
    .bind(service.parse::<Uuid>().unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    // A's own project, to clone B's environment into.
    let (status, body) = call(
        s,
        &t.owner.cookie(),
        "POST",
        "/api/v1/projects",
        Some(json!({"name": "ours"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let ours = body["id"].as_str().unwrap().to_owned();
    let (token, _) = token_of(s, &b, "their bot", "developer").await;
    let (status, body) = invite(s, &b, "guest@example.com", "viewer").await;
    assert_eq!(status, 201, "{body}");
    let invitation = body["invitation"]["id"].as_str().unwrap().to_owned();
    let member = join(s, &b, "Bea Bravo", "developer").await;
    // Bea is in B only; the outsider (B's owner) was in A once.
    for who in [member.id, t.outsider.id] {
        assert_eq!(role_in(&pool, t.team_a, who).await, None);
    }
    // B's backup of its service, and B's S3 destination (an address nothing connects to
    // here: saving judges it, only a backup or a test would connect).
    let backup = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO backups (id, team_id, service_id, kind, trigger, state, file, sha256)
         VALUES ($1, $2, $3, 'volumes', 'manual', 'succeeded', 'volumes-b.tar.gz', 'abc')",
    )
    .bind(backup)
    .bind(t.team_b)
    .bind(service.parse::<Uuid>().unwrap())
    .execute(&pool)
    .await
    .unwrap();
    let (status, body) = call(
        s,
        &b,
        "PUT",
        "/api/v1/backup-destination",
        Some(
            json!({"endpoint": "https://203.0.113.10", "region": "eu-west-1",
                    "bucket": "bravo-backups", "access_key_id": "BRAVOKEY",
                    "secret_access_key": "bravo-secret"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let before = snapshot(&pool, t.team_b).await;
    let audit_before = t.s.count("audit_log").await;

    let sv = &service;
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/services/{sv}"), None),
        (
            "PUT",
            format!("/api/v1/services/{sv}"),
            Some(json!({"name": "theirs", "image": "hijack"})),
        ),
        ("DELETE", format!("/api/v1/services/{sv}"), None),
        (
            "POST",
            format!("/api/v1/services/{sv}/scale"),
            Some(json!({"replicas": 3})),
        ),
        ("POST", format!("/api/v1/services/{sv}/stop"), None),
        ("POST", format!("/api/v1/services/{sv}/start"), None),
        ("POST", format!("/api/v1/services/{sv}/redeploy"), None),
        (
            "POST",
            format!("/api/v1/services/{sv}/rollback"),
            Some(json!({"deployment": 1})),
        ),
        ("POST", format!("/api/v1/services/{sv}/deploy"), None),
        ("GET", format!("/api/v1/services/{sv}/webhook"), None),
        (
            "POST",
            format!("/api/v1/services/{sv}/webhook/rotate"),
            None,
        ),
        ("GET", format!("/api/v1/services/{sv}/deployments"), None),
        ("GET", format!("/api/v1/deployments/{deployment}"), None),
        ("GET", format!("/api/v1/services/{sv}/logs"), None),
        ("GET", format!("/api/v1/services/{sv}/logs/stream"), None),
        ("GET", format!("/api/v1/services/{sv}/events"), None),
        ("GET", format!("/api/v1/services/{sv}/metrics"), None),
        (
            "PATCH",
            format!("/api/v1/members/{}", member.id),
            Some(json!({"role": "viewer"})),
        ),
        ("DELETE", format!("/api/v1/members/{}", member.id), None),
        (
            "PATCH",
            format!("/api/v1/members/{}", t.outsider.id),
            Some(json!({"role": "viewer"})),
        ),
        ("DELETE", format!("/api/v1/members/{}", t.outsider.id), None),
        ("DELETE", format!("/api/v1/invitations/{invitation}"), None),
        ("DELETE", format!("/api/v1/tokens/{token}"), None),
        (
            "POST",
            "/api/v1/team/transfer".to_owned(),
            Some(json!({"user_id": member.id})),
        ),
        ("GET", format!("/api/v1/projects/{project}"), None),
        (
            "PUT",
            format!("/api/v1/projects/{project}"),
            Some(json!({"name": "hijacked"})),
        ),
        ("DELETE", format!("/api/v1/projects/{project}"), None),
        (
            "POST",
            format!("/api/v1/projects/{project}/environments"),
            Some(json!({"name": "planted"})),
        ),
        ("GET", format!("/api/v1/environments/{environment}"), None),
        (
            "PUT",
            format!("/api/v1/environments/{environment}"),
            Some(json!({"name": "hijacked"})),
        ),
        (
            "DELETE",
            format!("/api/v1/environments/{environment}"),
            None,
        ),
        (
            "GET",
            format!("/api/v1/environments/{environment}/services"),
            None,
        ),
        // A service planted in B's environment, and a clone of B's environment into A.
        (
            "POST",
            "/api/v1/services".to_owned(),
            Some(json!({"name": "planted", "image": "nginx", "environment_id": environment})),
        ),
        (
            "POST",
            format!("/api/v1/projects/{ours}/environments"),
            Some(json!({"name": "stolen", "clone_from": environment})),
        ),
        ("GET", format!("/api/v1/services/{sv}/backup-plan"), None),
        (
            "PUT",
            format!("/api/v1/services/{sv}/backup-plan"),
            Some(json!({"keep_last": 1})),
        ),
        ("GET", format!("/api/v1/services/{sv}/backups"), None),
        ("POST", format!("/api/v1/services/{sv}/backups"), None),
        ("GET", format!("/api/v1/backups/{backup}"), None),
        ("POST", format!("/api/v1/backups/{backup}/restore"), None),
    ];
    let (_, owner_token) = token_of(s, &t.owner.cookie(), "owner bot", "owner").await;
    let audit_before = audit_before + 1; // the token.create just now, in team A
    for (how, caller) in [
        ("cookie", t.owner.cookie()),
        ("token", Caller::Bearer(owner_token)),
    ] {
        for (method, path, body) in &calls {
            let (status, answer) = call(s, &caller, method, path, body.clone()).await;
            assert_eq!(
                status, 404,
                "{method} {path} by A's owner ({how}): {answer}"
            );
        }
        // The audit log has nothing about any of B's ids.
        for id in [
            service.clone(),
            deployment.to_string(),
            token.to_string(),
            invitation.clone(),
            member.id.to_string(),
            t.team_b.to_string(),
        ] {
            let (status, page) = call(
                s,
                &caller,
                "GET",
                &format!("/api/v1/audit?target={id}"),
                None,
            )
            .await;
            assert_eq!(status, 200, "{page}");
            assert_eq!(page["entries"], json!([]), "audit target={id} ({how})");
        }
        let (_, page) = call(s, &caller, "GET", "/api/v1/audit", None).await;
        let text = page.to_string();
        for leak in [
            "theirs",
            "Bravo",
            "guest@example.com",
            "their bot",
            "Bea Bravo",
        ] {
            assert!(
                !text.contains(leak),
                "A's audit log mentions {leak}: {text}"
            );
        }
        // A's destination is A's (none): B's bucket and key id never show.
        let (status, body) = call(s, &caller, "GET", "/api/v1/backup-destination", None).await;
        assert_eq!(status, 404, "A has no destination ({how}): {body}");
        assert!(!body.to_string().contains("bravo"), "{body}");
        // Lists show only A's.
        for list in [
            "/api/v1/services",
            "/api/v1/members",
            "/api/v1/tokens",
            "/api/v1/invitations",
        ] {
            let (status, body) = call(s, &caller, "GET", list, None).await;
            assert_eq!(status, 200);
            let text = body.to_string();
            assert!(
                !text.contains(&service) && !text.contains("Bea Bravo") && !text.contains("guest@"),
                "{list} ({how}) shows B: {text}"
            );
        }
    }
    // The pages' server functions.
    let owner = t.owner.cookie();
    let sid = format!("id={service}");
    let did = format!("id={deployment}");
    for (endpoint, form) in [
        ("get_service", sid.clone()),
        ("service_form", sid.clone()),
        ("deployment_log", did),
        ("service_events", sid.clone()),
        ("service_metrics", sid.clone()),
        ("webhook_info", sid.clone()),
        ("rotate_webhook", sid.clone()),
        (
            "save_service",
            format!("{sid}&form[name]=theirs&form[image]=hijack"),
        ),
        ("service_action", format!("{sid}&action=stop&replicas=")),
        ("service_action", format!("{sid}&action=delete&replicas=")),
        ("project_console", format!("id={project}")),
        (
            "save_project",
            format!("id={project}&name=hijacked&description="),
        ),
        ("delete_project", format!("id={project}")),
        (
            "create_environment",
            format!("project={project}&name=planted&clone_from="),
        ),
        (
            "create_environment",
            format!("project={ours}&name=stolen&clone_from={environment}"),
        ),
        (
            "rename_environment",
            format!("id={environment}&name=hijacked"),
        ),
        ("delete_environment", format!("id={environment}")),
        ("service_backups", sid.clone()),
        ("backup_action", format!("{sid}&action=run")),
        (
            "backup_action",
            format!("{sid}&action=restore&confirm=yes&backup={backup}"),
        ),
    ] {
        let fields: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, body) = server_fn(s, &owner, endpoint, &fields).await;
        assert_eq!(status, 404, "/api/{endpoint} {form}: {body}");
    }
    // Switching the session to B is refused too.
    let r = t
        .owner
        .client
        .post(s.url("/auth/team"))
        .header("accept", "application/json")
        .form(&[("team", t.team_b.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404, "switch to a team one is not in");
    assert_eq!(me(s, &owner).await["team"]["id"], t.team_a.to_string());

    assert_eq!(snapshot(&pool, t.team_b).await, before, "team B unchanged");
    assert_eq!(
        t.s.count("audit_log").await,
        audit_before,
        "nothing was audited"
    );
}
