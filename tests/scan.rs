//! `secretgate scan` through the binary: what is read, what is skipped and
//! counted, exit codes, and the JSON report.

mod common;

use common::*;

#[test]
fn clean_tree_exits_zero_with_empty_findings() {
    let tree = Tree::new();
    tree.write("src/main.rs", "fn main() { println!(\"hello\"); }\n");
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["files_scanned"], 1);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(0));
}

#[test]
fn secret_in_hidden_env_file_is_found_with_position() {
    let tree = Tree::new();
    let key = anthropic_key(1);
    tree.write(".env.example", "ANTHROPIC_API_KEY=\n");
    tree.write(
        "app/config.env",
        format!("# config\nDEBUG=1\nANTHROPIC_API_KEY={key}\n"),
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1);
    let finding = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "anthropic-api-key"))
        .unwrap_or_else(|| panic!("no anthropic finding: {report}"));
    assert_eq!(finding["path"], "app/config.env");
    assert_eq!(finding["line"], 3);
    assert_eq!(finding["column"], 19);
    assert_eq!(finding["end_column"], 19 + key.len());
    assert_eq!(finding["secret"], key.as_str());
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["kind"], "secret");
    assert_eq!(finding["fingerprint"].as_str().map(str::len), Some(32));
}

#[test]
fn fingerprint_ignores_position() {
    let key = anthropic_key(2);
    let first = Tree::new();
    first.write("a.txt", format!("ANTHROPIC_API_KEY={key}\n"));
    let second = Tree::new();
    second.write("b.txt", format!("\n\n\n   x = '{key}'\n"));
    let (_, a) = scan_json(first.path(), &[]);
    let (_, b) = scan_json(second.path(), &[]);
    assert_eq!(
        a["findings"][0]["fingerprint"],
        b["findings"][0]["fingerprint"]
    );
    assert_ne!(a["findings"][0]["line"], b["findings"][0]["line"]);
}

#[test]
fn redact_hides_the_secret_in_json_and_human_output() {
    let tree = Tree::new();
    let key = anthropic_key(3);
    tree.write("k.txt", format!("key = \"{key}\"\n"));
    let json = secretgate()
        .args(["scan", "--format", "json", "--redact"])
        .arg(tree.path())
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    let text = String::from_utf8_lossy(&json.stdout);
    assert!(!text.contains(&key), "JSON leaked the key");
    assert!(text.contains("anthropic-api-key"));
    let human = secretgate()
        .arg("scan")
        .arg(tree.path())
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(!text.contains(&key), "human output leaked the key");
    assert!(text.contains("k.txt:1:8"), "{text}");
}

#[test]
fn ci_env_turns_redaction_on() {
    let tree = Tree::new();
    let key = anthropic_key(4);
    tree.write("k.txt", format!("{key}\n"));
    let output = secretgate()
        .env("CI", "true")
        .args(["scan", "--format", "json"])
        .arg(tree.path())
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    let report = json_report(&output);
    assert_eq!(report["summary"]["redacted"], true);
    assert!(!String::from_utf8_lossy(&output.stdout).contains(&key));
}

#[test]
fn gitignored_files_are_skipped_unless_no_ignore() {
    let tree = Tree::new();
    std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(tree.path())
        .status()
        .unwrap_or_else(|err| panic!("git init: {err}"));
    tree.write(".gitignore", "secret.txt\n");
    tree.write("secret.txt", format!("{}\n", anthropic_key(5)));
    let (code, _) = scan_json(tree.path(), &[]);
    assert_eq!(code, 0, "ignored file was scanned");
    let (code, report) = scan_json(tree.path(), &["--no-ignore"]);
    assert_eq!(code, 1);
    assert!(rule_ids(&report).contains(&"anthropic-api-key".to_string()));
}

#[test]
fn dot_git_directory_is_not_scanned() {
    let tree = Tree::new();
    tree.write(".git/config", format!("token = {}\n", anthropic_key(6)));
    let (code, report) = scan_json(tree.path(), &["--no-ignore"]);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn binary_and_oversized_files_are_skipped_and_counted() {
    let tree = Tree::new();
    let key = anthropic_key(7);
    let mut binary = b"\x00\x01\x02".to_vec();
    binary.extend_from_slice(key.as_bytes());
    tree.write("image.bin", binary);
    tree.write("big.txt", format!("{}\n{key}\n", "a".repeat(2000)));
    let (code, report) = scan_json(tree.path(), &["--max-file-size", "1000"]);
    assert_eq!(code, 0, "{report}");
    let skipped = &report["summary"]["skipped"];
    assert_eq!(skipped["total"], 2);
    assert_eq!(skipped["by_reason"]["binary"], 1);
    assert_eq!(skipped["by_reason"]["too_large"], 1);
    let (code, report) = scan_json(tree.path(), &["--max-file-size", "0"]);
    assert_eq!(code, 1, "{report}");
}

#[test]
fn missing_path_is_an_error_with_exit_two() {
    let tree = Tree::new();
    let missing = tree.path().join("nope");
    let output = secretgate()
        .arg("scan")
        .arg(&missing)
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no such file or directory"), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn unreadable_file_makes_a_clean_run_exit_two_and_is_listed() {
    use std::os::unix::fs::PermissionsExt;
    let tree = Tree::new();
    tree.write("ok.txt", "nothing here\n");
    let locked = tree.write("locked.txt", "PASSWORD=hidden\n");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000))
        .unwrap_or_else(|err| panic!("{err}"));
    std::fs::set_permissions(tree.path(), std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|err| panic!("{err}"));
    // Root reads anything: drop to an unprivileged user where we are root.
    let bin = assert_cmd::cargo::cargo_bin("secretgate");
    let running_as_root = std::fs::read(&locked).is_ok();
    let mut cmd = if running_as_root {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        cmd
    } else {
        std::process::Command::new(&bin)
    };
    let output = cmd
        .env_remove("CI")
        .args(["scan", "--format", "json"])
        .arg(tree.path())
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json_report(&output);
    assert_eq!(report["summary"]["skipped"]["by_reason"]["unreadable"], 1);
    assert_eq!(
        report["summary"]["skipped"]["items"][0]["path"]
            .as_str()
            .map(|p| p.ends_with("locked.txt")),
        Some(true)
    );
}

#[test]
fn stdin_is_scanned_with_dash() {
    let key = anthropic_key(8);
    let output = secretgate()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(format!("export ANTHROPIC_API_KEY={key}\n"))
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(1));
    let report = json_report(&output);
    assert_eq!(report["findings"][0]["path"], "<stdin>");
}

#[test]
fn utf16_crlf_long_lines_and_json_strings_are_read() {
    let tree = Tree::new();
    let key = anthropic_key(9);
    let mut utf16 = vec![0xff, 0xfe];
    for unit in format!("x=1\r\nANTHROPIC_API_KEY={key}\r\n").encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    tree.write("ps.txt", utf16);
    tree.write("crlf.env", format!("A=1\r\nANTHROPIC_API_KEY={key}\r\n"));
    tree.write(
        "bundle.min.js",
        format!(
            "{}var k=\"{key}\";{}",
            "a=1;".repeat(50_000),
            "b=2;".repeat(50_000)
        ),
    );
    tree.write(
        "nb.ipynb",
        format!("{{\"cells\":[{{\"outputs\":[{{\"text\":[\"key\\n\",\"{key}\\n\"]}}]}}]}}"),
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1);
    let mut paths: Vec<String> = report["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["rule"] == "anthropic-api-key")
                .filter_map(|f| f["path"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    assert_eq!(paths, ["bundle.min.js", "crlf.env", "nb.ipynb", "ps.txt"]);
    let secrets = report["findings"].as_array().into_iter().flatten();
    for finding in secrets.filter(|f| f["kind"] == "secret") {
        assert_eq!(finding["secret"], key.as_str(), "{finding}");
    }
}

#[test]
fn inline_allow_marker_suppresses_and_counts() {
    let tree = Tree::new();
    tree.write(
        "a.py",
        format!(
            "KEY = '{}'  # secretgate:allow test fixture\n",
            anthropic_key(10)
        ),
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["allowed_inline"], 1);
}

#[test]
fn output_file_is_private_and_stdout_stays_empty() {
    use std::os::unix::fs::PermissionsExt;
    let tree = Tree::new();
    tree.write("k.txt", format!("{}\n", anthropic_key(11)));
    let out_dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let out = out_dir.path().join("report.json");
    let output = secretgate()
        .args(["scan", "--format", "json", "--output"])
        .arg(&out)
        .arg(tree.path())
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let mode = std::fs::metadata(&out)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0);
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(report["summary"]["findings"], 1);
}

#[test]
fn kubernetes_secret_data_is_decoded_and_reported_at_the_encoded_value() {
    use base64::Engine as _;
    let tree = Tree::new();
    let key = anthropic_key(12);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
    tree.write(
        "k8s/secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  ANTHROPIC_API_KEY: {encoded}\n"
        ),
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1, "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "anthropic-api-key");
    assert_eq!(finding["secret"], key.as_str());
    assert_eq!(finding["encoding"], "base64");
    assert_eq!(finding["line"], 7);
    assert_eq!(finding["column"], 22);
}
