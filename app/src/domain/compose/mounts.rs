//! A service's `volumes`: named volumes declared at the top level only.

use super::problems::{child, Problems};
use super::refuse;
use super::translate::Draft;
use super::yaml::Node;
use crate::domain::service::VolumeMount;

/// Named volumes declared at the top level; host folders (bind mounts), anonymous
/// volumes and other mount types are refused.
pub fn volumes(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    let Some(items) = problems.list(value, at) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("{at}[{i}]");
        let mount = match item {
            Node::Map(entries) => long_volume(entries, &path, problems),
            _ => problems
                .text(item, &path)
                .and_then(|t| short_volume(&t).map_err(|m| problems.add(&path, m)).ok()),
        };
        let Some(mount) = mount else { continue };
        if !d.declared_volumes.contains(&mount.name) {
            problems.add(
                &path,
                format!(
                    "The volume {} is not declared under the top-level volumes.",
                    mount.name
                ),
            );
            continue;
        }
        d.spec.volumes.push(mount);
        d.origins.volumes.push(path);
    }
}

const BIND_MOUNT: &str =
    "A host folder (bind mount) cannot be mounted: use a named volume (name:/path).";

fn is_host_path(source: &str) -> bool {
    source.starts_with(['/', '.', '~', '$']) || source.contains('/') || source.contains('\\')
}

fn short_volume(text: &str) -> Result<VolumeMount, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => {
            return Err(format!(
                "{target} is an anonymous volume: give it a name (name:{target})."
            ))
        }
        [s, t] => (*s, *t, ""),
        [s, t, m] => (*s, *t, *m),
        _ => return Err("A volume is name:/path or name:/path:ro.".into()),
    };
    if is_host_path(source) {
        return Err(BIND_MOUNT.into());
    }
    let read_only = match mode {
        "" | "rw" => false,
        "ro" => true,
        m => return Err(format!("The mount option {m} is not supported (ro or rw).")),
    };
    Ok(VolumeMount {
        name: source.to_owned(),
        path: target.to_owned(),
        read_only,
        shared: false,
    })
}

fn long_volume(
    entries: &[(String, Node)],
    at: &str,
    problems: &mut Problems,
) -> Option<VolumeMount> {
    let before = problems.0.len();
    let (mut source, mut target, mut read_only) = (None, None, false);
    for (key, v) in entries {
        let path = child(at, key);
        match key.as_str() {
            "type" => match problems.text(v, &path).as_deref() {
                Some("volume") | None => {}
                Some("bind") => problems.add(path, BIND_MOUNT),
                Some(t) => {
                    problems.add(path, format!("Only named volumes are supported, not {t}."))
                }
            },
            "source" => source = problems.text(v, &path),
            "target" => target = problems.text(v, &path),
            "read_only" => read_only = problems.flag(v, &path).unwrap_or(false),
            k => problems.add(path, refuse::nested_key("a volume", k)),
        }
    }
    match (&source, &target) {
        (Some(s), _) if is_host_path(s) => problems.add(child(at, "source"), BIND_MOUNT),
        (None, Some(t)) => problems.add(
            at,
            format!("{t} is an anonymous volume: give it a name (source)."),
        ),
        (_, None) => problems.add(at, "Give the path in the container (target)."),
        _ => {}
    }
    if problems.0.len() > before {
        return None;
    }
    Some(VolumeMount {
        name: source?,
        path: target?,
        read_only,
        shared: false,
    })
}
