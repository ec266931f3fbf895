//! JSON Web Tokens wherever they are: a token is only worth reporting if it
//! is one (a header naming its `alg`, a JSON payload, a signature of the
//! alg's size), and how much it is worth depends on its claims. A Supabase
//! `anon` key is public by design; a `service_role` key, an n8n API key or
//! any token that never expires is a standing credential; a short-lived
//! token that has expired opens nothing.

use base64::Engine as _;
use base64::engine::general_purpose;

use super::validate::Verdict;
use crate::rules::{Confidence, Severity};

/// Seconds in a day.
const DAY: i64 = 24 * 60 * 60;
/// A lifetime longer than this (a year, leap day included) is long-lived.
const YEAR: i64 = 366 * DAY;

type Object = serde_json::Map<String, serde_json::Value>;

/// Claims that say whom a token stands for or what it grants (RFC 7519's
/// registered ones, OAuth's and the common providers'): a token with none
/// of them is no recognisable credential.
const IDENTITY_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "azp",
    "client_id",
    "role",
    "roles",
    "Role",
    "scope",
    "scp",
    "permissions",
    "groups",
    "email",
    "user_id",
    "userId",
    "uid",
    "username",
    "tid",
    "oid",
    "org_id",
    "tenant_id",
    "account_id",
    "api_key",
    "key",
];

/// The verdict on a JWS compact token (`header.payload.signature`) at
/// `now` (Unix seconds), or `None` when it is not a JWT: a header without
/// `alg`, a payload that is not a JSON object, a segment that is not
/// base64url.
pub fn assess_jws(token: &[u8], now: i64) -> Option<Verdict> {
    let mut parts = token.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let header = json_object(header)?;
    let alg = header.get("alg")?.as_str()?;
    let payload = json_object(payload)?;
    if alg.eq_ignore_ascii_case("none") {
        return Some(low("unsigned token (alg none)"));
    }
    let Ok(signature) = general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
        return Some(low("its signature is not base64url: a test token"));
    };
    if !signature_fits(alg, signature.len()) {
        return Some(low(&format!(
            "its signature is {} bytes, not an {alg} signature: a test token",
            signature.len()
        )));
    }
    Some(from_claims(&payload, now))
}

/// The verdict on a JWE compact token (five segments, the header naming
/// `alg` and `enc`): its claims are encrypted, so only its shape is known.
pub fn assess_jwe(token: &[u8]) -> Option<Verdict> {
    let parts: Vec<&[u8]> = token.split(|&b| b == b'.').collect();
    let [header, key, iv, ciphertext, tag] = parts.as_slice() else {
        return None;
    };
    let header = json_object(header)?;
    let alg = header.get("alg")?.as_str()?;
    let enc = header.get("enc")?.as_str()?;
    let decodes = |part: &[u8]| general_purpose::URL_SAFE_NO_PAD.decode(part).ok();
    let (_, iv, ciphertext, tag) = (
        decodes(key)?,
        decodes(iv)?,
        decodes(ciphertext)?,
        decodes(tag)?,
    );
    if iv.len() < 12 || tag.len() < 16 || ciphertext.is_empty() {
        return None;
    }
    Some(Verdict {
        severity: None,
        confidence: None,
        detail: Some(format!(
            "encrypted token (JWE, {alg}/{enc}): its claims and expiry cannot be read"
        )),
    })
}

/// Whether a signature of `len` bytes can be one of `alg`: HMAC and EdDSA
/// signatures have a fixed size, RSA ones the modulus size, ECDSA ones two
/// coordinates (or a DER sequence, as some libraries wrongly emit).
fn signature_fits(alg: &str, len: usize) -> bool {
    match alg {
        "HS256" => len == 32,
        "HS384" => len == 48,
        "HS512" => len == 64,
        "ES256" | "ES256K" => len == 64 || (68..=72).contains(&len),
        "ES384" => len == 96 || (100..=104).contains(&len),
        "ES512" => len == 132 || (136..=139).contains(&len),
        "EdDSA" | "Ed25519" => len == 64 || len == 114,
        "Ed448" => len == 114,
        _ if alg.starts_with("RS") || alg.starts_with("PS") => len >= 64,
        _ => len >= 16,
    }
}

/// Severity and confidence from what the token grants and for how long.
fn from_claims(payload: &Object, now: i64) -> Verdict {
    let text = |name: &str| payload.get(name).and_then(serde_json::Value::as_str);
    let time = |name: &str| payload.get(name).and_then(numeric_date);
    if text("iss") == Some("supabase-demo") {
        return low(
            "a Supabase demo key (iss supabase-demo), published in Supabase's self-hosting guide",
        );
    }
    match text("role") {
        Some("anon") => return low("role anon: a Supabase anon key, public by design"),
        Some("service_role") => {
            return high(
                Severity::Critical,
                "role service_role: bypasses row-level security",
            );
        }
        _ => {}
    }
    if text("iss") == Some("n8n") {
        return high(Severity::Critical, "an n8n API key (iss n8n)");
    }
    let standing = |reason: String| {
        if IDENTITY_CLAIMS
            .iter()
            .any(|claim| payload.contains_key(*claim))
        {
            high(Severity::High, &reason)
        } else {
            // `{"hello": "world"}` signed in a JWT library's tests: it
            // names nobody and grants nothing a reader can tell.
            Verdict {
                severity: None,
                confidence: Some(Confidence::Medium),
                detail: Some(format!(
                    "{reason}, but it names no subject, issuer, audience or role"
                )),
            }
        }
    };
    let Some(exp) = time("exp") else {
        return standing("no exp claim: it never expires".to_string());
    };
    match time("iat") {
        Some(iat) if exp - iat > YEAR => {
            return standing(format!(
                "exp {} is {} days after iat: long-lived",
                date(exp),
                (exp - iat) / DAY
            ));
        }
        None if exp - now > YEAR => {
            return standing(format!("exp {} is more than a year away", date(exp)));
        }
        _ => {}
    }
    if exp <= now {
        return low(&format!("expired on {}", date(exp)));
    }
    Verdict {
        severity: None,
        confidence: Some(Confidence::Medium),
        detail: Some(format!("short-lived: expires on {}", date(exp))),
    }
}

/// A JSON number of seconds (RFC 7519 NumericDate), fractions dropped.
fn numeric_date(value: &serde_json::Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_f64().map(|f| f as i64))
}

fn low(detail: &str) -> Verdict {
    Verdict {
        severity: Some(Severity::Low),
        confidence: Some(Confidence::Low),
        detail: Some(detail.to_string()),
    }
}

fn high(severity: Severity, detail: &str) -> Verdict {
    Verdict {
        severity: Some(severity),
        confidence: Some(Confidence::High),
        detail: Some(detail.to_string()),
    }
}

/// A base64url segment that decodes to a JSON object.
fn json_object(part: &[u8]) -> Option<Object> {
    let bytes = general_purpose::URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time, for the reason a finding gives.
fn date(unix: i64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let days = unix.div_euclid(DAY);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600; // 2026-01-01

    fn b64(text: &str) -> String {
        general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    fn token(header: &str, payload: &str, signature_len: usize) -> Vec<u8> {
        let signature = general_purpose::URL_SAFE_NO_PAD.encode(vec![7u8; signature_len]);
        format!("{}.{}.{signature}", b64(header), b64(payload)).into_bytes()
    }

    fn verdict(payload: &str) -> Verdict {
        assess_jws(&token(r#"{"alg":"HS256","typ":"JWT"}"#, payload, 32), NOW)
            .unwrap_or_else(|| panic!("not a JWT: {payload}"))
    }

    #[test]
    fn claims_decide_confidence() {
        let confidence = |payload: &str| verdict(payload).confidence;
        assert_eq!(
            confidence(r#"{"iss":"supabase","role":"anon","iat":1700000000,"exp":2000000000}"#),
            Some(Confidence::Low)
        );
        assert_eq!(
            confidence(r#"{"role":"service_role","iat":1700000000,"exp":1700003600}"#),
            Some(Confidence::High)
        );
        assert_eq!(
            confidence(r#"{"iss":"n8n","aud":"public-api"}"#),
            Some(Confidence::High)
        );
        assert_eq!(confidence(r#"{"sub":"42"}"#), Some(Confidence::High));
        assert_eq!(
            confidence(r#"{"sub":"42","iat":1700000000,"exp":1800000000}"#),
            Some(Confidence::High)
        );
        assert_eq!(
            confidence(r#"{"sub":"42","exp":1900000000}"#),
            Some(Confidence::High)
        );
        assert_eq!(
            confidence(r#"{"sub":"42","iat":1700000000,"exp":1700003600}"#),
            Some(Confidence::Low)
        );
        assert_eq!(
            confidence(r#"{"sub":"42","iat":1767225000,"exp":1767229200}"#),
            Some(Confidence::Medium)
        );
        assert_eq!(
            confidence(r#"{"iss":"supabase-demo","role":"service_role"}"#),
            Some(Confidence::Low)
        );
        // Never expires, but names nobody: a library's test token.
        assert_eq!(confidence(r#"{"hello":"world"}"#), Some(Confidence::Medium));
    }

    #[test]
    fn the_reason_names_the_claim() {
        let detail = verdict(r#"{"sub":"42","iat":1700000000,"exp":1700003600}"#).detail;
        assert_eq!(detail.as_deref(), Some("expired on 2023-11-14"));
        let detail = verdict(r#"{"role":"anon"}"#).detail.unwrap_or_default();
        assert!(detail.starts_with("role anon"), "{detail}");
    }

    #[test]
    fn unsigned_and_badly_signed_tokens_are_low() {
        let unsigned = format!(
            "{}.{}.",
            b64(r#"{"alg":"none"}"#),
            b64(r#"{"role":"service_role"}"#)
        );
        let verdict = assess_jws(unsigned.as_bytes(), NOW);
        assert_eq!(verdict.and_then(|v| v.confidence), Some(Confidence::Low));
        let short = token(r#"{"alg":"HS256"}"#, r#"{"sub":"1"}"#, 6);
        let verdict = assess_jws(&short, NOW);
        assert_eq!(verdict.and_then(|v| v.confidence), Some(Confidence::Low));
        let rsa = token(r#"{"alg":"RS256"}"#, r#"{"sub":"1"}"#, 256);
        let verdict = assess_jws(&rsa, NOW);
        assert_eq!(verdict.and_then(|v| v.confidence), Some(Confidence::High));
    }

    #[test]
    fn non_tokens_are_rejected() {
        // No alg in the header (a Mapbox token's shape).
        assert!(assess_jws(&token(r#"{"u":"me","a":"x"}"#, r#"{"sub":"1"}"#, 32), NOW).is_none());
        // A payload that is not an object.
        assert!(assess_jws(&token(r#"{"alg":"HS256"}"#, "[1,2]", 32), NOW).is_none());
        assert!(assess_jws(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIi.abc!", NOW).is_none());
        // A signature that is not base64url is a test token's, not no token.
        let fake = format!(
            "{}.{}.invalid_signature",
            b64(r#"{"alg":"HS256"}"#),
            b64(r#"{"sub":"1"}"#)
        );
        let verdict = assess_jws(fake.as_bytes(), NOW);
        assert_eq!(verdict.and_then(|v| v.confidence), Some(Confidence::Low));
        assert!(assess_jws(b"a.b", NOW).is_none());
    }

    #[test]
    fn jwe_needs_alg_enc_and_five_segments() {
        let header = b64(r#"{"alg":"dir","enc":"A256GCM"}"#);
        let part = |n: usize| general_purpose::URL_SAFE_NO_PAD.encode(vec![9u8; n]);
        let jwe = format!("{header}..{}.{}.{}", part(12), part(80), part(16));
        assert!(assess_jwe(jwe.as_bytes()).is_some());
        let no_enc = format!(
            "{}..{}.{}.{}",
            b64(r#"{"alg":"dir"}"#),
            part(12),
            part(80),
            part(16)
        );
        assert!(assess_jwe(no_enc.as_bytes()).is_none());
        let short_tag = format!("{header}..{}.{}.{}", part(12), part(80), part(4));
        assert!(assess_jwe(short_tag.as_bytes()).is_none());
    }

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(NOW), "2026-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
    }
}
