//! Writing an environment's services as a compose file that [`super::import`] reads back
//! into the same definitions. Strings are written double-quoted (JSON's escapes are YAML's)
//! with every `$` doubled, so interpolation on import gives them back; Berth's `${{ … }}`
//! references are kept. Secret values are never written.

use super::interpolate::escape;
use super::units;
use super::{BuildRepository, DefinedService};
use crate::domain::service::{GitSource, HealthProbe, PullPolicy, RestartPolicy, ServiceSpec};
use std::collections::BTreeSet;
use std::fmt::Write;

/// The compose file of `services`. A secret variable's value is the placeholder
/// `${<SERVICE>_<KEY>}` (`api` + `DB_PASSWORD` → `${API_DB_PASSWORD}`), listed in the
/// header: define those as shared variables of the environment the file is imported into.
/// A git service that builds from `repository` (the environment's repository and branch)
/// is a plain `build:`; one that builds from another repository or branch also names it
/// under `x-berth.git` (`repository`, `branch`). Git credentials are never written.
pub fn export(services: &[DefinedService], repository: Option<&BuildRepository>) -> String {
    let mut out = String::new();
    header(&mut out, services);
    out.push_str("services:\n");
    for s in services {
        service(&mut out, s, repository);
    }
    let volumes: BTreeSet<&str> = services
        .iter()
        .flat_map(|s| s.spec.volumes.iter().map(|v| v.name.as_str()))
        .collect();
    if !volumes.is_empty() {
        out.push_str("volumes:\n");
        for v in volumes {
            let _ = writeln!(out, "  {}: {{}}", key(v));
        }
    }
    out
}

/// `API_DB_PASSWORD` for the variable `DB_PASSWORD` of `api`.
pub fn placeholder(service: &str, key: &str) -> String {
    format!(
        "{}_{key}",
        service.to_ascii_uppercase().replace(['-', '.'], "_")
    )
}

fn header(out: &mut String, services: &[DefinedService]) {
    out.push_str("# Exported from Berth.\n");
    let secrets: Vec<String> = services
        .iter()
        .flat_map(|s| {
            s.spec.env.iter().filter(|v| v.secret).map(|v| {
                format!(
                    "#   {} ({} {})\n",
                    placeholder(&s.spec.name, &v.key),
                    s.spec.name,
                    v.key
                )
            })
        })
        .collect();
    if !secrets.is_empty() {
        out.push_str(
            "# Secret values are not written. Each is a ${NAME} placeholder: define these as\n\
             # shared variables of the environment you import into (for docker compose, in\n\
             # the shell):\n",
        );
        secrets.iter().for_each(|s| out.push_str(s));
    }
    let built = services.iter().any(|s| s.spec.git.is_some());
    let creds = services.iter().any(|s| s.spec.registry_auth.is_some());
    if built {
        out.push_str(
            "# A build names a folder of the environment's repository (the repository and\n\
             # branch are the environment's own, not written here), or of the one its\n\
             # x-berth.git names. Git credentials are not written.\n",
        );
    }
    if creds {
        out.push_str("# Registry credentials are not written: give them again after an import.\n");
    }
    out.push_str(
        "# x-berth holds what Compose cannot say (domains, Berth's HTTP checks, secret\n\
         # variables, shared volumes); docker compose ignores it.\n",
    );
}

/// The repository a git service builds from when it is not `environment`'s.
fn other_repository<'a>(
    git: &'a GitSource,
    environment: Option<&BuildRepository>,
) -> Option<(&'a str, &'a str)> {
    let same = environment.is_some_and(|r| r.repository == git.repo && r.branch == git.branch);
    (!same).then_some((git.repo.as_str(), git.branch.as_str()))
}

fn service(out: &mut String, s: &DefinedService, repository: Option<&BuildRepository>) {
    let spec = &s.spec;
    let _ = writeln!(out, "  {}:", key(&spec.name));
    match &spec.git {
        Some(git) => {
            out.push_str("    build:\n");
            let _ = writeln!(out, "      context: {}", q(&git.context));
            let _ = writeln!(out, "      dockerfile: {}", q(&git.dockerfile));
            if !git.build_args.is_empty() {
                out.push_str("      args:\n");
                for a in &git.build_args {
                    let _ = writeln!(out, "        {}: {}", key(&a.key), q(&a.value));
                }
            }
        }
        None => {
            let _ = writeln!(out, "    image: {}", q(&spec.image));
        }
    }
    if !spec.entrypoint.is_empty() {
        let _ = writeln!(out, "    entrypoint: {}", flow(&spec.entrypoint));
    }
    if !spec.command.is_empty() {
        let _ = writeln!(out, "    command: {}", flow(&spec.command));
    }
    if !spec.labels.is_empty() {
        out.push_str("    labels:\n");
        for (k, v) in &spec.labels {
            let _ = writeln!(out, "      {}: {}", key(k), q(v));
        }
    }
    if !spec.env.is_empty() {
        out.push_str("    environment:\n");
        for v in &spec.env {
            let value = if v.secret {
                format!("\"${{{}}}\"", placeholder(&spec.name, &v.key))
            } else {
                q(&v.value)
            };
            let _ = writeln!(out, "      {}: {value}", key(&v.key));
        }
    }
    list(out, "ports", spec.ports.iter().map(units::port_text));
    list(
        out,
        "volumes",
        spec.volumes.iter().map(|v| {
            let ro = if v.read_only { ":ro" } else { "" };
            format!("{}:{}{ro}", v.name, v.path)
        }),
    );
    if !spec.depends_on.is_empty() {
        out.push_str("    depends_on:\n");
        for d in &spec.depends_on {
            let _ = writeln!(
                out,
                "      {}:\n        condition: {}",
                key(&d.service),
                d.condition.as_str()
            );
        }
    }
    healthcheck(out, spec);
    deploy(out, spec);
    let restart = match spec.restart_policy {
        RestartPolicy::No => "no",
        RestartPolicy::OnFailure => "on-failure",
        RestartPolicy::Always => "always",
        RestartPolicy::UnlessStopped => "unless-stopped",
    };
    let _ = writeln!(out, "    restart: {}", q(restart));
    if let Some(p) = spec.pull_policy {
        let name = match p {
            PullPolicy::Always => "always",
            // Compose's older name for missing, which every version reads.
            PullPolicy::IfMissing => "if_not_present",
            PullPolicy::Never => "never",
        };
        let _ = writeln!(out, "    pull_policy: {name}");
    }
    let other = spec
        .git
        .as_ref()
        .and_then(|g| other_repository(g, repository));
    berth_extension(out, spec, other);
}

fn healthcheck(out: &mut String, spec: &ServiceSpec) {
    let Some(h) = &spec.health_check else { return };
    out.push_str("    healthcheck:\n");
    match &h.probe {
        HealthProbe::Command { argv } => {
            let test: Vec<String> = std::iter::once("CMD".to_owned())
                .chain(argv.iter().cloned())
                .collect();
            let _ = writeln!(out, "      test: {}", flow(&test));
        }
        // Compose allows no timings next to it (they mean nothing then).
        HealthProbe::None => return out.push_str("      disable: true\n"),
        // Berth's own probe: under x-berth.http_check.
        HealthProbe::Http { .. } => {}
    }
    let _ = writeln!(out, "      interval: {}", q(&units::duration(h.interval_s)));
    let _ = writeln!(out, "      timeout: {}", q(&units::duration(h.timeout_s)));
    let _ = writeln!(out, "      retries: {}", h.retries);
    let _ = writeln!(
        out,
        "      start_period: {}",
        q(&units::duration(h.start_period_s))
    );
}

fn deploy(out: &mut String, spec: &ServiceSpec) {
    let _ = writeln!(out, "    deploy:\n      replicas: {}", spec.replicas);
    if spec.cpu_millis.is_none() && spec.memory_mb.is_none() {
        return;
    }
    out.push_str("      resources:\n        limits:\n");
    if let Some(c) = spec.cpu_millis {
        let _ = writeln!(out, "          cpus: {}", q(&units::cpus(c)));
    }
    if let Some(m) = spec.memory_mb {
        let _ = writeln!(out, "          memory: {}", q(&units::size(m)));
    }
}

fn berth_extension(out: &mut String, spec: &ServiceSpec, git: Option<(&str, &str)>) {
    let http_check = spec.health_check.as_ref().and_then(|h| match &h.probe {
        HealthProbe::Http { path, port } => Some((path, port, &h.host)),
        _ => None,
    });
    let secrets: Vec<String> = spec
        .env
        .iter()
        .filter(|v| v.secret)
        .map(|v| v.key.clone())
        .collect();
    let shared: Vec<String> = spec
        .volumes
        .iter()
        .filter(|v| v.shared)
        .map(|v| v.name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let nothing = spec.http.is_none() && http_check.is_none() && git.is_none();
    if nothing && secrets.is_empty() && shared.is_empty() {
        return;
    }
    out.push_str("    x-berth:\n");
    if let Some((repo, branch)) = git {
        let _ = writeln!(
            out,
            "      git:\n        repository: {}\n        branch: {}",
            q(repo),
            q(branch)
        );
    }
    if let Some(r) = &spec.http {
        let _ = writeln!(
            out,
            "      http:\n        domains: {}\n        port: {}\n        https_redirect: {}\n        www_redirect: {}",
            flow(&r.domains),
            r.port,
            r.https_redirect,
            r.www_redirect
        );
    }
    if let Some((path, port, host)) = http_check {
        let _ = writeln!(
            out,
            "      http_check:\n        path: {}\n        port: {port}",
            q(path)
        );
        if let Some(host) = host {
            let _ = writeln!(out, "        host: {}", q(host));
        }
    }
    if !secrets.is_empty() {
        let _ = writeln!(out, "      secret_env: {}", flow(&secrets));
    }
    if !shared.is_empty() {
        let _ = writeln!(out, "      shared_volumes: {}", flow(&shared));
    }
}

fn list(out: &mut String, name: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "    {name}:");
    for item in items {
        let _ = writeln!(out, "      - {}", q(&item));
    }
}

/// A string value: `$` escaped for interpolation, then double-quoted.
fn q(s: &str) -> String {
    serde_json::to_string(&escape(s)).unwrap_or_default()
}

/// `["a", "b"]`.
fn flow(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// A mapping key: plain when it cannot be read as anything but itself, quoted otherwise.
fn key(k: &str) -> String {
    let plain = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let reserved = matches!(
        k.to_ascii_lowercase().as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
    );
    if plain && !reserved {
        k.to_owned()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}
