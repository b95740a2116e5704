//! Webhook requests that must not build: bad or missing signatures, unknown forges and
//! services, pushes with nothing to build, malformed and oversized bodies, old secrets,
//! image services and another team's service. Each queues nothing.

use crate::common::api::Api;
use crate::common::git_repo::{dockerfile, Repo};
use crate::common::quick_worker;
use crate::fixtures::{deliver, finished, git_spec, push_body, rotate, BuiltImages};
use serde_json::{json, Value};
use server::build::signature::sign;
use sqlx::PgPool;
use std::time::Instant;

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
    // A new commit (the first one is live: pushing it again builds nothing).
    let second = repo.commit("main", "hello again\n", &dockerfile(""), "Second");
    let started = Instant::now();
    let (s, a) = deliver(
        &api,
        "github",
        &id,
        &new_secret,
        "push",
        "d12",
        push_body("github", "main", &second, "Second"),
    )
    .await;
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
        git_local_root: Some(&crate::common::local_git_root()),
    };
    let theirs = app::commands::service::create(deps, &caller, None, spec)
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
