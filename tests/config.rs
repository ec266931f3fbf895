//! `.secretgate.toml`: extra rules, disabled rules, allowed paths and entropy
//! floors; errors that name the file and key; and never silent about what it
//! turned off.

mod common;

use common::*;

#[test]
fn config_adds_rules_disables_rules_and_allows_paths_and_says_so() {
    let tree = Tree::new();
    tree.write("security/acme.toml", ACME_RULE);
    tree.write("src/app.py", "ACME = 'acme_k3j4h5g6f7d8s9a0q1w2'\n");
    tree.write(
        "tests/fixtures/keys.py",
        format!("KEY = '{}'\n", anthropic_key(600)),
    );
    tree.write(
        ".secretgate.toml",
        "[rules]\nextra = [\"security\"]\ndisable = [\"dotenv-file\"]\n\n[allow]\npaths = [\"tests/fixtures/**\"]\n",
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1, "{report}");
    let in_app: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["path"] == "src/app.py")
        .collect();
    assert_eq!(in_app.len(), 1, "{report}");
    assert_eq!(in_app[0]["rule"], "acme-token");
    // The fixture key sits in an allowed path; the rule file's own example is
    // found where it is, in security/acme.toml.
    assert!(!rule_ids(&report).contains(&"anthropic-api-key".to_string()));
    assert_eq!(report["summary"]["suppressed"]["allowed_paths"], 1);
    assert_eq!(report["summary"]["config"]["file"], ".secretgate.toml");
    assert_eq!(
        report["summary"]["config"]["disabled_rules"][0],
        "dotenv-file"
    );
    assert_eq!(
        report["summary"]["config"]["allowed_paths"][0],
        "tests/fixtures/**"
    );

    // --no-repo-config: the repository cannot turn anything off.
    let (code, report) = scan_json(tree.path(), &["--no-repo-config"]);
    assert_eq!(code, 1);
    let ids = rule_ids(&report);
    assert!(ids.contains(&"anthropic-api-key".to_string()), "{ids:?}");
    assert!(!ids.contains(&"acme-token".to_string()), "{ids:?}");
    assert_eq!(report["summary"]["config"]["file"], serde_json::Value::Null);
}

#[test]
fn entropy_floor_from_config_applies_to_the_rule() {
    let tree = Tree::new();
    tree.write("security/acme.toml", ACME_RULE);
    tree.write("src/app.py", "ACME = 'acme_k3j4h5g6f7d8s9a0q1w2'\n");
    tree.write(
        ".secretgate.toml",
        "[rules]\nextra = [\"security/acme.toml\"]\nentropy = { acme-token = 7.5 }\n",
    );
    let (_, report) = scan_json(tree.path(), &[]);
    let acme_in_app = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["path"] == "src/app.py" && f["rule"] == "acme-token");
    assert!(!acme_in_app, "the entropy floor was not applied: {report}");
    // Without the floor the same token is found.
    std::fs::write(
        tree.path().join(".secretgate.toml"),
        "[rules]\nextra = [\"security/acme.toml\"]\n",
    )
    .unwrap_or_else(|err| panic!("{err}"));
    let (_, report) = scan_json(tree.path(), &[]);
    let acme_in_app = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["path"] == "src/app.py" && f["rule"] == "acme-token");
    assert!(acme_in_app, "{report}");
}

fn config_error(config: &str) -> String {
    let tree = Tree::new();
    tree.write(".secretgate.toml", config);
    let output = secretgate()
        .current_dir(tree.path())
        .args(["scan", "."])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(2));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn config_errors_name_file_key_and_reason() {
    let stderr = config_error("[rules]\ndisable = [\"no-such-rule\"]\n");
    assert!(stderr.contains(".secretgate.toml"), "{stderr}");
    assert!(stderr.contains("rules.disable"), "{stderr}");
    assert!(stderr.contains("no-such-rule"), "{stderr}");

    let stderr = config_error("[rules]\ndisabel = [\"x\"]\n");
    assert!(stderr.contains("unknown field `disabel`"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");

    let stderr = config_error("[allow]\npaths = [\"[\"]\n");
    assert!(stderr.contains("allow.paths"), "{stderr}");
}
