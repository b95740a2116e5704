//! Compose's variable interpolation, with the environment's shared variables as the only
//! source: `$NAME`, `${NAME}`, `${NAME:-default}` (unset or empty), `${NAME-default}`
//! (unset), `${NAME:?message}` / `${NAME?message}` (required), `${NAME:+other}` /
//! `${NAME+other}` (replacement when set), and `$$` for a literal `$`. Defaults may hold
//! interpolations themselves. Berth's own references, `${{ svc.NAME }}`, are not
//! Compose's: they pass through untouched and are resolved at deploy time.

use super::problems::{child, Problems};
use super::yaml::Node;
use std::collections::BTreeMap;

/// `text` with every interpolation replaced; `Err` says what cannot be (an unknown
/// variable without a default, a required one, a lone `$`).
pub fn interpolate(text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if after.starts_with("{{") {
            // Berth's reference: kept as written, up to its closing braces.
            let end = after
                .find("}}")
                .ok_or("A ${{ reference is not closed with }}.")?;
            out.push('$');
            out.push_str(&after[..end + 2]);
            rest = &after[end + 2..];
        } else if let Some(inner) = after.strip_prefix('{') {
            let close = closing_brace(inner).ok_or("A ${ is not closed with }.")?;
            out.push_str(&braced(&inner[..close], vars)?);
            rest = &inner[close + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                return Err(
                    "A '$' must start a variable ($NAME or ${NAME}); write $$ for a literal $."
                        .into(),
                );
            }
            out.push_str(lookup(&after[..len], vars)?);
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Interpolates every value of the tree (keys are left as written, as Compose does).
pub fn interpolate_tree(
    node: &mut Node,
    path: &str,
    vars: &BTreeMap<String, String>,
    problems: &mut Problems,
) {
    match node {
        Node::Null => {}
        Node::Scalar(s) => match interpolate(s, vars) {
            Ok(v) => *s = v,
            Err(m) => problems.add(path, m),
        },
        Node::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_tree(item, &format!("{path}[{i}]"), vars, problems);
            }
        }
        Node::Map(entries) => {
            for (k, v) in entries.iter_mut() {
                interpolate_tree(v, &child(path, k), vars, problems);
            }
        }
    }
}

/// Escapes `text` so that [`interpolate`] gives it back: every `$` doubled, except in
/// Berth's `${{ … }}` references, which interpolation keeps.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        match after[1..]
            .starts_with("{{")
            .then(|| after.find("}}"))
            .flatten()
        {
            Some(end) => {
                out.push_str(&after[..end + 2]);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("$$");
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `}` that closes a `${`, nested `${…}` counted.
fn closing_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn name_len(s: &str) -> usize {
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + 1;
    }
    len
}

fn lookup<'a>(name: &str, vars: &'a BTreeMap<String, String>) -> Result<&'a str, String> {
    vars.get(name).map(String::as_str).ok_or_else(|| {
        format!(
            "${{{name}}} is not a shared variable of this environment: define it, or give a \
             default (${{{name}:-value}})."
        )
    })
}

/// The inside of `${…}`.
fn braced(inner: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let len = name_len(inner);
    let (name, op) = inner.split_at(len);
    if name.is_empty() {
        return Err(format!(
            "${{{inner}}} does not name a variable (letters, digits and '_')."
        ));
    }
    let value = vars.get(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let ops = [":-", ":?", ":+", "-", "?", "+"];
    let Some(which) = ops.iter().find(|o| op.starts_with(**o)) else {
        return if op.is_empty() {
            lookup(name, vars).map(str::to_owned)
        } else {
            Err(format!(
                "${{{inner}}} is not an interpolation Compose knows."
            ))
        };
    };
    let arg = &op[which.len()..];
    let (use_arg, fail) = match *which {
        ":-" => (!set_nonempty, false),
        "-" => (value.is_none(), false),
        ":?" => (false, !set_nonempty),
        "?" => (false, value.is_none()),
        ":+" => (set_nonempty, false),
        _ => (value.is_some(), false),
    };
    if fail {
        let why = interpolate(arg, vars).unwrap_or_else(|_| arg.to_owned());
        return Err(if why.is_empty() {
            format!("{name} is required: define it as a shared variable.")
        } else {
            format!("{name} is required: {why}")
        });
    }
    if use_arg {
        interpolate(arg, vars)
    } else if which.ends_with('+') {
        Ok(String::new())
    } else {
        Ok(value.cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("HOST", "db"), ("EMPTY", ""), ("PORT", "5432")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn variables_defaults_and_dollars() {
        let v = vars();
        let cases = [
            ("${HOST}:$PORT", "db:5432"),
            ("${MISSING:-x}", "x"),
            ("${EMPTY:-x}", "x"),
            ("${EMPTY-x}", ""),
            ("${MISSING-x}", "x"),
            ("${HOST:+yes}", "yes"),
            ("${EMPTY:+yes}", ""),
            ("${EMPTY+yes}", "yes"),
            ("${MISSING:-${HOST}-backup}", "db-backup"),
            ("pa$$word $${HOST}", "pa$word ${HOST}"),
            ("no dollars", "no dollars"),
            ("${HOST}x${PORT}", "dbx5432"),
        ];
        for (input, want) in cases {
            assert_eq!(interpolate(input, &v).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn berth_references_pass_through_untouched() {
        let v = vars();
        let text = "postgres://app:${{ db.POSTGRES_PASSWORD }}@${{db.HOST}}:${PORT}/app";
        assert_eq!(
            interpolate(text, &v).unwrap(),
            "postgres://app:${{ db.POSTGRES_PASSWORD }}@${{db.HOST}}:5432/app"
        );
        assert_eq!(
            escape("${{ shared.X }} costs $5"),
            "${{ shared.X }} costs $$5"
        );
        for s in ["a$b", "${{ x.Y }}$", "$$", "${NOT}", "${{ open"] {
            assert_eq!(interpolate(&escape(s), &v).unwrap(), s, "{s}");
        }
    }

    #[test]
    fn unknown_required_and_broken_are_refused_by_name() {
        let v = vars();
        let e = interpolate("${NOPE}", &v).unwrap_err();
        assert!(e.contains("${NOPE} is not a shared variable"), "{e}");
        assert!(interpolate("$NOPE", &v).unwrap_err().contains("NOPE"));
        assert_eq!(
            interpolate("${EMPTY:?set the key}", &v).unwrap_err(),
            "EMPTY is required: set the key"
        );
        assert!(interpolate("${EMPTY?x}", &v).is_ok());
        assert!(interpolate("${HOST", &v)
            .unwrap_err()
            .contains("not closed"));
        assert!(interpolate("cost: 5$", &v).unwrap_err().contains("$$"));
        assert!(interpolate("${1X}", &v).is_err());
        assert!(interpolate("${HOST/a/b}", &v).is_err());
        assert!(interpolate("${{ db.X", &v).unwrap_err().contains("}}"));
    }
}
