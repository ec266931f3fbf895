//! Accepted findings: `.secretgateignore` and `--baseline`, matched by the
//! position-independent fingerprint, so edits around a secret never revive it.

mod common;

use common::git::*;
use common::*;
use serde_json::Value;

fn fingerprint_of(report: &Value, secret: &str) -> String {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["secret"] == secret)
        .and_then(|f| f["fingerprint"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no finding of that secret: {report}"))
}

#[test]
fn ignore_file_accepts_a_fingerprint_and_reports_unused_entries() {
    let tree = Tree::new();
    let key = anthropic_key(300);
    tree.write("tests/fixture.py", format!("KEY = '{key}'\n"));
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1);
    let fingerprint = fingerprint_of(&report, &key);

    tree.write(
        ".secretgateignore",
        format!(
            "# accepted findings\n{fingerprint} tests/fixture.py # fake key for tests\n{} # stale\n",
            "0".repeat(32)
        ),
    );
    // Lines move: the fingerprint does not.
    tree.write(
        "tests/fixture.py",
        format!("import os\n\n\nKEY = '{key}'\n"),
    );
    let (code, report) = scan_json(tree.path(), &["--report-unused-ignores"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["suppressed"]["ignored"], 1);
    let unused = &report["summary"]["suppressed"]["unused_ignores"];
    assert_eq!(unused.as_array().map(Vec::len), Some(1), "{unused}");
    assert_eq!(unused[0]["location"], ".secretgateignore:3");

    // The path scopes the entry: the same secret elsewhere still fails.
    tree.write("src/app.py", format!("KEY = '{key}'\n"));
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(report["findings"][0]["path"], "src/app.py");
}

#[test]
fn bad_ignore_file_is_an_error_naming_file_and_line() {
    let tree = Tree::new();
    tree.write(".secretgateignore", "# ok\nnot-a-fingerprint\n");
    let output = secretgate()
        .current_dir(tree.path())
        .args(["scan", "."])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(".secretgateignore:2:"), "{stderr}");
}

#[test]
fn baseline_fails_only_on_new_findings() {
    let tree = Tree::new();
    let old = anthropic_key(301);
    tree.write("a.txt", format!("ANTHROPIC_API_KEY={old}\n"));
    let out_dir = Tree::new();
    let baseline = out_dir.path().join("baseline.json");
    let status = secretgate()
        .current_dir(tree.path())
        .args(["scan", ".", "--format", "json", "-o"])
        .arg(&baseline)
        .output()
        .unwrap_or_else(|err| panic!("{err}"))
        .status;
    assert_eq!(status.code(), Some(1));

    let baseline_arg = baseline.to_str().unwrap_or_default();
    let (code, report) = scan_json(tree.path(), &["--baseline", baseline_arg]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["suppressed"]["baseline"], 1);

    let new = anthropic_key(302);
    tree.write("b.txt", format!("ANTHROPIC_API_KEY={new}\n"));
    let (code, report) = scan_json(tree.path(), &["--baseline", baseline_arg]);
    assert_eq!(code, 1);
    let found: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == "secret")
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["secret"], new.as_str());
}

#[test]
fn ignore_file_at_the_repository_root_applies_to_staged_and_history() {
    let repo = Repo::new();
    let key = anthropic_key(303);
    repo.write("fixture.txt", format!("{key}\n"));
    repo.git(&["add", "-A"]);
    let output = secretgate()
        .current_dir(repo.path())
        .args(["staged", "--format", "json"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(1));
    let fingerprint = fingerprint_of(&json_report(&output), &key);
    repo.write(
        ".secretgateignore",
        format!("{fingerprint} # test fixture\n"),
    );
    repo.git(&["add", "-A"]);
    let output = secretgate()
        .current_dir(repo.path())
        .args(["staged"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    repo.commit("fixture, accepted");
    let output = secretgate()
        .current_dir(repo.path())
        .args(["history", "--quiet", "--format", "json"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
