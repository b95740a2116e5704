//! Where Docker Swarm may run a service's replicas: constraints on node attributes and
//! labels, a spread preference over a node label, and a maximum per node — Swarm's own
//! placement (`docker service create --constraint`, `--placement-pref spread=…`,
//! `--replicas-max-per-node`). A single engine has one node: there it is stored and ignored.

use super::field::FieldError;
use serde::{Deserialize, Serialize};

/// At most this many constraints.
pub const MAX_CONSTRAINTS: usize = 20;
/// At most this many replicas per node can be asked for (as `MAX_REPLICAS`).
pub const MAX_PER_NODE: u32 = 100;
/// The node attributes a constraint may test, as Swarm names them; `node.labels.<key>` and
/// `engine.labels.<key>` test a label.
const ATTRIBUTES: [&str; 5] = [
    "node.id",
    "node.hostname",
    "node.role",
    "node.platform.os",
    "node.platform.arch",
];
const LABEL_ATTRIBUTES: [&str; 2] = ["node.labels.", "engine.labels."];

/// Where Swarm may run the replicas. Empty: anywhere, spread over the nodes by Swarm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"constraints": ["node.labels.zone==eu-1", "node.role!=manager"], "spread": "node.labels.rack", "max_per_node": 2})))]
#[serde(deny_unknown_fields)]
pub struct NodePlacement {
    /// Each `<attribute>==<value>` or `<attribute>!=<value>`; the attribute is `node.id`,
    /// `node.hostname`, `node.role`, `node.platform.os`, `node.platform.arch`,
    /// `node.labels.<key>` or `engine.labels.<key>`. A replica runs only on a node that
    /// meets all of them. At most 20.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<String>,
    /// Spread the replicas evenly over the values of this node label
    /// (`node.labels.<key>`), e.g. one per zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<String>,
    /// At most this many replicas on one node (1–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_node: Option<u32>,
}

impl NodePlacement {
    pub fn is_empty(&self) -> bool {
        *self == NodePlacement::default()
    }

    /// Every rule broken, each named by its field (`placement.constraints[0]`,
    /// `placement.spread`, `placement.max_per_node`).
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        if self.constraints.len() > MAX_CONSTRAINTS {
            errors.push(FieldError::new(
                "placement.constraints",
                format!("At most {MAX_CONSTRAINTS} constraints."),
            ));
        }
        for (i, c) in self.constraints.iter().enumerate() {
            if let Err(m) = parse_constraint(c) {
                errors.push(FieldError::new(format!("placement.constraints[{i}]"), m));
            }
        }
        if let Some(label) = &self.spread {
            let key = label.strip_prefix("node.labels.").unwrap_or_default();
            if !is_label_key(key) {
                errors.push(FieldError::new(
                    "placement.spread",
                    "Spread over a node label: node.labels.<key>, e.g. node.labels.zone.",
                ));
            }
        }
        if self
            .max_per_node
            .is_some_and(|m| !(1..=MAX_PER_NODE).contains(&m))
        {
            errors.push(FieldError::new(
                "placement.max_per_node",
                format!(
                    "At most 1 to {MAX_PER_NODE} replicas per node; leave it empty for no limit."
                ),
            ));
        }
    }
}

/// A label key as Docker takes it: 1–128 letters, digits, `.`, `-`, `_`, starting with a
/// letter or digit.
fn is_label_key(key: &str) -> bool {
    let k = key.as_bytes();
    !k.is_empty()
        && k.len() <= 128
        && k[0].is_ascii_alphanumeric()
        && k.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

/// A constraint's attribute, operator (`true` for `==`) and value; or why it is not one.
pub fn parse_constraint(c: &str) -> Result<(&str, bool, &str), String> {
    let shape = "A constraint is <attribute>==<value> or <attribute>!=<value>, e.g. node.labels.zone==eu-1.";
    let (attribute, equal, value) = match (c.split_once("=="), c.split_once("!=")) {
        (Some((a, v)), None) => (a.trim(), true, v.trim()),
        (None, Some((a, v))) => (a.trim(), false, v.trim()),
        _ => return Err(shape.to_owned()),
    };
    let known = ATTRIBUTES.contains(&attribute)
        || LABEL_ATTRIBUTES
            .iter()
            .any(|p| attribute.strip_prefix(p).is_some_and(is_label_key));
    if !known {
        return Err(format!(
            "{attribute:?} is not a node attribute Swarm knows: use node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<key> or engine.labels.<key>."
        ));
    }
    let clean = !value.is_empty()
        && value.len() <= 256
        && !value.contains("==")
        && !value.contains("!=")
        && value.chars().all(|ch| !ch.is_control());
    if !clean {
        return Err(format!(
            "{shape} The value is 1–256 characters, on one line."
        ));
    }
    Ok((attribute, equal, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(p: &NodePlacement) -> Vec<String> {
        let mut e = Vec::new();
        p.check(&mut e);
        e.into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    }

    #[test]
    fn swarms_constraint_forms_are_accepted() {
        let p = NodePlacement {
            constraints: vec![
                "node.labels.zone==eu-1".into(),
                "node.role != manager".into(),
                "node.hostname==bcl1-n2".into(),
                "engine.labels.disk==ssd".into(),
            ],
            spread: Some("node.labels.rack".into()),
            max_per_node: Some(2),
        };
        assert_eq!(errors(&p), Vec::<String>::new());
        assert_eq!(
            parse_constraint("node.role != manager"),
            Ok(("node.role", false, "manager"))
        );
    }

    #[test]
    fn malformed_constraints_spreads_and_limits_are_named() {
        let p = NodePlacement {
            constraints: vec![
                "zone=eu".into(),
                "node.color==red".into(),
                "node.labels.zone==".into(),
                "node.labels.==x".into(),
                "node.labels.zone==a\nb".into(),
            ],
            spread: Some("zone".into()),
            max_per_node: Some(0),
        };
        let e = errors(&p);
        assert_eq!(e.len(), 7, "{e:#?}");
        assert!(e[0].starts_with("placement.constraints[0]: A constraint is"));
        assert!(e[1].contains("\"node.color\" is not a node attribute"));
        assert!(e[2].starts_with("placement.constraints[2]"));
        assert!(e[3].starts_with("placement.constraints[3]"));
        assert!(e[4].starts_with("placement.constraints[4]"));
        assert!(e[5].starts_with("placement.spread"));
        assert!(e[6].starts_with("placement.max_per_node"));
    }

    #[test]
    fn empty_is_anywhere_and_is_not_written() {
        let p = NodePlacement::default();
        assert!(p.is_empty());
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!({}));
    }
}
