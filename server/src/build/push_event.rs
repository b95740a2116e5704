//! What a forge's webhook delivery asks for: which event, which branch, which commit.
//! Pure functions over headers and the body of GitHub, GitLab and Gitea/Forgejo: JSON, or
//! the `payload=<url-encoded JSON>` form GitHub (and Gitea) send by default.

use app::domain::service::{is_commit_sha, CommitInfo};
use app::store::builds::Provider;
use axum::http::HeaderMap;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The event a delivery reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Push,
    /// Any other event (ping, issues, tag pushes…): answered, never built.
    Other(String),
}

/// The event named by the provider's event header.
pub fn event_kind(provider: Provider, headers: &HeaderMap) -> Result<EventKind, String> {
    let names: &[&str] = match provider {
        Provider::GitHub => &["x-github-event"],
        Provider::GitLab => &["x-gitlab-event"],
        Provider::Gitea => &["x-gitea-event", "x-forgejo-event", "x-gogs-event"],
    };
    let value = names
        .iter()
        .find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()))
        .ok_or_else(|| format!("missing {} header", names[0]))?;
    let push = match provider {
        Provider::GitLab => value == "Push Hook",
        _ => value == "push",
    };
    Ok(if push {
        EventKind::Push
    } else {
        EventKind::Other(value.to_owned())
    })
}

/// Why a delivery's body cannot be read as a forge event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// A content type Berth does not read (answered 415); the message says what to choose.
    Unsupported(String),
    /// A form without its `payload` field (answered 400).
    Malformed(String),
}

/// The JSON of a delivery whose raw body was verified: the body itself for
/// `application/json` (or no content type, as some forges send), the `payload` field of an
/// `application/x-www-form-urlencoded` form (GitHub's default), refused for any other type.
pub fn json_body<'a>(
    headers: &HeaderMap,
    body: &'a [u8],
) -> Result<std::borrow::Cow<'a, [u8]>, BodyError> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "" | "application/json" => Ok(body.into()),
        "application/x-www-form-urlencoded" => {
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                .map_err(|e| BodyError::Malformed(format!("the form cannot be read: {e}")))?;
            fields
                .into_iter()
                .find(|(k, _)| k == "payload")
                .map(|(_, v)| v.into_bytes().into())
                .ok_or_else(|| {
                    BodyError::Malformed("the form has no payload field".to_owned())
                })
        }
        other => Err(BodyError::Unsupported(format!(
            "Berth cannot read a {other} webhook body: set the webhook's content type to application/json."
        ))),
    }
}

/// The id of this delivery (a forge re-sends with the same one); without one, the hash of
/// the body, so the same body twice is still one build.
pub fn delivery_id(provider: Provider, headers: &HeaderMap, body: &[u8]) -> String {
    let names: &[&str] = match provider {
        Provider::GitHub => &["x-github-delivery"],
        Provider::GitLab => &["x-gitlab-event-uuid", "idempotency-key"],
        Provider::Gitea => &["x-gitea-delivery", "x-forgejo-delivery"],
    };
    names
        .iter()
        .find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()))
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("body:{}", hex::encode(Sha256::digest(body))))
}

#[derive(Debug, Deserialize)]
struct Author {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Commit {
    id: String,
    message: Option<String>,
    author: Option<Author>,
}

/// The fields the three forges share (GitLab adds `checkout_sha`, GitHub `head_commit`).
#[derive(Debug, Deserialize)]
struct PushBody {
    #[serde(rename = "ref")]
    git_ref: String,
    after: String,
    #[serde(default)]
    checkout_sha: Option<String>,
    #[serde(default)]
    head_commit: Option<Commit>,
    #[serde(default)]
    commits: Vec<Commit>,
}

/// A push, read from its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub git_ref: String,
    /// The commit the branch now points at; all zeros when the branch was deleted.
    pub after: String,
    pub commit: CommitInfo,
}

pub fn parse_push(body: &[u8]) -> Result<Push, String> {
    let push: PushBody =
        serde_json::from_slice(body).map_err(|e| format!("the body is not a push event: {e}"))?;
    let after = push.checkout_sha.unwrap_or(push.after);
    let described = push
        .commits
        .into_iter()
        .chain(push.head_commit)
        .find(|c| c.id == after);
    let commit = CommitInfo {
        sha: after.clone(),
        message: described.as_ref().and_then(|c| c.message.clone()),
        author: described.and_then(|c| c.author.and_then(|a| a.name)),
    };
    Ok(Push {
        git_ref: push.git_ref,
        after,
        commit,
    })
}

/// What to do with a push to a service that deploys `branch`: the commit to build, or why
/// nothing is built (`Err` is a reason for the sender, answered with 2xx).
pub fn decide(push: Push, branch: &str) -> Result<Result<CommitInfo, String>, String> {
    if push.git_ref.starts_with("refs/tags/") {
        return Ok(Err(format!(
            "tag push ({}): only branches deploy",
            push.git_ref
        )));
    }
    if push.git_ref != format!("refs/heads/{branch}") {
        return Ok(Err(format!(
            "push to {}; this service deploys refs/heads/{branch}",
            push.git_ref
        )));
    }
    if push.after.bytes().all(|b| b == b'0') {
        return Ok(Err("the branch was deleted".to_owned()));
    }
    if !is_commit_sha(&push.after) {
        return Err("the pushed commit id is not a full hexadecimal commit id".to_owned());
    }
    Ok(Ok(push.commit))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn events_by_provider_header() {
        let gh = |v| event_kind(Provider::GitHub, &h(&[("x-github-event", v)])).unwrap();
        assert_eq!(gh("push"), EventKind::Push);
        assert_eq!(gh("ping"), EventKind::Other("ping".into()));
        let gl = |v| event_kind(Provider::GitLab, &h(&[("x-gitlab-event", v)])).unwrap();
        assert_eq!(gl("Push Hook"), EventKind::Push);
        assert_eq!(
            gl("Tag Push Hook"),
            EventKind::Other("Tag Push Hook".into())
        );
        let gt = event_kind(Provider::Gitea, &h(&[("x-forgejo-event", "push")])).unwrap();
        assert_eq!(gt, EventKind::Push);
        assert!(event_kind(Provider::GitHub, &HeaderMap::new()).is_err());
    }

    #[test]
    fn github_push_with_head_commit() {
        let body = serde_json::json!({
            "ref": "refs/heads/main", "before": "0".repeat(40), "after": SHA,
            "head_commit": {"id": SHA, "message": "Fix it\n\nlong", "author": {"name": "Ada"}},
            "commits": [], "repository": {"full_name": "acme/app"}
        });
        let push = parse_push(body.to_string().as_bytes()).unwrap();
        let commit = decide(push, "main").unwrap().unwrap();
        assert_eq!(commit.sha, SHA);
        assert_eq!(commit.title(), "Fix it");
        assert_eq!(commit.author.as_deref(), Some("Ada"));
    }

    #[test]
    fn gitlab_push_uses_checkout_sha_and_commits() {
        let body = serde_json::json!({
            "object_kind": "push", "ref": "refs/heads/feat/#12", "after": SHA,
            "checkout_sha": SHA, "user_name": "Grace",
            "commits": [{"id": SHA, "message": "Add page", "author": {"name": "Grace", "email": "g@x"}}]
        });
        let push = parse_push(body.to_string().as_bytes()).unwrap();
        let commit = decide(push, "feat/#12").unwrap().unwrap();
        assert_eq!(
            (commit.title(), commit.author.as_deref()),
            ("Add page", Some("Grace"))
        );
    }

    #[test]
    fn other_branches_tags_and_deletions_are_ignored() {
        let push = |r: &str, after: &str| Push {
            git_ref: r.into(),
            after: after.into(),
            commit: CommitInfo {
                sha: after.into(),
                message: None,
                author: None,
            },
        };
        assert!(decide(push("refs/heads/dev", SHA), "main")
            .unwrap()
            .is_err());
        assert!(decide(push("refs/tags/v1", SHA), "main").unwrap().is_err());
        assert!(decide(push("refs/heads/main", &"0".repeat(40)), "main")
            .unwrap()
            .is_err());
        assert!(decide(push("refs/heads/main", "$(id)"), "main").is_err());
        assert!(decide(push("refs/heads/main", "abc123"), "main").is_err());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert!(parse_push(b"{not json").is_err());
        assert!(parse_push(b"{\"ref\": 1}").is_err());
        assert!(parse_push(b"[]").is_err());
    }

    #[test]
    fn bodies_by_content_type() {
        let json = br#"{"ref":"refs/heads/main"}"#;
        let ct = |v: &str| h(&[("content-type", v)]);
        assert_eq!(&*json_body(&HeaderMap::new(), json).unwrap(), json);
        assert_eq!(
            &*json_body(&ct("application/json; charset=utf-8"), json).unwrap(),
            json
        );
        let form = format!(
            "payload={}",
            form_urlencoded_json(std::str::from_utf8(json).unwrap())
        );
        let read = json_body(&ct("application/x-www-form-urlencoded"), form.as_bytes()).unwrap();
        assert_eq!(&*read, json);
        assert!(matches!(
            json_body(&ct("application/x-www-form-urlencoded"), b"zen=hi"),
            Err(BodyError::Malformed(_))
        ));
        match json_body(&ct("text/plain"), json) {
            Err(BodyError::Unsupported(m)) => assert!(m.contains("application/json"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    fn form_urlencoded_json(json: &str) -> String {
        serde_urlencoded::to_string([("x", json)]).unwrap()[2..].to_owned()
    }

    #[test]
    fn deliveries_by_header_or_body() {
        let with = h(&[("x-github-delivery", "abc")]);
        assert_eq!(delivery_id(Provider::GitHub, &with, b"x"), "abc");
        let a = delivery_id(Provider::GitLab, &HeaderMap::new(), b"x");
        assert_eq!(a, delivery_id(Provider::GitLab, &HeaderMap::new(), b"x"));
        assert_ne!(a, delivery_id(Provider::GitLab, &HeaderMap::new(), b"y"));
    }
}
