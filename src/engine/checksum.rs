//! Token formats that carry their own checksum: a random-looking string that
//! fails it is not a real token, whatever its prefix.

use crate::rules::Checksum;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether `secret` passes the rule's checksum.
pub fn verify(checksum: Checksum, secret: &[u8]) -> bool {
    match checksum {
        Checksum::GithubCrc32 | Checksum::NpmCrc32 => crc32_base62_suffix(secret),
    }
}

/// GitHub-style tokens: `prefix_` + 30 random base62 chars + 6-char base62 CRC32
/// of those 30 chars, zero-padded on the left.
fn crc32_base62_suffix(secret: &[u8]) -> bool {
    let Some(underscore) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let body = &secret[underscore + 1..];
    if body.len() != 36 {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62_fixed(crc32fast::hash(random), 6).as_slice() == check
}

fn base62_fixed(mut value: u32, width: usize) -> Vec<u8> {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_token(prefix: &str, random: &str) -> String {
        let check = base62_fixed(crc32fast::hash(random.as_bytes()), 6);
        format!("{prefix}{random}{}", String::from_utf8_lossy(&check))
    }

    #[test]
    fn valid_github_token_passes() {
        let token = make_token("ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1");
        assert!(verify(Checksum::GithubCrc32, token.as_bytes()));
    }

    #[test]
    fn altered_github_token_fails() {
        let token = make_token("ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1");
        let altered = token.replacen("aB3", "aB4", 1);
        assert!(!verify(Checksum::GithubCrc32, altered.as_bytes()));
    }

    #[test]
    fn wrong_length_fails() {
        assert!(!verify(Checksum::NpmCrc32, b"npm_abc"));
        assert!(!verify(Checksum::NpmCrc32, b"no-underscore-here"));
    }
}
