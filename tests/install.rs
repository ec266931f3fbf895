//! `secretgate install` / `uninstall` with real `git commit`: hooks land where
//! git runs them, foreign hooks are never overwritten silently, chaining keeps
//! them running, and uninstall restores what was there.

mod common;

use std::path::{Path, PathBuf};

use common::git::*;
use common::*;

fn bin() -> String {
    assert_cmd::cargo::cargo_bin("secretgate")
        .to_str()
        .unwrap_or_default()
        .to_string()
}

fn secretgate_in(dir: &Path, args: &[&str]) -> std::process::Output {
    secretgate()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("{err}"))
}

/// Stages a file with a secret and tries to commit; returns whether git committed.
fn commit_with_secret(repo_dir: &Path, seed: u64) -> bool {
    std::fs::write(
        repo_dir.join(format!("leak{seed}.py")),
        format!("KEY = '{}'\n", anthropic_key(seed)),
    )
    .unwrap_or_else(|err| panic!("{err}"));
    run_git(repo_dir, DATE, &["add", "-A"]);
    git_command(repo_dir, DATE)
        .env("SECRETGATE", bin())
        .env_remove("CI")
        .args(["commit", "-q", "-m", "leak"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"))
        .status
        .success()
}

fn hook_path(repo: &Repo, name: &str) -> PathBuf {
    repo.path().join(".git/hooks").join(name)
}

#[test]
fn install_blocks_commits_and_uninstall_removes_the_hook() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit("base");
    let output = secretgate_in(repo.path(), &["install", "--hook", "all"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(hook_path(&repo, "pre-commit").exists());
    assert!(hook_path(&repo, "pre-push").exists());
    assert!(
        !commit_with_secret(repo.path(), 400),
        "the commit went through"
    );

    let output = secretgate_in(repo.path(), &["uninstall"]);
    assert!(output.status.success());
    assert!(!hook_path(&repo, "pre-commit").exists());
    assert!(!hook_path(&repo, "pre-push").exists());
    assert!(
        commit_with_secret(repo.path(), 401),
        "uninstalled hook still blocks"
    );
}

#[test]
fn a_foreign_hook_is_refused_without_chain_and_kept_with_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit("base");
    let foreign = hook_path(&repo, "pre-commit");
    std::fs::create_dir_all(foreign.parent().unwrap_or(repo.path()))
        .unwrap_or_else(|err| panic!("{err}"));
    let marker = repo.path().join("foreign-hook-ran");
    std::fs::write(
        &foreign,
        format!("#!/bin/sh\ntouch '{}'\nexit 0\n", marker.display()),
    )
    .unwrap_or_else(|err| panic!("{err}"));
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|err| panic!("{err}"));
    let original = std::fs::read_to_string(&foreign).unwrap_or_default();

    let refused = secretgate_in(repo.path(), &["install"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--chain"));
    assert_eq!(
        std::fs::read_to_string(&foreign).unwrap_or_default(),
        original
    );

    let chained = secretgate_in(repo.path(), &["install", "--chain"]);
    assert!(
        chained.status.success(),
        "{}",
        String::from_utf8_lossy(&chained.stderr)
    );
    assert!(
        !commit_with_secret(repo.path(), 402),
        "the commit went through"
    );
    assert!(marker.exists(), "the chained foreign hook did not run");

    let output = secretgate_in(repo.path(), &["uninstall"]);
    assert!(output.status.success());
    assert_eq!(
        std::fs::read_to_string(&foreign).unwrap_or_default(),
        original,
        "foreign hook not restored"
    );
}

#[test]
fn core_hooks_path_and_linked_worktrees_are_respected() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit("base");
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    let output = secretgate_in(repo.path(), &["install"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(repo.path().join(".githooks/pre-commit").exists());
    assert!(!commit_with_secret(repo.path(), 403));

    let other = Repo::new();
    other.write("a.txt", "a\n");
    other.commit("base");
    let worktree_parent = Tree::new();
    let worktree = worktree_parent.path().join("wt");
    other.git(&[
        "worktree",
        "add",
        "-q",
        worktree.to_str().unwrap_or_default(),
    ]);
    let output = secretgate_in(&worktree, &["install"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !commit_with_secret(&worktree, 404),
        "commit in the linked worktree went through"
    );
}
