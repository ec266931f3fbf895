//! What a cleanup leaves behind: the `***REMOVED***` marker the rewrite put
//! where each secret was (never a secret: `history` stays clean, so the CI
//! gate passes after a successful rewrite), and old text that git keeps in
//! files of its own directory (`COMMIT_EDITMSG`, `logs/`, ...), which
//! `verify` finds and says how to clear. Real git, real git filter-repo.

mod common;

use std::path::PathBuf;
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
