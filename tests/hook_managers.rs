//! The real pre-commit framework running `.pre-commit-hooks.yaml`: it builds
//! secretgate with cargo, blocks staged secrets at commit time, and checks
//! every file under `--all-files` (where some tools check nothing).

mod common;

use std::path::Path;
use std::process::Command;

use common::git::*;
use common::*;

/// `pre-commit`, or `None` (with a visible note) where it is not installed.
/// CI installs it (`.ci/run`), so there a missing one is a failure.
fn pre_commit() -> Option<Command> {
    let found = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "pre-commit is not installed; .ci/run must `pip install pre-commit`"
        );
        eprintln!("SKIPPED: pre-commit is not installed (pip install pre-commit)");
        return None;
    }
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit");
    let mut cmd = Command::new("pre-commit");
    cmd.env("PRE_COMMIT_HOME", cache.join("home"))
        // pre-commit builds secretgate with `cargo install`: keep its target
        // directory between runs so only the first build is a full one.
        .env("CARGO_TARGET_DIR", cache.join("target"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", NAME)
        .env("GIT_AUTHOR_EMAIL", EMAIL)
        .env("GIT_COMMITTER_NAME", NAME)
        .env("GIT_COMMITTER_EMAIL", EMAIL);
    Some(cmd)
}

#[test]
fn pre_commit_framework_checks_staged_changes_and_all_files() {
    let Some(_) = pre_commit() else { return };
    let this_repo = env!("CARGO_MANIFEST_DIR");
    let try_repo = |dir: &Path, extra: &[&str]| {
        let output = pre_commit()
            .map(|mut cmd| {
                cmd.current_dir(dir)
                    .args(["try-repo", this_repo, "secretgate", "--color", "never"])
                    .args(extra)
                    .output()
            })
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("cannot run pre-commit"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    };

    let repo = Repo::new();
    let old = anthropic_key(500);
    repo.write("old.py", format!("KEY = '{old}'\n"));
    repo.write("README.md", "hello\n");
    repo.commit("an old leak");

    // Commit time: only the staged change counts, and it is clean.
    repo.write("README.md", "hello again\n");
    repo.git(&["add", "README.md"]);
    let (ok, text) = try_repo(repo.path(), &[]);
    assert!(ok, "a clean staged change was blocked:\n{text}");

    // Commit time: a staged secret blocks.
    repo.write("new.py", format!("KEY = '{}'\n", anthropic_key(501)));
    repo.git(&["add", "new.py"]);
    let (ok, text) = try_repo(repo.path(), &[]);
    assert!(!ok, "a staged secret passed:\n{text}");
    assert!(text.contains("new.py:1:"), "{text}");

    // --all-files: everything is checked, the old committed leak included.
    repo.git(&["reset", "-q", "new.py"]);
    std::fs::remove_file(repo.path().join("new.py")).unwrap_or_else(|err| panic!("{err}"));
    let (ok, text) = try_repo(repo.path(), &["--all-files"]);
    assert!(!ok, "--all-files checked nothing:\n{text}");
    assert!(text.contains("old.py:1:"), "{text}");
}

/// husky, as a Next.js team installs it: `npm install husky`, `npx husky
/// init`, then `secretgate staged` in `.husky/pre-commit`. Skipped (with a
/// visible note) where npm is missing; required in CI.
#[test]
fn husky_pre_commit_runs_secretgate_and_blocks_a_commit() {
    let npm_found = Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !npm_found {
        assert!(std::env::var_os("CI").is_none(), "npm is missing in CI");
        eprintln!("SKIPPED: npm is not installed; the husky test did not run");
        return;
    }
    let repo = Repo::new();
    repo.write(
        "package.json",
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"private\":true}\n",
    );
    let npm = |args: &[&str]| {
        let output = Command::new("npm")
            .current_dir(repo.path())
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("npm {args:?}: {err}"));
        assert!(
            output.status.success(),
            "npm {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    npm(&["install", "--save-dev", "--no-audit", "--no-fund", "husky"]);
    let init = Command::new("npx")
        .current_dir(repo.path())
        .args(["husky", "init"])
        .output()
        .unwrap_or_else(|err| panic!("npx husky init: {err}"));
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    repo.write(".husky/pre-commit", "secretgate staged\n");
    repo.write(".gitignore", "node_modules/\n");
    repo.git(&["add", "-A"]);

    // husky runs hooks with a login-like PATH; put the binary under test on it.
    let bin = assert_cmd::cargo::cargo_bin("secretgate");
    let bin_dir = bin.parent().unwrap_or(Path::new("."));
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commit = |message: &str| {
        git_command(repo.path(), DATE)
            .env("PATH", &path)
            .env_remove("CI")
            .args(["commit", "-q", "-m", message])
            .output()
            .unwrap_or_else(|err| panic!("{err}"))
    };
    let first = commit("husky set up");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    repo.write(
        "lib/anthropic.ts",
        format!("export const key = \"{}\";\n", anthropic_key(510)),
    );
    repo.git(&["add", "-A"]);
    let blocked = commit("adds a key");
    assert!(!blocked.status.success(), "husky let the secret through");
    let message = String::from_utf8_lossy(&blocked.stderr);
    assert!(message.contains("lib/anthropic.ts:1:"), "{message}");
}
