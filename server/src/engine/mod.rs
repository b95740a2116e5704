//! The Docker adapter: the only code that speaks to the Docker engine (through bollard).

mod client;
mod containers;
mod events;
mod image;
mod image_push;
mod job;
mod networks;
mod nodes;
mod observe;
mod observed;
mod pull;
mod pull_progress;
mod replica;
mod swarm;
mod swarm_spec;
mod volume_archive;
mod volumes;

pub use client::Engine;
pub use containers::ContainerError;
pub use image::{BuildContext, BuildOptions, ImageError};
pub use image_push::registry_reference;
pub use job::{JobContainer, JobExit};
pub use observe::{OutputChunk, Usage};
pub use observed::{
    Observed, LABEL_DEPLOYMENT, LABEL_ENVIRONMENT, LABEL_INSTANCE, LABEL_JOB, LABEL_JOB_RUN,
    LABEL_MANAGED, LABEL_REPLICA, LABEL_SERVICE, LABEL_TEAM, LABEL_TEMPLATE,
};
pub use pull::LocalImage;
pub use pull_progress::PullProgress;
pub use replica::{team_network, team_volume, ReplicaTemplate};
pub use swarm::{credentials as swarm_credentials, SwarmService, UpdateState};
pub use swarm_spec::{overlay_network, swarm_service_name, SwarmTemplate};
pub use volume_archive::{ARCHIVE_ROOT, LABEL_BACKUP_HELPER};
pub use volumes::VolumeRemoval;
