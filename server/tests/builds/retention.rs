//! Image retention: with `keep_images = 1` the oldest build's image is removed, marked in
//! the history, and a rollback to it refused; the service page shows the git source.

use crate::common::api::Api;
use crate::common::git_repo::{dockerfile, Repo};
use crate::common::quick_worker;
use crate::fixtures::{deployments, finished, git_spec, BuiltImages};
use serde_json::json;
use sqlx::PgPool;

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
