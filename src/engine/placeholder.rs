//! Rejects values that name a secret without being one: references to where the
//! real value lives, template placeholders, and filler text.
//!
//! This is a safety net under each rule's regex, not a replacement for a precise
//! one. Rules that look for weak defaults on purpose turn it off.

/// What `git filter-repo --replace-text` and BFG write in place of a secret
/// (the replacement secretgate's cleanup files ask for). A value made only of
/// it is what is left after a cleanup, never a secret; every rule drops it,
/// including rules that keep placeholders on purpose.
pub const REMOVED: &str = "***REMOVED***";

/// Prefixes of a value that is a reference to a secret stored elsewhere.
const REFERENCE_PREFIXES: &[&[u8]] = &[
    b"${",
    b"$(",
    b"{{",
    b"%(",
    b"%{",
    b"#{",
    b"process.env",
    b"import.meta.env",
    b"os.environ",
    b"os.getenv",
    b"getenv(",
    b"env(",
    b"env[",
    b"env.",
    b"secrets.",
    b"settings.",
    b"config.",
    b"vault:",
    b"arn:aws:secretsmanager",
];

/// Substrings that mark filler text. Matched case-insensitively.
const FILLER_MARKERS: &[&[u8]] = &[
    b"xxxx",
    b"****",
    b"....",
    b"\xe2\x80\xa6", // the ellipsis character
    b"your_",
    b"your-",
    b"yourkey",
    b"yoursecret",
    b"yourtoken",
    b"yourpassword",
    b"example",
    b"placeholder",
    b"dummy",
    b"redacted",
    b"changeme",
    b"change_me",
    b"change-me",
    b"insert_",
    b"insert-",
    b"replace_",
    b"replace-",
    b"replaceme",
    b"fake",
    b"test-key",
    b"test_key",
    b"notreal",
    b"not-real",
    b"not_real",
    b"sample",
];

/// Whole values that are words, not secrets.
const FILLER_WORDS: &[&[u8]] = &[
    b"password",
    b"passwd",
    b"secret",
    b"token",
    b"apikey",
    b"api_key",
    b"none",
    b"null",
    b"nil",
    b"true",
    b"false",
    b"undefined",
    b"string",
    b"str",
    b"required",
    b"optional",
    b"value",
    b"todo",
    b"tbd",
    b"n/a",
];

/// Whether `secret` is a reference, placeholder or filler rather than a secret.
pub fn is_placeholder(secret: &[u8]) -> bool {
    let lower = secret.to_ascii_lowercase();
    let trimmed = trim_quotes(&lower);
    if trimmed.is_empty() {
        return true;
    }
    if REFERENCE_PREFIXES.iter().any(|p| trimmed.starts_with(p)) {
        return true;
    }
    if is_shell_variable(trimmed) {
        return true;
    }
    if trimmed.first() == Some(&b'<') && trimmed.last() == Some(&b'>') {
        return true;
    }
    if FILLER_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(trimmed, m).is_some())
    {
        return true;
    }
    if FILLER_WORDS.contains(&trimmed) {
        return true;
    }
    is_repetitive(trimmed) || is_plain_run(trimmed)
}

/// Whether `secret` is nothing but the cleanup marker ([`REMOVED`], once or
/// repeated), possibly quoted or padded with whitespace: what a rewrite left
/// where a secret was.
pub fn is_removal_marker(secret: &[u8]) -> bool {
    let mut rest = trim_quotes(secret.trim_ascii()).trim_ascii();
    let mut markers = 0;
    while let Some(tail) = rest.strip_prefix(REMOVED.as_bytes()) {
        rest = tail;
        markers += 1;
    }
    markers > 0 && rest.is_empty()
}

fn trim_quotes(value: &[u8]) -> &[u8] {
    let is_quote = |b: &u8| matches!(b, b'"' | b'\'' | b'`');
    let start = value
        .iter()
        .position(|b| !is_quote(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_quote(b))
        .map_or(start, |e| e + 1);
    &value[start..end.max(start)]
}

/// `$NAME` or `$name` alone: a shell or Compose variable.
fn is_shell_variable(value: &[u8]) -> bool {
    match value.split_first() {
        Some((b'$', rest)) => {
            !rest.is_empty() && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        _ => false,
    }
}

/// At most two distinct characters in the part after any prefix, e.g.
/// `sk-ant-api03-AAAAAAAA` or `0x0000…`.
fn is_repetitive(value: &[u8]) -> bool {
    let body = match value.iter().rposition(|&b| matches!(b, b'-' | b'_' | b'.')) {
        Some(pos) if value.len() - pos > 8 => &value[pos + 1..],
        _ => value,
    };
    let body = body.strip_prefix(b"0x").unwrap_or(body);
    if body.len() < 6 {
        return false;
    }
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in body {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
            if distinct > 2 {
                return false;
            }
        }
    }
    true
}

/// A value that is one ascending run: `123456789`, `abcdefgh`, `0123456789abcdef`.
fn is_plain_run(value: &[u8]) -> bool {
    value.len() >= 6
        && value
            .windows(2)
            .all(|w| w[1] == w[0].wrapping_add(1) || (w[0] == b'9' && matches!(w[1], b'0' | b'a')))
}

#[cfg(test)]
mod tests {
    use super::{is_placeholder, is_removal_marker};

    #[test]
    fn the_cleanup_marker_alone_is_never_a_secret() {
        for value in [
            "***REMOVED***",
            "\"***REMOVED***\"",
            "'***REMOVED***'",
            " ***REMOVED*** ",
            "***REMOVED******REMOVED***",
        ] {
            assert!(is_removal_marker(value.as_bytes()), "{value}");
        }
        for value in [
            "",
            "\"\"",
            "***REMOVED***x",
            "a***REMOVED***",
            "**REMOVED**",
            "REMOVED",
        ] {
            assert!(!is_removal_marker(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn references_are_placeholders() {
        for value in [
            "${DB_PASSWORD}",
            "$DB_PASSWORD",
            "{{ .Values.password }}",
            "${{ secrets.OPENAI_API_KEY }}",
            "process.env.NEXTAUTH_SECRET",
            "os.environ['TOKEN']",
            "<your-api-key>",
        ] {
            assert!(is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn filler_is_placeholder() {
        for value in [
            "sk-ant-api03-xxxxxxxxxxxxxxxx",
            "your-api-key-here",
            "AKIAIOSFODNN7EXAMPLE",
            "changeme",
            "aaaaaaaaaaaaaaaa",
            "0x0000000000000000000000000000000000000000000000000000000000000000",
            "1234567890",
            "abcdefghijklmnop",
            "\"\"",
            "null",
        ] {
            assert!(is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn real_looking_values_are_not_placeholders() {
        for value in [
            "tars2026",
            "dev-secret-change-in-production",
            "sk-ant-api03-R2D2c3poBB8aLkq9ZxvT",
            "S3cr3tPass",
            "hunter2",
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", // secretgate:allow (Hardhat account #0, public)
        ] {
            assert!(!is_placeholder(value.as_bytes()), "{value}");
        }
    }
}
