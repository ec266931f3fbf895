//! The rule set through the binary: every built-in example and negative
//! example, the minimum coverage, and clear errors for broken rule files.

mod common;

use common::*;

#[test]
fn every_builtin_example_and_negative_example_behaves() {
    let output = secretgate()
        .args(["rules", "check"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(
        output.status.success(),
        "rule examples failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn builtin_rule_set_is_broad() {
    let output = secretgate()
        .args(["rules", "--json"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(output.status.success());
    let rules: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{err}"));
    let rules = rules.as_array().cloned().unwrap_or_default();
    let secret_rules = rules.iter().filter(|r| r["kind"] == "secret").count();
    let file_rules = rules.iter().filter(|r| r["kind"] == "file").count();
    assert!(secret_rules >= 150, "only {secret_rules} secret rules");
    assert!(file_rules >= 10, "only {file_rules} file rules");
    for rule in &rules {
        for field in ["id", "name", "severity", "description", "remediation"] {
            assert!(
                rule[field].as_str().is_some_and(|v| !v.trim().is_empty()),
                "rule {} lacks {field}",
                rule["id"]
            );
        }
    }
}

#[test]
fn user_rules_are_added_to_builtin_ones() {
    let tree = Tree::new();
    let rules = tree.write("rules/acme.toml", ACME_RULE);
    tree.write("src/app.py", "ACME = 'acme_k3j4h5g6f7d8s9a0q1w2'\n");
    let (code, report) = scan_json(
        &tree.path().join("src"),
        &["--rules", rules.to_str().unwrap_or_default()],
    );
    assert_eq!(code, 1);
    assert_eq!(rule_ids(&report), ["acme-token"]);
    assert!(report["summary"]["rules_loaded"].as_u64().unwrap_or(0) > 150);
    let check = secretgate()
        .args(["rules", "check"])
        .arg(&rules)
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

fn load_error(rule_text: &str) -> String {
    let tree = Tree::new();
    let rules = tree.write("bad.toml", rule_text);
    let output = secretgate()
        .args(["scan", "--rules-only"])
        .arg(&rules)
        .arg(tree.path())
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(2), "bad rules must exit 2");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_regex_names_file_rule_and_reason() {
    let stderr = load_error(&ACME_RULE.replace(r"[a-z0-9]{20}", r"[a-z0-9{20}"));
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains("rule `acme-token`"), "{stderr}");
    assert!(stderr.contains("regex does not compile"), "{stderr}");
}

#[test]
fn duplicate_id_and_missing_field_and_unknown_key_are_reported() {
    let duplicate = format!("{ACME_RULE}\n{ACME_RULE}");
    assert!(load_error(&duplicate).contains("duplicate id"));
    let missing = ACME_RULE.replace("remediation = \"Revoke it in the Acme console.\"\n", "");
    let stderr = load_error(&missing);
    assert!(stderr.contains("missing field `remediation`"), "{stderr}");
    let unknown = ACME_RULE.replace(
        "severity = \"high\"",
        "severity = \"high\"\nconfidense = \"high\"",
    );
    let stderr = load_error(&unknown);
    assert!(stderr.contains("unknown field `confidense`"), "{stderr}");
    let stderr = load_error(&ACME_RULE.replace("\"high\"", "\"severe\""));
    assert!(stderr.contains("severity `severe`"), "{stderr}");
}

#[test]
fn failing_example_is_reported_by_rules_check() {
    let tree = Tree::new();
    let rules = tree.write(
        "acme.toml",
        ACME_RULE.replace(
            "negative_examples = [\"token = acme_short\"]",
            "negative_examples = [\"token = acme_q8w7e6r5t4y3u2i1o0p9\"]",
        ),
    );
    let output = secretgate()
        .args(["rules", "check"])
        .arg(&rules)
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("negative example matches"), "{stderr}");
}
