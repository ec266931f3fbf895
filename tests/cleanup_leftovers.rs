//! What a cleanup leaves behind: the `***REMOVED***` marker the rewrite put
//! where each secret was (never a secret: `history` stays clean, so the CI
//! gate passes after a successful rewrite), and old text that git keeps in
//! files of its own directory (`COMMIT_EDITMSG`, `logs/`, ...), which
//! `verify` finds and says how to clear. Real git, real git filter-repo.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};

use common::git::*;
use common::*;

/// A repository in `repo/` of a temp directory, so reports and cleanup files
/// land beside it.
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

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    /// `verify` against the audit, as JSON: (exit code, report).
    fn verify(&self) -> (Option<i32>, serde_json::Value) {
        let output = self.secretgate(&["verify", "--report", "../before.json", "--format", "json"]);
        (output.status.code(), json_report(&output))
    }

    /// Runs one command line as a person would, in the repository.
    fn sh(&self, line: &str) -> Output {
        let envs: Vec<(std::ffi::OsString, std::ffi::OsString)> = git_command(&self.repo(), DATE)
            .get_envs()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
            .collect();
        Process::new("sh")
            .current_dir(self.repo())
            .envs(envs)
            .args(["-c", line])
            .output()
            .unwrap_or_else(|err| panic!("sh -c {line:?}: {err}"))
    }

    fn secretgate(&self, args: &[&str]) -> Output {
        secretgate()
            .current_dir(self.repo())
            .env("GIT_CEILING_DIRECTORIES", self.dir.path())
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("secretgate {args:?}: {err}"))
    }

    /// The real git filter-repo, with the tests' git environment.
    fn filter_repo(&self, args: &[&str]) {
        let output = git_command(&self.repo(), DATE)
            .arg("filter-repo")
            .args(args)
            .arg("--force")
            .output()
            .unwrap_or_else(|err| panic!("git filter-repo: {err}"));
        assert!(
            output.status.success(),
            "git filter-repo {args:?}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The audit a cleanup starts from: an unredacted report and the
    /// replacements file, both outside the repository.
    fn audit(&self) -> Output {
        self.secretgate(&[
            "history",
            "--format",
            "json",
            "--no-redact",
            "--quiet",
            "-o",
            "../before.json",
            "--emit-replacements",
            "../replacements.txt",
        ])
    }
}

fn text(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
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

#[test]
fn history_is_clean_after_the_rewrite_replaced_every_secret() {
    require_filter_repo();
    let ws = Workspace::new();
    let postgres = random_string(401, 18, BASE62);
    let mysql = random_string(402, 18, BASE62);
    let key = anthropic_key(403);
    ws.write(
        "config/database.yml",
        format!(
            "primary: postgres://admin:{postgres}@db.internal:5432/app\nlegacy: mysql://root:{mysql}@localhost/app\n"
        ),
    );
    ws.write("app.py", format!("KEY = \"{key}\"\n"));
    ws.commit("configuration");

    let audit = ws.audit();
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit));
    let replacements = std::fs::read_to_string(ws.outside("replacements.txt"))
        .unwrap_or_else(|err| panic!("replacements.txt: {err}"));
    for secret in [&postgres, &mysql, &key] {
        assert!(replacements.contains(secret.as_str()), "{replacements}");
    }

    ws.filter_repo(&["--replace-text", "../replacements.txt"]);
    let rewritten = ws.git(&["show", "HEAD:config/database.yml"]);
    assert!(
        rewritten.contains("admin:***REMOVED***@db.internal"),
        "{rewritten}"
    );
    assert!(
        rewritten.contains("root:***REMOVED***@localhost"),
        "{rewritten}"
    );

    // The CI gate after a successful rewrite: nothing left, nothing flagged.
    let history = ws.secretgate(&["history", "--format", "json", "--quiet"]);
    assert_eq!(history.status.code(), Some(0), "{}", text(&history));
    assert_eq!(json_report(&history)["summary"]["findings"], 0);
    let verify = ws.secretgate(&["verify", "--report", "../before.json"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));

    // The marker is no secret anywhere it lands, quoted or repeated.
    ws.write(
        "settings.py",
        "PASSWORD = \"***REMOVED***\"\nDSN = \"postgres://u:***REMOVED******REMOVED***@h/db\"\n",
    );
    ws.commit("settings");
    let history = ws.secretgate(&["history", "--format", "json", "--quiet"]);
    assert_eq!(history.status.code(), Some(0), "{}", text(&history));
}

/// The `git_files` of a verify report: (path, clear command).
fn git_files(report: &serde_json::Value) -> Vec<(String, String)> {
    report["git_files"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["clear"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn verify_finds_old_messages_git_keeps_in_its_own_directory() {
    let ws = Workspace::new();
    let key = anthropic_key(411);
    ws.write("README.md", "hello\n");
    ws.commit("first");
    ws.git(&["checkout", "-q", "-b", "topic"]);
    ws.write("topic.txt", "topic\n");
    // In the subject: reflog entries keep it too.
    ws.commit(&format!("topic used ANTHROPIC_API_KEY={key}"));
    ws.git(&["checkout", "-q", "main"]);
    // A squash merge in progress: SQUASH_MSG holds the topic's messages.
    ws.git(&["merge", "--squash", "-q", "topic"]);
    let audit = ws.audit();
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit));

    // Before any cleanup: the commit survives, and the reflogs, the last
    // commit message and the squash message hold the key.
    let (code, report) = ws.verify();
    assert_eq!(code, Some(1), "{report:#}");
    let files = git_files(&report);
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "COMMIT_EDITMSG",
        "SQUASH_MSG",
        "logs/HEAD",
        "logs/refs/heads/topic",
    ] {
        assert!(paths.contains(&expected), "{expected} missing: {report:#}");
    }
    let found = &report["git_files"][0]["findings"][0];
    assert_eq!(found["secret"], key.as_str(), "{report:#}");
    assert_eq!(found["path"], "<commit message>");

    // The objects go: what is left is only in the git directory's files.
    ws.git(&["branch", "-q", "-D", "topic"]);
    ws.git(&["reflog", "expire", "--expire=now", "--all"]);
    ws.git(&["gc", "-q", "--prune=now"]);
    let (code, report) = ws.verify();
    assert_eq!(
        code,
        Some(1),
        "reported clean with the key on disk: {report:#}"
    );
    assert_eq!(
        report["survivors"].as_array().map(Vec::len),
        Some(0),
        "{report:#}"
    );
    assert_eq!(report["summary"]["clean"], false);
    let files = git_files(&report);
    assert_eq!(
        files.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["COMMIT_EDITMSG", "SQUASH_MSG"],
        "{report:#}"
    );
    let steps: Vec<&str> = report["next_steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str())
        .collect();
    // Each says how to clear it, and that is what clears it.
    for (path, clear) in &files {
        assert!(
            steps.iter().any(|s| s.ends_with(clear.as_str())),
            "{steps:?}"
        );
        let output = ws.sh(clear);
        assert!(
            output.status.success(),
            "{path}: {clear}: {}",
            text(&output)
        );
    }
    let output = ws.secretgate(&["verify", "--report", "../before.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("verified: nothing left"), "{stdout}");
}

/// rerere keeps both sides of a resolved conflict in `rr-cache/`, in clear:
/// a rewrite leaves them, and `verify` must not call the repository clean.
#[test]
fn verify_finds_conflict_contents_rerere_recorded() {
    let ws = Workspace::new();
    let key = anthropic_key(412);
    ws.git(&["config", "rerere.enabled", "true"]);
    ws.write("f.txt", "base\n");
    ws.commit("base");
    ws.git(&["checkout", "-q", "-b", "side"]);
    ws.write("f.txt", format!("side ANTHROPIC_API_KEY={key}\n"));
    ws.commit("side");
    ws.git(&["checkout", "-q", "main"]);
    ws.write("f.txt", "other\n");
    ws.commit("main");
    // The merge conflicts; rerere records the preimage, holding the key.
    let merge = ws.sh("git merge side");
    assert!(
        !merge.status.success(),
        "the merge should conflict: {}",
        text(&merge)
    );
    ws.write("f.txt", "resolved\n");
    ws.commit("merge");
    let audit = ws.audit();
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit));

    // Every object holding the key goes, and the usual leftovers too.
    ws.git(&["branch", "-q", "-D", "side"]);
    ws.git(&["reset", "-q", "--hard", "HEAD~1"]);
    ws.git(&["reflog", "expire", "--expire=now", "--all"]);
    ws.git(&["gc", "-q", "--prune=now"]);
    for file in ["COMMIT_EDITMSG", "ORIG_HEAD", "MERGE_MSG"] {
        let _ = std::fs::remove_file(ws.repo().join(".git").join(file));
    }
    let (code, report) = ws.verify();
    assert_eq!(
        code,
        Some(1),
        "reported clean with rr-cache holding the key: {report:#}"
    );
    let files = git_files(&report);
    assert!(
        files.iter().any(|(p, _)| p.starts_with("rr-cache/")),
        "{report:#}"
    );
    for (path, clear) in &files {
        let output = ws.sh(clear);
        assert!(
            output.status.success(),
            "{path}: {clear}: {}",
            text(&output)
        );
    }
    let output = ws.secretgate(&["verify", "--report", "../before.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn verify_names_an_interrupted_rebase_and_cherry_pick() {
    let ws = Workspace::new();
    let key = anthropic_key(412);
    ws.write("a.txt", "a\n");
    ws.commit("first");
    ws.write("b.txt", "b\n");
    ws.commit(&format!("second\n\nANTHROPIC_API_KEY={key}"));
    ws.write("c.txt", "c\n");
    ws.commit("third");
    let audit = ws.audit();
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit));

    // A rebase stopped at the commit: its message is in rebase-merge/.
    let output = git_in(&ws.repo(), &["rebase", "-q", "-i", "HEAD~2"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(ws.repo().join(".git/rebase-merge").is_dir());
    let (code, report) = ws.verify();
    assert_eq!(code, Some(1), "{report:#}");
    let rebase: Vec<(String, String)> = git_files(&report)
        .into_iter()
        .filter(|(p, _)| p.starts_with("rebase-merge/"))
        .collect();
    assert!(!rebase.is_empty(), "{report:#}");
    assert!(rebase.iter().all(|(_, clear)| clear == "git rebase --quit"));
    let output = ws.sh("git rebase --quit");
    assert!(output.status.success(), "{}", text(&output));
    let (_, report) = ws.verify();
    assert!(
        git_files(&report)
            .iter()
            .all(|(p, _)| !p.starts_with("rebase-merge/")),
        "{report:#}"
    );

    // A cherry-pick of a range, stopped at a conflict: the rest of the
    // range, subjects included, is in sequencer/.
    let subject_key = anthropic_key(413);
    ws.git(&["checkout", "-q", "main"]);
    ws.git(&["checkout", "-q", "-b", "side", "main~2"]);
    ws.write("a.txt", "side\n");
    ws.commit("conflicting");
    ws.write("d.txt", "d\n");
    ws.commit(&format!("deploy ANTHROPIC_API_KEY={subject_key}"));
    ws.git(&["checkout", "-q", "main"]);
    ws.write("a.txt", "main\n");
    ws.commit("main change");
    let audit = ws.audit();
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit));
    let output = git_in(&ws.repo(), &["cherry-pick", "side~1", "side"]);
    assert!(!output.status.success(), "the cherry-pick did not stop");
    let (code, report) = ws.verify();
    assert_eq!(code, Some(1), "{report:#}");
    let files = git_files(&report);
    assert!(
        files.contains(&(
            "sequencer/todo".to_string(),
            "git cherry-pick --quit".to_string()
        )),
        "{report:#}"
    );
    let human = ws.secretgate(&["verify", "--report", "../before.json"]);
    let stdout = String::from_utf8_lossy(&human.stdout);
    assert!(
        stdout.contains("survivor: sequencer/todo in the git directory"),
        "{stdout}"
    );
    assert!(
        stdout.contains("clear   git cherry-pick --quit"),
        "{stdout}"
    );
}

/// Runs `git` in `dir` with editors that accept everything as is, except
/// the rebase todo list, where every `pick` becomes `edit`.
fn git_in(dir: &Path, args: &[&str]) -> Output {
    git_command(dir, DATE)
        .env("GIT_EDITOR", "true")
        .env("GIT_SEQUENCE_EDITOR", "sed -i -e s/^pick/edit/")
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("git {args:?}: {err}"))
}
