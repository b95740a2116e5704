//! Compose files in and out: the translation between a `docker-compose.yml` and Berth's
//! service definitions. Pure (no database, no Docker), so the API's import (with its
//! dry-run preview) and export are thin adapters over three functions:
//!
//! - [`import`]`(yaml, shared)` reads a file into a [`ComposeApp`] — one [`ServiceSpec`]
//!   per service (its `depends_on`, `entrypoint` and `labels` included), plus what the
//!   spec does not hold (the `build` section) — with `${VAR}` interpolated from `shared`
//!   (the environment's shared variables). Every problem is collected, each at its path
//!   (`services.web.volumes[0]`), and nothing is returned when there is one: a refused
//!   file creates nothing. A `depends_on` naming a service the file does not define, or
//!   closing a cycle, is such a problem (`services.api.depends_on.cache`).
//! - [`diff`]`(existing, &app)` previews a (re-)import: which services are created,
//!   updated (which fields, and whether containers are replaced), unchanged, or left as
//!   they are because the file does not name them (import never deletes).
//! - [`export`]`(services)` writes a file that [`import`] reads back into the same
//!   definitions. Secret values are never written: each is a `${SERVICE_KEY}` placeholder
//!   (named in a comment at the top of the file) to define as a shared variable.
//!
//! What is read (Compose specification names): `services.*.{image, build (context,
//! dockerfile, args), command, entrypoint (a list, or a string split like a shell's words —
//! never run by a shell), environment (list or map), labels (list of `key=value`, or map;
//! `berth.*` and Docker's reserved `com.docker.*` keys refused), ports, expose, volumes
//! (named volumes), depends_on (list, or map with condition service_started |
//! service_healthy), healthcheck (test, interval, timeout, retries, start_period,
//! disable), deploy.replicas, deploy.resources.limits (cpus, memory), restart,
//! pull_policy}` and top-level `volumes`; `version` and `name` are accepted and ignored (a
//! note says so), as are `x-*` extension fields (anchors live there) — except a service's
//! `x-berth`, where [`export`] keeps what Compose cannot say: domains (`http`), Berth's
//! HTTP probe (`http_check`), which variables are secret (`secret_env`) and shared volumes
//! (`shared_volumes`). Refused, each by path: bind mounts and anonymous volumes,
//! `privileged`, `network_mode`, `networks`, `cap_add`, `env_file`, `devices`, `pid`,
//! `ipc`, `security_opt`, `extends`, `secrets`, `configs`, every other key Berth does not
//! support or that is not Compose's, and wrong types. The input is bounded: over 1 MiB is
//! refused before parsing, aliases may add at most 10 000 values, nesting is at most 32
//! deep.
//!
//! A `build` section names a folder of the environment's git repository, with the file
//! taken to be at the repository's root — or, with `x-berth.git` (`repository`, `branch`),
//! of that repository (export writes it for a git service that does not build from the
//! environment's). The spec of such a service has no image and no git source: the caller
//! sets `spec.git` from [`ComposeBuild::git_source`]. `image` next to `build` is refused:
//! Compose would tag the built image with that name, and on an engine shared by every
//! team a name of the file's choosing could replace an image other services run.

#[cfg(feature = "ssr")]
mod depends;
#[cfg(feature = "ssr")]
mod diff;
#[cfg(feature = "ssr")]
mod export;
#[cfg(feature = "ssr")]
mod extension;
#[cfg(feature = "ssr")]
mod health;
#[cfg(feature = "ssr")]
mod import;
#[cfg(feature = "ssr")]
mod interpolate;
#[cfg(feature = "ssr")]
mod labels;
#[cfg(feature = "ssr")]
mod mounts;
#[cfg(feature = "ssr")]
mod problems;
#[cfg(feature = "ssr")]
mod refuse;
#[cfg(feature = "ssr")]
mod sections;
#[cfg(feature = "ssr")]
mod translate;
#[cfg(feature = "ssr")]
mod units;
#[cfg(feature = "ssr")]
mod yaml;

#[cfg(feature = "ssr")]
pub use diff::{as_stored, diff};
#[cfg(feature = "ssr")]
pub use export::export;
#[cfg(feature = "ssr")]
pub use import::import;
#[cfg(feature = "ssr")]
pub use interpolate::interpolate;
#[cfg(feature = "ssr")]
pub use yaml::{MAX_ALIAS_VALUES, MAX_BYTES, MAX_DEPTH};

use super::service::{BuildArg, Change, GitCredentials, GitSource, ServiceSpec};
use serde::{Deserialize, Serialize};

/// One thing wrong with a compose file (or, in [`ComposeApp::notes`], one thing read but
/// not used).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComposeProblem {
    /// Where, in the file's terms: `services.web.volumes[0]`; empty for the whole file
    /// (size, YAML syntax — the message then gives the line).
    pub path: String,
    pub message: String,
}

/// What a compose file defines, in Berth's terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComposeApp {
    /// In the file's order.
    pub services: Vec<ComposeService>,
    /// The named volumes declared at the top level, in the file's order.
    pub volumes: Vec<String>,
    /// Keys accepted but not used (`version`, `name`, extension fields), for the preview.
    pub notes: Vec<ComposeProblem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComposeService {
    /// Valid as the API checks it (`ServiceSpec::validate`); for a service with `build`,
    /// `image` is empty and `git` unset until the caller sets it.
    pub spec: ServiceSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<ComposeBuild>,
}

/// A service built from the environment's git repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComposeBuild {
    /// A folder of the repository (`.` is its root).
    pub context: String,
    /// Relative to the context.
    pub dockerfile: String,
    pub args: Vec<BuildArg>,
    /// `x-berth.git`: built from this repository and branch, not the environment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<BuildRepository>,
}

/// Where a build comes from when it is not the environment's repository (`x-berth.git`).
/// Credentials are never in a file: a private one gets them on the service after import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BuildRepository {
    pub repository: String,
    pub branch: String,
}

impl ComposeBuild {
    /// The git source of the service: this build from `repo` at `branch`.
    pub fn git_source(
        &self,
        repo: &str,
        branch: &str,
        credentials: Option<GitCredentials>,
    ) -> GitSource {
        GitSource {
            repo: repo.to_owned(),
            branch: branch.to_owned(),
            dockerfile: self.dockerfile.clone(),
            context: self.context.clone(),
            build_args: self.args.clone(),
            credentials,
        }
    }
}

/// A service as Berth keeps it, for [`export`] and [`diff`]: its spec (secrets open;
/// `depends_on` included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefinedService {
    pub spec: ServiceSpec,
}

/// What importing a file does to one service of the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum ImportChange {
    /// A new service.
    Create { service: String },
    /// An existing service whose definition changes: the top-level spec fields that differ
    /// (`image`, `env`, `depends_on`, …), and what that does to its containers (a change of
    /// `depends_on` alone replaces none).
    Update {
        service: String,
        fields: Vec<String>,
        change: Change,
    },
    /// Defined exactly as the file says already.
    Unchanged { service: String },
    /// Not in the file: left as it is (an import never deletes).
    NotInFile { service: String },
}

/// The body of an import: a compose file's text (at most 1 MiB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ComposeFile {
    pub yaml: String,
}

/// What importing a file into an environment does (a dry run) or did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComposePlan {
    /// Whether the services were stored and their deployments queued (`false`: a preview).
    pub applied: bool,
    /// One entry per service of the file (in its order), then the environment's services
    /// the file does not name.
    pub changes: Vec<ImportChange>,
    /// The named volumes the file declares.
    pub volumes: Vec<String>,
    /// What was read but not used, by path.
    pub notes: Vec<ComposeProblem>,
}

#[cfg(all(test, feature = "ssr"))]
mod tests;
