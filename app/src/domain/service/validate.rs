//! The rules a service definition follows. Every broken rule is reported, each with the
//! field it belongs to (`env[2].key`), so forms can show errors inline and the API can list
//! them all at once.

use super::field::{is_dns_label, FieldError};
use super::{parse_image_ref, HealthProbe, ServiceSpec};
use std::collections::HashSet;

pub const MAX_REPLICAS: u32 = 50;
/// Where the images Berth builds live; no other service may name one.
pub const BUILT_IMAGE_PREFIX: &str = "berth/";
const MAX_ENV: usize = 200;
const MAX_ENV_VALUE_BYTES: usize = 64 * 1024;
const MAX_PORTS: usize = 20;
const MAX_VOLUMES: usize = 20;
const MAX_ARGS: usize = 64;
const MAX_ARG_BYTES: usize = 4096;
pub const MAX_LABELS: usize = 50;
const MAX_LABEL_KEY_BYTES: usize = 128;
const MAX_LABEL_VALUE_BYTES: usize = 1024;
pub const MAX_DEPENDS_ON: usize = 20;
/// Label namespaces that are not the user's: Berth's own (it finds its containers by
/// them) and the ones Docker reserves.
const RESERVED_LABEL_PREFIXES: &[&str] =
    &["berth.", "com.docker.", "io.docker.", "org.dockerproject."];

/// A service name is a DNS label (it names the service on its team's network).
pub fn validate_service_name(name: &str) -> Result<(), &'static str> {
    if is_dns_label(name) {
        Ok(())
    } else {
        Err("A name has 1–63 lowercase letters, digits or '-', and starts and ends with a letter or digit.")
    }
}

impl ServiceSpec {
    /// `Ok` when every rule holds; otherwise every broken rule.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Err(m) = validate_service_name(&self.name) {
            errors.push(FieldError::new("name", m));
        }
        match &self.git {
            // Berth sets a git service's image to what it built.
            Some(git) => git.check(&mut errors),
            None => match parse_image_ref(&self.image) {
                Err(m) => errors.push(FieldError::new("image", m)),
                Ok(_) if self.image.starts_with(BUILT_IMAGE_PREFIX) => errors.push(FieldError::new(
                    "image",
                    "Images under berth/ are the ones Berth builds from git; give the service a git source instead.",
                )),
                Ok(_) => {}
            },
        }
        if self.git.is_some() && self.pull_policy.is_some() {
            errors.push(FieldError::new(
                "pull_policy",
                "A git service runs the image Berth builds on this engine, which is never pulled: leave the pull policy unset.",
            ));
        }
        check_argv("command", &self.command, true, &mut errors);
        self.check_entrypoint(&mut errors);
        self.check_labels(&mut errors);
        self.check_depends_on(&mut errors);
        self.placement.check(&mut errors);
        self.check_env(&mut errors);
        self.check_ports(&mut errors);
        if self.replicas > MAX_REPLICAS {
            errors.push(FieldError::new(
                "replicas",
                format!("Replicas go from 0 to {MAX_REPLICAS}."),
            ));
        }
        if self.cpu_millis.is_some_and(|c| !(10..=64_000).contains(&c)) {
            errors.push(FieldError::new(
                "cpu_millis",
                "A CPU limit goes from 10 (0.01 core) to 64000 (64 cores).",
            ));
        }
        if self
            .memory_mb
            .is_some_and(|m| !(6..=1_048_576).contains(&m))
        {
            errors.push(FieldError::new(
                "memory_mb",
                "A memory limit goes from 6 MB (Docker's minimum) to 1 TB.",
            ));
        }
        self.check_health(&mut errors);
        self.check_volumes(&mut errors);
        self.check_replicas_with_volumes(&mut errors);
        if let Some(route) = &self.http {
            super::host_name::check_route(route, &mut errors);
        }
        if let Some(auth) = &self.registry_auth {
            let u = &auth.username;
            if u.is_empty() || u.len() > 256 || u.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    "registry_auth.username",
                    "A registry user name has 1–256 characters, without control characters.",
                ));
            }
            if auth.password.len() > 4096 || auth.password.contains('\0') {
                errors.push(FieldError::new(
                    "registry_auth.password",
                    "A registry password has at most 4096 bytes, without NUL characters.",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Each argument named by its index (`entrypoint[1]`).
    fn check_entrypoint(&self, errors: &mut Vec<FieldError>) {
        check_count(
            "entrypoint",
            self.entrypoint.len(),
            MAX_ARGS,
            "arguments",
            errors,
        );
        if self.entrypoint.first().is_some_and(|a| a.is_empty()) {
            errors.push(FieldError::new(
                "entrypoint[0]",
                "The program name cannot be empty.",
            ));
        }
        for (i, a) in self.entrypoint.iter().enumerate() {
            if a.len() > MAX_ARG_BYTES || a.contains('\0') {
                errors.push(FieldError::new(
                    format!("entrypoint[{i}]"),
                    "An argument can be at most 4096 bytes, without NUL characters.",
                ));
            }
        }
    }

    /// Each label named by its key (`labels.com.example.team`).
    fn check_labels(&self, errors: &mut Vec<FieldError>) {
        check_count("labels", self.labels.len(), MAX_LABELS, "labels", errors);
        for (key, value) in &self.labels {
            let field = format!("labels.{key}");
            let k = key.as_bytes();
            let shaped = !k.is_empty()
                && k.len() <= MAX_LABEL_KEY_BYTES
                && k[0].is_ascii_alphanumeric()
                && k.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'/'));
            let lower = key.to_ascii_lowercase();
            if !shaped {
                errors.push(FieldError::new(
                    field,
                    "A label key has 1–128 letters, digits, '.', '-', '_' or '/', and starts with a letter or digit.",
                ));
            } else if let Some(prefix) = RESERVED_LABEL_PREFIXES
                .iter()
                .find(|p| lower.starts_with(*p))
            {
                errors.push(FieldError::new(
                    field,
                    format!("Keys under {prefix} are reserved (Berth's own labels and Docker's); use your own namespace, e.g. com.example.{}.", &key[prefix.len()..]),
                ));
            } else if value.len() > MAX_LABEL_VALUE_BYTES || value.contains('\0') {
                errors.push(FieldError::new(
                    field,
                    "A label value can be at most 1024 bytes, without NUL characters.",
                ));
            }
        }
    }

    /// The entries themselves; whether the services exist (and form no cycle) is the
    /// environment's check (`dependencies::problems`).
    fn check_depends_on(&self, errors: &mut Vec<FieldError>) {
        check_count(
            "depends_on",
            self.depends_on.len(),
            MAX_DEPENDS_ON,
            "dependencies",
            errors,
        );
        let mut seen = HashSet::new();
        for (i, d) in self.depends_on.iter().enumerate() {
            let field = format!("depends_on[{i}].service");
            if let Err(m) = validate_service_name(&d.service) {
                errors.push(FieldError::new(field, m));
            } else if d.service == self.name {
                errors.push(FieldError::new(field, "A service cannot depend on itself."));
            } else if !seen.insert(d.service.as_str()) {
                errors.push(FieldError::new(
                    field,
                    format!("{} is listed twice.", d.service),
                ));
            }
        }
    }

    fn check_env(&self, errors: &mut Vec<FieldError>) {
        check_count("env", self.env.len(), MAX_ENV, "variables", errors);
        let mut seen = HashSet::new();
        for (i, var) in self.env.iter().enumerate() {
            let k = var.key.as_bytes();
            let posix = !k.is_empty()
                && k.len() <= 256
                && (k[0].is_ascii_alphabetic() || k[0] == b'_')
                && k.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
            if !posix {
                errors.push(FieldError::new(
                    format!("env[{i}].key"),
                    "A variable name has letters, digits and '_', and does not start with a digit.",
                ));
            } else if !seen.insert(var.key.as_str()) {
                errors.push(FieldError::new(
                    format!("env[{i}].key"),
                    format!("{} is set twice.", var.key),
                ));
            }
            if var.value.len() > MAX_ENV_VALUE_BYTES {
                errors.push(FieldError::new(
                    format!("env[{i}].value"),
                    "A value can be at most 64 KiB.",
                ));
            } else if var.value.contains('\0') {
                errors.push(FieldError::new(
                    format!("env[{i}].value"),
                    "A value cannot contain a NUL character.",
                ));
            }
        }
    }

    fn check_ports(&self, errors: &mut Vec<FieldError>) {
        check_count("ports", self.ports.len(), MAX_PORTS, "ports", errors);
        let (mut inside, mut published) = (HashSet::new(), HashSet::new());
        for (i, p) in self.ports.iter().enumerate() {
            if p.container == 0 {
                errors.push(FieldError::new(
                    format!("ports[{i}].container"),
                    "A port goes from 1 to 65535.",
                ));
            } else if !inside.insert((p.container, p.protocol)) {
                errors.push(FieldError::new(
                    format!("ports[{i}].container"),
                    "This port is listed twice.",
                ));
            }
            match p.host {
                Some(0) => errors.push(FieldError::new(
                    format!("ports[{i}].host"),
                    "A port goes from 1 to 65535.",
                )),
                Some(h) if !published.insert((h, p.protocol)) => errors.push(FieldError::new(
                    format!("ports[{i}].host"),
                    "This host port is published twice.",
                )),
                Some(_) if self.replicas > 1 => errors.push(FieldError::new(
                    format!("ports[{i}].host"),
                    "A host port can reach only one replica: use one replica, or a domain instead.",
                )),
                _ => {}
            }
        }
    }

    fn check_health(&self, errors: &mut Vec<FieldError>) {
        let Some(h) = &self.health_check else { return };
        match &h.probe {
            HealthProbe::Http { path, port } => {
                let path_ok = path.starts_with('/')
                    && path.len() <= 1024
                    && !path.chars().any(|c| c.is_whitespace() || c.is_control());
                if !path_ok {
                    errors.push(FieldError::new(
                        "health_check.path",
                        "A health path starts with '/' and has no spaces (e.g. /healthz).",
                    ));
                }
                if *port == 0 {
                    errors.push(FieldError::new(
                        "health_check.port",
                        "A port goes from 1 to 65535.",
                    ));
                }
            }
            HealthProbe::Command { argv } => check_argv("health_check.argv", argv, false, errors),
            // Nothing else to check: the numbers below are not used.
            HealthProbe::None => {}
        }
        if let Some(host) = &h.host {
            if !matches!(h.probe, HealthProbe::Http { .. }) {
                errors.push(FieldError::new(
                    "health_check.host",
                    "Only an HTTP health check sends a Host header: choose kind http, or leave the host empty.",
                ));
            } else if let Err(m) = super::validate_host_name(host) {
                errors.push(FieldError::new("health_check.host", m));
            }
        }
        let ranges = [
            ("health_check.interval_s", h.interval_s, 1, 3600),
            ("health_check.timeout_s", h.timeout_s, 1, 600),
            ("health_check.retries", h.retries, 1, 100),
            ("health_check.start_period_s", h.start_period_s, 0, 3600),
        ];
        let timed = !matches!(h.probe, HealthProbe::None);
        for (field, value, min, max) in ranges.into_iter().filter(|_| timed) {
            if !(min..=max).contains(&value) {
                errors.push(FieldError::new(field, format!("Between {min} and {max}.")));
            }
        }
    }

    fn check_volumes(&self, errors: &mut Vec<FieldError>) {
        check_count(
            "volumes",
            self.volumes.len(),
            MAX_VOLUMES,
            "volumes",
            errors,
        );
        let mut paths = HashSet::new();
        for (i, v) in self.volumes.iter().enumerate() {
            let n = v.name.as_bytes();
            let named = !n.is_empty()
                && n.len() <= 64
                && n[0].is_ascii_alphanumeric()
                && n.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
            if !named {
                errors.push(FieldError::new(
                    format!("volumes[{i}].name"),
                    "Only named volumes (letters, digits, '_', '.', '-'): host folders cannot be mounted.",
                ));
            }
            let path_ok = v.path.starts_with('/')
                && v.path != "/"
                && v.path.len() <= 4096
                && !v.path.split('/').any(|seg| seg == "..")
                && !v.path.chars().any(|c| c.is_control() || c == ':');
            if !path_ok {
                errors.push(FieldError::new(
                    format!("volumes[{i}].path"),
                    "A mount path is absolute, not '/', and has no '..' or ':'.",
                ));
            } else if !paths.insert(v.path.trim_end_matches('/')) {
                errors.push(FieldError::new(
                    format!("volumes[{i}].path"),
                    "Two volumes share this path.",
                ));
            }
        }
    }
}

/// "At most N <things>" when a list is too long.
fn check_count(field: &str, len: usize, max: usize, things: &str, errors: &mut Vec<FieldError>) {
    if len > max {
        errors.push(FieldError::new(field, format!("At most {max} {things}.")));
    }
}

fn check_argv(field: &str, argv: &[String], may_be_empty: bool, errors: &mut Vec<FieldError>) {
    if argv.is_empty() && !may_be_empty {
        errors.push(FieldError::new(
            field,
            "Give the program to run and its arguments.",
        ));
    }
    check_count(field, argv.len(), MAX_ARGS, "arguments", errors);
    if argv.first().is_some_and(|a| a.is_empty()) {
        errors.push(FieldError::new(field, "The program name cannot be empty."));
    }
    if argv
        .iter()
        .any(|a| a.len() > MAX_ARG_BYTES || a.contains('\0'))
    {
        errors.push(FieldError::new(
            field,
            "An argument can be at most 4096 bytes, without NUL characters.",
        ));
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
