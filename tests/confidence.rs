//! Confidence and context through the binary: every finding carries
//! `confidence`; weak values and generic matches in test, example, docs and
//! container files are low and do not fail the gates (`scan`, `staged`,
//! `history`) unless `--min-confidence low` (or `[gate] min_confidence`) asks;
//! a provider-format key stays high wherever it is; lock files never yield
//! generic findings. Every planted value is built at run time.

mod common;

use std::process::Output;

use common::git::*;
use common::*;
use serde_json::Value;

/// A random-looking value for a key-named (generic) rule: 32 base62 characters.
fn generic_value(seed: u64) -> String {
    random_string(seed, 32, BASE62)
}

/// The finding of `secret` in `report`, and its confidence.
fn confidence_of(report: &Value, secret: &str) -> String {
    only_finding(report, secret)["confidence"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

fn run(cmd: &mut assert_cmd::Command) -> (i32, Output) {
    let output = cmd.output().unwrap_or_else(|err| panic!("run: {err}"));
    (output.status.code().unwrap_or(-1), output)
}

#[test]
fn generic_values_are_medium_in_code_and_low_in_tests_while_formats_stay_high() {
    let tree = Tree::new();
    let app = generic_value(1);
    let fixture = generic_value(2);
    let key = anthropic_key(3);
    tree.write("src/settings.py", format!("API_TOKEN = \"{app}\"\n"));
    tree.write(
        "tests/test_client.py",
        format!("API_TOKEN = \"{fixture}\"\nANTHROPIC_API_KEY = \"{key}\"\n"),
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(confidence_of(&report, &app), "medium");
    let low = only_finding(&report, &fixture);
    assert_eq!(low["confidence"], "low");
    assert_eq!(low["context"], "test");
    // A real-format key is real, even in a test file.
    assert_eq!(confidence_of(&report, &key), "high");
    let summary = &report["summary"];
    assert_eq!(summary["findings"], 3);
    assert_eq!(summary["blocking"], 2);
    assert_eq!(summary["min_confidence"], "medium");
    assert_eq!(summary["by_confidence"]["high"], 1);
    assert_eq!(summary["by_confidence"]["medium"], 1);
    assert_eq!(summary["by_confidence"]["low"], 1);
}

#[test]
fn low_findings_are_listed_but_do_not_fail_unless_the_threshold_is_low() {
    let tree = Tree::new();
    let fixture = generic_value(4);
    tree.write(
        "packages/web/__tests__/auth.test.ts",
        format!("const clientSecret = \"{fixture}\";\n"),
    );
    tree.write(".env.example", "NEXTAUTH_SECRET=changeme\n");
    tree.write(
        "docker-compose.yml",
        "    environment:\n      POSTGRES_PASSWORD: postgres\n",
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 0, "low findings must not fail: {report:#}");
    assert_eq!(confidence_of(&report, &fixture), "low");
    assert_eq!(confidence_of(&report, "changeme"), "low");
    assert_eq!(only_finding(&report, "changeme")["context"], "example");
    assert_eq!(confidence_of(&report, "postgres"), "low");
    assert_eq!(only_finding(&report, "postgres")["context"], "container");
    assert_eq!(report["summary"]["blocking"], 0);

    let (code, report) = scan_json(tree.path(), &["--min-confidence", "low"]);
    assert_eq!(code, 1, "--min-confidence low fails on low: {report:#}");
    assert_eq!(report["summary"]["blocking"], 3);
    assert_eq!(report["summary"]["min_confidence"], "low");

    // Human output lists them, marked, and says the run passed the gate.
    let (code, output) = run(secretgate().current_dir(tree.path()).args(["scan", "."]));
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("3 findings below --min-confidence medium (listed, not failing"),
        "{text}"
    );
    assert!(text.contains("[low confidence, in a test file]"), "{text}");
    assert!(
        text.contains("0 findings (+3 below --min-confidence medium)"),
        "{text}"
    );
}

#[test]
fn min_confidence_high_lets_medium_findings_pass_and_the_config_can_set_it() {
    let tree = Tree::new();
    let value = generic_value(5);
    tree.write("src/app.js", format!("const apiKey = \"{value}\";\n"));
    let (code, report) = scan_json(tree.path(), &["--min-confidence", "high"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(confidence_of(&report, &value), "medium");

    tree.write(".secretgate.toml", "[gate]\nmin_confidence = \"high\"\n");
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 0, "the config's threshold applies: {report:#}");
    assert_eq!(report["summary"]["min_confidence"], "high");
    assert_eq!(report["summary"]["config"]["min_confidence"], "high");
    // The flag wins over the config.
    let (code, _) = scan_json(tree.path(), &["--min-confidence", "medium"]);
    assert_eq!(code, 1);

    tree.write(".secretgate.toml", "[gate]\nmin_confidence = \"sure\"\n");
    let (code, output) = run(secretgate().current_dir(tree.path()).args(["scan", "."]));
    assert_eq!(code, 2, "an unknown level is an error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("expected one of `low`, `medium`, `high`"),
        "{stderr}"
    );
}

#[test]
fn first_users_weak_secrets_fail_the_gate_outside_tests_and_examples() {
    let tree = Tree::new();
    tree.write(
        ".env",
        "NEXTAUTH_SECRET=tars2026\nOWNER_PASSWORD=tars2026\n",
    );
    tree.write(
        "app/lib/auth.ts",
        "export const authOptions = { secret: process.env.NEXTAUTH_SECRET || 'dev-secret-change-in-production' };\nconst OWNER_PASSWORD = \"tars2026\";\n",
    );
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let weak: Vec<&Value> = findings.iter().filter(|f| f["kind"] == "secret").collect();
    assert!(weak.len() >= 4, "{report:#}");
    for finding in &weak {
        assert!(
            finding["confidence"] == "medium" || finding["confidence"] == "high",
            "a first users' weak secret must fail the gate: {finding:#}"
        );
    }
    assert!(!findings_of(&report, "dev-secret-change-in-production").is_empty());
    // The same values in a test file and an example env file are low.
    let tests = Tree::new();
    tests.write(
        "tests/auth.test.ts",
        "const OWNER_PASSWORD = \"tars2026\";\n",
    );
    tests.write(
        ".env.example",
        "NEXTAUTH_SECRET=dev-secret-change-in-production\n",
    );
    let (code, report) = scan_json(tests.path(), &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["by_confidence"]["low"], 2, "{report:#}");
}

#[test]
fn lock_files_never_yield_generic_findings_but_keep_provider_keys() {
    let tree = Tree::new();
    let value = generic_value(6);
    let key = anthropic_key(7);
    let lock = format!(
        "packages:\n  parse-passwd: 1.0.0\n  integrity: sha512-abc\n  api_key: {value}\n  token: {key}\n"
    );
    tree.write("pnpm-lock.yaml", &lock);
    tree.write("sub/yarn.lock", &lock);
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(findings_of(&report, &value).is_empty(), "{report:#}");
    assert_eq!(findings_of(&report, &key).len(), 2, "{report:#}");
    // The same lines anywhere else are reported.
    tree.write("config.yaml", &lock);
    let (_, report) = scan_json(tree.path(), &[]);
    assert_eq!(findings_of(&report, &value).len(), 1, "{report:#}");
}

#[test]
fn staged_lists_low_findings_without_blocking_the_commit() {
    let repo = Repo::new();
    repo.write("README.md", "app\n");
    repo.commit("init");
    repo.write(
        "tests/fixtures/db.py",
        "DATABASE = {\"password\": \"Pa55w0rd\"}\n",
    );
    repo.git(&["add", "-A"]);
    let (code, output) = run(secretgate().current_dir(repo.path()).arg("staged"));
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 0, "a weak fixture password must not block:\n{text}");
    assert!(text.contains("below --min-confidence medium"), "{text}");
    assert!(!text.contains("commit blocked"), "{text}");

    let (code, output) =
        run(secretgate()
            .current_dir(repo.path())
            .args(["staged", "--min-confidence", "low"]));
    assert_eq!(code, 1, "{}", String::from_utf8_lossy(&output.stdout));

    repo.write("app/.env", "NEXTAUTH_SECRET=tars2026\n");
    repo.git(&["add", "-A"]);
    let (code, output) = run(secretgate().current_dir(repo.path()).arg("staged"));
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("the staged changes add 2 secret finding(s)"),
        "the .env file and its secret block, the fixture does not:\n{text}"
    );
}

#[test]
fn history_jsonl_and_sarif_carry_confidence_and_low_results_are_notes() {
    let repo = Repo::new();
    let value = generic_value(8);
    repo.write("src/app.py", format!("SECRET_KEY = \"{value}\"\n"));
    repo.write("test/test_db.py", "db_password = \"s3cret-pw\"\n");
    repo.commit("app and tests");

    let (code, output) = run(secretgate()
        .current_dir(repo.path())
        .args(["history", ".", "--quiet", "--format", "jsonl"]));
    assert_eq!(code, 1);
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|err| panic!("{err}: {l}")))
        .collect();
    let confidence = |secret: &str| {
        lines
            .iter()
            .find(|l| l["type"] == "finding" && l["secret"] == secret)
            .map(|l| l["confidence"].clone())
    };
    assert_eq!(confidence(&value), Some(Value::from("medium")));
    assert_eq!(confidence("s3cret-pw"), Some(Value::from("low")));
    let summary = lines.last().cloned().unwrap_or_default();
    assert_eq!(summary["summary"]["blocking"], 1, "{summary:#}");

    let (code, output) = run(secretgate()
        .current_dir(repo.path())
        .args(["history", ".", "--quiet", "--format", "sarif"]));
    assert_eq!(code, 1);
    let log = json_report(&output);
    let results = log["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let by_confidence = |level: &str| {
        results
            .iter()
            .find(|r| r["properties"]["confidence"] == level)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_confidence("low")["level"], "note", "{log:#}");
    assert_eq!(by_confidence("low")["properties"]["context"], "test");
    // At or above the threshold the level follows the severity (generic-secret: medium).
    assert_eq!(by_confidence("medium")["level"], "warning", "{log:#}");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        rules
            .iter()
            .all(|r| r["properties"]["precision"] == "medium"),
        "generic rules are medium precision: {rules:#?}"
    );
}

#[test]
fn history_cleanup_covers_only_what_fails_the_gate() {
    let repo = Repo::new();
    let value = generic_value(9);
    repo.write("src/app.py", format!("SECRET_KEY = \"{value}\"\n"));
    repo.write("tests/test_db.py", "db_password = \"s3cret-pw\"\n");
    repo.commit("app and tests");
    let out = Tree::new();
    let replacements = out.path().join("replacements.txt");
    let (code, _) = run(secretgate().current_dir(repo.path()).args([
        "history",
        ".",
        "--quiet",
        "--format",
        "json",
        "--emit-replacements",
        replacements.to_str().unwrap_or_default(),
    ]));
    assert_eq!(code, 1);
    let text = std::fs::read_to_string(&replacements).unwrap_or_default();
    assert!(text.contains(&value), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
}

#[test]
fn context_is_read_inside_the_project_not_from_the_directories_above_it() {
    // A project checked out under a directory whose name reads as a test
    // directory (CI workspaces: /builds/test-project, /tmp/tests/...).
    let outer = Tree::new();
    let project = outer.path().join("tests").join("test-project");
    let app = generic_value(14);
    let fixture = generic_value(15);
    outer.write(
        "tests/test-project/src/app.py",
        format!("API_TOKEN = \"{app}\"\n"),
    );
    outer.write(
        "tests/test-project/spec/fixtures.py",
        format!("API_TOKEN = \"{fixture}\"\n"),
    );
    let (code, output) = run(secretgate()
        .arg("scan")
        .arg(&project)
        .args(["--format", "json"]));
    let report = json_report(&output);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(confidence_of(&report, &app), "medium");
    assert_eq!(confidence_of(&report, &fixture), "low");

    // Inside a repository, a scan started in a subdirectory still knows
    // where that directory is.
    let repo = Repo::new();
    repo.write("spec/helpers.py", format!("API_TOKEN = \"{fixture}\"\n"));
    repo.write("src/app.py", format!("API_TOKEN = \"{app}\"\n"));
    let (_, output) = run(secretgate().current_dir(repo.path().join("spec")).args([
        "scan",
        ".",
        "../src/app.py",
        "--format",
        "json",
    ]));
    let report = json_report(&output);
    assert_eq!(confidence_of(&report, &fixture), "low", "{report:#}");
    assert_eq!(confidence_of(&report, &app), "medium", "{report:#}");
}

#[test]
fn examples_in_documentation_comments_are_low_but_commented_out_code_is_not() {
    let tree = Tree::new();
    let commented = generic_value(16);
    tree.write(
        "src/index.ts",
        format!(
            "/**\n * ## Setup\n *\n * ```\n * AUTH_SECRET=your_auth_secret\n * ```\n *\n * const client = new Client({{ secret: \"secret\" }})\n */\nexport function setup() {{}}\n// const API_TOKEN = \"{commented}\";\n"
        ),
    );
    let example = generic_value(17);
    tree.write("proxy-example.py", format!("API_TOKEN = \"{example}\"\n"));
    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(confidence_of(&report, "your_auth_secret"), "low");
    assert_eq!(only_finding(&report, "your_auth_secret")["context"], "docs");
    assert_eq!(confidence_of(&report, "secret"), "low");
    // Commented-out code is where real secrets hide: it stays medium.
    assert_eq!(confidence_of(&report, &commented), "medium");
    // An example script named with a dash (`proxy-example.py`) is an example.
    assert_eq!(confidence_of(&report, &example), "low");
}
