//! Format families through the binary: JSON Web Tokens anywhere, with
//! severity, confidence and the reason (`detail`) read from their claims;
//! private keys in every armour, whatever their body's first bytes, while
//! placeholder bodies stay silent; TOTP seeds. Every planted value is built
//! at run time from deterministic noise: none is a real credential.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::git::*;
use common::*;
use serde_json::Value;

/// Deterministic noise bytes (a fixture, not key material anyone uses).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    random_string(seed, len, BASE62).into_bytes()
}

/// A compact JWS with a signature of `signature_len` noise bytes.
fn jwt(header: &str, payload: &str, signature_len: usize, seed: u64) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(noise(seed, signature_len))
    )
}

const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn hs256(payload: &str, seed: u64) -> String {
    jwt(HS256, payload, 32, seed)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A PEM block of `label` around `body` (base64, wrapped at 64).
fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// An OpenSSH private key file whose header names `cipher`.
fn openssh(cipher: &str, seed: u64) -> String {
    let mut bytes = b"openssh-key-v1\0".to_vec();
    bytes.extend_from_slice(&(cipher.len() as u32).to_be_bytes());
    bytes.extend_from_slice(cipher.as_bytes());
    bytes.extend_from_slice(&noise(seed, 400));
    pem("OPENSSH PRIVATE KEY", &bytes)
}

/// A PGP secret key block whose first packet (v4, EdDSA) has S2K usage `usage`.
fn pgp(usage: u8, seed: u64) -> String {
    let mut packet = vec![4, 0x65, 0, 0, 0, 22, 9];
    packet.extend_from_slice(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01]);
    packet.extend_from_slice(&[0x01, 0x07, 0x40]);
    packet.extend_from_slice(&noise(seed, 32));
    packet.push(usage);
    packet.extend_from_slice(&noise(seed + 1, 60));
    let mut bytes = vec![0x94, packet.len() as u8];
    bytes.extend_from_slice(&packet);
    bytes.extend_from_slice(&noise(seed + 2, 150));
    pem("PGP PRIVATE KEY BLOCK", &bytes).replacen("-----\n", "-----\nComment: deploy key\n\n", 1)
}

/// A PuTTY v3 key file with `encryption` (`none` or a cipher).
fn putty(encryption: &str, seed: u64) -> String {
    let public = STANDARD.encode(noise(seed, 51));
    let private = STANDARD.encode(noise(seed + 1, 36));
    let mac = random_string(seed + 2, 64, HEX);
    format!(
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: {encryption}\nComment: ci-key\n\
         Public-Lines: 2\n{}\n{}\nPrivate-Lines: 1\n{private}\nPrivate-MAC: {mac}\n",
        &public[..64],
        &public[64..]
    )
}

/// The findings of `secret` in a `--min-confidence low` scan report.
fn finding<'a>(report: &'a Value, secret: &str) -> &'a Value {
    only_finding(report, secret)
}

fn text(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or("").to_string()
}

#[test]
fn jwt_claims_decide_severity_confidence_and_detail() {
    let now = now();
    let anon = hs256(
        r#"{"iss":"supabase","ref":"qvzkfhdmxrplbwoyntca","role":"anon","iat":1735689600,"exp":2051222400}"#,
        1,
    );
    let service = hs256(r#"{"iss":"gotrue-selfhosted","role":"service_role"}"#, 2);
    let forever = hs256(r#"{"sub":"svc-billing","scope":"admin"}"#, 3);
    let long_lived = jwt(
        r#"{"alg":"RS256","kid":"k1"}"#,
        r#"{"sub":"svc-billing","iat":1735689600,"exp":1893456000}"#,
        256,
        4,
    );
    let expired = hs256(
        r#"{"sub":"user-8841","iat":1700000000,"exp":1700003600}"#,
        5,
    );
    let live = hs256(
        &format!(
            r#"{{"sub":"user-8841","iat":{},"exp":{}}}"#,
            now - 60,
            now + 3600
        ),
        6,
    );
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#)
    );
    let test_signed = format!(
        "{}.{}.invalid_signature",
        URL_SAFE_NO_PAD.encode(HS256),
        URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#)
    );
    let tree = Tree::new();
    let lines: Vec<String> = [
        &anon,
        &service,
        &forever,
        &long_lived,
        &expired,
        &live,
        &unsigned,
        &test_signed,
    ]
    .iter()
    .enumerate()
    .map(|(i, token)| format!("export const TOKEN_{i} = \"{token}\";"))
    .collect();
    tree.write("src/tokens.ts", lines.join("\n") + "\n");
    let (code, report) = scan_json(tree.path(), &["--min-confidence", "low"]);
    assert_eq!(code, 1, "{report:#}");
    for (token, severity, confidence, reason) in [
        (&anon, "low", "low", "role anon"),
        (&service, "critical", "high", "role service_role"),
        (&forever, "high", "high", "no exp claim"),
        (&long_lived, "high", "high", "days after iat"),
        (&expired, "low", "low", "expired on 2023-11-14"),
        (&live, "high", "medium", "short-lived"),
        (&unsigned, "low", "low", "alg none"),
        (&test_signed, "low", "low", "not base64url"),
    ] {
        let found = finding(&report, token);
        assert_eq!(text(found, "rule"), "jwt", "{found:#}");
        assert_eq!(text(found, "severity"), severity, "{found:#}");
        assert_eq!(text(found, "confidence"), confidence, "{found:#}");
        assert!(text(found, "detail").contains(reason), "{found:#}");
    }
}

#[test]
fn a_public_jwt_does_not_fail_the_gate_and_a_standing_one_does() {
    let tree = Tree::new();
    let anon = hs256(r#"{"iss":"supabase","role":"anon","iat":1735689600}"#, 11);
    tree.write("src/client.ts", format!("const key = '{anon}';\n"));
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(
        code, 0,
        "a Supabase anon key is public by design: {report:#}"
    );
    assert_eq!(report["summary"]["by_confidence"]["low"], 1);
    let forever = hs256(r#"{"sub":"ci","role":"deployer"}"#, 12);
    // High stays high in a test file: a real-format token is a real token.
    tree.write("tests/api.test.ts", format!("const t = '{forever}';\n"));
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(text(finding(&report, &forever), "confidence"), "high");
}

#[test]
fn a_jwt_is_one_finding_under_its_most_specific_rule() {
    let tree = Tree::new();
    let named = hs256(r#"{"sub":"svc","iat":1735689600}"#, 21);
    let bearer = hs256(r#"{"sub":"svc2","iat":1735689600}"#, 22);
    let n8n = hs256(r#"{"sub":"u1","iss":"n8n","aud":"public-api"}"#, 23);
    tree.write(
        "app/config.py",
        format!(
            "API_TOKEN = \"{named}\"\nheaders = {{\"Authorization\": \"Bearer {bearer}\"}}\n\
             N8N_API_KEY = \"{n8n}\"\n"
        ),
    );
    let (_, report) = scan_json(tree.path(), &["--min-confidence", "low"]);
    // A key-named generic rule and the Bearer rule yield to the JWT family,
    // which yields to a provider's own JWT rule.
    assert_eq!(text(finding(&report, &named), "rule"), "jwt");
    assert_eq!(text(finding(&report, &bearer), "rule"), "jwt");
    assert_eq!(text(finding(&report, &n8n), "rule"), "n8n-api-key");
    assert_eq!(report["summary"]["findings"], 3, "{report:#}");
}

#[test]
fn jwt_placeholders_and_look_alikes_stay_silent() {
    let tree = Tree::new();
    let no_alg = jwt(r#"{"typ":"JWT","kid":"k1"}"#, r#"{"sub":"42"}"#, 32, 31);
    let not_json = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(HS256),
        URL_SAFE_NO_PAD.encode("[1,2,3,4,5,6,7,8,9,10]"),
        URL_SAFE_NO_PAD.encode(noise(32, 32))
    );
    tree.write(
        "src/settings.env.ts",
        format!(
            "SUPABASE_KEY=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...\n\
             SUPABASE_KEY=eyJhbGciOi...\nNO_ALG={no_alg}\nNOT_JSON={not_json}\n\
             SAMPLE=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n"
        ),
    );
    let (code, report) = scan_json(tree.path(), &["--min-confidence", "low"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["findings"], 0, "{report:#}");
}

#[test]
fn encrypted_jwts_are_medium_and_low_in_tests() {
    let part = |seed: u64, len: usize| URL_SAFE_NO_PAD.encode(noise(seed, len));
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","enc":"A256GCM"}"#);
    let session = format!(
        "{header}..{}.{}.{}",
        part(41, 12),
        part(42, 120),
        part(43, 16)
    );
    let fixture = format!(
        "{header}..{}.{}.{}",
        part(44, 12),
        part(45, 120),
        part(46, 16)
    );
    let tree = Tree::new();
    tree.write("src/cookie.ts", format!("const c = \"{session}\";\n"));
    tree.write(
        "tests/cookie.test.ts",
        format!("const c = \"{fixture}\";\n"),
    );
    let (code, report) = scan_json(tree.path(), &["--min-confidence", "low"]);
    assert_eq!(code, 1, "{report:#}");
    let app = finding(&report, &session);
    assert_eq!(text(app, "rule"), "jwe");
    assert_eq!(text(app, "confidence"), "medium");
    assert!(text(app, "detail").contains("A256GCM"), "{app:#}");
    assert_eq!(text(finding(&report, &fixture), "confidence"), "low");
}

#[test]
fn a_jwt_keeps_its_claims_confidence_wherever_history_places_it() {
    // First committed in a test file, later copied into the app: history
    // judges it again at each path, from its claims, not from the rule's
    // confidence (which would make it high, and fail the gate).
    let repo = Repo::new();
    let anon = hs256(r#"{"iss":"supabase","role":"anon","iat":1735689600}"#, 51);
    repo.write(
        "tests/fixtures.ts",
        format!("export const KEY = '{anon}';\n"),
    );
    repo.commit("fixtures");
    repo.write("src/client.ts", format!("export const KEY = '{anon}';\n"));
    repo.commit("client");
    let output = secretgate()
        .current_dir(repo.path())
        .args(["history", "--format", "json"])
        .output()
        .unwrap_or_else(|err| panic!("run: {err}"));
    let report = json_report(&output);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    let found = finding(&report, &anon);
    assert_eq!(text(found, "confidence"), "low", "{found:#}");
    assert!(text(found, "detail").contains("role anon"), "{found:#}");
}

#[test]
fn the_reason_is_in_every_format() {
    let tree = Tree::new();
    let service = hs256(r#"{"role":"service_role","iss":"selfhosted"}"#, 61);
    tree.write("src/admin.ts", format!("const k = '{service}';\n"));
    let human = secretgate()
        .current_dir(tree.path())
        .args(["scan", "."])
        .output()
        .unwrap_or_else(|err| panic!("run: {err}"));
    let stdout = String::from_utf8_lossy(&human.stdout);
    assert!(
        stdout.contains("why     role service_role: bypasses row-level security"),
        "{stdout}"
    );
    let sarif = secretgate()
        .current_dir(tree.path())
        .args(["scan", ".", "--format", "sarif"])
        .output()
        .unwrap_or_else(|err| panic!("run: {err}"));
    let sarif = json_report(&sarif);
    let detail = &sarif["runs"][0]["results"][0]["properties"]["detail"];
    assert!(
        detail
            .as_str()
            .is_some_and(|d| d.starts_with("role service_role")),
        "{sarif:#}"
    );
}

#[test]
fn private_keys_in_every_armour_are_found_once() {
    // Bodies of noise: none starts with a DER sequence's `M` unless by chance.
    let rsa = pem("RSA PRIVATE KEY", &noise(71, 900));
    let ec = pem("EC PRIVATE KEY", &noise(72, 121));
    let dsa = pem("DSA PRIVATE KEY", &noise(73, 440));
    let pkcs8 = pem("PRIVATE KEY", &noise(74, 48));
    let other_label = pem("ED25519 PRIVATE KEY", &noise(75, 32));
    let ssh_clear = openssh("none", 76);
    let ssh_encrypted = openssh("aes256-ctr", 77);
    let pkcs8_encrypted = pem("ENCRYPTED PRIVATE KEY", &noise(78, 700));
    let legacy_encrypted = pem("RSA PRIVATE KEY", &noise(79, 900)).replacen(
        "-----\n",
        "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00FF11EE22DD33CC44BB55AA66997788\n\n",
        1,
    );
    let pgp_clear = pgp(0, 80);
    let pgp_protected = pgp(254, 83);
    let ppk_clear = putty("none", 86);
    let ppk_encrypted = putty("aes256-cbc", 89).replacen(
        "Comment: ci-key\n",
        "Comment: ci-key\nKey-Derivation: Argon2id\nArgon2-Memory: 8192\nArgon2-Passes: 13\n\
         Argon2-Parallelism: 1\nArgon2-Salt: 9d115fb2bd3f4e3e00a99810ad8eacd3\n",
        1,
    );
    let commented = pem("EC PRIVATE KEY", &noise(92, 121))
        .lines()
        .map(|line| format!("# {line}\n"))
        .collect::<String>();
    let escaped = pem("PRIVATE KEY", &noise(93, 1200)).replace('\n', "\\n");
    let joined = pem("RSA PRIVATE KEY", &noise(94, 600))
        .lines()
        .map(|line| format!("    \"{line}\\n\""))
        .collect::<Vec<_>>()
        .join(" +\n");
    let cases: Vec<(&str, String, &str, &str, Option<&str>)> = vec![
        ("rsa.pem", rsa, "private-key-rsa", "critical", None),
        ("ec.pem", ec, "private-key-ec", "critical", None),
        ("dsa.pem", dsa, "private-key-dsa", "critical", None),
        ("pkcs8.pem", pkcs8, "private-key-pkcs8", "critical", None),
        ("ed.pem", other_label, "private-key-pem", "critical", None),
        (
            "id_ed25519",
            ssh_clear,
            "private-key-openssh",
            "critical",
            Some("not passphrase-protected"),
        ),
        (
            "id_encrypted",
            ssh_encrypted,
            "private-key-encrypted",
            "high",
            Some("aes256-ctr"),
        ),
        (
            "pkcs8-enc.pem",
            pkcs8_encrypted,
            "private-key-encrypted",
            "high",
            Some("ENCRYPTED PRIVATE KEY"),
        ),
        (
            "legacy.pem",
            legacy_encrypted,
            "private-key-encrypted",
            "high",
            Some("AES-256-CBC"),
        ),
        (
            "clear.asc",
            pgp_clear,
            "pgp-private-key-block",
            "critical",
            Some("not passphrase-protected"),
        ),
        (
            "protected.asc",
            pgp_protected,
            "pgp-private-key-block",
            "high",
            Some("OpenPGP S2K"),
        ),
        (
            "clear.ppk",
            ppk_clear,
            "putty-private-key",
            "critical",
            Some("not passphrase-protected"),
        ),
        (
            "encrypted.ppk",
            ppk_encrypted,
            "private-key-encrypted",
            "high",
            Some("aes256-cbc"),
        ),
        ("deploy.sh", commented, "private-key-ec", "critical", None),
        (
            "sa.json",
            format!("{{\"private_key\": \"{escaped}\"}}\n"),
            "gcp-service-account-private-key",
            "critical",
            None,
        ),
        (
            ".env.production",
            format!("TLS_KEY=\"{escaped}\"\n"),
            "private-key-escaped",
            "critical",
            None,
        ),
        (
            "Keys.java",
            format!("String KEY =\n{joined};\n"),
            "private-key-escaped",
            "critical",
            None,
        ),
    ];
    let tree = Tree::new();
    for (name, content, ..) in &cases {
        tree.write(&format!("keys/{name}"), content);
    }
    let (code, report) = scan_json(tree.path(), &["--min-confidence", "low"]);
    assert_eq!(code, 1, "{report:#}");
    let secrets: Vec<&Value> = report["findings"]
        .as_array()
        .map(|all| all.iter().filter(|f| f["kind"] == "secret").collect())
        .unwrap_or_default();
    for (name, _, rule, severity, detail) in &cases {
        let path = format!("keys/{name}");
        let here: Vec<&&Value> = secrets.iter().filter(|f| f["path"] == path).collect();
        assert_eq!(here.len(), 1, "{name}: one finding expected: {here:#?}");
        let found = here[0];
        assert_eq!(text(found, "rule"), *rule, "{name}: {found:#}");
        assert_eq!(text(found, "severity"), *severity, "{name}: {found:#}");
        assert_eq!(text(found, "confidence"), "high", "{name}: {found:#}");
        if let Some(detail) = detail {
            assert!(text(found, "detail").contains(detail), "{name}: {found:#}");
        }
    }
}

#[test]
fn placeholder_key_bodies_stay_silent() {
    let armour = |label: &str, body: &str| {
        format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    };
    let tree = Tree::new();
    let bodies = [
        "...",
        "<key>",
        "<paste your private key here>",
        "YOUR_KEY_HERE",
        "YOURPRIVATEKEYHEREYOURPRIVATEKEYHEREYOURPRIVATEKEYHERE",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "MIIEpAIBAAKCAQEA...",
        &"x".repeat(64),
        &"A".repeat(128),
        &format!("MIIE{}", "A".repeat(120)),
    ];
    let mut text = String::new();
    for (i, body) in bodies.iter().enumerate() {
        for label in ["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY"] {
            text.push_str(&armour(label, body));
        }
        text.push_str(&format!(
            "KEY_{i}=\"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n\"\n"
        ));
    }
    tree.write("docs/setup.txt", &text);
    tree.write("config/keys.txt", &text);
    let (code, report) = scan_json(tree.path(), &["--min-confidence", "low"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["findings"], 0, "{report:#}");
}

#[test]
fn totp_seeds_are_found_and_the_documented_one_is_not() {
    let seed = random_string(101, 32, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    let uri_seed = random_string(102, 32, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    let tree = Tree::new();
    tree.write(
        "src/mfa.json",
        format!(
            "{{\"user\": \"alice\", \"secret\": \"{seed}\",\n \
             \"uri\": \"otpauth://totp/Acme:alice?secret={uri_seed}&issuer=Acme\",\n \
             \"doc\": \"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example\"}}\n"
        ),
    );
    let (code, report) = scan_json(tree.path(), &["--min-confidence", "low"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(text(finding(&report, &seed), "rule"), "totp-secret");
    assert_eq!(text(finding(&report, &seed), "confidence"), "medium");
    assert_eq!(
        text(finding(&report, &uri_seed), "rule"),
        "otpauth-uri-secret"
    );
    assert!(
        findings_of(&report, "JBSWY3DPEHPK3PXP").is_empty(),
        "{report:#}"
    );
    assert_eq!(report["summary"]["findings"], 2, "{report:#}");
}
