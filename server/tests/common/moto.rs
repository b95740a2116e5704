//! A real S3 server for tests: moto's (`moto_server`, installed from PyPI by scripts/setup
//! into a venv under `~/.cache/berth/`), on loopback at a free port; killed (by its pid)
//! when the fixture is dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The version scripts/lib/moto.sh installs.
pub const MOTO_VERSION: &str = "5.2.5";

/// `moto_server` in the venv scripts/setup made (`$XDG_CACHE_HOME` or `~/.cache`).
pub fn moto_server_bin() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache
        .join("berth")
        .join(format!("moto-{MOTO_VERSION}"))
        .join("bin")
        .join("moto_server")
}

pub struct Moto {
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Moto {
    /// Starts moto on `127.0.0.1:<free port>` and waits until it answers.
    pub async fn start() -> Moto {
        let bin = moto_server_bin();
        let dir = tempfile::Builder::new()
            .prefix("berth-moto-")
            .tempdir()
            .unwrap();
        let port = super::registry::free_port();
        let log = std::fs::File::create(dir.path().join("moto.log")).unwrap();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{} (scripts/setup installs it): {e}", bin.display()));
        let moto = Moto { port, child, dir };
        let began = Instant::now();
        loop {
            if reqwest::get(&moto.endpoint()).await.is_ok() {
                return moto;
            }
            assert!(
                began.elapsed() < Duration::from_secs(30),
                "moto did not answer on {}: {}",
                moto.endpoint(),
                std::fs::read_to_string(moto.dir.path().join("moto.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `http://127.0.0.1:PORT`: the endpoint a destination names.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket (moto takes unsigned requests).
    pub async fn create_bucket(&self, bucket: &str) {
        let r = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "create bucket: {}", r.status());
    }

    /// An object's bytes, or `None` when there is no such object: read through an S3
    /// client with the test's keys (`access_key_id`, `secret`), as a person's `aws s3 cp`
    /// would (moto refuses anonymous reads of what was uploaded with keys).
    pub async fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let d = app::domain::backup_destination::ValidDestination {
            endpoint: self.endpoint(),
            region: "us-east-1".into(),
            bucket: bucket.into(),
            prefix: String::new(),
            access_key_id: "berth-test".into(),
            secret: None,
            path_style: true,
        };
        let client = app::commands::s3::Bucket::connect(&d, "moto-secret-key-0001", true)
            .await
            .unwrap();
        if !client.exists(key).await.unwrap() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("object");
        client.download(key, &file).await.unwrap();
        Some(std::fs::read(&file).unwrap())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Our own child, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
