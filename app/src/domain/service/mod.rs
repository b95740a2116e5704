//! What a service should be: the definition a person writes (dashboard, REST API) and the
//! rules it must follow; and what Berth reports about it. Pure data and checks, shared by
//! browser and server.

mod change;
mod container;
mod field;
mod form;
mod git_source;
mod host_name;
mod image_ref;
mod metrics;
mod node_placement;
mod normalise;
mod progress;
mod pull_policy;
mod repo_location;
mod spec;
mod status;
mod submodule_url;
mod taken;
mod timeline;
mod validate;
mod volumes;
mod webhook;
pub mod wording;

pub use change::{
    adopt_stored_image, classify, keep_stored_order, keep_stored_secrets, spec_change, Change,
};
pub use container::{out_of_memory_note, ContainerView, ReplicaIndex};
pub use field::{is_dns_label, FieldError};
pub use form::{form_field, text as form_text, FormProblem, ServiceForm};
pub use git_source::{
    check_branch, check_repo_path, is_commit_sha, BuildArg, GitCredentials, GitSource,
};
pub use host_name::{validate_host_name, ProxyListen, MAX_DOMAINS};
pub use image_ref::{parse_image_ref, registry_host, ImageRef};
pub use metrics::{cpu_percent, sum_rounds, ContainerMetrics, MetricSample, ServiceMetrics};
pub use node_placement::{parse_constraint, NodePlacement, MAX_CONSTRAINTS, MAX_PER_NODE};
pub use normalise::{dns_name, single_line};
pub use progress::{progress, DeployStep, StepState};
pub use pull_policy::PullPolicy;
pub use repo_location::{
    check_repo_target, check_repo_url, repo_origin, RepoHost, RepoLocation, RepoTransport,
};
pub use spec::{
    EnvVar, HealthCheck, HealthProbe, HttpRoute, PortSpec, Protocol, RegistryAuth, RestartPolicy,
    ServiceSpec, VolumeMount,
};
pub use status::{
    CommitInfo, DeploymentLogLine, DeploymentState, DeploymentView, RouteStatus, ServiceHealth,
    ServiceStatus, ServiceView, SECRET_MASK,
};
pub use submodule_url::submodule_url;
pub use taken::{Holder, Taken};
pub use timeline::{container_changes, ContainerFacts, EventKind, ServiceEvent};
pub use validate::{validate_service_name, MAX_REPLICAS};
pub use volumes::{volumes_left_unused, VolumesOnDelete};
pub use webhook::{public_base, Provider, WebhookInfo, WebhookUrl};
