//! Scheduled jobs and one-off commands against the real engine, real Postgres and real
//! images: a job every minute writes into a real PostgreSQL service; a run past its
//! timeout is stopped and marked; a run survives (or is closed after) a restart of Berth;
//! `forbid` skips a run while one still runs; a command's output streams line by line
//! while it runs; bad input is refused naming the field (the edit form's too), and
//! another team's job is not found.

mod common;
#[path = "databases/pg.rs"]
#[allow(dead_code)]
mod pg;

use common::api::Api;
use common::docker::docker;
use common::images::BUSYBOX;
use common::team::{server_fn, Caller};
use common::{other_teams_service, quick_worker};
use reqwest::Method;
use serde_json::{json, Value};
use server::live::{EventReader, StreamEvent};
use sqlx::PgPool;
use std::time::{Duration, Instant};

const PSQL: &str = "/usr/lib/postgresql/15/bin/psql";

async fn create_job(api: &Api, service: &str, job: Value) -> Value {
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/services/{service}/jobs"),
            Some(job),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn runs(api: &Api, job: &str) -> Vec<Value> {
    let (status, body) = api
        .call(Method::GET, &format!("/api/v1/jobs/{job}/runs"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

/// Posts the service page's job form to `action` as a browser without JavaScript does, from
/// the page `referer`: job `nightly` of service `service` on `schedule`, with `fields`
/// besides. The answer (a redirect).
async fn post_job_form(
    server: &common::TestServer,
    client: &reqwest::Client,
    (action, referer): (&str, &str),
    (service, schedule): (&str, &str),
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("service", service),
        ("name", "nightly"),
        ("schedule", schedule),
    ];
    form.extend_from_slice(fields);
    client
        .post(server.url(action))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", server.url(referer))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Containers of runs of this instance still on the engine.
fn run_containers(instance: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=berth.instance={instance}"),
        "--filter",
        "label=berth.job_run",
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

/// The running container of a run, once there is one (≤ 30 s).
async fn running_container(run: &str) -> String {
    let start = Instant::now();
    loop {
        let id = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=berth.job_run={run}"),
        ]);
        if !id.is_empty() {
            return id;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "run {run} has no running container"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn run_now(api: &Api, job: &str) -> String {
    let (status, body) = api
        .call(Method::POST, &format!("/api/v1/jobs/{job}/run"), None)
        .await;
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrations = false)]
async fn a_job_every_minute_writes_a_row_into_a_real_postgres(pool: PgPool) {
    let image = pg::image().await;
    let api = pg::ApiWithVolumes::start(pool, quick_worker(), vec!["jobsdata"]).await;
    let mut spec = pg::spec("db", &image, "jobsdata");
    spec["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "PGPASSWORD", "value": pg::PASSWORD, "secret": true}));
    let id = api.create(spec).await;
    let view = api
        .until(&id, 120, "the database ready", |v| {
            v["status"]["ready"] == 1
        })
        .await;
    let container = view["containers"][0]["name"].as_str().unwrap().to_owned();
    pg::psql(
        &container,
        "CREATE TABLE ticks (id serial PRIMARY KEY, at timestamptz DEFAULT now())",
    );

    let job = create_job(
        &api,
        &id,
        json!({
            "name": "tick",
            "schedule": "* * * * *",
            "command": [PSQL, "-h", "db", "-U", "postgres", "-v", "ON_ERROR_STOP=1",
                        "-c", "INSERT INTO ticks DEFAULT VALUES"],
            "timeout_s": 30
        }),
    )
    .await;
    // The preview: five runs, a minute apart, in the instance's zone, said explicitly.
    assert_eq!(job["time_zone"], "UTC", "{job:#}");
    let next: Vec<&str> = job["next_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(next.len(), 5, "{job:#}");
    assert!(next.iter().all(|t| t.ends_with(":00+00:00")), "{next:?}");
    let job_id = job["id"].as_str().unwrap();

    // The next minute starts a run on its own (real cron semantics, ≤ 75 s).
    let start = Instant::now();
    let done = loop {
        let list = runs(&api, job_id).await;
        if let Some(r) = list
            .iter()
            .find(|r| !matches!(r["state"].as_str(), Some("queued" | "running")))
        {
            break r.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(75),
            "no finished run after 75 s: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let run = api.run_with_log(done["id"].as_str().unwrap()).await;
    assert_eq!(done["trigger"], "schedule", "{run:#}");
    assert_eq!(done["state"], "succeeded", "{run:#}");
    assert_eq!(done["exit_code"], 0, "{run:#}");
    assert!(done["duration_ms"].as_i64().is_some(), "{run:#}");
    let lines: Vec<&str> = run["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_str().unwrap())
        .collect();
    assert!(
        lines.contains(&"INSERT 0 1"),
        "psql's answer in the run's output: {lines:?}"
    );
    let rows = pg::psql(&container, "SELECT count(*) FROM ticks");
    assert!(rows.parse::<i64>().unwrap() >= 1, "rows: {rows}");
    // The run's container is gone, the replica still serves.
    assert!(run_containers(&api.server.instance).is_empty());
    assert_eq!(api.service(&id).await["status"]["ready"], 1);
}

#[sqlx::test(migrations = false)]
async fn a_run_past_its_timeout_is_stopped_and_marked_and_a_command_shows_its_output(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let mut spec = api.spec("web");
    spec["env"] = json!([{"key": "GREETING", "value": "hello from the env", "secret": true}]);
    let id = api.create(spec).await;
    api.running(&id, 1).await;

    let job = create_job(
        &api,
        &id,
        json!({"name": "slow", "schedule": "0 0 1 1 *", "command": [BUSYBOX, "sleep", "30"], "timeout_s": 2}),
    )
    .await;
    let run = run_now(&api, job["id"].as_str().unwrap()).await;
    let r = api
        .until_run(&run, 30, "the run timed out", |r| {
            r["state"] != "queued" && r["state"] != "running"
        })
        .await;
    assert_eq!(r["run"]["state"], "timed_out", "{r:#}");
    assert_eq!(r["run"]["trigger"], "person", "{r:#}");
    assert!(
        r["run"]["reason"]
            .as_str()
            .unwrap()
            .contains("timeout of 2 s"),
        "{r:#}"
    );
    let took = r["run"]["duration_ms"].as_i64().unwrap();
    assert!(
        took < 15_000,
        "stopped long before sleep 30 ended: {took} ms"
    );
    assert!(run_containers(&api.server.instance).is_empty());

    // A one-off command: the service's image, env (its secret opened) and network.
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/services/{id}/commands"),
            Some(json!({"command": [BUSYBOX, "sh", "-c", "echo \"$GREETING\"; /bin/busybox wget -qO- http://web:8080/index.html; exit 3"]})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let command = body["id"].as_str().unwrap().to_owned();
    let r = api
        .until_run(&command, 30, "the command ended", |r| {
            r["state"] != "queued" && r["state"] != "running"
        })
        .await;
    assert_eq!(r["run"]["state"], "failed", "{r:#}");
    assert_eq!(r["run"]["exit_code"], 3, "{r:#}");
    assert_eq!(r["run"]["trigger"], "command", "{r:#}");
    let lines: Vec<&str> = r["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_str().unwrap())
        .collect();
    assert!(lines.contains(&"hello from the env"), "{lines:?}");
    assert!(
        lines.contains(&"hello from berth"),
        "reached the service by name: {lines:?}"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action IN ('service.command', 'job.run')",
    )
    .fetch_one(&api.server.pool)
    .await
    .unwrap();
    assert_eq!(audited, 2);
    // Job containers never count as replicas: still one, and the worker left it alone.
    assert_eq!(
        api.service(&id).await["containers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn output_line(e: &StreamEvent) -> Option<String> {
    (e.event == "log").then(|| {
        serde_json::from_str::<Value>(&e.data).unwrap()["line"]
            .as_str()
            .unwrap()
            .to_owned()
    })
}

#[sqlx::test(migrations = false)]
async fn a_commands_output_streams_line_by_line_while_it_runs(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let id = api.create(api.spec("web")).await;
    api.running(&id, 1).await;
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/services/{id}/commands"),
            Some(json!({"command": [BUSYBOX, "sh", "-c", "echo one; sleep 3; echo two"]})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let run = body["id"].as_str().unwrap().to_owned();
    let url = api
        .server
        .url(&format!("/api/v1/job-runs/{run}/output/stream"));
    let mut stream = EventReader::open(&api.client, &url).await.unwrap();

    // The first line arrives while the command still sleeps before the second.
    let first = stream
        .until(Duration::from_secs(30), |e| e.event == "log")
        .await
        .expect("the first line");
    let seen = Instant::now();
    assert_eq!(output_line(&first).as_deref(), Some("one"), "{first:?}");
    assert!(first.data.contains("stdout"), "{first:?}");
    let now = api.run_with_log(&run).await;
    assert_eq!(now["run"]["state"], "running", "{now:#}");
    let second = stream
        .next(Duration::from_secs(10))
        .await
        .expect("the second line");
    assert_eq!(output_line(&second).as_deref(), Some("two"), "{second:?}");
    assert!(
        seen.elapsed() > Duration::from_secs(1),
        "'two' comes after the sleep, not with 'one': {:?}",
        seen.elapsed()
    );
    // Then the end, with the run's state, and the stream closes.
    let end = stream.next(Duration::from_secs(10)).await.expect("the end");
    assert_eq!(end.event, "end", "{end:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&end.data).unwrap()["state"],
        "succeeded"
    );
    assert!(stream.ends_within(Duration::from_secs(5)).await);

    // A reader that has the first line gets the rest (and the end) at once.
    let mut rest = EventReader::open(&api.client, &format!("{url}?after=1"))
        .await
        .unwrap();
    let line = rest.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(output_line(&line).as_deref(), Some("two"), "{line:?}");
    assert_eq!(
        rest.next(Duration::from_secs(5)).await.unwrap().event,
        "end"
    );
    let r = api
        .client
        .get(format!("{url}?after=-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[sqlx::test(migrations = false)]
async fn berth_restarted_during_runs_leaves_none_running(pool: PgPool) {
    let mut api = Api::start(pool, quick_worker()).await;
    let id = api.create(api.spec("web")).await;
    api.running(&id, 1).await;
    let job = create_job(
        &api,
        &id,
        json!({"name": "short", "schedule": "0 0 1 1 *", "command": [BUSYBOX, "sh", "-c", "/bin/busybox sleep 4; echo done"], "timeout_s": 60}),
    )
    .await;
    let survivor = run_now(&api, job["id"].as_str().unwrap()).await;
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/services/{id}/commands"),
            Some(json!({"command": [BUSYBOX, "sleep", "300"]})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let lost = body["id"].as_str().unwrap().to_owned();
    let lost_container = running_container(&lost).await;
    running_container(&survivor).await;
    // Berth goes away; meanwhile the long command's container is removed by hand.
    api.server.restart_worker(quick_worker());
    docker(&["rm", "-f", &lost_container]);

    let r = api
        .until_run(&survivor, 60, "the survivor finished", |r| {
            r["state"] != "running"
        })
        .await;
    assert_eq!(
        r["run"]["state"], "succeeded",
        "watched again after the restart: {r:#}"
    );
    assert_eq!(r["run"]["exit_code"], 0, "{r:#}");
    let r = api
        .until_run(&lost, 60, "the lost run closed", |r| {
            r["state"] != "running"
        })
        .await;
    assert_eq!(r["run"]["state"], "interrupted", "{r:#}");
    assert_eq!(r["run"]["reason"], "interrupted: berth restarted", "{r:#}");
    assert!(run_containers(&api.server.instance).is_empty());
}

/// Deleting a service takes its running job and command runs with it: their containers
/// are stopped and removed before its volumes go (so a volume they mount is deleted too),
/// and none is left once the service is gone.
#[sqlx::test(migrations = false)]
async fn deleting_a_service_stops_and_removes_its_running_runs(pool: PgPool) {
    let api = pg::ApiWithVolumes::start(pool, quick_worker(), vec!["jobdata"]).await;
    let team = api.cleanup.team;
    let mut spec = api.spec("web");
    spec["volumes"] = json!([{"name": "jobdata", "path": "/data"}]);
    let id = api.create(spec).await;
    api.running(&id, 1).await;
    let job = create_job(
        &api,
        &id,
        json!({"name": "long", "schedule": "0 0 1 1 *", "command": [BUSYBOX, "sleep", "300"],
               "timeout_s": 600}),
    )
    .await;
    let from_job = run_now(&api, job["id"].as_str().unwrap()).await;
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/services/{id}/commands"),
            Some(json!({"command": [BUSYBOX, "sleep", "300"], "timeout_s": 600})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    running_container(&from_job).await;
    running_container(body["id"].as_str().unwrap()).await;
    assert_eq!(run_containers(&api.server.instance).len(), 2);
    assert!(pg::volume_exists(team, "jobdata"));

    let (status, body) = api
        .call(
            Method::DELETE,
            &format!("/api/v1/services/{id}?volumes=delete"),
            None,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    api.until(&id, 60, "the service deleted", |v| {
        v["error"] == "not_found"
    })
    .await;
    assert_eq!(
        run_containers(&api.server.instance),
        Vec::<String>::new(),
        "no run container left behind"
    );
    assert!(
        !pg::volume_exists(team, "jobdata"),
        "the volume the runs mounted is deleted with the service"
    );
}

#[sqlx::test(migrations = false)]
async fn forbid_skips_a_due_run_while_one_still_runs(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let id = api.create(api.spec("web")).await;
    api.running(&id, 1).await;
    let job = create_job(
        &api,
        &id,
        json!({"name": "long", "schedule": "* * * * *", "command": [BUSYBOX, "sleep", "300"],
               "timeout_s": 200, "concurrency": "forbid"}),
    )
    .await;
    let job_id = job["id"].as_str().unwrap();
    let first = run_now(&api, job_id).await;
    running_container(&first).await;
    // The next minute falls due while it runs (≤ 65 s).
    let start = Instant::now();
    let skipped = loop {
        let list = runs(&api, job_id).await;
        if let Some(r) = list.iter().find(|r| r["trigger"] == "schedule") {
            break r.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(65),
            "no scheduled run: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(skipped["state"], "skipped", "{skipped:#}");
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("still running"),
        "{skipped:#}"
    );
    assert_eq!(api.run_with_log(&first).await["run"]["state"], "running");
    // Deleting the job stops its run's container.
    let (status, _) = api
        .call(Method::DELETE, &format!("/api/v1/jobs/{job_id}"), None)
        .await;
    assert_eq!(status, 204);
    let start = Instant::now();
    while !run_containers(&api.server.instance).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the deleted job's run still has a container"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[sqlx::test(migrations = false)]
async fn bad_input_names_the_field_and_another_teams_job_is_not_found(pool: PgPool) {
    let server = common::TestServer::start(pool).await;
    let client = server.owner().await;
    let r = client
        .post(server.url("/api/v1/services"))
        .json(&json!({"name": "web", "image": "nginx"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = |body: Value| {
        client
            .post(server.url(&format!("/api/v1/services/{id}/jobs")))
            .json(&body)
            .send()
    };
    for (body, field) in [
        (
            json!({"name": "x", "schedule": "61 * * * *", "command": ["true"]}),
            "schedule",
        ),
        (
            json!({"name": "x", "schedule": "* * * *", "command": ["true"]}),
            "schedule",
        ),
        (
            json!({"name": "x", "schedule": "* * * * *", "command": []}),
            "command",
        ),
        (
            json!({"name": "x", "schedule": "* * * * *", "command": ["true"], "timeout_s": 0}),
            "timeout_s",
        ),
        (
            json!({"name": "No Good", "schedule": "* * * * *", "command": ["true"]}),
            "name",
        ),
    ] {
        let r = post(body.clone()).await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["fields"][0]["field"], field, "{answer:#}");
    }
    assert_eq!(server.count("jobs").await, 0, "nothing was saved");

    // The job form as the page's script posts it, with a choice its selects do not offer:
    // 422 naming the field, never read as the default; nothing saved.
    let owner = Caller::Cookie(client.clone());
    for (concurrency, missed_runs, named) in [
        ("sometimes", "skip", "Concurrency"),
        ("forbid", "often", "Missed runs"),
    ] {
        let form = [
            ("service", id.as_str()),
            ("name", "nightly"),
            ("schedule", "30 2 * * *"),
            ("command", "/bin/true\n"),
            ("timeout_s", "60"),
            ("concurrency", concurrency),
            ("missed_runs", missed_runs),
        ];
        let (status, body) = server_fn(&server, &owner, "save_job", &form).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains(named), "{body}");
    }
    assert_eq!(server.count("jobs").await, 0, "nothing was saved");

    // The service page's form without JavaScript: a wrong schedule comes back to the page
    // saying why; a good one is saved and the page lists its next five runs and the zone.
    let service_page = format!("/services/{id}");
    let form_post = async |schedule: &str| {
        let fields = [
            ("command", "/bin/true\n"),
            ("timeout_s", "60"),
            ("concurrency", "forbid"),
            ("missed_runs", "skip"),
        ];
        let at = ("/api/save_job", service_page.as_str());
        post_job_form(&server, &client, at, (id.as_str(), schedule), &fields).await
    };
    let r = form_post("99 * * * *").await;
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("/services/{id}?job_error=")),
        "{back}"
    );
    assert!(back.contains("Schedule"), "{back}");
    assert_eq!(server.count("jobs").await, 0);
    let r = form_post("30 2 * * *").await;
    assert_eq!(
        r.headers()["location"],
        format!("/services/{id}#jobs").as_str()
    );
    let page = server.page(&client, &format!("/services/{id}")).await;
    assert!(
        page.contains(r#"id="next-runs-nightly""#),
        "the jobs card lists the job"
    );
    assert_eq!(
        page.matches("T02:30:00+00:00</time>").count(),
        5,
        "five next runs at 02:30 UTC"
    );
    assert!(
        page.contains(r#"id="jobs-time-zone">UTC<"#),
        "the zone is named"
    );

    // Its edit form (Edit is a link, so this works without JavaScript): the job's fields
    // and its next runs; a wrong schedule comes back to the same form saying why and
    // changes nothing; a good change is saved and audited like `PUT /api/v1/jobs/{id}`.
    let job: uuid::Uuid = sqlx::query_scalar("SELECT id FROM jobs WHERE name = 'nightly'")
        .fetch_one(&server.pool)
        .await
        .unwrap();
    let page = server
        .page(&client, &format!("/services/{id}?edit={job}"))
        .await;
    assert!(page.contains(r#"id="job-edit-form""#), "the edit form");
    assert!(page.contains(r#"value="30 2 * * *""#), "its schedule");
    assert!(page.contains(r#"id="job-edit-next-runs""#), "its next runs");
    assert_eq!(page.matches("T02:30:00+00:00</time>").count(), 10);
    let (job_id, edit_page) = (job.to_string(), format!("/services/{id}?edit={job}"));
    let edit_post = async |schedule: &str| {
        let fields = [
            ("id", job_id.as_str()),
            ("command", "/bin/echo\nhi\n"),
            ("timeout_s", "90"),
            ("concurrency", "replace"),
            ("missed_runs", "run_once"),
            ("enabled", "false"),
        ];
        let at = ("/api/update_job", edit_page.as_str());
        post_job_form(&server, &client, at, (id.as_str(), schedule), &fields).await
    };
    let r = edit_post("30 25 * * *").await;
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("/services/{id}?edit={job}&job_error=")),
        "{back}"
    );
    assert!(back.contains("Schedule"), "{back}");
    let unchanged: Value = client
        .get(server.url(&format!("/api/v1/jobs/{job}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["schedule"], "30 2 * * *", "{unchanged:#}");
    let form = [
        ("id", job_id.as_str()),
        ("service", id.as_str()),
        ("name", "nightly"),
        ("schedule", "15 4 * * *"),
        ("command", "/bin/true\n"),
        ("timeout_s", "60"),
        ("concurrency", "replace"),
        ("missed_runs", "sometimes"),
    ];
    let (status, body) = server_fn(&server, &owner, "update_job", &form).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("Missed runs"), "{body}");
    let r = edit_post("15 4 * * *").await;
    assert_eq!(
        r.headers()["location"],
        format!("/services/{id}#jobs").as_str()
    );
    let changed: Value = client
        .get(server.url(&format!("/api/v1/jobs/{job}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(changed["schedule"], "15 4 * * *", "{changed:#}");
    assert_eq!(
        changed["command"],
        json!(["/bin/echo", "hi"]),
        "{changed:#}"
    );
    assert_eq!(changed["timeout_s"], 90, "{changed:#}");
    assert_eq!(changed["concurrency"], "replace", "{changed:#}");
    assert_eq!(changed["enabled"], false, "{changed:#}");
    assert_eq!(changed["next_runs"], json!([]), "none while disabled");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'job.update'")
            .fetch_one(&server.pool)
            .await
            .unwrap();
    assert_eq!(
        audited, 1,
        "the refused edit is not audited, the saved one is"
    );
    let page = server.page(&client, &format!("/services/{id}")).await;
    assert!(
        page.contains("disabled: runs only when started"),
        "the list says so"
    );
    sqlx::query("DELETE FROM jobs")
        .execute(&server.pool)
        .await
        .unwrap();

    let (team_b, their_service) = other_teams_service(&server.pool, "theirs").await;
    let input = serde_json::from_value(
        json!({"name": "theirs", "schedule": "* * * * *", "command": ["true"]}),
    )
    .unwrap();
    let theirs = app::store::jobs::create(
        &server.pool,
        app::store::audit::Actor::worker(team_b),
        their_service,
        &input,
    )
    .await
    .unwrap()
    .id;
    for (method, path) in [
        (Method::GET, format!("/api/v1/jobs/{theirs}")),
        (Method::DELETE, format!("/api/v1/jobs/{theirs}")),
        (Method::POST, format!("/api/v1/jobs/{theirs}/run")),
        (Method::GET, format!("/api/v1/jobs/{theirs}/runs")),
        (
            Method::GET,
            format!("/api/v1/services/{their_service}/jobs"),
        ),
        (
            Method::POST,
            format!("/api/v1/services/{their_service}/commands"),
        ),
    ] {
        let r = client
            .request(method.clone(), server.url(&path))
            .json(&json!({"command": ["true"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
    }
    assert_eq!(server.count("job_runs").await, 0);
}
