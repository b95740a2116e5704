//! One wake-up mechanism for the worker and the pages: the database triggers' announcements
//! on `berth_live`. A change a person makes wakes the worker at once (not the resync), a
//! rollout's lease renewal wakes nobody, and nothing is sent on the old hand-written
//! channel any more.

mod common;

use app::domain::live::{Announcement, LiveTopic, LIVE_CHANNEL};
use common::api::Api;
use common::{quick_worker, TestServer};
use serde_json::json;
use sqlx::postgres::{PgListener, PgNotification};
use sqlx::PgPool;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The next notification within `within`, if one comes.
async fn next(listener: &mut PgListener, within: Duration) -> Option<PgNotification> {
    tokio::time::timeout(within, listener.recv())
        .await
        .ok()
        .map(|n| n.expect("listener"))
}

/// Announcements until `within` passes without one.
async fn drain(listener: &mut PgListener, within: Duration) -> Vec<Announcement> {
    let mut seen = Vec::new();
    while let Some(n) = next(listener, within).await {
        if n.channel() == LIVE_CHANNEL {
            seen.push(Announcement::parse(n.payload()).expect("announcement payload"));
        } else {
            panic!(
                "unexpected notification on {}: {}",
                n.channel(),
                n.payload()
            );
        }
    }
    seen
}

#[sqlx::test(migrations = false)]
async fn changes_are_announced_once_on_the_live_channel_and_lease_renewals_not_at_all(
    pool: PgPool,
) {
    // No worker: the rows stay as the test leaves them.
    let server = TestServer::start(pool.clone()).await;
    let client = server.owner().await;
    let mut listener = PgListener::connect_with(&pool).await.unwrap();
    listener
        .listen_all([LIVE_CHANNEL, "berth_services"])
        .await
        .unwrap();

    let r = client
        .post(server.url("/api/v1/services"))
        .json(&json!({"name": "web", "image": "berth-test/none:1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let id: Uuid = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let created = drain(&mut listener, Duration::from_millis(500)).await;
    assert!(
        created
            .iter()
            .any(|a| a.service == id && a.concerns_desired_state()),
        "the new service wakes the worker: {created:?}"
    );

    // The worker's hold of the rollout: the first sets it in progress (announced), a
    // renewal changes only the lease (not announced).
    let deployment: Uuid = sqlx::query_scalar("SELECT id FROM deployments WHERE service_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let (owner, deadline, lease) = (
        Uuid::new_v4(),
        Some(Duration::from_secs(60)),
        Duration::from_secs(30),
    );
    app::store::worker::hold_rollout(&pool, deployment, owner, deadline, lease)
        .await
        .unwrap();
    let first = drain(&mut listener, Duration::from_millis(500)).await;
    assert_eq!(
        first.iter().map(|a| a.topic).collect::<Vec<_>>(),
        [LiveTopic::Deployments],
        "{first:?}"
    );
    for _ in 0..3 {
        app::store::worker::hold_rollout(&pool, deployment, owner, deadline, lease)
            .await
            .unwrap();
    }
    let renewals = drain(&mut listener, Duration::from_millis(500)).await;
    assert!(
        renewals.is_empty(),
        "lease renewals announce nothing: {renewals:?}"
    );

    // A person's change is announced (and only on the live channel).
    let r = client
        .post(server.url(&format!("/api/v1/services/{id}/stop")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let stopped = drain(&mut listener, Duration::from_millis(500)).await;
    assert!(
        stopped
            .iter()
            .any(|a| a.service == id && a.topic == LiveTopic::Services),
        "{stopped:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn a_change_wakes_the_worker_at_once_without_waiting_for_the_resync(pool: PgPool) {
    let settings = server::worker::WorkerSettings {
        resync_interval: Duration::from_secs(3600),
        ..quick_worker()
    };
    let api = Api::start(pool, settings).await;
    // Let the worker take its lock and do its first (empty) full look.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let started = Instant::now();
    let id = api.create(api.spec("wake")).await;
    api.running(&id, 1).await;
    let (status, _) = api.act(&id, "scale", Some(json!({"replicas": 2}))).await;
    assert!((200..300).contains(&status), "{status}");
    api.running(&id, 2).await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "deployed and scaled long before the hour-long resync"
    );
}
