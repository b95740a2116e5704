//! `/api/v1/nodes` and the Nodes page against real engines: the machine's own engine (never
//! in swarm mode: the list says `swarm: false`, every action 409s, and the rules that need
//! no engine still hold), an engine that does not exist (`unreachable`), and (in
//! `swarm_cluster_nodes`) a real three-node swarm of extra daemons.

mod common;

use common::team::{call, join, Caller, Person};
use common::TestServer;
use serde_json::{json, Value};
use sqlx::PgPool;

/// A well-formed node id that no swarm has.
const NO_NODE: &str = "0123456789abcdefghijklmno";

/// The server on `docker_host` (`None`: the machine's engine), its owner (the instance
/// owner), and an admin and a developer of the owner's team.
async fn people(pool: PgPool, docker_host: Option<&str>) -> (TestServer, Caller, Person, Person) {
    let s = TestServer::start_with(pool, Default::default(), docker_host).await;
    let owner = Caller::Cookie(s.owner().await);
    let admin = join(&s, &owner, "Alan Admin", "admin").await;
    let developer = join(&s, &owner, "Dora Developer", "developer").await;
    (s, owner, admin, developer)
}

async fn node_audit_entries(s: &TestServer) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action LIKE 'node.%' OR action LIKE 'swarm.%'",
    )
    .fetch_one(&s.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn a_non_swarm_engine_lists_no_nodes_and_refuses_every_action(pool: PgPool) {
    let (s, owner, admin, developer) = people(pool, None).await;
    let info = s.engine.client().await.unwrap().info().await.unwrap();
    let state = info.swarm.and_then(|w| w.local_node_state);
    assert_eq!(
        state,
        Some(bollard::models::LocalNodeState::INACTIVE),
        "the machine's engine must never be in swarm mode"
    );

    let (status, list) = call(&s, &owner, "GET", "/api/v1/nodes", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        list,
        json!({"swarm": false, "local_state": "inactive", "nodes": []})
    );
    let (status, _) = call(&s, &admin.cookie(), "GET", "/api/v1/nodes", None).await;
    assert_eq!(status, 200, "admins see the nodes");
    let (status, _) = call(&s, &developer.cookie(), "GET", "/api/v1/nodes", None).await;
    assert_eq!(status, 403, "developers do not");

    let node = format!("/api/v1/nodes/{NO_NODE}");
    let refused: [(&str, String, Option<Value>); 6] = [
        ("GET", "/api/v1/nodes/join-command".into(), None),
        ("POST", "/api/v1/nodes/join-token/rotate".into(), None),
        (
            "PUT",
            format!("{node}/availability"),
            Some(json!({"availability": "drain"})),
        ),
        (
            "PUT",
            format!("{node}/labels/zone"),
            Some(json!({"value": "eu-1"})),
        ),
        ("DELETE", format!("{node}/labels/zone"), None),
        ("DELETE", node.clone(), None),
    ];
    for (method, path, body) in refused {
        let (status, answer) = call(&s, &owner, method, &path, body).await;
        assert_eq!(status, 409, "{method} {path}: {answer}");
        assert_eq!(answer["error"], "conflict");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("not a swarm manager") && message.contains("docker swarm init"),
            "{message}"
        );
    }
    assert_eq!(node_audit_entries(&s).await, 0, "nothing happened");

    // The rules that need no engine: the instance owner only, the id's shape, the label's.
    let (status, answer) = call(
        &s,
        &admin.cookie(),
        "PUT",
        &format!("{node}/availability"),
        Some(json!({"availability": "drain"})),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("instance owner"));
    let (status, _) = call(
        &s,
        &owner,
        "PUT",
        "/api/v1/nodes/not-a-node/availability",
        Some(json!({"availability": "drain"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, answer) = call(
        &s,
        &owner,
        "PUT",
        &format!("{node}/availability"),
        Some(json!({"availability": "off"})),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = call(
        &s,
        &owner,
        "PUT",
        &format!("{node}/labels/com.docker.zone"),
        Some(json!({"value": "x"})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["fields"][0]["field"], "key");
}

#[sqlx::test(migrations = false)]
async fn the_nodes_page_says_the_engine_is_no_swarm_and_how_to_make_one(pool: PgPool) {
    let (s, owner, _admin, developer) = people(pool, None).await;
    let Caller::Cookie(owner) = owner else {
        unreachable!()
    };
    let page = s.page(&owner, "/nodes").await;
    assert!(page.contains("id=\"no-swarm\""), "{page}");
    assert!(page.contains("docker swarm init --advertise-addr"));
    let team = s.page(&owner, "/team").await;
    assert!(team.contains("id=\"nodes-link\""), "the instance card links to it");
    let page = s.page(&developer.client, "/nodes").await;
    assert!(page.contains("id=\"nodes-error\""), "{page}");
}

#[sqlx::test(migrations = false)]
async fn an_unreachable_engine_is_said_so(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let socket = format!("unix://{}/no-docker.sock", dir.path().display());
    let (s, owner, _, _) = people(pool, Some(&socket)).await;
    let (status, list) = call(&s, &owner, "GET", "/api/v1/nodes", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["swarm"], false);
    assert_eq!(list["local_state"], "unreachable");
    let (status, answer) = call(&s, &owner, "GET", "/api/v1/nodes/join-command", None).await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("cannot reach"));
}
