//! The dashboard's service form against the REST API, as a browser without JavaScript
//! uses it: an Edit page saved unchanged changes nothing (no new deployment) for
//! definitions only the API could write before (multi-line values, secrets, arguments
//! with newlines, quotes and spaces), and what a person types is normalised the same way
//! through the form and the API.

mod common;

use common::browser_form::submitted_fields;
use common::TestServer;
use serde_json::{json, Value};
use sqlx::PgPool;

const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nq2Ab+/x==\n-----END PRIVATE KEY-----\n";

async fn rest(
    s: &TestServer,
    c: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = c.request(method, s.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Saves the Edit page of `id` as the browser shows it, without JavaScript; answers where
/// the browser is sent next.
async fn save_edit_page_unchanged(s: &TestServer, c: &reqwest::Client, id: &str) -> String {
    let page = s.page(c, &format!("/services/{id}/edit")).await;
    let (action, fields) = submitted_fields(&page, "service-form");
    assert!(fields.iter().any(|(k, _)| k == "form[env]"), "{fields:?}");
    let r = c
        .post(s.url(&action))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", s.url(&format!("/services/{id}/edit")))
        .form(&fields)
        .send()
        .await
        .unwrap();
    redirect(&r)
}

/// Where a no-JavaScript form post sends the browser next.
fn redirect(r: &reqwest::Response) -> String {
    assert!(r.status().is_redirection(), "{}", r.status());
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn deployments(s: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM deployments")
        .fetch_one(&s.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn saving_an_unchanged_edit_form_changes_nothing_for_what_the_api_wrote(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    let tricky = [
        PEM,
        "a=b=c",
        "# not a comment",
        "trailing spaces   ",
        "  leading",
        "\"quoted\"",
        "say \"hi\" \\n",
        "",
    ];
    let env: Vec<Value> = tricky
        .iter()
        .enumerate()
        .flat_map(|(i, v)| {
            [
                json!({"key": format!("PLAIN_{i}"), "value": v}),
                json!({"key": format!("SECRET_{i}"), "value": v, "secret": true}),
            ]
        })
        .collect();
    let command = json!([
        "sh",
        "-c",
        "echo one\necho two",
        "with spaces",
        " padded ",
        "'single'",
        "x=\"1\"",
        "#"
    ]);
    let image_service = json!({
        "name": "keyed", "image": "registry.example.com/acme/app:1.2",
        "command": command, "env": env,
        "health_check": {"probe": {"kind": "command", "argv": ["test", "-f", "/tmp/ok file\n"]}},
        "registry_auth": {"username": "ada", "password": "pw"},
        "http": {"domains": ["keyed.example.com"], "port": 8080, "https_redirect": false}
    });
    let git_service = json!({
        "name": "built", "env": env,
        "git": {"repo": "https://git.example.com/acme/app.git", "branch": "main",
                "build_args": [{"key": "NOTE", "value": "two\nlines"}, {"key": "EMPTY", "value": ""}],
                "credentials": {"kind": "token", "username": "oauth2", "token": "t0ken"}}
    });
    for spec in [image_service, git_service] {
        let (status, created) = rest(
            &s,
            &c,
            reqwest::Method::POST,
            "/api/v1/services",
            Some(spec.clone()),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        if spec.get("git").is_some() {
            // Its first build succeeded (no worker runs here): the image is set, as the
            // builder sets it. An unbuilt git service is built again on save, by design.
            sqlx::query("UPDATE services SET spec = jsonb_set(spec, '{image}', '\"berth/engines/built:0123456789ab\"') WHERE id = $1::uuid")
                .bind(&id)
                .execute(&s.pool)
                .await
                .unwrap();
        }
        let (_, created) = rest(
            &s,
            &c,
            reqwest::Method::GET,
            &format!("/api/v1/services/{id}"),
            None,
        )
        .await;
        let before = deployments(&s).await;
        let next = save_edit_page_unchanged(&s, &c, &id).await;
        assert!(
            next.ends_with(&format!("/services/{id}")),
            "saved, not sent back to the form: {next}"
        );
        assert_eq!(
            deployments(&s).await,
            before,
            "{}: no new deployment",
            spec["name"]
        );
        let (_, after) = rest(
            &s,
            &c,
            reqwest::Method::GET,
            &format!("/api/v1/services/{id}"),
            None,
        )
        .await;
        assert_eq!(
            after["spec"], created["spec"],
            "the stored definition is as the API wrote it"
        );
        assert_eq!(after["updated_at"], created["updated_at"]);
    }
    // The PEM key and the multi-line argument are shown as they are, between quotes; the
    // secret ones by name only.
    let id: String = sqlx::query_scalar("SELECT id::text FROM services WHERE name = 'keyed'")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    let page = s.page(&c, &format!("/services/{id}/edit")).await;
    let (_, fields) = submitted_fields(&page, "service-form");
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap()
    };
    assert!(
        field("form[env]").starts_with(&format!("PLAIN_0=\"{PEM}\"\nPLAIN_1=a=b=c\n")),
        "{}",
        field("form[env]")
    );
    assert!(field("form[secret_env]").starts_with("SECRET_0=\nSECRET_1=\n"));
    assert!(
        field("form[command]").contains("\n\"echo one\necho two\"\nwith spaces\n\" padded \"\n")
    );
}

#[sqlx::test(migrations = false)]
async fn the_form_and_the_api_store_what_a_person_typed_the_same_way(pool: PgPool) {
    let s = TestServer::start(pool).await;
    let c = s.owner().await;
    // Through the REST API.
    let typed = |name: &str, domain: &str| {
        json!({"name": name, "image": " nginx:1.27 ",
               "http": {"domains": [domain], "port": 80},
               "volumes": [{"name": "data", "path": " /var/data "}]})
    };
    let (status, via_api) = rest(
        &s,
        &c,
        reqwest::Method::POST,
        "/api/v1/services",
        Some(typed(" Web-A ", " A.Example.COM ")),
    )
    .await;
    assert_eq!(status, 201, "{via_api}");
    // Through the dashboard's form, as a browser without JavaScript posts it.
    let r = c
        .post(s.url("/api/save_service"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", s.url("/services/new"))
        .form(&[
            ("id", ""),
            ("form[name]", " Web-B "),
            ("form[image]", " nginx:1.27 "),
            ("form[domains]", " B.Example.COM "),
            ("form[http_port]", "80"),
            ("form[volumes]", "data: /var/data "),
        ])
        .send()
        .await
        .unwrap();
    let next = redirect(&r);
    assert!(!next.contains("problem="), "{next}");
    let (_, list) = rest(&s, &c, reqwest::Method::GET, "/api/v1/services", None).await;
    let stored = |name: &str| {
        list.as_array()
            .or(list["items"].as_array())
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {list}"))["spec"]
            .clone()
    };
    let (a, b) = (stored("web-a"), stored("web-b"));
    assert_eq!(a["http"]["domains"], json!(["a.example.com"]));
    assert_eq!(a["image"], "nginx:1.27");
    let mut b_as_a = b.clone();
    b_as_a["name"] = json!("web-a");
    b_as_a["http"]["domains"] = json!(["a.example.com"]);
    assert_eq!(b_as_a, a, "the form stored what the API stored");
}
