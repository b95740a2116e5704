//! Push to deploy against real git, the real Docker engine and Postgres: signed webhooks
//! from GitHub, GitLab and Gitea build the pushed commit and roll it out; rollback brings
//! an earlier build back; every bad request is refused and queues nothing.

mod common;

use common::api::Api;
use common::git_repo::{dockerfile, Repo};
use common::quick_worker;
use serde_json::{json, Value};
use server::build::signature::sign;
use sqlx::PgPool;
use std::time::{Duration, Instant};

const BRANCH: &str = "feat/#12";

fn git_spec(name: &str, repo: &Repo, branch: &str) -> Value {
    json!({
        "name": name,
        "git": { "repo": repo.url(), "branch": branch },
        "health_check": {
            "probe": { "kind": "http", "path": "/index.html", "port": 8080 },
            "interval_s": 1, "timeout_s": 1, "retries": 1
        }
    })
}

/// The push payload each forge sends (the fields Berth reads, in their real shape).
fn push_body(provider: &str, branch: &str, sha: &str, message: &str) -> Vec<u8> {
    let commit = json!({ "id": sha, "message": message, "author": { "name": "Ada Lovelace", "email": "ada@example.com" } });
    let body = match provider {
        "github" => json!({
            "ref": format!("refs/heads/{branch}"), "before": "0".repeat(40), "after": sha,
            "created": false, "deleted": false, "forced": false,
            "repository": { "full_name": "acme/app" }, "pusher": { "name": "ada" },
            "head_commit": commit, "commits": [commit]
        }),
        "gitlab" => json!({
            "object_kind": "push", "event_name": "push", "ref": format!("refs/heads/{branch}"),
            "before": "0".repeat(40), "after": sha, "checkout_sha": sha, "user_name": "Ada Lovelace",
            "project": { "path_with_namespace": "acme/app" }, "commits": [commit], "total_commits_count": 1
        }),
        _ => json!({
            "ref": format!("refs/heads/{branch}"), "before": "0".repeat(40), "after": sha,
            "compare_url": "", "commits": [commit], "head_commit": commit,
            "repository": { "full_name": "acme/app" }, "pusher": { "login": "ada" }
        }),
    };
    serde_json::to_vec(&body).unwrap()
}

/// Sends a webhook as the forge would: its event, delivery and signature headers.
async fn deliver(
    api: &Api,
    provider: &str,
    id: &str,
    secret: &str,
    event: &str,
    delivery: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(api.server.url(&format!("/hooks/{provider}/{id}")))
        .header("content-type", "application/json");
    req = match provider {
        "github" => req
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .header("x-hub-signature-256", sign(secret, &body)),
        "gitlab" => req
            .header("x-gitlab-event", event)
            .header("x-gitlab-event-uuid", delivery)
            .header("x-gitlab-token", secret),
        _ => req
            .header("x-gitea-event", event)
            .header("x-gitea-delivery", delivery)
            .header(
                "x-gitea-signature",
                sign(secret, &body).trim_start_matches("sha256="),
            ),
    };
    let r = req.body(body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn rotate(api: &Api, id: &str) -> String {
    let (status, body) = api.act(id, "webhook/rotate", None).await;
    assert_eq!(status, 200, "{body}");
    body["secret"].as_str().unwrap().to_owned()
}

async fn deployments(api: &Api, id: &str) -> Vec<Value> {
    let (_, body) = api
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/services/{id}/deployments"),
            None,
        )
        .await;
    body.as_array().unwrap().clone()
}

/// Waits until deployment `number` has ended, and returns it.
async fn finished(api: &Api, id: &str, number: i64, secs: u64) -> Value {
    let start = Instant::now();
    loop {
        let list = deployments(api, id).await;
        let d = list.iter().find(|d| d["number"] == number).cloned();
        if let Some(d) = d.filter(|d| {
            !matches!(
                d["state"].as_str(),
                Some("queued" | "building" | "pending" | "in_progress")
            )
        }) {
            return d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "deployment #{number} did not finish in {secs} s: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What the live replica answers on `/`.
async fn served(api: &Api, id: &str) -> String {
    let view = api.running(id, 1).await;
    let ip = view["containers"][0]["ip"].as_str().unwrap();
    reqwest::Client::new()
        .get(format!("http://{ip}:8080/"))
        .timeout(Duration::from_secs(3))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Removes the images built for a service when dropped: declared before the server, it is
/// dropped after it, once no container uses them.
struct BuiltImages(&'static str);

impl Drop for BuiltImages {
    fn drop(&mut self) {
        let reference = format!("reference=berth/engines/{}", self.0);
        let out = std::process::Command::new("docker")
            .args(["images", "-q", "--filter", &reference])
            .output()
            .unwrap();
        for image in String::from_utf8_lossy(&out.stdout).lines() {
            let _ = std::process::Command::new("docker")
                .args(["rmi", "-f", image])
                .output();
        }
    }
}

#[sqlx::test(migrations = false)]
async fn pushes_from_each_forge_build_and_roll_out_and_rollback_brings_a_back(pool: PgPool) {
    let _images = BuiltImages("pushed");
    let api = Api::start(pool, quick_worker()).await;
    let repo = Repo::new();
    let a = repo.commit(BRANCH, "version A\n", &dockerfile(""), "Version A");
    let id = api.create(git_spec("pushed", &repo, BRANCH)).await;

    // Creating it builds the head of the branch: A.
    let first = finished(&api, &id, 1, 120).await;
    assert_eq!(first["state"], "succeeded", "{first:#}");
    assert_eq!(first["commit"]["sha"], a.as_str());
    assert_eq!(
        first["spec"]["image"],
        format!("berth/engines/pushed:{}", &a[..12])
    );
    assert_eq!(served(&api, &id).await, "version A\n");

    let secret = rotate(&api, &id).await;
    let mut number = 1;
    for (provider, event, body) in [
        ("github", "push", "version B\n"),
        ("gitlab", "Push Hook", "version C\n"),
        ("gitea", "push", "version D\n"),
    ] {
        let message = format!("Deploy {body}from {provider}");
        let sha = repo.commit(BRANCH, body, &dockerfile(""), &message);
        let delivery = uuid::Uuid::new_v4().to_string();
        let payload = push_body(provider, BRANCH, &sha, &message);
        let (status, answer) = deliver(
            &api,
            provider,
            &id,
            &secret,
            event,
            &delivery,
            payload.clone(),
        )
        .await;
        assert_eq!(status, 202, "{provider}: {answer}");
        number += 1;
        assert_eq!(answer["number"], number);
        // The forge retries the same delivery: nothing more is queued.
        let (status, again) =
            deliver(&api, provider, &id, &secret, event, &delivery, payload).await;
        assert_eq!(status, 200, "{again}");
        assert!(again["ignored"]
            .as_str()
            .unwrap()
            .contains("already received"));

        let d = finished(&api, &id, number, 120).await;
        assert_eq!(d["state"], "succeeded", "{provider}: {d:#}");
        assert_eq!(d["trigger"], "webhook");
        assert_eq!(d["provider"], provider);
        assert_eq!(d["commit"]["sha"], sha.as_str());
        assert_eq!(d["commit"]["author"], "Ada Lovelace");
        assert_eq!(d["commit"]["message"], message.as_str());
        assert_eq!(served(&api, &id).await, body);
    }
    assert_eq!(
        deployments(&api, &id).await.len(),
        4,
        "one build per delivery"
    );
    // How long a push takes to be built and to go live (printed, not asserted).
    for d in deployments(&api, &id).await {
        let at =
            |field: &str| chrono::DateTime::parse_from_rfc3339(d[field].as_str().unwrap()).unwrap();
        let queued = at("created_at");
        let (built, live) = (at("build_finished_at"), at("finished_at"));
        println!(
            "deployment #{} ({}): queued → built {:.1} s, → live {:.1} s",
            d["number"],
            d["trigger"],
            (built - queued).num_milliseconds() as f64 / 1000.0,
            (live - queued).num_milliseconds() as f64 / 1000.0
        );
    }

    // The build log is in the deployment's log, with the build step.
    let latest = deployments(&api, &id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let log = api.deployment_log(&latest).await;
    assert!(log.iter().any(|l| l.contains("Checked out")), "{log:#?}");
    assert!(
        log.iter()
            .any(|l| l.starts_with("Built berth/engines/pushed:")),
        "{log:#?}"
    );

    // Roll back to A: its image is still kept, so no build runs.
    let (status, body) = api
        .act(&id, "rollback", Some(json!({ "deployment": 1 })))
        .await;
    assert_eq!(status, 202, "{body}");
    let back = finished(&api, &id, 5, 60).await;
    assert_eq!(back["state"], "succeeded", "{back:#}");
    assert_eq!(back["trigger"], "rollback");
    assert_eq!(served(&api, &id).await, "version A\n");

    // "Deploy now" builds the branch head again (D), and Redeploy keeps its image.
    let (status, body) = api.act(&id, "deploy", None).await;
    assert_eq!(status, 202, "{body}");
    let now = finished(&api, &id, 6, 120).await;
    assert_eq!(now["state"], "succeeded", "{now:#}");
    assert_eq!(now["trigger"], "deploy");
    assert_eq!(served(&api, &id).await, "version D\n");
}

#[sqlx::test(migrations = false)]
async fn bad_webhook_requests_are_refused_and_queue_nothing(pool: PgPool) {
    let _images = BuiltImages("refused");
    let api = Api::start(pool.clone(), quick_worker()).await;
    let repo = Repo::new();
    let sha = repo.commit("main", "hello\n", &dockerfile(""), "First");
    let id = api.create(git_spec("refused", &repo, "main")).await;
    finished(&api, &id, 1, 120).await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deployments")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let body = || push_body("github", "main", &sha, "First");
    let before = count().await;

    // No secret generated yet: every request is refused.
    let (status, _) = deliver(&api, "github", &id, "guess", "push", "d0", body()).await;
    assert_eq!(status, 401);
    let secret = rotate(&api, &id).await;

    let url = api.server.url(&format!("/hooks/github/{id}"));
    let post = |headers: Vec<(&'static str, String)>, payload: Vec<u8>| {
        let mut req = reqwest::Client::new().post(url.clone());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move { req.body(payload).send().await.unwrap().status().as_u16() }
    };
    let ev = ("x-github-event", "push".to_owned());
    // Missing, wrong, SHA-1 only, signed with an empty secret, signed over another body.
    assert_eq!(post(vec![ev.clone()], body()).await, 401);
    let wrong = sign("not the secret", &body());
    assert_eq!(
        post(vec![ev.clone(), ("x-hub-signature-256", wrong)], body()).await,
        401
    );
    assert_eq!(
        post(
            vec![ev.clone(), ("x-hub-signature", "sha1=00".into())],
            body()
        )
        .await,
        401
    );
    let empty = sign("", &body());
    assert_eq!(
        post(vec![ev.clone(), ("x-hub-signature-256", empty)], body()).await,
        401
    );
    let other = sign(&secret, b"{}");
    assert_eq!(
        post(vec![ev.clone(), ("x-hub-signature-256", other)], body()).await,
        401
    );
    // GitLab: a token that is a prefix of the secret, or empty.
    let gl_url = api.server.url(&format!("/hooks/gitlab/{id}"));
    for token in [&secret[..secret.len() - 1], ""] {
        let status = reqwest::Client::new()
            .post(&gl_url)
            .header("x-gitlab-event", "Push Hook")
            .header("x-gitlab-token", token)
            .body(push_body("gitlab", "main", &sha, "x"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "token {token:?}");
    }
    // Unknown forge, unknown service: 404.
    assert_eq!(
        deliver(&api, "bitbucket", &id, &secret, "push", "d1", body())
            .await
            .0,
        404
    );
    let nobody = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        deliver(&api, "github", &nobody, &secret, "push", "d2", body())
            .await
            .0,
        404
    );

    // Signed, but nothing to build: other branch, tag, ping → 2xx with the reason.
    let (s, a) = deliver(
        &api,
        "github",
        &id,
        &secret,
        "push",
        "d3",
        push_body("github", "dev", &sha, "x"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        a["ignored"].as_str().unwrap().contains("refs/heads/dev"),
        "{a}"
    );
    let mut tag = serde_json::from_slice::<Value>(&body()).unwrap();
    tag["ref"] = json!("refs/tags/v1.0");
    let (s, a) = deliver(
        &api,
        "github",
        &id,
        &secret,
        "push",
        "d4",
        serde_json::to_vec(&tag).unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert!(a["ignored"].as_str().unwrap().contains("tag"), "{a}");
    let (s, a) = deliver(
        &api,
        "github",
        &id,
        &secret,
        "ping",
        "d5",
        br#"{"zen":"hi"}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 200);
    assert!(a["ignored"].as_str().unwrap().contains("ping"), "{a}");
    let (s, a) = deliver(&api, "gitlab", &id, &secret, "Tag Push Hook", "d6", body()).await;
    assert_eq!(s, 200, "{a}");

    // Signed but malformed: not JSON, not a push, a commit id that is not hex.
    assert_eq!(
        deliver(
            &api,
            "github",
            &id,
            &secret,
            "push",
            "d7",
            b"{not json".to_vec()
        )
        .await
        .0,
        400
    );
    assert_eq!(
        deliver(
            &api,
            "github",
            &id,
            &secret,
            "push",
            "d8",
            b"[1,2]".to_vec()
        )
        .await
        .0,
        400
    );
    let not_hex = push_body("github", "main", "$(touch /tmp/berth-pwned)", "x");
    assert_eq!(
        deliver(&api, "github", &id, &secret, "push", "d9", not_hex)
            .await
            .0,
        400
    );

    // Too large: 413 before anything is believed.
    let mut huge = body();
    huge.resize(6 * 1024 * 1024, b' ');
    assert_eq!(
        deliver(&api, "github", &id, &secret, "push", "d10", huge)
            .await
            .0,
        413
    );

    assert_eq!(count().await, before, "nothing was queued");

    // A rotated secret replaces the old one.
    let new_secret = rotate(&api, &id).await;
    assert_ne!(new_secret, secret);
    assert_eq!(
        deliver(&api, "github", &id, &secret, "push", "d11", body())
            .await
            .0,
        401
    );
    let started = Instant::now();
    let (s, a) = deliver(&api, "github", &id, &new_secret, "push", "d12", body()).await;
    println!("a verified push was answered in {:?}", started.elapsed());
    assert_eq!(s, 202, "{a}");
    assert_eq!(count().await, before + 1);
    // An image service has no webhook.
    let image_service = api.create(api.spec("plain")).await;
    assert_eq!(
        deliver(
            &api,
            "github",
            &image_service,
            &new_secret,
            "push",
            "d13",
            body()
        )
        .await
        .0,
        404
    );
    assert_eq!(api.act(&image_service, "webhook/rotate", None).await.0, 422);
    assert!(!std::path::Path::new("/tmp/berth-pwned").exists());
    finished(&api, &id, 2, 120).await;
}

#[sqlx::test(migrations = false)]
async fn another_teams_git_service_answers_404_and_changes_nothing(pool: PgPool) {
    let api = Api::start(pool.clone(), quick_worker()).await;
    let team: uuid::Uuid =
        sqlx::query_scalar("INSERT INTO teams (name, slug) VALUES ('B', 'b') RETURNING id")
            .fetch_one(&pool)
            .await
            .unwrap();
    let repo = Repo::new();
    let spec = serde_json::from_value(git_spec("theirs", &repo, "main")).unwrap();
    let secrets = server::secrets::SecretBox::from_key_bytes(&[9u8; 32]).unwrap();
    let caller = app::commands::Caller {
        actor: app::store::audit::Actor::worker(team),
        role: app::domain::Role::Owner,
    };
    let deps = app::commands::Deps {
        pool: &pool,
        secrets: &secrets,
    };
    let theirs = app::commands::service::create(deps, &caller, spec)
        .await
        .unwrap()
        .to_string();
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM deployments")
        .fetch_one(&pool)
        .await
        .unwrap();
    let get = format!("/api/v1/services/{theirs}/webhook");
    assert_eq!(api.call(reqwest::Method::GET, &get, None).await.0, 404);
    assert_eq!(api.act(&theirs, "webhook/rotate", None).await.0, 404);
    assert_eq!(api.act(&theirs, "deploy", None).await.0, 404);
    let rollback = json!({ "deployment": 1 });
    assert_eq!(api.act(&theirs, "rollback", Some(rollback)).await.0, 404);
    let secret: Option<String> =
        sqlx::query_scalar("SELECT webhook_secret FROM services WHERE id = $1::uuid")
            .bind(&theirs)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(secret.is_none(), "no secret was generated for them");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM deployments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(after, before, "nothing was queued");
}

#[sqlx::test(migrations = false)]
async fn injection_attempts_are_refused_before_anything_runs(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let repo = Repo::new();
    let marker = std::env::temp_dir().join(format!("berth-injected-{}", uuid::Uuid::new_v4()));
    let m = marker.display().to_string();
    let branches = [
        format!("main; touch {m}"),
        format!("$(touch {m})"),
        "--upload-pack=x".to_owned(),
        "a..b".to_owned(),
        "`id`".to_owned(),
    ];
    for branch in branches {
        let (status, body) = api
            .call(
                reqwest::Method::POST,
                "/api/v1/services",
                Some(git_spec("inj", &repo, &branch)),
            )
            .await;
        assert_eq!(status, 422, "branch {branch:?}: {body}");
        assert_eq!(body["fields"][0]["field"], "git.branch", "{body}");
    }
    for url in [
        format!("ext::sh -c touch% {m}"),
        "-oProxyCommand=x".to_owned(),
        "--upload-pack=touch /tmp/x".to_owned(),
        "fd::17".to_owned(),
    ] {
        let mut spec = git_spec("inj", &repo, "main");
        spec["git"]["repo"] = json!(url);
        let (status, body) = api
            .call(reqwest::Method::POST, "/api/v1/services", Some(spec))
            .await;
        assert_eq!(status, 422, "repo {url:?}: {body}");
        assert_eq!(body["fields"][0]["field"], "git.repo", "{body}");
    }
    let mut spec = git_spec("inj", &repo, "main");
    spec["git"]["context"] = json!("../../etc");
    let (status, _) = api
        .call(reqwest::Method::POST, "/api/v1/services", Some(spec))
        .await;
    assert_eq!(status, 422);
    // Images under berth/ are Berth's own builds: no image service may name one.
    let mut spec = api.spec("thief");
    spec["image"] = json!("berth/other/app:0123456789ab");
    assert_eq!(
        api.call(reqwest::Method::POST, "/api/v1/services", Some(spec))
            .await
            .0,
        422
    );
    let (_, list) = api
        .call(reqwest::Method::GET, "/api/v1/services", None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing was created");
    assert!(!marker.exists(), "nothing ran");
}

#[sqlx::test(migrations = false)]
async fn a_failing_build_keeps_the_running_version_and_says_why(pool: PgPool) {
    let _images = BuiltImages("broken");
    let api = Api::start(pool, quick_worker()).await;
    let repo = Repo::new();
    repo.commit("main", "good\n", &dockerfile(""), "Good");
    let id = api.create(git_spec("broken", &repo, "main")).await;
    assert_eq!(finished(&api, &id, 1, 120).await["state"], "succeeded");
    assert_eq!(served(&api, &id).await, "good\n");

    repo.commit(
        "main",
        "bad\n",
        &dockerfile("RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo compiling; exit 3\"]\n"),
        "Break the build",
    );
    let (status, _) = api.act(&id, "deploy", None).await;
    assert_eq!(status, 202);
    let failed = finished(&api, &id, 2, 120).await;
    assert_eq!(failed["state"], "failed", "{failed:#}");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("could not build"),
        "{failed:#}"
    );
    let log = api.deployment_log(failed["id"].as_str().unwrap()).await;
    assert!(
        log.iter().any(|l| l.contains("compiling")),
        "the build output is kept: {log:#?}"
    );
    let view = api.service(&id).await;
    assert_eq!(view["live_deployment"], 1);
    assert_eq!(
        served(&api, &id).await,
        "good\n",
        "the old version keeps serving"
    );
}

#[sqlx::test(migrations = false)]
async fn retention_removes_old_images_which_then_cannot_be_rolled_back_to(pool: PgPool) {
    let _images = BuiltImages("kept");
    let mut settings = quick_worker();
    settings.build.keep_images = 1;
    let api = Api::start(pool, settings).await;
    let repo = Repo::new();
    let a = repo.commit("main", "A\n", &dockerfile(""), "A");
    let id = api.create(git_spec("kept", &repo, "main")).await;
    assert_eq!(finished(&api, &id, 1, 120).await["state"], "succeeded");
    for (n, body) in [(2, "B\n"), (3, "C\n")] {
        repo.commit("main", body, &dockerfile(""), body.trim());
        assert_eq!(api.act(&id, "deploy", None).await.0, 202);
        assert_eq!(finished(&api, &id, n, 120).await["state"], "succeeded");
    }
    // Kept: the live one when C was built (B), and C. A's image is gone.
    let list = deployments(&api, &id).await;
    let removed: Vec<bool> = list
        .iter()
        .map(|d| d["image_removed"].as_bool().unwrap())
        .collect();
    assert_eq!(removed, [false, false, true], "newest first: {list:#?}");
    let a_image = format!("berth/engines/kept:{}", &a[..12]);
    assert!(!api.server.engine.image_exists(&a_image).await.unwrap());
    let (status, body) = api
        .act(&id, "rollback", Some(json!({ "deployment": 1 })))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("image retention"),
        "{body}"
    );
    assert_eq!(deployments(&api, &id).await.len(), 3, "nothing was queued");

    // The service page shows the source, the webhook URLs and the history.
    let page = api
        .server
        .page(&api.client, &format!("/services/{id}"))
        .await;
    for expected in [
        "Git source",
        "Push webhook",
        &format!("/hooks/github/{id}"),
        &format!("/hooks/gitlab/{id}"),
        "(image removed)",
        "deploy now",
    ] {
        assert!(page.contains(expected), "page lacks {expected:?}");
    }
}
