//! The rules of stateful services, as pure functions: which volumes one replica must have to
//! itself, how a service rolls out because of them (stop-first or start-first, and why),
//! the replica rule, and which volumes go when a service is deleted with its volumes.

use super::field::FieldError;
use super::ServiceSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

impl ServiceSpec {
    /// Names of the volumes only one container may open at a time: mounted writable and not
    /// declared `shared`. In the order of `volumes`, each once.
    pub fn exclusive_volumes(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for v in self.volumes.iter().filter(|v| !v.read_only && !v.shared) {
            if !names.contains(&v.name.as_str()) {
                names.push(&v.name);
            }
        }
        names
    }

    /// Why a rollout of this service must stop the old containers before it starts new
    /// ones (`"stop-first: …"`), or `None` when it may start new ones first. A writable
    /// volume (two database servers must never open one data directory) and a published
    /// host port (one container can hold it) each force it.
    pub fn stop_first_reason(&self) -> Option<String> {
        let volumes = self.exclusive_volumes();
        if let Some(first) = volumes.first() {
            return Some(if volumes.len() == 1 {
                format!("stop-first: the volume {first} is writable and cannot be opened by two replicas")
            } else {
                format!(
                    "stop-first: the volumes {} are writable and cannot be opened by two replicas",
                    volumes.join(", ")
                )
            });
        }
        self.ports.iter().find_map(|p| {
            p.host
                .map(|h| format!("stop-first: the host port {h} can be held by one container only"))
        })
    }

    /// More than one replica with a volume only one container may open is refused (on
    /// `replicas`, naming the volumes), unless each such volume is read-only or `shared`.
    pub fn check_replicas_with_volumes(&self, errors: &mut Vec<FieldError>) {
        let volumes = self.exclusive_volumes();
        if self.replicas <= 1 || volumes.is_empty() {
            return;
        }
        let (which, it) = if volumes.len() == 1 {
            (format!("The volume {}", volumes[0]), "it")
        } else {
            (format!("The volumes {}", volumes.join(", ")), "each")
        };
        errors.push(FieldError::new(
            "replicas",
            format!(
                "{which} is writable: {} replicas would open the same data at once (a database \
                 would corrupt it). Use one replica, mount {it} read-only, or declare {it} \
                 shared if the application handles concurrent access.",
                self.replicas
            ),
        ));
    }
}

/// What deleting a service does with its volumes. Kept unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VolumesOnDelete {
    /// The volumes stay, with their data; a new service naming them mounts them again.
    #[default]
    Keep,
    /// The volumes no other service of the team uses are removed after the containers.
    Delete,
}

impl VolumesOnDelete {
    /// `keep` (also empty or absent) or `delete`; anything else is refused on `volumes`.
    pub fn parse(value: Option<&str>) -> Result<VolumesOnDelete, FieldError> {
        match value {
            None | Some("keep") => Ok(VolumesOnDelete::Keep),
            Some("delete") => Ok(VolumesOnDelete::Delete),
            Some(_) => Err(FieldError::new(
                "volumes",
                "Say keep (the default: the data stays) or delete (the data cannot be recovered).",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VolumesOnDelete::Keep => "keep",
            VolumesOnDelete::Delete => "delete",
        }
    }
}

/// The volumes a deleted service leaves to nobody: every name `deleted` mounts (its
/// definitions: the stored one and the one that ran) that no spec of `others` (the
/// team's other services, as stored and as running) mounts. Sorted, each once.
pub fn volumes_left_unused(deleted: &[ServiceSpec], others: &[ServiceSpec]) -> Vec<String> {
    let used: BTreeSet<&str> = others
        .iter()
        .flat_map(|s| s.volumes.iter().map(|v| v.name.as_str()))
        .collect();
    let mine: BTreeSet<&str> = deleted
        .iter()
        .flat_map(|s| s.volumes.iter().map(|v| v.name.as_str()))
        .collect();
    mine.difference(&used).map(|n| (*n).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> ServiceSpec {
        let mut base = json!({"name": "db", "image": "postgres:15"});
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn pgdata(extra: serde_json::Value) -> serde_json::Value {
        let mut v = json!({"name": "pgdata", "path": "/var/lib/postgresql/data"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    }

    #[test]
    fn a_writable_volume_rolls_out_stop_first_and_says_why() {
        let s = spec(json!({"volumes": [pgdata(json!({}))]}));
        assert_eq!(
            s.stop_first_reason().as_deref(),
            Some("stop-first: the volume pgdata is writable and cannot be opened by two replicas")
        );
        let two = spec(json!({"volumes": [
            pgdata(json!({})),
            {"name": "wal", "path": "/wal"},
            {"name": "pgdata", "path": "/again"}
        ]}));
        assert_eq!(two.exclusive_volumes(), ["pgdata", "wal"]);
        assert!(two
            .stop_first_reason()
            .unwrap()
            .contains("the volumes pgdata, wal are writable"));
    }

    #[test]
    fn read_only_and_shared_volumes_roll_out_start_first() {
        for extra in [json!({"read_only": true}), json!({"shared": true})] {
            let s = spec(json!({"volumes": [pgdata(extra.clone())]}));
            assert_eq!(s.stop_first_reason(), None, "{extra}");
        }
        assert_eq!(spec(json!({})).stop_first_reason(), None);
    }

    #[test]
    fn a_host_port_rolls_out_stop_first() {
        let s = spec(json!({"ports": [{"container": 80, "host": 8080}]}));
        assert_eq!(
            s.stop_first_reason().as_deref(),
            Some("stop-first: the host port 8080 can be held by one container only")
        );
    }

    #[test]
    fn replicas_with_a_writable_volume_are_refused_on_replicas() {
        let s = spec(json!({"replicas": 2, "volumes": [pgdata(json!({}))]}));
        let errors = s.validate().unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "replicas");
        assert!(errors[0].message.contains("The volume pgdata is writable"));
        assert!(errors[0].message.contains("shared"));
        for ok in [
            json!({"replicas": 1, "volumes": [pgdata(json!({}))]}),
            json!({"replicas": 0, "volumes": [pgdata(json!({}))]}),
            json!({"replicas": 3, "volumes": [pgdata(json!({"shared": true}))]}),
            json!({"replicas": 3, "volumes": [pgdata(json!({"read_only": true}))]}),
        ] {
            assert!(spec(ok.clone()).validate().is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_stored_spec_without_shared_reads_as_not_shared() {
        let s = spec(json!({"volumes": [pgdata(json!({}))]}));
        assert!(!s.volumes[0].shared);
    }

    #[test]
    fn the_volume_choice_on_delete_is_keep_unless_delete_is_said() {
        assert_eq!(VolumesOnDelete::parse(None), Ok(VolumesOnDelete::Keep));
        // Present but empty is not a choice (the API documents keep|delete).
        assert_eq!(
            VolumesOnDelete::parse(Some("")).unwrap_err().field,
            "volumes"
        );
        assert_eq!(
            VolumesOnDelete::parse(Some("keep")),
            Ok(VolumesOnDelete::Keep)
        );
        assert_eq!(
            VolumesOnDelete::parse(Some("delete")),
            Ok(VolumesOnDelete::Delete)
        );
        assert_eq!(
            VolumesOnDelete::parse(Some("yes")).unwrap_err().field,
            "volumes"
        );
    }

    #[test]
    fn only_volumes_no_other_service_mounts_are_left_unused() {
        let deleted = [
            spec(json!({"volumes": [pgdata(json!({})), {"name": "cache", "path": "/c"}]})),
            spec(json!({"volumes": [{"name": "old", "path": "/o"}]})),
        ];
        let others = [spec(
            json!({"volumes": [{"name": "cache", "path": "/x", "read_only": true}]}),
        )];
        assert_eq!(volumes_left_unused(&deleted, &others), ["old", "pgdata"]);
        assert!(volumes_left_unused(&[], &others).is_empty());
    }
}
