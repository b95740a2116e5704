//! The database goes away under load and comes back: berth answers `503` meanwhile (never
//! `401`), serves the same token again within 10 s, loses nothing and duplicates no
//! container; its worker's listener reconnects by itself. Twice: the embedded database
//! (`kill -9` of its postmaster; berth restarts it) and an external one named by
//! `DATABASE_URL` (stopped and started again by its operator). And the log has no colour
//! codes when it goes to a pipe or a file.

#[path = "../common/mod.rs"]
mod common;
mod harness;
mod load;

use common::images::unique_tag;
use harness::{Berth, Cleanup, ExternalPostgres};
use load::{nothing_lost_and_the_worker_listens, set_up, Load};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_embedded_database_killed_under_load_is_restarted_and_nothing_is_lost() {
    let root = common::data_root("berth-outage-");
    let data = root.path().join("data");
    // Declared before berth so it is dropped after berth has stopped: removed earlier,
    // berth's worker would create the containers again.
    let mut cleanup = Cleanup {
        service: None,
        image: unique_tag("outage"),
    };
    let berth = Berth::start(&data, None).await;
    let team = set_up(&berth, &mut cleanup).await;

    let killed_at = Instant::now() + Duration::from_millis(500);
    let load = Load::start(&berth, &team, killed_at);

    // kill -9 of the postmaster, as the operator would do it.
    tokio::time::sleep_until(killed_at.into()).await;
    let pidfile =
        std::fs::read_to_string(data.join("postgres/postmaster.pid")).expect("postmaster.pid");
    let pid = pidfile.lines().next().unwrap().trim().to_owned();
    assert!(Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap()
        .success());

    // Within 10 s the same token is served again.
    let back = load
        .served_again(&berth, killed_at, Duration::from_secs(10))
        .await;
    eprintln!("served again {back:?} after the kill");
    load.finish(&["token", "session", "healthz", "healthz-restarting"])
        .await;

    // /healthz: healthy again, and says what happened.
    let health: Value = reqwest::get(berth.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health:#}");
    let supervisor = &health["postgres"]["supervisor"];
    assert_eq!(supervisor["state"], "running", "{health:#}");
    assert_eq!(supervisor["restarts"], 1, "{health:#}");
    assert!(
        supervisor["last_exit"].as_str().unwrap().contains("9"),
        "{health:#}"
    );
    let log = berth.log();
    assert!(
        log.contains("embedded Postgres exited unexpectedly"),
        "{log}"
    );
    assert!(log.contains("embedded Postgres restarted"), "{log}");

    nothing_lost_and_the_worker_listens(&berth, &team).await;
}

#[tokio::test]
async fn an_external_database_stopped_under_load_is_reconnected_and_nothing_is_lost() {
    let root = common::data_root("berth-outage-");
    // Both declared before berth so they are dropped after berth has stopped: the
    // containers are removed once no worker can create them again, and the cluster
    // outlives its client.
    let postgres = ExternalPostgres::start();
    let mut cleanup = Cleanup {
        service: None,
        image: unique_tag("extoutage"),
    };
    let berth = Berth::start(&root.path().join("data"), Some(&postgres.url())).await;
    let team = set_up(&berth, &mut cleanup).await;

    let stopped_at = Instant::now() + Duration::from_millis(500);
    let load = Load::start(&berth, &team, stopped_at);

    // The operator stops the database hard; berth has nothing to restart.
    tokio::time::sleep_until(stopped_at.into()).await;
    postgres.stop_immediately();

    // While it is down: 503 for everyone, whichever way they call.
    let down = Instant::now();
    while !["token", "session", "healthz"]
        .iter()
        .all(|who| load.refused(who))
    {
        assert!(
            down.elapsed() < Duration::from_secs(10),
            "not every caller got 503 while the database was down: {:?}\nberth's log:\n{}",
            load.seen.lock().unwrap(),
            berth.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Down a while longer: the listeners' back-off grows past its first steps.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let health: Value = reqwest::get(berth.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "unavailable", "{health:#}");

    // Started again: within 10 s the same token is served again.
    postgres.start_again();
    let restarted = Instant::now();
    let back = load
        .served_again(&berth, restarted, Duration::from_secs(10))
        .await;
    eprintln!("served again {back:?} after the restart");
    load.finish(&["token", "session", "healthz"]).await;

    let health: Value = reqwest::get(berth.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health:#}");
    assert!(
        health["postgres"].get("supervisor").is_none(),
        "no supervisor for an external database: {health:#}"
    );

    nothing_lost_and_the_worker_listens(&berth, &team).await;
}

#[tokio::test]
async fn the_log_has_no_colour_codes_when_it_is_not_a_terminal() {
    // A database that cannot exist: berth logs its start and the error, then exits.
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .env_remove("NO_COLOR")
        .env(
            "DATABASE_URL",
            format!(
                "postgres://berth@localhost/berth?host={}",
                root.path().join("nowhere").display()
            ),
        )
        .env("BERTH_DATA_DIR", root.path().join("data"))
        .env("BERTH_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("INFO") && log.contains("ERROR"), "{log}");
    assert!(!log.contains('\u{1b}'), "escape codes in the log: {log:?}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
}
