//! `kill -9` of the berth process in the middle of a rollout: the next berth resumes the
//! rollout from what Docker runs, without orphaning or duplicating a container, and gives
//! a Caddy that lost its config meanwhile the routes back. In the middle of an image build:
//! the next berth builds it again, and no build stays "building".

mod common;

use common::berth_process::{
    create_service, database_url, first_run, free_port, service_view, signed_in, Berth,
};
use common::docker::{instance_containers, remove_instance};
use common::git_repo::{dockerfile, Repo};
use common::images::{build_httpd, unique_tag};
use serde_json::{json, Value};
use server::proxy::local_caddy::LocalCaddy;
use sqlx::PgPool;
use std::process::Command;
use std::time::{Duration, Instant};

#[sqlx::test(migrations = false)]
async fn a_rollout_survives_kill_9_of_berth(pool: PgPool) {
    let url = database_url(&pool);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut caddy = LocalCaddy::start().await.unwrap();
    let mut berth = Berth::start(&url, data.path(), port, Some(&caddy)).await;
    let instance = app::store::settings::instance_id(&pool)
        .await
        .unwrap()
        .to_string();
    /// The instance's containers, then the image they ran (removed the other way round,
    /// the image would stay behind untagged).
    struct Cleanup {
        instance: String,
        image: String,
    }
    impl Drop for Cleanup {
        fn drop(&mut self) {
            remove_instance(&self.instance);
            let _ = Command::new("docker")
                .args(["rmi", "-f", &self.image])
                .output();
        }
    }
    let image = unique_tag("restart");
    let _cleanup = Cleanup {
        instance: instance.clone(),
        image: image.clone(),
    };

    let client = first_run(&berth.base).await;
    build_httpd(&server::engine::Engine::new(None), &image, "survivor\n").await;

    // Healthy only after 5 s, so the rollout is still open when berth dies.
    let spec = json!({
        "name": "slow",
        "image": image,
        "command": ["sh", "-c", "sleep 5; exec httpd -f -p 8080 -h /www"],
        "http": { "domains": ["slow.berth.test"], "port": 8080 },
        "health_check": { "probe": { "kind": "http", "path": "/", "port": 8080 }, "interval_s": 1 }
    });
    let id = create_service(&client, &berth.base, &spec).await;
    let start = Instant::now();
    while instance_containers(&instance).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no replica started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = instance_containers(&instance);
    let v = service_view(&client, &berth.base, &id).await;
    assert_eq!(v["latest_deployment"]["state"], "in_progress", "{v:#}");

    berth.kill9();
    drop(berth);
    // Caddy loses its config while no berth runs: the next berth rebuilds the routes from
    // Postgres.
    caddy.restart_empty().await.unwrap();
    let berth = Berth::start(&url, data.path(), port, Some(&caddy)).await;
    let client = signed_in(&berth.base).await;
    let start = Instant::now();
    let v = loop {
        let v = service_view(&client, &berth.base, &id).await;
        if v["latest_deployment"]["state"] == "succeeded" && v["status"]["ready"] == 1 {
            break v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not converged: {v:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        instance_containers(&instance),
        before,
        "the same replica: none orphaned, none duplicated"
    );
    assert_eq!(v["containers"].as_array().unwrap().len(), 1);
    let dep = v["latest_deployment"]["id"].as_str().unwrap();
    let log: Value = client
        .get(format!("{}/api/v1/deployments/{dep}", berth.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lines: Vec<&str> = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_str().unwrap())
        .collect();
    assert!(lines.iter().any(|l| l.contains("resuming")), "{lines:#?}");
    let start = Instant::now();
    loop {
        let got = caddy.get("slow.berth.test", "/").await;
        if got == Some((200, "survivor\n".to_owned())) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the route did not come back through Caddy: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Stopped before the clean-up, so it cannot start a replica again meanwhile.
    drop(berth);
}

/// The deployment log lines of `deployment`.
async fn log_lines(client: &reqwest::Client, base: &str, deployment: &str) -> Vec<String> {
    let log: Value = client
        .get(format!("{base}/api/v1/deployments/{deployment}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrations = false)]
async fn a_build_cut_short_by_kill_9_is_built_again(pool: PgPool) {
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            remove_instance(&self.0);
            let out = Command::new("docker")
                .args([
                    "images",
                    "-q",
                    "--filter",
                    "reference=berth/engines/slowbuild",
                ])
                .output()
                .unwrap();
            for image in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = Command::new("docker").args(["rmi", "-f", image]).output();
            }
        }
    }
    let url = database_url(&pool);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut berth = Berth::start(&url, data.path(), port, None).await;
    let instance = app::store::settings::instance_id(&pool)
        .await
        .unwrap()
        .to_string();
    let _cleanup = Cleanup(instance.clone());
    let client = first_run(&berth.base).await;
    let repo = Repo::new();
    // A build step that takes a while, so berth dies in the middle of it.
    let slow = dockerfile("RUN [\"/bin/busybox\", \"sleep\", \"6\"]\n");
    repo.commit("main", "built twice\n", &slow, "Slow build");
    let spec = json!({ "name": "slowbuild", "git": { "repo": repo.url(), "branch": "main" } });
    let id = create_service(&client, &berth.base, &spec).await;
    let start = Instant::now();
    let deployment = loop {
        let v = service_view(&client, &berth.base, &id).await;
        let d = &v["latest_deployment"];
        if d["state"] == "building" {
            let dep = d["id"].as_str().unwrap().to_owned();
            if log_lines(&client, &berth.base, &dep)
                .await
                .iter()
                .any(|l| l.contains("sleep"))
            {
                break dep;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the build did not reach its slow step: {v:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    berth.kill9();
    drop(berth);
    let berth = Berth::start(&url, data.path(), port, None).await;
    let client = signed_in(&berth.base).await;
    let start = Instant::now();
    let v = loop {
        let v = service_view(&client, &berth.base, &id).await;
        if v["latest_deployment"]["state"] == "succeeded" && v["status"]["ready"] == 1 {
            break v;
        }
        assert_ne!(v["latest_deployment"]["state"], "failed", "{v:#}");
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the build was not run again: {v:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(v["latest_deployment"]["id"], deployment.as_str());
    let lines = log_lines(&client, &berth.base, &deployment).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Berth stopped during this build")),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("attempt 2")), "{lines:#?}");
    let building: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deployments WHERE state IN ('queued', 'building')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(building, 0, "no build left behind");
}
