//! Real repositories for the tests, built with `git` itself: fixed identity
//! and dates so attribution can be checked exactly, and no user config.

use std::path::Path;
use std::process::Command as Process;

use serde_json::Value;

use super::Tree;

pub const NAME: &str = "Ada Lovelace";
pub const EMAIL: &str = "ada@example.com";
pub const DATE: &str = "2021-03-04T05:06:07+02:00";

/// `git` with a fixed identity and date, and no user or system config.
pub fn git_command(dir: &Path, date: &str) -> Process {
    let mut cmd = Process::new("git");
    cmd.current_dir(dir)
        .env("GIT_AUTHOR_NAME", NAME)
        .env("GIT_AUTHOR_EMAIL", EMAIL)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_NAME", "Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "advice.detachedHead=false",
        ]);
    cmd
}

pub fn run_git(dir: &Path, date: &str, args: &[&str]) -> String {
    let output = git_command(dir, date)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("git {args:?}: {err}"));
    assert!(
        output.status.success(),
        "git {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A throwaway repository.
pub struct Repo {
    pub tree: Tree,
}

impl Repo {
    pub fn new() -> Repo {
        let repo = Repo { tree: Tree::new() };
        repo.git(&["init", "-q"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.tree.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        run_git(self.path(), DATE, args)
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        self.tree.write(rel, content);
    }

    /// Stages everything and commits; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        self.commit_at(message, DATE)
    }

    pub fn commit_at(&self, message: &str, date: &str) -> String {
        run_git(self.path(), date, &["add", "-A"]);
        run_git(
            self.path(),
            date,
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        self.git(&["rev-parse", "HEAD"])
    }
}

/// Every finding whose secret is `secret`.
pub fn findings_of<'a>(report: &'a Value, secret: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .map(|all| all.iter().filter(|f| f["secret"] == secret).collect())
        .unwrap_or_default()
}

/// The one finding of `secret`; fails if there is none or several.
pub fn only_finding<'a>(report: &'a Value, secret: &str) -> &'a Value {
    let found = findings_of(report, secret);
    assert_eq!(found.len(), 1, "expected one finding, got: {report:#}");
    found[0]
}

pub fn env_line(key: &str) -> String {
    format!("ANTHROPIC_API_KEY={key}\n")
}
