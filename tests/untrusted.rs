//! Gating changes whose author is not trusted (a pull request from a fork):
//! `--no-inline-allow` reports keys on lines with a `secretgate:allow`
//! comment, and `--no-repo-config` drops the repository's own
//! `.secretgateignore` as well as its `.secretgate.toml`, so a change cannot
//! accept its own key.

mod common;

use common::git::{Repo, findings_of};
use common::*;
use serde_json::Value;

/// `history --range base..HEAD` as JSON in `repo`, with `extra` flags.
fn gate(repo: &Repo, base: &str, extra: &[&str]) -> (i32, Value) {
    let output = secretgate()
        .current_dir(repo.path())
        .args(["history", "--quiet", "--format", "json", "--range"])
        .arg(format!("{base}..HEAD"))
        .args(extra)
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    (output.status.code().unwrap_or(-1), json_report(&output))
}

#[test]
fn no_inline_allow_reports_a_key_its_change_marked_allowed() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    let base = repo.commit("base");
    let key = anthropic_key(1501);
    repo.write(
        "src/config.py",
        format!("KEY = '{key}'  # secretgate:allow (test value)\n"),
    );
    repo.commit("a change with its own allow comment");

    let (code, report) = gate(&repo, &base, &[]);
    assert_eq!(code, 0, "the comment accepts it by default: {report:#}");
    assert_eq!(report["summary"]["allowed_inline"], 1, "{report:#}");

    let (code, report) = gate(&repo, &base, &["--no-inline-allow"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(findings_of(&report, &key).len(), 1, "{report:#}");
    assert_eq!(report["summary"]["allowed_inline"], 0, "{report:#}");

    // The same for files and for the pre-commit gate's engine.
    let output = secretgate()
        .current_dir(repo.path())
        .args(["scan", ".", "--format", "json", "--no-inline-allow"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(findings_of(&json_report(&output), &key).len(), 1);
}

#[test]
fn no_repo_config_drops_the_repositorys_ignore_file_too() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    let base = repo.commit("base");
    let key = anthropic_key(1502);
    repo.write("src/config.py", format!("KEY = '{key}'\n"));
    repo.commit("add a key");
    let (code, report) = gate(&repo, &base, &[]);
    assert_eq!(code, 1);
    let fingerprint = findings_of(&report, &key)[0]["fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // The change accepts its own key in the repository's ignore file.
    repo.write(".secretgateignore", format!("{fingerprint} # trust me\n"));
    repo.commit("accept it");
    let (code, report) = gate(&repo, &base, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["suppressed"]["ignored"], 1);

    let (code, report) = gate(&repo, &base, &["--no-repo-config"]);
    assert_eq!(code, 1, "the repository's ignore file was read: {report:#}");
    assert_eq!(findings_of(&report, &key).len(), 1);
    assert_eq!(report["summary"]["suppressed"]["ignored"], 0);

    // An ignore file the user names is still read.
    let outside = Tree::new();
    let named = outside.write("accepted", format!("{fingerprint} # reviewed\n"));
    let named = named.to_string_lossy().into_owned();
    let (code, report) = gate(&repo, &base, &["--no-repo-config", "--ignore-file", &named]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["suppressed"]["ignored"], 1);
}

#[test]
fn help_says_what_the_untrusted_flags_drop() {
    let output = secretgate()
        .args(["history", "--help"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--no-inline-allow"), "{help}");
    let flag = help
        .split("--no-repo-config")
        .nth(1)
        .unwrap_or_default()
        .split("--")
        .next()
        .unwrap_or_default();
    assert!(flag.contains(".secretgateignore"), "{flag}");
}
