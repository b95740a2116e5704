//! What the push-to-deploy tests share: a git service's spec, a forge's push delivery,
//! waiting for a deployment to end, what the live replica serves, and removing the images
//! a test built.

use crate::common::api::Api;
use crate::common::git_repo::Repo;
use serde_json::{json, Value};
use server::build::signature::sign;
use std::time::{Duration, Instant};

/// The branch the pushes go to (a `/` and a `#` in it, as real branches have).
pub const BRANCH: &str = "feat/#12";

/// A service built from `branch` of `repo`, with an HTTP health check on port 8080.
pub fn git_spec(name: &str, repo: &Repo, branch: &str) -> Value {
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
pub fn push_body(provider: &str, branch: &str, sha: &str, message: &str) -> Vec<u8> {
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

/// Sends a JSON webhook as the forge would: its event, delivery and signature headers.
pub async fn deliver(
    api: &Api,
    provider: &str,
    id: &str,
    secret: &str,
    event: &str,
    delivery: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let hook = Hook {
        provider,
        id,
        secret,
        content_type: "application/json",
    };
    deliver_as(api, &hook, event, delivery, body).await
}

/// Where and how a webhook is sent: the forge, the service, the secret it signs with and
/// the content type it declares.
pub struct Hook<'a> {
    pub provider: &'a str,
    pub id: &'a str,
    pub secret: &'a str,
    pub content_type: &'a str,
}

/// [`deliver`] with the body sent as `hook.content_type` (signed over the raw body).
pub async fn deliver_as(
    api: &Api,
    hook: &Hook<'_>,
    event: &str,
    delivery: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let (provider, id, secret) = (hook.provider, hook.id, hook.secret);
    let mut req = reqwest::Client::new()
        .post(api.server.url(&format!("/hooks/{provider}/{id}")))
        .header("content-type", hook.content_type);
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

/// Rotates the service's webhook secret and returns the new one (shown once).
pub async fn rotate(api: &Api, id: &str) -> String {
    let (status, body) = api.act(id, "webhook/rotate", None).await;
    assert_eq!(status, 200, "{body}");
    body["secret"].as_str().unwrap().to_owned()
}

/// The service's deployments, newest first.
pub async fn deployments(api: &Api, id: &str) -> Vec<Value> {
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
pub async fn finished(api: &Api, id: &str, number: i64, secs: u64) -> Value {
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
pub async fn served(api: &Api, id: &str) -> String {
    served_on(api, id, 8080).await
}

/// What the live replica answers on `/` of `port`.
pub async fn served_on(api: &Api, id: &str, port: u16) -> String {
    let view = api.running(id, 1).await;
    let ip = view["containers"][0]["ip"].as_str().unwrap();
    crate::common::get_text(&format!("http://{ip}:{port}/")).await
}

/// Removes the images built for a service when dropped: declared before the server, it is
/// dropped after it, once no container uses them.
pub struct BuiltImages(pub &'static str);

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
