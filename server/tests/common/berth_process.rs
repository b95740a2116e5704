//! The `berth` binary as a process on a test database, as an operator runs it: started
//! with the test settings, signed in to, and killed with SIGKILL (`kill -9`).

use server::proxy::local_caddy::LocalCaddy;
use sqlx::PgPool;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A berth process on the test database; killed with SIGKILL when dropped.
pub struct Berth {
    child: Child,
    pub base: String,
}

impl Berth {
    pub async fn start(
        database_url: &str,
        data_dir: &std::path::Path,
        port: u16,
        caddy: Option<&LocalCaddy>,
    ) -> Berth {
        Self::start_with(database_url, data_dir, port, caddy, &[]).await
    }

    /// As [`Berth::start`], with `env` (e.g. `BERTH_DOCKER_HOST`) set last.
    pub async fn start_with(
        database_url: &str,
        data_dir: &std::path::Path,
        port: u16,
        caddy: Option<&LocalCaddy>,
        env: &[(&str, &str)],
    ) -> Berth {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        for (key, _) in std::env::vars() {
            if key.starts_with("BERTH_") {
                cmd.env_remove(key);
            }
        }
        if let Some(caddy) = caddy {
            cmd.env("BERTH_CADDY_ADMIN", &caddy.admin)
                .env("BERTH_PROXY_TLS", "off")
                .env("BERTH_PROXY_HTTP_PORT", caddy.http_port.to_string())
                .env("BERTH_DRAIN_DELAY", "1s");
        }
        let child = cmd
            .env("DATABASE_URL", database_url)
            .env("BERTH_ADDR", format!("127.0.0.1:{port}"))
            .env("BERTH_DATA_DIR", data_dir)
            .env(
                "BERTH_SECRET_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            )
            .env("BERTH_DEPLOY_TIMEOUT", "90s")
            .env("BERTH_STOP_GRACE", "1s")
            .env("BERTH_RESYNC_INTERVAL", "2s")
            .env("BERTH_GIT_LOCAL_ROOT", super::local_git_root())
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while reqwest::get(format!("{base}/healthz")).await.is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "berth did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Berth { child, base }
    }

    pub fn kill9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The URL of the database `pool` is connected to.
pub fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut url = reqwest::Url::parse(&base).unwrap();
    url.set_path(pool.connect_options().get_database().unwrap());
    url.to_string()
}

/// The owner, created through the first-run form, signed in.
pub async fn first_run(base: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let setup = client
        .post(format!("{base}/auth/setup"))
        .header("accept", "application/json")
        .form(&super::setup_form())
        .send()
        .await
        .unwrap();
    assert!(setup.status().is_success());
    client
}

pub async fn signed_in(base: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    client
        .post(format!("{base}/auth/login"))
        .header("accept", "application/json")
        .form(&[("email", super::EMAIL), ("password", super::PASSWORD)])
        .send()
        .await
        .unwrap();
    client
}

/// Creates a service from `spec` through `POST /api/v1/services`; its id.
pub async fn create_service(
    client: &reqwest::Client,
    base: &str,
    spec: &serde_json::Value,
) -> String {
    let created: serde_json::Value = client
        .post(format!("{base}/api/v1/services"))
        .json(spec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not created: {created}"))
        .to_owned()
}

/// Service `id` as `GET /api/v1/services/{id}` answers it to `client`.
pub async fn service_view(client: &reqwest::Client, base: &str, id: &str) -> serde_json::Value {
    client
        .get(format!("{base}/api/v1/services/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
