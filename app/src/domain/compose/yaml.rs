//! The YAML document as a plain tree, read with bounds: a size limit before parsing, a
//! nesting limit, and a limit on what aliases expand to (a "billion laughs" document is
//! refused, not expanded). Built from saphyr-parser's events so every bound is checked
//! before the memory is spent. Merge keys (`<<: *defaults`), which Compose files use with
//! `x-` anchors, are applied here; duplicate keys are refused, as Compose does.

use super::problems::{child, ComposeProblem};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// Larger input is refused before it is parsed.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Mappings and lists nested deeper than this are refused (Compose needs about 6).
pub const MAX_DEPTH: usize = 32;
/// Values that aliases (`*name`) may add in all; more is refused as an alias bomb.
pub const MAX_ALIAS_VALUES: usize = 10_000;

/// A YAML value. Scalars keep their text: what a field means (number, flag, string) is
/// decided where it is read, as Compose does after interpolation.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Scalar(String),
    Seq(Vec<Node>),
    /// In document order; keys are unique.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// How many values the tree holds (itself included).
    fn size(&self) -> usize {
        match self {
            Node::Null | Node::Scalar(_) => 1,
            Node::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Node::Map(entries) => 1 + entries.iter().map(|(_, v)| 1 + v.size()).sum::<usize>(),
        }
    }
}

enum Open {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(String, Node)>,
        key: Option<String>,
        merged: Vec<Node>,
    },
}

struct Frame {
    open: Open,
    anchor: usize,
    path: String,
}

/// Reads one YAML document; `Err` names the first thing that stops reading.
pub fn parse(text: &str) -> Result<Node, ComposeProblem> {
    if text.len() > MAX_BYTES {
        return Err(ComposeProblem::new(
            "",
            format!(
                "The file has {} bytes; at most {MAX_BYTES} (1 MiB) are read.",
                text.len()
            ),
        ));
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut aliased = 0usize;
    let mut root: Option<Node> = None;
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            ComposeProblem::new(
                "",
                format!(
                    "Not valid YAML: {} (line {}, column {}).",
                    e.info(),
                    e.marker().line(),
                    e.marker().col() + 1
                ),
            )
        })?;
        let here = stack.last().map(next_path).unwrap_or_default();
        let at = |m: String| {
            ComposeProblem::new(here.clone(), format!("{m} (line {}).", span.start.line()))
        };
        let is_seq = matches!(event, Event::SequenceStart(..));
        let done = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(at("The file holds more than one YAML document".into()));
                }
                None
            }
            Event::Alias(id) => {
                let node = anchors
                    .get(&id)
                    .ok_or_else(|| at("An alias names an unknown anchor".into()))?;
                aliased += node.size();
                if aliased > MAX_ALIAS_VALUES {
                    return Err(at(format!(
                        "Aliases (*name) would expand to more than {MAX_ALIAS_VALUES} values: \
                         refused as an alias bomb"
                    )));
                }
                Some((node.clone(), 0))
            }
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(tag) = tag.filter(|t| !t.is_yaml_core_schema()) {
                    return Err(at(format!("The YAML tag {tag} is not supported")));
                }
                let is_key = matches!(
                    stack.last(),
                    Some(Frame {
                        open: Open::Map { key: None, .. },
                        ..
                    })
                );
                let null = !is_key
                    && style == ScalarStyle::Plain
                    && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                let node = if null {
                    Node::Null
                } else {
                    Node::Scalar(text.into_owned())
                };
                Some((node, anchor))
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if let Some(tag) = tag.filter(|t| !t.is_yaml_core_schema()) {
                    return Err(at(format!("The YAML tag {tag} is not supported")));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(at(format!(
                        "Values are nested more than {MAX_DEPTH} levels deep"
                    )));
                }
                let open = if is_seq {
                    Open::Seq(Vec::new())
                } else {
                    Open::Map {
                        entries: Vec::new(),
                        key: None,
                        merged: Vec::new(),
                    }
                };
                stack.push(Frame {
                    open,
                    anchor,
                    path: here.clone(),
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = stack.pop().expect("the parser balances its events");
                let node = match frame.open {
                    Open::Seq(items) => Node::Seq(items),
                    Open::Map {
                        mut entries,
                        merged,
                        ..
                    } => {
                        merge(&mut entries, merged, &frame.path)?;
                        Node::Map(entries)
                    }
                };
                Some((node, frame.anchor))
            }
        };
        let Some((node, anchor)) = done else { continue };
        if anchor > 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(frame) => add(frame, node, &here)?,
        }
    }
    match root {
        None | Some(Node::Null) => Err(ComposeProblem::new("", "The file is empty.")),
        Some(node) => Ok(node),
    }
}

/// The path of the value the frame receives next.
fn next_path(frame: &Frame) -> String {
    match &frame.open {
        Open::Seq(items) => format!("{}[{}]", frame.path, items.len()),
        Open::Map { key: Some(k), .. } => child(&frame.path, k),
        Open::Map { key: None, .. } => frame.path.clone(),
    }
}

fn add(frame: &mut Frame, node: Node, path: &str) -> Result<(), ComposeProblem> {
    match &mut frame.open {
        Open::Seq(items) => items.push(node),
        Open::Map {
            entries,
            key,
            merged,
        } => match key.take() {
            None => {
                let text = match node {
                    Node::Scalar(s) => s,
                    Node::Null => String::new(),
                    _ => {
                        return Err(ComposeProblem::new(
                            path,
                            "A key must be a plain name, not a list or a mapping.",
                        ))
                    }
                };
                if entries.iter().any(|(k, _)| *k == text) {
                    return Err(ComposeProblem::new(
                        child(&frame.path, &text),
                        "This key is given twice.",
                    ));
                }
                *key = Some(text);
            }
            Some(k) if k == "<<" => merged.push(node),
            Some(k) => entries.push((k, node)),
        },
    }
    Ok(())
}

/// YAML merge keys: `<<: *a` or `<<: [*a, *b]` adds the keys of those mappings that the
/// mapping does not set itself (the first listed wins among them).
fn merge(
    entries: &mut Vec<(String, Node)>,
    merged: Vec<Node>,
    path: &str,
) -> Result<(), ComposeProblem> {
    let mut sources = Vec::new();
    for node in merged {
        match node {
            Node::Map(m) => sources.push(m),
            Node::Seq(items) => {
                for item in items {
                    match item {
                        Node::Map(m) => sources.push(m),
                        _ => return Err(not_mergeable(path)),
                    }
                }
            }
            _ => return Err(not_mergeable(path)),
        }
    }
    for (k, v) in sources.into_iter().flatten() {
        if !entries.iter().any(|(e, _)| *e == k) {
            entries.push((k, v));
        }
    }
    Ok(())
}

fn not_mergeable(path: &str) -> ComposeProblem {
    ComposeProblem::new(
        child(path, "<<"),
        "A merge key (<<) takes a mapping or a list of mappings.",
    )
}
