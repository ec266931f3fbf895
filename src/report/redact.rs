//! Redaction: enough of a secret to recognise it, not enough to use it.

/// Shows at most a quarter of the secret (capped at 12 leading and 4 trailing
/// characters); secrets under 8 characters keep only their first character.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let len = chars.len();
    let (head, tail) = if len < 8 {
        (1.min(len), 0)
    } else {
        (
            (len / 4).min(12),
            if len >= 16 { (len / 8).min(4) } else { 0 },
        )
    };
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[len - tail..]);
    out
}

/// `text` with every occurrence of `secret` replaced by its redaction.
pub fn redact_in(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_string();
    }
    text.replace(secret, &redact(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_keep_one_character() {
        assert_eq!(redact("hunter2"), "h…");
        assert_eq!(redact(""), "…");
    }

    #[test]
    fn long_secrets_keep_a_quarter_at_most() {
        assert_eq!(redact("tars2026"), "ta…");
        let key = "sk-ant-api03-R2D2c3poBB8aLkq9ZxvT0123456789abcdefABCDEF";
        let shown = redact(key);
        assert!(shown.starts_with("sk-ant-api03…"));
        assert!(shown.chars().count() < key.len() / 2);
    }

    #[test]
    fn redaction_inside_text() {
        assert_eq!(
            redact_in("PASSWORD=tars2026 # db", "tars2026"),
            "PASSWORD=ta… # db"
        );
    }
}
