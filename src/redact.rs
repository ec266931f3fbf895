//! How text from the scanned data may appear in our own output: how much of a
//! secret a redaction shows, how control characters are printed, and what an
//! error about a file may quote of it. Every output path (reports, `verify`,
//! error messages) goes through these functions, so the bounds the README
//! states are enforced in one place.

use std::borrow::Cow;

/// Most leading characters a redaction shows.
pub const MAX_HEAD: usize = 12;
/// Most trailing characters a redaction shows.
pub const MAX_TAIL: usize = 4;

/// How many leading and trailing characters of an `n`-character secret a
/// redaction shows. The rule, for every `n`:
///
/// - the budget is `n / 4` (rounded down): never more than a quarter;
/// - the tail gets a quarter of the budget (rounded down), at most
///   [`MAX_TAIL`];
/// - the head gets the rest, at most [`MAX_HEAD`].
///
/// So a secret under 4 characters shows nothing, 4 to 15 show only leading
/// characters (1 to 3), a 40-character secret shows 8 + 2, and from 64
/// characters on, 12 + 4.
pub fn shown_counts(n: usize) -> (usize, usize) {
    let budget = n / 4;
    let tail = (budget / 4).min(MAX_TAIL);
    let head = (budget - tail).min(MAX_HEAD);
    (head, tail)
}

/// The redaction of `secret`: its first and last characters as
/// [`shown_counts`] allows, joined by `…`. Counted in characters (Unicode
/// scalar values), so a multi-byte secret is bounded the same way.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let (head, tail) = shown_counts(chars.len());
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// Text from the scanned data (file names, ref names, author names, commit
/// subjects, skip details) as human output prints it: every control
/// character escaped (`\n`, `\u{1b}`), so a file name holding a newline
/// cannot forge a report line, nor one holding ESC drive the terminal.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// [`printable`] line by line, for messages whose own line breaks are meant
/// (a list of rule problems): each line escaped, the breaks kept.
pub fn printable_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| printable(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Longest excerpt of a file's line an error shows, before redaction.
const EXCERPT_CHARS: usize = 80;

/// An error about a TOML file that quotes nothing of it but a redacted
/// excerpt: `line L, column C: <message> (near `<excerpt>`)`. The parser's
/// own rendering prints the offending line in clear, and serde's messages
/// quote string values (`invalid type: string "…"`); a repository config can
/// point at a credentials file, so neither may reach a CI log. Key names in
/// backquotes (`unknown field `disabel``) are kept: they say what to fix.
pub fn toml_error(text: &str, err: &toml::de::Error) -> String {
    let message = redact_quoted(err.message().trim_end());
    let Some(span) = err.span() else {
        return message;
    };
    let start = span.start.min(text.len());
    let before = &text.as_bytes()[..start];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    let line_text = text[line_start..]
        .split('\n')
        .next()
        .unwrap_or_default()
        .trim();
    let line_text: String = line_text.chars().take(EXCERPT_CHARS).collect();
    if line_text.is_empty() {
        return format!("line {line}, column {column}: {message}");
    }
    // A plain key (`min_confidence = ...`) says what to fix and is no
    // secret: it stays; the value is redacted.
    let shown = match line_text.split_once('=') {
        Some((key, value)) if is_plain_key(key.trim()) => {
            format!("{} = {}", key.trim(), redact(value.trim()))
        }
        _ => redact(&line_text),
    };
    format!(
        "line {line}, column {column}: {message} (the line, redacted: `{}`)",
        printable(&shown)
    )
}

/// A key made of lowercase letters, `_`, `-` and `.` only, as the keys of
/// our config and rule files are: a word, never a generated secret.
fn is_plain_key(key: &str) -> bool {
    (1..=32).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || matches!(b, b'_' | b'-' | b'.'))
}

/// `message` with the content of every double-quoted part redacted: serde
/// quotes string values that way.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let close = rest.find('"').unwrap_or(rest.len());
        out.push_str(&redact(&rest[..close]));
        rest = &rest[close..];
        if let Some(stripped) = rest.strip_prefix('"') {
            out.push('"');
            rest = stripped;
        }
    }
    out.push_str(rest);
    printable(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_holds_for_every_length() {
        for n in 0..=600 {
            let secret: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let shown = redact(&secret);
            let (head, tail) = shown_counts(n);
            assert!(head + tail <= n / 4, "n = {n}");
            assert!(head <= MAX_HEAD && tail <= MAX_TAIL, "n = {n}");
            assert_eq!(shown.chars().count(), head + tail + 1, "n = {n}");
            assert!(shown.starts_with(&secret[..head]), "n = {n}");
            assert!(shown.ends_with(&secret[n - tail..]), "n = {n}");
        }
        assert_eq!(shown_counts(3), (0, 0));
        assert_eq!(shown_counts(4), (1, 0));
        assert_eq!(shown_counts(16), (3, 1));
        assert_eq!(shown_counts(40), (8, 2));
        assert_eq!(shown_counts(64), (12, 4));
        assert_eq!(shown_counts(108), (12, 4));
    }

    #[test]
    fn redaction_counts_characters_not_bytes() {
        assert_eq!(redact("hunter2"), "h…");
        assert_eq!(redact(""), "…");
        assert_eq!(redact("ééééééééé"), "éé…");
    }

    #[test]
    fn printable_escapes_control_characters_only() {
        assert_eq!(printable("a/b.env"), "a/b.env");
        assert_eq!(printable("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(printable_lines("a\u{7}\nb"), "a\\u{7}\nb");
    }

    #[test]
    fn toml_errors_quote_only_a_redaction() {
        let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzzzzzzzzzzzz";
        let text = format!("[default]\naws_secret_access_key = {secret}\n");
        let err = toml::from_str::<toml::Table>(&text).err();
        let shown = err.map(|err| toml_error(&text, &err)).unwrap_or_default();
        assert!(shown.starts_with("line 2, column 25: "), "{shown}");
        assert!(!shown.contains(&secret[..9]), "{shown}");
        let text = format!("x = {{ y = \"{secret}\" }}\n");
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct X {
            x: std::collections::BTreeMap<String, f64>,
        }
        let err = toml::from_str::<X>(&text).err();
        let shown = err.map(|err| toml_error(&text, &err)).unwrap_or_default();
        assert!(shown.contains("invalid type: string \""), "{shown}");
        assert!(!shown.contains(&secret[..9]), "{shown}");
        // A plain key stays, to say what to fix; its value does not.
        let text = format!("[default]\naws_secret_access_key = \"{secret}\" x\n");
        let err = toml::from_str::<toml::Table>(&text).err();
        let shown = err.map(|err| toml_error(&text, &err)).unwrap_or_default();
        assert!(shown.contains("`aws_secret_access_key = "), "{shown}");
        assert!(!shown.contains(&secret[..9]), "{shown}");
        // A key that is no plain word is redacted with its line.
        let text = format!("{secret} = 1 x\n");
        let err = toml::from_str::<toml::Table>(&text).err();
        let shown = err.map(|err| toml_error(&text, &err)).unwrap_or_default();
        assert!(!shown.contains(&secret[..20]), "{shown}");
        assert!(!shown.contains(" = 1"), "{shown}");
    }
}
