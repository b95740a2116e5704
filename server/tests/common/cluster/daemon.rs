//! One node's Docker daemon: a `dockerd` of its own inside the node's network namespace
//! and UTS namespace, with its own config file, data root, exec root (where it starts its
//! own managed containerd), pid file and unix socket — all under the node's folder.

use super::host;
use bollard::Docker;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The machine engine's config, whose `storage-driver` and `mtu` the nodes copy.
const MACHINE_CONFIG: &str = "/etc/docker/daemon.json";

/// Node `i` of cluster `k`: its folder and, while it runs, its daemon process.
pub struct Node {
    pub k: u8,
    pub index: usize,
    pub dir: PathBuf,
    child: Option<Child>,
}

impl Node {
    /// Prepares node `i` (network namespace, hostname, config file) without starting it.
    /// `registry` is `host:port` of the cluster's registry, allowed without TLS, as is any
    /// registry on the cluster's bridge (`Cluster::private_registry`).
    pub fn prepare(k: u8, i: usize, registry: &str) -> Node {
        let dir = host::state_dir(k).join(format!("n{i}"));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::create_dir_all(dir.join("exec")).unwrap();
        host::create_node_net(k, i, &dir.join("uts"));
        let machine: serde_json::Value = std::fs::read_to_string(MACHINE_CONFIG)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let mut config = serde_json::json!({
            "data-root": dir.join("data"),
            "exec-root": dir.join("exec"),
            "pidfile": dir.join("docker.pid"),
            "hosts": [format!("unix://{}", dir.join("docker.sock").display())],
            "cgroup-parent": host::cgroup_parent(k, i),
            "insecure-registries": [registry, format!("{}/24", host::host_ip(k))],
            "iptables": true,
            "log-driver": "json-file",
            "log-opts": {"max-size": "1m"},
        });
        for key in ["storage-driver", "mtu"] {
            if let Some(v) = machine.get(key) {
                config[key] = v.clone();
            }
        }
        std::fs::write(
            dir.join("daemon.json"),
            serde_json::to_vec_pretty(&config).unwrap(),
        )
        .unwrap();
        Node {
            k,
            index: i,
            dir,
            child: None,
        }
    }

    /// The daemon's unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    /// Starts the daemon (`nsenter --net=… --uts=… dockerd --config-file …`; `ip netns
    /// exec` would remount /sys, and dockerd then fails "Devices cgroup isn't mounted")
    /// and waits until it answers, up to 60 s. Its output goes to `<node>/dockerd.log`.
    pub async fn start(&mut self) -> Docker {
        assert!(self.child.is_none(), "node {} already runs", self.index);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("dockerd.log"))
            .unwrap();
        let netns = format!("--net=/var/run/netns/{}", host::netns(self.k, self.index));
        let uts = format!("--uts={}", self.dir.join("uts").display());
        let child = Command::new("nsenter")
            .args([netns.as_str(), uts.as_str(), "dockerd", "--config-file"])
            .arg(self.dir.join("daemon.json"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("nsenter and dockerd (docker.io) are installed");
        self.child = Some(child);
        self.wait_answers().await
    }

    async fn wait_answers(&mut self) -> Docker {
        let began = Instant::now();
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                panic!(
                    "dockerd of node {} exited ({status}): {}",
                    self.index,
                    self.log_tail()
                );
            }
            if let Ok(docker) = connect(&self.socket()).await {
                return docker;
            }
            assert!(
                began.elapsed() < Duration::from_secs(60),
                "dockerd of node {} did not answer in 60 s: {}",
                self.index,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops the daemon as an operator would: SIGTERM to its pid, SIGKILL after 30 s;
    /// returns once it has exited. Its containers stop with it (no live-restore).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id() as i32;
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let began = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if began.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM without waiting (to stop several daemons at once; `stop` or drop
    /// then reaps).
    pub fn terminate(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if child.try_wait().ok().flatten().is_none() {
                // SAFETY: kill(2) on our own child, not yet reaped.
                unsafe {
                    libc::kill(child.id() as i32, libc::SIGTERM);
                }
            }
        }
    }

    /// Whether the daemon process runs.
    pub fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().unwrap().is_none(),
            None => false,
        }
    }

    /// The last lines of the daemon's log (for failure messages).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A client of the daemon at `socket`, version negotiated, that answered a ping.
pub async fn connect(socket: &Path) -> Result<Docker, bollard::errors::Error> {
    let docker =
        Docker::connect_with_unix(socket.to_str().unwrap(), 120, bollard::API_DEFAULT_VERSION)?
            .negotiate_version()
            .await?;
    docker.ping().await?;
    Ok(docker)
}
