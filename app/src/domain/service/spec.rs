use super::NodePlacement;
use crate::domain::dependencies::DependsOn;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A service's desired definition. Unknown fields are refused, so a typo in an API call
/// (or an attempt to pass `privileged`) is an error, not silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"name": "web", "image": "nginx:1.27", "replicas": 1, "ports": [{"container": 80}]})))]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// A DNS label, unique in the team; surrounding spaces are removed and letters
    /// lowercased when saved (`" Web "` is `web`).
    #[cfg_attr(
        feature = "ssr",
        schema(
            min_length = 1,
            max_length = 63,
            pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
        )
    )]
    pub name: String,
    /// An image reference; for a git service, the image Berth built last (set by Berth).
    #[serde(default)]
    pub image: String,
    /// Build the image from a git repository instead (push to deploy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<super::GitSource>,
    /// Command and arguments as a list; never a shell string.
    #[cfg_attr(feature = "ssr", schema(max_items = 64))]
    #[serde(default)]
    pub command: Vec<String>,
    /// Set once per key; the order carries no meaning (an update keeps the stored order).
    #[cfg_attr(feature = "ssr", schema(max_items = 200))]
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    #[serde(default)]
    pub ports: Vec<PortSpec>,
    #[cfg_attr(feature = "ssr", schema(maximum = 50))]
    #[serde(default = "one")]
    pub replicas: u32,
    /// CPU limit in thousandths of a core (500 = half a core).
    #[cfg_attr(feature = "ssr", schema(minimum = 10, maximum = 64000))]
    #[serde(default)]
    pub cpu_millis: Option<u32>,
    #[cfg_attr(feature = "ssr", schema(minimum = 6, maximum = 1048576))]
    #[serde(default)]
    pub memory_mb: Option<u32>,
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
    #[serde(default)]
    pub restart_policy: RestartPolicy,
    /// Named Docker volumes only: host paths are refused. A writable one that is not
    /// `shared` allows one replica, and the service rolls out stop-first.
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    #[serde(default)]
    pub volumes: Vec<VolumeMount>,
    /// Credentials for pulling a private image; the password is a secret.
    #[serde(default)]
    pub registry_auth: Option<RegistryAuth>,
    /// When a rollout pulls the image; unset: `always` for a tag, `if-missing` for an image
    /// pinned by digest (see [`ServiceSpec::effective_pull_policy`]). Not for git services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<super::PullPolicy>,
    /// Public HTTP: domains the edge proxy routes to the ready replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpRoute>,
    /// Replaces the image's entrypoint (Docker's `Entrypoint`), as a list; never a shell
    /// string. Empty: the image's own. With an entrypoint set, Docker drops the image's
    /// default command, so give `command` too when the program needs arguments.
    #[cfg_attr(feature = "ssr", schema(max_items = 64))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    /// Container labels of the user's own (`com.example.team: payments`). Keys under
    /// `berth.` (Berth's) and Docker's reserved namespaces (`com.docker.`, `io.docker.`,
    /// `org.dockerproject.`) are refused; Berth's labels are set on top of these. At most
    /// 50; a key has 1–128 letters, digits, `.`, `-`, `_` or `/`; a value at most 1 KiB.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Services of the same environment that must be up before this one's deployments
    /// start: a deployment waits for them (see the README's Dependencies).
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<DependsOn>,
    /// Where Swarm may run the replicas (Swarm mode; a single engine ignores it).
    #[serde(default, skip_serializing_if = "NodePlacement::is_empty")]
    pub placement: NodePlacement,
}

/// How the edge proxy (Caddy) reaches a service. Changing it alone replaces no container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HttpRoute {
    /// Host names (`app.example.com`), unique across Berth; surrounding spaces are removed
    /// and letters lowercased when saved.
    pub domains: Vec<String>,
    /// The container port the app answers HTTP on.
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 65535))]
    pub port: u16,
    /// With TLS on: plain-http requests are redirected to https (otherwise served as is).
    #[serde(default = "yes")]
    pub https_redirect: bool,
    /// Also answer `www.<domain>` with a permanent redirect to `<domain>`.
    #[serde(default)]
    pub www_redirect: bool,
}

impl HttpRoute {
    /// Every host name the route claims: its domains, and their `www.` twins when it
    /// redirects them.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts = self.domains.clone();
        hosts.extend(self.www_twins().map(|(www, _)| www));
        hosts
    }

    /// With `www_redirect`: `(www.<domain>, <domain>)` for each domain that is not itself a
    /// www name; without it, nothing.
    pub fn www_twins(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.domains
            .iter()
            .filter(|d| self.www_redirect && !d.starts_with("www."))
            .map(|d| (format!("www.{d}"), d.clone()))
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegistryAuth {
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 256))]
    pub username: String,
    /// Encrypted at rest and never sent back; empty on an update keeps the stored one.
    pub password: String,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 256))]
    pub key: String,
    /// Delivered to the container literally (newlines, quotes, `$(...)` included).
    #[cfg_attr(feature = "ssr", schema(max_length = 65536))]
    pub value: String,
    /// Encrypted at rest and never sent back in full.
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 65535))]
    pub container: u16,
    /// Published on the host when set.
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 65535))]
    #[serde(default)]
    pub host: Option<u16>,
    #[serde(default)]
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    pub probe: HealthProbe,
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 3600))]
    #[serde(default = "default_interval")]
    pub interval_s: u32,
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 600))]
    #[serde(default = "default_timeout")]
    pub timeout_s: u32,
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[cfg_attr(feature = "ssr", schema(maximum = 3600))]
    #[serde(default)]
    pub start_period_s: u32,
    /// The `Host` header of an HTTP probe, e.g. `app.example.com` (a lowercase host name).
    /// Unset: the service's first domain (`http.domains[0]`), or the replica's address when
    /// it has none. Only for `probe.kind = "http"`.
    #[cfg_attr(feature = "ssr", schema(max_length = 253))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

fn default_interval() -> u32 {
    10
}
fn default_timeout() -> u32 {
    5
}
fn default_retries() -> u32 {
    3
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum HealthProbe {
    /// Berth requests `http://<container>:<port><path>`; 2xx/3xx is healthy.
    Http {
        #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 1024))]
        path: String,
        #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 65535))]
        port: u16,
    },
    /// Run inside the container (a list, no shell); exit 0 is healthy.
    Command { argv: Vec<String> },
    /// No health check at all: the image's own `HEALTHCHECK` is turned off (Docker's
    /// `NONE`, Compose's `healthcheck: {disable: true}`); a replica is ready once running
    /// (and, when routed, accepting connections).
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    No,
    OnFailure,
    Always,
    #[default]
    UnlessStopped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VolumeMount {
    /// A named volume, created on first use and kept across deploys.
    #[cfg_attr(
        feature = "ssr",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"
        )
    )]
    pub name: String,
    /// Absolute path inside the container.
    #[cfg_attr(feature = "ssr", schema(min_length = 2, max_length = 4096))]
    pub path: String,
    #[serde(default)]
    pub read_only: bool,
    /// The application handles concurrent access (several replicas, or the old and the new
    /// containers during a rollout, open it at once). Without it a writable volume allows
    /// one replica and rolls out stop-first.
    #[serde(default)]
    pub shared: bool,
}
