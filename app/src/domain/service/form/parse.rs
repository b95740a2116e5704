//! Parsing the form into a [`ServiceSpec`], every problem against its form field.

use super::super::{
    BuildArg, EnvVar, FieldError, GitCredentials, GitSource, HealthCheck, HealthProbe, HttpRoute,
    NodePlacement, PortSpec, Protocol, PullPolicy, RestartPolicy, ServiceSpec, VolumeMount,
};
use super::text::read_items;
use super::{form_field, ServiceForm};
use crate::domain::dependencies::{DependsCondition, DependsOn};

/// The items of a list field (one per line, or quoted), each problem against `field`.
fn list(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let (items, problems) = read_items(text, false);
    errors.extend(problems.into_iter().map(|m| FieldError::new(field, m)));
    items.into_iter().map(|i| i.value).collect()
}

/// The `KEY=value` pairs of a field, each problem against `field`.
fn pairs(
    field: &str,
    text: &str,
    errors: &mut Vec<FieldError>,
) -> impl Iterator<Item = (String, String)> {
    let (items, problems) = read_items(text, true);
    errors.extend(problems.into_iter().map(|m| FieldError::new(field, m)));
    items
        .into_iter()
        .map(|i| (i.key.unwrap_or_default(), i.value))
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
}

fn number<T: std::str::FromStr>(
    field: &str,
    text: &str,
    default: Option<T>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let t = text.trim();
    if t.is_empty() {
        return default;
    }
    match t.parse() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                format!("'{t}' is not a whole number."),
            ));
            None
        }
    }
}

impl ServiceForm {
    /// The spec this form describes, or every problem found (form-level and spec rules).
    pub fn parse(&self) -> Result<ServiceSpec, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut env = Vec::new();
        for (field, secret) in [("env", false), ("secret_env", true)] {
            let text = if secret { &self.secret_env } else { &self.env };
            env.extend(pairs(field, text, &mut errors).map(|(key, value)| EnvVar {
                key,
                value,
                secret,
            }));
        }
        let mut ports = Vec::new();
        for (n, line) in lines(&self.ports) {
            match parse_port(line.trim()) {
                Some(p) => ports.push(p),
                None => errors.push(FieldError::new(
                    "ports",
                    format!(
                        "Line {n}: write 8080, or host:container like 80:8080, optionally /udp."
                    ),
                )),
            }
        }
        let mut volumes = Vec::new();
        for (n, line) in lines(&self.volumes) {
            let mut parts = line.trim().splitn(3, ':');
            let (name, path, mode) = (parts.next(), parts.next(), parts.next());
            match (name, path, mode) {
                (Some(name), Some(path), None | Some("ro" | "rw" | "shared" | "ro,shared")) => {
                    volumes.push(VolumeMount {
                        name: name.to_owned(),
                        path: path.to_owned(),
                        read_only: matches!(mode, Some("ro" | "ro,shared")),
                        shared: matches!(mode, Some("shared" | "ro,shared")),
                    })
                }
                _ => errors.push(FieldError::new(
                    "volumes",
                    format!("Line {n}: write name:/path, name:/path:ro or name:/path:shared."),
                )),
            }
        }
        let replicas = number("replicas", &self.replicas, Some(1), &mut errors).unwrap_or(1);
        let cpu_millis = match self.cpu.trim() {
            "" => None,
            t => match t.parse::<f64>() {
                Ok(c) if c.is_finite() && c > 0.0 && c <= 64.0 => Some((c * 1000.0).round() as u32),
                _ => {
                    errors.push(FieldError::new(
                        "cpu",
                        "Give cores as a number, e.g. 0.5 (at most 64).",
                    ));
                    None
                }
            },
        };
        let memory_mb = number("memory_mb", &self.memory_mb, None, &mut errors);
        let restart_policy = match self.restart_policy.trim() {
            "" | "unless-stopped" => RestartPolicy::UnlessStopped,
            "always" => RestartPolicy::Always,
            "on-failure" => RestartPolicy::OnFailure,
            "no" => RestartPolicy::No,
            _ => {
                errors.push(FieldError::new(
                    "restart_policy",
                    "Choose a restart policy from the list.",
                ));
                RestartPolicy::UnlessStopped
            }
        };
        let pull_policy = match self.pull_policy.trim() {
            "" => None,
            p => PullPolicy::parse(p).or_else(|| {
                errors.push(FieldError::new(
                    "pull_policy",
                    "Choose a pull policy from the list.",
                ));
                None
            }),
        };
        let depends_on = self.parse_depends_on(&mut errors);
        let placement = self.parse_placement(&mut errors);
        let labels = pairs("labels", &self.labels, &mut errors).collect();
        let health_check = self.parse_health(&mut errors);
        let http = self.parse_route(&mut errors);
        let git = self.parse_git(&mut errors);
        let mut spec = ServiceSpec {
            name: self.name.clone(),
            image: if git.is_some() {
                String::new()
            } else {
                self.image.clone()
            },
            git,
            command: list("command", &self.command, &mut errors),
            env,
            ports,
            replicas,
            cpu_millis,
            memory_mb,
            health_check,
            restart_policy,
            volumes,
            registry_auth: match (
                self.registry_username.trim(),
                self.registry_password.as_str(),
            ) {
                ("", "") => None,
                (username, password) => Some(super::super::RegistryAuth {
                    username: username.to_owned(),
                    password: password.to_owned(),
                }),
            },
            pull_policy,
            http,
            entrypoint: list("entrypoint", &self.entrypoint, &mut errors),
            labels,
            depends_on,
            placement,
        };
        spec.normalise();
        if let Err(spec_errors) = spec.validate() {
            for e in spec_errors {
                errors.push(FieldError::new(form_field(&e.field, &spec), e.message));
            }
        }
        if errors.is_empty() {
            Ok(spec)
        } else {
            Err(errors)
        }
    }

    /// Constraints one per line; the spread label and the maximum per node, each optional.
    fn parse_placement(&self, errors: &mut Vec<FieldError>) -> NodePlacement {
        let spread = self.placement_spread.trim();
        let max = self.placement_max_per_node.trim();
        NodePlacement {
            constraints: lines(&self.placement_constraints)
                .map(|(_, line)| line.trim().to_owned())
                .collect(),
            spread: (!spread.is_empty()).then(|| spread.to_owned()),
            max_per_node: if max.is_empty() {
                None
            } else if let Ok(n) = max.parse() {
                Some(n)
            } else {
                errors.push(FieldError::new(
                    "placement_max_per_node",
                    "A whole number of replicas, or empty for no limit.",
                ));
                None
            },
        }
    }

    /// `db` or `db:started` (the default), `db:healthy`; one per line.
    fn parse_depends_on(&self, errors: &mut Vec<FieldError>) -> Vec<DependsOn> {
        let mut out = Vec::new();
        for (n, line) in lines(&self.depends_on) {
            let (service, condition) = match line.trim().split_once(':') {
                None => (line.trim(), Some(DependsCondition::ServiceStarted)),
                Some((s, c)) => (
                    s.trim(),
                    match c.trim() {
                        "started" | "service_started" => Some(DependsCondition::ServiceStarted),
                        "healthy" | "service_healthy" => Some(DependsCondition::ServiceHealthy),
                        _ => None,
                    },
                ),
            };
            match condition {
                Some(condition) => out.push(DependsOn {
                    service: service.to_owned(),
                    condition,
                }),
                None => errors.push(FieldError::new(
                    "depends_on",
                    format!("Line {n}: write a service name, optionally with :started or :healthy (db:healthy)."),
                )),
            }
        }
        out
    }

    /// No repository: an image service.
    fn parse_git(&self, errors: &mut Vec<FieldError>) -> Option<GitSource> {
        let repo = self.git_repo.trim();
        if repo.is_empty() {
            return None;
        }
        let build_args = pairs("git_build_args", &self.git_build_args, errors)
            .map(|(key, value)| BuildArg { key, value })
            .collect();
        let or = |text: &str, default: &str| match text.trim() {
            "" => default.to_owned(),
            t => t.to_owned(),
        };
        let credentials = match self.git_credentials.trim() {
            "" | "none" => None,
            "token" => Some(GitCredentials::Token {
                username: or(&self.git_username, "x-access-token"),
                token: self.git_secret.trim().to_owned(),
            }),
            "deploy_key" => Some(GitCredentials::DeployKey {
                private_key: self.git_secret.trim().to_owned(),
            }),
            _ => {
                errors.push(FieldError::new(
                    "git_credentials",
                    "Choose none, token or deploy key.",
                ));
                None
            }
        };
        Some(GitSource {
            repo: repo.to_owned(),
            branch: self.git_branch.trim().to_owned(),
            dockerfile: or(&self.git_dockerfile, "Dockerfile"),
            context: or(&self.git_context, "."),
            build_args,
            credentials,
        })
    }

    /// No domains: no route (a port given alone is an error, so it is not lost silently).
    fn parse_route(&self, errors: &mut Vec<FieldError>) -> Option<HttpRoute> {
        let domains: Vec<String> = lines(&self.domains).map(|(_, l)| l.to_owned()).collect();
        if domains.is_empty() {
            if !self.http_port.trim().is_empty() {
                errors.push(FieldError::new(
                    "domains",
                    "Give a domain for the HTTP port.",
                ));
            }
            return None;
        }
        let Some(port) = number("http_port", &self.http_port, None, errors) else {
            if self.http_port.trim().is_empty() {
                errors.push(FieldError::new(
                    "http_port",
                    "Give the port the app answers HTTP on inside the container.",
                ));
            }
            return None;
        };
        Some(HttpRoute {
            domains,
            port,
            https_redirect: self.http_plain != "on",
            www_redirect: self.www_redirect == "on",
        })
    }

    fn parse_health(&self, errors: &mut Vec<FieldError>) -> Option<HealthCheck> {
        let probe = match self.health_kind.trim() {
            "" | "none" => return None,
            "http" => HealthProbe::Http {
                path: match self.health_path.trim() {
                    "" => "/".to_owned(),
                    p => p.to_owned(),
                },
                port: number("health_port", &self.health_port, None, errors).unwrap_or(0),
            },
            "command" => HealthProbe::Command {
                argv: list("health_command", &self.health_command, errors),
            },
            "disabled" => {
                return Some(HealthCheck {
                    probe: HealthProbe::None,
                    interval_s: 10,
                    timeout_s: 5,
                    retries: 3,
                    start_period_s: 0,
                    host: None,
                })
            }
            _ => {
                errors.push(FieldError::new(
                    "health_kind",
                    "Choose none, http, command or disabled.",
                ));
                return None;
            }
        };
        let host = match self.health_host.trim() {
            "" => None,
            h => Some(h.to_owned()),
        };
        Some(HealthCheck {
            probe,
            interval_s: number(
                "health_interval_s",
                &self.health_interval_s,
                Some(10),
                errors,
            )
            .unwrap_or(10),
            timeout_s: number("health_timeout_s", &self.health_timeout_s, Some(5), errors)
                .unwrap_or(5),
            retries: number("health_retries", &self.health_retries, Some(3), errors).unwrap_or(3),
            start_period_s: number(
                "health_start_period_s",
                &self.health_start_period_s,
                Some(0),
                errors,
            )
            .unwrap_or(0),
            host,
        })
    }
}

fn parse_port(text: &str) -> Option<PortSpec> {
    let (ports, protocol) = match text.rsplit_once('/') {
        Some((p, "tcp")) => (p, Protocol::Tcp),
        Some((p, "udp")) => (p, Protocol::Udp),
        Some(_) => return None,
        None => (text, Protocol::Tcp),
    };
    let (host, container) = match ports.split_once(':') {
        Some((h, c)) => (Some(h.trim().parse().ok()?), c),
        None => (None, ports),
    };
    Some(PortSpec {
        container: container.trim().parse().ok()?,
        host,
        protocol,
    })
}
