//! `--format jsonl` and `--format sarif` through the binary: SARIF validated
//! against the official OASIS 2.1.0 schema (`tests/fixtures/`), JSONL read
//! line by line and checked against the JSON report, fingerprints stable when
//! a secret moves, and `--redact` leaving no secret in any machine format.

mod common;

use std::path::Path;
use std::process::Output;

use common::git::*;
use common::*;
use serde_json::{Value, json};

/// The official schema, compiled once per test.
fn sarif_validator() -> jsonschema::Validator {
    let text = include_str!("fixtures/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(text).unwrap_or_else(|err| panic!("schema: {err}"));
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|err| panic!("schema does not compile: {err}"))
}

/// Every schema error of `log`, as text.
fn schema_errors(log: &Value) -> Vec<String> {
    sarif_validator()
        .iter_errors(log)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect()
}

fn assert_valid_sarif(log: &Value) {
    let errors = schema_errors(log);
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}\n{log:#}");
}

/// Runs secretgate in `dir` with `args`; returns (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output: Output = secretgate()
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("run: {err}"));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("not JSON ({err}):\n{text}"))
}

/// Every line of a JSONL report, each parsed on its own.
fn jsonl_lines(text: &str) -> Vec<Value> {
    assert!(text.ends_with('\n'), "JSONL must end with a newline");
    text.lines()
        .map(|line| {
            assert!(!line.trim().is_empty(), "empty line in JSONL:\n{text}");
            parse(line)
        })
        .collect()
}

/// The single run of a SARIF log.
fn sarif_run(log: &Value) -> &Value {
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap_or_else(|| panic!("no runs"));
    assert_eq!(runs.len(), 1);
    &runs[0]
}

fn results(log: &Value) -> Vec<Value> {
    sarif_run(log)["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The result whose snippet, message or properties mention nothing but whose
/// `secretgate/v1` fingerprint is `fingerprint`.
fn results_with_fingerprint(log: &Value, fingerprint: &str) -> Vec<Value> {
    results(log)
        .into_iter()
        .filter(|r| r["partialFingerprints"]["secretgate/v1"] == fingerprint)
        .collect()
}

/// Sorted copies of a report's findings, without the fields `drop` names.
fn sorted_findings(findings: &[Value], drop: &[&str]) -> Vec<Value> {
    let mut out: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if let Some(object) = f.as_object_mut() {
                for key in drop {
                    object.remove(*key);
                }
            }
            f
        })
        .collect();
    out.sort_by_key(|f| f.to_string());
    out
}

/// A repository whose history holds a secret at line 2 of `app.cfg`, then the
/// same secret pushed down four lines in a second commit, plus a clean file.
fn repo_with_moved_secret(key: &str) -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.write("app.cfg", format!("# config\nANTHROPIC_API_KEY={key}\n"));
    repo.commit("add config");
    repo.write(
        "app.cfg",
        format!("# config\n# one\n# two\n# three\n# four\nANTHROPIC_API_KEY={key}\n"),
    );
    repo.commit_at("document config", "2022-01-02T03:04:05+00:00");
    repo
}

#[test]
fn the_vendored_schema_rejects_an_invalid_log() {
    // The validator must be able to fail: a region starting at line 0 and a
    // result without a message are both outside SARIF 2.1.0.
    let broken = json!({
        "version": "2.1.0",
        "runs": [ { "tool": { "driver": { "name": "x" } }, "results": [
            { "ruleId": "r", "locations": [ { "physicalLocation": {
                "artifactLocation": { "uri": "a" }, "region": { "startLine": 0 } } } ] }
        ] } ]
    });
    let errors = schema_errors(&broken);
    assert!(errors.iter().any(|e| e.contains("message")), "{errors:#?}");
    assert!(
        errors.iter().any(|e| e.contains("startLine")),
        "{errors:#?}"
    );
}

#[test]
fn sarif_of_a_scan_is_valid_with_rules_help_and_utf16_columns() {
    let tree = Tree::new();
    let key = anthropic_key(601);
    // Non-ASCII before the secret: "é" is 2 bytes and 1 UTF-16 unit, "😀" 4
    // bytes and 2 units, so byte and UTF-16 columns differ by 1 + 2.
    tree.write("conf/app.cfg", format!("# réglages\nclé=é 😀 KEY={key}\n"));
    tree.write("conf/clean.cfg", "nothing here\n");
    let (code, json_text, stderr) = run(tree.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let report = parse(&json_text);
    let finding = only_finding(&report, &key);

    let (code, sarif_text, stderr) = run(tree.path(), &["scan", ".", "--format", "sarif"]);
    assert_eq!(code, 1, "{stderr}");
    let log = parse(&sarif_text);
    assert_valid_sarif(&log);
    let run0 = sarif_run(&log);
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "secretgate");
    assert_eq!(driver["version"], report["tool"]["version"]);
    assert_eq!(run0["columnKind"], "utf16CodeUnits");
    assert_eq!(run0["invocations"][0]["executionSuccessful"], true);

    let found = results_with_fingerprint(&log, finding["fingerprint"].as_str().unwrap_or("?"));
    assert_eq!(found.len(), 1, "{log:#}");
    let result = &found[0];
    assert_eq!(result["ruleId"], "anthropic-api-key");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["partialFingerprints"]["primaryLocationLineHash"],
        finding["fingerprint"]
    );
    let rule = &driver["rules"][result["ruleIndex"].as_u64().unwrap_or(999) as usize];
    assert_eq!(rule["id"], "anthropic-api-key");
    assert_eq!(rule["name"], "AnthropicApiKey");
    assert_eq!(rule["shortDescription"]["text"], "Anthropic API key");
    assert!(
        rule["fullDescription"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert_eq!(rule["properties"]["security-severity"], "8.0");
    assert!(
        rule["properties"]["tags"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("security")))
    );
    // The remediation reaches the alert's help, in text and markdown.
    let remediation = finding["remediation"].as_str().unwrap_or("?");
    assert!(!remediation.is_empty());
    for field in ["text", "markdown"] {
        assert!(
            rule["help"][field]
                .as_str()
                .is_some_and(|h| h.contains(remediation)),
            "help.{field} lacks the remediation: {rule:#}"
        );
    }

    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "conf/app.cfg");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    let region = &location["region"];
    assert_eq!(region["startLine"], 2);
    assert_eq!(region["endLine"], 2);
    let prefix = "clé=é 😀 KEY=";
    let byte_column = prefix.len() + 1;
    let utf16_column = prefix.encode_utf16().count() + 1;
    assert_eq!(finding["column"], byte_column, "JSON columns count bytes");
    assert_eq!(region["startColumn"], utf16_column);
    assert_eq!(
        region["endColumn"],
        utf16_column + key.encode_utf16().count()
    );
    // Not redacted: the snippet is the region's text, the secret.
    assert_eq!(region["snippet"]["text"], key.as_str());
    // The message hints at the secret but never holds it.
    let message = result["message"]["text"].as_str().unwrap_or("");
    assert!(
        message.starts_with("Anthropic API key: sk-ant-api03"),
        "{message}"
    );
    assert!(!message.contains(&key), "{message}");
    // Only rules that produced a result are listed, each once.
    let rule_ids: Vec<&Value> = driver["rules"]
        .as_array()
        .map(|r| r.iter().map(|r| &r["id"]).collect())
        .unwrap_or_default();
    let mut unique = rule_ids.clone();
    unique.dedup();
    assert_eq!(rule_ids.len(), unique.len());
    assert_eq!(rule_ids.len(), 1, "{rule_ids:?}");
}

#[test]
fn sarif_of_history_is_valid_and_carries_provenance() -> TestResult {
    let key = anthropic_key(602);
    let repo = repo_with_moved_secret(&key);
    let first = repo.git(&["rev-list", "--max-parents=0", "HEAD"]);
    let first_blob = repo.git(&["rev-parse", &format!("{first}:app.cfg")]);
    let (code, text, stderr) = run(repo.path(), &["history", "--quiet", "--format", "sarif"]);
    assert_eq!(code, 1, "{stderr}");
    let log = parse(&text);
    assert_valid_sarif(&log);
    let result = results(&log)
        .into_iter()
        .find(|r| r["properties"]["commit"] == first.as_str())
        .unwrap_or_else(|| panic!("no result for {first}: {log:#}"));
    let properties = &result["properties"];
    assert_eq!(properties["author"], NAME);
    assert_eq!(properties["email"], EMAIL);
    assert_eq!(properties["date"], DATE);
    assert_eq!(properties["blob"], first_blob.as_str());
    assert_eq!(properties["summary"], "add config");
    let message = result["message"]["text"].as_str().unwrap_or("");
    for part in [first.as_str(), NAME, DATE] {
        assert!(message.contains(part), "{message} lacks {part}");
    }
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"],
        json!({ "uri": "app.cfg", "uriBaseId": "%SRCROOT%" })
    );
    Ok(())
}

#[test]
fn sarif_of_staged_changes_is_valid() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("first");
    let key = anthropic_key(603);
    repo.write("deploy/app.cfg", env_line(&key));
    repo.git(&["add", "-A"]);
    let (code, text, stderr) = run(repo.path(), &["staged", "--format", "sarif"]);
    assert_eq!(code, 1, "{stderr}");
    let log = parse(&text);
    assert_valid_sarif(&log);
    let found = results(&log);
    assert_eq!(found.len(), 1, "{log:#}");
    assert_eq!(
        found[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/app.cfg"
    );

    // A clean commit is a valid log with no results.
    repo.git(&["reset", "-q"]);
    let (code, text, stderr) = run(repo.path(), &["staged", "--format", "sarif"]);
    assert_eq!(code, 0, "{stderr}");
    let log = parse(&text);
    assert_valid_sarif(&log);
    assert!(results(&log).is_empty());
}

#[test]
fn sarif_says_execution_failed_when_input_was_unreadable() -> TestResult {
    let repo = Repo::new();
    repo.write("a.txt", "nothing to see\n");
    repo.write("b.txt", "still nothing\n");
    repo.commit("base");
    let blob = repo.git(&["rev-parse", "HEAD:b.txt"]);
    let file = repo
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut permissions = std::fs::metadata(&file)?.permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&file, permissions)?;
    std::fs::write(&file, b"this is not zlib data at all")?;

    let (code, text, stderr) = run(repo.path(), &["history", "--quiet", "--format", "sarif"]);
    assert_eq!(code, 2, "{stderr}");
    let log = parse(&text);
    assert_valid_sarif(&log);
    let invocation = &sarif_run(&log)["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notifications = invocation["toolExecutionNotifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(notifications.len(), 1, "{invocation:#}");
    assert_eq!(notifications[0]["level"], "error");
    assert_eq!(notifications[0]["descriptor"]["id"], "corrupt_object");
    assert_eq!(
        notifications[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "b.txt"
    );
    Ok(())
}

#[test]
fn jsonl_scan_is_one_object_a_line_findings_then_summary_agreeing_with_json() {
    let tree = Tree::new();
    for (i, name) in ["a/one.cfg", "b/two.cfg", "c/three.cfg"].iter().enumerate() {
        tree.write(name, env_line(&anthropic_key(610 + i as u64)));
    }
    tree.write("clean.txt", "nothing\n");
    let (code, json_text, _) = run(tree.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(code, 1);
    let report = parse(&json_text);
    let (code, text, stderr) = run(tree.path(), &["scan", ".", "--format", "jsonl"]);
    assert_eq!(code, 1, "{stderr}");
    let lines = jsonl_lines(&text);

    let (last, rest) = lines.split_last().unwrap_or_else(|| panic!("no lines"));
    assert_eq!(last["type"], "summary");
    assert!(rest.iter().all(|l| l["type"] == "finding"), "{text}");
    assert_eq!(last["summary"]["findings"], rest.len());
    assert_eq!(last["summary"]["findings"], report["summary"]["findings"]);
    assert_eq!(last["version"], report["version"]);
    assert_eq!(last["tool"], report["tool"]);
    assert_eq!(
        last["summary"]["files_scanned"],
        report["summary"]["files_scanned"]
    );
    // The finding lines are the JSON report's findings, plus `type`.
    let json_findings = report["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        sorted_findings(rest, &["type"]),
        sorted_findings(&json_findings, &[])
    );
}

#[test]
fn jsonl_history_has_provenance_on_each_line_and_occurrences_at_the_end() -> TestResult {
    let key = anthropic_key(620);
    let repo = repo_with_moved_secret(&key);
    repo.write(
        "copy/app.cfg",
        format!("# config\nANTHROPIC_API_KEY={key}\n"),
    );
    repo.commit("copy the first version");
    let (code, json_text, _) = run(repo.path(), &["history", "--quiet", "--format", "json"]);
    assert_eq!(code, 1);
    let report = parse(&json_text);
    let (code, text, stderr) = run(repo.path(), &["history", "--quiet", "--format", "jsonl"]);
    assert_eq!(code, 1, "{stderr}");
    let lines = jsonl_lines(&text);

    let types: Vec<&str> = lines.iter().filter_map(|l| l["type"].as_str()).collect();
    assert_eq!(types.len(), lines.len(), "every line has a type");
    let first_other = types
        .iter()
        .position(|t| *t != "finding")
        .unwrap_or(types.len());
    assert!(
        types[first_other..].iter().all(|t| *t != "finding"),
        "{types:?}"
    );
    assert_eq!(types.last(), Some(&"summary"));
    let findings: Vec<Value> = lines
        .iter()
        .filter(|l| l["type"] == "finding")
        .cloned()
        .collect();
    assert_eq!(report["summary"]["findings"], findings.len());
    assert_eq!(lines[lines.len() - 1]["summary"]["commits"], 3);

    // Streamed lines carry author, date, subject and blob already; only
    // `occurrences` comes later, in lines of its own.
    let json_findings = report["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        sorted_findings(&findings, &["type"]),
        sorted_findings(&json_findings, &["occurrences"])
    );
    let occurrences: Vec<Value> = lines
        .iter()
        .filter(|l| l["type"] == "occurrences")
        .cloned()
        .collect();
    for finding in &json_findings {
        let line = occurrences
            .iter()
            .find(|o| o["blob"] == finding["blob"])
            .unwrap_or_else(|| panic!("no occurrences line for {finding:#}"));
        assert_eq!(line["commits"], finding["occurrences"]["commits"]);
        assert_eq!(line["paths"], finding["occurrences"]["paths"]);
    }
    // The first version's blob is in two paths.
    assert!(
        occurrences
            .iter()
            .any(|o| o["paths"] == json!(["app.cfg", "copy/app.cfg"])),
        "{occurrences:#?}"
    );
    Ok(())
}

#[test]
fn jsonl_applies_ignore_file_and_baseline_before_writing() {
    let tree = Tree::new();
    let kept = anthropic_key(630);
    let ignored = anthropic_key(631);
    tree.write("kept.cfg", env_line(&kept));
    tree.write("ignored.cfg", env_line(&ignored));
    let (_, json_text, _) = run(tree.path(), &["scan", ".", "--format", "json"]);
    let report = parse(&json_text);
    let fingerprint = only_finding(&report, &ignored)["fingerprint"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    tree.write(".secretgateignore", format!("{fingerprint}  # accepted\n"));

    let (code, text, stderr) = run(tree.path(), &["scan", ".", "--format", "jsonl"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        !text.contains(&ignored),
        "an ignored finding was streamed:\n{text}"
    );
    let lines = jsonl_lines(&text);
    let findings: Vec<&Value> = lines.iter().filter(|l| l["type"] == "finding").collect();
    assert_eq!(findings.len(), 1, "{text}");
    assert_eq!(findings[0]["secret"], kept.as_str());
    let summary = &lines[lines.len() - 1]["summary"];
    assert_eq!(summary["findings"], 1);
    assert_eq!(summary["suppressed"]["ignored"], 1);

    // A baseline holding both: nothing is streamed, only the summary line.
    let elsewhere = Tree::new();
    let baseline = elsewhere.write("baseline.json", &json_text);
    let baseline = baseline.to_string_lossy().into_owned();
    let (code, text, stderr) = run(
        tree.path(),
        &["scan", ".", "--format", "jsonl", "--baseline", &baseline],
    );
    assert_eq!(code, 0, "{stderr}");
    let lines = jsonl_lines(&text);
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["type"], "summary");
    assert_eq!(lines[0]["summary"]["suppressed"]["baseline"], 1);
}

#[test]
fn fingerprints_stay_when_the_secret_moves_down() -> TestResult {
    let key = anthropic_key(640);
    let repo = repo_with_moved_secret(&key);
    let (_, json_text, _) = run(repo.path(), &["history", "--quiet", "--format", "json"]);
    let report = parse(&json_text);
    let found = findings_of(&report, &key);
    assert_eq!(found.len(), 2, "one per blob: {report:#}");
    let lines: Vec<&Value> = found.iter().map(|f| &f["line"]).collect();
    assert_eq!(lines, [&json!(2), &json!(6)]);
    assert_eq!(found[0]["fingerprint"], found[1]["fingerprint"]);
    let fingerprint = found[0]["fingerprint"].as_str().unwrap_or("?");

    let (_, sarif_text, _) = run(repo.path(), &["history", "--quiet", "--format", "sarif"]);
    let log = parse(&sarif_text);
    let moved = results_with_fingerprint(&log, fingerprint);
    assert_eq!(moved.len(), 2, "{log:#}");
    let start_lines: Vec<&Value> = moved
        .iter()
        .map(|r| &r["locations"][0]["physicalLocation"]["region"]["startLine"])
        .collect();
    assert_eq!(start_lines, [&json!(2), &json!(6)]);
    assert_eq!(
        moved[0]["partialFingerprints"],
        moved[1]["partialFingerprints"]
    );

    // The same in a directory scan: two versions of a file, same identity.
    let before = Tree::new();
    before.write("app.cfg", format!("ANTHROPIC_API_KEY={key}\n"));
    let after = Tree::new();
    after.write(
        "app.cfg",
        format!("\n\n\n# moved\nANTHROPIC_API_KEY={key}\n"),
    );
    let partial = |dir: &Path| {
        let (_, text, _) = run(dir, &["scan", ".", "--format", "sarif"]);
        let log = parse(&text);
        let all = results(&log);
        assert_eq!(all.len(), 1, "{log:#}");
        (
            all[0]["partialFingerprints"].clone(),
            all[0]["locations"][0]["physicalLocation"]["region"]["startLine"].clone(),
        )
    };
    let (a, line_a) = partial(before.path());
    let (b, line_b) = partial(after.path());
    assert_ne!(line_a, line_b);
    assert_eq!(a, b);
    Ok(())
}

#[test]
fn redact_leaves_no_secret_in_any_machine_format() -> TestResult {
    let file_key = anthropic_key(650);
    let message_key = anthropic_key(651);
    let repo = Repo::new();
    repo.write(
        "app.cfg",
        format!("# config\nANTHROPIC_API_KEY={file_key}\n"),
    );
    // The commit subject holds the file's key (so the subject of the file's
    // finding must be redacted too), the body another one.
    repo.commit(&format!("add {file_key}\n\nalso {message_key}"));
    for command in [&["history", "--quiet"][..], &["scan", "."][..]] {
        for format in ["json", "jsonl", "sarif", "human"] {
            let mut args = command.to_vec();
            args.extend(["--format", format, "--redact"]);
            let (code, text, stderr) = run(repo.path(), &args);
            assert_eq!(code, 1, "{args:?}: {stderr}");
            assert!(
                text.contains("sk-ant-api03"),
                "{args:?} shows no hint:\n{text}"
            );
            for key in [&file_key, &message_key] {
                assert!(
                    !text.contains(key.as_str()),
                    "{args:?} leaks a secret:\n{text}"
                );
            }
            if format == "sarif" {
                assert_valid_sarif(&parse(&text));
            }
        }
    }
    // Without --redact the machine formats do carry the secret: the check
    // above can fail.
    let (_, text, _) = run(repo.path(), &["history", "--quiet", "--format", "sarif"]);
    assert!(text.contains(&file_key));
    Ok(())
}

#[test]
fn remediation_shows_in_human_json_and_sarif() {
    let tree = Tree::new();
    tree.write("app.cfg", env_line(&anthropic_key(660)));
    let (_, json_text, _) = run(tree.path(), &["scan", ".", "--format", "json"]);
    let report = parse(&json_text);
    let remediation = report["findings"][0]["remediation"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(remediation.contains("console.anthropic.com"), "{report:#}");
    let (_, human, _) = run(tree.path(), &["scan", "."]);
    let first_line = remediation.lines().next().unwrap_or("?");
    assert!(human.contains(&format!("rotate  {first_line}")), "{human}");
    let (_, sarif_text, _) = run(tree.path(), &["scan", ".", "--format", "sarif"]);
    let log = parse(&sarif_text);
    let help = &sarif_run(&log)["tool"]["driver"]["rules"][0]["help"];
    assert!(
        help["markdown"]
            .as_str()
            .is_some_and(|m| m.contains(&remediation))
    );
}
