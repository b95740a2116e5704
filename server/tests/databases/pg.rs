//! A PostgreSQL service as a person runs one on Berth, and `psql` through `docker exec`
//! as a person would use it; the team's volumes removed after a test.

use super::common::api::Api;
use super::common::debian_images::{self, POSTGRES_DATA};
use super::common::docker::docker;
use serde_json::{json, Value};
use std::process::Command;
use uuid::Uuid;

pub const PASSWORD: &str = "s3cret-pg";
const PSQL: &str = "/usr/lib/postgresql/15/bin/psql";
const PG_ISREADY: &str = "/usr/lib/postgresql/15/bin/pg_isready";

/// The PostgreSQL image, built once and cached by the engine.
pub async fn image() -> String {
    tokio::task::spawn_blocking(debian_images::postgres)
        .await
        .unwrap()
}

/// A service `name` of `image` with its data in the named volume `volume`, healthy when
/// `pg_isready` says so.
pub fn spec(name: &str, image: &str, volume: &str) -> Value {
    json!({
        "name": name,
        "image": image,
        "env": [{"key": "POSTGRES_PASSWORD", "value": PASSWORD}],
        "ports": [{"container": 5432}],
        "volumes": [{"name": volume, "path": POSTGRES_DATA}],
        "health_check": {
            "probe": {"kind": "command", "argv": [PG_ISREADY, "-h", "127.0.0.1", "-U", "postgres"]},
            "interval_s": 1, "timeout_s": 3, "retries": 5, "start_period_s": 60
        }
    })
}

/// Runs `sql` with psql inside `container` (over TCP, with the password); its output
/// (tuples only, unaligned).
pub fn psql(container: &str, sql: &str) -> String {
    docker(&[
        "exec",
        "-e",
        &format!("PGPASSWORD={PASSWORD}"),
        container,
        PSQL,
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-At",
        "-c",
        sql,
    ])
}

/// The notes, in order, read in the service's one container.
pub fn notes(view: &Value) -> Vec<String> {
    let containers = view["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "one container: {view:#}");
    let name = containers[0]["name"].as_str().unwrap();
    psql(name, "SELECT note FROM notes ORDER BY id")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The only team's id (the first-run owner's).
pub async fn team_id(pool: &sqlx::PgPool) -> Uuid {
    sqlx::query_scalar("SELECT id FROM teams")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Whether the engine has team `team`'s volume `name`.
pub fn volume_exists(team: Uuid, name: &str) -> bool {
    Command::new("docker")
        .args([
            "volume",
            "inspect",
            &server::engine::team_volume(team, name),
        ])
        .output()
        .unwrap()
        .status
        .success()
}

/// Removes the named volumes of team `team` (after its containers are gone).
pub struct VolumeCleanup {
    pub team: Uuid,
    pub names: Vec<&'static str>,
}

impl Drop for VolumeCleanup {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("docker")
                .args([
                    "volume",
                    "rm",
                    "-f",
                    &server::engine::team_volume(self.team, name),
                ])
                .output();
        }
    }
}

/// A test server with its worker whose team's volumes `names` are removed after it: its
/// worker stopped and containers removed first (a volume in use cannot be removed).
pub struct ApiWithVolumes {
    pub api: Api,
    pub cleanup: VolumeCleanup,
}

impl ApiWithVolumes {
    pub async fn start(
        pool: sqlx::PgPool,
        worker: server::worker::WorkerSettings,
        names: Vec<&'static str>,
    ) -> ApiWithVolumes {
        let api = Api::start(pool, worker).await;
        let team = team_id(&api.server.pool).await;
        ApiWithVolumes {
            api,
            cleanup: VolumeCleanup { team, names },
        }
    }
}

impl std::ops::Deref for ApiWithVolumes {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for ApiWithVolumes {
    fn drop(&mut self) {
        // Before the fields drop: the containers go, then (VolumeCleanup) the volumes.
        self.api.server.stop_worker_and_clean_up();
    }
}
