//! Secrets that are stored encoded: base64 credentials, JWT payloads and the
//! `data:` values of Kubernetes `Secret` manifests.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use regex::bytes::Regex;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decodes standard or URL-safe base64, with or without padding.
pub fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let text = text.trim_ascii();
    STANDARD_LENIENT
        .decode(text)
        .or_else(|_| URL_SAFE_LENIENT.decode(text))
        .ok()
}

/// Whether decoded bytes are text a person typed: UTF-8 without control
/// characters other than tab and newline.
pub fn is_printable_text(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && std::str::from_utf8(bytes).is_ok_and(|text| {
            text.chars()
                .all(|c| !c.is_control() || c == '\t' || c == '\n' || c == '\r')
        })
}

/// Whether `token` is a JWT (`header.payload.signature`, header and payload
/// base64url JSON objects) whose payload has every claim in `claims` as a string.
pub fn jwt_has_claims(token: &[u8], claims: &BTreeMap<String, String>) -> bool {
    let mut parts = token.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let json_object = |part: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        let bytes = general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .or_else(|| base64_decode(part))?;
        match serde_json::from_slice(&bytes).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let (Some(header), Some(payload)) = (json_object(header), json_object(payload)) else {
        return false;
    };
    if !header.contains_key("alg") {
        return false;
    }
    claims
        .iter()
        .all(|(name, expected)| match payload.get(name) {
            Some(serde_json::Value::String(actual)) => actual == expected,
            Some(serde_json::Value::Array(values)) => {
                values.iter().any(|v| v.as_str() == Some(expected.as_str()))
            }
            _ => false,
        })
}

/// A value decoded out of a blob, with the span it was decoded from.
#[derive(Debug)]
pub struct DecodedValue {
    /// Where the encoded text sits in the blob.
    pub span: Range<usize>,
    /// `key: decoded value`, ready to be scanned like any other text.
    pub text: Vec<u8>,
}

static KIND_SECRET: LazyLock<Option<Regex>> =
    LazyLock::new(|| crate::rules::compile_regex(r"(?m)^kind:\s*Secret\s*$").ok());
static DATA_ENTRY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    crate::rules::compile_regex(
        r#"(?m)^[ \t]+["']?([A-Za-z0-9._-]+)["']?[ \t]*:[ \t]*["']?([A-Za-z0-9+/]{4,}={0,2})["']?[ \t]*\r?$"#,
    )
    .ok()
});

/// The base64 `data:` values of a Kubernetes `Secret` manifest, decoded and
/// paired with their key so that name-anchored rules can judge them.
pub fn kubernetes_secret_values(blob: &[u8]) -> Vec<DecodedValue> {
    let (Some(kind), Some(entry)) = (KIND_SECRET.as_ref(), DATA_ENTRY.as_ref()) else {
        return Vec::new();
    };
    if memchr::memmem::find(blob, b"kind:").is_none() || !kind.is_match(blob) {
        return Vec::new();
    }
    let mut values = Vec::new();
    for caps in entry.captures_iter(blob) {
        let (Some(key), Some(value)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let Some(decoded) = base64_decode(value.as_bytes()) else {
            continue;
        };
        if !is_printable_text(&decoded) {
            continue;
        }
        let mut text = key.as_bytes().to_vec();
        text.extend_from_slice(b": ");
        text.extend_from_slice(decoded.trim_ascii_end());
        values.push(DecodedValue {
            span: value.range(),
            text,
        });
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_standard_and_url_safe() {
        assert_eq!(
            base64_decode(b"dXNlcjpwYXNz").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(
            base64_decode(b"dXNlcjpwYXNz\n").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(base64_decode(b"-_8").as_deref(), Some(&[0xfb, 0xff][..]));
        assert!(base64_decode(b"not base64!").is_none());
    }

    #[test]
    fn jwt_claims_are_checked() {
        // {"alg":"HS256","typ":"JWT"} . {"iss":"n8n","aud":"public-api"} . sig
        let token = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJuOG4iLCJhdWQiOiJwdWJsaWMtYXBpIn0.c2lnbmF0dXJl"; // secretgate:allow (test JWT, signature is the word "signature")
        let mut claims = BTreeMap::new();
        claims.insert("iss".to_string(), "n8n".to_string());
        assert!(jwt_has_claims(token, &claims));
        claims.insert("aud".to_string(), "public-api".to_string());
        assert!(jwt_has_claims(token, &claims));
        claims.insert("iss".to_string(), "other".to_string());
        assert!(!jwt_has_claims(token, &claims));
        assert!(!jwt_has_claims(b"a.b.c", &BTreeMap::new()));
    }

    #[test]
    fn kubernetes_secret_data_is_decoded_with_its_key() {
        let manifest = b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: dGFyczIwMjY=\n";
        let values = kubernetes_secret_values(manifest);
        assert_eq!(values.len(), 1);
        assert_eq!(values[0].text, b"password: tars2026");
        assert_eq!(&manifest[values[0].span.clone()], b"dGFyczIwMjY=");
    }

    #[test]
    fn non_secret_manifests_are_ignored() {
        let manifest = b"kind: ConfigMap\ndata:\n  password: dGFyczIwMjY=\n";
        assert!(kubernetes_secret_values(manifest).is_empty());
    }
}
