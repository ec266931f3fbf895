//! Our own output must not leak: report files are new 0600 files that never
//! follow a planted symlink and never appear truncated; redaction hides every
//! secret in every field of every format, within the README's bound; human
//! output escapes control characters from the repository.

mod common;

use std::path::Path;
use std::process::Output;

use common::git::{Repo, env_line, only_finding};
use common::*;

fn run(dir: &Path, args: &[&str]) -> Output {
    secretgate()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("run: {err}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A repository with one committed key.
fn repo_with_key(seed: u64) -> (Repo, String) {
    let repo = Repo::new();
    let key = anthropic_key(seed);
    repo.write("app.env", env_line(&key));
    repo.commit("add key");
    (repo, key)
}

#[cfg(unix)]
#[test]
fn report_files_are_new_0600_files_and_never_follow_a_symlink() -> TestResult {
    use std::os::unix::fs::PermissionsExt as _;
    let (repo, _key) = repo_with_key(900);
    let out = Tree::new();
    let victim = out.write("victim.txt", "someone else's file\n");
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644))?;
    let cases: [(&str, &[&str]); 5] = [
        ("scan.json", &["scan", ".", "--format", "json", "-o"]),
        ("scan.jsonl", &["scan", ".", "--format", "jsonl", "-o"]),
        ("history.sarif", &["history", "--format", "sarif", "-o"]),
        ("replacements.txt", &["history", "--emit-replacements"]),
        ("paths.txt", &["history", "--emit-paths"]),
    ];
    for (name, args) in cases {
        // A planted link: the report must replace it, not land in its target.
        let link = out.path().join(name);
        std::os::unix::fs::symlink(&victim, &link)?;
        let mut full: Vec<&str> = args.to_vec();
        let link_text = link.display().to_string();
        full.push(&link_text);
        let output = run(repo.path(), &full);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{name}: {}",
            text(&output.stderr)
        );
        let meta = std::fs::symlink_metadata(&link)?;
        assert!(meta.file_type().is_file(), "{name} is still a link");
        assert_eq!(mode(&link), 0o600, "{name}");
        assert_eq!(
            std::fs::read_to_string(&victim)?,
            "someone else's file\n",
            "{name} was written through the link"
        );
        assert_eq!(mode(&victim), 0o644);
        // An existing world-readable file: replaced by a 0600 one.
        std::fs::write(&link, "old report\n")?;
        std::fs::set_permissions(&link, std::fs::Permissions::from_mode(0o644))?;
        let output = run(repo.path(), &full);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{name}: {}",
            text(&output.stderr)
        );
        assert_eq!(mode(&link), 0o600, "{name} kept the old file's mode");
        assert_ne!(std::fs::read_to_string(&link)?, "old report\n");
    }
    // Nothing else was left in the directory (no temporary files).
    assert_eq!(
        names(out.path()),
        [
            "history.sarif",
            "paths.txt",
            "replacements.txt",
            "scan.json",
            "scan.jsonl",
            "victim.txt"
        ]
    );
    Ok(())
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_names_the_file_and_leaves_no_truncated_report() -> TestResult {
    let (repo, _key) = repo_with_key(901);
    // A device that is always full: the error names it.
    let output = run(
        repo.path(),
        &["scan", ".", "--format", "json", "-o", "/dev/full"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/dev/full"), "{stderr}");
    assert!(stderr.contains("No space left"), "{stderr}");
    // Standard output on a full device: named too.
    let binary = assert_cmd::cargo::cargo_bin("secretgate");
    let output = std::process::Command::new(&binary)
        .current_dir(repo.path())
        .env_remove("CI")
        .args(["scan", "."])
        .stdout(std::fs::File::create("/dev/full")?)
        .output()?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("standard output"), "{stderr}");

    // A regular file whose write fails part-way (a file size limit of 512
    // bytes, the signal ignored so the write returns EFBIG as a full disk
    // returns ENOSPC): the earlier report stays whole, nothing else is left.
    let out = Tree::new();
    let report = out.write("report.json", "the previous report\n");
    for format in ["json", "jsonl", "human"] {
        let output = std::process::Command::new("sh")
            .current_dir(repo.path())
            .env_remove("CI")
            // No `trap '' XFSZ`: a user's shell leaves SIGXFSZ at its default
            // (kill), so secretgate must ignore it itself to fail cleanly.
            .args(["-c", "ulimit -f 1; exec \"$@\"", "sh"])
            .arg(&binary)
            .args(["scan", ".", "--format", format, "-o"])
            .arg(&report)
            .output()?;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{format}: {stderr}");
        assert!(
            stderr.contains(&report.display().to_string()),
            "{format}: {stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&report)?,
            "the previous report\n",
            "{format}: the report was truncated"
        );
        assert_eq!(names(out.path()), ["report.json"], "{format}");
    }
    Ok(())
}

/// Every piece of `secret` longer than a quarter of it that appears in `text`.
fn leaked_piece(text: &str, secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    let window = chars.len() / 4 + 1;
    chars
        .windows(window)
        .map(|w| w.iter().collect::<String>())
        .find(|piece| text.contains(piece.as_str()))
}

#[test]
fn the_redaction_bound_holds_for_every_length() -> TestResult {
    let tree = Tree::new();
    let mut secrets = Vec::new();
    let mut content = String::new();
    for n in 6..=120 {
        let secret = random_string(1000 + n as u64, n, BASE62);
        content.push_str(&format!("password = \"{secret}\"\n"));
        secrets.push(secret);
    }
    tree.write("app.py", &content);

    // Each finding's secret field: a prefix, `…`, a suffix; together at most
    // a quarter of the secret, at most 12 leading and 4 trailing characters;
    // and the match shows nothing more.
    let output = run(tree.path(), &["scan", ".", "--redact", "--format", "json"]);
    let report = json_report(&output);
    let findings = report["findings"].as_array().ok_or("no findings")?;
    assert!(
        findings.len() >= 100,
        "only {} secrets reported",
        findings.len()
    );
    for finding in findings {
        let line = finding["line"].as_u64().ok_or("no line")? as usize;
        let secret = &secrets[line - 1];
        let n = secret.chars().count();
        let shown = finding["secret"].as_str().ok_or("no secret")?;
        let (head, tail) = shown.split_once('…').ok_or("no ellipsis")?;
        assert!(
            secret.starts_with(head) && secret.ends_with(tail),
            "{shown} of {secret}"
        );
        assert!(
            head.chars().count() + tail.chars().count() <= n / 4,
            "{n} characters: {shown} shows more than a quarter"
        );
        assert!(
            head.chars().count() <= 12 && tail.chars().count() <= 4,
            "{shown}"
        );
        assert_eq!(finding["match"], format!("password = \"{shown}\""));
    }
    // Every format: no piece of a secret longer than a quarter of it (for
    // secrets long enough that such a piece cannot appear by chance).
    for format in ["json", "jsonl", "sarif", "human"] {
        let output = run(tree.path(), &["scan", ".", "--redact", "--format", format]);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        for secret in secrets.iter().filter(|s| s.len() >= 28) {
            if let Some(piece) = leaked_piece(&stdout, secret) {
                panic!(
                    "{format}: {} characters of a {}-character secret shown: {piece}",
                    piece.chars().count(),
                    secret.len()
                );
            }
        }
    }
    Ok(())
}

#[test]
fn redaction_hides_secrets_in_every_field_and_format() -> TestResult {
    use base64::Engine as _;
    let repo = Repo::new();
    // A key in its own file's name.
    let in_name = anthropic_key(910);
    repo.write(&format!("keys/{in_name}.txt"), env_line(&in_name));
    // A key stored base64-encoded in a Kubernetes Secret.
    let encoded_key = anthropic_key(911);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&encoded_key);
    repo.write(
        "k8s/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\ndata:\n  ANTHROPIC_API_KEY: {encoded}\n"),
    );
    repo.commit("add keys");
    // A key as the author's name and in the commit message.
    let as_author = anthropic_key(912);
    repo.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        &format!("rotate ANTHROPIC_API_KEY={as_author}"),
        "--author",
        &format!("{as_author} <dev@example.com>"),
    ]);
    // A key as a tag's name and in its message.
    let as_tag = anthropic_key(913);
    repo.git(&[
        "tag",
        "-a",
        &as_tag,
        "-m",
        &format!("ANTHROPIC_API_KEY={as_tag}"),
    ]);
    let hidden = [&in_name, &encoded_key, &as_author, &as_tag];

    // Unredacted, each is there: the fields under test exist.
    let output = run(repo.path(), &["history", "--format", "json", "--no-redact"]);
    let report = json_report(&output);
    assert!(
        only_finding(&report, &in_name)["path"]
            .as_str()
            .is_some_and(|p| p.contains(&in_name))
    );
    assert_eq!(
        only_finding(&report, &encoded_key)["match"],
        encoded.as_str()
    );
    assert!(text(&output.stdout).contains(&format!("\"author\": \"{as_author}\"")));
    assert!(text(&output.stdout).contains(&format!("\"tag\": \"{as_tag}\"")));

    for format in ["json", "jsonl", "sarif", "human"] {
        for (env, flag) in [(Some("true"), None), (None, Some("--redact"))] {
            let mut cmd = secretgate();
            cmd.current_dir(repo.path())
                .args(["history", "--format", format]);
            if let Some(ci) = env {
                cmd.env("CI", ci);
            }
            if let Some(flag) = flag {
                cmd.arg(flag);
            }
            let output = cmd.output()?;
            assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
            let stdout = text(&output.stdout);
            for secret in hidden {
                if let Some(piece) = leaked_piece(&stdout, secret) {
                    panic!("{format} {env:?} {flag:?}: shows {piece} of {secret}:\n{stdout}");
                }
            }
            assert!(
                !stdout.contains(&encoded[..40]),
                "{format}: the base64 form shows"
            );
        }
    }
    Ok(())
}

/// A repository with a key on a branch named after it, and a secret file
/// under a directory whose name holds ESC and a line break; its unredacted
/// audit report, written outside it.
fn verify_fixture(key: &str) -> (Repo, Tree, String) {
    let repo = Repo::new();
    let dir = "evil\u{1b}[2J\nverified: nothing left";
    repo.write("README.md", "hello\n");
    repo.commit("first");
    repo.git(&["checkout", "-q", "-b", key]);
    repo.write("app.txt", env_line(key));
    repo.write(&format!("{dir}/.env"), "DEBUG=1\n");
    repo.commit("add key");
    repo.git(&["checkout", "-q", "main"]);
    let out = Tree::new();
    let before = out.path().join("before.json").display().to_string();
    let output = run(
        repo.path(),
        &["history", "--format", "json", "--no-redact", "-o", &before],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    (repo, out, before)
}

#[test]
fn verify_redacts_ref_names_and_paths() -> TestResult {
    let key = anthropic_key(920);
    let (repo, _out, before) = verify_fixture(&key);
    // Unredacted JSON names the branch: the field under test exists.
    let output = run(
        repo.path(),
        &[
            "verify",
            "--report",
            &before,
            "--format",
            "json",
            "--no-redact",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains(&format!("refs/heads/{key}")));
    for args in [
        vec!["verify", "--report", &before],
        vec![
            "verify", "--report", &before, "--format", "json", "--redact",
        ],
    ] {
        let output = run(repo.path(), &args);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        if let Some(piece) = leaked_piece(&stdout, &key) {
            panic!("{args:?} shows {piece}:\n{stdout}");
        }
    }
    Ok(())
}

#[test]
fn verify_escapes_control_characters_in_human_output() -> TestResult {
    let key = anthropic_key(921);
    let (repo, _out, before) = verify_fixture(&key);
    let output = run(repo.path(), &["verify", "--report", &before]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    // No raw ESC, no forged line; the name is shown escaped, as history shows it.
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with("verified: nothing left")),
        "{stdout}"
    );
    assert!(
        stdout.contains("evil\\u{1b}[2J\\nverified: nothing left/.env"),
        "{stdout}"
    );
    let history = run(repo.path(), &["history"]);
    assert!(
        text(&history.stdout).contains("evil\\u{1b}[2J\\nverified: nothing left/.env"),
        "{}",
        text(&history.stdout)
    );
    Ok(())
}
