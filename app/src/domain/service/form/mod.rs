//! The dashboard's service form: plain text fields (one list item per line), so it works
//! as an ordinary HTML form without JavaScript. Parsing turns it into a [`ServiceSpec`] and
//! reports every problem against the form field it came from.

mod field_map;
mod fill;
mod parse;
mod problem;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use field_map::form_field;
pub use problem::FormProblem;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceForm {
    pub name: String,
    pub image: String,
    /// One argument per line.
    pub command: String,
    /// `KEY=value`, one per line.
    pub env: String,
    /// `KEY=value`, one per line; `KEY=` alone keeps the value already stored.
    pub secret_env: String,
    /// `container`, `host:container`, with an optional `/udp`; one per line.
    pub ports: String,
    pub replicas: String,
    /// Cores, e.g. `0.5`; empty for no limit.
    pub cpu: String,
    /// MB; empty for no limit.
    pub memory_mb: String,
    /// `none` (the image's own HEALTHCHECK, if any), `http`, `command`, or `disabled` (the
    /// image's own HEALTHCHECK turned off).
    pub health_kind: String,
    pub health_path: String,
    pub health_port: String,
    /// The `Host` header of an HTTP check; empty: the first domain.
    #[serde(default)]
    pub health_host: String,
    /// One argument per line.
    pub health_command: String,
    pub health_interval_s: String,
    pub health_timeout_s: String,
    pub health_retries: String,
    pub health_start_period_s: String,
    pub restart_policy: String,
    /// `always`, `if-missing`, `never`; empty: the default for the image (see
    /// [`ServiceSpec::effective_pull_policy`](super::ServiceSpec::effective_pull_policy)).
    pub pull_policy: String,
    /// `name:/path` or `name:/path:ro`, one per line.
    pub volumes: String,
    /// Empty: a public image.
    pub registry_username: String,
    /// Empty on an edit keeps the stored password.
    pub registry_password: String,
    /// Host names routed through the edge proxy, one per line; empty for none.
    pub domains: String,
    /// The container port the app answers HTTP on.
    pub http_port: String,
    /// `on`: serve plain http too instead of redirecting it to https.
    pub http_plain: String,
    /// `on`: redirect `www.<domain>` to `<domain>`.
    pub www_redirect: String,
    /// A git repository to build from instead of an image; empty for an image service.
    pub git_repo: String,
    pub git_branch: String,
    /// Empty: `Dockerfile`.
    pub git_dockerfile: String,
    /// Empty: `.` (the repository root).
    pub git_context: String,
    /// `KEY=value`, one per line.
    pub git_build_args: String,
    /// `none`, `token` (https) or `deploy_key` (ssh).
    pub git_credentials: String,
    /// The token or the private key; empty on an edit keeps the stored one.
    pub git_secret: String,
}

impl ServiceForm {
    /// The form without secret values, safe to put in a URL.
    pub fn without_secrets(&self) -> Self {
        let keys_only = self
            .secret_env
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| format!("{k}=")))
            .collect::<Vec<_>>()
            .join("\n");
        ServiceForm {
            secret_env: keys_only,
            registry_password: String::new(),
            git_secret: String::new(),
            ..self.clone()
        }
    }
}
