//! Berth in Swarm mode (`BERTH_ORCHESTRATOR=swarm`) against a real three-node swarm of
//! extra daemons (`common::cluster`) and a real Caddy: a routed service deployed through
//! the API becomes one Swarm service whose six tasks spread over the three nodes, pinned by
//! registry digest, each reached through Caddy; the service page's replicas name their
//! nodes; its name resolves across nodes, and another team's task can reach none of it; a
//! scale keeps the running tasks; a new definition rolls out without a failed request
//! through Caddy, with berth restarted half-way, and succeeds only once every new task
//! runs; a definition whose tasks fail is rolled back with Swarm's reason; a constraint
//! pins the replicas to a labelled node; Berth's HTTP health check is probed on each task's
//! node and gates the deployment; a one-off command reaches the service by name; a drained node and a lost node lose their
//! replicas to the others, with no duplicate when the node returns; a deleted service
//! leaves no Swarm service behind. And, with the berth binary on a one-node swarm: an
//! installation switched from single-engine to Swarm mode keeps serving, and `kill -9` of
//! berth mid-rollout in Swarm mode converges with no duplicate.

mod common;

use bollard::models::TaskState;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListServicesOptionsBuilder, ListTasksOptionsBuilder,
};
use common::api::Api;
use common::berth_process::{
    create_service, database_url, first_run, free_port, service_view, signed_in, Berth,
};
use common::cluster::Cluster;
use common::images::build_httpd;
use common::registry::ImageGuard;
use common::{quick_worker, TestServer};
use serde_json::{json, Value};
use server::proxy::local_caddy::LocalCaddy as Caddy;
use server::worker::{Orchestrator, WorkerSettings};
use sqlx::PgPool;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `busybox httpd` ignoring SIGTERM (ignored signals stay ignored across exec).
const GRACEFUL_HTTPD: &str = "trap '' TERM; /bin/busybox httpd -f -p 8080 -h /www";

/// Berth's Swarm services for service `id`, as the manager lists them.
async fn swarm_services(cluster: &Cluster, id: &str) -> Vec<bollard::models::Service> {
    let filters = HashMap::from([("label", vec![format!("berth.service={id}")])]);
    let options = ListServicesOptionsBuilder::default()
        .filters(&filters)
        .build();
    cluster
        .docker(0)
        .list_services(Some(options))
        .await
        .unwrap()
}

/// The tasks Swarm wants running for Swarm service `swarm_id`.
async fn desired_tasks(cluster: &Cluster, swarm_id: &str) -> Vec<bollard::models::Task> {
    let filters = HashMap::from([("service", vec![swarm_id.to_owned()])]);
    let options = ListTasksOptionsBuilder::default().filters(&filters).build();
    cluster
        .docker(0)
        .list_tasks(Some(options))
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.desired_state == Some(TaskState::RUNNING))
        .collect()
}

/// The images of the tasks Swarm wants running for Swarm service `swarm_id`.
async fn task_images(cluster: &Cluster, swarm_id: &str) -> Vec<String> {
    desired_tasks(cluster, swarm_id)
        .await
        .into_iter()
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

/// The container hostnames (Docker's short ids) that answered through Caddy, asking until
/// `n` different ones answered (at most 300 requests).
async fn answering(caddy: &Caddy, host: &str, n: usize) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for _ in 0..300 {
        if let Some((200, body)) = caddy.get(host, "/cgi-bin/env").await {
            if let Some(name) = body.lines().find_map(|l| l.strip_prefix("HOSTNAME=")) {
                seen.insert(name.to_owned());
            }
        }
        if seen.len() >= n {
            break;
        }
    }
    seen
}

/// Requests through Caddy until `stop`: how many were sent, and each that did not answer
/// 200 (its status and body, or the error), with the time since the start.
fn hammer(
    port: u16,
    host: &'static str,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(usize, Vec<String>)> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let began = Instant::now();
        let (mut sent, mut failed) = (0, Vec::new());
        while !stop.load(Ordering::Relaxed) {
            let answer = client
                .get(format!("http://127.0.0.1:{port}/index.html"))
                .header("host", host)
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            sent += 1;
            match answer {
                Ok(r) if r.status() == 200 => {}
                Ok(r) => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    failed.push(format!("{:.1?}: {status} {body}", began.elapsed()));
                }
                Err(e) => failed.push(format!("{:.1?}: {e}", began.elapsed())),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (sent, failed)
    })
}

/// The index of the node whose hostname is `hostname`.
fn node_index(cluster: &Cluster, hostname: &str) -> usize {
    (0..cluster.node_count())
        .find(|&i| cluster.hostname(i) == hostname)
        .unwrap_or_else(|| panic!("no node {hostname}"))
}

/// A running replica of `view`: its node's index and its container id.
fn a_replica(cluster: &Cluster, view: &Value) -> (usize, String) {
    let c = running(view)[0];
    (
        node_index(cluster, c["node"].as_str().unwrap()),
        c["id"].as_str().unwrap().to_owned(),
    )
}

/// Swarm mode, routing through `caddy`, built images pushed to the cluster's registry.
fn swarm_worker(caddy: &Caddy, cluster: &Cluster) -> WorkerSettings {
    let mut settings = WorkerSettings {
        orchestrator: Orchestrator::Swarm,
        proxy: Some(caddy.settings()),
        // Time for Berth to take a stopping task out of Caddy before Docker kills it.
        stop_grace: Duration::from_secs(4),
        ..quick_worker()
    };
    settings.build.registry = Some(cluster.registry_address());
    settings.build.git_local_root = Some(common::local_git_root());
    settings
}

/// Waits until service `id`'s deployment #1 is live with one replica, and checks that a
/// worker (not the manager) runs it and that it holds `page` as its `/www/index.html`.
async fn live_on_a_worker(api: &Api, cluster: &Cluster, id: &str, page: &str) -> Value {
    let view = api
        .until(id, 120, "deployment #1 live with one replica", |v| {
            settled(v, 1, "succeeded") && running(v).len() == 1
        })
        .await;
    let (node, container) = a_replica(cluster, &view);
    assert_ne!(node, 0, "a worker runs it");
    let (code, body) = cluster
        .exec(
            node,
            &container,
            &["/bin/busybox", "cat", "/www/index.html"],
            None,
        )
        .await;
    assert_eq!((code, body.as_str()), (0, page));
    view
}

fn settled(view: &Value, number: u64, state: &str) -> bool {
    view["latest_deployment"]["number"] == number && view["latest_deployment"]["state"] == state
}

#[sqlx::test(migrations = false)]
async fn a_service_is_a_swarm_service_spread_over_three_nodes(pool: PgPool) {
    let began = Instant::now();
    let mut images = ImageGuard::default();
    let tag = common::images::unique_tag("swarm-mode");
    build_httpd(
        &server::engine::Engine::new(None),
        &tag,
        "hello from swarm\n",
    )
    .await;
    images.0.push(tag.clone());
    let mut cluster = Cluster::start(2).await;
    let reference = cluster.push(&tag).await;
    let caddy = Caddy::start().await.unwrap();
    let server = TestServer::start_swarm(
        pool,
        &cluster.manager_socket(),
        swarm_worker(&caddy, &cluster),
    )
    .await;
    let client = server.owner().await;
    let mut api = Api {
        server,
        client,
        image: reference.clone(),
    };
    eprintln!("cluster, caddy and berth up in {:.1?}", began.elapsed());

    // Six replicas, deployed through the API, spread by Swarm over the three nodes.
    let t = Instant::now();
    let host = "web.swarm.test";
    // The app finishes what it serves when told to stop, as a web server that shuts down
    // gracefully does (busybox httpd would drop a request in flight): it ignores SIGTERM
    // and keeps serving until Docker kills it after the stop grace.
    let spec = json!({
        "name": "web",
        "image": reference,
        "entrypoint": ["/bin/busybox", "sh", "-c", GRACEFUL_HTTPD],
        "replicas": 6,
        "env": [{"key": "GREETING", "value": "one"}],
        "http": {"domains": [host], "port": 8080}
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
    assert_eq!(
        nodes, expected,
        "Swarm spreads the replicas over every node"
    );
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

    // Caddy reaches every replica, on whichever node it runs.
    let short: BTreeSet<String> = ids(&running(&view))
        .iter()
        .map(|id| id[..12].to_owned())
        .collect();
    let answered = answering(&caddy, host, 6).await;
    assert_eq!(
        answered, short,
        "each of the six replicas answers through Caddy"
    );

    // Its name resolves on every node of its environment's overlay; a task of another
    // team (its own environment, its own overlay) can neither resolve nor reach it.
    let (node, container) = a_replica(&cluster, &view);
    let (code, body) = cluster
        .exec(
            node,
            &container,
            &["/bin/busybox", "wget", "-q", "-O-", "http://web:8080/"],
            None,
        )
        .await;
    assert_eq!((code, body.as_str()), (0, "hello from swarm\n"));
    let (code, out) = cluster
        .exec(node, &container, &["/bin/busybox", "nslookup", "web"], None)
        .await;
    assert_eq!(code, 0, "web resolves its own name: {out}");
    let (_, web_ip) = cluster
        .exec(node, &container, &["/bin/busybox", "hostname", "-i"], None)
        .await;
    let web_ip = web_ip
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        web_ip.starts_with("10.210."),
        "an overlay address: {web_ip:?}"
    );
    let team_b = common::other_team(&api.server.pool).await;
    let intruder = common::create_service_from(
        &api.server.pool,
        team_b,
        json!({"name": "intruder", "image": reference, "replicas": 1}),
    )
    .await;
    let waited = Instant::now();
    let intruder_task = loop {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT id, node FROM containers WHERE service_id = $1 AND state = 'running'",
        )
        .bind(intruder)
        .fetch_optional(&api.server.pool)
        .await
        .unwrap();
        if let Some((id, Some(node))) = row {
            break (node_index(&cluster, &node), id);
        }
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "team B's service never ran"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let (code, out) = cluster
        .exec(
            intruder_task.0,
            &intruder_task.1,
            &["/bin/busybox", "nslookup", "web"],
            None,
        )
        .await;
    assert_ne!(code, 0, "another team resolves web: {out}");
    let url = format!("http://{web_ip}:8080/");
    let (code, out) = cluster
        .exec(
            intruder_task.0,
            &intruder_task.1,
            &["/bin/busybox", "wget", "-q", "-T", "3", "-O-", &url],
            None,
        )
        .await;
    assert_ne!(code, 0, "another team reaches web's task at {url}: {out}");

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
    assert!(
        after.is_subset(&before),
        "no task replaced by a scale: {before:?} → {after:?}"
    );

    // A new definition rolls out across the nodes without a failed request through
    // Caddy, berth restarted half-way: every task replaced, one Swarm service still.
    let stop = Arc::new(AtomicBool::new(false));
    let load = hammer(caddy.http_port, host, stop.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut changed = spec.clone();
    changed["replicas"] = json!(3);
    changed["env"] = json!([{"key": "GREETING", "value": "two"}]);
    api.put(&id, changed.clone()).await;
    api.until(&id, 30, "deployment #3 in progress", |v| {
        v["latest_deployment"]["number"] == 3 && v["latest_deployment"]["state"] == "in_progress"
    })
    .await;
    api.server.restart_worker(swarm_worker(&caddy, &cluster));
    let view = api
        .until(&id, 90, "deployment #3 (new env) live", |v| {
            settled(v, 3, "succeeded") && running(v).len() == 3
        })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let (sent, failed) = load.await.unwrap();
    eprintln!(
        "rollout across nodes with a berth restart: {sent} requests, {} failed",
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "of {sent} requests, these failed: {failed:#?}"
    );
    let log = api
        .deployment_log(view["latest_deployment"]["id"].as_str().unwrap())
        .await;
    assert!(log.iter().any(|l| l.contains("resuming")), "{log:#?}");
    let replaced = ids(&running(&view));
    assert!(
        replaced.is_disjoint(&after),
        "every task is new: {after:?} → {replaced:?}"
    );
    assert_eq!(swarm_services(&cluster, &id).await.len(), 1);
    let (_, body) = caddy.get(host, "/cgi-bin/env").await.unwrap();
    assert!(body.contains("GREETING=two"), "{body}");

    // Tasks that exit at once: Swarm pauses the update, Berth rolls back with its reason
    // and deployment #3's tasks run again.
    let mut broken = changed.clone();
    broken["entrypoint"] = json!(["/bin/busybox"]);
    broken["command"] = json!(["false"]);
    api.put(&id, broken).await;
    let view = api
        .until(&id, 90, "deployment #4 rolled back", |v| {
            settled(v, 4, "rolled_back")
        })
        .await;
    let reason = view["latest_deployment"]["reason"]
        .as_str()
        .unwrap_or_default();
    eprintln!("deployment #4: {reason}");
    assert!(reason.starts_with("Swarm paused the update: "), "{reason}");
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
    assert!(
        args.is_empty(),
        "the live definition is back on the Swarm service: {args:?}"
    );

    // Berth's own HTTP health check, probed on the check's port as each task's node
    // publishes it: the tasks are recorded healthy and the deployment succeeds. A path the
    // app does not serve: the new tasks are unhealthy with what the probe got, and at the
    // deadline the rollout fails with that and deployment #5 serves again.
    let mut checked = changed.clone();
    checked["health_check"] = json!({
        "probe": {"kind": "http", "path": "/index.html", "port": 8080},
        "interval_s": 1, "timeout_s": 1, "retries": 1
    });
    api.put(&id, checked.clone()).await;
    let five = api
        .until(&id, 90, "deployment #5 live, its tasks healthy", |v| {
            settled(v, 5, "succeeded")
                && running(v).len() == 3
                && running(v).iter().all(|c| c["health"] == "healthy")
        })
        .await["latest_deployment"]["id"]
        .clone();
    checked["health_check"]["probe"]["path"] = json!("/missing");
    api.put(&id, checked).await;
    let view = api
        .until(&id, 90, "deployment #6 rolled back", |v| {
            settled(v, 6, "rolled_back")
        })
        .await;
    let reason = view["latest_deployment"]["reason"]
        .as_str()
        .unwrap_or_default();
    eprintln!("deployment #6: {reason}");
    assert!(
        reason.contains("health check GET /missing") && reason.contains("answered 404"),
        "{reason}"
    );
    assert_eq!(view["live_deployment"], 5);
    api.until(&id, 90, "deployment #5's three tasks healthy again", |v| {
        running(v).len() == 3
            && running(v)
                .iter()
                .all(|c| c["health"] == "healthy" && c["deployment_id"] == five)
    })
    .await;

    // A one-off command runs on Berth's engine (the manager), joined to the environment's
    // overlay network: it reaches the service by name, on whichever nodes its tasks run.
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/services/{id}/commands"),
            Some(
                json!({"command": ["/bin/busybox", "wget", "-qO-", "http://web:8080/index.html"]}),
            ),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let run = body["id"].as_str().unwrap().to_owned();
    let ended = api
        .until_run(&run, 60, "the command ended", |r| {
            r["state"] != "queued" && r["state"] != "running"
        })
        .await;
    assert_eq!(ended["run"]["state"], "succeeded", "{ended:#}");
    assert!(
        ended["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["line"] == "hello from swarm"),
        "the command reached the service by name: {ended:#}"
    );

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
    let mut bad = changed.clone();
    bad["placement"] = json!({"constraints": ["zone=edge"], "max_per_node": 0});
    let (status, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/services/{id}"),
            Some(bad),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("placement.constraints[0]") && text.contains("placement.max_per_node"),
        "{text}"
    );
    let mut pinned_spec = changed.clone();
    pinned_spec["placement"] = json!({"constraints": ["node.labels.zone==edge"]});
    api.put(&id, pinned_spec).await;
    let view = api
        .until(&id, 90, "deployment #5 (pinned) live", |v| {
            settled(v, 7, "succeeded") && running(v).len() == 3
        })
        .await;
    assert_eq!(
        view["spec"]["placement"]["constraints"][0],
        "node.labels.zone==edge"
    );
    let hosts = nodes_of(&view);
    assert_eq!(
        hosts,
        BTreeSet::from([cluster.hostname(2)]),
        "all on the labelled node"
    );

    // Unpinned, then node 1 drained through Berth: its replicas move, and the page says
    // where they run now.
    api.put(&id, changed.clone()).await;
    api.until(&id, 90, "deployment #6 (unpinned) live", |v| {
        settled(v, 8, "succeeded") && running(v).len() == 3
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
    let lost = if nodes_of(&view).contains(&cluster.hostname(2)) {
        2
    } else {
        1
    };
    let lost_name = cluster.hostname(lost);
    let t = Instant::now();
    cluster.stop_node(lost);
    api.until(&id, 90, "three replicas off the lost node", |v| {
        running(v).len() == 3 && !nodes_of(v).contains(&lost_name)
    })
    .await;
    eprintln!(
        "replicas rescheduled off a lost node in {:.1?}",
        t.elapsed()
    );
    cluster.start_node(lost).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let view = api.service(&id).await;
    assert_eq!(
        running(&view).len(),
        3,
        "no duplicate after the node came back: {view:#}"
    );
    let services = swarm_services(&cluster, &id).await;
    assert_eq!(services.len(), 1);
    let swarm_id = services[0].id.clone().unwrap();
    assert_eq!(task_images(&cluster, &swarm_id).await.len(), 3);

    // Deleted: its Swarm service goes, and with it every task.
    let (status, body) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/services/{id}"),
            None,
        )
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

    // Push to deploy: built on the manager, pushed to the registry, run on a worker by
    // the digest the push gave.
    let repo = common::git_repo::Repo::new();
    repo.commit(
        "main",
        "built on the manager\n",
        &common::git_repo::dockerfile(""),
        "first",
    );
    let site = api
        .create(json!({
            "name": "site",
            "git": {"repo": repo.url(), "branch": "main"},
            "placement": {"constraints": ["node.role==worker"]}
        }))
        .await;
    let view = live_on_a_worker(&api, &cluster, &site, "built on the manager\n").await;
    let log = api
        .deployment_log(view["latest_deployment"]["id"].as_str().unwrap())
        .await;
    let prefix = format!(
        "Pushed to the registry: {}/berth/",
        cluster.registry_address()
    );
    assert!(log.iter().any(|l| l.starts_with(&prefix)), "{log:#?}");
    let swarm_id = swarm_services(&cluster, &site).await[0].id.clone().unwrap();
    let image = task_images(&cluster, &swarm_id).await.remove(0);
    assert!(
        image.starts_with(&format!("{}/berth/", cluster.registry_address()))
            && image.contains("@sha256:"),
        "the task runs the pushed image by digest: {image}"
    );

    // A private registry's image (htpasswd): the credentials reach the worker that pulls.
    let login = common::registry::Login {
        username: "deployer".to_owned(),
        password: "s3cret-pass".to_owned(),
    };
    let machine = server::engine::Engine::new(None);
    let (registry, address) = cluster.private_registry(&login).await;
    let pushed = registry
        .push(&machine, &tag, "private/web:1", Some(&login))
        .await;
    let private = pushed.replacen(&registry.host(), &address, 1);
    let secret = api
        .create(json!({
            "name": "secret-web",
            "image": private,
            "registry_auth": {"username": login.username, "password": login.password},
            "placement": {"constraints": ["node.role==worker"]}
        }))
        .await;
    live_on_a_worker(&api, &cluster, &secret, "hello from swarm\n").await;
    eprintln!("swarm mode test took {:.1?}", began.elapsed());
}

/// The README's switch to Swarm mode, then `kill -9` mid-rollout, with the berth binary
/// on what becomes the manager: a service the single engine runs gets its Swarm service
/// from its live deployment when berth restarts with `BERTH_ORCHESTRATOR=swarm`, and its
/// containers go only once the Swarm service's tasks run (no new deployment). A rollout
/// whose berth is killed half-way is finished by the next berth: one Swarm service, the
/// new definition's tasks, deployment #2 succeeded.
#[sqlx::test(migrations = false)]
async fn switch_to_swarm_mode_then_kill_9_mid_rollout(pool: PgPool) {
    let mut images = ImageGuard::default();
    let tag = common::images::unique_tag("swarm-switch");
    let machine = server::engine::Engine::new(None);
    build_httpd(&machine, &tag, "before and after\n").await;
    images.0.push(tag.clone());
    let cluster = Cluster::start(0).await;
    let reference = cluster.push(&tag).await;
    let manager = cluster.docker(0);
    let url = database_url(&pool);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let host = format!("unix://{}", cluster.manager_socket().display());
    let engine_mode = [("BERTH_DOCKER_HOST", host.as_str())];
    let swarm_mode = [
        ("BERTH_DOCKER_HOST", host.as_str()),
        ("BERTH_ORCHESTRATOR", "swarm"),
    ];

    let berth = Berth::start_with(&url, data.path(), port, None, &engine_mode).await;
    let client = first_run(&berth.base).await;
    let base = berth.base.clone();
    let spec = json!({"name": "web", "image": reference, "replicas": 2});
    let id = create_service(&client, &base, &spec).await;
    let view = poll(
        &client,
        &base,
        &id,
        "deployment #1 live on one engine",
        |v| settled(v, 1, "succeeded") && running(v).len() == 2,
    )
    .await;
    assert!(
        running(&view).iter().all(|c| c["node"].is_null()),
        "single-engine replicas name no node: {view:#}"
    );
    assert!(swarm_services(&cluster, &id).await.is_empty());
    let before = ids(&running(&view));

    // The switch: berth restarted in Swarm mode. At every look until it is done, the old
    // containers or the two new tasks run.
    drop(berth);
    let mut berth = Berth::start_with(&url, data.path(), port, None, &swarm_mode).await;
    let client = signed_in(&base).await;
    let waited = Instant::now();
    loop {
        let old_running = containers_among(&manager, &before, true).await;
        let tasks_running = running_tasks(&cluster, &id).await;
        assert!(
            old_running == 2 || tasks_running == 2,
            "a gap: {old_running} old containers and {tasks_running} tasks running"
        );
        let view = service_view(&client, &base, &id).await;
        let now = ids(&running(&view));
        if old_running == 0 && now.len() == 2 && now.is_disjoint(&before) {
            assert!(
                settled(&view, 1, "succeeded"),
                "no new deployment: {view:#}"
            );
            assert!(
                running(&view)
                    .iter()
                    .all(|c| c["node"] == cluster.hostname(0)),
                "the tasks run on the manager: {view:#}"
            );
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(90),
            "not switched: {view:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        containers_among(&manager, &before, false).await,
        0,
        "the single-engine containers are removed"
    );

    // A rollout whose tasks take ~4 s each to pass their health check; berth killed while
    // it runs.
    let changed = json!({
        "name": "web", "image": reference, "replicas": 2,
        "entrypoint": ["/bin/busybox", "sh", "-c",
            "/bin/busybox sleep 3; /bin/busybox touch /ready; exec /bin/busybox httpd -f -p 8080 -h /www"],
        "env": [{"key": "GREETING", "value": "two"}],
        "health_check": {"probe": {"kind": "command", "argv": ["/bin/busybox", "test", "-f", "/ready"]}, "interval_s": 1, "start_period_s": 10}
    });
    let put = client
        .put(format!("{base}/api/v1/services/{id}"))
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    poll(&client, &base, &id, "deployment #2 in progress", |v| {
        v["latest_deployment"]["number"] == 2 && v["latest_deployment"]["state"] == "in_progress"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    berth.kill9();
    drop(berth);
    let _berth = Berth::start_with(&url, data.path(), port, None, &swarm_mode).await;
    let client = signed_in(&base).await;
    let view = poll(&client, &base, &id, "deployment #2 live", |v| {
        settled(v, 2, "succeeded") && running(v).len() == 2
    })
    .await;
    assert_eq!(
        swarm_services(&cluster, &id).await.len(),
        1,
        "one Swarm service"
    );
    assert_eq!(running_tasks(&cluster, &id).await, 2, "no duplicate task");
    let container = running(&view)[0]["id"].as_str().unwrap().to_owned();
    let (code, env) = cluster
        .exec(0, &container, &["/bin/busybox", "env"], None)
        .await;
    assert_eq!(code, 0);
    assert!(
        env.contains("GREETING=two"),
        "the new definition runs: {env}"
    );
}

/// How many of the containers `ids` exist on `engine` (with `running`: run there), in one
/// list call.
async fn containers_among(
    engine: &bollard::Docker,
    ids: &BTreeSet<String>,
    running: bool,
) -> usize {
    let mut filters = HashMap::from([("id", ids.iter().cloned().collect::<Vec<_>>())]);
    if running {
        filters.insert("status", vec!["running".to_owned()]);
    }
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    engine.list_containers(Some(options)).await.unwrap().len()
}

/// Tasks of service `id`'s Swarm service that Swarm wants running and that run.
async fn running_tasks(cluster: &Cluster, id: &str) -> usize {
    let Some(swarm_id) = swarm_services(cluster, id)
        .await
        .first()
        .and_then(|s| s.id.clone())
    else {
        return 0;
    };
    desired_tasks(cluster, &swarm_id)
        .await
        .iter()
        .filter(|t| t.status.as_ref().and_then(|s| s.state.as_ref()) == Some(&TaskState::RUNNING))
        .count()
}

/// Polls service `id` through the API until `pred` holds (at most 90 s); the last view.
async fn poll(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let began = Instant::now();
    loop {
        let view = service_view(client, base, id).await;
        if pred(&view) {
            return view;
        }
        assert!(
            began.elapsed() < Duration::from_secs(90),
            "{what}: not after 90 s: {view:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
