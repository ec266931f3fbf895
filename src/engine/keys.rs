//! Private keys in any armour (PEM labels, OpenSSH, PGP, PuTTY), in a file
//! or in a string with escaped newlines: whether the block holds key
//! material rather than a placeholder, and whether the key is protected by
//! a passphrase, which the key's own bytes say for OpenSSH, PGP and PuTTY
//! keys and the armour says for PEM (`ENCRYPTED`, `Proc-Type`).

use super::validate::Verdict;
use crate::rules::Severity;

/// Fewest base64 characters a key body can have: a raw 32-byte key is 43.
const MIN_BODY: usize = 40;
/// Lowest Shannon entropy (bits per character) of a body of key material;
/// random base64 has about 5 at the minimum length and 6 when long.
const MIN_BODY_ENTROPY: f64 = 4.0;
/// Words that, inside the body, make it filler rather than a key. Long
/// enough that a random body does not hold one by chance.
const FILLER: &[&[u8]] = &[
    b"xxxxxxxx",
    b"yourkey",
    b"yourprivate",
    b"keyhere",
    b"privatekey",
    b"example",
    b"placeholder",
    b"redacted",
    b"replaceme",
    b"abcdefghij",
    b"0123456789",
    b"1234567890",
];

/// What a key's own bytes say about its protection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Protection {
    /// Passphrase-protected, and how.
    Encrypted(String),
    /// Stored in the clear.
    Clear,
    /// Not stated (a PEM key without `ENCRYPTED`, or a body that does not
    /// decode to its format).
    Unknown,
}

/// A private-key block, taken apart.
#[derive(Debug)]
struct Block {
    /// The armour label (`RSA PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`), or
    /// `PuTTY` for a .ppk file.
    label: String,
    /// `Name: value` header lines (PEM `Proc-Type`, PuTTY `Encryption`).
    headers: Vec<(String, String)>,
    /// The base64 characters of the body, in order.
    body: Vec<u8>,
}

/// The verdict on a private-key block, or `None` when its body is not key
/// material (too short, filler, or low entropy). With `clear_only`, a key
/// whose own data says it is encrypted is also `None`: the rule for
/// encrypted keys reports it.
pub fn assess(secret: &[u8], clear_only: bool) -> Option<Verdict> {
    let block = parse(secret);
    if !is_key_material(&block.body) {
        return None;
    }
    match protection(&block) {
        Protection::Encrypted(_) if clear_only => None,
        Protection::Encrypted(how) => Some(Verdict {
            severity: Some(Severity::High),
            confidence: None,
            detail: Some(format!("passphrase-protected ({how})")),
        }),
        Protection::Clear => Some(Verdict {
            severity: Some(Severity::Critical),
            confidence: None,
            detail: Some("not passphrase-protected".to_string()),
        }),
        Protection::Unknown => Some(Verdict::default()),
    }
}

/// Whether a body is long, varied and free of filler words.
fn is_key_material(body: &[u8]) -> bool {
    if body.len() < MIN_BODY {
        return false;
    }
    let lower = body.to_ascii_lowercase();
    if FILLER
        .iter()
        .any(|word| memchr::memmem::find(&lower, word).is_some())
    {
        return false;
    }
    super::entropy::shannon_entropy(body) >= MIN_BODY_ENTROPY
}

/// Splits a block into label, headers and body, whatever its line breaks
/// (real, or `\n` / `\\n` escapes inside a string) and its decoration
/// (indentation, `>` quoting, string quotes and `+` between lines).
fn parse(secret: &[u8]) -> Block {
    let text = String::from_utf8_lossy(secret);
    let text = text
        .replace("\\\\r", "")
        .replace("\\\\n", "\n")
        .replace("\\r", "")
        .replace("\\n", "\n");
    let mut block = Block {
        label: String::new(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    for line in text.lines() {
        let line = undecorate(line);
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            block.label = rest.trim_end_matches('-').to_string();
            continue;
        }
        if line.starts_with("-----END ") || line.starts_with('=') {
            continue;
        }
        if let Some(version) = line.strip_prefix("PuTTY-User-Key-File-") {
            block.label = "PuTTY".to_string();
            block
                .headers
                .push(("PuTTY-User-Key-File".to_string(), version.to_string()));
            continue;
        }
        if let Some((name, value)) = line.split_once(':')
            && !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            block
                .headers
                .push((name.to_string(), value.trim().to_string()));
            continue;
        }
        let base64 = line.trim_end_matches('=');
        if !base64.is_empty()
            && base64
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            block.body.extend_from_slice(line.as_bytes());
        }
    }
    block
}

/// A line without what code wraps around each line of a key: indentation,
/// `>` quoting, comment markers (`#`, `//`, `;`, `*`), string quotes, and
/// `+` or `.` joining strings. A `+` or `//` that touches the text is
/// base64, not decoration, and stays.
fn undecorate(line: &str) -> &str {
    let quote = |c: char| matches!(c, '"' | '\'' | '`');
    let join = |c: char| matches!(c, '+' | '.');
    let mut line = line;
    line = loop {
        let trimmed = line.trim_start();
        let mut chars = trimmed.chars();
        let next = chars.next();
        let after = chars.next();
        line = match next {
            Some('>' | '#' | ';' | '*') => &trimmed[1..],
            Some('/') if trimmed.starts_with("//") && after.is_some() => {
                let rest = &trimmed[2..];
                if rest.starts_with([' ', '\t']) {
                    rest
                } else {
                    break trimmed;
                }
            }
            Some(c) if quote(c) => &trimmed[1..],
            Some(c) if join(c) && after.is_none_or(|a| a.is_whitespace() || quote(a)) => {
                &trimmed[1..]
            }
            _ => break trimmed,
        };
    };
    loop {
        let trimmed = line.trim_end();
        let mut chars = trimmed.chars().rev();
        let last = chars.next();
        let before = chars.next();
        line = match last {
            Some(c) if quote(c) || matches!(c, ',' | ';' | '\\' | ')') => {
                &trimmed[..trimmed.len() - 1]
            }
            Some(c) if join(c) && before.is_none_or(|b| b.is_whitespace() || quote(b)) => {
                &trimmed[..trimmed.len() - 1]
            }
            _ => break trimmed,
        };
    }
}

fn header<'a>(block: &'a Block, name: &str) -> Option<&'a str> {
    block
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether the key is passphrase-protected, from its armour or its bytes.
fn protection(block: &Block) -> Protection {
    if block.label.contains("ENCRYPTED") {
        return Protection::Encrypted(format!("BEGIN {}", block.label));
    }
    if let Some(proc_type) = header(block, "Proc-Type")
        && proc_type.contains("ENCRYPTED")
    {
        let cipher = header(block, "DEK-Info")
            .and_then(|info| info.split(',').next())
            .unwrap_or("Proc-Type ENCRYPTED");
        return Protection::Encrypted(cipher.to_string());
    }
    if block.label == "PuTTY" {
        return match header(block, "Encryption") {
            Some("none") => Protection::Clear,
            Some(cipher) => Protection::Encrypted(cipher.to_string()),
            None => Protection::Unknown,
        };
    }
    // The format's header is at the start: a prefix decodes even when the
    // body's length is off (a truncated last line).
    let prefix = &block.body[..block.body.len().min(4096) / 4 * 4];
    let Some(bytes) = super::decode::base64_decode(prefix) else {
        return Protection::Unknown;
    };
    if block.label == "OPENSSH PRIVATE KEY" {
        return openssh_protection(&bytes);
    }
    if block.label == "PGP PRIVATE KEY BLOCK" {
        return pgp_protection(&bytes);
    }
    Protection::Unknown
}

/// An OpenSSH key (`openssh-key-v1\0`, then the cipher name): `none` is
/// a key in the clear.
fn openssh_protection(bytes: &[u8]) -> Protection {
    let Some(rest) = bytes.strip_prefix(b"openssh-key-v1\0") else {
        return Protection::Unknown;
    };
    let Some(cipher) = ssh_string(rest) else {
        return Protection::Unknown;
    };
    match cipher {
        b"none" => Protection::Clear,
        cipher => Protection::Encrypted(String::from_utf8_lossy(cipher).into_owned()),
    }
}

fn ssh_string(bytes: &[u8]) -> Option<&[u8]> {
    let len = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    bytes.get(4..4 + len)
}

/// The first packet of a PGP transferable secret key (RFC 9580, 5.5.3):
/// its S2K usage octet, after the public key material, is 0 for a key in
/// the clear.
fn pgp_protection(bytes: &[u8]) -> Protection {
    let Some(packet) = pgp_secret_key_packet(bytes) else {
        return Protection::Unknown;
    };
    let Some(usage) = pgp_s2k_usage(packet) else {
        return Protection::Unknown;
    };
    match usage {
        0 => Protection::Clear,
        _ => Protection::Encrypted("OpenPGP S2K".to_string()),
    }
}

/// The body of the first packet, if it is a secret-key packet (tag 5).
fn pgp_secret_key_packet(bytes: &[u8]) -> Option<&[u8]> {
    let first = *bytes.first()?;
    if first & 0x80 == 0 {
        return None;
    }
    let (tag, len, start): (u8, usize, usize) = if first & 0x40 != 0 {
        // New format: the length's first octet says its size.
        let octet = *bytes.get(1)? as usize;
        match octet {
            0..=191 => (first & 0x3f, octet, 2),
            192..=223 => {
                let second = *bytes.get(2)? as usize;
                (first & 0x3f, ((octet - 192) << 8) + second + 192, 3)
            }
            255 => (
                first & 0x3f,
                u32::from_be_bytes(bytes.get(2..6)?.try_into().ok()?) as usize,
                6,
            ),
            // Partial lengths: read what there is.
            _ => (first & 0x3f, bytes.len().saturating_sub(2), 2),
        }
    } else {
        let tag = (first >> 2) & 0x0f;
        match first & 3 {
            0 => (tag, *bytes.get(1)? as usize, 2),
            1 => (
                tag,
                u16::from_be_bytes(bytes.get(1..3)?.try_into().ok()?) as usize,
                3,
            ),
            2 => (
                tag,
                u32::from_be_bytes(bytes.get(1..5)?.try_into().ok()?) as usize,
                5,
            ),
            _ => (tag, bytes.len().saturating_sub(1), 1),
        }
    };
    if tag != 5 {
        return None;
    }
    let end = start.checked_add(len)?.min(bytes.len());
    bytes.get(start..end)
}

/// The S2K usage octet of a secret-key packet body, versions 4, 5 and 6.
fn pgp_s2k_usage(packet: &[u8]) -> Option<u8> {
    let version = *packet.first()?;
    let algorithm = *packet.get(5)?;
    let material = match version {
        // Versions 5 and 6 give the public material's length.
        5 | 6 => {
            let len = u32::from_be_bytes(packet.get(6..10)?.try_into().ok()?) as usize;
            10usize.checked_add(len)?
        }
        4 => 6 + pgp_public_material_len(algorithm, packet.get(6..)?)?,
        _ => return None,
    };
    packet.get(material).copied()
}

/// The length of a version 4 key's public material for its algorithm.
fn pgp_public_material_len(algorithm: u8, bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    let mpi = |at: &mut usize| -> Option<()> {
        let bits = u16::from_be_bytes(bytes.get(*at..*at + 2)?.try_into().ok()?) as usize;
        *at += 2 + bits.div_ceil(8);
        Some(())
    };
    let oid = |at: &mut usize| -> Option<()> {
        let len = *bytes.get(*at)? as usize;
        *at += 1 + len;
        Some(())
    };
    match algorithm {
        1..=3 => (0..2).try_for_each(|_| mpi(&mut at))?,
        16 | 20 => (0..3).try_for_each(|_| mpi(&mut at))?,
        17 => (0..4).try_for_each(|_| mpi(&mut at))?,
        19 | 22 => {
            oid(&mut at)?;
            mpi(&mut at)?;
        }
        18 => {
            oid(&mut at)?;
            mpi(&mut at)?;
            // KDF parameters: a length octet and that many bytes.
            oid(&mut at)?;
        }
        25 => at += 32,
        26 => at += 56,
        27 => at += 32,
        28 => at += 57,
        _ => return None,
    }
    (at <= bytes.len()).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Pseudo-random bytes (a fixture, not key material anyone uses).
    fn noise(seed: u8, len: usize) -> Vec<u8> {
        let mut state = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as u8
            })
            .collect()
    }

    fn pem(label: &str, body: &str) -> Vec<u8> {
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----",
            lines.join("\n")
        )
        .into_bytes()
    }

    #[test]
    fn any_body_of_key_material_counts() {
        let body = b64(&noise(1, 600));
        let verdict = assess(&pem("RSA PRIVATE KEY", &body), true);
        assert_eq!(verdict, Some(Verdict::default()));
        // Not starting with `M` (no DER sequence): still a key.
        let body = format!("Q{}", &b64(&noise(2, 90))[1..]);
        assert!(assess(&pem("PRIVATE KEY", &body), true).is_some());
    }

    #[test]
    fn filler_and_short_bodies_are_not_keys() {
        for body in [
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
            "YOURPRIVATEKEYHEREYOURPRIVATEKEYHEREYOURPRIVATEKEYHERE",
            "MIIEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        ] {
            assert!(assess(&pem("PRIVATE KEY", body), false).is_none(), "{body}");
        }
    }

    #[test]
    fn escaped_newlines_are_line_breaks() {
        let body = b64(&noise(3, 200));
        let text = String::from_utf8_lossy(&pem("EC PRIVATE KEY", &body)).replace('\n', "\\n");
        assert_eq!(parse(text.as_bytes()).body, body.as_bytes());
        let text = String::from_utf8_lossy(&pem("EC PRIVATE KEY", &body)).replace('\n', "\\\\n");
        assert_eq!(parse(text.as_bytes()).label, "EC PRIVATE KEY");
        assert_eq!(parse(text.as_bytes()).body, body.as_bytes());
    }

    #[test]
    fn openssh_cipher_says_whether_it_is_encrypted() {
        let key = |cipher: &[u8]| {
            let mut bytes = b"openssh-key-v1\0".to_vec();
            bytes.extend_from_slice(&(cipher.len() as u32).to_be_bytes());
            bytes.extend_from_slice(cipher);
            bytes.extend_from_slice(&noise(4, 300));
            pem("OPENSSH PRIVATE KEY", &b64(&bytes))
        };
        let clear = assess(&key(b"none"), true);
        assert_eq!(clear.and_then(|v| v.severity), Some(Severity::Critical));
        assert!(assess(&key(b"aes256-ctr"), true).is_none());
        let encrypted = assess(&key(b"aes256-ctr"), false);
        assert_eq!(
            encrypted.and_then(|v| v.detail).as_deref(),
            Some("passphrase-protected (aes256-ctr)")
        );
    }

    #[test]
    fn pgp_s2k_usage_says_whether_it_is_encrypted() {
        // A v4 Ed25519 (legacy EdDSA, algorithm 22) secret key packet.
        let packet = |usage: u8| {
            let mut body = vec![4, 0x65, 0x00, 0x00, 0x00, 22];
            body.push(9);
            body.extend_from_slice(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01]);
            body.extend_from_slice(&[0x01, 0x07, 0x40]);
            body.extend_from_slice(&noise(5, 32));
            body.push(usage);
            body.extend_from_slice(&noise(6, 40));
            let mut bytes = vec![0x94, body.len() as u8];
            bytes.extend_from_slice(&body);
            bytes.extend_from_slice(&noise(7, 100));
            let armour = format!(
                "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{}\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----",
                b64(&bytes)
            );
            armour.into_bytes()
        };
        let clear = assess(&packet(0), false);
        assert_eq!(clear.and_then(|v| v.severity), Some(Severity::Critical));
        let encrypted = assess(&packet(254), false);
        assert_eq!(encrypted.and_then(|v| v.severity), Some(Severity::High));
    }

    #[test]
    fn pem_armour_says_whether_it_is_encrypted() {
        let body = b64(&noise(8, 600));
        let mut legacy = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n".to_vec();
        legacy.extend_from_slice(body.as_bytes());
        legacy.extend_from_slice(b"\n-----END RSA PRIVATE KEY-----");
        let verdict = assess(&legacy, false);
        assert_eq!(
            verdict.and_then(|v| v.detail).as_deref(),
            Some("passphrase-protected (AES-256-CBC)")
        );
        let pkcs8 = assess(&pem("ENCRYPTED PRIVATE KEY", &body), false);
        assert_eq!(pkcs8.and_then(|v| v.severity), Some(Severity::High));
    }
}
