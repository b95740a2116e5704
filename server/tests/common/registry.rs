//! A real image registry for tests: Debian's `docker-registry` (the CNCF distribution
//! registry, 2.8) on loopback, open or with htpasswd basic auth, in a folder of its own that
//! goes (with the process) when the fixture is dropped. The engine pushes to and pulls from
//! `localhost:PORT` without TLS.

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    PushImageOptionsBuilder, RemoveImageOptions, TagImageOptionsBuilder,
};
use futures::StreamExt;
use server::engine::Engine;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry binary (Debian package `docker-registry`).
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A running registry; killed and its storage removed on drop.
pub struct Registry {
    addr: std::net::SocketAddr,
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

/// A user name and password for a registry with basic auth.
#[derive(Debug, Clone)]
pub struct Login {
    pub username: String,
    pub password: String,
}

impl Registry {
    /// An open registry (anyone may push and pull).
    pub async fn start() -> Registry {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
        Self::launch(addr, None, &std::env::temp_dir()).await
    }

    /// An open registry listening on `addr` (e.g. a test cluster's bridge address, where
    /// other daemons reach it), its storage in a folder under `parent`. [`Registry::host`]
    /// still names `localhost:PORT`: the caller forwards that port to `addr` when the
    /// machine's engine must reach it.
    pub async fn start_on(addr: std::net::SocketAddr, parent: &std::path::Path) -> Registry {
        Self::launch(addr, None, parent).await
    }

    /// As [`Registry::start_on`], asking for `user`/`password` on every request.
    pub async fn start_on_with_auth(
        addr: std::net::SocketAddr,
        parent: &std::path::Path,
        user: &str,
        password: &str,
    ) -> Registry {
        Self::launch(addr, Some((user, password)), parent).await
    }

    /// A registry that asks for `user`/`password` (htpasswd, bcrypt) on every request.
    pub async fn start_with_auth(user: &str, password: &str) -> Registry {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
        Self::launch(addr, Some((user, password)), &std::env::temp_dir()).await
    }

    async fn launch(
        addr: std::net::SocketAddr,
        auth: Option<(&str, &str)>,
        parent: &std::path::Path,
    ) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("berth-registry-")
            .tempdir_in(parent)
            .unwrap();
        let port = addr.port();
        let storage = dir.path().join("storage");
        std::fs::create_dir(&storage).unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            storage.display()
        );
        if let Some((user, password)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (apache2-utils) is installed by scripts/setup");
            assert!(out.status.success(), "htpasswd failed");
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, &out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                file.display()
            ));
        }
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry is installed by scripts/setup");
        let registry = Registry {
            addr,
            port,
            child,
            dir,
        };
        registry.wait_ready().await;
        registry
    }

    /// Waits until `GET /v2/` answers (200 open, 401 with auth).
    async fn wait_ready(&self) {
        let url = format!("http://{}/v2/", self.addr);
        let began = Instant::now();
        loop {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() || r.status() == reqwest::StatusCode::UNAUTHORIZED {
                    return;
                }
            }
            assert!(
                began.elapsed() < Duration::from_secs(20),
                "the registry did not answer on {url}: {}",
                std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `localhost:PORT`: the registry part of an image reference.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Tags the local image `local` as `<host>/<repo_tag>`, pushes it (with `auth` when the
    /// registry asks for it) and removes that tag again, so the engine has the image under
    /// the registry's name only once something pulls it (as on a machine that did not
    /// build it). Returns the pushed reference (`localhost:P/demo:latest`).
    pub async fn push(
        &self,
        engine: &Engine,
        local: &str,
        repo_tag: &str,
        auth: Option<&Login>,
    ) -> String {
        let reference = format!("{}/{repo_tag}", self.host());
        let (repo, tag) = reference.rsplit_once(':').expect("repo:tag");
        let docker = engine.client().await.unwrap();
        let options = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        docker.tag_image(local, Some(options)).await.unwrap();
        let credentials = auth.map(|a| DockerCredentials {
            username: Some(a.username.clone()),
            password: Some(a.password.clone()),
            serveraddress: Some(self.host()),
            ..Default::default()
        });
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let mut progress = docker.push_image(repo, Some(options), credentials);
        while let Some(item) = progress.next().await {
            let info = item.unwrap_or_else(|e| panic!("push of {reference}: {e}"));
            if let Some(e) = info.error_detail.and_then(|d| d.message) {
                panic!("push of {reference}: {e}");
            }
        }
        docker
            .remove_image(&reference, None::<RemoveImageOptions>, None)
            .await
            .unwrap_or_else(|e| panic!("untagging {reference}: {e}"));
        reference
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Our own child, by its pid; the folder goes with `dir`.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on now (bound to port 0, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The image id (`sha256:…`) the engine has under `reference`.
pub async fn image_id(engine: &Engine, reference: &str) -> String {
    let docker = engine.client().await.unwrap();
    let image = docker.inspect_image(reference).await.unwrap();
    image.id.expect("an image has an id")
}

/// Images a test made (by id), removed with every tag and digest naming them when it ends,
/// even when it fails half-way. Declare it before what runs containers from them, so it is
/// dropped after them (an image a container still uses would only be untagged).
#[derive(Default)]
pub struct ImageGuard(pub Vec<String>);

impl Drop for ImageGuard {
    fn drop(&mut self) {
        for id in &self.0 {
            let _ = Command::new("docker").args(["rmi", "-f", id]).output();
        }
    }
}
