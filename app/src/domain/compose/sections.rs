//! The sections of a compose service, each read into the draft: values of the wrong type,
//! keys Berth does not support and Compose forms it cannot represent are problems at
//! their paths. Mounts, health checks, dependencies and Berth's extension have their own
//! files beside this one.

use super::problems::{child, kind, Problems};
use super::refuse;
use super::translate::Draft;
use super::units;
use super::yaml::Node;
use super::ComposeBuild;
use crate::domain::service::{BuildArg, EnvVar, PortSpec, PullPolicy, ServiceSpec};

/// `command` (or a health check's test): a list as given, or a string split the way a
/// POSIX shell splits words (no shell runs it).
pub fn argv(value: &Node, at: &str, problems: &mut Problems) -> Option<Vec<String>> {
    match value {
        Node::Null => Some(Vec::new()),
        Node::Scalar(s) => match shlex::split(s) {
            Some(words) => Some(words),
            None => {
                problems.add(
                    at,
                    "The command has an unclosed quote or a trailing backslash.",
                );
                None
            }
        },
        _ => problems.texts(value, at),
    }
}

/// `KEY=VALUE` lists and `KEY: VALUE` maps, as `(key, value, path)`; a key without a
/// value takes the shared variable of that name (Compose takes it from the shell).
fn key_values(
    d: &Draft,
    value: &Node,
    at: &str,
    problems: &mut Problems,
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut given = |key: &str, v: Option<&str>, path: String, problems: &mut Problems| match v
        .or_else(|| d.shared.get(key).map(String::as_str))
    {
        Some(v) => out.push((key.to_owned(), v.to_owned(), path)),
        None => problems.add(
            path,
            format!(
                "{key} has no value and is not a shared variable of this environment: \
                     give it one."
            ),
        ),
    };
    match value {
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("{at}[{i}]");
                let Some(text) = problems.text(item, &path) else {
                    continue;
                };
                match text.split_once('=') {
                    Some((k, v)) => given(k, Some(v), path, problems),
                    None => given(&text, None, path, problems),
                }
            }
        }
        Node::Map(entries) => {
            for (k, v) in entries {
                let path = child(at, k);
                match v {
                    Node::Null => given(k, None, path, problems),
                    Node::Scalar(s) => given(k, Some(s), path, problems),
                    other => {
                        problems.add(path, format!("A value is expected, not {}.", kind(other)))
                    }
                }
            }
        }
        other => problems.add(
            at,
            format!("A list or a mapping is expected, not {}.", kind(other)),
        ),
    }
    out
}

pub fn environment(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    for (key, value, path) in key_values(d, value, at, problems) {
        d.spec.env.push(EnvVar {
            key,
            value,
            secret: false,
        });
        d.origins.env.push(path);
    }
}

/// `build: ./dir` or `build: {context, dockerfile, args}`; the context is a folder of the
/// environment's repository, the file being at its root.
pub fn build(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    let mut b = ComposeBuild {
        context: ".".to_owned(),
        dockerfile: "Dockerfile".to_owned(),
        args: Vec::new(),
        repository: None,
    };
    match value {
        Node::Scalar(s) => b.context = s.clone(),
        Node::Map(entries) => {
            for (key, v) in entries {
                let path = child(at, key);
                match key.as_str() {
                    "context" => b.context = problems.text(v, &path).unwrap_or_default(),
                    "dockerfile" => b.dockerfile = problems.text(v, &path).unwrap_or_default(),
                    "args" => {
                        b.args = key_values(d, v, &path, problems)
                            .into_iter()
                            .map(|(key, value, _)| BuildArg { key, value })
                            .collect()
                    }
                    k => problems.add(path, refuse::nested_key("build", k)),
                }
            }
        }
        other => {
            return problems.add(
                at,
                format!("A folder or a mapping is expected, not {}.", kind(other)),
            )
        }
    }
    if b.context.contains("://") || b.context.starts_with("git@") {
        problems.add(
            child(at, "context"),
            "A build context is a folder of the environment's repository, not a URL.",
        );
    }
    b.context = repo_folder(&b.context);
    d.build = Some(b);
}

/// `./api/` → `api`; `.` and `./` → `.`.
fn repo_folder(context: &str) -> String {
    let mut c = context.trim_end_matches('/');
    while let Some(rest) = c.strip_prefix("./") {
        c = rest.trim_start_matches('/');
    }
    if c.is_empty() || c == "." {
        ".".to_owned()
    } else {
        c.to_owned()
    }
}

pub fn ports(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    let Some(items) = problems.list(value, at) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("{at}[{i}]");
        let port = match item {
            Node::Map(entries) => long_port(entries, &path, problems),
            _ => problems
                .text(item, &path)
                .and_then(|t| units::port(&t).map_err(|m| problems.add(&path, m)).ok()),
        };
        if let Some(port) = port {
            d.spec.ports.push(port);
            d.origins.ports.push(path);
        }
    }
}

fn long_port(entries: &[(String, Node)], at: &str, problems: &mut Problems) -> Option<PortSpec> {
    let (mut target, mut published, mut protocol) = (None, None, "tcp".to_owned());
    let before = problems.0.len();
    for (key, v) in entries {
        let path = child(at, key);
        match key.as_str() {
            "target" => target = problems.number(v, &path, 1, 65535),
            "published" => published = problems.number(v, &path, 1, 65535),
            "protocol" => protocol = problems.text(v, &path).unwrap_or_default(),
            k => problems.add(path, refuse::nested_key("a port", k)),
        }
    }
    let Some(target) = target else {
        problems.add(at, "Give the container's port (target).");
        return None;
    };
    let text = match published {
        Some(p) => format!("{p}:{target}/{protocol}"),
        None => format!("{target}/{protocol}"),
    };
    let port = units::port(&text).map_err(|m| problems.add(child(at, "protocol"), m));
    (problems.0.len() == before).then_some(port.ok()).flatten()
}

/// Container ports other services reach (never published); one already under `ports`
/// is not listed again.
pub fn expose(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    let Some(items) = problems.list(value, at) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("{at}[{i}]");
        let Some(text) = problems.text(item, &path) else {
            continue;
        };
        if text.contains(':') {
            problems.add(
                &path,
                "expose lists container ports only: publish under ports.",
            );
            continue;
        }
        match units::port(&text) {
            Err(m) => problems.add(&path, m),
            Ok(p) => {
                let listed = d
                    .spec
                    .ports
                    .iter()
                    .any(|q| q.container == p.container && q.protocol == p.protocol);
                if !listed {
                    d.spec.ports.push(p);
                    d.origins.ports.push(path);
                }
            }
        }
    }
}

pub fn deploy(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    let Some(entries) = problems.map(value, at) else {
        return;
    };
    for (key, v) in entries {
        let path = child(at, key);
        match key.as_str() {
            "replicas" => {
                if let Some(n) = problems.number(v, &path, 0, 50) {
                    d.spec.replicas = n as u32;
                }
            }
            "mode" => {
                if problems.text(v, &path).as_deref() != Some("replicated") {
                    problems.add(
                        path,
                        "Only replicated services are supported (deploy.replicas).",
                    );
                }
            }
            "resources" => resources(&mut d.spec, v, &path, problems),
            k => problems.add(path, refuse::nested_key("deploy", k)),
        }
    }
}

fn resources(spec: &mut ServiceSpec, value: &Node, at: &str, problems: &mut Problems) {
    let Some(entries) = problems.map(value, at) else {
        return;
    };
    for (key, v) in entries {
        let path = child(at, key);
        if key != "limits" {
            problems.add(
                path,
                refuse::nested_key("deploy.resources (limits only)", key),
            );
            continue;
        }
        let Some(limits) = problems.map(v, &path) else {
            continue;
        };
        for (key, v) in limits {
            let path = child(&path, key);
            let text = problems.text(v, &path);
            let Some(text) = text else { continue };
            match key.as_str() {
                "cpus" => match units::cpu_millis(&text) {
                    Ok(m) => spec.cpu_millis = Some(m),
                    Err(m) => problems.add(path, m),
                },
                "memory" => match units::mebibytes(&text) {
                    Ok(m) => spec.memory_mb = Some(m),
                    Err(m) => problems.add(path, m),
                },
                k => problems.add(path, refuse::nested_key("deploy.resources.limits", k)),
            }
        }
    }
}

pub fn pull_policy(spec: &mut ServiceSpec, value: &Node, at: &str, problems: &mut Problems) {
    spec.pull_policy = match problems.text(value, at).as_deref() {
        Some("always") => Some(PullPolicy::Always),
        Some("missing" | "if_not_present") => Some(PullPolicy::IfMissing),
        Some("never") => Some(PullPolicy::Never),
        Some(_) => {
            return problems.add(
                at,
                "pull_policy: always, missing (if_not_present) or never is supported.",
            )
        }
        None => return,
    };
}
