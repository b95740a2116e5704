//! What a service should be: the definition a person writes (dashboard, REST API) and the
//! rules it must follow. Pure data and checks, shared by browser and server.

mod image_ref;
mod spec;
mod validate;

pub use image_ref::{parse_image_ref, ImageRef};
pub use spec::{
    EnvVar, HealthCheck, HealthProbe, PortSpec, Protocol, RestartPolicy, ServiceSpec, VolumeMount,
};
pub use validate::{validate_service_name, FieldError, MAX_REPLICAS};
