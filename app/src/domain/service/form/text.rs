//! The text of the form's list fields (command arguments, `KEY=value` variables), written
//! so that every value the API accepts can be typed and comes back unchanged.
//!
//! One item per line, taken literally. An item (or the value after `KEY=`) that starts with
//! `"` is quoted: it runs to the next unescaped `"`, across lines, so a PEM key is pasted
//! between two quotes as it is. Inside quotes, `\"` is a quote, `\\` a backslash, `\n`,
//! `\r` and `\t` a newline, carriage return and tab; any other backslash is kept as typed.
//! Nothing but spaces may follow the closing quote. Blank lines between items are skipped.

/// One item read from a list field: the line it starts on (from 1), the key (for
/// `KEY=value` fields) and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub line: usize,
    pub key: Option<String>,
    pub value: String,
}

/// The items of `text`, and a message (`Line 3: …`) for each that cannot be read. With
/// `keyed`, each item is `KEY=value` (the key trimmed; the value literal or quoted).
pub fn read_items(text: &str, keyed: bool) -> (Vec<Item>, Vec<String>) {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let (mut items, mut errors) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < lines.len() {
        let (n, line) = (i + 1, lines[i]);
        i += 1;
        if line.trim().is_empty() {
            continue;
        }
        let (key, rest) = if keyed {
            match line.split_once('=') {
                Some((k, v)) => (Some(k.trim().to_owned()), v),
                None => {
                    errors.push(format!("Line {n}: write KEY=value."));
                    continue;
                }
            }
        } else {
            (None, line)
        };
        let Some(quoted) = rest.strip_prefix('"') else {
            items.push(Item {
                line: n,
                key,
                value: rest.to_owned(),
            });
            continue;
        };
        match unquote(quoted, &lines[i..]) {
            Ok((value, used)) => {
                i += used;
                items.push(Item {
                    line: n,
                    key,
                    value,
                });
            }
            Err((message, used)) => {
                i += used;
                errors.push(format!("Line {n}: {message}"));
            }
        }
    }
    (items, errors)
}

/// The value of a quoted item whose first line (after the opening quote) is `first` and
/// whose next lines are `more`: the value and how many of `more` it used, or why not.
fn unquote(first: &str, more: &[&str]) -> Result<(String, usize), (&'static str, usize)> {
    let mut value = String::new();
    let mut line = first;
    let mut used = 0;
    loop {
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    return if chars.as_str().trim().is_empty() {
                        Ok((value, used))
                    } else {
                        Err((
                            "nothing may follow the closing quote (write \\\" for a quote inside the value).",
                            used,
                        ))
                    };
                }
                '\\' => match chars.next() {
                    Some('"') => value.push('"'),
                    Some('\\') => value.push('\\'),
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some('t') => value.push('\t'),
                    Some(other) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => value.push('\\'),
                },
                c => value.push(c),
            }
        }
        let Some(next) = more.get(used) else {
            return Err(("the quoted value is not closed with \".", used));
        };
        value.push('\n');
        line = next;
        used += 1;
    }
}

/// `value` as a list item (or the part after `KEY=`) that reads back as itself: as it is
/// when plain, quoted when it starts with `"`, spans lines, holds a carriage return, has
/// spaces at either end, or (in a list, `empty_needs_quotes`) is empty.
pub fn write_value(value: &str, empty_needs_quotes: bool) -> String {
    let quoted = value.starts_with('"')
        || value.contains(['\n', '\r'])
        || value.trim() != value
        || (empty_needs_quotes && value.is_empty());
    if !quoted {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Items written one after another, each on its own line(s).
pub fn write_list<'a>(values: impl IntoIterator<Item = &'a String>) -> String {
    values
        .into_iter()
        .map(|v| write_value(v, true))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `KEY=value` pairs written one after another.
pub fn write_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", write_value(v, false)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<String> {
        let (items, errors) = read_items(text, false);
        assert!(errors.is_empty(), "{errors:?}");
        items.into_iter().map(|i| i.value).collect()
    }

    #[test]
    fn plain_lines_are_literal_and_quotes_span_lines() {
        assert_eq!(
            values("sh\n-c\n\necho \"hi\" # x"),
            ["sh", "-c", "echo \"hi\" # x"]
        );
        assert_eq!(values("\"a\nb\"\nc"), ["a\nb", "c"]);
        assert_eq!(values("\"\"\n\"  \""), ["", "  "]);
        assert_eq!(values(r#""say \"hi\"\\n \n""#), ["say \"hi\"\\n \n"]);
        assert_eq!(values(r#""C:\dir""#), [r"C:\dir"], "other backslashes stay");
        assert_eq!(
            values("\"a\r\nb\"\r\nc\r\n"),
            ["a\nb", "c"],
            "a browser's CRLF"
        );
    }

    #[test]
    fn keyed_items_quote_the_value_only() {
        let (items, errors) = read_items(
            "PEM=\"-----BEGIN KEY-----\nabc=\n-----END KEY-----\n\"\nA = b = c\nEMPTY=",
            true,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let pairs: Vec<_> = items
            .iter()
            .map(|i| (i.line, i.key.clone().unwrap(), i.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                (
                    1,
                    "PEM".into(),
                    "-----BEGIN KEY-----\nabc=\n-----END KEY-----\n"
                ),
                (5, "A".into(), " b = c"),
                (6, "EMPTY".into(), ""),
            ]
        );
    }

    #[test]
    fn broken_quotes_name_their_line() {
        let (items, errors) = read_items("A=1\nB=\"open\nC=2", true);
        assert_eq!(items.len(), 1);
        assert_eq!(errors, ["Line 2: the quoted value is not closed with \"."]);
        let (_, errors) = read_items("ok\n\"a\" b", false);
        assert!(
            errors[0].starts_with("Line 2: nothing may follow"),
            "{errors:?}"
        );
        let (_, errors) = read_items("NOEQUALS", true);
        assert_eq!(errors, ["Line 1: write KEY=value."]);
    }
}
