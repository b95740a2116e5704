//! A Berth service as a Docker Swarm service: the `ServiceSpec` the engine gets (pure, so
//! it is unit-tested), and the name and labels Berth finds it by again.
//!
//! Rules, the same as for containers on one engine (`replica`): the user's labels under
//! Berth's, the spec's env, limits, volumes, health check and restart policy; a rolling
//! update replaces one task at a time, starting the new one first unless the spec needs the
//! old one stopped first (host ports, writable volumes: `ServiceSpec::stop_first_reason`),
//! and pauses on a failed task so Berth (not Swarm) decides the rollback and says why.

use super::observed::{
    LABEL_DEPLOYMENT, LABEL_ENVIRONMENT, LABEL_INSTANCE, LABEL_MANAGED, LABEL_SERVICE, LABEL_TEAM,
    LABEL_TEMPLATE,
};
use super::replica::{env_list, health_config, volume_mounts};
use app::domain::project::Placement;
use app::domain::service::{HealthProbe, NodePlacement, Protocol, RestartPolicy, ServiceSpec};
use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, EndpointSpecModeEnum, Limit, NetworkAttachmentConfig,
    ServiceSpec as SwarmServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated,
    ServiceSpecUpdateConfig, ServiceSpecUpdateConfigFailureActionEnum,
    ServiceSpecUpdateConfigOrderEnum, TaskSpec, TaskSpecContainerSpec, TaskSpecPlacement,
    TaskSpecPlacementPreferences, TaskSpecPlacementSpread, TaskSpecResources,
    TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// How long Swarm watches each updated task for a failure before it updates the next.
pub const UPDATE_MONITOR: Duration = Duration::from_secs(5);
/// Swarm's wait before it restarts a failed task (its default is 5 s).
pub const RESTART_DELAY: Duration = Duration::from_secs(2);

/// The environment's overlay network in Swarm mode: the single-engine bridge network's name
/// with `-swarm` after it, so switching modes never meets a bridge network of the same name.
pub fn overlay_network(placement: &Placement) -> String {
    format!("{}-swarm", placement.network)
}

/// The Swarm service's name: `berth-<first 8 of the service id>-<name>`, cut to Swarm's
/// 63 characters (a DNS label). Unique in the swarm; the name users reach it by on the
/// environment's network is the Berth name (a network alias).
pub fn swarm_service_name(service_id: Uuid, name: &str) -> String {
    let mut full = format!("berth-{}-{name}", &service_id.simple().to_string()[..8]);
    full.truncate(63);
    full.trim_end_matches('-').to_owned()
}

/// A Swarm service to create or update for one deployment of a Berth service.
pub struct SwarmTemplate<'a> {
    pub team_id: Uuid,
    pub placement: &'a Placement,
    pub service_id: Uuid,
    /// The deployment this spec is for (on the Swarm service's labels: a scale changes it
    /// without touching the tasks).
    pub deployment_id: Uuid,
    /// The deployment that introduced `template` (on the tasks' labels, so a scale, which
    /// keeps the template, does not replace running tasks).
    pub template_deployment: Uuid,
    pub template: &'a str,
    /// What every node runs: a registry reference pinned by digest when there is one.
    pub image: &'a str,
    /// Secrets opened: values go to the tasks literally.
    pub spec: &'a ServiceSpec,
    /// 0 while the service is stopped.
    pub replicas: u32,
    /// SIGTERM → SIGKILL grace when a task stops.
    pub stop_grace: Duration,
}

/// The spec's placement as Swarm's: constraints as written (validated already), the spread
/// preference, the maximum per node.
fn task_placement(p: &NodePlacement) -> TaskSpecPlacement {
    TaskSpecPlacement {
        constraints: Some(p.constraints.clone()),
        preferences: Some(
            p.spread
                .iter()
                .map(|label| TaskSpecPlacementPreferences {
                    spread: Some(TaskSpecPlacementSpread {
                        spread_descriptor: Some(label.clone()),
                    }),
                })
                .collect(),
        ),
        max_replicas: p.max_per_node.map(i64::from),
        ..Default::default()
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Berth's labels on the Swarm service itself.
pub fn service_labels(t: &SwarmTemplate<'_>, instance: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_MANAGED.to_owned(), "true".to_owned()),
        (LABEL_INSTANCE.to_owned(), instance.to_owned()),
        (LABEL_TEAM.to_owned(), t.team_id.to_string()),
        (
            LABEL_ENVIRONMENT.to_owned(),
            t.placement.environment_id.to_string(),
        ),
        (LABEL_SERVICE.to_owned(), t.service_id.to_string()),
        (LABEL_DEPLOYMENT.to_owned(), t.deployment_id.to_string()),
        (LABEL_TEMPLATE.to_owned(), t.template.to_owned()),
    ])
}

/// The tasks' container labels: the user's, then Berth's over them. Not `berth.managed`:
/// Swarm owns these containers, so the single-engine code that lists Berth's containers
/// by that label never sees (nor removes) them.
fn task_labels(t: &SwarmTemplate<'_>, instance: &str) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> = t
        .spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.extend([
        (LABEL_INSTANCE.to_owned(), instance.to_owned()),
        (LABEL_TEAM.to_owned(), t.team_id.to_string()),
        (
            LABEL_ENVIRONMENT.to_owned(),
            t.placement.environment_id.to_string(),
        ),
        (LABEL_SERVICE.to_owned(), t.service_id.to_string()),
        (
            LABEL_DEPLOYMENT.to_owned(),
            t.template_deployment.to_string(),
        ),
        (LABEL_TEMPLATE.to_owned(), t.template.to_owned()),
    ]);
    labels
}

/// The Swarm service spec for `t`, attached to `network` (the environment's overlay).
///
/// Endpoints are `dnsrr` (the service name resolves to its tasks' addresses) rather than
/// a virtual IP: Berth routes to tasks itself, and a VIP needs IPVS, which not every host
/// has (a network namespace does not). Host ports are therefore published in `host` mode
/// (the ingress mesh needs a VIP): on the node that runs the task.
pub fn swarm_service_spec(
    t: &SwarmTemplate<'_>,
    network: &str,
    instance: &str,
) -> SwarmServiceSpec {
    let spec = t.spec;
    let condition = match spec.restart_policy {
        RestartPolicy::No => TaskSpecRestartPolicyConditionEnum::NONE,
        RestartPolicy::OnFailure => TaskSpecRestartPolicyConditionEnum::ON_FAILURE,
        RestartPolicy::Always | RestartPolicy::UnlessStopped => {
            TaskSpecRestartPolicyConditionEnum::ANY
        }
    };
    let order = if spec.stop_first_reason().is_some() {
        ServiceSpecUpdateConfigOrderEnum::STOP_FIRST
    } else {
        ServiceSpecUpdateConfigOrderEnum::START_FIRST
    };
    let mut ports: Vec<EndpointPortConfig> = spec
        .ports
        .iter()
        .filter_map(|p| {
            p.host.map(|host| EndpointPortConfig {
                protocol: Some(if p.protocol == Protocol::Udp {
                    EndpointPortConfigProtocolEnum::UDP
                } else {
                    EndpointPortConfigProtocolEnum::TCP
                }),
                target_port: Some(i64::from(p.container)),
                published_port: Some(i64::from(host)),
                publish_mode: Some(EndpointPortConfigPublishModeEnum::HOST),
                ..Default::default()
            })
        })
        .collect();
    // The ports Berth dials from outside the overlay (the edge proxy a routed service's
    // HTTP port, Berth's own probe an HTTP health check's port), each on a port of its
    // node's choosing unless a host port publishes it already.
    for port in dialled_ports(spec) {
        let published = ports.iter().any(|p| {
            p.target_port == Some(i64::from(port))
                && p.protocol != Some(EndpointPortConfigProtocolEnum::UDP)
        });
        if !published {
            ports.push(EndpointPortConfig {
                protocol: Some(EndpointPortConfigProtocolEnum::TCP),
                target_port: Some(i64::from(port)),
                published_port: None,
                publish_mode: Some(EndpointPortConfigPublishModeEnum::HOST),
                ..Default::default()
            });
        }
    }
    let container = TaskSpecContainerSpec {
        image: Some(t.image.to_owned()),
        labels: Some(task_labels(t, instance)),
        command: (!spec.entrypoint.is_empty()).then(|| spec.entrypoint.clone()),
        args: (!spec.command.is_empty()).then(|| spec.command.clone()),
        env: Some(env_list(spec)),
        mounts: Some(volume_mounts(t.placement, spec)),
        stop_grace_period: Some(nanos(t.stop_grace)),
        health_check: health_config(spec),
        ..Default::default()
    };
    SwarmServiceSpec {
        name: Some(swarm_service_name(t.service_id, &spec.name)),
        labels: Some(service_labels(t, instance)),
        task_template: Some(TaskSpec {
            container_spec: Some(container),
            resources: Some(TaskSpecResources {
                limits: Some(Limit {
                    nano_cpus: spec.cpu_millis.map(|m| i64::from(m) * 1_000_000),
                    memory_bytes: spec.memory_mb.map(|m| i64::from(m) * 1024 * 1024),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            restart_policy: Some(TaskSpecRestartPolicy {
                condition: Some(condition),
                delay: Some(nanos(RESTART_DELAY)),
                ..Default::default()
            }),
            placement: Some(task_placement(&spec.placement)),
            networks: Some(vec![NetworkAttachmentConfig {
                target: Some(network.to_owned()),
                aliases: Some(vec![spec.name.clone()]),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(i64::from(t.replicas)),
            }),
            ..Default::default()
        }),
        update_config: Some(ServiceSpecUpdateConfig {
            parallelism: Some(1),
            delay: Some(0),
            failure_action: Some(ServiceSpecUpdateConfigFailureActionEnum::PAUSE),
            monitor: Some(nanos(UPDATE_MONITOR)),
            max_failure_ratio: Some(0.0),
            order: Some(order),
        }),
        endpoint_spec: Some(EndpointSpec {
            mode: Some(EndpointSpecModeEnum::DNSRR),
            ports: Some(ports),
        }),
        ..Default::default()
    }
}

/// The container ports Berth itself connects to: a routed service's HTTP port, and the
/// port of Berth's HTTP health check (the two are often the same; listed once).
fn dialled_ports(spec: &ServiceSpec) -> Vec<u16> {
    let route = spec.http.as_ref().map(|r| r.port);
    let check = spec.health_check.as_ref().and_then(|h| match h.probe {
        HealthProbe::Http { port, .. } => Some(port),
        _ => None,
    });
    let mut ports: Vec<u16> = route.into_iter().chain(check).collect();
    ports.dedup();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> ServiceSpec {
        serde_json::from_value(json).unwrap()
    }

    fn placement() -> Placement {
        Placement {
            environment_id: Uuid::new_v4(),
            network: "berth-env-x".to_owned(),
            volume_prefix: "berth-0123456789ab".to_owned(),
        }
    }

    fn template<'a>(placement: &'a Placement, spec: &'a ServiceSpec) -> SwarmTemplate<'a> {
        SwarmTemplate {
            team_id: Uuid::new_v4(),
            placement,
            service_id: Uuid::new_v4(),
            deployment_id: Uuid::new_v4(),
            template_deployment: Uuid::new_v4(),
            template: "t1",
            image: "10.0.0.1:5000/web@sha256:abc",
            spec,
            replicas: 6,
            stop_grace: Duration::from_secs(3),
        }
    }

    #[test]
    fn a_stateless_service_updates_start_first_pausing_on_failure() {
        let s = spec(serde_json::json!({
            "name": "web", "image": "web:1", "replicas": 6,
            "env": [{"key": "A", "value": "1"}],
            "cpu_millis": 500, "memory_mb": 64,
            "labels": {"com.example.team": "payments"}
        }));
        let p = placement();
        let t = template(&p, &s);
        let out = swarm_service_spec(&t, "berth-env-x-swarm", "inst");
        let update = out.update_config.unwrap();
        assert_eq!(
            update.order,
            Some(ServiceSpecUpdateConfigOrderEnum::START_FIRST)
        );
        assert_eq!(
            update.failure_action,
            Some(ServiceSpecUpdateConfigFailureActionEnum::PAUSE)
        );
        assert_eq!(update.parallelism, Some(1));
        let mode = out.mode.unwrap().replicated.unwrap();
        assert_eq!(mode.replicas, Some(6));
        let task = out.task_template.unwrap();
        let container = task.container_spec.unwrap();
        assert_eq!(
            container.image.as_deref(),
            Some("10.0.0.1:5000/web@sha256:abc")
        );
        assert_eq!(container.env, Some(vec!["A=1".to_owned()]));
        let labels = container.labels.unwrap();
        assert_eq!(labels["com.example.team"], "payments");
        assert_eq!(labels[LABEL_SERVICE], t.service_id.to_string());
        assert_eq!(labels[LABEL_DEPLOYMENT], t.template_deployment.to_string());
        assert!(!labels.contains_key(LABEL_MANAGED), "Swarm owns the tasks");
        let service_labels = out.labels.unwrap();
        assert_eq!(
            service_labels[LABEL_DEPLOYMENT],
            t.deployment_id.to_string()
        );
        assert_eq!(service_labels[LABEL_MANAGED], "true");
        let limits = task.resources.unwrap().limits.unwrap();
        assert_eq!(limits.nano_cpus, Some(500_000_000));
        assert_eq!(limits.memory_bytes, Some(64 * 1024 * 1024));
        let networks = task.networks.unwrap();
        assert_eq!(networks[0].target.as_deref(), Some("berth-env-x-swarm"));
        assert_eq!(networks[0].aliases, Some(vec!["web".to_owned()]));
        let endpoint = out.endpoint_spec.unwrap();
        assert_eq!(endpoint.mode, Some(EndpointSpecModeEnum::DNSRR));
        assert_eq!(endpoint.ports, Some(vec![]));
    }

    #[test]
    fn host_ports_publish_on_the_node_and_update_stop_first() {
        let s = spec(serde_json::json!({
            "name": "edge", "image": "edge:1",
            "ports": [{"container": 80, "host": 8080}, {"container": 53, "host": 5353, "protocol": "udp"}],
            "restart_policy": "no"
        }));
        let p = placement();
        let out = swarm_service_spec(&template(&p, &s), "n", "i");
        assert_eq!(
            out.update_config.unwrap().order,
            Some(ServiceSpecUpdateConfigOrderEnum::STOP_FIRST)
        );
        let ports = out.endpoint_spec.unwrap().ports.unwrap();
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[0].published_port, Some(8080));
        assert_eq!(ports[0].target_port, Some(80));
        assert_eq!(
            ports[0].publish_mode,
            Some(EndpointPortConfigPublishModeEnum::HOST)
        );
        assert_eq!(ports[1].protocol, Some(EndpointPortConfigProtocolEnum::UDP));
        let restart = out.task_template.unwrap().restart_policy.unwrap();
        assert_eq!(
            restart.condition,
            Some(TaskSpecRestartPolicyConditionEnum::NONE)
        );
    }

    #[test]
    fn placement_goes_to_swarm_as_written() {
        let s = spec(serde_json::json!({
            "name": "api", "image": "app:1",
            "placement": {"constraints": ["node.labels.zone==eu-1"], "spread": "node.labels.rack", "max_per_node": 2}
        }));
        let p = placement();
        let out = swarm_service_spec(&template(&p, &s), "n", "i");
        let placement = out.task_template.unwrap().placement.unwrap();
        assert_eq!(
            placement.constraints,
            Some(vec!["node.labels.zone==eu-1".to_owned()])
        );
        let spread = placement.preferences.unwrap()[0].spread.clone().unwrap();
        assert_eq!(
            spread.spread_descriptor.as_deref(),
            Some("node.labels.rack")
        );
        assert_eq!(placement.max_replicas, Some(2));
    }

    #[test]
    fn a_routed_port_is_published_on_a_port_of_the_nodes_choosing() {
        let s = spec(serde_json::json!({
            "name": "web", "image": "web:1", "ports": [{"container": 8080}],
            "http": {"domains": ["web.example.com"], "port": 8080}
        }));
        let p = placement();
        let out = swarm_service_spec(&template(&p, &s), "n", "i");
        let ports = out.endpoint_spec.unwrap().ports.unwrap();
        assert_eq!(ports.len(), 1);
        assert_eq!(ports[0].target_port, Some(8080));
        assert_eq!(ports[0].published_port, None);
        assert_eq!(
            ports[0].publish_mode,
            Some(EndpointPortConfigPublishModeEnum::HOST)
        );
    }

    #[test]
    fn an_http_health_checks_port_is_published_for_berths_probe() {
        let published = |s: serde_json::Value| {
            let s = spec(s);
            let p = placement();
            let out = swarm_service_spec(&template(&p, &s), "n", "i");
            out.endpoint_spec
                .and_then(|e| e.ports)
                .unwrap_or_default()
                .iter()
                .map(|p| (p.target_port, p.published_port))
                .collect::<Vec<_>>()
        };
        let check = |port: u16| serde_json::json!({"probe": {"kind": "http", "path": "/healthz", "port": port}});
        // Routed on 8080, checked on 9090: both, on ports of the node's choosing.
        assert_eq!(
            published(serde_json::json!({
                "name": "web", "image": "web:1",
                "http": {"domains": ["web.example.com"], "port": 8080},
                "health_check": check(9090)
            })),
            vec![(Some(8080), None), (Some(9090), None)]
        );
        // The same port once; a host port already publishes it.
        assert_eq!(
            published(serde_json::json!({
                "name": "web", "image": "web:1",
                "http": {"domains": ["web.example.com"], "port": 8080},
                "health_check": check(8080)
            })),
            vec![(Some(8080), None)]
        );
        assert_eq!(
            published(serde_json::json!({
                "name": "api", "image": "api:1", "ports": [{"container": 9090, "host": 19090}],
                "health_check": check(9090)
            })),
            vec![(Some(9090), Some(19090))]
        );
    }

    #[test]
    fn the_entrypoint_is_the_command_and_the_command_its_arguments() {
        let s = spec(serde_json::json!({
            "name": "api", "image": "app:1",
            "entrypoint": ["/bin/tini", "--"], "command": ["serve"]
        }));
        let p = placement();
        let out = swarm_service_spec(&template(&p, &s), "n", "i");
        let c = out.task_template.unwrap().container_spec.unwrap();
        assert_eq!(
            c.command,
            Some(vec!["/bin/tini".to_owned(), "--".to_owned()])
        );
        assert_eq!(c.args, Some(vec!["serve".to_owned()]));
    }

    #[test]
    fn service_names_are_unique_dns_labels() {
        let id = Uuid::parse_str("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(swarm_service_name(id, "web"), "berth-01234567-web");
        let long = "a".repeat(63);
        let name = swarm_service_name(id, &long);
        assert_eq!(name.len(), 63);
        assert!(name.starts_with("berth-01234567-a"));
    }
}
