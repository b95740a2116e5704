//! Berth in Swarm mode (`BERTH_ORCHESTRATOR=swarm`) against a real three-node swarm of
//! extra daemons (`common::cluster`): a service deployed through the API becomes one Swarm
//! service whose six tasks spread over the three nodes, pinned by registry digest; the
//! service page's replicas name their nodes; a scale keeps the running tasks; a new
//! definition rolls out and succeeds only once every new task runs; a definition whose
//! tasks fail is rolled back with Swarm's reason while the live one keeps running; a
//! deleted service leaves no Swarm service behind.

mod common;

use bollard::models::TaskState;
use bollard::query_parameters::{ListServicesOptionsBuilder, ListTasksOptionsBuilder};
use common::api::Api;
use common::cluster::{busybox_image, Cluster};
use common::registry::ImageGuard;
use common::{quick_worker, TestServer};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Berth's Swarm services for service `id`, as the manager lists them.
async fn swarm_services(cluster: &Cluster, id: &str) -> Vec<bollard::models::Service> {
    let filters = HashMap::from([("label", vec![format!("berth.service={id}")])]);
    let options = ListServicesOptionsBuilder::default().filters(&filters).build();
    cluster.docker(0).list_services(Some(options)).await.unwrap()
}

/// The images of the tasks Swarm wants running for Swarm service `swarm_id`.
async fn task_images(cluster: &Cluster, swarm_id: &str) -> Vec<String> {
    let filters = HashMap::from([("service", vec![swarm_id.to_owned()])]);
    let options = ListTasksOptionsBuilder::default().filters(&filters).build();
    cluster
        .docker(0)
        .list_tasks(Some(options))
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.desired_state == Some(TaskState::RUNNING))
        .filter_map(|t| t.spec?.container_spec?.image)
        .collect()
}

fn running(view: &Value) -> Vec<&Value> {
    view["containers"]
        .as_array()
        .map(|cs| cs.iter().filter(|c| c["state"] == "running").collect())
        .unwrap_or_default()
}

fn ids(containers: &[&Value]) -> BTreeSet<String> {
    containers
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The nodes the running replicas are on, as the service page names them.
fn nodes_of(view: &Value) -> BTreeSet<String> {
    running(view)
        .iter()
        .filter_map(|c| c["node"].as_str().map(str::to_owned))
        .collect()
}

fn settled(view: &Value, number: u64, state: &str) -> bool {
    view["latest_deployment"]["number"] == number && view["latest_deployment"]["state"] == state
}

#[sqlx::test(migrations = false)]
async fn a_service_is_a_swarm_service_spread_over_three_nodes(pool: PgPool) {
    let began = Instant::now();
    let mut images = ImageGuard::default();
    let tag = common::images::unique_tag("swarm-mode");
    images.0.push(busybox_image(&tag));
    let mut cluster = Cluster::start(2).await;
    let reference = cluster.push(&tag).await;
    let server = TestServer::start_swarm(pool, &cluster.manager_socket(), quick_worker()).await;
    let client = server.owner().await;
    let api = Api {
        server,
        client,
        image: reference.clone(),
    };
    eprintln!("cluster and berth up in {:.1?}", began.elapsed());

    // Six replicas, deployed through the API, spread by Swarm over the three nodes.
    let t = Instant::now();
    let spec = json!({
        "name": "web",
        "image": reference,
        "replicas": 6,
        "command": ["httpd", "-f", "-p", "8080", "-h", "/"],
        "env": [{"key": "GREETING", "value": "one"}]
    });
    let id = api.create(spec.clone()).await;
    let view = api
        .until(&id, 120, "deployment #1 live with six replicas", |v| {
            settled(v, 1, "succeeded") && running(v).len() == 6
        })
        .await;
    eprintln!("6 replicas across 3 nodes live in {:.1?}", t.elapsed());
    let nodes: BTreeSet<&str> = running(&view)
        .iter()
        .map(|c| c["node"].as_str().expect("each replica names its node"))
        .collect();
    let expected: BTreeSet<String> = (0..3).map(|i| cluster.hostname(i)).collect();
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(nodes, expected, "Swarm spreads the replicas over every node");
    let services = swarm_services(&cluster, &id).await;
    assert_eq!(services.len(), 1, "one Swarm service per Berth service");
    let swarm_id = services[0].id.clone().unwrap();
    let pinned = task_images(&cluster, &swarm_id).await;
    assert_eq!(pinned.len(), 6);
    assert!(
        pinned.iter().all(|i| *i == reference),
        "every task runs the image by its digest: {pinned:?}"
    );
    let log = api
        .deployment_log(view["latest_deployment"]["id"].as_str().unwrap())
        .await;
    assert!(
        log.iter().any(|l| l.contains("All 6 replicas ready")),
        "{log:#?}"
    );

    // A scale keeps the template: the three replicas left are three of the six.
    let before = ids(&running(&view));
    let (status, body) = api.act(&id, "scale", Some(json!({"replicas": 3}))).await;
    assert_eq!(status, 200, "{body}");
    let view = api
        .until(&id, 60, "deployment #2 (scale to 3) live", |v| {
            settled(v, 2, "succeeded") && running(v).len() == 3
        })
        .await;
    let after = ids(&running(&view));
    assert!(after.is_subset(&before), "no task replaced by a scale: {before:?} → {after:?}");

    // A new definition rolls out: every task replaced, one Swarm service still.
    let mut changed = spec.clone();
    changed["replicas"] = json!(3);
    changed["env"] = json!([{"key": "GREETING", "value": "two"}]);
    api.put(&id, changed.clone()).await;
    let view = api
        .until(&id, 90, "deployment #3 (new env) live", |v| {
            settled(v, 3, "succeeded") && running(v).len() == 3
        })
        .await;
    let replaced = ids(&running(&view));
    assert!(replaced.is_disjoint(&after), "every task is new: {after:?} → {replaced:?}");
    assert_eq!(swarm_services(&cluster, &id).await.len(), 1);
    let env = swarm_services(&cluster, &id).await[0]
        .spec
        .clone()
        .and_then(|s| s.task_template?.container_spec?.env)
        .unwrap_or_default();
    assert!(env.contains(&"GREETING=two".to_owned()), "{env:?}");

    // Tasks that exit at once: Swarm pauses the update, Berth rolls back with its reason
    // and deployment #3's tasks run again.
    let mut broken = changed.clone();
    broken["command"] = json!(["false"]);
    api.put(&id, broken).await;
    let view = api
        .until(&id, 90, "deployment #4 rolled back", |v| {
            settled(v, 4, "rolled_back")
        })
        .await;
    let reason = view["latest_deployment"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("deployment #3 keeps serving"), "{reason}");
    assert_eq!(view["live_deployment"], 3);
    api.until(&id, 90, "deployment #3's three tasks running again", |v| {
        running(v).len() == 3
    })
    .await;
    let args = swarm_services(&cluster, &id).await[0]
        .spec
        .clone()
        .and_then(|s| s.task_template?.container_spec?.args)
        .unwrap_or_default();
    assert_eq!(args[0], "httpd", "the live definition is back on the Swarm service");

    // A constraint pins the replicas to the node labelled through Berth's Nodes API.
    let edge = cluster.node_id(2).to_owned();
    let (status, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/nodes/{edge}/labels/zone"),
            Some(json!({"value": "edge"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut pinned_spec = changed.clone();
    pinned_spec["placement"] = json!({"constraints": ["node.labels.zone==edge"]});
    api.put(&id, pinned_spec).await;
    let view = api
        .until(&id, 90, "deployment #5 (pinned) live", |v| {
            settled(v, 5, "succeeded") && running(v).len() == 3
        })
        .await;
    assert_eq!(view["spec"]["placement"]["constraints"][0], "node.labels.zone==edge");
    let hosts = nodes_of(&view);
    assert_eq!(hosts, BTreeSet::from([cluster.hostname(2)]), "all on the labelled node");

    // Unpinned, then node 1 drained through Berth: its replicas move, and the page says
    // where they run now.
    api.put(&id, changed.clone()).await;
    api.until(&id, 90, "deployment #6 (unpinned) live", |v| {
        settled(v, 6, "succeeded") && running(v).len() == 3
    })
    .await;
    let drained = cluster.node_id(1).to_owned();
    let (status, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/nodes/{drained}/availability"),
            Some(json!({"availability": "drain"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let gone = cluster.hostname(1);
    api.until(&id, 60, "no replica on the drained node", |v| {
        running(v).len() == 3 && !nodes_of(v).contains(&gone)
    })
    .await;
    let (status, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/nodes/{drained}/availability"),
            Some(json!({"availability": "active"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // A worker's engine stops: Swarm reschedules its replicas on the others, Berth shows
    // them there; when it comes back, nothing runs twice.
    let view = api.service(&id).await;
    let lost = if nodes_of(&view).contains(&cluster.hostname(2)) { 2 } else { 1 };
    let lost_name = cluster.hostname(lost);
    let t = Instant::now();
    cluster.stop_node(lost);
    api.until(&id, 90, "three replicas off the lost node", |v| {
        running(v).len() == 3 && !nodes_of(v).contains(&lost_name)
    })
    .await;
    eprintln!("replicas rescheduled off a lost node in {:.1?}", t.elapsed());
    cluster.start_node(lost).await;
    cluster
        .wait_node_state(lost, bollard::models::NodeState::READY, Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let view = api.service(&id).await;
    assert_eq!(running(&view).len(), 3, "no duplicate after the node came back: {view:#}");
    let services = swarm_services(&cluster, &id).await;
    assert_eq!(services.len(), 1);
    let swarm_id = services[0].id.clone().unwrap();
    assert_eq!(task_images(&cluster, &swarm_id).await.len(), 3);

    // Deleted: its Swarm service goes, and with it every task.
    let (status, body) = api
        .call(reqwest::Method::DELETE, &format!("/api/v1/services/{id}"), None)
        .await;
    assert!(status == 202 || status == 204, "{status} {body}");
    let waited = Instant::now();
    while !swarm_services(&cluster, &id).await.is_empty() {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the Swarm service is still there"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!("swarm mode test took {:.1?}", began.elapsed());
}
