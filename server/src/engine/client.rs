//! The handle to the Docker engine: connects lazily, negotiates the API version, and
//! reconnects after a failure. Imports none of its sibling modules.

use app::domain::DockerStatus;
use bollard::Docker;
use std::{sync::Arc, time::Duration};
use tokio::sync::Mutex;

const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// A handle to the engine that survives the engine being away: it connects lazily,
/// negotiates the API version (Debian's engine speaks 1.41, older than bollard's default),
/// and reconnects after a failure.
#[derive(Clone)]
pub struct Engine {
    /// `None`: DOCKER_HOST or the local socket, as the docker CLI does.
    host: Option<Arc<str>>,
    client: Arc<Mutex<Option<Docker>>>,
    /// The `berth.instance` label of the containers this Berth owns.
    pub(super) instance: Arc<str>,
    /// Held while a team network is looked up and created: Docker accepts two networks
    /// of one name, so replicas starting at once must not both create it.
    pub(super) network_lock: Arc<Mutex<()>>,
}

impl Engine {
    pub fn new(host: Option<&str>) -> Self {
        Engine {
            host: host.map(Arc::from),
            client: Arc::default(),
            instance: Arc::from("default"),
            network_lock: Arc::default(),
        }
    }

    /// The same engine, managing only containers labelled with `instance`.
    pub fn for_instance(mut self, instance: &str) -> Self {
        self.instance = Arc::from(instance);
        self
    }

    fn connect(&self) -> Result<Docker, bollard::errors::Error> {
        const TIMEOUT_S: u64 = 120;
        match self.host.as_deref() {
            None => Docker::connect_with_local_defaults(),
            Some(h) if h.starts_with("unix://") || h.starts_with('/') => {
                Docker::connect_with_unix(h, TIMEOUT_S, bollard::API_DEFAULT_VERSION)
            }
            Some(h) => Docker::connect_with_http(h, TIMEOUT_S, bollard::API_DEFAULT_VERSION),
        }
    }

    /// A connected client, negotiating on first use.
    pub async fn client(&self) -> Result<Docker, bollard::errors::Error> {
        let mut slot = self.client.lock().await;
        if let Some(docker) = slot.as_ref() {
            return Ok(docker.clone());
        }
        let docker = self.connect()?.negotiate_version().await?;
        *slot = Some(docker.clone());
        Ok(docker)
    }

    async fn forget(&self) {
        *self.client.lock().await = None;
    }

    /// Engine version and negotiated API version, or why the engine is not reachable.
    pub async fn status(&self) -> DockerStatus {
        let probe = async {
            let docker = self.client().await?;
            let version = docker.version().await?;
            let api = docker.client_version();
            Ok::<_, bollard::errors::Error>((
                version.version,
                format!("{}.{}", api.major_version, api.minor_version),
            ))
        };
        let outcome = tokio::time::timeout(PROBE_TIMEOUT, probe).await;
        match outcome {
            Ok(Ok((engine_version, api_version))) => DockerStatus {
                reachable: true,
                engine_version,
                api_version: Some(api_version),
                error: None,
            },
            failed => {
                self.forget().await;
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {} s", PROBE_TIMEOUT.as_secs()),
                };
                DockerStatus {
                    reachable: false,
                    engine_version: None,
                    api_version: None,
                    error: Some(error),
                }
            }
        }
    }
}
