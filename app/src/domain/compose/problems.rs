//! What is wrong with a compose file, each problem at its place (`services.web.ports[0]`),
//! and the typed reading of YAML values that reports a wrong type as such a problem.

use super::yaml::Node;
pub use super::ComposeProblem;

impl ComposeProblem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ComposeProblem {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// `parent.key`, or `key` at the top.
pub fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Every problem found so far, in the order found.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<ComposeProblem>);

impl Problems {
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ComposeProblem::new(path, message));
    }

    /// A scalar as text (`8080` and `true` read as text too, as Compose reads them into
    /// string fields).
    pub fn text(&mut self, node: &Node, path: &str) -> Option<String> {
        match node {
            Node::Scalar(s) => Some(s.clone()),
            _ => {
                self.add(path, format!("A string is expected, not {}.", kind(node)));
                None
            }
        }
    }

    /// A whole number in `min..=max`.
    pub fn number(&mut self, node: &Node, path: &str, min: u64, max: u64) -> Option<u64> {
        let n = match node {
            Node::Scalar(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.add(
                    path,
                    format!("A whole number from {min} to {max} is expected."),
                );
                None
            }
        }
    }

    pub fn flag(&mut self, node: &Node, path: &str) -> Option<bool> {
        match node {
            Node::Scalar(s) if matches!(s.as_str(), "true" | "True" | "TRUE") => Some(true),
            Node::Scalar(s) if matches!(s.as_str(), "false" | "False" | "FALSE") => Some(false),
            _ => {
                self.add(path, "true or false is expected.");
                None
            }
        }
    }

    pub fn map<'a>(&mut self, node: &'a Node, path: &str) -> Option<&'a [(String, Node)]> {
        match node {
            Node::Map(entries) => Some(entries),
            _ => {
                self.add(path, format!("A mapping is expected, not {}.", kind(node)));
                None
            }
        }
    }

    pub fn list<'a>(&mut self, node: &'a Node, path: &str) -> Option<&'a [Node]> {
        match node {
            Node::Seq(items) => Some(items),
            _ => {
                self.add(path, format!("A list is expected, not {}.", kind(node)));
                None
            }
        }
    }

    /// A list of strings.
    pub fn texts(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let items = self.list(node, path)?;
        let texts: Vec<Option<String>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.text(item, &format!("{path}[{i}]")))
            .collect();
        texts.into_iter().collect()
    }
}

/// How a wrong value is named in a problem.
pub fn kind(node: &Node) -> &'static str {
    match node {
        Node::Null => "an empty value",
        Node::Scalar(_) => "a single value",
        Node::Seq(_) => "a list",
        Node::Map(_) => "a mapping",
    }
}
