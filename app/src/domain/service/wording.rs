//! How a person's change to a service reads on its timeline. `who` is `" by <name>"` for a
//! person and empty for a program; every sentence ends with a full stop.

use super::{Change, GitSource, HttpRoute, ServiceSpec};

/// "a.example.com, b.example.com → port 8080", or "no domains".
pub fn route_summary(route: Option<&HttpRoute>) -> String {
    match route {
        Some(r) => format!("{} → port {}", r.domains.join(", "), r.port),
        None => "no domains".to_owned(),
    }
}

/// "db (healthy), cache (started)", or "none".
pub fn depends_summary(depends_on: &[crate::domain::dependencies::DependsOn]) -> String {
    if depends_on.is_empty() {
        return "none".to_owned();
    }
    depends_on
        .iter()
        .map(|d| format!("{} ({})", d.service, d.condition.word()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "node.labels.zone==eu-1, node.role!=manager; spread over node.labels.rack; at most 2
/// per node", or "anywhere".
pub fn placement_summary(p: &super::NodePlacement) -> String {
    let mut parts = Vec::new();
    if !p.constraints.is_empty() {
        parts.push(p.constraints.join(", "));
    }
    if let Some(label) = &p.spread {
        parts.push(format!("spread over {label}"));
    }
    if let Some(max) = p.max_per_node {
        parts.push(format!("at most {max} per node"));
    }
    if parts.is_empty() {
        "anywhere".to_owned()
    } else {
        parts.join("; ")
    }
}

/// Where a new service's first version comes from: "image app:1" or "building main from …".
pub fn source(spec: &ServiceSpec) -> String {
    match &spec.git {
        Some(git) => format!("building {} from {}", git.branch, git.repo),
        None => format!("image {}", spec.image),
    }
}

pub fn created(who: &str, spec: &ServiceSpec) -> String {
    format!(
        "Created{who}: {}, {} replica(s).",
        source(spec),
        spec.replicas
    )
}

/// An edit that keeps the source: scaled, rerouted or rolled out (`Change::None` is never
/// told).
pub fn edited(who: &str, change: Change, before: &ServiceSpec, after: &ServiceSpec) -> String {
    match change {
        Change::Scale => format!(
            "Scaled from {} to {} replica(s){who}.",
            before.replicas, after.replicas
        ),
        Change::Reroute if before.http == after.http => format!(
            "Dependencies edited{who}: {}; no container replaced.",
            depends_summary(&after.depends_on)
        ),
        Change::Reroute => format!(
            "HTTP route edited{who}: {}; no container replaced.",
            route_summary(after.http.as_ref())
        ),
        Change::None | Change::Rollout => {
            format!(
                "Definition edited{who}: image {}; rolling out.",
                after.image
            )
        }
    }
}

pub fn git_source_edited(who: &str, git: &GitSource) -> String {
    format!(
        "Git source edited{who}: building {} from {}.",
        git.branch, git.repo
    )
}

pub fn redeploy_requested(who: &str) -> String {
    format!("Redeploy requested{who}.")
}

pub fn rollback_requested(who: &str, number: i32) -> String {
    format!("Rollback to deployment #{number} requested{who}.")
}

pub fn deploy_requested(who: &str, branch: &str) -> String {
    format!("Deploy of {branch} requested{who}: building the branch head.")
}

pub fn stopped(who: &str) -> String {
    format!("Stopped{who}: no replicas run.")
}

pub fn started(who: &str) -> String {
    format!("Started again{who}.")
}

pub fn webhook_rotated(who: &str) -> String {
    format!("Webhook secret rotated{who}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: serde_json::Value) -> ServiceSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn edits_say_what_happens_to_the_containers() {
        let before = spec(serde_json::json!({"name": "web", "image": "a:1", "replicas": 1}));
        let mut after = before.clone();
        after.replicas = 3;
        assert_eq!(
            edited(" by Ann", Change::Scale, &before, &after),
            "Scaled from 1 to 3 replica(s) by Ann."
        );
        after.image = "a:2".into();
        assert_eq!(
            edited("", Change::Rollout, &before, &after),
            "Definition edited: image a:2; rolling out."
        );
        after.depends_on = vec![crate::domain::dependencies::DependsOn {
            service: "db".into(),
            condition: crate::domain::dependencies::DependsCondition::ServiceHealthy,
        }];
        assert_eq!(
            edited("", Change::Reroute, &before, &after),
            "Dependencies edited: db (healthy); no container replaced."
        );
        after.http = Some(HttpRoute {
            domains: vec!["a.example.com".into()],
            port: 80,
            https_redirect: true,
            www_redirect: false,
        });
        assert_eq!(
            edited("", Change::Reroute, &before, &after),
            "HTTP route edited: a.example.com → port 80; no container replaced."
        );
    }

    #[test]
    fn creation_names_the_source() {
        let image = spec(serde_json::json!({"name": "web", "image": "a:1", "replicas": 2}));
        assert_eq!(
            created(" by Ann", &image),
            "Created by Ann: image a:1, 2 replica(s)."
        );
        let git = spec(
            serde_json::json!({"name": "web", "image": "", "replicas": 1,
            "git": {"repo": "https://example.com/a.git", "branch": "main"}}),
        );
        assert_eq!(
            created("", &git),
            "Created: building main from https://example.com/a.git, 1 replica(s)."
        );
    }
}
