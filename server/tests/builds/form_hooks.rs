//! GitHub's default webhook content type, `application/x-www-form-urlencoded` with the
//! event's JSON in a `payload` field: the signature is checked over the raw form, then the
//! payload is read exactly as a JSON delivery; any other content type answers 415.

use crate::common::api::Api;
use crate::common::git_repo::{dockerfile, Repo};
use crate::common::quick_worker;
use crate::fixtures::{
    deliver, deliver_as, finished, git_spec, push_body, rotate, served, BuiltImages, Hook,
};
use server::build::signature::sign;
use sqlx::PgPool;

const FORM: &str = "application/x-www-form-urlencoded";

/// The body GitHub sends for a webhook whose content type is the form: `payload=<json>`.
fn form(json: &[u8]) -> Vec<u8> {
    let json = std::str::from_utf8(json).unwrap();
    serde_urlencoded::to_string([("payload", json)])
        .unwrap()
        .into_bytes()
}

#[sqlx::test(migrations = false)]
async fn a_form_encoded_github_push_builds_and_other_content_types_answer_415(pool: PgPool) {
    let _images = BuiltImages("formhook");
    let api = Api::start(pool.clone(), quick_worker()).await;
    let repo = Repo::new();
    repo.commit("main", "first\n", &dockerfile(""), "First");
    let id = api.create(git_spec("formhook", &repo, "main")).await;
    assert_eq!(finished(&api, &id, 1, 120).await["state"], "succeeded");
    let secret = rotate(&api, &id).await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deployments")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = count().await;
    let as_form = Hook {
        provider: "github",
        id: &id,
        secret: &secret,
        content_type: FORM,
    };

    // The ping GitHub sends when the webhook is added answers as a JSON ping does.
    let ping = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let (s, json_ping) = deliver(&api, "github", &id, &secret, "ping", "p1", ping.to_vec()).await;
    let (s2, form_ping) = deliver_as(&api, &as_form, "ping", "p2", form(ping)).await;
    assert_eq!((s, s2), (200, 200), "{json_ping} {form_ping}");
    assert_eq!(form_ping, json_ping);

    // Any other content type: 415, naming the one to choose; for the ping too.
    for event in ["ping", "push"] {
        let plain = Hook {
            content_type: "text/plain",
            ..as_form
        };
        let (s, a) = deliver_as(&api, &plain, event, "t1", ping.to_vec()).await;
        assert_eq!(s, 415, "{event}: {a}");
        assert!(
            a["error"].as_str().unwrap().contains("application/json"),
            "{a}"
        );
    }

    // A form signed with the wrong secret is refused as a JSON body is.
    let sha = repo.commit("main", "second\n", &dockerfile(""), "Second");
    let body = form(&push_body("github", "main", &sha, "Second"));
    let wrong = Hook {
        secret: "not the secret",
        ..as_form
    };
    assert_eq!(
        deliver_as(&api, &wrong, "push", "w1", body.clone()).await.0,
        401
    );
    let resigned = reqwest::Client::new()
        .post(api.server.url(&format!("/hooks/github/{id}")))
        .header("content-type", FORM)
        .header("x-github-event", "push")
        .header("x-hub-signature-256", sign(&secret, b"payload=%7B%7D"))
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(resigned, 401, "the signature covers the raw form");
    assert_eq!(count().await, before, "nothing was queued");

    // Signed correctly: the push builds and rolls out the pushed commit.
    let (s, a) = deliver_as(&api, &as_form, "push", "f1", body).await;
    assert_eq!(s, 202, "{a}");
    assert_eq!(a["commit"], sha.as_str());
    let number = a["number"].as_i64().unwrap();
    let d = finished(&api, &id, number, 120).await;
    assert_eq!(d["state"], "succeeded", "{d:#}");
    assert_eq!(d["commit"]["sha"], sha.as_str());
    assert_eq!(served(&api, &id).await, "second\n");
}
