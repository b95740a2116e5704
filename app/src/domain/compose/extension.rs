//! `x-berth`, the service extension where export keeps what Compose cannot say, and the
//! last step of reading a service, which needs several sections at once.

use super::problems::{child, Problems};
use super::refuse;
use super::translate::Draft;
use super::yaml::Node;
use super::BuildRepository;
use crate::domain::service::{HealthCheck, HealthProbe, HttpRoute};

/// Berth's HTTP probe, from `x-berth.http_check`.
pub struct HttpCheck {
    pub path: String,
    pub port: u16,
    pub host: Option<String>,
}

/// `x-berth`: what Berth keeps that Compose cannot say (written by export).
pub fn berth_extension(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    let Some(entries) = problems.map(value, at) else {
        return;
    };
    for (key, v) in entries {
        let path = child(at, key);
        match key.as_str() {
            "http" => d.spec.http = http_route(v, &path, problems),
            "http_check" => d.http_check = http_check(v, &path, problems),
            "git" => d.build_repository = build_repository(v, &path, problems).map(|r| (r, path)),
            "secret_env" | "shared_volumes" => {
                let names = problems.texts(v, &path).unwrap_or_default();
                let named = names
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| (n, format!("{path}[{i}]")));
                if key == "secret_env" {
                    d.secret_env.extend(named);
                } else {
                    d.shared_volumes.extend(named);
                }
            }
            k => problems.add(path, refuse::nested_key("x-berth", k)),
        }
    }
}

/// `x-berth.git: {repository, branch}`: a build from that repository, not the
/// environment's (checked with the rules of a git service's source once read).
fn build_repository(value: &Node, at: &str, problems: &mut Problems) -> Option<BuildRepository> {
    let entries = problems.map(value, at)?;
    let (mut repository, mut branch) = (None, None);
    for (key, v) in entries {
        let path = child(at, key);
        match key.as_str() {
            "repository" => repository = problems.text(v, &path),
            "branch" => branch = problems.text(v, &path),
            k => problems.add(path, refuse::nested_key("x-berth.git", k)),
        }
    }
    match (repository, branch) {
        (Some(repository), Some(branch)) => Some(BuildRepository { repository, branch }),
        _ => {
            problems.add(at, "Give the repository and the branch a build comes from.");
            None
        }
    }
}

fn http_route(value: &Node, at: &str, problems: &mut Problems) -> Option<HttpRoute> {
    let entries = problems.map(value, at)?;
    let mut route = HttpRoute {
        domains: Vec::new(),
        port: 0,
        https_redirect: true,
        www_redirect: false,
    };
    for (key, v) in entries {
        let path = child(at, key);
        match key.as_str() {
            "domains" => route.domains = problems.texts(v, &path).unwrap_or_default(),
            "port" => route.port = problems.number(v, &path, 1, 65535).unwrap_or(0) as u16,
            "https_redirect" => route.https_redirect = problems.flag(v, &path).unwrap_or(true),
            "www_redirect" => route.www_redirect = problems.flag(v, &path).unwrap_or(false),
            k => problems.add(path, refuse::nested_key("x-berth.http", k)),
        }
    }
    Some(route)
}

fn http_check(value: &Node, at: &str, problems: &mut Problems) -> Option<HttpCheck> {
    let entries = problems.map(value, at)?;
    let (mut path_, mut port, mut host) = (None, None, None);
    for (key, v) in entries {
        let path = child(at, key);
        match key.as_str() {
            "path" => path_ = problems.text(v, &path),
            "port" => port = problems.number(v, &path, 1, 65535).map(|p| p as u16),
            "host" => host = problems.text(v, &path),
            k => problems.add(path, refuse::nested_key("x-berth.http_check", k)),
        }
    }
    match (path_, port) {
        (Some(path), Some(port)) => Some(HttpCheck { path, port, host }),
        _ => {
            problems.add(at, "Give the path and the port Berth probes.");
            None
        }
    }
}

/// What needs several sections: the health check (`healthcheck` and Berth's HTTP probe),
/// secret variables and shared volumes.
pub fn finish(d: &mut Draft, problems: &mut Problems) {
    if let Some((repository, at)) = d.build_repository.take() {
        match d.build.as_mut() {
            Some(b) => b.repository = Some(repository),
            None => problems.add(at, "Says where a build comes from: give build too."),
        }
    }
    let health_at = child(&d.path, "healthcheck");
    match (d.health.take(), d.http_check.take()) {
        (Some((_, true)), Some(_)) => problems.add(
            child(&health_at, "test"),
            "Give either a test or x-berth.http_check, not both.",
        ),
        (Some((check, true)), None) => d.spec.health_check = Some(check),
        (timed, Some(http)) => {
            let mut check = timed.map(|(c, _)| c).unwrap_or(HealthCheck {
                probe: HealthProbe::None,
                interval_s: 30,
                timeout_s: 30,
                retries: 3,
                start_period_s: 0,
                host: None,
            });
            check.probe = HealthProbe::Http {
                path: http.path,
                port: http.port,
            };
            check.host = http.host;
            d.spec.health_check = Some(check);
        }
        (Some((_, false)), None) => problems.add(
            health_at,
            "Give a test: Berth cannot keep the image's own check with other timings.",
        ),
        (None, None) => {}
    }
    for (name, path) in std::mem::take(&mut d.secret_env) {
        match d.spec.env.iter_mut().find(|v| v.key == name) {
            Some(var) => var.secret = true,
            None => problems.add(path, format!("{name} is not a variable of this service.")),
        }
    }
    for (name, path) in std::mem::take(&mut d.shared_volumes) {
        let mut found = false;
        for v in d.spec.volumes.iter_mut().filter(|v| v.name == name) {
            v.shared = true;
            found = true;
        }
        if !found {
            problems.add(path, format!("{name} is not a volume of this service."));
        }
    }
}
