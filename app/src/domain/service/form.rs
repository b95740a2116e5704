//! The dashboard's service form: plain text fields (one list item per line), so it works
//! as an ordinary HTML form without JavaScript. Parsing turns it into a [`ServiceSpec`] and
//! reports every problem against the form field it came from.

use super::{
    BuildArg, EnvVar, FieldError, GitCredentials, GitSource, HealthCheck, HealthProbe, HttpRoute,
    PortSpec, Protocol, RestartPolicy, ServiceSpec, VolumeMount,
};
use super::{Holder, Taken};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceForm {
    pub name: String,
    pub image: String,
    /// One argument per line.
    pub command: String,
    /// `KEY=value`, one per line.
    pub env: String,
    /// `KEY=value`, one per line; `KEY=` alone keeps the value already stored.
    pub secret_env: String,
    /// `container`, `host:container`, with an optional `/udp`; one per line.
    pub ports: String,
    pub replicas: String,
    /// Cores, e.g. `0.5`; empty for no limit.
    pub cpu: String,
    /// MB; empty for no limit.
    pub memory_mb: String,
    /// `none`, `http` or `command`.
    pub health_kind: String,
    pub health_path: String,
    pub health_port: String,
    /// One argument per line.
    pub health_command: String,
    pub health_interval_s: String,
    pub health_timeout_s: String,
    pub health_retries: String,
    pub health_start_period_s: String,
    pub restart_policy: String,
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
    /// `KEY=value`, one per line.
    pub git_build_args: String,
    /// `none`, `token` (https) or `deploy_key` (ssh).
    pub git_credentials: String,
    /// The token or the private key; empty on an edit keeps the stored one.
    pub git_secret: String,
}

/// Why a form came back after a submit without JavaScript: `?problem=<code>` plus the
/// submitted values (secrets blanked). The page re-checks the values itself, so the URL
/// carries no message text that a crafted link could forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormProblem {
    /// Field rules: the page finds them again by parsing the values.
    Fields,
    NameTaken,
    HostPortTaken,
    DomainTaken,
}

impl FormProblem {
    pub fn code(self) -> &'static str {
        match self {
            Self::Fields => "fields",
            Self::NameTaken => "name_taken",
            Self::HostPortTaken => "host_port_taken",
            Self::DomainTaken => "domain_taken",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Fields,
            Self::NameTaken,
            Self::HostPortTaken,
            Self::DomainTaken,
        ]
        .into_iter()
        .find(|p| p.code() == code)
    }

    /// The errors to show for a returned form.
    pub fn errors(self, form: &ServiceForm) -> Vec<FieldError> {
        match self {
            Self::Fields => form.parse().err().unwrap_or_default(),
            // The URL carries no names (a crafted link could forge them), so the holder
            // and the value are unknown here.
            Self::NameTaken => vec![Taken::Name {
                name: String::new(),
            }
            .field_error()],
            Self::HostPortTaken => vec![FieldError::new(
                "ports",
                Taken::HostPort {
                    index: 0,
                    port: 0,
                    holder: Holder::Unknown,
                }
                .field_error()
                .message,
            )],
            Self::DomainTaken => vec![FieldError::new(
                "domains",
                Taken::Domain {
                    field: String::new(),
                    host: String::new(),
                    holder: Holder::Unknown,
                }
                .field_error()
                .message,
            )],
        }
    }
}

impl ServiceForm {
    /// The form without secret values, safe to put in a URL.
    pub fn without_secrets(&self) -> Self {
        let keys_only = self
            .secret_env
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| format!("{k}=")))
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

/// The form field a spec error belongs to: `env[2].key` → `env` (or `secret_env`).
pub fn form_field(spec_field: &str, spec: &ServiceSpec) -> String {
    let head = spec_field
        .split(['[', '.'])
        .next()
        .unwrap_or(spec_field)
        .to_owned();
    match head.as_str() {
        "env" => {
            let index: Option<usize> = spec_field
                .strip_prefix("env[")
                .and_then(|r| r.split(']').next())
                .and_then(|n| n.parse().ok());
            match index.and_then(|i| spec.env.get(i)) {
                Some(v) if v.secret => "secret_env".into(),
                _ => "env".into(),
            }
        }
        "cpu_millis" => "cpu".into(),
        "git" => match spec_field {
            "git.repo" => "git_repo".into(),
            "git.branch" => "git_branch".into(),
            "git.dockerfile" => "git_dockerfile".into(),
            "git.context" => "git_context".into(),
            f if f.starts_with("git.build_args") => "git_build_args".into(),
            f if f.starts_with("git.credentials.") => "git_secret".into(),
            _ => "git_credentials".into(),
        },
        "http" => match spec_field {
            "http.port" => "http_port".into(),
            "http.www_redirect" => "www_redirect".into(),
            _ => "domains".into(),
        },
        "registry_auth" => match spec_field.rsplit('.').next() {
            Some("password") => "registry_password".into(),
            _ => "registry_username".into(),
        },
        "health_check" => match spec_field.rsplit('.').next() {
            Some("path") => "health_path".into(),
            Some("port") => "health_port".into(),
            Some("argv") => "health_command".into(),
            Some(f @ ("interval_s" | "timeout_s" | "retries" | "start_period_s")) => {
                format!("health_{f}")
            }
            _ => "health_kind".into(),
        },
        _ => head,
    }
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
            for (n, line) in lines(text) {
                match line.split_once('=') {
                    Some((k, v)) => env.push(EnvVar {
                        key: k.trim().to_owned(),
                        value: v.to_owned(),
                        secret,
                    }),
                    None => errors.push(FieldError::new(
                        field,
                        format!("Line {n}: write KEY=value."),
                    )),
                }
            }
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
                (Some(name), Some(path), None | Some("ro") | Some("rw")) => {
                    volumes.push(VolumeMount {
                        name: name.to_owned(),
                        path: path.to_owned(),
                        read_only: mode == Some("ro"),
                    })
                }
                _ => errors.push(FieldError::new(
                    "volumes",
                    format!("Line {n}: write name:/path or name:/path:ro."),
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
        let health_check = self.parse_health(&mut errors);
        let http = self.parse_route(&mut errors);
        let git = self.parse_git(&mut errors);
        let spec = ServiceSpec {
            name: self.name.trim().to_owned(),
            image: if git.is_some() {
                String::new()
            } else {
                self.image.trim().to_owned()
            },
            git,
            command: lines(&self.command).map(|(_, l)| l.to_owned()).collect(),
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
                (username, password) => Some(super::RegistryAuth {
                    username: username.to_owned(),
                    password: password.to_owned(),
                }),
            },
            http,
        };
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

    /// No repository: an image service.
    fn parse_git(&self, errors: &mut Vec<FieldError>) -> Option<GitSource> {
        let repo = self.git_repo.trim();
        if repo.is_empty() {
            return None;
        }
        let mut build_args = Vec::new();
        for (n, line) in lines(&self.git_build_args) {
            match line.split_once('=') {
                Some((k, v)) => build_args.push(BuildArg {
                    key: k.trim().to_owned(),
                    value: v.to_owned(),
                }),
                None => errors.push(FieldError::new(
                    "git_build_args",
                    format!("Line {n}: write KEY=value."),
                )),
            }
        }
        let or = |text: &str, default: &str| match text.trim() {
            "" => default.to_owned(),
            t => t.to_owned(),
        };
        let credentials = match self.git_credentials.trim() {
            "" | "none" => None,
            "token" => Some(GitCredentials::Token {
                username: "x-access-token".into(),
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
        let domains: Vec<String> = lines(&self.domains)
            .map(|(_, l)| l.trim().to_lowercase())
            .collect();
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
                argv: lines(&self.health_command)
                    .map(|(_, l)| l.to_owned())
                    .collect(),
            },
            _ => {
                errors.push(FieldError::new(
                    "health_kind",
                    "Choose none, http or command.",
                ));
                return None;
            }
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
        })
    }

    /// The form pre-filled from a stored spec; secret values are left out (kept unless
    /// retyped).
    pub fn from_spec(spec: &ServiceSpec) -> Self {
        let join = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join("\n");
        let env_lines = |secret: bool| {
            join(
                &mut spec.env.iter().filter(|v| v.secret == secret).map(|v| {
                    if secret {
                        format!("{}=", v.key)
                    } else {
                        format!("{}={}", v.key, v.value)
                    }
                }),
            )
        };
        let mut form = ServiceForm {
            name: spec.name.clone(),
            image: spec.image.clone(),
            command: spec.command.join("\n"),
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
            volumes: join(&mut spec.volumes.iter().map(|v| {
                format!(
                    "{}:{}{}",
                    v.name,
                    v.path,
                    if v.read_only { ":ro" } else { "" }
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
            form.git_build_args = g
                .build_args
                .iter()
                .map(|a| format!("{}={}", a.key, a.value))
                .collect::<Vec<_>>()
                .join("\n");
            form.git_credentials = match &g.credentials {
                None => "none",
                Some(GitCredentials::Token { .. }) => "token",
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
                }
                HealthProbe::Command { argv } => {
                    form.health_kind = "command".into();
                    form.health_command = argv.join("\n");
                }
            }
            form.health_interval_s = h.interval_s.to_string();
            form.health_timeout_s = h.timeout_s.to_string();
            form.health_retries = h.retries.to_string();
            form.health_start_period_s = h.start_period_s.to_string();
        }
        form
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

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ServiceForm {
        ServiceForm {
            name: "web".into(),
            image: "berth-test/httpd:1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_full_form_round_trips_through_a_spec() {
        let f = ServiceForm {
            command: "httpd\n-f\n-p\n8080".into(),
            env: "GREETING=hello = world\nEMPTY=".into(),
            secret_env: "TOKEN=s3cret".into(),
            ports: "8080\n9000:9001/udp".into(),
            replicas: "1".into(),
            cpu: "0.5".into(),
            memory_mb: "64".into(),
            health_kind: "http".into(),
            health_path: "/healthz".into(),
            health_port: "8080".into(),
            health_interval_s: "2".into(),
            restart_policy: "always".into(),
            volumes: "data:/var/data\ncache:/cache:ro".into(),
            domains: "App.Example.com\n\nexample.com".into(),
            http_port: "8080".into(),
            www_redirect: "on".into(),
            ..form()
        };
        let spec = f.parse().unwrap();
        let route = spec.http.clone().unwrap();
        assert_eq!(route.domains, ["app.example.com", "example.com"]);
        assert!(route.https_redirect && route.www_redirect);
        assert_eq!(route.port, 8080);
        assert_eq!(spec.command, ["httpd", "-f", "-p", "8080"]);
        assert_eq!(spec.env[0].value, "hello = world");
        assert_eq!(spec.env[1].value, "");
        assert!(spec.env[2].secret);
        assert_eq!(spec.ports[1].host, Some(9000));
        assert_eq!(spec.ports[1].protocol, Protocol::Udp);
        assert_eq!(spec.cpu_millis, Some(500));
        assert!(spec.volumes[1].read_only);
        let back = ServiceForm::from_spec(&spec);
        assert_eq!(
            back.secret_env, "TOKEN=",
            "secret values are not put back in the form"
        );
        assert_eq!(back.ports, f.ports);
        assert_eq!(back.parse().unwrap().health_check, spec.health_check);
        assert_eq!(back.parse().unwrap().http, spec.http);
    }

    #[test]
    fn a_git_source_round_trips_without_its_secret() {
        let f = ServiceForm {
            image: "ignored:1".into(),
            git_repo: "https://example.com/acme/app.git".into(),
            git_branch: "feat/#12".into(),
            git_context: "web".into(),
            git_build_args: "VERSION=1.2\nMODE=prod".into(),
            git_credentials: "token".into(),
            git_secret: "t0ken".into(),
            ..form()
        };
        let spec = f.parse().unwrap();
        assert_eq!(spec.image, "", "a git service's image is Berth's to set");
        let git = spec.git.clone().unwrap();
        assert_eq!(
            (git.dockerfile.as_str(), git.context.as_str()),
            ("Dockerfile", "web")
        );
        assert_eq!(git.build_args[1].key, "MODE");
        let back = ServiceForm::from_spec(&spec.masked());
        assert_eq!(back.git_branch, "feat/#12");
        assert_eq!(back.git_credentials, "token");
        assert_eq!(
            back.git_secret, "",
            "the token is never put back in the form"
        );

        let bad = ServiceForm {
            git_repo: "ext::sh -c id".into(),
            git_branch: "$(id)".into(),
            git_context: "../etc".into(),
            ..form()
        };
        let fields: Vec<String> = bad
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["git_repo", "git_branch", "git_context"]);
    }

    #[test]
    fn route_fields_are_checked() {
        let only_port = ServiceForm {
            http_port: "8080".into(),
            ..form()
        };
        assert_eq!(only_port.parse().unwrap_err()[0].field, "domains");
        let no_port = ServiceForm {
            domains: "app.example.com".into(),
            ..form()
        };
        assert_eq!(no_port.parse().unwrap_err()[0].field, "http_port");
        let bad = ServiceForm {
            domains: "app.example.com\nhttp://x.example.com".into(),
            http_port: "8080".into(),
            http_plain: "on".into(),
            ..form()
        };
        let errors = bad.parse().unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "domains");
        assert!(errors[0].message.contains("http://x.example.com"));
    }

    #[test]
    fn errors_name_the_form_field() {
        let f = ServiceForm {
            name: "Bad Name".into(),
            image: "nginx; rm -rf /".into(),
            env: "NOEQUALS".into(),
            secret_env: "1BAD=x".into(),
            ports: "eighty".into(),
            replicas: "51".into(),
            cpu: "lots".into(),
            health_kind: "http".into(),
            health_path: "no-slash".into(),
            health_port: "8080".into(),
            volumes: "/etc:/host".into(),
            ..form()
        };
        let mut fields: Vec<String> = f
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        fields.sort();
        fields.dedup();
        assert_eq!(
            fields,
            [
                "cpu",
                "env",
                "health_path",
                "image",
                "name",
                "ports",
                "replicas",
                "secret_env",
                "volumes"
            ]
        );
    }

    #[test]
    fn blank_numbers_take_defaults_and_words_are_refused() {
        let spec = form().parse().unwrap();
        assert_eq!(spec.replicas, 1);
        assert_eq!(spec.cpu_millis, None);
        let f = ServiceForm {
            replicas: "two".into(),
            ..form()
        };
        assert_eq!(f.parse().unwrap_err()[0].field, "replicas");
    }
}
