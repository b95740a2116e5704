//! The dashboard's service form: plain text fields (one list item per line, a value that
//! spans lines or has spaces at its ends in quotes — see [`text`]), so it works as an
//! ordinary HTML form without JavaScript. Parsing turns it into a [`ServiceSpec`] and
//! reports every problem against the form field it came from; filling it from a spec and
//! parsing it again gives that spec back (secret values aside, which are kept by name).

mod field_map;
mod fill;
mod parse;
mod problem;
#[cfg(test)]
mod tests;
pub mod text;

use serde::{Deserialize, Serialize};

pub use field_map::form_field;
pub use problem::FormProblem;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceForm {
    pub name: String,
    pub image: String,
    /// One argument per line; `"…"` for one with newlines or spaces at its ends.
    pub command: String,
    /// As `command`; empty: the image's entrypoint.
    pub entrypoint: String,
    /// `key=value`, one per line, quoted as `env`.
    pub labels: String,
    /// `db` (started) or `db:healthy`, one per line.
    pub depends_on: String,
    /// Swarm constraints (`node.labels.zone==eu-1`), one per line.
    pub placement_constraints: String,
    /// A node label to spread the replicas over (`node.labels.zone`); empty: none.
    pub placement_spread: String,
    /// At most this many replicas on one node; empty: no limit.
    pub placement_max_per_node: String,
    /// `KEY=value`, one per line; `KEY="…"` for a value with newlines (a PEM key).
    pub env: String,
    /// As `env`; `KEY=` alone keeps the value already stored.
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
    /// One argument per line, quoted as `command`.
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
    /// `KEY=value`, one per line, quoted as `env`.
    pub git_build_args: String,
    /// `none`, `token` (https) or `deploy_key` (ssh).
    pub git_credentials: String,
    /// The user name sent with a token; empty: `x-access-token`.
    pub git_username: String,
    /// The token or the private key; empty on an edit keeps the stored one.
    pub git_secret: String,
    /// A new service's environment (its id); empty: the default project's `production`.
    /// Not part of the definition: an edit ignores it.
    pub environment: String,
}

impl ServiceForm {
    /// The form without secret values, safe to put in a URL.
    pub fn without_secrets(&self) -> Self {
        // Keys only, and none when the text does not read cleanly: a value pasted without
        // its quotes would put its lines where keys are.
        let (items, errors) = text::read_items(&self.secret_env, true);
        let keys_only = items
            .into_iter()
            .filter(|_| errors.is_empty())
            .filter_map(|i| i.key.map(|k| format!("{k}=")))
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
