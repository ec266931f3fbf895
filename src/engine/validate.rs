//! Format families checked in code, where a regex can find the shape but
//! not judge it: a JWT's header and claims, a private key's body and
//! protection. A validator rejects look-alikes and may set the finding's
//! severity and confidence, with the reason, from what the secret itself
//! says (a Supabase `anon` key is public by design; an encrypted key is
//! less urgent than one in the clear).

use crate::rules::{Confidence, Severity};

/// A rule's code check (`validate = "..."` in a rule file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// A JWS compact token: header with `alg`, JSON payload, a signature of
    /// the alg's size; severity and confidence from the claims.
    Jwt,
    /// A JWE compact token: five segments, header with `alg` and `enc`.
    Jwe,
    /// A private-key block with a body of key material; a passphrase-protected
    /// key is high severity, not critical.
    PrivateKey,
    /// The same, but a key whose own bytes say it is encrypted is left to the
    /// rule for encrypted keys.
    UnencryptedPrivateKey,
}

impl Validator {
    /// The name rule files use.
    pub fn parse(name: &str) -> Option<Validator> {
        match name {
            "jwt" => Some(Validator::Jwt),
            "jwe" => Some(Validator::Jwe),
            "private-key" => Some(Validator::PrivateKey),
            "unencrypted-private-key" => Some(Validator::UnencryptedPrivateKey),
            _ => None,
        }
    }

    /// Every name, for error messages.
    pub const NAMES: &'static str = "jwt, jwe, private-key, unencrypted-private-key";
}

/// What a validator concluded about one secret, beyond accepting it: each
/// field, when set, replaces the rule's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// How bad a leak of this secret is.
    pub severity: Option<Severity>,
    /// How sure it is to be a real credential, before the file's context.
    pub confidence: Option<Confidence>,
    /// Why, in a few words (`role anon: ...`, `expired on 2024-03-01`).
    pub detail: Option<String>,
}

/// The verdict of `validator` on `secret`; `None` rejects the match.
pub fn check(validator: Validator, secret: &[u8]) -> Option<Verdict> {
    match validator {
        Validator::Jwt => super::jwt::assess_jws(secret, now()),
        Validator::Jwe => super::jwt::assess_jwe(secret),
        Validator::PrivateKey => super::keys::assess(secret, false),
        Validator::UnencryptedPrivateKey => super::keys::assess(secret, true),
    }
}

/// The current Unix time, against which tokens expire.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
