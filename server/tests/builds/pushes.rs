//! Pushes from each forge build and roll out the pushed commit; rollback brings an earlier
//! build back without building; "deploy now" builds the branch head.

use crate::common::api::Api;
use crate::common::git_repo::{dockerfile, Repo};
use crate::common::quick_worker;
use crate::fixtures::{
    deliver, deployments, finished, git_spec, push_body, rotate, served, BuiltImages, BRANCH,
};
use serde_json::json;
use sqlx::PgPool;

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

/// GitHub does not sign the delivery id: a captured push re-sent under a new id must not
/// build its commit again, neither while it is being built nor once it is live.
#[sqlx::test(migrations = false)]
async fn a_push_resent_under_a_new_delivery_id_builds_nothing(pool: PgPool) {
    let _images = BuiltImages("replayed");
    let api = Api::start(pool, quick_worker()).await;
    let repo = Repo::new();
    repo.commit(BRANCH, "version A\n", &dockerfile(""), "Version A");
    let id = api.create(git_spec("replayed", &repo, BRANCH)).await;
    assert_eq!(finished(&api, &id, 1, 120).await["state"], "succeeded");
    let secret = rotate(&api, &id).await;

    let b = repo.commit(BRANCH, "version B\n", &dockerfile(""), "Version B");
    let payload = push_body("github", BRANCH, &b, "Version B");
    let (status, first) = deliver(
        &api,
        "github",
        &id,
        &secret,
        "push",
        "first-id",
        payload.clone(),
    )
    .await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["number"], 2);

    // The same signed body under another delivery id while B is built or rolled out.
    let (status, again) = deliver(
        &api,
        "github",
        &id,
        &secret,
        "push",
        "second-id",
        payload.clone(),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    let why = again["ignored"].as_str().unwrap_or_default();
    assert!(why.contains(&b[..7]) && why.contains("already"), "{again}");
    assert_eq!(
        deployments(&api, &id).await.len(),
        2,
        "no second build was queued"
    );

    // And once B is live.
    assert_eq!(finished(&api, &id, 2, 120).await["state"], "succeeded");
    let (status, late) = deliver(&api, "github", &id, &secret, "push", "third-id", payload).await;
    assert_eq!(status, 200, "{late}");
    assert!(
        late["ignored"]
            .as_str()
            .unwrap_or_default()
            .contains("already live"),
        "{late}"
    );
    assert_eq!(
        deployments(&api, &id).await.len(),
        2,
        "no build after it went live"
    );
    assert_eq!(served(&api, &id).await, "version B\n");
}
