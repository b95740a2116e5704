//! The service map of an environment, against the real Docker engine and Postgres: three
//! running services wired by references (one of them inside a secret value) are drawn by
//! `GET /api/v1/environments/{id}/map.svg` and on the environment tab — each box names its
//! service, carries its status, links to it, and the arrows follow the references; another
//! team's environment is 404.

mod common;

use common::api::Api;
use common::quick_worker;
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

async fn map_svg(api: &Api, env: &str) -> reqwest::Response {
    api.client
        .get(
            api.server
                .url(&format!("/api/v1/environments/{env}/map.svg")),
        )
        .send()
        .await
        .unwrap()
}

/// The `<a …>` element of the service's box, up to its closing tag.
fn node<'a>(svg: &'a str, service: &str) -> &'a str {
    let at = svg
        .find(&format!("data-service=\"{service}\""))
        .unwrap_or_else(|| panic!("no box for {service} in {svg}"));
    let start = svg[..at].rfind("<a ").unwrap();
    let end = at + svg[at..].find("</a>").unwrap();
    &svg[start..end]
}

#[sqlx::test(migrations = false)]
async fn the_map_draws_the_services_their_status_and_references(pool: PgPool) {
    let api = Api::start(pool.clone(), quick_worker()).await;
    let (status, project) = api
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(json!({"name": "shop"})),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    let project_id = project["id"].as_str().unwrap().to_owned();
    let env = project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // An empty environment is an empty drawing, and its tab says so in words.
    let r = map_svg(&api, &env).await;
    assert_eq!(r.status(), 200);
    let svg = r.text().await.unwrap();
    assert!(svg.contains("Service map: no services"), "{svg}");
    let tab = api
        .server
        .page(&api.client, &format!("/projects/{project_id}?env={env}"))
        .await;
    assert!(tab.contains("id=\"no-services\""), "{tab}");
    assert!(!tab.contains("class=\"service-map\""));

    // web → api (a plain value), api → db (inside a secret value).
    let mut db = api.spec("db");
    db["environment_id"] = json!(env);
    let db = api.create(db).await;
    let mut svc = api.spec("api");
    svc["environment_id"] = json!(env);
    svc["env"] = json!([
        {"key": "DATABASE_URL", "value": "postgres://app@${{ db.HOST }}:5432/app", "secret": true}
    ]);
    let api_id = api.create(svc).await;
    let mut web = api.spec("web");
    web["environment_id"] = json!(env);
    web["env"] = json!([{"key": "API_URL", "value": "http://${{ api.HOST }}:8080"}]);
    web["http"] = json!({"domains": ["shop.example.com"], "port": 8080});
    let web = api.create(web).await;
    for id in [&db, &api_id, &web] {
        api.running(id, 1).await;
    }

    let r = map_svg(&api, &env).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"service-map\""));
    assert!(
        svg.contains("Service map: 3 services, 2 connections"),
        "{svg}"
    );
    for (name, id) in [("db", &db), ("api", &api_id), ("web", &web)] {
        let a = node(&svg, name);
        assert!(
            a.starts_with(&format!(
                "<a href=\"/services/{id}\" class=\"map-node running\""
            )),
            "{a}"
        );
        assert!(a.contains(&format!(">{name}</text>")), "{a}");
        assert!(a.contains(">running · 1/1</text>"), "{a}");
    }
    assert!(node(&svg, "web").contains(">shop.example.com</text>"));
    // One arrow per reference, the one inside a secret too; never a value.
    assert_eq!(svg.matches("<path class=\"map-edge").count(), 2, "{svg}");
    assert!(svg.contains("<title>web uses api&#39;s variables</title>"));
    assert!(svg.contains("<title>api uses db&#39;s variables</title>"));
    assert!(svg.contains("class=\"map-edge reference\""));
    assert!(!svg.contains("postgres://"));

    // The environment tab carries the same drawing.
    let tab = api
        .server
        .page(&api.client, &format!("/projects/{project_id}?env={env}"))
        .await;
    assert!(tab.contains("id=\"service-map\""), "{tab}");
    assert!(tab.contains(&svg), "the tab's map is the endpoint's");

    // Another team's environment, an unknown one and a malformed id are not found.
    let (other_team, _) = common::other_teams_service(&pool, "web").await;
    let other_env: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM environments WHERE team_id = $1")
            .bind(other_team)
            .fetch_one(&pool)
            .await
            .unwrap();
    for id in [
        other_env.to_string(),
        uuid::Uuid::new_v4().to_string(),
        "not-an-id".to_owned(),
    ] {
        let r = map_svg(&api, &id).await;
        assert_eq!(r.status(), 404, "{id}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("<svg"), "{body}");
    }

    // Signed out: 401.
    let r = reqwest::Client::new()
        .get(
            api.server
                .url(&format!("/api/v1/environments/{env}/map.svg")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
