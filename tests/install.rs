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

/// `git commit` in `repo` of a staged file holding `content`, with only
/// git's and sh's directories on PATH and no SECRETGATE: the hook must find
/// secretgate itself. Returns (committed?, stderr).
fn commit_without_path(repo: &Repo, name: &str, content: &str) -> (bool, String) {
    repo.write(name, content);
    repo.git(&["add", name]);
    let output = git_command(repo.path(), DATE)
        .env_remove("CI")
        .env_remove("SECRETGATE")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .args(["commit", "-q", "-m", name])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn the_hook_runs_the_binary_that_installed_it_then_node_modules_then_fails_closed() {
    let repo = Repo::new();
    repo.write(".gitignore", "node_modules/\n");
    repo.commit("base");
    // As `npx secretgate install` runs it: a binary that is not on PATH.
    let tools = Tree::new();
    let installer = binary_copy(tools.path(), "pkg/bin/secretgate");
    let output = std::process::Command::new(&installer)
        .current_dir(repo.path())
        .args(["install", "--hook", "all"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&*installer.to_string_lossy()), "{stderr}");

    let (committed, stderr) = commit_without_path(&repo, "a.txt", "clean\n");
    assert!(committed, "the hook did not find its binary: {stderr}");
    let key = format!("KEY = '{}'\n", anthropic_key(1507));
    let (committed, stderr) = commit_without_path(&repo, "leak.py", &key);
    assert!(!committed, "a key went through");
    assert!(stderr.contains("anthropic-api-key"), "{stderr}");
    repo.git(&["reset", "-q"]);
    std::fs::remove_file(repo.path().join("leak.py")).unwrap_or_else(|err| panic!("{err}"));

    // The installing binary is gone: the repository's node_modules/.bin.
    std::fs::remove_file(&installer).unwrap_or_else(|err| panic!("{err}"));
    binary_copy(repo.path(), "node_modules/.bin/secretgate");
    let (committed, stderr) = commit_without_path(&repo, "b.txt", "clean\n");
    assert!(
        committed,
        "the hook did not find node_modules/.bin: {stderr}"
    );
    let (committed, stderr) = commit_without_path(&repo, "leak.py", &key);
    assert!(!committed, "a key went through");
    assert!(stderr.contains("anthropic-api-key"), "{stderr}");
    repo.git(&["reset", "-q"]);

    // Neither: blocked, saying where it looked and what to do.
    std::fs::remove_dir_all(repo.path().join("node_modules")).unwrap_or_else(|err| panic!("{err}"));
    let (committed, stderr) = commit_without_path(&repo, "c.txt", "clean\n");
    assert!(!committed, "a commit went through unchecked");
    assert!(stderr.contains("'secretgate' was not found"), "{stderr}");
    assert!(stderr.contains(&*installer.to_string_lossy()), "{stderr}");
    assert!(stderr.contains("node_modules/.bin/secretgate"), "{stderr}");
    assert!(stderr.contains("--no-verify"), "{stderr}");
}
