//! `/api/v1/nodes` and the Nodes page against real engines: the machine's own engine (never
//! in swarm mode: the list says `swarm: false`, every action 409s, and the rules that need
//! no engine still hold), an engine that does not exist (`unreachable`), and (in
//! `swarm_cluster_nodes`) a real three-node swarm of extra daemons.

mod common;

use common::cluster::{busybox_image, Cluster};
use common::registry::ImageGuard;
use common::team::{call, join, Caller, Person};
use common::TestServer;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};

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

/// Removing node `id` as `who` is refused with `409` and a message saying `why`.
async fn removal_refused(s: &TestServer, who: &Caller, id: &str, why: &str) {
    let (status, refused) = call(s, who, "DELETE", &format!("/api/v1/nodes/{id}"), None).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains(why),
        "{refused}"
    );
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
    assert!(
        team.contains("id=\"nodes-link\""),
        "the instance card links to it"
    );
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

/// `GET /api/v1/nodes` as `who`, which must answer 200.
async fn nodes(s: &TestServer, who: &Caller) -> Value {
    let (status, list) = call(s, who, "GET", "/api/v1/nodes", None).await;
    assert_eq!(status, 200, "{list}");
    list
}

/// The node with `id` in a list.
fn node<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list}"))
}

/// Polls the list until `check` holds, up to `limit`; answers the last list.
async fn until(
    s: &TestServer,
    who: &Caller,
    what: &str,
    limit: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let began = Instant::now();
    loop {
        let list = nodes(s, who).await;
        if check(&list) {
            return list;
        }
        assert!(
            began.elapsed() < limit,
            "{what}: not within {limit:?}: {list}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn tasks_on(list: &Value, id: &str) -> u64 {
    node(list, id)["running_tasks"].as_u64().unwrap()
}

fn all_tasks(list: &Value) -> u64 {
    list["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["running_tasks"].as_u64().unwrap())
        .sum()
}

/// Six replicas of `busybox sleep` from the cluster's registry, spread by Swarm.
async fn sleepers(cluster: &Cluster, reference: &str) {
    use bollard::models::{
        ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, TaskSpec, TaskSpecContainerSpec,
    };
    let spec = ServiceSpec {
        name: Some("sleepers".to_owned()),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas: Some(6) }),
            ..Default::default()
        }),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(reference.to_owned()),
                args: Some(vec!["sleep".into(), "3600".into()]),
                stop_grace_period: Some(1_000_000_000),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    cluster
        .docker(0)
        .create_service(spec, None)
        .await
        .expect("create the service");
}

/// The whole API against a real swarm: a manager and two workers (extra daemons in network
/// namespaces; the machine's engine never joins). Berth's engine is the manager's socket.
#[sqlx::test(migrations = false)]
async fn a_real_swarm_listed_drained_labelled_and_a_lost_worker_removed(pool: PgPool) {
    let mut images = ImageGuard::default();
    let tag = common::images::unique_tag("nodes-busybox");
    images.0.push(busybox_image(&tag));
    let mut cluster = Cluster::start(2).await;
    let socket = format!("unix://{}", cluster.manager_socket().display());
    let (s, owner, admin, developer) = people(pool, Some(&socket)).await;
    let ids: Vec<String> = (0..3).map(|i| cluster.node_id(i).to_owned()).collect();

    // Three nodes, ready, with their roles, resources and the manager as leader.
    let list = nodes(&s, &owner).await;
    assert_eq!(list["swarm"], true);
    assert_eq!(list["local_state"], "active");
    assert_eq!(list["nodes"].as_array().unwrap().len(), 3, "{list}");
    for (i, id) in ids.iter().enumerate() {
        let n = node(&list, id);
        assert_eq!(n["hostname"], cluster.hostname(i));
        assert_eq!(n["state"], "ready");
        assert_eq!(n["availability"], "active");
        assert_eq!(n["role"], if i == 0 { "manager" } else { "worker" });
        assert_eq!(n["leader"], i == 0);
        assert!(n["engine_version"].as_str().is_some_and(|v| !v.is_empty()));
        assert!(n["cpus"].as_f64().unwrap() > 0.0 && n["memory_bytes"].as_i64().unwrap() > 0);
    }
    assert_eq!(list["nodes"][0]["id"], ids[0], "the manager first");
    // The page, as the server renders it: every node, and how services run across them.
    let Caller::Cookie(browser) = &owner else {
        unreachable!("the owner signs in with a cookie")
    };
    let page = s.page(browser, "/nodes").await;
    for i in 0..3 {
        assert!(page.contains(&cluster.hostname(i)), "{page}");
    }
    assert!(page.contains("BERTH_ORCHESTRATOR=swarm"), "{page}");

    // Drain a worker: its tasks move, the list shows it; then active again.
    let reference = cluster.push(&tag).await;
    sleepers(&cluster, &reference).await;
    let list = until(
        &s,
        &owner,
        "six tasks, some on node 2",
        Duration::from_secs(90),
        |l| all_tasks(l) == 6 && tasks_on(l, &ids[2]) > 0,
    )
    .await;
    eprintln!(
        "before the drain: {:?}",
        ids.iter().map(|id| tasks_on(&list, id)).collect::<Vec<_>>()
    );
    let availability = format!("/api/v1/nodes/{}/availability", ids[2]);
    let (status, drained) = call(
        &s,
        &owner,
        "PUT",
        &availability,
        Some(json!({"availability": "drain"})),
    )
    .await;
    assert_eq!(status, 200, "{drained}");
    assert_eq!(drained["availability"], "drain");
    let t = Instant::now();
    until(&s, &owner, "node 2 drained", Duration::from_secs(60), |l| {
        all_tasks(l) == 6
            && tasks_on(l, &ids[2]) == 0
            && node(l, &ids[2])["availability"] == "drain"
    })
    .await;
    eprintln!("drained in {:.1?}", t.elapsed());
    let (status, body) = call(
        &s,
        &admin.cookie(),
        "PUT",
        &availability,
        Some(json!({"availability": "active"})),
    )
    .await;
    assert_eq!(status, 403, "an admin does not change nodes: {body}");
    let (status, active) = call(
        &s,
        &owner,
        "PUT",
        &availability,
        Some(json!({"availability": "active"})),
    )
    .await;
    assert_eq!(
        (status, &active["availability"]),
        (200, &json!("active")),
        "{active}"
    );

    // Labels: set, shown, removed; removing again answers alike.
    let label = format!("/api/v1/nodes/{}/labels/zone", ids[1]);
    let (status, labelled) = call(&s, &owner, "PUT", &label, Some(json!({"value": "eu-1"}))).await;
    assert_eq!(status, 200, "{labelled}");
    assert_eq!(labelled["labels"]["zone"], "eu-1");
    assert_eq!(
        node(&nodes(&s, &owner).await, &ids[1])["labels"],
        json!({"zone": "eu-1"})
    );
    for _ in 0..2 {
        let (status, unlabelled) = call(&s, &owner, "DELETE", &label, None).await;
        assert_eq!(status, 200, "{unlabelled}");
        assert_eq!(unlabelled["labels"], json!({}));
    }

    // The join command: the token for the instance owner only; rotating changes it.
    let (status, hidden) = call(
        &s,
        &admin.cookie(),
        "GET",
        "/api/v1/nodes/join-command",
        None,
    )
    .await;
    assert_eq!(status, 200, "{hidden}");
    assert_eq!(hidden["token"], Value::Null);
    assert_eq!(hidden["token_hidden"], true);
    assert!(
        !hidden["command"].as_str().unwrap().contains("SWMTKN"),
        "{hidden}"
    );
    let (status, _) = call(
        &s,
        &developer.cookie(),
        "GET",
        "/api/v1/nodes/join-command",
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, shown) = call(&s, &owner, "GET", "/api/v1/nodes/join-command", None).await;
    assert_eq!(status, 200, "{shown}");
    let token = shown["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("SWMTKN-1-"), "{shown}");
    let manager_ip = format!("10.99.{}.10:2377", cluster.index());
    assert_eq!(
        shown["command"],
        format!("docker swarm join --token {token} {manager_ip}")
    );
    let (status, _) = call(
        &s,
        &admin.cookie(),
        "POST",
        "/api/v1/nodes/join-token/rotate",
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, rotated) = call(&s, &owner, "POST", "/api/v1/nodes/join-token/rotate", None).await;
    assert_eq!(status, 200, "{rotated}");
    let new_token = rotated["token"].as_str().unwrap();
    assert!(new_token.starts_with("SWMTKN-1-") && new_token != token);
    let (_, again) = call(&s, &owner, "GET", "/api/v1/nodes/join-command", None).await;
    assert_eq!(again["token"], new_token);

    // Only a worker that is down can be removed.
    removal_refused(&s, &owner, &ids[2], "is ready").await;
    removal_refused(&s, &owner, &ids[0], "manager").await;
    let t = Instant::now();
    cluster.stop_node(2);
    until(&s, &owner, "node 2 down", Duration::from_secs(30), |l| {
        node(l, &ids[2])["state"] == "down"
    })
    .await;
    eprintln!(
        "node 2 shown down {:.1?} after its engine stopped",
        t.elapsed()
    );
    let (status, body) = call(
        &s,
        &owner,
        "DELETE",
        &format!("/api/v1/nodes/{}", ids[2]),
        None,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let list = nodes(&s, &owner).await;
    assert_eq!(list["nodes"].as_array().unwrap().len(), 2, "{list}");
    let (status, _) = call(
        &s,
        &owner,
        "DELETE",
        &format!("/api/v1/nodes/{}", ids[2]),
        None,
    )
    .await;
    assert_eq!(status, 404, "a removed node is gone");

    // Every change in the audit log, with who and what, and never a token.
    let entries: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, actor, summary::text FROM audit_log
          WHERE action LIKE 'node.%' OR action LIKE 'swarm.%' ORDER BY id",
    )
    .fetch_all(&s.pool)
    .await
    .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "node.availability",
            "node.availability",
            "node.label",
            "node.label",
            "swarm.rotate_token",
            "node.remove"
        ],
        "{entries:?}"
    );
    for (action, actor, summary) in &entries {
        assert!(actor.contains(common::EMAIL), "{action}: {actor}");
        assert!(!summary.contains("SWMTKN"), "{action}: {summary}");
    }
    assert!(entries[0].2.contains("drain") && entries[0].2.contains(&ids[2]));
    assert!(entries[2].2.contains("eu-1"));
    drop(cluster);
}
