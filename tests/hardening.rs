//! Never fail silently, never be turned against the user: the hook fails
//! closed, the scanned repository's config runs nothing, hostile rules and
//! huge lines finish, no output format leaks a secret under `--redact`, and
//! `--threads` changes speed, not findings.

mod common;

use std::path::Path;

use common::git::*;
use common::*;
use serde_json::Value;

fn bin() -> String {
    assert_cmd::cargo::cargo_bin("secretgate")
        .to_str()
        .unwrap_or_default()
        .to_string()
}

// ---------------------------------------------------------------- fail closed

/// A repository with one commit and the hook `secretgate install` writes.
fn installed_repo() -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("base");
    let output = secretgate()
        .current_dir(repo.path())
        .arg("install")
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(output.status.success(), "{output:?}");
    repo
}

/// `git commit` of a clean staged file with `env` applied; returns (committed?, stderr).
fn try_commit(repo: &Repo, env: &[(&str, &str)]) -> (bool, String) {
    repo.write("notes.txt", "nothing secret here\n");
    repo.git(&["add", "notes.txt"]);
    let mut cmd = git_command(repo.path(), DATE);
    cmd.env_remove("CI").env_remove("SECRETGATE");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let output = cmd
        .args(["commit", "-q", "-m", "change"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    let committed = output.status.success();
    (
        committed,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn installed_hook_lets_a_clean_commit_through_when_secretgate_works() {
    let repo = installed_repo();
    let (committed, stderr) = try_commit(&repo, &[("SECRETGATE", &bin())]);
    assert!(committed, "{stderr}");
}

#[test]
fn installed_hook_blocks_the_commit_when_the_config_is_broken() {
    let repo = installed_repo();
    repo.write(".secretgate.toml", "[rules]\ndisable = [\"no-such-rule\"\n");
    let (committed, stderr) = try_commit(&repo, &[("SECRETGATE", &bin())]);
    assert!(!committed, "a commit went through an erroring secretgate");
    assert!(stderr.contains(".secretgate.toml"), "{stderr}");
    assert!(stderr.contains("secretgate failed (exit 2)"), "{stderr}");
    assert!(stderr.contains("--no-verify"), "{stderr}");
}

#[test]
fn installed_hook_blocks_the_commit_when_secretgate_is_not_on_path() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("base");
    // Installed by a binary that is gone by commit time.
    let tools = Tree::new();
    let installer = binary_copy(tools.path(), "secretgate");
    let output = std::process::Command::new(&installer)
        .current_dir(repo.path())
        .arg("install")
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(output.status.success(), "{output:?}");
    drop(tools);
    // git and sh, but no secretgate.
    let git_dir = Path::new("/usr/local/bin:/usr/bin:/bin");
    let (committed, stderr) = try_commit(&repo, &[("PATH", git_dir.to_str().unwrap_or(""))]);
    assert!(!committed, "a commit went through unchecked");
    assert!(stderr.contains("'secretgate' was not found"), "{stderr}");
    assert!(stderr.contains(&*installer.to_string_lossy()), "{stderr}");
}

#[cfg(unix)]
#[test]
fn installed_hook_blocks_the_commit_when_secretgate_crashes() {
    use std::os::unix::fs::PermissionsExt as _;
    let repo = installed_repo();
    let tools = Tree::new();
    // What a panic looks like from outside: exit 101 and a message.
    let crashing = tools.write(
        "secretgate",
        "#!/bin/sh\necho 'thread main panicked' >&2\nexit 101\n",
    );
    std::fs::set_permissions(&crashing, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|err| panic!("{err}"));
    let (committed, stderr) = try_commit(&repo, &[("SECRETGATE", crashing.to_str().unwrap_or(""))]);
    assert!(!committed, "a commit went through a crashed secretgate");
    assert!(stderr.contains("secretgate failed (exit 101)"), "{stderr}");
}

#[test]
fn installed_pre_push_hook_blocks_the_push_when_secretgate_errors() {
    let remote = Tree::new();
    run_git(remote.path(), DATE, &["init", "-q", "--bare", "r.git"]);
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("base");
    let url = remote.path().join("r.git");
    repo.git(&["remote", "add", "origin", url.to_str().unwrap_or_default()]);
    let output = secretgate()
        .current_dir(repo.path())
        .args(["install", "--hook", "pre-push"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(output.status.success(), "{output:?}");
    repo.write(".secretgate.toml", "[allow]\npaths = [\"[unclosed\"]\n");
    let output = git_command(repo.path(), DATE)
        .env("SECRETGATE", bin())
        .env_remove("CI")
        .args(["push", "-q", "origin", "main"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "a push went through an erroring secretgate"
    );
    assert!(stderr.contains("secretgate failed (exit 2)"), "{stderr}");
    let pushed = git_command(remote.path(), DATE)
        .args([
            "--git-dir",
            "r.git",
            "rev-parse",
            "--verify",
            "-q",
            "refs/heads/main",
        ])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(!pushed.status.success(), "main reached the remote");
}

// ----------------------------------------------------------- untrusted input

/// A repository whose config and attributes try to make any git-like tool
/// run `trap`: fsmonitor, clean/smudge/process filters, textconv, hooks, a
/// pager, an editor, ssh.
#[cfg(unix)]
fn booby_trapped_repo(marker: &Path) -> (Repo, String) {
    use std::os::unix::fs::PermissionsExt as _;
    let repo = Repo::new();
    let key = anthropic_key(501);
    repo.write(".gitattributes", "* filter=trap diff=trap\n");
    repo.write("a.env", env_line(&key));
    repo.commit("base");
    repo.write("b.env", env_line(&anthropic_key(502)));
    repo.git(&["add", "b.env"]);
    // Armed only now, so setting the repository up did not fire it.
    let trap = repo.path().join("trap.sh");
    std::fs::write(
        &trap,
        format!("#!/bin/sh\ntouch '{}'\ncat\n", marker.display()),
    )
    .unwrap_or_else(|err| panic!("{err}"));
    std::fs::set_permissions(&trap, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|err| panic!("{err}"));
    let hooks = repo.path().join("trap-hooks");
    std::fs::create_dir_all(&hooks).unwrap_or_else(|err| panic!("{err}"));
    for hook in [
        "pre-commit",
        "post-checkout",
        "post-index-change",
        "reference-transaction",
    ] {
        std::fs::copy(&trap, hooks.join(hook)).unwrap_or_else(|err| panic!("{err}"));
    }
    let trap = trap.to_str().unwrap_or_default().to_string();
    for (key, value) in [
        ("core.fsmonitor", trap.as_str()),
        ("filter.trap.clean", trap.as_str()),
        ("filter.trap.smudge", trap.as_str()),
        ("filter.trap.process", trap.as_str()),
        ("filter.trap.required", "true"),
        ("diff.trap.textconv", trap.as_str()),
        ("core.hooksPath", "trap-hooks"),
        ("core.pager", trap.as_str()),
        ("core.editor", trap.as_str()),
        ("core.sshCommand", trap.as_str()),
    ] {
        repo.git(&["config", key, value]);
    }
    (repo, key)
}

#[cfg(unix)]
#[test]
fn scanning_runs_no_command_the_repository_config_names() {
    let markers = Tree::new();
    let marker = markers.path().join("fired");
    let (repo, key) = booby_trapped_repo(&marker);
    for args in [
        &["scan", "."][..],
        &["history", "."][..],
        &["history", ".", "--all-objects"][..],
        &["staged"][..],
    ] {
        let output = secretgate()
            .current_dir(repo.path())
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        assert!(
            !marker.exists(),
            "secretgate {args:?} ran a repository command"
        );
        if args[0] != "staged" {
            assert!(
                !findings_of(&json_report(&output), &key).is_empty(),
                "{args:?}"
            );
        }
    }
    // The trap is real: git itself springs it.
    let _ = git_command(repo.path(), DATE).args(["status"]).output();
    assert!(
        marker.exists(),
        "the trap never fires, so this test proves nothing"
    );
}

// ------------------------------------------------------------- hostile rules

#[test]
fn catastrophic_backtracking_pattern_finishes_and_is_correct_on_a_long_line() {
    let tree = Tree::new();
    tree.write(
        "rules/evil.toml",
        r#"
[[rule]]
id = "nested-quantifier"
name = "Nested quantifier"
severity = "low"
description = "A pattern that backtracking engines take exponential time on."
remediation = "None: a test rule."
keywords = ["key="]
regex = '''key=(?P<secret>(?:[ab]+)+);'''
placeholder_check = false
examples = ["key=abbababbab;"]
negative_examples = ["key=abbababbab"]
"#,
    );
    // Keywords every 204 bytes: the windows merge, so the regex runs over
    // the whole 200 KB line, which has no `;` to end a match.
    let long = format!("key={}", "ab".repeat(100)).repeat(1_000);
    tree.write("data/input.txt", format!("{long}\nkey=abbababbab;\n"));
    let output = secretgate()
        .current_dir(tree.path())
        .args(["scan", "data", "--rules-only", "rules", "--format", "json"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = json_report(&output);
    let found = only_finding(&report, "abbababbab");
    assert_eq!(found["line"], 2);
    assert_eq!(report["summary"]["findings"], 1);
}

#[test]
fn a_rule_over_the_regex_size_limit_is_an_error_naming_it() {
    let tree = Tree::new();
    tree.write(
        "rules/huge.toml",
        r#"
[[rule]]
id = "enormous-regex"
name = "Enormous regex"
severity = "low"
description = "Compiles to more than the size limit."
remediation = "None: a test rule."
keywords = ["key="]
regex = '''key=(?P<secret>(?:(?:[a-z0-9]{100}){100}){100})'''
examples = ["key=x"]
negative_examples = []
"#,
    );
    tree.write("a.txt", "nothing\n");
    let output = secretgate()
        .current_dir(tree.path())
        .args(["scan", "a.txt", "--rules", "rules/huge.toml"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("enormous-regex"), "{stderr}");
    assert!(stderr.contains("size limit"), "{stderr}");
    assert!(output.stdout.is_empty());
}

// ------------------------------------------------------------------ big input

#[test]
fn a_50_mb_line_with_many_secrets_is_scanned_in_full() {
    let tree = Tree::new();
    let keys: Vec<String> = (0..40).map(|i| anthropic_key(520 + i)).collect();
    let filler = "x".repeat(1_250_000);
    let mut line = String::with_capacity(51 << 20);
    for key in &keys {
        line.push_str(&filler);
        line.push_str(" ANTHROPIC_API_KEY=");
        line.push_str(key);
        line.push(' ');
    }
    // A short line carrying the inline-allow marker makes the engine look
    // for it around every match of the long line too.
    let allowed = anthropic_key(519);
    let text = format!("{line}\nK={allowed} # secretgate:allow\n");
    assert!(text.len() > 50_000_000);
    tree.write("bundle.min.js", &text);
    let (code, report) = scan_json(tree.path(), &["--max-file-size", "0"]);
    assert_eq!(code, 1);
    for key in &keys {
        let found = only_finding(&report, key);
        assert_eq!(found["line"], 1);
        let column = found["column"].as_u64().unwrap_or(0) as usize;
        assert_eq!(&text[column - 1..column - 1 + key.len()], key.as_str());
    }
    assert!(findings_of(&report, &allowed).is_empty());
    assert_eq!(report["summary"]["allowed_inline"], 1);
}

// ---------------------------------------------------------------- --threads

fn comparable(report: &Value) -> Vec<String> {
    let mut rows: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} {} {} {} {}",
                f["path"], f["line"], f["column"], f["rule"], f["fingerprint"]
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn one_thread_finds_exactly_what_the_default_finds() {
    let repo = Repo::new();
    for i in 0..30u64 {
        repo.write(
            &format!("dir{}/f{i}.env", i % 4),
            format!("A=1\nANTHROPIC_API_KEY={}\n", anthropic_key(530 + i)),
        );
        if i % 10 == 9 {
            repo.commit(&format!("batch {i}"));
        }
    }
    let (code, default) = scan_json(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        default["summary"]["findings"], 60,
        "30 keys and 30 .env files"
    );
    for threads in ["1", "3"] {
        let (code, report) = scan_json(repo.path(), &["--threads", threads]);
        assert_eq!(code, 1);
        assert_eq!(
            comparable(&report),
            comparable(&default),
            "scan -j {threads}"
        );
    }
    let history = |extra: &[&str]| {
        let output = secretgate()
            .current_dir(repo.path())
            .args(["history", "--quiet", "--format", "json"])
            .args(extra)
            .output()
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(output.status.code(), Some(1));
        json_report(&output)
    };
    let default = history(&[]);
    assert_eq!(default["summary"]["findings"], 60);
    for threads in ["1", "3"] {
        let report = history(&["-j", threads]);
        assert_eq!(
            comparable(&report),
            comparable(&default),
            "history -j {threads}"
        );
    }
}

// ---------------------------------------------------------------- redaction

/// Secrets of several kinds, each with the part that must never be shown.
struct Planted {
    /// (file, content)
    files: Vec<(String, String)>,
    /// The secret values as JSON reports them unredacted.
    secrets: Vec<String>,
    /// The parts no output may show: random bodies, without the well-known
    /// prefixes and PEM armour a redaction keeps.
    private: Vec<String>,
}

fn planted(seed: u64) -> Planted {
    let anthropic = anthropic_key(seed);
    let password = random_string(seed + 1, 24, BASE62);
    let url = format!("postgresql://app:{password}@db.internal.example.net:5432/prod");
    let b64: Vec<u8> = [BASE62, b"+/"].concat();
    let mut pem = String::from("-----BEGIN RSA PRIVATE KEY-----\nM");
    pem.push_str(&random_string(seed + 2, 63, &b64));
    pem.push('\n');
    for i in 0..12 {
        pem.push_str(&random_string(seed + 3 + i, 64, &b64));
        pem.push('\n');
    }
    pem.push_str("-----END RSA PRIVATE KEY-----");
    let mut private: Vec<String> = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::to_string)
        .collect();
    private.push(anthropic["sk-ant-api03-".len()..].to_string());
    private.push(password.clone());
    Planted {
        files: vec![
            ("app/.env".into(), env_line(&anthropic)),
            ("app/db.py".into(), format!("DATABASE_URL = \"{url}\"\n")),
            ("deploy/key.txt".into(), format!("{pem}\n")),
        ],
        secrets: vec![anthropic, password, pem],
        private,
    }
}

/// The first 10-character piece of a private part that `output` shows.
fn leaked_piece<'a>(output: &str, private: &'a [String]) -> Option<&'a str> {
    private.iter().find_map(|part| {
        (0..=part.len().saturating_sub(10))
            .map(|i| &part[i..(i + 10).min(part.len())])
            .find(|piece| output.contains(piece))
    })
}

/// Every output format: a new one is one more entry here.
const FORMATS: &[&str] = &["human", "json", "jsonl", "sarif"];

/// How a command is run against the planted repository.
struct Command {
    name: &'static str,
    args: &'static [&'static str],
}

const COMMANDS: &[Command] = &[
    Command {
        name: "scan",
        args: &["scan", "."],
    },
    Command {
        name: "history",
        args: &["history", ".", "--quiet"],
    },
    Command {
        name: "staged",
        args: &["staged"],
    },
];

fn assert_no_leak(what: &str, output: &std::process::Output, private: &[String]) {
    for stream in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(stream);
        if let Some(piece) = leaked_piece(&text, private) {
            panic!("{what}: output shows {piece:?} of a secret:\n{text}");
        }
    }
}

#[test]
fn redacted_output_never_shows_a_planted_secret_in_any_format_or_command() -> TestResult {
    let committed = planted(540);
    let staged = planted(580);
    let repo = Repo::new();
    for (path, content) in &committed.files {
        repo.write(path, content);
    }
    repo.commit("secrets");
    // Staged: other secrets of the same kinds, in new files.
    for (path, content) in &staged.files {
        repo.write(&format!("staged/{path}"), content);
    }
    repo.git(&["add", "-A"]);
    let private: Vec<String> = [committed.private.clone(), staged.private.clone()].concat();

    // First, unredacted: every planted secret is found by every command, and
    // the leak check sees it, so the redaction checks below are not vacuous.
    for command in COMMANDS {
        let output = secretgate()
            .current_dir(repo.path())
            .args(command.args)
            .args(["--format", "json"])
            .output()?;
        assert_eq!(output.status.code(), Some(1), "{}", command.name);
        let report = json_report(&output);
        let expected = if command.name == "staged" {
            &staged
        } else {
            &committed
        };
        for secret in &expected.secrets {
            assert!(
                !findings_of(&report, secret).is_empty(),
                "{} did not find a planted secret: {report:#}",
                command.name
            );
        }
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(leaked_piece(&text, &expected.private).is_some());
    }

    for command in COMMANDS {
        for format in FORMATS {
            for (how, redact_flag, ci) in [
                ("--redact", Some("--redact"), None),
                ("CI=true", None, Some("true")),
            ] {
                let mut cmd = secretgate();
                cmd.current_dir(repo.path())
                    .args(command.args)
                    .args(["--format", format]);
                if let Some(flag) = redact_flag {
                    cmd.arg(flag);
                }
                if let Some(ci) = ci {
                    cmd.env("CI", ci);
                }
                let output = cmd.output()?;
                let what = format!("{} --format {format} with {how}", command.name);
                assert_eq!(output.status.code(), Some(1), "{what}: {output:?}");
                assert!(!output.stdout.is_empty(), "{what}: empty report");
                assert_no_leak(&what, &output, &private);
            }
        }
    }
    Ok(())
}

#[test]
fn error_paths_never_show_a_planted_secret() -> TestResult {
    let planted = planted(600);
    let tree = Tree::new();
    for (path, content) in &planted.files {
        tree.write(path, content);
    }
    // An unredacted earlier report, cut short: a broken baseline.
    let full = secretgate()
        .current_dir(tree.path())
        .args(["scan", ".", "--format", "json"])
        .output()?;
    let report = full.stdout;
    let baseline = tree.write("old-report.json", &report[..report.len() / 2]);
    // An ignore file whose malformed line is a pasted secret.
    let ignore = tree.write("bad-ignore", format!("{}\n", planted.secrets[0]));
    // A rule file that does not parse, next to the secrets.
    let rules = tree.write("bad-rules.toml", "[[rule]]\nid = 3\n");
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "broken baseline",
            vec!["--baseline".into(), path_arg(&baseline)],
        ),
        (
            "malformed ignore file",
            vec!["--ignore-file".into(), path_arg(&ignore)],
        ),
        ("bad rule file", vec!["--rules".into(), path_arg(&rules)]),
    ];
    for (what, extra) in &cases {
        for format in FORMATS {
            let output = secretgate()
                .current_dir(tree.path())
                .args(["scan", ".", "--redact", "--format", format])
                .args(extra)
                .output()?;
            assert_eq!(output.status.code(), Some(2), "{what}: {output:?}");
            assert_no_leak(what, &output, &planted.private);
        }
    }
    // An unreadable file with a secret in it: listed, never shown.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let locked = tree.write("locked/.env", env_line(&anthropic_key(560)));
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000))?;
        for format in FORMATS {
            let output = secretgate()
                .current_dir(tree.path())
                .args(["scan", ".", "--redact", "--format", format])
                .output()?;
            assert_no_leak("unreadable file", &output, &planted.private);
        }
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn path_arg(path: &Path) -> String {
    path.to_str().unwrap_or_default().to_string()
}

// ------------------------------------------------------------- 2 GB file

#[cfg(unix)]
#[test]
fn a_2_gb_file_is_skipped_by_default_and_read_in_bounded_memory_with_no_limit() -> TestResult {
    use std::io::{Seek, SeekFrom, Write};
    let tree = Tree::new();
    let path = tree.path().join("dump.sql");
    let size: u64 = 2 << 30;
    let head_key = anthropic_key(620);
    let edge_key = anthropic_key(621);
    let tail_key = anthropic_key(622);
    let mut file = std::fs::File::create(&path)?;
    // Text at the start, a key straddling the first 16 MiB piece boundary,
    // a key near the end; the rest is a hole (zeros, no disk).
    // More than 8 KiB of text first, so the sniff sees text, not the hole.
    file.write_all("-- dump of the accounts table\n".repeat(1000).as_bytes())?;
    file.write_all(format!("ANTHROPIC_API_KEY={head_key}\n").as_bytes())?;
    let edge = (16u64 << 20) - 40;
    file.seek(SeekFrom::Start(edge))?;
    file.write_all(format!("\nANTHROPIC_API_KEY={edge_key}\n").as_bytes())?;
    file.seek(SeekFrom::Start(size - 4096))?;
    file.write_all(format!("\nANTHROPIC_API_KEY={tail_key}\n").as_bytes())?;
    file.set_len(size)?;
    drop(file);

    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 0, "too large is a decision, not an error: {report:#}");
    assert_eq!(report["summary"]["skipped"]["by_reason"]["too_large"], 1);
    assert_eq!(report["summary"]["skipped"]["items"][0]["path"], "dump.sql");

    // Under a 1 GiB address-space limit a whole-file read could not even
    // allocate its buffer: passing means the file was read in pieces.
    let output = std::process::Command::new("sh")
        .current_dir(tree.path())
        .arg("-c")
        .arg(format!(
            "ulimit -v 1048576 && exec '{}' scan . --max-file-size 0 --format json",
            bin()
        ))
        .env_remove("CI")
        .output()?;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = json_report(&output);
    assert_eq!(only_finding(&report, &head_key)["line"], 1001);
    // Line 1002 is the hole up to the edge key's line.
    assert_eq!(only_finding(&report, &edge_key)["line"], 1003);
    assert_eq!(only_finding(&report, &edge_key)["column"], 19);
    assert_eq!(only_finding(&report, &tail_key)["line"], 1005);
    assert_eq!(only_finding(&report, &tail_key)["column"], 19);
    assert_eq!(report["summary"]["bytes_scanned"], size);
    assert_eq!(report["summary"]["files_scanned"], 1);
    Ok(())
}
