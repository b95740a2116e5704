//! The real server on a random port, over a fresh database from #[sqlx::test].
#![allow(dead_code)]

pub mod api;
pub mod berth_process;
pub mod browser_form;
pub mod cluster;
pub mod debian_images;
pub mod docker;
pub mod git_repo;
pub mod images;
pub mod moto;
pub mod registry;
pub mod team;
pub mod throttle;

use server::{
    engine::Engine,
    http::{serve, AppState, Settings},
    site,
    worker::{Worker, WorkerSettings},
};
use sqlx::PgPool;
use tokio::sync::oneshot;

pub struct TestServer {
    pub base: String,
    pub pool: PgPool,
    /// The `berth.instance` label of this server's containers (one per test database).
    pub instance: String,
    pub engine: Engine,
    stop: Option<oneshot::Sender<()>>,
    worker: Option<tokio::task::JoinHandle<()>>,
}

/// A fresh folder for a berth binary's data directory (`<it>/data`), removed when dropped.
/// Mode 0755: the embedded Postgres runs as an unprivileged account that must pass
/// through it.
pub fn data_root(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

/// The body of `GET url` (3 s timeout), as a person's `curl` shows it. Panics on a failed
/// request: the tests that call it expect an answer.
pub async fn get_text(url: &str) -> String {
    reqwest::Client::new()
        .get(url)
        .timeout(std::time::Duration::from_secs(3))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Where the tests' git repositories live (BERTH_GIT_LOCAL_ROOT of the test servers).
pub fn local_git_root() -> String {
    let tmp = std::env::temp_dir();
    tmp.canonicalize().unwrap_or(tmp).display().to_string()
}

/// Fast settings for tests: short deadline and grace, frequent resync.
pub fn quick_worker() -> WorkerSettings {
    WorkerSettings {
        deploy_timeout: std::time::Duration::from_secs(20),
        stop_grace: std::time::Duration::from_secs(1),
        resync_interval: std::time::Duration::from_secs(2),
        ..Default::default()
    }
}

impl TestServer {
    pub async fn start(pool: PgPool) -> TestServer {
        Self::start_with(pool, Settings::default(), None).await
    }

    pub async fn start_with(
        pool: PgPool,
        settings: Settings,
        docker_host: Option<&str>,
    ) -> TestServer {
        Self::start_full(pool, settings, docker_host, None).await
    }

    /// The server and its worker, against the real Docker engine.
    pub async fn start_with_worker(pool: PgPool, worker: WorkerSettings) -> TestServer {
        let settings = Settings {
            proxy: worker.proxy.as_ref().map(|p| p.listen),
            ..Settings::default()
        };
        Self::start_full(pool, settings, None, Some(worker)).await
    }

    /// The server and its worker in Swarm mode, on the swarm manager at `manager` (a unix
    /// socket path, e.g. `Cluster::manager_socket`).
    pub async fn start_swarm(
        pool: PgPool,
        manager: &std::path::Path,
        mut worker: WorkerSettings,
    ) -> TestServer {
        worker.orchestrator = server::worker::Orchestrator::Swarm;
        let host = format!("unix://{}", manager.display());
        let settings = Settings {
            proxy: worker.proxy.as_ref().map(|p| p.listen),
            ..Settings::default()
        };
        Self::start_full(pool, settings, Some(&host), Some(worker)).await
    }

    async fn start_full(
        pool: PgPool,
        mut settings: Settings,
        docker_host: Option<&str>,
        mut worker: Option<WorkerSettings>,
    ) -> TestServer {
        // The test repositories are temporary folders (file:// URLs): allowed below there.
        let root = local_git_root();
        settings.git_local_root.get_or_insert_with(|| root.clone());
        if let Some(w) = worker.as_mut() {
            w.build.git_local_root.get_or_insert(root);
        }
        server::db::migrate(&pool).await.expect("migrations");
        let instance = app::store::settings::instance_id(&pool)
            .await
            .unwrap()
            .to_string();
        let engine = Engine::new(docker_host).for_instance(&instance);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let options = site::leptos_options(std::path::Path::new("target/site"), addr);
        let secrets = server::secrets::SecretBox::from_key_bytes(&[9u8; 32]).unwrap();
        let worker =
            worker.map(|w| Worker::new(pool.clone(), engine.clone(), secrets.clone(), w).spawn());
        let state = AppState::new(pool.clone(), engine.clone(), secrets, settings, options)
            .await
            .unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(serve(state, listener, async {
            let _ = rx.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            pool,
            instance,
            engine,
            stop: Some(tx),
            worker,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests assert them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// The body of a GET with `client`.
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A sign-in as a program does it (JSON answer), optionally claiming an X-Forwarded-For.
    pub async fn sign_in_json(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
        forwarded_for: Option<&str>,
    ) -> reqwest::Response {
        let mut req = client
            .post(self.url("/auth/login"))
            .header("accept", "application/json")
            .form(&[("email", email), ("password", password)]);
        if let Some(ip) = forwarded_for {
            req = req.header("x-forwarded-for", ip);
        }
        req.send().await.unwrap()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Completes the first run through the form and returns the signed-in client.
    pub async fn owner(&self) -> reqwest::Client {
        let c = self.client();
        let r = c
            .post(self.url("/auth/setup"))
            .form(&setup_form())
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/", "first run should succeed");
        c
    }
}

impl TestServer {
    /// Berth restarted: the worker stops as a killed process would (its containers stay)
    /// and a new one starts on the same database and engine.
    pub fn restart_worker(&mut self, settings: WorkerSettings) {
        if let Some(worker) = self.worker.take() {
            worker.abort();
        }
        let secrets = server::secrets::SecretBox::from_key_bytes(&[9u8; 32]).unwrap();
        let worker = Worker::new(self.pool.clone(), self.engine.clone(), secrets, settings);
        self.worker = Some(worker.spawn());
    }

    /// Stops the worker and removes whatever it left behind (the test may have panicked
    /// half-way): every container and network of this instance. Again: nothing to do.
    pub fn stop_worker_and_clean_up(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.abort();
            docker::remove_instance(&self.instance);
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.stop_worker_and_clean_up();
    }
}

pub const EMAIL: &str = "ada@example.com";
pub const PASSWORD: &str = "correct horse battery";

pub fn setup_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("name", "Ada Lovelace"),
        ("email", EMAIL),
        ("password", PASSWORD),
        ("team_name", "Engines"),
    ]
}

/// The Location of a 303 redirect ("" when there is none).
pub fn location(r: &reqwest::Response) -> String {
    assert!(
        r.status() == reqwest::StatusCode::SEE_OTHER || r.headers().get("location").is_none(),
        "unexpected status {}",
        r.status()
    );
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// A second team ("B") with a service written straight to the database (no worker acts on
/// it): for checking that one team never sees another's.
pub async fn other_teams_service(pool: &PgPool, name: &str) -> (uuid::Uuid, uuid::Uuid) {
    let team = other_team(pool).await;
    let service = create_service(pool, team, name).await;
    (team, service)
}

/// A second team ("B"), inserted straight into the database.
pub async fn other_team(pool: &PgPool) -> uuid::Uuid {
    sqlx::query_scalar("INSERT INTO teams (name, slug) VALUES ('B', 'b') RETURNING id")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A service of `team` (image `nginx`), created through the store as the API would.
pub async fn create_service(pool: &PgPool, team: uuid::Uuid, name: &str) -> uuid::Uuid {
    create_service_from(
        pool,
        team,
        serde_json::json!({"name": name, "image": "nginx"}),
    )
    .await
}

/// A service of `team` with definition `spec`, created through the store as the API would.
pub async fn create_service_from(
    pool: &PgPool,
    team: uuid::Uuid,
    spec: serde_json::Value,
) -> uuid::Uuid {
    let secrets = server::secrets::SecretBox::from_key_bytes(&[9u8; 32]).unwrap();
    let caller = app::commands::Caller {
        actor: app::store::audit::Actor::worker(team),
        role: app::domain::Role::Owner,
    };
    let deps = app::commands::Deps {
        pool,
        secrets: &secrets,
        git_local_root: None,
    };
    let spec = serde_json::from_value(spec).unwrap();
    app::commands::service::create(deps, &caller, None, spec)
        .await
        .unwrap()
}
