//! Precision fixes through the binary, on whole files: each case is a false
//! alarm (or a miss) seen on real repositories, rebuilt with values made at
//! run time: identifiers and known public values, YAML values cut short,
//! test dummies, command lines read as values.

mod common;

use common::*;
use serde_json::Value;

fn confidence_of(report: &Value, secret: &str) -> String {
    common::git::only_finding(report, secret)["confidence"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

#[test]
fn known_public_values_are_low_and_identifiers_are_not_reported() {
    let tree = Tree::new();
    // Published by Microsoft (Azurite) and Stripe (API reference): public values.
    let azurite = [
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",
        "/K1SZFPTOtr/KBHBeksoGMGw==",
    ]
    .concat();
    let stripe_docs = ["sk_test_", "4eC39HqLyjWDarjtT1zdp7dc"].concat();
    let stripe_own = format!("sk_test_{}", random_string(10, 24, BASE62));
    let sid = format!("AC{}", random_string(11, 32, HEX));
    tree.write(
        "src/config.py",
        format!(
            "STORAGE = \"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={azurite};\"\n\
             stripe.api_key = \"{stripe_docs}\"\n\
             STRIPE_KEY = \"{stripe_own}\"\n\
             TWILIO_ACCOUNT_SID = \"{sid}\"\n"
        ),
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        common::git::only_finding(&report, &azurite)["rule"],
        "azure-storage-emulator-key"
    );
    assert_eq!(confidence_of(&report, &azurite), "low");
    assert_eq!(
        common::git::only_finding(&report, &stripe_docs)["rule"],
        "stripe-documented-test-key"
    );
    assert_eq!(confidence_of(&report, &stripe_docs), "low");
    // Any other 24-character test key is a real key.
    assert_eq!(
        common::git::only_finding(&report, &stripe_own)["rule"],
        "stripe-test-key"
    );
    assert_eq!(confidence_of(&report, &stripe_own), "high");
    assert!(
        common::git::findings_of(&report, &sid).is_empty(),
        "{report:#}"
    );
}

#[test]
fn precision_fixes_hold_on_whole_files() {
    let tree = Tree::new();
    let token = format!("u{}", random_string(12, 43, BASE62));
    let basic_dummy = "dXNlcm5hbWU6dGVzdA=="; // base64 of `username:test`
    tree.write(
        "infra/redis.yml",
        format!("services:\n  http:\n    environment:\n      REDIS_HTTP_TOKEN: {token}\n"),
    );
    tree.write(
        "tests/test_auth.py",
        format!("headers = {{'Authorization': 'Basic {basic_dummy}'}}\n"),
    );
    tree.write(
        "src/session.js",
        "client.fetchAccessToken = fetchOAuth2AccessToken\n",
    );
    tree.write(
        "deploy/Dockerfile",
        "RUN AUTH_SECRET=unused yarn next build\n",
    );
    let (code, report) = scan_json(tree.path(), &["--min-confidence", "low"]);
    assert_eq!(code, 1, "{report:#}");
    // The whole unquoted YAML value, its first letter included.
    assert_eq!(
        common::git::only_finding(&report, &token)["rule"],
        "generic-secret"
    );
    // A Basic header of a test dummy is low.
    assert_eq!(confidence_of(&report, "username:test"), "low");
    assert_eq!(report["summary"]["findings"], 2, "{report:#}");
}

#[test]
fn a_quoted_value_longer_than_the_regex_window_is_still_reported() {
    // A long token (an encrypted JWT is often over 500 characters) under a
    // token name: the rule sees at most 512 bytes past the name, so the
    // value has no closing quote in view; it is reported, cut at the window.
    let tree = Tree::new();
    let long = format!("eyJ{}", random_string(13, 900, URLSAFE));
    tree.write(
        "src/client.py",
        format!("config = {{\"token\": \"{long}\"}}\n"),
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["rule"], "generic-secret");
    let secret = findings[0]["secret"].as_str().unwrap_or_default();
    assert!(secret.len() > 400 && long.starts_with(secret), "{secret}");
}
