//! Reading a whole compose file: bounded YAML, interpolation, the top-level keys, each
//! service, then the rules between services.

use super::depends;
use super::interpolate::interpolate_tree;
use super::problems::{child, kind, Problems};
use super::refuse;
use super::translate;
use super::yaml::{self, Node};
use super::{ComposeApp, ComposeProblem};
use std::collections::BTreeMap;

/// The services and volumes `yaml` defines, with `${VAR}` taken from `shared` (the
/// environment's shared variables; Berth's `${{ … }}` references are kept as written).
/// Give only the *plain* shared variables: a value interpolated here is stored as the
/// file's text, so a secret one would lose its seal — the file references a secret as
/// `${{ shared.NAME }}`, resolved at deploy time; `${NAME}` of a secret is then refused as
/// an unknown variable.
///
/// # Errors
/// Every problem found, each at its path; nothing is returned with them.
pub fn import(
    yaml: &str,
    shared: &BTreeMap<String, String>,
) -> Result<ComposeApp, Vec<ComposeProblem>> {
    let mut root = yaml::parse(yaml).map_err(|p| vec![p])?;
    let mut problems = Problems::default();
    interpolate_tree(&mut root, "", shared, &mut problems);
    let Node::Map(top) = &root else {
        problems.add(
            "",
            format!("A mapping with services is expected, not {}.", kind(&root)),
        );
        return Err(problems.0);
    };
    let mut notes = Vec::new();
    let mut volumes = Vec::new();
    let mut services_node = None;
    for (key, value) in top {
        match key.as_str() {
            "services" => services_node = Some(value),
            "volumes" => volumes = top_volumes(value, &mut problems),
            "version" => notes.push(ComposeProblem::new(
                "version",
                "Ignored, as Compose ignores it.",
            )),
            "name" => notes.push(ComposeProblem::new(
                "name",
                "Ignored: the services go into the environment you import into.",
            )),
            k if k.starts_with("x-") => {}
            k => problems.add(k, refuse::top_key(k)),
        }
    }
    let mut services = Vec::new();
    match services_node.map(|n| problems.map(n, "services")) {
        None => problems.add("services", "A compose file defines services."),
        Some(None) => {}
        Some(Some([])) => problems.add("services", "A compose file defines services."),
        Some(Some(entries)) => {
            for (name, node) in entries {
                let service =
                    translate::service(name, node, &volumes, shared, &mut problems, &mut notes);
                services.extend(service);
            }
            let graph: Vec<_> = entries
                .iter()
                .map(|(name, _)| {
                    let deps = services
                        .iter()
                        .find(|s| s.spec.name == *name)
                        .map(|s| s.spec.depends_on.clone())
                        .unwrap_or_default();
                    (name.clone(), deps)
                })
                .collect();
            depends::check(&graph, &mut problems);
        }
    }
    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    Ok(ComposeApp {
        services,
        volumes,
        notes,
    })
}

/// `volumes: {data: , cache: {}}`: names only. A driver, options or an external volume
/// cannot be honoured (Berth creates the volumes itself).
fn top_volumes(value: &Node, problems: &mut Problems) -> Vec<String> {
    let Some(entries) = problems.map(value, "volumes") else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for (name, v) in entries {
        let path = child("volumes", name);
        match v {
            Node::Null => {}
            Node::Map(options) => {
                for (key, _) in options {
                    problems.add(
                        child(&path, key),
                        format!("{key}: Berth creates named volumes itself; drivers, options, names and external volumes are not supported."),
                    );
                }
            }
            other => problems.add(
                &path,
                format!("An empty value or {{}} is expected, not {}.", kind(other)),
            ),
        }
        let n = name.as_bytes();
        let named = !n.is_empty()
            && n.len() <= 64
            && n[0].is_ascii_alphanumeric()
            && n.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
        if !named {
            problems.add(
                &path,
                "A volume name has 1–64 letters, digits, '_', '.' or '-', and starts with a letter or digit.",
            );
        }
        names.push(name.clone());
    }
    names
}
