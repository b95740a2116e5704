//! The Swarm cluster fixture proves itself (issue 19's test bed): three real nodes on this
//! machine, an image pushed to the cluster's registry and run by digest on all of them,
//! traffic between tasks on different nodes over an attachable overlay network by
//! `tasks.<service>`, and a worker lost and regained as a person would see it.

mod common;

use bollard::models::{
    EndpointSpec, EndpointSpecModeEnum, NetworkAttachmentConfig, NetworkCreateRequest, NodeState,
    ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, TaskSpec, TaskSpecContainerSpec,
    TaskState,
};
use bollard::query_parameters::{ListContainersOptionsBuilder, ListTasksOptionsBuilder};
use common::cluster::{busybox_image, Cluster};
use common::registry::ImageGuard;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

const SERVICE: &str = "web";
const NETWORK: &str = "apps";
const REPLICAS: usize = 6;

/// A running task: the index of its node and its container's id.
#[derive(Debug, Clone)]
struct Running {
    node: usize,
    container: String,
}

/// The service's tasks that Swarm wants running and that run, by node index.
async fn running_tasks(cluster: &Cluster) -> Vec<Running> {
    let filters = HashMap::from([("service", vec![SERVICE])]);
    let options = ListTasksOptionsBuilder::default().filters(&filters).build();
    let tasks = cluster.docker(0).list_tasks(Some(options)).await.unwrap();
    tasks
        .into_iter()
        .filter(|t| t.desired_state == Some(TaskState::RUNNING))
        .filter_map(|t| {
            let status = t.status?;
            if status.state != Some(TaskState::RUNNING) {
                return None;
            }
            let node_id = t.node_id?;
            let node = (0..cluster.node_count()).find(|&i| cluster.node_id(i) == node_id)?;
            let container = status.container_status?.container_id?;
            Some(Running { node, container })
        })
        .collect()
}

/// Waits until `check` holds for the running tasks, up to `limit`; answers them.
async fn wait_tasks(
    cluster: &Cluster,
    what: &str,
    limit: Duration,
    check: impl Fn(&[Running]) -> bool,
) -> Vec<Running> {
    let began = Instant::now();
    loop {
        let tasks = running_tasks(cluster).await;
        if check(&tasks) {
            return tasks;
        }
        assert!(
            began.elapsed() < limit,
            "{what}: not within {limit:?}; running: {tasks:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn nodes_of(tasks: &[Running]) -> BTreeSet<usize> {
    tasks.iter().map(|t| t.node).collect()
}

/// The overlay address of a task's container, as its node reports it.
async fn task_ip(cluster: &Cluster, task: &Running) -> String {
    let container = cluster
        .docker(task.node)
        .inspect_container(&task.container, None)
        .await
        .unwrap();
    container
        .network_settings
        .and_then(|s| s.networks)
        .and_then(|n| n.get(NETWORK).cloned())
        .and_then(|n| n.ip_address)
        .expect("the task is on the overlay network")
}

/// Containers of the service running on node `i`, as that node's own daemon lists them.
async fn containers_on(cluster: &Cluster, i: usize) -> usize {
    let filters = HashMap::from([(
        "label",
        vec![format!("com.docker.swarm.service.name={SERVICE}")],
    )]);
    let options = ListContainersOptionsBuilder::default()
        .filters(&filters)
        .build();
    cluster
        .docker(i)
        .list_containers(Some(options))
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_spread_reach_each_other_and_survive_a_lost_worker() {
    let began = Instant::now();
    let mut images = ImageGuard::default();
    let tag = common::images::unique_tag("cluster-busybox");
    images.0.push(busybox_image(&tag));

    let t = Instant::now();
    let mut cluster = Cluster::start(2).await;
    eprintln!("cluster {} started in {:.1?}", cluster.index(), t.elapsed());

    // Three nodes, Ready, one manager, three distinct hostnames.
    let nodes = cluster.nodes().await;
    assert_eq!(nodes.len(), 3, "three nodes: {nodes:?}");
    let hostnames: BTreeSet<String> = nodes
        .iter()
        .filter_map(|n| n.description.as_ref()?.hostname.clone())
        .collect();
    let expected: BTreeSet<String> = (0..3).map(|i| cluster.hostname(i)).collect();
    assert_eq!(hostnames, expected);
    for node in &nodes {
        assert_eq!(
            node.status.as_ref().and_then(|s| s.state),
            Some(NodeState::READY)
        );
    }
    let managers = nodes.iter().filter(|n| n.manager_status.is_some()).count();
    assert_eq!(managers, 1, "only node 0 manages");

    // The image reaches every node through the registry, by digest.
    let reference = cluster.push(&tag).await;
    assert!(reference.contains("@sha256:"), "{reference}");

    // Six replicas of `busybox httpd` on an attachable overlay, dnsrr endpoints.
    let manager = cluster.docker(0);
    manager
        .create_network(NetworkCreateRequest {
            name: NETWORK.to_owned(),
            driver: Some("overlay".to_owned()),
            attachable: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let spec = ServiceSpec {
        name: Some(SERVICE.to_owned()),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(REPLICAS as i64),
            }),
            ..Default::default()
        }),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(reference.clone()),
                args: Some(
                    ["httpd", "-f", "-p", "8080", "-h", "/"]
                        .map(String::from)
                        .to_vec(),
                ),
                stop_grace_period: Some(1_000_000_000),
                ..Default::default()
            }),
            networks: Some(vec![NetworkAttachmentConfig {
                target: Some(NETWORK.to_owned()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        endpoint_spec: Some(EndpointSpec {
            mode: Some(EndpointSpecModeEnum::DNSRR),
            ..Default::default()
        }),
        ..Default::default()
    };
    let t = Instant::now();
    manager.create_service(spec, None).await.unwrap();
    let tasks = wait_tasks(
        &cluster,
        "six replicas on three nodes",
        Duration::from_secs(90),
        |ts| ts.len() == REPLICAS && nodes_of(ts).len() == 3,
    )
    .await;
    eprintln!("{REPLICAS} replicas running in {:.1?}", t.elapsed());

    // From a task on a worker: `tasks.web` names all six, and each task on another node
    // answers with its own hostname (its container id) over the overlay.
    let from = tasks.iter().find(|t| t.node == 1).unwrap().clone();
    let mut ips = HashMap::new();
    for task in &tasks {
        ips.insert(task_ip(&cluster, task).await, task.clone());
    }
    let (code, lookup) = cluster
        .exec(
            1,
            &from.container,
            &["busybox", "nslookup", "tasks.web"],
            None,
        )
        .await;
    assert_eq!(code, 0, "nslookup tasks.web: {lookup}");
    let resolved: BTreeSet<String> = lookup
        .split("Name:")
        .skip(1)
        .filter_map(|entry| entry.split("Address:").nth(1))
        .map(|a| a.split_whitespace().next().unwrap_or_default().to_owned())
        .collect();
    let known: BTreeSet<String> = ips.keys().cloned().collect();
    assert_eq!(resolved, known, "tasks.web from node 1: {lookup}");
    let request = b"GET /etc/hostname HTTP/1.0\r\n\r\n";
    let mut reached = BTreeSet::new();
    for (ip, task) in ips.iter().filter(|(_, t)| t.node != 1) {
        let (code, answer) = cluster
            .exec(
                1,
                &from.container,
                &["busybox", "nc", "-w", "5", ip, "8080"],
                Some(request),
            )
            .await;
        assert_eq!(code, 0, "nc {ip}: {answer}");
        assert!(
            answer.starts_with("HTTP/1.1 200 OK") && answer.contains(&task.container[..12]),
            "task {ip} on node {} answers with its hostname: {answer:?}",
            task.node
        );
        reached.insert(task.node);
    }
    assert_eq!(reached, BTreeSet::from([0, 2]));

    // A worker lost: shown down, its replicas run elsewhere.
    let t = Instant::now();
    cluster.stop_node(2);
    cluster
        .wait_node_state(2, NodeState::DOWN, Duration::from_secs(30))
        .await;
    let down = t.elapsed();
    wait_tasks(
        &cluster,
        "six replicas on the two nodes left",
        Duration::from_secs(60),
        |ts| ts.len() == REPLICAS && !nodes_of(ts).contains(&2),
    )
    .await;
    eprintln!(
        "node 2 stopped: down after {down:.1?}, replicas rescheduled after {:.1?}",
        t.elapsed()
    );

    // It comes back: Ready, and still exactly six replicas (no duplicates on any node).
    let t = Instant::now();
    cluster.start_node(2).await;
    eprintln!("node 2 rejoined in {:.1?}", t.elapsed());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let tasks = running_tasks(&cluster).await;
    assert_eq!(tasks.len(), REPLICAS, "{tasks:?}");
    let mut containers = 0;
    for i in 0..cluster.node_count() {
        containers += containers_on(&cluster, i).await;
    }
    assert_eq!(
        containers, REPLICAS,
        "running containers on all three nodes"
    );

    drop(cluster);
    eprintln!("total {:.1?}", began.elapsed());
}
