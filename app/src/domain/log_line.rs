//! Container output made safe to show: valid UTF-8, no terminal escape sequences, no control
//! characters, bounded length. HTML needs no escaping here: pages insert it as text.

/// Longer lines are cut, with a note of how much was dropped.
pub const MAX_LINE_CHARS: usize = 4096;

/// Cleans one line of output (without its newline).
pub fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len().min(MAX_LINE_CHARS + 32));
    let mut kept = 0usize;
    let mut dropped = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let keep = match c {
            '\u{1b}' => {
                skip_escape(&mut chars);
                None
            }
            // C1 CSI: the one-byte form of ESC [.
            '\u{9b}' => {
                skip_csi(&mut chars);
                None
            }
            '\t' => Some(c),
            '\r' => None,
            c if c.is_control() => Some('\u{fffd}'),
            c => Some(c),
        };
        if let Some(c) = keep {
            if kept < MAX_LINE_CHARS {
                out.push(c);
                kept += 1;
            } else {
                dropped += c.len_utf8();
            }
        }
    }
    if dropped > 0 {
        out.push_str(&format!(" … [{dropped} more bytes]"));
    }
    out
}

/// Cleans a block of output (several lines, as a container's tail): each line through
/// [`clean`], joined with `\n`; a trailing newline leaves no empty last line.
pub fn clean_block(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.split(|&b| b == b'\n')
        .map(clean)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Splits a chunk of output into cleaned lines; a trailing partial line stays in `pending`.
pub fn split_lines(pending: &mut Vec<u8>, chunk: &[u8]) -> Vec<String> {
    pending.extend_from_slice(chunk);
    let mut lines = Vec::new();
    while let Some(end) = pending.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        lines.push(clean(&line[..line.len() - 1]));
    }
    // A runaway line without a newline is flushed in pieces rather than held forever.
    if pending.len() > MAX_LINE_CHARS * 4 {
        lines.push(clean(pending));
        pending.clear();
    }
    lines
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        // OSC (title, hyperlinks): up to BEL or ESC \.
        Some(']') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                    break;
                }
            }
        }
        _ => {}
    }
}

/// CSI: parameter and intermediate bytes, then one final byte in @..~.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_stripped() {
        assert_eq!(clean(b"\x1b[1;31merror\x1b[0m: boom"), "error: boom");
        assert_eq!(clean(b"\x1b]0;title\x07ok"), "ok");
        assert_eq!(clean(b"\x1b]8;;http://x\x1b\\link"), "link");
        assert_eq!(clean("\u{9b}32mgreen".as_bytes()), "green");
    }

    #[test]
    fn a_block_is_cleaned_line_by_line() {
        let raw = b"\x1b]0;pwned\x07\x1b[31mX\nsecond\x1b[0m\r\n\x07bell\n";
        let once = clean_block(raw);
        assert_eq!(once, "X\nsecond\n\u{fffd}bell");
        assert_eq!(clean_block(b""), "");
    }

    #[test]
    fn html_is_left_as_text_for_the_page_to_escape() {
        assert_eq!(
            clean(b"<script>alert(1)</script>"),
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn binary_bytes_and_controls_become_replacement_characters() {
        assert_eq!(clean(b"a\xff\x00b\tc\r"), "a\u{fffd}\u{fffd}b\tc");
    }

    #[test]
    fn long_lines_are_cut_with_a_note() {
        let long = "x".repeat(MAX_LINE_CHARS + 10);
        let cleaned = clean(long.as_bytes());
        assert!(cleaned.starts_with(&"x".repeat(MAX_LINE_CHARS)));
        assert!(cleaned.ends_with(" … [10 more bytes]"), "{cleaned}");
    }

    #[test]
    fn lines_are_split_across_chunks() {
        let mut pending = Vec::new();
        assert_eq!(split_lines(&mut pending, b"one\ntw"), vec!["one"]);
        assert_eq!(
            split_lines(&mut pending, b"o\nthree\n"),
            vec!["two", "three"]
        );
        assert!(pending.is_empty());
    }

    #[test]
    fn a_line_without_newline_is_flushed_when_huge() {
        let mut pending = Vec::new();
        let lines = split_lines(&mut pending, &vec![b'y'; MAX_LINE_CHARS * 5]);
        assert_eq!(lines.len(), 1);
        assert!(pending.is_empty());
    }
}
