//! `labels`: a list of `key=value` (a key alone: an empty value) or a map, as Compose
//! reads them. The keys' rules (no `berth.*`, no Docker-reserved ones) are the spec's,
//! checked with the rest of it and reported at the label's path.

use super::problems::{child, kind, Problems};
use super::translate::Draft;
use super::yaml::Node;

pub fn read(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    match value {
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("{at}[{i}]");
                if let Some(text) = problems.text(item, &path) {
                    let (key, value) = text.split_once('=').unwrap_or((text.as_str(), ""));
                    add(d, key.to_owned(), value.to_owned(), path, problems);
                }
            }
        }
        Node::Map(entries) => {
            for (key, v) in entries {
                let path = child(at, key);
                let value = match v {
                    Node::Null => Some(String::new()),
                    other => problems.text(other, &path),
                };
                if let Some(value) = value {
                    add(d, key.clone(), value, path, problems);
                }
            }
        }
        Node::Null => {}
        other => problems.add(
            at,
            format!(
                "A list of key=value or a mapping is expected, not {}.",
                kind(other)
            ),
        ),
    }
}

fn add(d: &mut Draft, key: String, value: String, path: String, problems: &mut Problems) {
    if d.spec.labels.contains_key(&key) {
        return problems.add(path, format!("{key} is set twice."));
    }
    d.origins.labels.push((key.clone(), path));
    d.spec.labels.insert(key, value);
}
