//! A Dockerfile that fails: the deployment fails with the build output in its log, and the
//! old version keeps serving.

use crate::common::api::Api;
use crate::common::git_repo::{dockerfile, Repo};
use crate::common::quick_worker;
use crate::fixtures::{finished, git_spec, served, BuiltImages};
use sqlx::PgPool;

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
