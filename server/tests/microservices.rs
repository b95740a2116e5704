//! Issue 18's application, end to end, against the real Docker engine, Postgres and Caddy:
//! a three-service compose file — `web` (a routed domain) → `api` → `db` (PostgreSQL 15
//! built from Debian packages, its data in a named volume) — wired with references and
//! imported through the API. A request through Caddy reaches `web`, which calls `api` by
//! name, which reads a row from `db` with the referenced password. The password, a shared
//! secret, changes: `db` redeployed takes it, `api` (still on the old one) fails and is
//! marked "needs redeploy", one action redeploys it and the row is read again. Cloned into
//! `staging`: the domain is dropped (the answer says so), the copies run on a new empty
//! volume, and neither staging nor another project can open a connection to `db`'s
//! PostgreSQL port (nor production to theirs). The README walks through this file.

mod common;

use common::api::Api;
use common::debian_images;
use common::docker::docker;
use reqwest::Method;
use serde_json::{json, Value};
use server::proxy::local_caddy::LocalCaddy as Caddy;
use sqlx::PgPool;
use std::process::Command;
use std::time::{Duration, Instant};

const DOMAIN: &str = "shop.berth.test";
const PSQL: &str = "/usr/lib/postgresql/15/bin/psql";

/// The application, as a person writes it (the README shows it with these image names
/// replaced by theirs): `web` → `api` → `db`, in that order, each wired to the next by a
/// reference that a later service defines.
fn compose_file(postgres_image: &str, app_image: &str) -> String {
    format!(
        r#"services:
  web:
    image: {app_image}
    environment:
      UPSTREAM_URL: http://${{{{ api.HOST }}}}:${{{{ api.PORT }}}}
    expose: ["8000"]
    healthcheck: {{interval: 1s, timeout: 2s, retries: 3}}
    x-berth:
      http: {{domains: [{DOMAIN}], port: 8000}}
      http_check: {{path: /, port: 8000}}
  api:
    image: {app_image}
    environment:
      DATABASE_URL: postgresql://postgres:${{{{ db.POSTGRES_PASSWORD }}}}@${{{{ db.HOST }}}}:${{{{ db.PORT }}}}/postgres
    expose: ["8000"]
    healthcheck: {{interval: 1s, timeout: 2s, retries: 3}}
    x-berth:
      http_check: {{path: /, port: 8000}}
  db:
    image: {postgres_image}
    environment:
      POSTGRES_PASSWORD: ${{{{ shared.DB_PASSWORD }}}}
    expose: ["5432"]
    volumes:
      - pgdata:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD", "/usr/lib/postgresql/15/bin/pg_isready", "-h", "127.0.0.1", "-U", "postgres"]
      interval: 1s
      timeout: 3s
      retries: 5
      start_period: 60s
volumes:
  pgdata: {{}}
"#
    )
}

/// The test's server with its worker and Caddy; dropped, it removes its containers, then
/// the volumes of its environments (a volume in use cannot be removed).
struct Scenario {
    api: Api,
    caddy: Caddy,
    volumes: Vec<String>,
}

impl Scenario {
    async fn start(pool: PgPool) -> Scenario {
        let caddy = Caddy::start().await.unwrap();
        let settings = server::worker::WorkerSettings {
            proxy: Some(caddy.settings()),
            // PostgreSQL's first start (initdb) on a busy machine.
            deploy_timeout: Duration::from_secs(120),
            ..common::quick_worker()
        };
        let api = Api::start(pool, settings).await;
        Scenario {
            api,
            caddy,
            volumes: Vec::new(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.api.call(method.clone(), path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    /// Removes `pgdata` of `environment` after the test.
    async fn keeps_volume_of(&mut self, environment: &str) {
        let prefix: String =
            sqlx::query_scalar("SELECT volume_prefix FROM environments WHERE id = $1::uuid")
                .bind(environment)
                .fetch_one(&self.api.server.pool)
                .await
                .unwrap();
        self.volumes.push(format!("{prefix}-pgdata"));
    }

    /// The environment's services by name: `(name, id)`, sorted by name.
    async fn services(&self, environment: &str) -> Vec<(String, String)> {
        let path = format!("/api/v1/environments/{environment}/services");
        let list = self.call(Method::GET, &path, None).await;
        let mut out: Vec<(String, String)> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let field = |k: &str| s[k].as_str().unwrap().to_owned();
                (field("name"), field("id"))
            })
            .collect();
        out.sort();
        out
    }

    /// The names of the environment's services marked "needs redeploy", sorted.
    async fn needing_redeploy(&self, environment: &str) -> Vec<String> {
        let path = format!("/api/v1/environments/{environment}/services");
        let list = self.call(Method::GET, &path, None).await;
        let mut names: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["needs_redeploy"] == true)
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    /// Waits until deployment `number` of the service is live with one ready replica and
    /// nothing else; a failed rollout fails the test with its reason.
    async fn live(&self, id: &str, number: i64) -> Value {
        self.api
            .until(id, 150, &format!("deployment #{number} live"), |v| {
                let d = &v["latest_deployment"];
                assert!(
                    !(d["number"] == number
                        && matches!(d["state"].as_str(), Some("failed" | "rolled_back"))),
                    "deployment #{number} did not go live: {v:#}"
                );
                v["live_deployment"] == number
                    && v["status"]["health"] == "running"
                    && v["status"]["ready"] == 1
                    && v["containers"].as_array().map(Vec::len) == Some(1)
            })
            .await
    }

    /// Waits until a request for `path` through Caddy answers `status`; the body.
    async fn until_answer(&self, path: &str, status: u16, secs: u64) -> String {
        let start = Instant::now();
        loop {
            let got = self.caddy.get(DOMAIN, path).await;
            if let Some((s, body)) = &got {
                if *s == status {
                    return body.clone();
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "{DOMAIN}{path} did not answer {status} within {secs} s; last: {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        self.api.server.stop_worker_and_clean_up();
        for volume in &self.volumes {
            let _ = Command::new("docker")
                .args(["volume", "rm", "-f", volume])
                .output();
        }
    }
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

/// The env of the service's container, as the engine has it.
fn container_env(view: &Value) -> Vec<String> {
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &container(view)]);
    serde_json::from_str(env.trim()).expect("a JSON list")
}

/// Python in container `from` (the app image has it): `script` with `args` as `sys.argv[1:]`
/// (no shell); its exit status and output.
fn python_in(from: &str, script: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("docker")
        .args(["exec", from, "python3", "-c", script])
        .args(args)
        .output()
        .expect("docker CLI");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success(), text)
}

/// Whether container `from` can open a TCP connection to `ip`:`port` (3 s timeout).
fn connects(from: &str, ip: &str, port: u16) -> bool {
    let script = "import socket, sys\nsocket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()";
    python_in(from, script, &[ip, &port.to_string()]).0
}

/// The address `name` resolves to in container `from`, if any.
fn resolve_in(from: &str, name: &str) -> Option<String> {
    let script = "import socket, sys\nprint(socket.gethostbyname(sys.argv[1]))";
    let (ok, text) = python_in(from, script, &[name]);
    ok.then_some(text)
}

/// `GET http://127.0.0.1:8000<path>` inside container `from`: `status [body]`.
fn get_inside(from: &str, path: &str) -> String {
    let script = "import sys, urllib.request, urllib.error\n\
        try:\n    r = urllib.request.urlopen('http://127.0.0.1:8000' + sys.argv[1], timeout=10)\n\
        except urllib.error.HTTPError as e:\n    r = e\n\
        print(f'{r.status} [{r.read().decode()}]')";
    python_in(from, script, &[path]).1
}

/// `sql` run by psql in `db`'s container over TCP with `password`; its output.
fn psql(db: &Value, password: &str, sql: &str) -> String {
    docker(&[
        "exec",
        "-e",
        &format!("PGPASSWORD={password}"),
        &container(db),
        PSQL,
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-At",
        "-c",
        sql,
    ])
}

#[sqlx::test(migrations = false)]
async fn a_three_service_application_runs_isolated_changes_its_password_and_clones(pool: PgPool) {
    let mut s = Scenario::start(pool).await;
    let postgres = tokio::task::spawn_blocking(debian_images::postgres);
    let app = tokio::task::spawn_blocking(debian_images::web_app);
    let yaml = compose_file(&postgres.await.unwrap(), &app.await.unwrap());

    let project = s
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(json!({"name": "shop"})),
        )
        .await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let prod = project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.keeps_volume_of(&prod).await;

    // The password is a shared secret of the environment, set before the file refers to it.
    let vars = format!("/api/v1/environments/{prod}/variables");
    s.call(
        Method::PUT,
        &vars,
        Some(json!({"variables": [{"key": "DB_PASSWORD", "value": "first-pw", "secret": true}]})),
    )
    .await;

    // The preview, then the import: web first in the file, though it refers to api, which
    // refers to db.
    let compose = format!("/api/v1/environments/{prod}/compose");
    let plan = s
        .call(
            Method::POST,
            &format!("{compose}?dry_run=true"),
            Some(json!({ "yaml": yaml })),
        )
        .await;
    assert_eq!(plan["applied"], false);
    assert_eq!(
        plan["changes"],
        json!([
            {"action": "create", "service": "web"},
            {"action": "create", "service": "api"},
            {"action": "create", "service": "db"}
        ])
    );
    assert_eq!(plan["volumes"], json!(["pgdata"]));
    assert_eq!(plan["notes"], json!([]));
    assert_eq!(s.api.server.count("services").await, 0);
    let done = s
        .call(
            Method::POST,
            &format!("{compose}?dry_run=false"),
            Some(json!({ "yaml": yaml })),
        )
        .await;
    assert_eq!(done["applied"], true, "{done}");
    let ids = s.services(&prod).await;
    let names: Vec<&str> = ids.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["api", "db", "web"]);
    let (api_id, db_id, web_id) = (ids[0].1.clone(), ids[1].1.clone(), ids[2].1.clone());
    let db = s.live(&db_id, 1).await;
    let api = s.live(&api_id, 1).await;
    let web = s.live(&web_id, 1).await;

    // The references, filled in at deploy time; shown as written.
    assert!(container_env(&web).contains(&"UPSTREAM_URL=http://api:8000".to_owned()));
    assert!(container_env(&api)
        .contains(&"DATABASE_URL=postgresql://postgres:first-pw@db:5432/postgres".to_owned()));
    assert!(container_env(&db).contains(&"POSTGRES_PASSWORD=first-pw".to_owned()));
    assert_eq!(
        api["spec"]["env"][0]["value"],
        "postgresql://postgres:${{ db.POSTGRES_PASSWORD }}@${{ db.HOST }}:${{ db.PORT }}/postgres"
    );

    // Through Caddy: web asks api by name, api reads db (the first request makes the table).
    assert_eq!(s.until_answer("/upstream/notes", 200, 60).await, "");
    psql(
        &db,
        "first-pw",
        "INSERT INTO notes (note) VALUES ('kept in pgdata')",
    );
    assert_eq!(
        s.until_answer("/upstream/notes", 200, 10).await,
        "kept in pgdata\n"
    );
    // It is web that answers, and web alone has no database.
    let hello = s.until_answer("/", 200, 10).await;
    assert!(
        hello.starts_with(&format!("hello from {}", &container(&web)[..12])),
        "{hello}"
    );
    assert_eq!(s.caddy.get(DOMAIN, "/notes").await.unwrap().0, 500);

    // The password changes: db and api (which refers to db's) would now get another
    // value; the running containers keep theirs, and the application still works.
    s.call(
        Method::PUT,
        &vars,
        Some(json!({"variables": [{"key": "DB_PASSWORD", "value": "second-pw", "secret": true}]})),
    )
    .await;
    let read = s.call(Method::GET, &vars, None).await;
    assert_eq!(read["variables"][0]["value"], "********");
    assert_eq!(s.needing_redeploy(&prod).await, ["api", "db"]);
    let tab = format!("/projects/{project_id}?env={prod}");
    let page = s.api.server.page(&s.api.client, &tab).await;
    assert!(
        page.contains("Needs redeploy (a value they refer to changed): api, db."),
        "{page}"
    );
    assert_eq!(
        s.until_answer("/upstream/notes", 200, 10).await,
        "kept in pgdata\n"
    );

    // db redeployed: it sets the new password on start; api, on the old one, is refused.
    s.call(
        Method::POST,
        &format!("/api/v1/services/{db_id}/redeploy"),
        None,
    )
    .await;
    let db = s.live(&db_id, 2).await;
    assert!(container_env(&db).contains(&"POSTGRES_PASSWORD=second-pw".to_owned()));
    let refused = s.until_answer("/upstream/notes", 503, 30).await;
    assert!(
        refused.starts_with("database error: ")
            && refused.contains("password authentication failed for user \"postgres\""),
        "{refused}"
    );
    assert_eq!(s.needing_redeploy(&prod).await, ["api"]);
    let page = s.api.server.page(&s.api.client, &tab).await;
    assert!(page.contains("Redeploy 1 outdated service<"), "{page}");
    assert_eq!(s.api.service(&api_id).await["needs_redeploy"], true);

    // One action redeploys exactly the outdated services, and the row is read again.
    let redeployed = s
        .call(
            Method::POST,
            &format!("/api/v1/environments/{prod}/redeploy-outdated"),
            None,
        )
        .await;
    assert_eq!(redeployed, json!({"services": ["api"]}));
    let api = s.live(&api_id, 2).await;
    assert!(container_env(&api)
        .contains(&"DATABASE_URL=postgresql://postgres:second-pw@db:5432/postgres".to_owned()));
    assert_eq!(
        s.until_answer("/upstream/notes", 200, 30).await,
        "kept in pgdata\n",
        "the row survived db's redeploy, in its volume"
    );
    assert!(s.needing_redeploy(&prod).await.is_empty());

    // Cloned into staging: the domain is not copied (the answer says so), the copies run
    // with the shared secret copied and a new, empty volume.
    let created = s
        .call(
            Method::POST,
            &format!("/api/v1/projects/{project_id}/environments"),
            Some(json!({"name": "staging", "clone_from": prod})),
        )
        .await;
    assert_eq!(created["services"], json!(["api", "db", "web"]));
    assert_eq!(
        created["dropped"],
        json!([{"service": "web", "domains": [DOMAIN], "host_ports": []}])
    );
    let staging = created["environment"]["id"].as_str().unwrap().to_owned();
    s.keeps_volume_of(&staging).await;
    let stage_ids = s.services(&staging).await;
    let stage_db = s.live(&stage_ids[1].1, 1).await;
    let stage_api = s.live(&stage_ids[0].1, 1).await;
    let stage_web = s.live(&stage_ids[2].1, 1).await;
    assert!(stage_web["spec"].get("http").is_none(), "no domain copied");
    let (web_c, stage_web_c) = (container(&web), container(&stage_web));
    let mut answer = String::new();
    for _ in 0..50 {
        answer = get_inside(&stage_web_c, "/upstream/notes");
        if answer.starts_with("200 ") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(answer, "200 []", "staging's db is its own, empty");
    assert_eq!(
        s.until_answer("/upstream/notes", 200, 10).await,
        "kept in pgdata\n"
    );

    // Isolation on PostgreSQL's port: each environment reaches its own db by name; neither
    // opens a connection to the other's, nor does another project's service.
    let (api_c, stage_api_c) = (container(&api), container(&stage_api));
    assert_eq!(resolve_in(&api_c, "db"), Some(ip(&db)));
    assert_eq!(resolve_in(&stage_api_c, "db"), Some(ip(&stage_db)));
    assert!(connects(&api_c, &ip(&db), 5432), "production's own db");
    assert!(
        connects(&stage_api_c, &ip(&stage_db), 5432),
        "staging's own db"
    );
    assert!(
        !connects(&stage_api_c, &ip(&db), 5432),
        "staging reached production's db"
    );
    assert!(
        !connects(&api_c, &ip(&stage_db), 5432),
        "production reached staging's db"
    );
    let other = s
        .call(
            Method::POST,
            "/api/v1/projects",
            Some(json!({"name": "other"})),
        )
        .await;
    let mut probe = json!({
        "name": "probe",
        "image": web["spec"]["image"],
        "ports": [{"container": 8000}],
        "environment_id": other["environments"][0]["id"],
    });
    probe["health_check"] = web["spec"]["health_check"].clone();
    let probe = s.api.create(probe).await;
    let probe = s.live(&probe, 1).await;
    let probe_c = container(&probe);
    assert_eq!(resolve_in(&probe_c, "db"), None);
    assert!(
        !connects(&probe_c, &ip(&db), 5432),
        "another project reached production's db"
    );
    assert!(
        !connects(&web_c, &ip(&probe), 8000),
        "production reached another project"
    );
    assert!(connects(&probe_c, &ip(&probe), 8000), "the probe answers");
}
