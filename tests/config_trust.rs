//! What a repository's own `.secretgate.toml` may read (regular files inside
//! the repository, bounded), what errors about it may quote (a redacted
//! excerpt), and that everything it changes about detection is listed in
//! every format.

mod common;

use std::path::Path;
use std::process::Output;

use common::git::{Repo, env_line};
use common::*;
use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs secretgate in `dir` with a 1 GiB address-space limit, so a run that
/// reads without bound fails fast instead of exhausting the machine.
fn run_bounded(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let binary = assert_cmd::cargo::cargo_bin("secretgate");
    std::process::Command::new("sh")
        .current_dir(dir)
        .env_remove("CI")
        .envs(env.iter().copied())
        .args(["-c", "ulimit -v 1048576; exec \"$@\"", "sh"])
        .arg(binary)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("run: {err}"))
}

/// A line a credentials file might hold, with a value that must never be
/// printed.
fn credentials(seed: u64) -> (String, String) {
    let secret = random_string(seed, 40, BASE62);
    (
        format!("[default]\naws_secret_access_key = {secret}\n"),
        secret,
    )
}

/// More than a quarter of `secret` appears in `text`.
fn leaks(text: &str, secret: &str) -> bool {
    let window = secret.len() / 4 + 1;
    (0..=secret.len() - window).any(|i| text.contains(&secret[i..i + window]))
}

#[cfg(unix)]
#[test]
fn a_repository_config_reads_no_file_outside_the_repository() -> TestResult {
    let outside = Tree::new();
    let (content, secret) = credentials(700);
    let creds = outside.write("creds", &content);
    let repo = Repo::new();
    repo.write("app.txt", "hello\n");
    std::fs::create_dir_all(repo.path().join("rules"))?;
    std::os::unix::fs::symlink(&creds, repo.path().join("rules/link.toml"))?;
    let dir_name = outside
        .path()
        .file_name()
        .ok_or("no name")?
        .to_string_lossy()
        .into_owned();
    let ways_out = [
        creds.display().to_string(),
        format!("../{dir_name}/creds"),
        "rules/link.toml".to_string(),
    ];
    for extra in &ways_out {
        repo.write(
            ".secretgate.toml",
            format!("[rules]\nextra = [\"{extra}\"]\n"),
        );
        repo.commit("config");
        for args in [
            &["scan", "."][..],
            &["history"][..],
            &["staged"][..],
            &["scan", ".", "--redact"][..],
        ] {
            let output = run_bounded(repo.path(), args, &[("CI", "true")]);
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{extra} {args:?}: {stderr}");
            assert!(
                stderr.contains("outside the repository"),
                "{extra} {args:?}: {stderr}"
            );
            assert!(!leaks(&stderr, &secret), "{extra} {args:?}: {stderr}");
            assert!(!leaks(&text(&output.stdout), &secret));
        }
    }
    // The config itself, a committed link to a file outside: refused too.
    std::fs::remove_file(repo.path().join(".secretgate.toml"))?;
    std::os::unix::fs::symlink(&creds, repo.path().join(".secretgate.toml"))?;
    let output = run_bounded(repo.path(), &["scan", "."], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("outside the repository"), "{stderr}");
    assert!(!leaks(&stderr, &secret), "{stderr}");
    Ok(())
}

#[cfg(target_os = "linux")]
#[test]
fn a_repository_config_cannot_make_secretgate_read_a_device_or_a_huge_file() -> TestResult {
    let repo = Repo::new();
    repo.write("app.txt", "hello\n");
    std::fs::create_dir_all(repo.path().join("rules"))?;
    std::os::unix::fs::symlink("/dev/zero", repo.path().join("rules/zero.toml"))?;
    repo.write("rules/huge.toml", "#".repeat(5 * 1024 * 1024));
    for (extra, says) in [
        ("/dev/zero", "outside the repository"),
        ("rules/zero.toml", "outside the repository"),
        ("rules/huge.toml", "larger than 4194304 bytes"),
    ] {
        repo.write(
            ".secretgate.toml",
            format!("[rules]\nextra = [\"{extra}\"]\n"),
        );
        let output = run_bounded(repo.path(), &["scan", "app.txt"], &[]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra}: {stderr}");
        assert!(stderr.contains(says), "{extra}: {stderr}");
    }
    Ok(())
}

#[test]
fn a_config_named_on_the_command_line_may_point_anywhere_but_is_bounded() -> TestResult {
    let elsewhere = Tree::new();
    let rule = elsewhere.write("acme.toml", ACME_RULE);
    let config = elsewhere.write(
        "config.toml",
        format!("[rules]\nextra = [\"{}\"]\n", rule.display()),
    );
    let repo = Tree::new();
    repo.write("src/app.py", "ACME = 'acme_k3j4h5g6f7d8s9a0q1w2'\n");
    let config_text = config.display().to_string();
    let (code, report) = scan_json(repo.path(), &["--config", &config_text]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(rule_ids(&report), ["acme-token"]);

    #[cfg(target_os = "linux")]
    {
        elsewhere.write("zero.toml", "[rules]\nextra = [\"/dev/zero\"]\n");
        let zero = elsewhere.path().join("zero.toml").display().to_string();
        let output = run_bounded(repo.path(), &["scan", ".", "--config", &zero], &[]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("larger than 4194304 bytes"), "{stderr}");
    }
    Ok(())
}

#[test]
fn errors_about_a_repository_config_quote_only_a_redacted_excerpt() -> TestResult {
    let (content, secret) = credentials(701);
    let tree = Tree::new();
    tree.write("rules/creds.toml", &content);
    tree.write(
        "rules/values.toml",
        format!("public_values = \"{secret}\"\n"),
    );
    let configs = [
        "[rules]\nextra = [\"rules/creds.toml\"]\n".to_string(),
        "[rules]\nextra = [\"rules/values.toml\"]\n".to_string(),
        format!("[rules]\nentropy = {{ generic-secret = \"{secret}\" }}\n"),
        content.replace("[default]", "[rules]"),
    ];
    for config in &configs {
        tree.write(".secretgate.toml", config);
        for env in [None, Some("true")] {
            let mut cmd = secretgate();
            cmd.current_dir(tree.path()).args(["scan", "."]);
            if let Some(ci) = env {
                cmd.env("CI", ci);
            }
            let output = cmd.output()?;
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{config}: {stderr}");
            assert!(!leaks(&stderr, &secret), "{config}: {stderr}");
            // Still says where.
            assert!(
                stderr.contains("line 2") || stderr.contains("values.toml"),
                "{stderr}"
            );
        }
    }
    Ok(())
}

/// The config part of a report's summary, from JSON, JSONL or SARIF output.
fn config_of(format: &str, stdout: &str) -> (Value, Value) {
    let summary = match format {
        "json" => serde_json::from_str::<Value>(stdout).map(|r| r["summary"].clone()),
        "jsonl" => serde_json::from_str::<Value>(stdout.lines().last().unwrap_or_default())
            .map(|l| l["summary"].clone()),
        _ => serde_json::from_str::<Value>(stdout)
            .map(|r| r["runs"][0]["properties"]["summary"].clone()),
    }
    .unwrap_or_else(|err| panic!("{format}: {err}:\n{stdout}"));
    (summary["config"].clone(), summary["suppressed"].clone())
}

#[test]
fn everything_a_config_changes_is_listed_in_every_format() -> TestResult {
    let repo = Repo::new();
    let floored = anthropic_key(710);
    let public = anthropic_key(711);
    repo.write("a.txt", env_line(&floored));
    repo.write("b.txt", env_line(&public));
    repo.write("security/acme.toml", ACME_RULE);
    repo.write(
        "security/public.toml",
        format!("public_values = [\"{public}\"]\n"),
    );
    repo.write("fixtures/token.py", "T = 'acme_q1w2e3r4t5y6u7i8o9p0'\n");
    repo.write("old.py", "T = 'acme_z9x8c7v6b5n4m3l2k1j0'\n");
    repo.write("new.py", "T = 'acme_a1s2d3f4g5h6j7k8l9z0'\n");
    repo.write(".env", "DEBUG=1\n");
    let config = "[rules]\n\
        extra = [\"security/acme.toml\", \"security/public.toml\"]\n\
        disable = [\"dotenv-file\"]\n\
        entropy = { anthropic-api-key = 7.9, generic-shell-default-secret = 1.0 }\n\
        [allow]\n\
        paths = [\"security/**\", \"fixtures/**\"]\n\
        baseline = \"security/baseline.json\"\n";
    repo.write(".secretgate.toml", config);
    // The baseline accepts old.py's token.
    let output = secretgate()
        .current_dir(repo.path())
        .args(["scan", "old.py", "--format", "json", "--no-repo-config"])
        .args(["--rules", "security/acme.toml"])
        .output()?;
    let old = json_report(&output);
    assert_eq!(rule_ids(&old), ["acme-token"]);
    let fingerprint = &old["findings"][0]["fingerprint"];
    repo.write(
        "security/baseline.json",
        serde_json::json!({ "findings": [{ "fingerprint": fingerprint }] }).to_string(),
    );
    repo.commit("everything");

    let expect_config = |config: &Value, redacted: bool| {
        assert_eq!(config["file"], ".secretgate.toml", "{config:#}");
        assert_eq!(config["disabled_rules"], serde_json::json!(["dotenv-file"]));
        assert_eq!(
            config["allowed_paths"],
            serde_json::json!(["security/**", "fixtures/**"])
        );
        assert_eq!(
            config["extra_rules"],
            serde_json::json!(["security/acme.toml", "security/public.toml"])
        );
        assert_eq!(
            config["entropy"],
            serde_json::json!([
                { "rule": "anthropic-api-key", "floor": 7.9, "rule_floor": null, "weakens": true },
                { "rule": "generic-shell-default-secret", "floor": 1.0, "rule_floor": 1.5, "weakens": false },
            ])
        );
        let values = config["public_values"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(values.len(), 1, "{config:#}");
        let shown = values[0].as_str().unwrap_or_default();
        if redacted {
            assert!(!leaks(shown, &public), "{shown}");
            let head = shown.split('…').next().unwrap_or_default();
            assert!(!head.is_empty() && public.starts_with(head), "{shown}");
        } else {
            assert_eq!(shown, public);
        }
        assert_eq!(config["baseline"], "security/baseline.json");
        assert_eq!(config["weakens_detection"], true);
    };
    let expect_suppressed = |suppressed: &Value| {
        assert_eq!(suppressed["entropy_floor"], 1, "{suppressed}");
        assert_eq!(suppressed["public_values"], 1, "{suppressed}");
        // acme.toml's own example and fixtures/token.py.
        assert_eq!(suppressed["allowed_paths"], 2, "{suppressed}");
        assert_eq!(suppressed["baseline"], 1, "{suppressed}");
    };
    for command in [&["scan", "."][..], &["history"][..]] {
        for format in ["json", "jsonl", "sarif"] {
            for redact in ["--no-redact", "--redact"] {
                let output = secretgate()
                    .current_dir(repo.path())
                    .args(command)
                    .args(["--format", format, redact])
                    .output()?;
                let stdout = text(&output.stdout);
                assert_eq!(
                    output.status.code(),
                    Some(1),
                    "{stdout}{}",
                    text(&output.stderr)
                );
                let (config, suppressed) = config_of(format, &stdout);
                expect_config(&config, redact == "--redact");
                expect_suppressed(&suppressed);
            }
        }
    }

    // Human output of scan, history and staged lists it all too.
    repo.write("staged.py", "T = 'acme_p0o9i8u7y6t5r4e3w2q1'\n");
    repo.git(&["add", "staged.py"]);
    for command in [&["scan", "."][..], &["history"][..], &["staged"][..]] {
        let output = secretgate()
            .current_dir(repo.path())
            .args(command)
            .output()?;
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {stdout}");
        for expected in [
            "config .secretgate.toml: changes detection (some of it weakens detection):",
            "rules disabled: dotenv-file: weakens detection",
            "entropy floor: anthropic-api-key = 7.9 bits/byte (the rule file's: none): raised: weakens detection",
            "entropy floor: generic-shell-default-secret = 1 bits/byte (the rule file's: 1.5): not raised",
            "extra rule files: security/acme.toml, security/public.toml",
            "public values added by extra rule files: sk-ant-api03…",
            "paths allowed: security/**, fixtures/**: weakens detection",
            "baseline: security/baseline.json: weakens detection",
        ] {
            assert!(
                stdout.contains(expected),
                "{command:?}: no {expected:?} in:\n{stdout}"
            );
        }
        assert!(!leaks(&stdout, &public), "{stdout}");
        if command != ["staged"] {
            assert!(
                stdout.contains("raised entropy floors: 1 secret(s) not reported"),
                "{stdout}"
            );
        }
    }
    Ok(())
}
