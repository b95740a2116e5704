//! Filling the form from a stored spec (secrets left out).

use super::super::{GitCredentials, HealthProbe, Protocol, RestartPolicy, ServiceSpec};
use super::text::{write_list, write_pairs};
use super::ServiceForm;
use crate::domain::dependencies::DependsCondition;

impl ServiceForm {
    /// The form pre-filled from a stored spec; secret values are left out (kept unless
    /// retyped).
    pub fn from_spec(spec: &ServiceSpec) -> Self {
        let join = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join("\n");
        let env_lines = |secret: bool| {
            write_pairs(spec.env.iter().filter(|v| v.secret == secret).map(|v| {
                // A secret's value is never sent back: `KEY=` keeps it.
                (v.key.as_str(), if secret { "" } else { v.value.as_str() })
            }))
        };
        let mut form = ServiceForm {
            name: spec.name.clone(),
            image: spec.image.clone(),
            command: write_list(&spec.command),
            entrypoint: write_list(&spec.entrypoint),
            labels: write_pairs(spec.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            depends_on: join(&mut spec.depends_on.iter().map(|d| match d.condition {
                DependsCondition::ServiceStarted => d.service.clone(),
                DependsCondition::ServiceHealthy => format!("{}:healthy", d.service),
            })),
            placement_constraints: spec.placement.constraints.join("\n"),
            placement_spread: spec.placement.spread.clone().unwrap_or_default(),
            placement_max_per_node: spec
                .placement
                .max_per_node
                .map(|m| m.to_string())
                .unwrap_or_default(),
            env: env_lines(false),
            secret_env: env_lines(true),
            ports: join(&mut spec.ports.iter().map(|p| {
                let proto = if p.protocol == Protocol::Udp {
                    "/udp"
                } else {
                    ""
                };
                match p.host {
                    Some(h) => format!("{h}:{}{proto}", p.container),
                    None => format!("{}{proto}", p.container),
                }
            })),
            replicas: spec.replicas.to_string(),
            cpu: spec
                .cpu_millis
                .map(|m| format!("{}", m as f64 / 1000.0))
                .unwrap_or_default(),
            memory_mb: spec.memory_mb.map(|m| m.to_string()).unwrap_or_default(),
            health_kind: "none".into(),
            restart_policy: match spec.restart_policy {
                RestartPolicy::No => "no",
                RestartPolicy::OnFailure => "on-failure",
                RestartPolicy::Always => "always",
                RestartPolicy::UnlessStopped => "unless-stopped",
            }
            .into(),
            pull_policy: spec
                .pull_policy
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            volumes: join(&mut spec.volumes.iter().map(|v| {
                format!(
                    "{}:{}{}",
                    v.name,
                    v.path,
                    match (v.read_only, v.shared) {
                        (true, true) => ":ro,shared",
                        (true, false) => ":ro",
                        (false, true) => ":shared",
                        (false, false) => "",
                    }
                )
            })),
            registry_username: spec
                .registry_auth
                .as_ref()
                .map(|a| a.username.clone())
                .unwrap_or_default(),
            ..Default::default()
        };
        if let Some(g) = &spec.git {
            form.image = String::new();
            form.git_repo = g.repo.clone();
            form.git_branch = g.branch.clone();
            form.git_dockerfile = g.dockerfile.clone();
            form.git_context = g.context.clone();
            form.git_build_args = write_pairs(
                g.build_args
                    .iter()
                    .map(|a| (a.key.as_str(), a.value.as_str())),
            );
            form.git_credentials = match &g.credentials {
                None => "none",
                Some(GitCredentials::Token { username, .. }) => {
                    if username != "x-access-token" {
                        form.git_username = username.clone();
                    }
                    "token"
                }
                Some(GitCredentials::DeployKey { .. }) => "deploy_key",
            }
            .into();
        }
        if let Some(r) = &spec.http {
            form.domains = r.domains.join("\n");
            form.http_port = r.port.to_string();
            let on = |b: bool| if b { "on" } else { "" }.to_owned();
            form.http_plain = on(!r.https_redirect);
            form.www_redirect = on(r.www_redirect);
        }
        if let Some(h) = &spec.health_check {
            match &h.probe {
                HealthProbe::Http { path, port } => {
                    form.health_kind = "http".into();
                    form.health_path = path.clone();
                    form.health_port = port.to_string();
                    form.health_host = h.host.clone().unwrap_or_default();
                }
                HealthProbe::Command { argv } => {
                    form.health_kind = "command".into();
                    form.health_command = write_list(argv);
                }
                HealthProbe::None => form.health_kind = "disabled".into(),
            }
            form.health_interval_s = h.interval_s.to_string();
            form.health_timeout_s = h.timeout_s.to_string();
            form.health_retries = h.retries.to_string();
            form.health_start_period_s = h.start_period_s.to_string();
        }
        form
    }
}
