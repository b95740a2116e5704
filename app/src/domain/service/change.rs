//! What an edit of a service means, decided from the stored and the new definition alone:
//! which stored secrets it keeps, whether a git service must be built again, and whether
//! the running containers are scaled, rerouted or replaced. Pure, so every rule is
//! unit-tested here and the command layer only applies the answer.

use super::{registry_host, repo_origin, FieldError, GitCredentials, ServiceSpec};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// What an update does to the running service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Nothing differs from what is stored.
    None,
    /// Only the replica count: containers are added or removed, none replaced.
    Scale,
    /// The HTTP route or the `depends_on` (and maybe the replica count): the proxy is
    /// told, no container is replaced.
    Reroute,
    /// A rolling deployment replaces every container.
    Rollout,
}

impl Change {
    /// The word the REST API answers with: `none`, `scale`, `reroute` or `rollout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::None => "none",
            Change::Scale => "scale",
            Change::Reroute => "reroute",
            Change::Rollout => "rollout",
        }
    }
}

/// A secret sent empty keeps the value stored under the same name: a secret env value
/// under its key, the registry password while the image's registry is the same, and git
/// credentials of the same kind (a token stays a token; switching to a deploy key needs
/// the key) while the repository's origin (scheme, host, port) is the same. `stored` is
/// opened (plain). A credential that would have been kept but whose host changed stays
/// empty, and is answered as a broken rule of its field: a stored secret never follows
/// its definition to another host.
pub fn keep_stored_secrets(new: &mut ServiceSpec, stored: &ServiceSpec) -> Vec<FieldError> {
    let mut moved = Vec::new();
    for var in new
        .env
        .iter_mut()
        .filter(|v| v.secret && v.value.is_empty())
    {
        if let Some(old) = stored.env.iter().find(|o| o.secret && o.key == var.key) {
            var.value = old.value.clone();
        }
    }
    let same_registry = registry_host(&new.image) == registry_host(&stored.image);
    if let (Some(auth), Some(old)) = (new.registry_auth.as_mut(), stored.registry_auth.as_ref()) {
        if auth.password.is_empty() && !old.password.is_empty() {
            if same_registry {
                auth.password = old.password.clone();
            } else {
                moved.push(FieldError::new(
                    "registry_auth.password",
                    "The image moved to another registry: enter the registry password again.",
                ));
            }
        }
    }
    let same_origin = match (&new.git, &stored.git) {
        (Some(n), Some(o)) => repo_origin(&n.repo) == repo_origin(&o.repo),
        _ => false,
    };
    if let (Some(creds), Some(old)) = (
        new.git.as_mut().and_then(|g| g.credentials.as_mut()),
        stored.git.as_ref().and_then(|g| g.credentials.as_ref()),
    ) {
        let same_kind = std::mem::discriminant(creds) == std::mem::discriminant(old);
        if creds.secret_mut().is_empty() && same_kind {
            if same_origin {
                *creds.secret_mut() = old.clone().secret_mut().clone();
            } else {
                let (field, what) = match creds {
                    GitCredentials::Token { .. } => ("git.credentials.token", "token"),
                    GitCredentials::DeployKey { .. } => {
                        ("git.credentials.private_key", "deploy key")
                    }
                };
                moved.push(FieldError::new(
                    field,
                    format!("The repository moved to another host: enter the {what} again."),
                ));
            }
        }
    }
    moved
}

/// The order of environment variables means nothing to a container (a key is set once),
/// so an edit that lists them in another order (the form lists plain variables before
/// secret ones) keeps the stored order: variables already stored stay where they were,
/// new ones follow in the order given. Build arguments are treated the same way.
pub fn keep_stored_order(new: &mut ServiceSpec, stored: &ServiceSpec) {
    fn place<'a>(key: &str, mut keys: impl Iterator<Item = &'a str>) -> usize {
        keys.position(|k| k == key).unwrap_or(usize::MAX)
    }
    new.env
        .sort_by_key(|v| place(&v.key, stored.env.iter().map(|o| o.key.as_str())));
    if let (Some(git), Some(old)) = (new.git.as_mut(), stored.git.as_ref()) {
        git.build_args
            .sort_by_key(|a| place(&a.key, old.build_args.iter().map(|o| o.key.as_str())));
    }
}

/// A git service's image is the one Berth built last, never the one in a request: sets
/// `new.image` from `stored` and answers whether the source must be built (again): the
/// git source changed, the service became a git service, or nothing was built yet.
pub fn adopt_stored_image(new: &mut ServiceSpec, stored: &ServiceSpec) -> bool {
    match (&new.git, &stored.git) {
        (Some(source), Some(old)) => {
            new.image = stored.image.clone();
            source != old || stored.image.is_empty()
        }
        (Some(_), None) => {
            new.image.clear();
            true
        }
        (None, _) => false,
    }
}

/// How the running service follows the edit from `stored` to `new`. A new HTTP port must
/// be proven by new replicas (health-checked on it) before traffic moves there, so only
/// domain and redirect changes keep the containers. `depends_on` orders deployments and is
/// nothing a container carries: changing it alone replaces none. The entrypoint and the
/// labels are part of a container's definition: changing them rolls out.
pub fn classify(stored: &ServiceSpec, new: &ServiceSpec) -> Change {
    if new == stored {
        return Change::None;
    }
    let port = |s: &ServiceSpec| s.http.as_ref().map(|h| h.port);
    let same_containers = ServiceSpec {
        replicas: stored.replicas,
        http: stored.http.clone(),
        depends_on: stored.depends_on.clone(),
        ..new.clone()
    } == *stored
        && port(new) == port(stored);
    if same_containers && new.http == stored.http && new.depends_on == stored.depends_on {
        Change::Scale
    } else if same_containers {
        Change::Reroute
    } else {
        Change::Rollout
    }
}

/// `{field: {before, after}}` for every top-level field of a service definition that
/// changed. Give both sides open (or both sealed with the same nonces): they are compared
/// as given and shown masked, so a field whose only change is a secret value says so
/// without showing it.
pub fn spec_change(before: &ServiceSpec, after: &ServiceSpec) -> Value {
    let raw = |s: &ServiceSpec| serde_json::to_value(s).unwrap_or_default();
    let shown = |s: &ServiceSpec| serde_json::to_value(s.clone().masked()).unwrap_or_default();
    let (raw_before, raw_after) = (raw(before), raw(after));
    let (before, after) = (shown(before), shown(after));
    let mut out = Map::new();
    let keys = raw_before
        .as_object()
        .into_iter()
        .chain(raw_after.as_object())
        .flat_map(|o| o.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>();
    for key in keys {
        if raw_before.get(&key) == raw_after.get(&key) {
            continue;
        }
        let (b, a) = (before.get(&key), after.get(&key));
        let entry = if b == a {
            json!("a secret value changed (not shown)")
        } else {
            json!({ "before": b, "after": a })
        };
        out.insert(key, entry);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::service::EnvVar;

    fn spec(v: serde_json::Value) -> ServiceSpec {
        serde_json::from_value(v).unwrap()
    }

    fn web() -> ServiceSpec {
        spec(json!({"name": "web", "image": "app:1", "replicas": 2,
            "env": [{"key": "TOKEN", "value": "s3cret", "secret": true},
                    {"key": "MODE", "value": "prod"}],
            "http": {"domains": ["a.example.com"], "port": 8080}}))
    }

    #[test]
    fn spec_change_names_fields_and_hides_secrets() {
        let a = spec(json!({"name": "web", "image": "a:1", "replicas": 1,
            "env": [{"key": "TOKEN", "value": "sealed-1", "secret": true}]}));
        let b = spec(json!({"name": "web", "image": "a:2", "replicas": 1,
            "env": [{"key": "TOKEN", "value": "sealed-2", "secret": true}]}));
        let c = spec_change(&a, &b);
        assert_eq!(c["image"], json!({"before": "a:1", "after": "a:2"}));
        assert_eq!(c["env"], json!("a secret value changed (not shown)"));
        assert!(c.get("replicas").is_none());
        assert!(!c.to_string().contains("sealed"));
    }

    #[test]
    fn a_reordered_env_keeps_the_stored_order_and_is_no_change() {
        let mut new = web();
        new.env.reverse();
        new.env.push(EnvVar {
            key: "NEW".into(),
            value: "1".into(),
            secret: false,
        });
        keep_stored_order(&mut new, &web());
        let keys: Vec<_> = new.env.iter().map(|v| v.key.as_str()).collect();
        assert_eq!(keys, ["TOKEN", "MODE", "NEW"]);
        new.env.pop();
        assert_eq!(classify(&web(), &new), Change::None);
    }

    #[test]
    fn depends_on_alone_replaces_no_container_but_entrypoint_and_labels_do() {
        let mut deps = web();
        deps.depends_on = vec![crate::domain::dependencies::DependsOn {
            service: "db".into(),
            condition: crate::domain::dependencies::DependsCondition::ServiceHealthy,
        }];
        assert_eq!(classify(&web(), &deps), Change::Reroute);
        assert_eq!(classify(&deps, &web()), Change::Reroute);
        deps.replicas = 4;
        assert_eq!(classify(&web(), &deps), Change::Reroute);
        let mut entrypoint = web();
        entrypoint.entrypoint = vec!["/bin/tini".into(), "--".into()];
        assert_eq!(classify(&web(), &entrypoint), Change::Rollout);
        let mut labels = web();
        labels
            .labels
            .insert("com.example.tier".into(), "front".into());
        assert_eq!(classify(&web(), &labels), Change::Rollout);
        entrypoint.depends_on = deps.depends_on.clone();
        assert_eq!(classify(&web(), &entrypoint), Change::Rollout);
    }

    #[test]
    fn a_stored_spec_without_the_new_fields_reads_and_writes_the_same() {
        // Specs stored before these fields existed: read with them empty, written without
        // them, so templates (and containers) of existing services are unchanged.
        let stored = json!({"name": "web", "image": "app:1", "command": [], "env": [],
            "ports": [], "replicas": 1, "cpu_millis": null, "memory_mb": null,
            "health_check": null, "restart_policy": "unless-stopped", "volumes": [],
            "registry_auth": null});
        let s = spec(stored.clone());
        assert!(s.entrypoint.is_empty() && s.labels.is_empty() && s.depends_on.is_empty());
        assert_eq!(serde_json::to_value(&s).unwrap(), stored);
    }

    #[test]
    fn identical_is_none() {
        assert_eq!(classify(&web(), &web()), Change::None);
    }

    #[test]
    fn replicas_alone_scale() {
        let mut new = web();
        new.replicas = 5;
        assert_eq!(classify(&web(), &new), Change::Scale);
    }

    #[test]
    fn domains_alone_reroute_even_with_replicas() {
        let mut new = web();
        new.http.as_mut().unwrap().domains = vec!["b.example.com".into()];
        assert_eq!(classify(&web(), &new), Change::Reroute);
        new.replicas = 3;
        assert_eq!(classify(&web(), &new), Change::Reroute);
    }

    #[test]
    fn a_new_http_port_or_image_or_env_rolls_out() {
        let mut port = web();
        port.http.as_mut().unwrap().port = 9090;
        assert_eq!(classify(&web(), &port), Change::Rollout);
        let mut image = web();
        image.image = "app:2".into();
        assert_eq!(classify(&web(), &image), Change::Rollout);
        let mut env = web();
        env.env[1].value = "dev".into();
        assert_eq!(classify(&web(), &env), Change::Rollout);
    }

    #[test]
    fn empty_secret_keeps_the_stored_value_and_a_new_one_replaces_it() {
        let mut kept = web();
        kept.env[0].value.clear();
        assert!(keep_stored_secrets(&mut kept, &web()).is_empty());
        assert_eq!(kept.env[0].value, "s3cret");
        let mut replaced = web();
        replaced.env[0].value = "other".into();
        let _ = keep_stored_secrets(&mut replaced, &web());
        assert_eq!(replaced.env[0].value, "other");
    }

    #[test]
    fn a_secret_under_a_new_key_stays_empty() {
        let mut new = web();
        new.env[0].key = "OTHER".into();
        new.env[0].value.clear();
        let _ = keep_stored_secrets(&mut new, &web());
        assert_eq!(new.env[0].value, "");
    }

    #[test]
    fn registry_password_and_git_token_are_kept_but_not_across_kinds() {
        let stored = spec(json!({"name": "web", "image": "", "replicas": 1,
            "registry_auth": {"username": "u", "password": "pw"},
            "git": {"repo": "https://example.com/a.git", "branch": "main",
                    "credentials": {"kind": "token", "token": "tok"}}}));
        let mut new = spec(json!({"name": "web", "image": "", "replicas": 1,
            "registry_auth": {"username": "u", "password": ""},
            "git": {"repo": "https://example.com/a.git", "branch": "main",
                    "credentials": {"kind": "token", "token": ""}}}));
        assert!(keep_stored_secrets(&mut new, &stored).is_empty());
        assert_eq!(new.registry_auth.as_ref().unwrap().password, "pw");
        assert_eq!(
            new.git
                .as_mut()
                .unwrap()
                .credentials
                .as_mut()
                .unwrap()
                .secret_mut(),
            "tok"
        );
        let mut key = spec(json!({"name": "web", "image": "", "replicas": 1,
            "git": {"repo": "git@example.com:a.git", "branch": "main",
                    "credentials": {"kind": "deploy_key", "private_key": ""}}}));
        let _ = keep_stored_secrets(&mut key, &stored);
        assert_eq!(
            key.git
                .as_mut()
                .unwrap()
                .credentials
                .as_mut()
                .unwrap()
                .secret_mut(),
            ""
        );
    }

    #[test]
    fn git_services_keep_their_built_image_and_rebuild_on_source_changes() {
        let stored = spec(
            json!({"name": "web", "image": "berth/t/web:abc", "replicas": 1,
            "git": {"repo": "https://example.com/a.git", "branch": "main"}}),
        );
        let mut same = stored.clone();
        same.image = "evil:1".into();
        assert!(!adopt_stored_image(&mut same, &stored));
        assert_eq!(same.image, "berth/t/web:abc");
        let mut branch = stored.clone();
        branch.git.as_mut().unwrap().branch = "dev".into();
        assert!(adopt_stored_image(&mut branch, &stored));
        let mut unbuilt = stored.clone();
        let mut stored_unbuilt = stored.clone();
        stored_unbuilt.image.clear();
        assert!(adopt_stored_image(&mut unbuilt, &stored_unbuilt));
        let image_service = web();
        let mut to_git = stored.clone();
        assert!(adopt_stored_image(&mut to_git, &image_service));
        assert_eq!(to_git.image, "");
        let mut plain = web();
        assert!(!adopt_stored_image(&mut plain, &stored));
    }

    #[test]
    fn a_token_stays_with_its_origin() {
        let with = |repo: &str, token: &str| {
            spec(json!({"name": "web", "image": "", "replicas": 1,
                "git": {"repo": repo, "branch": "main",
                        "credentials": {"kind": "token", "token": token}}}))
        };
        let stored = with("http://127.0.0.1:4001/a.git", "tok");
        let mut same = with("http://127.0.0.1:4001/b.git", "");
        assert!(keep_stored_secrets(&mut same, &stored).is_empty());
        assert_eq!(same.git.unwrap().credentials.unwrap().secret_mut(), "tok");
        for moved_to in [
            "http://127.0.0.1:4002/a.git",
            "https://127.0.0.1:4001/a.git",
            "http://127.0.0.2:4001/a.git",
        ] {
            let mut moved = with(moved_to, "");
            let errors = keep_stored_secrets(&mut moved, &stored);
            assert_eq!(errors.len(), 1, "{moved_to}");
            assert_eq!(errors[0].field, "git.credentials.token");
            assert!(errors[0].message.contains("moved to another host"));
            assert_eq!(moved.git.unwrap().credentials.unwrap().secret_mut(), "");
        }
        let mut given_again = with("http://127.0.0.1:4002/a.git", "new");
        assert!(keep_stored_secrets(&mut given_again, &stored).is_empty());
    }

    #[test]
    fn a_registry_password_stays_with_its_registry() {
        let with = |image: &str, password: &str| {
            spec(json!({"name": "web", "image": image, "replicas": 1,
                "registry_auth": {"username": "u", "password": password}}))
        };
        let stored = with("localhost:5000/a:1", "pw");
        let mut same = with("localhost:5000/b:2", "");
        assert!(keep_stored_secrets(&mut same, &stored).is_empty());
        assert_eq!(same.registry_auth.unwrap().password, "pw");
        let mut moved = with("localhost:5001/a:1", "");
        let errors = keep_stored_secrets(&mut moved, &stored);
        assert_eq!(errors[0].field, "registry_auth.password");
        assert_eq!(moved.registry_auth.unwrap().password, "");
        let hub = with("nginx:1", "pw");
        let mut also_hub = with("docker.io/library/nginx:2", "");
        assert!(keep_stored_secrets(&mut also_hub, &hub).is_empty());
    }
}
