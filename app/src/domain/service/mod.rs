//! What a service should be: the definition a person writes (dashboard, REST API) and the
//! rules it must follow; and what Berth reports about it. Pure data and checks, shared by
//! browser and server.

mod form;
mod image_ref;
mod spec;
mod status;
mod validate;

pub use form::{form_field, FormProblem, ServiceForm};
pub use image_ref::{parse_image_ref, ImageRef};
pub use spec::{
    EnvVar, HealthCheck, HealthProbe, PortSpec, Protocol, RegistryAuth, RestartPolicy, ServiceSpec,
    VolumeMount,
};
pub use status::{
    ContainerView, DeploymentLogLine, DeploymentState, DeploymentView, ServiceHealth,
    ServiceStatus, ServiceView, SECRET_MASK,
};
pub use validate::{validate_service_name, FieldError, MAX_REPLICAS};
