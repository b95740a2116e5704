//! One compose service into a Berth service: each key read by its section (see
//! `sections`), every other key refused by name, then the spec checked with the rules the
//! API applies, each broken rule reported at the compose path it came from.

use super::problems::{child, ComposeProblem, Problems};
use super::refuse;
use super::yaml::Node;
use super::{depends, extension, health, labels, mounts, sections};
use super::{ComposeBuild, ComposeService};
use crate::domain::service::{FieldError, HealthCheck, RestartPolicy, ServiceSpec};
use std::collections::BTreeMap;

/// Where each list entry of the spec came from, to name it in a problem.
#[derive(Default)]
pub struct Origins {
    pub env: Vec<String>,
    pub ports: Vec<String>,
    pub volumes: Vec<String>,
    /// `(key, path)` of each label.
    pub labels: Vec<(String, String)>,
}

/// A service as it is being read.
pub struct Draft<'a> {
    pub path: String,
    pub spec: ServiceSpec,
    pub build: Option<ComposeBuild>,
    pub origins: Origins,
    /// `healthcheck` and `x-berth.http_check` meet once both are read.
    pub health: Option<(HealthCheck, bool)>,
    pub http_check: Option<extension::HttpCheck>,
    /// `x-berth.git`, with its path, until `build` is read too.
    pub build_repository: Option<(super::BuildRepository, String)>,
    /// Names from `x-berth.secret_env` and `x-berth.shared_volumes`, with their paths.
    pub secret_env: Vec<(String, String)>,
    pub shared_volumes: Vec<(String, String)>,
    pub declared_volumes: &'a [String],
    pub shared: &'a BTreeMap<String, String>,
}

/// The service `name` at `path` (`services.<name>`), or `None` when it has problems (all
/// of them added to `problems`).
pub fn service(
    name: &str,
    node: &Node,
    declared_volumes: &[String],
    shared: &BTreeMap<String, String>,
    problems: &mut Problems,
    notes: &mut Vec<ComposeProblem>,
) -> Option<ComposeService> {
    let path = child("services", name);
    let before = problems.0.len();
    let entries = problems.map(node, &path)?;
    let mut d = Draft {
        path: path.clone(),
        spec: empty_spec(name),
        build: None,
        origins: Origins::default(),
        health: None,
        http_check: None,
        build_repository: None,
        secret_env: Vec::new(),
        shared_volumes: Vec::new(),
        declared_volumes,
        shared,
    };
    let mut image_given = false;
    for (key, value) in entries {
        let at = child(&path, key);
        match key.as_str() {
            "image" => {
                if let Some(image) = problems.text(value, &at) {
                    d.spec.image = image;
                    image_given = true;
                }
            }
            "build" => sections::build(&mut d, value, &at, problems),
            "command" => {
                if let Some(argv) = sections::argv(value, &at, problems) {
                    d.spec.command = argv;
                }
            }
            "entrypoint" => {
                if let Some(argv) = sections::argv(value, &at, problems) {
                    d.spec.entrypoint = argv;
                }
            }
            "labels" => labels::read(&mut d, value, &at, problems),
            "environment" => sections::environment(&mut d, value, &at, problems),
            "ports" => sections::ports(&mut d, value, &at, problems),
            "expose" => sections::expose(&mut d, value, &at, problems),
            "volumes" => mounts::volumes(&mut d, value, &at, problems),
            "depends_on" => depends::read(&mut d, value, &at, problems),
            "healthcheck" => health::healthcheck(&mut d, value, &at, problems),
            "deploy" => sections::deploy(&mut d, value, &at, problems),
            "restart" => restart(&mut d.spec, value, &at, problems),
            "pull_policy" => sections::pull_policy(&mut d.spec, value, &at, problems),
            "x-berth" => extension::berth_extension(&mut d, value, &at, problems),
            k if k.starts_with("x-") => notes.push(ComposeProblem::new(
                at,
                "An extension field: Berth does not read it.",
            )),
            k => problems.add(at, refuse::service_key(k)),
        }
    }
    if d.build.is_some() && image_given {
        // Compose would tag the built image with this name: on an engine every team shares,
        // a name of the file's choosing could replace an image other services run.
        problems.add(
            child(&path, "image"),
            "Give build or image, not both: Berth tags the images it builds itself \
             (berth/<team>/<service>:<commit>). Remove image to build from the repository, \
             or remove build to run an image built elsewhere.",
        );
    }
    if d.build.is_none() && !image_given {
        problems.add(
            &path,
            "Give an image, or a build from the environment's repository.",
        );
    }
    extension::finish(&mut d, problems);
    check_spec(&d, problems);
    if problems.0.len() > before {
        return None;
    }
    Some(ComposeService {
        spec: d.spec,
        build: d.build,
    })
}

/// A spec with Compose's defaults where Berth's differ: no health check of Berth's own
/// (the image's applies) and Docker's restart default (`no`).
fn empty_spec(name: &str) -> ServiceSpec {
    ServiceSpec {
        name: name.to_owned(),
        image: String::new(),
        git: None,
        command: Vec::new(),
        env: Vec::new(),
        ports: Vec::new(),
        replicas: 1,
        cpu_millis: None,
        memory_mb: None,
        health_check: None,
        restart_policy: RestartPolicy::No,
        volumes: Vec::new(),
        registry_auth: None,
        pull_policy: None,
        http: None,
        entrypoint: Vec::new(),
        labels: Default::default(),
        depends_on: Vec::new(),
        placement: Default::default(),
    }
}

fn restart(spec: &mut ServiceSpec, value: &Node, at: &str, problems: &mut Problems) {
    let Some(text) = problems.text(value, at) else {
        return;
    };
    spec.restart_policy = match text.as_str() {
        "no" => RestartPolicy::No,
        "always" => RestartPolicy::Always,
        "on-failure" => RestartPolicy::OnFailure,
        "unless-stopped" => RestartPolicy::UnlessStopped,
        t if t.starts_with("on-failure:") => {
            return problems.add(
                at,
                "Berth cannot limit restart attempts: use on-failure without a count.",
            )
        }
        _ => {
            return problems.add(
                at,
                "One of no, always, on-failure or unless-stopped is expected.",
            )
        }
    };
}

/// The API's rules, on the spec as it will be stored (a build service checked with its
/// `x-berth.git` repository, else a stand-in: the environment gives the real one).
fn check_spec(d: &Draft, problems: &mut Problems) {
    let mut spec = d.spec.clone();
    let own = d.build.as_ref().and_then(|b| b.repository.as_ref());
    if let Some(build) = &d.build {
        spec.git = Some(match own {
            Some(r) => build.git_source(&r.repository, &r.branch, None),
            None => build.git_source("https://example.com/repository.git", "main", None),
        });
    }
    let Err(errors) = spec.validate() else { return };
    for FieldError { field, message } in errors {
        let stand_in = ["git.repo", "git.branch"].contains(&field.as_str()) && own.is_none();
        if stand_in || field.starts_with("git.credentials") {
            continue;
        }
        problems.add(compose_path(d, &field), message);
    }
}

/// The compose path of a spec field (`env[2].value` → `services.web.environment.KEY`).
fn compose_path(d: &Draft, field: &str) -> String {
    let indexed = |list: &str| -> Option<usize> {
        let rest = field.strip_prefix(list)?.strip_prefix('[')?;
        rest[..rest.find(']')?].parse().ok()
    };
    let from = |origins: &[String], i: usize| origins.get(i).cloned();
    let p = |key: &str| child(&d.path, key);
    let found = if let Some(i) = indexed("env") {
        from(&d.origins.env, i)
    } else if let Some(i) = indexed("ports") {
        from(&d.origins.ports, i)
    } else if let Some(i) = indexed("volumes") {
        from(&d.origins.volumes, i)
    } else if let Some(i) = indexed("git.build_args") {
        d.build
            .as_ref()
            .and_then(|b| b.args.get(i))
            .map(|a| child(&p("build.args"), &a.key))
    } else {
        None
    };
    if let Some(path) = found {
        return path;
    }
    if let Some(key) = field.strip_prefix("labels.") {
        if let Some(path) = d.origins.labels.iter().find(|(k, _)| k == key) {
            return path.1.clone();
        }
    }
    if field.starts_with("entrypoint") || field.starts_with("depends_on") {
        return p(field.split('[').next().unwrap_or(field));
    }
    let http_check = d.http_check.is_some();
    match field {
        "name" => d.path.clone(),
        "replicas" => p("deploy.replicas"),
        "cpu_millis" => p("deploy.resources.limits.cpus"),
        "memory_mb" => p("deploy.resources.limits.memory"),
        "git.repo" => p("x-berth.git.repository"),
        "git.branch" => p("x-berth.git.branch"),
        "git.context" => p("build.context"),
        "git.dockerfile" => p("build.dockerfile"),
        "git.build_args" => p("build.args"),
        "health_check.interval_s" => p("healthcheck.interval"),
        "health_check.timeout_s" => p("healthcheck.timeout"),
        "health_check.retries" => p("healthcheck.retries"),
        "health_check.start_period_s" => p("healthcheck.start_period"),
        "health_check.argv" => p("healthcheck.test"),
        f if f.starts_with("health_check.") && http_check => p(&format!(
            "x-berth.http_check.{}",
            &f["health_check.".len()..]
        )),
        f if f.starts_with("http") => p(&format!("x-berth.{f}")),
        "env" => p("environment"),
        f => p(f),
    }
}
