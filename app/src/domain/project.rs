//! Projects and environments: a team's applications. A project has environments
//! (`production` first); an environment has services, a Docker network of its own (its
//! services reach each other there by name, nothing else reaches them) and a volume-name
//! prefix of its own (so a clone's volumes are new and empty). Shared variables, compose
//! import/export and the service map hang on an environment too.

use super::service::{dns_name, is_dns_label, FieldError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The project existing services moved into, and where a service created without an
/// environment goes.
pub const DEFAULT_PROJECT: &str = "default";
/// The environment a new project starts with.
pub const FIRST_ENVIRONMENT: &str = "production";
/// Longest project description, in characters.
pub const MAX_DESCRIPTION: usize = 500;

/// The network of the team's first environment: the one every team had before projects
/// existed, so containers that ran then still run there.
pub fn team_network(team_id: Uuid) -> String {
    format!("berth-team-{}", team_id.simple())
}

/// The volume prefix of the team's first environment (volumes `berth-<team12>-<name>`).
pub fn team_volume_prefix(team_id: Uuid) -> String {
    format!("berth-{}", &team_id.simple().to_string()[..12])
}

/// The network of any other environment.
pub fn environment_network(environment_id: Uuid) -> String {
    format!("berth-env-{}", environment_id.simple())
}

/// The volume prefix of any other environment. `env` is no hex digit, so it never meets a
/// team prefix.
pub fn environment_volume_prefix(environment_id: Uuid) -> String {
    format!("berth-env-{}", &environment_id.simple().to_string()[..12])
}

/// Where an environment's containers live on the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub environment_id: Uuid,
    /// The Docker network its containers join.
    pub network: String,
    /// Its volumes are `<volume_prefix>-<name>`.
    pub volume_prefix: String,
}

impl Placement {
    /// The engine's name of the environment's volume `name` (as a spec names it).
    pub fn volume(&self, name: &str) -> String {
        format!("{}-{name}", self.volume_prefix)
    }
}

/// A project or environment name as typed, normalised (trimmed, lowercased) and checked:
/// a DNS label, like a service name.
pub fn project_name(field: &str, typed: &str) -> Result<String, FieldError> {
    let name = dns_name(typed);
    if is_dns_label(&name) {
        Ok(name)
    } else {
        Err(FieldError::new(
            field,
            "A name has 1–63 lowercase letters, digits or '-', and starts and ends with a letter or digit.",
        ))
    }
}

/// `POST /projects`, `PUT /projects/{id}`: a name and an optional description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectForm {
    /// A DNS label, unique in the team (trimmed and lowercased when saved).
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 63))]
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(max_length = 500))]
    #[serde(default)]
    pub description: String,
}

impl ProjectForm {
    /// The form normalised, or every broken rule.
    pub fn checked(&self) -> Result<ProjectForm, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = project_name("name", &self.name).map_err(|e| errors.push(e));
        let description = self.description.trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION {
            errors.push(FieldError::new(
                "description",
                format!("A description has at most {MAX_DESCRIPTION} characters."),
            ));
        }
        match name {
            Ok(name) if errors.is_empty() => Ok(ProjectForm { name, description }),
            _ => Err(errors),
        }
    }
}

/// `POST /projects/{id}/environments` (`clone_from`: copy that environment's services) and
/// `PUT /environments/{id}` (the name only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvironmentForm {
    /// A DNS label, unique in the project (trimmed and lowercased when saved).
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 63))]
    pub name: String,
    /// An environment of the same team whose services are copied (see the README's
    /// "Clone an environment"); absent: the environment starts empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_from: Option<Uuid>,
}

/// An environment with its services' counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentView {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    /// The Docker network its services share (they reach each other by service name).
    pub network: String,
    /// How many services it holds.
    pub services: i64,
    /// The git repository its compose imports build from (credentials masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<super::environment_repository::EnvironmentRepository>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A project with its environments (by creation, `production` first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub environments: Vec<EnvironmentView>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Where a service lives, as its pages and the API show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServicePlace {
    pub project_id: Uuid,
    pub project: String,
    pub environment_id: Uuid,
    pub environment: String,
}

/// What a clone left out of one copied service: its domains and host ports are the
/// source's alone (a domain routes to one service; a host port is the machine's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CloneDropped {
    /// The service (its name, the same in both environments).
    pub service: String,
    pub domains: Vec<String>,
    pub host_ports: Vec<u16>,
}

/// `201` of creating an environment: it, and for a clone what was left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentCreated {
    pub environment: EnvironmentView,
    /// The services created in it (a clone's copies), by name.
    pub services: Vec<String>,
    /// Per copied service, the domains and host ports not copied (only services that had
    /// any).
    pub dropped: Vec<CloneDropped>,
}

/// Takes out of a spec what a clone does not copy (domains, host ports); says what it took.
pub fn strip_for_clone(spec: &mut super::service::ServiceSpec) -> Option<CloneDropped> {
    let domains = spec.http.take().map(|h| h.domains).unwrap_or_default();
    let host_ports: Vec<u16> = spec
        .ports
        .iter_mut()
        .filter_map(|p| p.host.take())
        .collect();
    (!domains.is_empty() || !host_ports.is_empty()).then(|| CloneDropped {
        service: spec.name.clone(),
        domains,
        host_ports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::service::ServiceSpec;

    #[test]
    fn names_are_dns_labels_trimmed_and_lowercased() {
        assert_eq!(project_name("name", " Shop ").unwrap(), "shop");
        for bad in ["", "-a", "a-", "a b", "ü", &"a".repeat(64)] {
            assert_eq!(
                project_name("name", bad).unwrap_err().field,
                "name",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_long_description_and_a_bad_name_are_both_named() {
        let form = ProjectForm {
            name: "Not OK".into(),
            description: "x".repeat(501),
        };
        let fields: Vec<String> = form
            .checked()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["name", "description"]);
    }

    #[test]
    fn the_first_environment_keeps_the_team_names_others_get_their_own() {
        let team = Uuid::parse_str("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            team_network(team),
            "berth-team-0123456789abcdef0123456789abcdef"
        );
        assert_eq!(team_volume_prefix(team), "berth-0123456789ab");
        let env = Uuid::parse_str("fedcba98765432100123456789abcdef").unwrap();
        assert_eq!(
            environment_network(env),
            "berth-env-fedcba98765432100123456789abcdef"
        );
        let placement = Placement {
            environment_id: env,
            network: environment_network(env),
            volume_prefix: environment_volume_prefix(env),
        };
        assert_eq!(placement.volume("data"), "berth-env-fedcba987654-data");
    }

    #[test]
    fn a_clone_drops_domains_and_host_ports_and_says_so() {
        let mut spec: ServiceSpec = serde_json::from_value(serde_json::json!({
            "name": "web", "image": "nginx:1", "ports": [{"container": 80, "host": 8080}, {"container": 81}],
            "http": {"domains": ["a.example.com"], "port": 80}
        }))
        .unwrap();
        let dropped = strip_for_clone(&mut spec).unwrap();
        assert_eq!(dropped.domains, ["a.example.com"]);
        assert_eq!(dropped.host_ports, [8080]);
        assert!(spec.http.is_none());
        assert!(spec.ports.iter().all(|p| p.host.is_none()));
        assert_eq!(spec.ports.len(), 2);
        assert_eq!(strip_for_clone(&mut spec), None);
    }
}
