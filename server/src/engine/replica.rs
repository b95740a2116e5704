//! One replica to create: its name, labels and the container definition Docker gets from
//! a service spec.

use super::observed::{
    LABEL_DEPLOYMENT, LABEL_ENVIRONMENT, LABEL_INSTANCE, LABEL_MANAGED, LABEL_REPLICA,
    LABEL_SERVICE, LABEL_TEAM, LABEL_TEMPLATE,
};
use app::domain::project::Placement;
use app::domain::service::{HealthProbe, Protocol, ReplicaIndex, RestartPolicy, ServiceSpec};
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, Mount, MountType,
    NetworkingConfig, PortBinding, RestartPolicy as DockerRestart, RestartPolicyNameEnum,
};
use std::collections::HashMap;
use uuid::Uuid;

/// One replica to create.
pub struct ReplicaTemplate<'a> {
    pub team_id: Uuid,
    /// Its environment's network and volume names.
    pub placement: &'a Placement,
    pub service_id: Uuid,
    pub deployment_id: Uuid,
    pub template: &'a str,
    pub replica: ReplicaIndex,
    /// What the container runs: the deployment's recorded image id (`sha256:…`), or the
    /// spec's reference for a deployment that recorded none.
    pub image: &'a str,
    /// Secrets opened: values go to the container literally.
    pub spec: &'a ServiceSpec,
}

impl ReplicaTemplate<'_> {
    /// Unique on the engine: the template is random per deployment, so two environments'
    /// services of one name and spec (a clone) never share one.
    pub fn container_name(&self) -> String {
        format!(
            "berth-{}-{}-{}",
            self.spec.name, self.template, self.replica
        )
    }
}

pub use app::domain::project::team_network;

/// The engine's name of volume `name` in the team's first environment (the one its
/// services had before projects): `berth-<team12>-<name>`.
pub fn team_volume(team_id: Uuid, name: &str) -> String {
    format!(
        "{}-{name}",
        app::domain::project::team_volume_prefix(team_id)
    )
}

/// The environment's volume `name` mounted at `target`.
pub fn volume_mount(placement: &Placement, name: &str, target: &str, read_only: bool) -> Mount {
    Mount {
        target: Some(target.to_owned()),
        source: Some(placement.volume(name)),
        typ: Some(MountType::VOLUME),
        read_only: Some(read_only),
        ..Default::default()
    }
}

/// The spec's volumes as mounts of its environment's volumes: replicas and job runs alike.
pub fn volume_mounts(placement: &Placement, spec: &ServiceSpec) -> Vec<Mount> {
    spec.volumes
        .iter()
        .map(|v| volume_mount(placement, &v.name, &v.path, v.read_only))
        .collect()
}

/// The spec's env as Docker's `KEY=value` list (secrets already opened).
pub fn env_list(spec: &ServiceSpec) -> Vec<String> {
    spec.env
        .iter()
        .map(|v| format!("{}={}", v.key, v.value))
        .collect()
}

/// The spec's health check as Docker runs it inside the container: its command, or the
/// image's own check turned off; `None` for Berth's HTTP probe (run from outside) or no
/// check (the image's own applies).
pub(super) fn health_config(spec: &ServiceSpec) -> Option<HealthConfig> {
    spec.health_check.as_ref().and_then(|h| match &h.probe {
        HealthProbe::Command { argv } => Some(HealthConfig {
            test: Some(
                std::iter::once("CMD".to_owned())
                    .chain(argv.iter().cloned())
                    .collect(),
            ),
            interval: Some(i64::from(h.interval_s) * 1_000_000_000),
            timeout: Some(i64::from(h.timeout_s) * 1_000_000_000),
            retries: Some(i64::from(h.retries)),
            start_period: Some(i64::from(h.start_period_s) * 1_000_000_000),
            start_interval: None,
        }),
        // Berth probes HTTP itself, from outside the container.
        HealthProbe::Http { .. } => None,
        // The image's own HEALTHCHECK turned off.
        HealthProbe::None => Some(HealthConfig {
            test: Some(vec!["NONE".to_owned()]),
            ..Default::default()
        }),
    })
}

pub(super) fn container_body(
    r: &ReplicaTemplate<'_>,
    network: &str,
    instance: &str,
) -> ContainerCreateBody {
    let spec = r.spec;
    // The user's labels first, Berth's over them: validation keeps them apart already,
    // and none of Berth's may ever be overridden.
    let mut labels: HashMap<String, String> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.extend([
        (LABEL_MANAGED.to_owned(), "true".to_owned()),
        (LABEL_INSTANCE.to_owned(), instance.to_owned()),
        (LABEL_TEAM.to_owned(), r.team_id.to_string()),
        (
            LABEL_ENVIRONMENT.to_owned(),
            r.placement.environment_id.to_string(),
        ),
        (LABEL_SERVICE.to_owned(), r.service_id.to_string()),
        (LABEL_DEPLOYMENT.to_owned(), r.deployment_id.to_string()),
        (LABEL_TEMPLATE.to_owned(), r.template.to_owned()),
        (LABEL_REPLICA.to_owned(), r.replica.to_string()),
    ]);
    let port_key = |p: &app::domain::service::PortSpec| {
        let proto = if p.protocol == Protocol::Udp {
            "udp"
        } else {
            "tcp"
        };
        format!("{}/{proto}", p.container)
    };
    let port_bindings: HashMap<String, Option<Vec<PortBinding>>> = spec
        .ports
        .iter()
        .filter_map(|p| {
            p.host.map(|h| {
                (
                    port_key(p),
                    Some(vec![PortBinding {
                        host_ip: None,
                        host_port: Some(h.to_string()),
                    }]),
                )
            })
        })
        .collect();
    let healthcheck = health_config(spec);
    let restart = match spec.restart_policy {
        RestartPolicy::No => RestartPolicyNameEnum::NO,
        RestartPolicy::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
        RestartPolicy::Always => RestartPolicyNameEnum::ALWAYS,
        RestartPolicy::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
    };
    ContainerCreateBody {
        image: Some(r.image.to_owned()),
        cmd: (!spec.command.is_empty()).then(|| spec.command.clone()),
        entrypoint: (!spec.entrypoint.is_empty()).then(|| spec.entrypoint.clone()),
        env: Some(env_list(spec)),
        labels: Some(labels),
        exposed_ports: Some(spec.ports.iter().map(port_key).collect()),
        healthcheck,
        host_config: Some(HostConfig {
            network_mode: Some(network.to_owned()),
            port_bindings: Some(port_bindings),
            restart_policy: Some(DockerRestart {
                name: Some(restart),
                maximum_retry_count: None,
            }),
            nano_cpus: spec.cpu_millis.map(|m| i64::from(m) * 1_000_000),
            memory: spec.memory_mb.map(|m| i64::from(m) * 1024 * 1024),
            mounts: Some(volume_mounts(r.placement, spec)),
            privileged: Some(false),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network.to_owned(),
                EndpointSettings {
                    aliases: Some(vec![spec.name.clone()]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_mount_the_environments_volume_and_env_is_key_equals_value() {
        let spec: ServiceSpec = serde_json::from_value(serde_json::json!({
            "name": "db", "image": "postgres",
            "env": [{"key": "A", "value": "x=y\nz"}, {"key": "B", "value": ""}],
            "volumes": [{"name": "data", "path": "/var/lib/data", "read_only": true}]
        }))
        .unwrap();
        let placement = Placement {
            environment_id: Uuid::new_v4(),
            network: "berth-env-x".to_owned(),
            volume_prefix: "berth-0123456789ab".to_owned(),
        };
        let mounts = volume_mounts(&placement, &spec);
        assert_eq!(mounts.len(), 1);
        assert_eq!(mounts[0].source.as_deref(), Some("berth-0123456789ab-data"));
        assert_eq!(mounts[0].target.as_deref(), Some("/var/lib/data"));
        assert_eq!(mounts[0].read_only, Some(true));
        assert_eq!(mounts[0].typ, Some(MountType::VOLUME));
        assert_eq!(env_list(&spec), ["A=x=y\nz", "B="]);
    }

    #[test]
    fn the_entrypoint_and_the_users_labels_go_in_and_berths_labels_win() {
        let mut spec: ServiceSpec = serde_json::from_value(serde_json::json!({
            "name": "api", "image": "app:1",
            "entrypoint": ["/bin/tini", "--"], "command": ["serve"],
            "labels": {"com.example.team": "payments"}
        }))
        .unwrap();
        // Refused by validation; here to show the engine's own order holds regardless.
        spec.labels
            .insert(LABEL_SERVICE.to_owned(), "not-this-one".to_owned());
        let placement = Placement {
            environment_id: Uuid::new_v4(),
            network: "berth-env-x".to_owned(),
            volume_prefix: "berth-0123456789ab".to_owned(),
        };
        let service_id = Uuid::new_v4();
        let r = ReplicaTemplate {
            team_id: Uuid::new_v4(),
            placement: &placement,
            service_id,
            deployment_id: Uuid::new_v4(),
            template: "t1",
            replica: ReplicaIndex(1),
            image: "sha256:abc",
            spec: &spec,
        };
        let body = container_body(&r, "berth-env-x", "i");
        assert_eq!(
            body.entrypoint,
            Some(vec!["/bin/tini".to_owned(), "--".to_owned()])
        );
        assert_eq!(body.cmd, Some(vec!["serve".to_owned()]));
        let labels = body.labels.unwrap();
        assert_eq!(labels["com.example.team"], "payments");
        assert_eq!(labels[LABEL_SERVICE], service_id.to_string());
        let mut plain = spec.clone();
        plain.entrypoint.clear();
        let r = ReplicaTemplate { spec: &plain, ..r };
        assert_eq!(container_body(&r, "n", "i").entrypoint, None);
    }
}
