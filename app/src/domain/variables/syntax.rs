//! The reference syntax inside an env value: `${{ shared.NAME }}` or `${{ service.NAME }}`.
//!
//! - Whitespace inside the braces is optional: `${{db.PASSWORD}}` is the same reference.
//! - `shared` names the environment's shared variables; any other scope is a service name
//!   (a DNS label: lowercase letters, digits, '-'). NAME is a variable name as for env
//!   keys (letters, digits, '_', not starting with a digit), or one of the facts
//!   ([`super::Fact`]: `HOST`, `PORT`, `URL`).
//! - A `$` that does not start `${{` is literal: `$HOME`, `${X}`, `$$`, `$(cmd)` reach the
//!   container as written.
//! - `$${{` is a literal `${{` (the one escape), for values that must contain the text
//!   itself, e.g. a GitHub Actions expression `$${{ github.sha }}`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a referenced variable lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Scope {
    /// The environment's shared variables (`${{ shared.NAME }}`).
    Shared,
    /// A service of the same environment, by name (`${{ db.NAME }}`).
    Service(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Shared => f.write_str("shared"),
            Scope::Service(name) => f.write_str(name),
        }
    }
}

/// One `${{ scope.NAME }}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reference {
    pub scope: Scope,
    pub name: String,
}

impl Reference {
    pub fn shared(name: &str) -> Self {
        Reference {
            scope: Scope::Shared,
            name: name.to_owned(),
        }
    }

    pub fn service(service: &str, name: &str) -> Self {
        Reference {
            scope: Scope::Service(service.to_owned()),
            name: name.to_owned(),
        }
    }
}

/// Written back in its canonical form, `${{ db.PASSWORD }}`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${{{{ {}.{} }}}}", self.scope, self.name)
    }
}

/// A piece of a value: text delivered as it is, or a reference to fill in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    Literal(String),
    Reference(Reference),
}

/// Why a value cannot be read. `at` is the position (in characters, from 1) of the `${{`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SyntaxError {
    #[error("the \"${{{{\" at character {at} is not closed with \"}}}}\" (write \"$${{{{\" for a literal \"${{{{\")")]
    Unterminated { at: usize },
    #[error("{text:?} at character {at} is not a reference: write ${{{{ shared.NAME }}}} or ${{{{ service.NAME }}}} (a service name in lowercase; \"$${{{{\" for a literal \"${{{{\")")]
    BadName { at: usize, text: String },
}

const OPEN: &str = "${{";
const ESCAPED_OPEN: &str = "$${{";
const CLOSE: &str = "}}";

/// Splits a value into literal text and references, in order; adjacent text is one
/// literal, and an empty value has no segments.
pub fn parse(value: &str) -> Result<Vec<Segment>, SyntaxError> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut copied = 0; // bytes of `value` already in `literal` or a segment
    let mut at = 0;
    while let Some(offset) = value[at..].find('$') {
        let dollar = at + offset;
        let rest = &value[dollar..];
        if rest.starts_with(ESCAPED_OPEN) {
            literal.push_str(&value[copied..dollar]);
            literal.push_str(OPEN);
            at = dollar + ESCAPED_OPEN.len();
            copied = at;
        } else if rest.starts_with(OPEN) {
            let position = value[..dollar].chars().count() + 1;
            let inner_start = dollar + OPEN.len();
            let Some(close) = value[inner_start..].find(CLOSE) else {
                return Err(SyntaxError::Unterminated { at: position });
            };
            let end = inner_start + close + CLOSE.len();
            let reference =
                parse_inner(&value[inner_start..inner_start + close]).ok_or_else(|| {
                    SyntaxError::BadName {
                        at: position,
                        text: value[dollar..end].to_owned(),
                    }
                })?;
            literal.push_str(&value[copied..dollar]);
            if !literal.is_empty() {
                segments.push(Segment::Literal(std::mem::take(&mut literal)));
            }
            segments.push(Segment::Reference(reference));
            at = end;
            copied = at;
        } else {
            at = dollar + 1;
        }
    }
    literal.push_str(&value[copied..]);
    if !literal.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(segments)
}

/// The references of a value, in order (repeats included).
pub fn references(value: &str) -> Result<Vec<Reference>, SyntaxError> {
    Ok(parse(value)?
        .into_iter()
        .filter_map(|s| match s {
            Segment::Reference(r) => Some(r),
            Segment::Literal(_) => None,
        })
        .collect())
}

/// `scope.NAME` with optional whitespace around it.
fn parse_inner(inner: &str) -> Option<Reference> {
    let (scope, name) = inner.trim().split_once('.')?;
    if !is_variable_name(name) {
        return None;
    }
    let scope = match scope {
        "shared" => Scope::Shared,
        s if crate::domain::service::is_dns_label(s) => Scope::Service(s.to_owned()),
        _ => return None,
    };
    Some(Reference {
        scope,
        name: name.to_owned(),
    })
}

/// An env key as services accept them: letters, digits and '_', not starting with a
/// digit, at most 256 bytes.
pub fn is_variable_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}
