//! Injection attempts through a git source (branch, repository, context) or an image name
//! are refused with 422 naming the field, before anything is created or runs.

use crate::common::api::Api;
use crate::common::git_repo::Repo;
use crate::common::quick_worker;
use crate::fixtures::git_spec;
use serde_json::json;
use sqlx::PgPool;

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
