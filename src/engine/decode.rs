//! Secrets that are stored encoded: base64 credentials, JWT payloads, the
//! `data:` values of Kubernetes `Secret` manifests, and the base64 values
//! that hold whole files or keys (a kubeconfig's `client-key-data`, a
//! `data:` URL, a Helm value named `*_key_data` or `*Base64`, a service
//! account's `privateKeyData`).

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
    /// What decided that it is a container: its line (for a Kubernetes
    /// value, which the whole manifest decides, its span).
    pub line: Range<usize>,
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
            line: value.range(),
            text,
        });
    }
    values
}

/// Where base64 containers may be: one pass over a blob finds the lines
/// worth a regex. Exact-case spellings (lower, upper, camel): a case-blind
/// automaton loses the SIMD prefilter and cost a tenth of a history scan.
static CONTAINER_HINTS: LazyLock<Option<aho_corasick::AhoCorasick>> = LazyLock::new(|| {
    // Leftmost-first: only that kind has the packed (SIMD) searcher, about
    // 5 GB/s here against 0.2 for the standard kind.
    aho_corasick::AhoCorasickBuilder::new()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build([
            "ase64",
            "ASE64",
            "ey-data",
            "ey_data",
            "eyData",
            "eydata",
            "EY_DATA",
            "EY-DATA",
            "rivate_key",
            "rivate-key",
            "rivateKey",
            "rivatekey",
            "RIVATE_KEY",
        ])
        .ok()
});

/// A value whose name says it holds a key or a whole file in base64: a
/// kubeconfig's `client-key-data`, Helm and Kustomize values named
/// `*_key_data` or `*Base64`, a service-account key's `privateKeyData`
/// (GCP's API) or a base64 `private_key` (Terraform's state). A
/// `client-certificate-data` is public and not read.
static NAMED_VALUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    crate::rules::compile_regex(
        r#"(?i)["']?([A-Za-z0-9_.-]*(?:key[_-]?data|[_-]?base64|private[_-]?key))["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9+/]{40,}={0,2})(?:["'\s,}]|$)"#,
    )
    .ok()
});

/// A `data:` URL of a PEM file or plain text, base64-encoded.
static DATA_URL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    crate::rules::compile_regex(
        r"(?i)data:(?:application/x-pem-file|text/plain)(?:;[A-Za-z0-9=._-]+)*;base64,([A-Za-z0-9+/]{16,}={0,2})",
    )
    .ok()
});

/// Base64 values that hold whole files or keys, decoded (to text only:
/// a binary value is no file a rule reads), each with its name so the
/// rules that need one see it: the `data:` values of a Kubernetes `Secret`
/// and the containers of [`NAMED_VALUE`] and [`DATA_URL`]. Each encoded
/// span is decoded once.
pub fn container_values(blob: &[u8]) -> Vec<DecodedValue> {
    let mut values = kubernetes_secret_values(blob);
    values.extend(line_container_values(blob, 0..blob.len(), &values));
    values
}

/// The containers of [`NAMED_VALUE`] and [`DATA_URL`] on the lines of
/// `region` (whole lines of `blob`), except at the spans of `known`. Each
/// depends on its line alone, which lets a delta scan read only the lines
/// a new version changed.
pub fn line_container_values(
    blob: &[u8],
    region: Range<usize>,
    known: &[DecodedValue],
) -> Vec<DecodedValue> {
    let mut values = Vec::new();
    let Some(hints) = CONTAINER_HINTS.as_ref() else {
        return values;
    };
    // Only the lines holding a hint are read by the regexes: a name and its
    // value, or a whole `data:` URL, sit on one line.
    let mut last_line = None;
    for hit in hints.find_iter(&blob[region.clone()]) {
        let (hit_start, hit_end) = (region.start + hit.start(), region.start + hit.end());
        let start = memchr::memrchr(b'\n', &blob[..hit_start]).map_or(0, |i| i + 1);
        if last_line == Some(start) {
            continue;
        }
        last_line = Some(start);
        let end = memchr::memchr(b'\n', &blob[hit_end..]).map_or(blob.len(), |i| hit_end + i);
        line_containers(blob, start..end, known, &mut values);
    }
    values
}

/// The containers of [`NAMED_VALUE`] and [`DATA_URL`] on the line
/// `line` of `blob`, added to `values` unless their span is there already.
fn line_containers(
    blob: &[u8],
    line: Range<usize>,
    known: &[DecodedValue],
    values: &mut Vec<DecodedValue>,
) {
    let text = &blob[line.clone()];
    let mut add = |name: &[u8], value: regex::bytes::Match<'_>| {
        let span = line.start + value.start()..line.start + value.end();
        if values.iter().chain(known).any(|v| v.span == span) {
            return;
        }
        let Some(decoded) = base64_decode(value.as_bytes()) else {
            return;
        };
        if !is_printable_text(&decoded) {
            return;
        }
        let mut text = name.to_vec();
        if !text.is_empty() {
            text.extend_from_slice(b": ");
        }
        text.extend_from_slice(decoded.trim_ascii_end());
        values.push(DecodedValue {
            span,
            line: line.clone(),
            text,
        });
    };
    if let Some(named) = NAMED_VALUE.as_ref() {
        for caps in named.captures_iter(text) {
            if let (Some(name), Some(value)) = (caps.get(1), caps.get(2)) {
                add(name.as_bytes(), value);
            }
        }
    }
    if let Some(url) = DATA_URL.as_ref() {
        for caps in url.captures_iter(text) {
            if let Some(value) = caps.get(1) {
                add(b"", value);
            }
        }
    }
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

    fn pem() -> String {
        // A made-up body of the right shape, not a key.
        let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n".repeat(4);
        format!("-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n")
    }

    fn b64(text: &str) -> String {
        general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn kubeconfig_keys_are_decoded_and_certificates_left_alone() {
        let config = format!(
            "users:\n- name: admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
            b64(
                "-----BEGIN CERTIFICATE-----\nnot a secret at all, but long enough\n-----END CERTIFICATE-----\n"
            ),
            b64(&pem())
        );
        let values = container_values(config.as_bytes());
        assert_eq!(values.len(), 1);
        assert!(
            values[0]
                .text
                .starts_with(b"client-key-data: -----BEGIN RSA PRIVATE KEY-----\n")
        );
    }

    #[test]
    fn named_values_and_data_urls_are_decoded() {
        let text = format!(
            "tls_key_data: \"{}\"\nsigningKeyBase64={}\n{{\"privateKeyData\": \"{}\"}}\nhref=\"data:application/x-pem-file;base64,{}\"\n",
            b64(&pem()),
            b64("password = correct-horse-battery-staple-42"),
            b64("{\"type\": \"service_account\", \"private_key_id\": \"0123\"}"),
            b64(&pem()),
        );
        let values = container_values(text.as_bytes());
        let names: Vec<String> = values
            .iter()
            .map(|v| {
                String::from_utf8_lossy(&v.text)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(names[0].starts_with("tls_key_data: -----BEGIN"));
        assert!(names[1].starts_with("signingKeyBase64: password ="));
        assert!(names[2].starts_with("privateKeyData: {"));
        assert!(names[3].starts_with("-----BEGIN RSA PRIVATE KEY"));
    }

    #[test]
    fn binary_and_short_values_are_not_containers() {
        let binary = general_purpose::STANDARD.encode([0u8, 1, 2, 3, 200, 201, 202].repeat(10));
        let text = format!("logo_base64: {binary}\nkey_data: c2hvcnQ=\n");
        assert!(container_values(text.as_bytes()).is_empty());
    }
}
