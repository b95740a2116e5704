//! Projects and environments against the real Docker engine and Postgres: existing
//! services move into `default`/`production` without their containers being replaced,
//! a service created the old way lands there, one name deploys in two environments, a
//! clone copies definitions (secrets sealed anew) without domains or host ports and with
//! new volumes, environments cannot reach each other, and an environment is deleted.

mod common;

use common::api::Api;
use common::docker::docker;
use common::quick_worker;
use common::team::{call, Caller};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::borrow::Cow;
use std::process::Command;
use std::time::{Duration, Instant};

/// The first migration of projects: the schema before it is what a running Berth had.
const PROJECTS_MIGRATION: i64 = 20261203000001;

/// `GET <path>` from inside container `from` to `ip`:8080 (busybox `nc`, 3 s timeout; the
/// static busybox's `wget` cannot run without the C library's resolver): the body, or
/// `None` when no connection was made.
fn fetch_from(from: &str, ip: &str, path: &str) -> Option<String> {
    // `timeout` bounds the connect too: a dropped SYN kept busybox `nc -w 3` waiting for
    // minutes (the kernel's SYN retries) in one CI run.
    let script = format!(
        "printf 'GET {path} HTTP/1.0\\r\\n\\r\\n' | /bin/busybox timeout 5 /bin/busybox nc -w 3 {ip} 8080"
    );
    let out = Command::new("docker")
        .args(["exec", from, "/bin/busybox", "sh", "-c", &script])
        .output()
        .expect("docker CLI");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (_, body) = text.split_once("\r\n\r\n")?;
    Some(body.to_owned())
}

/// The address `name` resolves to on the network of container `from`, asked of the
/// engine's DNS (busybox `nslookup`: the static busybox's own `wget` cannot resolve names).
fn resolve_from(from: &str, name: &str) -> Option<String> {
    let out = Command::new("docker")
        .args(["exec", from, "/bin/busybox", "nslookup", name, "127.0.0.11"])
        .output()
        .expect("docker CLI");
    let text = String::from_utf8_lossy(&out.stdout);
    let answer = text.split_once(&format!("Name:\t{name}"))?.1;
    answer
        .lines()
        .find_map(|l| l.strip_prefix("Address: "))
        .map(|a| a.trim().to_owned())
}

/// `http://<name>:8080<path>` from inside container `from`, by service name.
fn fetch_by_name(from: &str, name: &str, path: &str) -> Option<String> {
    fetch_from(from, &resolve_from(from, name)?, path)
}

fn container(view: &Value) -> String {
    view["containers"][0]["id"]
        .as_str()
        .expect("a container")
        .to_owned()
}

fn ip(view: &Value) -> String {
    view["containers"][0]["ip"]
        .as_str()
        .expect("an address")
        .to_owned()
}

/// `docker inspect` of one field of a container.
fn inspect(id: &str, format: &str) -> String {
    docker(&["inspect", "-f", format, id])
}

async fn post(api: &Api, path: &str, body: Value) -> Value {
    let (status, answer) = api.call(Method::POST, path, Some(body)).await;
    assert_eq!(status, 201, "POST {path}: {answer}");
    answer
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[sqlx::test(migrations = false)]
async fn the_migration_moves_existing_services_into_default_production(pool: PgPool) {
    // The database as a Berth before projects left it: a team with two services, a team
    // without any.
    let before = sqlx::migrate::Migrator {
        migrations: Cow::Owned(
            app::store::MIGRATOR
                .migrations
                .iter()
                .filter(|m| m.version < PROJECTS_MIGRATION)
                .cloned()
                .collect(),
        ),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    before.run(&pool).await.unwrap();
    let team: uuid::Uuid =
        sqlx::query_scalar("INSERT INTO teams (name, slug) VALUES ('a', 'a') RETURNING id")
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("INSERT INTO teams (name, slug) VALUES ('empty', 'empty')")
        .execute(&pool)
        .await
        .unwrap();
    for name in ["web", "db"] {
        sqlx::query("INSERT INTO services (team_id, name, spec) VALUES ($1, $2, $3)")
            .bind(team)
            .bind(name)
            .bind(json!({"name": name, "image": "nginx"}))
            .execute(&pool)
            .await
            .unwrap();
    }
    server::db::migrate(&pool).await.unwrap();

    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT s.name, p.name, e.name, e.network, e.volume_prefix
           FROM services s JOIN environments e ON e.id = s.environment_id
           JOIN projects p ON p.id = e.project_id ORDER BY s.name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    // The team's own network and volume names: the containers that run keep running.
    let network = server::engine::team_network(team);
    let prefix = server::engine::team_volume(team, "x");
    let prefix = prefix.strip_suffix("-x").unwrap().to_owned();
    for (service, want) in rows.iter().zip(["db", "web"]) {
        assert_eq!(
            service,
            &(
                want.to_owned(),
                "default".to_owned(),
                "production".to_owned(),
                network.clone(),
                prefix.clone()
            )
        );
    }
    let projects: i64 = sqlx::query_scalar("SELECT count(*) FROM projects")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(projects, 1, "a team without services gets no project");
}

#[sqlx::test(migrations = false)]
async fn a_service_created_the_old_way_lands_in_default_production_and_keeps_its_container(
    pool: PgPool,
) {
    let mut api = Api::start(pool, quick_worker()).await;
    let id = api.create(api.spec("web")).await;
    let view = api.running(&id, 1).await;
    assert_eq!(view["place"]["project"], "default");
    assert_eq!(view["place"]["environment"], "production");
    let before = container(&view);
    let team: uuid::Uuid = sqlx::query_scalar("SELECT team_id FROM services WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&api.server.pool)
        .await
        .unwrap();
    // The team network, as before projects: with the service name as its alias.
    let network = server::engine::team_network(team);
    let aliases = inspect(
        &before,
        &format!("{{{{json (index .NetworkSettings.Networks \"{network}\").Aliases}}}}"),
    );
    assert!(aliases.contains("\"web\""), "{aliases}");
    let (status, projects) = api.call(Method::GET, "/api/v1/projects", None).await;
    assert_eq!(status, 200);
    assert_eq!(projects[0]["name"], "default");
    assert_eq!(projects[0]["environments"][0]["name"], "production");
    assert_eq!(projects[0]["environments"][0]["network"], network.as_str());
    assert_eq!(projects[0]["environments"][0]["services"], 1);

    // A berth restarted (a new worker, several resyncs later) replaces nothing.
    api.server.restart_worker(quick_worker());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let view = api.running(&id, 1).await;
    assert_eq!(container(&view), before, "the container was kept");
}

#[sqlx::test(migrations = false)]
async fn environments_are_cloned_isolated_and_deleted(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let project = post(
        &api,
        "/api/v1/projects",
        json!({"name": " Shop ", "description": "the shop"}),
    )
    .await;
    assert_eq!(project["name"], "shop");
    let production = project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(project["environments"][0]["name"], "production");

    // `api` with a secret, a volume, a published port and a domain; `client` beside it.
    let port = free_port();
    let mut spec = api.spec("api");
    spec["environment_id"] = json!(production);
    spec["env"] = json!([{"key": "TOKEN", "value": "s3cret-token", "secret": true}]);
    spec["volumes"] = json!([{"name": "data", "path": "/data"}]);
    spec["ports"] = json!([{"container": 8080, "host": port}]);
    spec["http"] = json!({"domains": ["shop.example.test"], "port": 8080});
    let prod_api = api.create(spec).await;
    let mut spec = api.spec("client");
    spec["environment_id"] = json!(production);
    let prod_client = api.create(spec).await;
    let prod_api_view = api.running(&prod_api, 1).await;
    let prod_client_view = api.running(&prod_client, 1).await;
    assert_eq!(prod_api_view["place"]["environment"], "production");
    // Same environment: reached by service name.
    let prod = container(&prod_client_view);
    assert_eq!(resolve_from(&prod, "api"), Some(ip(&prod_api_view)));
    let body = fetch_by_name(&prod, "api", "/index.html");
    assert_eq!(body.as_deref(), Some("hello from berth\n"));

    // Clone production into staging.
    let created = post(
        &api,
        &format!(
            "/api/v1/projects/{}/environments",
            project["id"].as_str().unwrap()
        ),
        json!({"name": "staging", "clone_from": production}),
    )
    .await;
    assert_eq!(created["services"], json!(["api", "client"]));
    assert_eq!(
        created["dropped"],
        json!([{"service": "api", "domains": ["shop.example.test"], "host_ports": [port]}])
    );
    let staging = created["environment"]["id"].as_str().unwrap().to_owned();
    let network = created["environment"]["network"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(network, format!("berth-env-{}", staging.replace('-', "")));
    let (status, list) = api
        .call(
            Method::GET,
            &format!("/api/v1/environments/{staging}/services"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let id_of = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (stage_api, stage_client) = (id_of("api"), id_of("client"));
    // One name, two environments: both deploy.
    let stage_api_view = api.running(&stage_api, 1).await;
    let stage_client_view = api.running(&stage_client, 1).await;
    assert_eq!(stage_api_view["place"]["environment"], "staging");
    assert!(
        stage_api_view["spec"].get("http").is_none(),
        "no domain copied"
    );
    assert_eq!(stage_api_view["spec"]["ports"][0]["container"], 8080);
    assert!(
        stage_api_view["spec"]["ports"][0]["host"].is_null(),
        "no host port copied"
    );
    // The secret was copied, sealed for the copy: masked in the API, plain in the container.
    assert_ne!(stage_api_view["spec"]["env"][0]["value"], "s3cret-token");
    let env = common::get_text(&format!("http://{}:8080/cgi-bin/env", ip(&stage_api_view))).await;
    assert!(env.contains("TOKEN=s3cret-token\n"), "{env}");
    // New volumes, under the new environment's prefix.
    let volume = |view: &Value| inspect(&container(view), "{{range .Mounts}}{{.Name}}{{end}}");
    let (prod_volume, stage_volume) = (volume(&prod_api_view), volume(&stage_api_view));
    assert_ne!(prod_volume, stage_volume);
    assert!(stage_volume.starts_with("berth-env-"), "{stage_volume}");
    assert_eq!(
        inspect(
            &container(&stage_api_view),
            "{{index .Config.Labels \"berth.environment\"}}"
        ),
        staging
    );

    // Isolation, both ways: by name each reaches its own `api`; by address, not the other's.
    let stage = container(&stage_client_view);
    assert_eq!(resolve_from(&stage, "api"), Some(ip(&stage_api_view)));
    assert_eq!(
        fetch_by_name(&stage, "api", "/index.html").as_deref(),
        Some("hello from berth\n")
    );
    let (prod_api_ip, stage_api_ip) = (ip(&prod_api_view), ip(&stage_api_view));
    assert_eq!(
        fetch_from(&stage, &prod_api_ip, "/index.html"),
        None,
        "staging reached production"
    );
    assert_eq!(
        fetch_from(&prod, &stage_api_ip, "/index.html"),
        None,
        "production reached staging"
    );
    assert!(fetch_from(&prod, &prod_api_ip, "/index.html").is_some());

    // Another project's environment cannot reach production either.
    let other = post(&api, "/api/v1/projects", json!({"name": "other"})).await;
    let mut spec = api.spec("probe");
    spec["environment_id"] = other["environments"][0]["id"].clone();
    let probe = api.create(spec).await;
    let probe_view = api.running(&probe, 1).await;
    assert_eq!(
        fetch_from(&container(&probe_view), &prod_api_ip, "/index.html"),
        None
    );
    assert_eq!(resolve_from(&container(&probe_view), "api"), None);

    // Deleting staging: refused while it has services; then its network goes too.
    let path = format!("/api/v1/environments/{staging}");
    let (status, body) = api.call(Method::DELETE, &path, None).await;
    assert_eq!(status, 409, "{body}");
    for id in [&stage_api, &stage_client] {
        let (status, body) = api
            .call(Method::DELETE, &format!("/api/v1/services/{id}"), None)
            .await;
        assert_eq!(status, 202, "{body}");
    }
    let start = Instant::now();
    loop {
        let (status, body) = api.call(Method::DELETE, &path, None).await;
        if status == 204 {
            break;
        }
        assert_eq!(status, 409, "{body}");
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "services not deleted"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (status, _) = api.call(Method::GET, &path, None).await;
    assert_eq!(status, 404);
    let start = Instant::now();
    while !docker(&[
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("name=^{network}$"),
    ])
    .is_empty()
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "network {network} kept"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Production is untouched.
    let view = api.running(&prod_api, 1).await;
    assert_eq!(container(&view), container(&prod_api_view));
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'project.%' OR action LIKE 'environment.%'
          ORDER BY id",
    )
    .fetch_all(&api.server.pool)
    .await
    .unwrap();
    assert_eq!(
        audit,
        [
            "project.create",
            "environment.create",
            "project.create",
            "environment.delete"
        ]
    );
}

#[sqlx::test(migrations = false)]
async fn bad_names_and_ids_are_refused_and_nothing_changes(pool: PgPool) {
    let s = common::TestServer::start(pool).await;
    let owner = s.owner().await;
    let call = |method: Method, path: &str, body: Value| {
        let req = owner.request(method, s.url(path)).json(&body);
        async move {
            let r = req.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let field = |body: &Value| body["fields"][0]["field"].as_str().unwrap_or("").to_owned();
    let (status, body) = call(
        Method::POST,
        "/api/v1/projects",
        json!({"name": "Not a label!"}),
    )
    .await;
    assert_eq!((status, field(&body)), (422, "name".to_owned()), "{body}");
    let (status, body) = call(Method::POST, "/api/v1/projects", json!({"name": "shop"})).await;
    assert_eq!(status, 201, "{body}");
    let project = body["id"].as_str().unwrap().to_owned();
    let (status, body) = call(Method::POST, "/api/v1/projects", json!({"name": "SHOP"})).await;
    assert_eq!((status, field(&body)), (422, "name".to_owned()), "{body}");
    let envs = format!("/api/v1/projects/{project}/environments");
    let (status, body) = call(Method::POST, &envs, json!({"name": "production"})).await;
    assert_eq!((status, field(&body)), (422, "name".to_owned()), "{body}");
    let (status, body) = call(
        Method::POST,
        &envs,
        json!({"name": "qa", "clone_from": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = call(
        Method::POST,
        "/api/v1/services",
        json!({"name": "web", "image": "nginx", "environment_id": "not-an-id"}),
    )
    .await;
    assert_eq!(
        (status, field(&body)),
        (422, "environment_id".to_owned()),
        "{body}"
    );
    // One project, one environment, no service: nothing else was made.
    assert_eq!(s.count("projects").await, 1);
    assert_eq!(s.count("environments").await, 1);
    assert_eq!(s.count("services").await, 0);
    // The same name in two environments is allowed; twice in one is not.
    let production: String =
        sqlx::query_scalar("SELECT id::text FROM environments WHERE project_id = $1::uuid")
            .bind(&project)
            .fetch_one(&s.pool)
            .await
            .unwrap();
    let (status, body) = call(Method::POST, &envs, json!({"name": "qa"})).await;
    assert_eq!(status, 201, "{body}");
    let qa = body["environment"]["id"].as_str().unwrap().to_owned();
    for env in [&production, &qa] {
        let spec = json!({"name": "web", "image": "nginx", "environment_id": env});
        let (status, body) = call(Method::POST, "/api/v1/services", spec).await;
        assert_eq!(status, 201, "{body}");
    }
    let spec = json!({"name": "web", "image": "nginx", "environment_id": qa});
    let (status, body) = call(Method::POST, "/api/v1/services", spec).await;
    assert_eq!((status, field(&body)), (422, "name".to_owned()), "{body}");
    // A project with services is not deleted.
    let (status, body) = call(
        Method::DELETE,
        &format!("/api/v1/projects/{project}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
}

/// A clone is all or nothing: when its second copy is refused by the database (a
/// constraint the test adds: the copies go in by name, so `api` is in when `worker` is
/// refused), nothing of it is left — no environment, no copy, no shared variable, no
/// deployment for the worker, no audit entry — and the same clone then goes through whole.
#[sqlx::test(migrations = false)]
async fn a_clone_refused_half_way_leaves_nothing(pool: PgPool) {
    let s = common::TestServer::start(pool).await;
    let owner = Caller::Cookie(s.owner().await);
    let as_owner = async |method: &str, path: &str, body: Option<Value>| {
        call(&s, &owner, method, path, body).await
    };
    let (status, project) =
        as_owner("POST", "/api/v1/projects", Some(json!({"name": "shop"}))).await;
    assert_eq!(status, 201, "{project}");
    let production = project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let variables = json!({"variables": [{"key": "GREETING", "value": "hello"},
                                         {"key": "TOKEN", "value": "s3cret", "secret": true}]});
    let path = format!("/api/v1/environments/{production}/variables");
    let (status, body) = as_owner("PUT", &path, Some(variables)).await;
    assert_eq!(status, 200, "{body}");
    for name in ["api", "worker"] {
        let spec = json!({"name": name, "image": "nginx", "environment_id": production});
        let (status, body) = as_owner("POST", "/api/v1/services", Some(spec)).await;
        assert_eq!(status, 201, "{body}");
    }
    sqlx::query(&format!(
        "ALTER TABLE services ADD CONSTRAINT worker_stays_in_production
         CHECK (name <> 'worker' OR environment_id = '{production}')"
    ))
    .execute(&s.pool)
    .await
    .unwrap();
    let tables = ["environments", "services", "deployments", "audit_log"];
    let mut before = Vec::new();
    for table in tables {
        before.push(s.count(table).await);
    }

    let envs = format!(
        "/api/v1/projects/{}/environments",
        project["id"].as_str().unwrap()
    );
    let clone = json!({"name": "staging", "clone_from": production});
    let (status, body) = as_owner("POST", &envs, Some(clone.clone())).await;
    assert_eq!(status, 500, "{body}");
    for (table, count) in tables.into_iter().zip(before) {
        assert_eq!(s.count(table).await, count, "nothing added to {table}");
    }
    let staging: i64 =
        sqlx::query_scalar("SELECT count(*) FROM environments WHERE name = 'staging'")
            .fetch_one(&s.pool)
            .await
            .unwrap();
    assert_eq!(staging, 0, "no partial environment");

    // Without the constraint the same clone is made, whole.
    sqlx::query("ALTER TABLE services DROP CONSTRAINT worker_stays_in_production")
        .execute(&s.pool)
        .await
        .unwrap();
    let (status, created) = as_owner("POST", &envs, Some(clone)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["services"], json!(["api", "worker"]));
    let staging = created["environment"]["id"].as_str().unwrap();
    let (_, copied) = as_owner(
        "GET",
        &format!("/api/v1/environments/{staging}/variables"),
        None,
    )
    .await;
    let keys: Vec<&str> = copied["variables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["key"].as_str())
        .collect();
    assert_eq!(keys, ["GREETING", "TOKEN"], "{copied}");
}

/// A plain form post of the pages (no JavaScript); answers where the browser goes next.
async fn form_post(
    s: &common::TestServer,
    c: &reqwest::Client,
    endpoint: &str,
    fields: &[(&str, &str)],
) -> String {
    let r = c
        .post(s.url(&format!("/api/{endpoint}")))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", s.url("/projects"))
        .form(fields)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{endpoint}: {}", r.status());
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[sqlx::test(migrations = false)]
async fn the_project_pages_work_without_javascript(pool: PgPool) {
    let s = common::TestServer::start(pool).await;
    let owner = s.owner().await;
    let at = form_post(
        &s,
        &owner,
        "save_project",
        &[("id", ""), ("name", "Shop"), ("description", "the shop")],
    )
    .await;
    let project: String = sqlx::query_scalar("SELECT id::text FROM projects WHERE name = 'shop'")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(at, format!("/projects/{project}"));
    let page = s.page(&owner, &at).await;
    assert!(page.contains("data-environment=\"production\""), "{page}");
    let production: String = sqlx::query_scalar("SELECT id::text FROM environments")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    let new_here = format!("/services/new?environment={production}");
    assert!(
        page.contains(&new_here),
        "New service into production: {page}"
    );
    // The service form carries the environment; saving it puts the service there.
    let form = s.page(&owner, &new_here).await;
    assert!(form.contains(&format!("value=\"{production}\"")), "{form}");
    let saved = form_post(
        &s,
        &owner,
        "save_service",
        &[
            ("id", ""),
            ("form[name]", "web"),
            ("form[image]", "nginx:1"),
            ("form[replicas]", "1"),
            ("form[environment]", &production),
        ],
    )
    .await;
    assert!(saved.starts_with("/services/"), "{saved}");
    let place: String = sqlx::query_scalar("SELECT environment_id::text FROM services")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(place, production);
    // A clone, from the plain form: the browser opens the new tab.
    let at = form_post(
        &s,
        &owner,
        "create_environment",
        &[
            ("project", &project),
            ("name", "staging"),
            ("clone_from", &production),
        ],
    )
    .await;
    let staging: String =
        sqlx::query_scalar("SELECT id::text FROM environments WHERE name = 'staging'")
            .fetch_one(&s.pool)
            .await
            .unwrap();
    assert_eq!(at, format!("/projects/{project}?env={staging}"));
    let page = s.page(&owner, &at).await;
    assert!(
        page.contains("aria-current=\"page\" data-environment=\"staging\"")
            || page.contains("data-environment=\"staging\" aria-current=\"page\""),
        "the staging tab is current: {page}"
    );
    assert!(
        page.contains("data-service=\"web\""),
        "the copy is listed: {page}"
    );
    // The Services list and the service page say where each service lives.
    let list = s.page(&owner, "/services").await;
    assert!(
        list.contains("shop / production") && list.contains("shop / staging"),
        "{list}"
    );
}
