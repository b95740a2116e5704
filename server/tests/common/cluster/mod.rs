//! A real Docker Swarm cluster on this one machine, as a test fixture: a manager and
//! `workers` worker nodes, each an extra `dockerd` in a network namespace of its own on a
//! Linux bridge, plus an image registry all nodes pull from.
//!
//! Layout of cluster `k` (an index chosen under `/tmp/berth-cluster.lock`, so parallel
//! test processes each run one side by side):
//! - bridge `bcl<k>` with `10.99.<k>.1/24` on the host; node `i` (0 = manager) in netns
//!   `bcl<k>-n<i>` at `10.99.<k>.(10+i)`, hostname `bcl<k>-n<i>`;
//! - node folders, sockets and the registry's storage under `/tmp/berth-cluster-<k>/`;
//! - the registry listens on `10.99.<k>.1:P` (the nodes allow it without TLS) and the
//!   test process forwards `127.0.0.1:P` to it, so the machine's engine pushes to
//!   `localhost:P` (insecure by default) and the nodes pull `10.99.<k>.1:P/…@sha256:…`.
//!
//! The machine's own engine never joins or initialises a swarm: it only builds and pushes.
//! Everything is removed on drop (also when the test panics), and a later start sweeps
//! what a killed test process left (`scripts/cluster-clean` does the same by hand).
//! Overlay networking needs the host's FORWARD rule on the bridge (in `host`); service VIPs
//! do not work in the namespaces (no IPVS), so tests use `dnsrr` endpoints.

mod daemon;
mod host;

use super::registry::Registry;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{
    NodeState, SwarmInitRequest, SwarmJoinRequest, SwarmSpec, SwarmSpecDispatcher,
};
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use bollard::Docker;
use futures::StreamExt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// How often workers report to the manager: 1 s (Swarm's default is 5 s), so a stopped
/// node is seen down within seconds.
const HEARTBEAT_NS: i64 = 1_000_000_000;
/// The address pool of overlay networks (kept apart from `10.99.0.0/16`).
const ADDRESS_POOL: &str = "10.210.0.0/16";

/// A running cluster; torn down when dropped.
pub struct Cluster {
    k: u8,
    nodes: Vec<daemon::Node>,
    clients: Vec<Option<Docker>>,
    node_ids: Vec<String>,
    registry: Option<Registry>,
    registry_port: u16,
    forwarder: Option<tokio::task::JoinHandle<()>>,
    /// Private registries (`private_registry`) and their forwarders.
    private: Vec<(Registry, tokio::task::JoinHandle<()>)>,
}

impl Cluster {
    /// A manager and `workers` workers, all `Ready`, with the registry running. Panics
    /// (after tearing down what it made) when a step fails, with the daemon's log.
    pub async fn start(workers: usize) -> Cluster {
        assert!(workers <= 7, "at most 7 workers (8 nodes)");
        let k = host::reserve();
        let mut cluster = Cluster {
            k,
            nodes: Vec::new(),
            clients: Vec::new(),
            node_ids: Vec::new(),
            registry: None,
            registry_port: 0,
            forwarder: None,
            private: Vec::new(),
        };
        host::create_bridge(k);
        cluster.start_registry().await;
        let registry = format!("{}:{}", host::host_ip(k), cluster.registry_port);
        for i in 0..=workers {
            let mut node = daemon::Node::prepare(k, i, &registry);
            let client = node.start().await;
            cluster.nodes.push(node);
            cluster.clients.push(Some(client));
        }
        cluster.form_swarm().await;
        cluster.wait_nodes().await;
        cluster
    }

    /// The registry on the bridge address and the loopback forwarder to it.
    async fn start_registry(&mut self) {
        let (listener, target) = self.bridge_port();
        self.registry = Some(Registry::start_on(target, &host::state_dir(self.k)).await);
        self.registry_port = target.port();
        self.forwarder = Some(forward(listener, target));
    }

    /// A free loopback port, and the same port on the host's bridge address.
    fn bridge_port(&self) -> (std::net::TcpListener, SocketAddr) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ip: Ipv4Addr = host::host_ip(self.k).parse().unwrap();
        (listener, SocketAddr::from((ip, port)))
    }

    /// Another registry on the bridge, asking for `login` on every request (htpasswd),
    /// forwarded from loopback like the first: the machine's engine pushes to
    /// `localhost:P` (see [`Registry::push`]), the nodes pull from the answered
    /// `10.99.<k>.1:P`. It stops with the cluster.
    pub async fn private_registry(
        &mut self,
        login: &super::registry::Login,
    ) -> (&Registry, String) {
        let (listener, target) = self.bridge_port();
        let registry = Registry::start_on_with_auth(
            target,
            &host::state_dir(self.k),
            &login.username,
            &login.password,
        )
        .await;
        self.private.push((registry, forward(listener, target)));
        (&self.private.last().unwrap().0, target.to_string())
    }

    /// `swarm init` on node 0 advertising its bridge address; every other node joins as a
    /// worker. Records each node's swarm id.
    async fn form_swarm(&mut self) {
        let manager_ip = host::node_ip(self.k, 0);
        let init = SwarmInitRequest {
            listen_addr: Some(format!("{manager_ip}:2377")),
            advertise_addr: Some(manager_ip.clone()),
            default_addr_pool: Some(vec![ADDRESS_POOL.to_owned()]),
            subnet_size: Some(24),
            spec: Some(SwarmSpec {
                dispatcher: Some(SwarmSpecDispatcher {
                    heartbeat_period: Some(HEARTBEAT_NS),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let manager = self.docker(0);
        manager
            .init_swarm(init)
            .await
            .unwrap_or_else(|e| panic!("swarm init on node 0: {e}"));
        let token = manager
            .inspect_swarm()
            .await
            .unwrap()
            .join_tokens
            .and_then(|t| t.worker)
            .expect("a worker join token");
        for i in 1..self.nodes.len() {
            let ip = host::node_ip(self.k, i);
            let join = SwarmJoinRequest {
                listen_addr: Some(format!("{ip}:2377")),
                advertise_addr: Some(ip),
                remote_addrs: Some(vec![format!("{manager_ip}:2377")]),
                join_token: Some(token.clone()),
                ..Default::default()
            };
            self.docker(i)
                .join_swarm(join)
                .await
                .unwrap_or_else(|e| panic!("node {i} joining the swarm: {e}"));
        }
        for i in 0..self.nodes.len() {
            let info = self.docker(i).info().await.unwrap();
            let id = info.swarm.and_then(|s| s.node_id).unwrap_or_default();
            assert!(!id.is_empty(), "node {i} has no swarm node id");
            self.node_ids.push(id);
        }
    }

    /// The cluster's index `k` (its addresses are `10.99.<k>.0/24`).
    pub fn index(&self) -> u8 {
        self.k
    }

    /// Node 0's unix socket (for a bollard client or `docker -H unix://…`).
    pub fn manager_socket(&self) -> PathBuf {
        self.nodes[0].socket()
    }

    /// A client of node `i`'s daemon. Panics while that node is stopped.
    pub fn docker(&self, i: usize) -> Docker {
        self.clients[i]
            .clone()
            .unwrap_or_else(|| panic!("node {i} is stopped"))
    }

    /// The registry as the nodes reach it (`10.99.<k>.1:P`, allowed without TLS): what
    /// `BERTH_REGISTRY` is set to for a Berth on the manager.
    pub fn registry_address(&self) -> String {
        format!("{}:{}", host::host_ip(self.k), self.registry_port)
    }

    /// Node `i`'s swarm node id.
    pub fn node_id(&self, i: usize) -> &str {
        &self.node_ids[i]
    }

    /// Node `i`'s hostname as Swarm shows it (`bcl<k>-n<i>`).
    pub fn hostname(&self, i: usize) -> String {
        host::netns(self.k, i)
    }

    /// How many nodes the cluster has (manager included).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Every node as the manager lists it.
    pub async fn nodes(&self) -> Vec<bollard::models::Node> {
        self.docker(0)
            .list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
            .await
            .unwrap()
    }

    /// Node `i`'s state as the manager sees it (`ready`, `down`, …).
    pub async fn node_state(&self, i: usize) -> Option<NodeState> {
        let node = self.docker(0).inspect_node(&self.node_ids[i]).await.ok()?;
        node.status.and_then(|s| s.state)
    }

    /// Waits until the manager sees node `i` in `state`, up to `limit`; panics otherwise.
    pub async fn wait_node_state(&self, i: usize, state: NodeState, limit: Duration) {
        let began = Instant::now();
        loop {
            let now = self.node_state(i).await;
            if now == Some(state) {
                return;
            }
            assert!(
                began.elapsed() < limit,
                "node {i} still {now:?} after {limit:?}, expected {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until every node is `ready`, up to 60 s.
    pub async fn wait_nodes(&self) {
        for i in 0..self.nodes.len() {
            self.wait_node_state(i, NodeState::READY, Duration::from_secs(60))
                .await;
        }
    }

    /// Stops worker `i`'s daemon by its pid (SIGTERM; its containers stop with it) and
    /// waits until it has exited. The manager (node 0) cannot be stopped.
    pub fn stop_node(&mut self, i: usize) {
        assert!(i > 0, "the manager stays up");
        self.clients[i] = None;
        self.nodes[i].stop();
    }

    /// Starts worker `i`'s daemon again (same data root: it rejoins the swarm by itself)
    /// and waits until the manager sees it `ready` (60 s at most; panics otherwise).
    pub async fn start_node(&mut self, i: usize) {
        let client = self.nodes[i].start().await;
        self.clients[i] = Some(client);
        self.wait_node_state(i, NodeState::READY, Duration::from_secs(60))
            .await;
    }

    /// Pushes the machine engine's image `local` (`repo:tag`) to the cluster's registry and
    /// answers the reference every node pulls: `10.99.<k>.1:P/<repo>@sha256:…`. The
    /// registry-named tag is removed from the machine's engine again.
    pub async fn push(&self, local: &str) -> String {
        let (repo, tag) = local.rsplit_once(':').expect("local image as repo:tag");
        let machine = Docker::connect_with_local_defaults()
            .unwrap()
            .negotiate_version()
            .await
            .unwrap();
        let pushed = format!("localhost:{}/{repo}", self.registry_port);
        let options = TagImageOptionsBuilder::default()
            .repo(&pushed)
            .tag(tag)
            .build();
        machine.tag_image(local, Some(options)).await.unwrap();
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let mut progress = machine.push_image(&pushed, Some(options), None);
        while let Some(item) = progress.next().await {
            let info = item.unwrap_or_else(|e| panic!("push of {pushed}:{tag}: {e}"));
            if let Some(e) = info.error_detail.and_then(|d| d.message) {
                panic!("push of {pushed}:{tag}: {e}");
            }
        }
        let image = machine
            .inspect_image(&format!("{pushed}:{tag}"))
            .await
            .unwrap();
        let prefix = format!("{pushed}@");
        let digest = image
            .repo_digests
            .unwrap_or_default()
            .into_iter()
            .find_map(|d| d.strip_prefix(&prefix).map(str::to_owned))
            .expect("a repo digest after the push");
        let _ = machine
            .remove_image(
                &format!("{pushed}:{tag}"),
                None::<bollard::query_parameters::RemoveImageOptions>,
                None,
            )
            .await;
        format!(
            "{}:{}/{repo}@{digest}",
            host::host_ip(self.k),
            self.registry_port
        )
    }

    /// Runs `cmd` in container `container` on node `i`, writing `stdin` to it first (kept
    /// open until the command exits); answers the exit code and stdout+stderr.
    pub async fn exec(
        &self,
        i: usize,
        container: &str,
        cmd: &[&str],
        stdin: Option<&[u8]>,
    ) -> (i64, String) {
        let docker = self.docker(i);
        let created = docker
            .create_exec(
                container,
                CreateExecOptions {
                    cmd: Some(cmd.to_vec()),
                    attach_stdin: Some(stdin.is_some()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("exec in {container} on node {i}: {e}"));
        let started = docker
            .start_exec(&created.id, None::<StartExecOptions>)
            .await
            .unwrap();
        let mut text = String::new();
        if let StartExecResults::Attached {
            mut output,
            mut input,
        } = started
        {
            if let Some(bytes) = stdin {
                input.write_all(bytes).await.unwrap();
                input.flush().await.unwrap();
            }
            while let Some(Ok(chunk)) = output.next().await {
                text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
            }
        }
        let code = docker
            .inspect_exec(&created.id)
            .await
            .unwrap()
            .exit_code
            .unwrap_or(-1);
        (code, text)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(forwarder) = self.forwarder.take() {
            forwarder.abort();
        }
        for (_, forwarder) in self.private.drain(..) {
            forwarder.abort();
        }
        // All daemons at once (each takes seconds to stop its containers), then reaped.
        for node in &mut self.nodes {
            node.terminate();
        }
        self.nodes.clear();
        self.registry.take();
        host::teardown(self.k);
    }
}

/// Copies every connection to `listener` to `target`, until aborted.
fn forward(listener: std::net::TcpListener, target: SocketAddr) -> tokio::task::JoinHandle<()> {
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })
}

/// Tags a minimal image on the machine's engine as `tag` (`repo:tag`): only the static
/// busybox binary (`/bin/busybox`, Debian's busybox-static), `docker import`ed with
/// `ENTRYPOINT ["/bin/busybox"]` — `sh`, `httpd`, `nc`, `nslookup`, `sleep` as arguments.
/// Answers the image id (for an `ImageGuard`).
pub fn busybox_image(tag: &str) -> String {
    use std::io::Write;
    let busybox = std::fs::read(super::images::BUSYBOX)
        .expect("busybox-static is installed by scripts/setup");
    let mut archive = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(busybox.len() as u64);
    header.set_mode(0o755);
    header.set_cksum();
    archive
        .append_data(&mut header, "bin/busybox", busybox.as_slice())
        .unwrap();
    let archive = archive.into_inner().unwrap();
    let mut child = std::process::Command::new("docker")
        .args([
            "import",
            "--change",
            "ENTRYPOINT [\"/bin/busybox\"]",
            "-",
            tag,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("docker CLI");
    child.stdin.take().unwrap().write_all(&archive).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "docker import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
