use serde::{Deserialize, Serialize};

/// What /healthz and the dashboard report about Berth's two dependencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    pub postgres: PostgresStatus,
    pub docker: DockerStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostgresStatus {
    pub reachable: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerStatus {
    pub reachable: bool,
    pub engine_version: Option<String>,
    /// The API version Berth negotiated with the engine (e.g. "1.41").
    pub api_version: Option<String>,
    pub error: Option<String>,
}

impl SystemStatus {
    pub fn healthy(&self) -> bool {
        self.postgres.reachable && self.docker.reachable
    }
}
