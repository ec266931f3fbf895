//! The cleanup bridge end to end: `history --emit-*` files, the real `git
//! filter-repo`, and `secretgate verify`, on real repositories. The README's
//! "Cleaning a leaked secret out of history" commands are read from the README
//! itself and run as written, so the two cannot drift apart.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};

use common::git::*;
use common::*;
use serde_json::Value;

/// A temp directory holding the repository in `repo/`, so the README's
/// `../before.json` and `../backup.git` land beside it, inside the temp dir.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
        std::fs::create_dir(dir.path().join("repo")).unwrap_or_else(|err| panic!("mkdir: {err}"));
        let ws = Workspace { dir };
        ws.git(&["init", "-q"]);
        ws
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// A file beside the repository.
    fn outside(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn git(&self, args: &[&str]) -> String {
        run_git(&self.repo(), DATE, args)
    }

    fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let path = self.repo().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|err| panic!("mkdir: {err}"));
        }
        std::fs::write(&path, content).unwrap_or_else(|err| panic!("write {rel}: {err}"));
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Runs one shell command line in the repository, as a person would
    /// type it: `secretgate` is the binary under test, git has the tests'
    /// fixed identity and no user config.
    fn sh(&self, line: &str) -> Output {
        let binary = assert_cmd::cargo::cargo_bin("secretgate");
        let bin_dir = binary.parent().unwrap_or(Path::new("."));
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = git_command(&self.repo(), DATE);
        // git_command adds git's own arguments; a shell needs a clean command.
        let envs: Vec<(std::ffi::OsString, std::ffi::OsString)> = cmd
            .get_envs()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
            .collect();
        cmd = Process::new("sh");
        cmd.current_dir(self.repo())
            .envs(envs)
            .env("PATH", path)
            .env("GIT_CEILING_DIRECTORIES", self.dir.path())
            .env_remove("CI")
            .args(["-c", line]);
        cmd.output()
            .unwrap_or_else(|err| panic!("sh -c {line:?}: {err}"))
    }

    /// Runs `line` and checks its exit code.
    fn sh_expect(&self, line: &str, code: i32) -> Output {
        let output = self.sh(line);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{line}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Every object's content, loose or packed, reachable or not, as git
    /// itself prints it: the independent judge of what survives.
    fn all_objects(&self) -> Vec<u8> {
        let output = git_command(&self.repo(), DATE)
            .args(["cat-file", "--batch-all-objects", "--batch"])
            .output()
            .unwrap_or_else(|err| panic!("git cat-file: {err}"));
        assert!(output.status.success());
        output.stdout
    }

    fn secretgate(&self, args: &[&str]) -> Output {
        secretgate()
            .current_dir(self.repo())
            .env("GIT_CEILING_DIRECTORIES", self.dir.path())
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("secretgate {args:?}: {err}"))
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// The command lines of the README block marked `<!-- cleanup:NAME -->`.
fn readme_commands(name: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap_or_else(|err| panic!("README.md: {err}"));
    let marker = format!("<!-- cleanup:{name} -->");
    let start = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker} block"));
    let mut lines = readme[start..].lines().skip(1).map(str::trim);
    let fence = lines.next().unwrap_or_default();
    assert_eq!(fence, "```sh", "{marker} must be followed by a ```sh block");
    let commands: Vec<String> = lines
        .take_while(|line| *line != "```")
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert!(!commands.is_empty(), "{marker} block is empty");
    commands
}

/// The real git filter-repo, or a failure that says how to install it.
fn require_filter_repo() {
    let found = Process::new("git")
        .args(["filter-repo", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        found,
        "git filter-repo is not installed; these tests need the real one: `python3 -m pip install git-filter-repo` (.ci/run installs it)"
    );
}

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A well-formed (random, not a real key) PEM RSA private key block, indented.
fn rsa_private_key(seed: u64, indent: &str) -> String {
    let mut lines = vec![format!("{indent}-----BEGIN RSA {}-----", "PRIVATE KEY")];
    lines.push(format!("{indent}MII{}", random_string(seed, 61, BASE64)));
    for n in 1..12 {
        lines.push(format!("{indent}{}", random_string(seed + n, 64, BASE64)));
    }
    lines.push(format!(
        "{indent}{}==",
        random_string(seed + 99, 30, BASE64)
    ));
    lines.push(format!("{indent}-----END RSA {}-----", "PRIVATE KEY"));
    lines.join("\n")
}

/// A user rule for `frob = "..."`, whose values may hold `==>` and
/// surrounding spaces: what a literal replacement line cannot carry.
const FROB_RULE: &str = r#"
[[rule]]
id = "frob-value"
name = "Frob value"
severity = "high"
description = "A frob value."
remediation = "Regenerate the frob."
keywords = ["frob"]
regex = '''frob = "(?P<secret>[^"*]{12,})"'''
examples = ['frob = "a==>b1c2d3e4f5g6"']
negative_examples = ['frob = "short"']
"#;

fn secrets_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["secret"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn readme_cleanup_with_filter_repo_leaves_nothing() -> TestResult {
    require_filter_repo();
    let ws = Workspace::new();
    let in_head = anthropic_key(301);
    let deleted = anthropic_key(302);
    let tagged = anthropic_key(303);
    let stashed_old = anthropic_key(304);
    let stashed_new = anthropic_key(305);
    let in_message = anthropic_key(306);
    let arrow = format!("x==>{}", random_string(307, 20, BASE62));
    let spaced = format!("  {}  ", random_string(308, 20, BASE62));
    let pem = rsa_private_key(309, "  ");
    // The secret starts at BEGIN; the indentation of later lines is in it.
    let pem_secret = pem.trim_start().to_string();

    // A user rule through the repository's config (which may name only
    // files inside the repository); its own example is accepted there.
    ws.write("security/frob.toml", FROB_RULE);
    ws.write(
        ".secretgate.toml",
        "[rules]\nextra = [\"security/frob.toml\"]\n[allow]\npaths = [\"security/**\"]\n",
    );
    ws.write("README.md", "hello\n");
    ws.write("app.env", env_line(&in_head));
    ws.write("config/tls.yaml", format!("tls_key: |\n{pem}\n"));
    ws.write(
        "config/frob.py",
        format!("frob = \"{arrow}\"\nfrob = \"{spaced}\"\n"),
    );
    ws.commit("first");
    ws.write("old/settings.py", format!("KEY = \"{deleted}\"\n"));
    ws.commit("add settings");
    ws.git(&["rm", "-q", "-r", "old"]);
    ws.commit("remove settings");
    // Reachable only from a tag.
    ws.git(&["checkout", "-q", "-b", "release"]);
    ws.write("release.txt", format!("TOKEN={tagged}\n"));
    ws.commit("release");
    ws.git(&["tag", "-a", "v1", "-m", "release 1"]);
    ws.git(&["checkout", "-q", "main"]);
    ws.git(&["branch", "-q", "-D", "release"]);
    ws.commit(&format!("deploy\n\nused ANTHROPIC_API_KEY={in_message}"));
    // Two stash entries: the older one only in the refs/stash reflog.
    ws.write("stash1.txt", format!("A={stashed_old}\n"));
    ws.git(&["add", "stash1.txt"]);
    ws.git(&["stash", "-q"]);
    ws.write("stash2.txt", format!("B={stashed_new}\n"));
    ws.git(&["add", "stash2.txt"]);
    ws.git(&["stash", "-q"]);
    let all = [
        &in_head,
        &deleted,
        &tagged,
        &stashed_old,
        &stashed_new,
        &in_message,
        &arrow,
        &spaced,
        &pem_secret,
    ];

    // 1. The README's audit.
    for line in readme_commands("audit") {
        let output = ws.sh_expect(&line, 1);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("replacements.txt"), "{stderr}");
        assert!(stderr.contains("holds the secrets"), "{stderr}");
    }
    let before: Value = serde_json::from_str(&std::fs::read_to_string(ws.outside("before.json"))?)?;
    let found = secrets_of(&before);
    for secret in all {
        assert!(
            found.iter().any(|f| f == secret),
            "the audit misses {secret:?}: {before:#}"
        );
    }
    let replacements = std::fs::read_to_string(ws.outside("replacements.txt"))?;
    assert_eq!(replacements.lines().count(), all.len(), "{replacements}");
    assert!(
        replacements
            .lines()
            .any(|l| l.starts_with("regex:\\x20\\x20"))
    );
    assert!(
        replacements
            .lines()
            .any(|l| l.starts_with("regex:x\\=\\=\\>"))
    );
    assert!(
        replacements
            .lines()
            .any(|l| l.contains("KEY\\-\\-\\-\\-\\-\\n\\x20\\x20MII"))
    );
    let env_blob = before["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == "dotenv-file")
        .and_then(|f| f["blob"].as_str())
        .map(str::to_string)
        .ok_or("no dotenv-file finding")?;
    assert_eq!(
        std::fs::read_to_string(ws.outside("blob-ids.txt"))?,
        format!("{env_blob}\n")
    );
    assert_eq!(
        std::fs::read_to_string(ws.outside("paths.txt"))?,
        "app.env\n"
    );
    #[cfg(unix)]
    for name in [
        "replacements.txt",
        "blob-ids.txt",
        "paths.txt",
        "before.json",
    ] {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(ws.outside(name))?.permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }

    for line in readme_commands("backup") {
        ws.sh_expect(&line, 0);
    }

    // A first rewrite of file contents only: messages and the .env file stay.
    ws.sh_expect(
        "git filter-repo --replace-text ../replacements.txt --force",
        0,
    );
    let objects = ws.all_objects();
    let surviving: Vec<&&String> = all.iter().filter(|s| contains(&objects, s)).collect();
    // filter-repo replaced every value in files (also the multi-line key and
    // the `regex:` lines), rewrote or dropped the stash entries (recent
    // versions rewrite them all, older ones drop all but the newest) and
    // expired the reflogs; the commit message is untouched.
    assert_eq!(surviving, [&&in_message]);

    let output = ws.secretgate(&["verify", "--report", "../before.json", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verify = json_report(&output);
    let survivors = verify["survivors"].as_array().ok_or("no survivors")?;
    assert_eq!(survivors.len(), 1, "{verify:#}");
    assert_eq!(survivors[0]["kind"], "commit");
    assert_eq!(survivors[0]["findings"][0]["secret"], in_message.as_str());
    let roots: Vec<&str> = survivors[0]["reached_from"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["ref"].as_str())
        .collect();
    assert!(roots.contains(&"refs/heads/main"), "{roots:?}");
    assert!(
        survivors[0]["reached_from"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|p| p["path"] == "<commit message>")
    );
    // The .env file is still there, with its value replaced.
    let paths = verify["paths"].as_array().ok_or("no paths")?;
    assert_eq!(paths.len(), 1, "{verify:#}");
    assert_eq!(paths[0]["path"], "app.env");
    assert_eq!(verify["summary"]["clean"], false);
    assert_eq!(verify["summary"]["skipped"]["total"], 0);
    let steps = verify["next_steps"].to_string();
    assert!(steps.contains("--replace-message"), "{steps}");

    // The README's remaining steps.
    for name in ["rewrite", "expire"] {
        for line in readme_commands(name) {
            ws.sh_expect(&line, 0);
        }
    }
    for line in readme_commands("verify") {
        let output = ws.sh_expect(&line, 0);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("verified: nothing left"), "{stdout}");
        assert!(stdout.contains("git push --force --all"), "{stdout}");
    }
    let objects = ws.all_objects();
    for secret in all {
        assert!(!contains(&objects, secret), "{secret:?} survived");
    }
    let output = ws.secretgate(&["history", "--format", "json", "--quiet"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    // The backup still holds everything.
    let backup = git_command(&ws.outside("backup.git"), DATE)
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .output()?;
    assert!(contains(&backup.stdout, &in_head));
    Ok(())
}

#[test]
fn verify_traces_reflogs_stashes_and_unreachable_objects() -> TestResult {
    let ws = Workspace::new();
    let reset_away = anthropic_key(311);
    let stash_old = anthropic_key(312);
    let stash_new = anthropic_key(313);
    ws.write("README.md", "hello\n");
    ws.commit("first");
    ws.write("secret.txt", format!("K={reset_away}\n"));
    ws.commit("oops");
    ws.git(&["reset", "-q", "--hard", "HEAD~1"]);
    ws.write("s1.txt", format!("K={stash_old}\n"));
    ws.git(&["add", "s1.txt"]);
    ws.git(&["stash", "-q"]);
    ws.write("s2.txt", format!("K={stash_new}\n"));
    ws.git(&["add", "s2.txt"]);
    ws.git(&["stash", "-q"]);
    let output = ws.secretgate(&[
        "history",
        "--all-objects",
        "--format",
        "json",
        "--no-redact",
        "-o",
        "../before.json",
    ]);
    assert_eq!(output.status.code(), Some(1));

    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "--report", "../before.json", "--format", "json"];
        args.extend(extra);
        let output = ws.secretgate(&args);
        (output.status.code(), json_report(&output))
    };
    let roots_of = |report: &Value, secret: &str| -> Option<Vec<String>> {
        report["survivors"].as_array()?.iter().find_map(|s| {
            let holds = s["findings"]
                .as_array()?
                .iter()
                .any(|f| f["secret"] == secret);
            holds.then(|| {
                s["reached_from"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["ref"].as_str().map(str::to_string))
                    .collect()
            })
        })
    };

    let (code, report) = verify(&[]);
    assert_eq!(code, Some(1));
    let reset = roots_of(&report, &reset_away).ok_or("reset-away secret not reported")?;
    assert!(
        !reset.is_empty() && reset.iter().all(|r| r.contains("@{")),
        "{reset:?}"
    );
    assert!(reset.iter().any(|r| r.starts_with("HEAD@{")), "{reset:?}");
    let old = roots_of(&report, &stash_old).ok_or("old stash not reported")?;
    assert_eq!(old, ["refs/stash@{1}"]);
    let new = roots_of(&report, &stash_new).ok_or("new stash not reported")?;
    assert!(new.contains(&"refs/stash".to_string()), "{new:?}");

    // Redacted on request.
    let (_, redacted) = verify(&["--redact"]);
    assert!(!redacted.to_string().contains(&reset_away));
    assert_eq!(redacted["summary"]["redacted"], true);

    // Reflogs expired, objects not yet pruned: unreachable.
    ws.git(&["stash", "clear"]);
    ws.git(&["reflog", "expire", "--expire=now", "--all"]);
    let (code, report) = verify(&[]);
    assert_eq!(code, Some(1));
    for secret in [&reset_away, &stash_old, &stash_new] {
        assert_eq!(roots_of(&report, secret), Some(Vec::new()), "{report:#}");
    }
    assert!(
        report["survivors"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|s| s["reachable"] == false)
    );
    let human = ws.secretgate(&["verify", "--report", "../before.json"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("unreachable object"), "{text}");
    assert!(
        text.contains("git reflog expire --expire=now --all && git gc --prune=now --aggressive")
    );

    ws.git(&["gc", "-q", "--prune=now"]);
    let (code, report) = verify(&[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["summary"]["clean"], true);
    assert!(report["summary"]["objects_scanned"].as_u64() > Some(0));
    Ok(())
}

#[test]
fn verify_refuses_a_redacted_report() -> TestResult {
    let ws = Workspace::new();
    ws.write("a.txt", format!("K={}\n", anthropic_key(321)));
    ws.commit("first");
    let output = ws.secretgate(&["history", "--format", "json", "--redact", "-o", "../r.json"]);
    assert_eq!(output.status.code(), Some(1));
    let output = ws.secretgate(&["verify", "--report", "../r.json"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is redacted"), "{stderr}");
    assert!(stderr.contains("--no-redact"), "{stderr}");

    let output = ws.secretgate(&["verify", "--report", "../missing.json"]);
    assert_eq!(output.status.code(), Some(2));
    Ok(())
}

#[test]
fn emitted_files_skip_accepted_findings_and_are_private() -> TestResult {
    let ws = Workspace::new();
    let kept = anthropic_key(331);
    let accepted = anthropic_key(332);
    ws.write("a.txt", format!("K={kept}\nL={accepted}\nM={kept}\n"));
    ws.write("b.txt", format!("K={kept}\n"));
    ws.commit("first");
    // Accept one of them by fingerprint.
    let output = ws.secretgate(&["history", "--format", "json", "--no-redact"]);
    let report = json_report(&output);
    let fingerprint = only_finding(&report, &accepted)["fingerprint"]
        .as_str()
        .ok_or("no fingerprint")?
        .to_string();
    std::fs::write(ws.outside("ignore"), format!("{fingerprint}\n"))?;
    // An existing, world-readable file is made private.
    std::fs::write(ws.outside("r.txt"), "old\n")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(ws.outside("r.txt"), std::fs::Permissions::from_mode(0o644))?;
    }

    let output = ws.secretgate(&[
        "history",
        "--ignore-file",
        "../ignore",
        "--emit-replacements",
        "../r.txt",
        "--emit-blob-ids",
        "../b.txt",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stdout.contains(&kept) && !stderr.contains(&kept),
        "never printed"
    );
    assert!(stderr.contains("wrote 1 secret value(s)"), "{stderr}");
    assert!(stderr.contains("wrote 0 blob id(s)"), "{stderr}");
    // The cleanup plan names the files written.
    assert!(stdout.contains("Rotate first"), "{stdout}");
    assert!(
        stdout.contains("git filter-repo --replace-text ../r.txt --force"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.outside("r.txt"))?,
        format!("{kept}==>***REMOVED***\n")
    );
    assert_eq!(std::fs::read_to_string(ws.outside("b.txt"))?, "");
    // Never to stdout.
    let output = ws.secretgate(&["history", "--emit-replacements", "-"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&output.stdout).contains(&kept));
    assert!(!ws.repo().join("-").exists());
    #[cfg(unix)]
    for name in ["r.txt", "b.txt"] {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(ws.outside(name))?.permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    Ok(())
}

#[test]
fn readme_expire_steps_remove_refs_original() -> TestResult {
    let ws = Workspace::new();
    let key = anthropic_key(341);
    ws.write("README.md", "hello\n");
    ws.commit("first");
    ws.write("config.txt", format!("K={key}\n"));
    ws.commit("oops");
    let output = ws.secretgate(&[
        "history",
        "--format",
        "json",
        "--no-redact",
        "-o",
        "../before.json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    // What git filter-branch leaves: the old tip under refs/original/.
    ws.git(&["update-ref", "refs/original/refs/heads/main", "HEAD"]);
    ws.git(&["reset", "-q", "--hard", "HEAD~1"]);

    let output = ws.secretgate(&["verify", "--report", "../before.json"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(
            "reached from refs/original/refs/heads/main (backup ref of git filter-branch)"
        ),
        "{text}"
    );
    assert!(!text.contains("reached from refs/heads/main:"), "{text}");

    for line in readme_commands("expire") {
        ws.sh_expect(&line, 0);
    }
    assert!(ws.git(&["for-each-ref", "refs/original"]).is_empty());
    for line in readme_commands("verify") {
        ws.sh_expect(&line, 0);
    }
    Ok(())
}

#[test]
fn verify_searches_alternates() -> TestResult {
    let origin = Workspace::new();
    let key = anthropic_key(351);
    origin.write("s.txt", format!("K={key}\n"));
    origin.commit("first");
    // A clone that borrows every object from the origin through alternates.
    let ws = Workspace::new();
    std::fs::remove_dir_all(ws.repo())?;
    run_git(
        ws.dir.path(),
        DATE,
        &[
            "clone",
            "-q",
            "--shared",
            &origin.repo().display().to_string(),
            "repo",
        ],
    );
    let output = ws.secretgate(&[
        "history",
        "--format",
        "json",
        "--no-redact",
        "-o",
        "../before.json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let own = ws.git(&["count-objects", "-v"]);
    assert!(
        own.contains("count: 0") && own.contains("in-pack: 0"),
        "{own}"
    );

    let output = ws.secretgate(&["verify", "--report", "../before.json", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report = json_report(&output);
    assert_eq!(
        report["survivors"][0]["findings"][0]["secret"],
        key.as_str()
    );
    Ok(())
}

#[test]
fn unreadable_objects_are_an_error_unless_survivors_are_found() -> TestResult {
    let ws = Workspace::new();
    let key = anthropic_key(361);
    ws.write("s.txt", format!("K={key}\n"));
    ws.commit("first");
    let output = ws.secretgate(&[
        "history",
        "--format",
        "json",
        "--no-redact",
        "-o",
        "../before.json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    // A loose object file that is not a zlib stream.
    let dir = ws.repo().join(".git/objects/ab");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("cdef0123456789abcdef0123456789abcdef01"),
        b"not an object",
    )?;

    // The secret is still there: exit 1, and the unreadable object is named.
    let output = ws.secretgate(&["verify", "--report", "../before.json"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("could not read 1 object(s)"), "{text}");
    assert!(
        text.contains("abcdef0123456789abcdef0123456789abcdef01"),
        "{text}"
    );
    assert!(
        text.contains("exit 1 because survivors were found"),
        "{text}"
    );

    // Secret gone, object still unreadable: exit 2.
    ws.git(&["rm", "-q", "s.txt"]);
    ws.git(&["commit", "-q", "--amend", "--allow-empty", "-m", "first"]);
    ws.git(&["reflog", "expire", "--expire=now", "--all"]);
    ws.git(&["prune", "--expire=now"]);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("cdef0123456789abcdef0123456789abcdef01"),
        b"not an object",
    )?;
    let output = ws.secretgate(&["verify", "--report", "../before.json", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2));
    let report = json_report(&output);
    assert_eq!(report["summary"]["clean"], true);
    assert_eq!(
        report["summary"]["skipped"]["by_reason"]["corrupt_object"],
        1
    );
    Ok(())
}

#[test]
fn verify_names_linked_work_trees() -> TestResult {
    let ws = Workspace::new();
    ws.write("README.md", "hello\n");
    ws.commit("first");
    let other = ws.outside("other");
    ws.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        &other.display().to_string(),
    ]);
    let key = anthropic_key(371);
    std::fs::write(other.join("s.txt"), format!("K={key}\n"))?;
    run_git(&other, DATE, &["add", "s.txt"]);
    run_git(
        &other,
        DATE,
        &["commit", "-q", "-m", "in the other work tree"],
    );
    let output = ws.secretgate(&[
        "history",
        "--all-objects",
        "--format",
        "json",
        "--no-redact",
        "-o",
        "../before.json",
    ]);
    assert_eq!(output.status.code(), Some(1));

    let output = ws.secretgate(&["verify", "--report", "../before.json"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("reached from worktrees/other/HEAD: commit"),
        "{text}"
    );
    assert!(
        text.contains("reached from worktrees/other/index (staged in the index): s.txt"),
        "{text}"
    );
    assert!(!text.contains("unreachable object"), "{text}");
    assert!(text.contains("git worktree remove"), "{text}");
    Ok(())
}

/// `verify` reports survivors, not findings: the finding formats are refused
/// with a usage error instead of silently printing something else.
#[test]
fn verify_refuses_the_finding_formats() -> Result<(), Box<dyn std::error::Error>> {
    let repo = common::git::Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("first");
    let report = repo.path().join("before.json");
    std::fs::write(&report, r#"{"version":1,"findings":[]}"#)?;
    for format in ["sarif", "jsonl"] {
        let output = common::secretgate()
            .args(["verify", "--report"])
            .arg(&report)
            .arg(repo.path())
            .args(["--format", format])
            .output()?;
        assert_eq!(output.status.code(), Some(2), "--format {format}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--format json"), "{stderr}");
    }
    Ok(())
}
