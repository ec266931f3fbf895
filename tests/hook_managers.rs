//! The real pre-commit framework and prek running `.pre-commit-hooks.yaml`:
//! pre-commit builds secretgate with cargo, blocks staged secrets at commit
//! time, and checks every file under `--all-files` (where some tools check
//! nothing); both block a push that adds a secret, though neither forwards
//! git's pre-push lines. A test whose tool is not installed is `#[ignore]`d
//! with the reason (build.rs looks for each when the tests are built; `.ci/run`
//! installs them).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::git::*;
use common::*;

/// `pre-commit`, with its cache in the tests' target directory and git
/// without user config.
fn pre_commit() -> Command {
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
    cmd
}

#[test]
#[cfg_attr(
    not(have_pre_commit),
    ignore = "pre-commit is not installed (pip install pre-commit; then touch build.rs)"
)]
fn pre_commit_framework_checks_staged_changes_and_all_files() {
    let this_repo = env!("CARGO_MANIFEST_DIR");
    let try_repo = |dir: &Path, extra: &[&str]| {
        let output = pre_commit()
            .current_dir(dir)
            .args(["try-repo", this_repo, "secretgate", "--color", "never"])
            .args(extra)
            .output()
            .unwrap_or_else(|err| panic!("cannot run pre-commit: {err}"));
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

/// The `secretgate-pre-push` hook of `.pre-commit-hooks.yaml` as a local
/// hook: the same entry, stages and options, but `language: system` running
/// the binary under test instead of a `cargo install` of this repository
/// (the manager's side, which these tests are about, is the same).
fn local_pre_push_config() -> String {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap_or_else(|err| panic!(".pre-commit-hooks.yaml: {err}"));
    let start = manifest
        .find("- id: secretgate-pre-push")
        .unwrap_or_else(|| panic!("no secretgate-pre-push hook in .pre-commit-hooks.yaml"));
    let block = &manifest[start..];
    let end = block[1..].find("\n- id:").map_or(block.len(), |i| i + 1);
    let bin = assert_cmd::cargo::cargo_bin("secretgate");
    let bin = bin.to_string_lossy();
    assert!(!bin.contains(char::is_whitespace), "{bin}");
    let mut hook = String::new();
    for line in block[..end].lines() {
        let line = match line.trim_start().strip_prefix("entry: secretgate ") {
            Some(rest) => format!("  entry: {bin} {rest}"),
            None if line.trim() == "language: rust" => "  language: system".to_string(),
            None => line.to_string(),
        };
        hook.push_str(&format!("      {line}\n"));
    }
    assert!(hook.contains("language: system"), "{hook}");
    assert!(
        hook.contains(&format!("entry: {bin} history --pre-push")),
        "{hook}"
    );
    format!("repos:\n  - repo: local\n    hooks:\n{hook}")
}

/// A hook manager that installs git hooks from `.pre-commit-config.yaml`.
#[derive(Clone, Copy)]
enum Manager {
    PreCommit,
    Prek,
}

impl Manager {
    fn command(self, home: &Path) -> Command {
        match self {
            Manager::PreCommit => {
                let mut cmd = pre_commit();
                cmd.env("PRE_COMMIT_HOME", home);
                cmd
            }
            Manager::Prek => {
                let mut cmd = Command::new("prek");
                cmd.env("PREK_HOME", home)
                    .env("GIT_CONFIG_GLOBAL", "/dev/null")
                    .env("GIT_CONFIG_NOSYSTEM", "1");
                cmd
            }
        }
    }

    /// The manager's cache directory, shared by every run of this test.
    fn home(self) -> PathBuf {
        let name = match self {
            Manager::PreCommit => "pre-commit-push",
            Manager::Prek => "prek-push",
        };
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
    }
}

/// A repository whose pre-push hook `manager` installed, with an empty bare
/// remote `origin`.
struct Managed {
    manager: Manager,
    repo: Repo,
    remote: Tree,
}

impl Managed {
    fn new(manager: Manager) -> Managed {
        let remote = Tree::new();
        run_git(remote.path(), DATE, &["init", "-q", "--bare"]);
        let repo = Repo::new();
        repo.git(&["remote", "add", "origin", &remote.path().to_string_lossy()]);
        repo.write(".pre-commit-config.yaml", local_pre_push_config());
        let managed = Managed {
            manager,
            repo,
            remote,
        };
        let output = managed
            .manager
            .command(&manager.home())
            .current_dir(managed.repo.path())
            .args(["install", "--hook-type", "pre-push"])
            .output()
            .unwrap_or_else(|err| panic!("install: {err}"));
        assert!(output.status.success(), "{}", both(&output));
        managed
    }

    /// `git push origin ARGS`, through the manager's hook (or not, with
    /// `--no-verify` among the arguments).
    fn push(&self, args: &[&str]) -> Output {
        let home = self.manager.home();
        git_command(self.repo.path(), DATE)
            .env("PRE_COMMIT_HOME", &home)
            .env("PREK_HOME", &home)
            .env_remove("CI")
            .args(["push", "origin"])
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("git push: {err}"))
    }

    fn remote_tip(&self, branch: &str) -> Option<String> {
        let output = git_command(self.remote.path(), DATE)
            .args(["rev-parse", "--verify", "--quiet", branch])
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }
}

fn both(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Pushes through `manager`'s pre-push hook: to an empty remote (the whole
/// branch is new: pre-commit names no range at all), to a remote that has
/// the history (a range), on a new branch, and on top of a leak the remote
/// already holds.
fn manager_blocks_pushed_secrets(manager: Manager) {
    // An empty remote: the first push of a branch holding a key.
    let m = Managed::new(manager);
    m.repo.write("README.md", "hello\n");
    m.repo.commit("first");
    let key = anthropic_key(701);
    m.repo.write("app.py", format!("KEY = \"{key}\"\n"));
    m.repo.commit("adds a key");
    let output = m.push(&["main"]);
    let text = both(&output);
    assert!(
        !output.status.success(),
        "a key pushed to an empty remote went through:\n{text}"
    );
    assert!(text.contains("anthropic-api-key"), "{text}");
    assert!(text.contains("app.py:1:"), "{text}");
    assert_eq!(m.remote_tip("main"), None, "the push reached the remote");

    // Without the key, the branch goes through.
    m.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let output = m.push(&["main"]);
    assert!(output.status.success(), "{}", both(&output));

    // The remote has the history: a new commit with a key is blocked.
    let key = anthropic_key(702);
    m.repo
        .write("deploy.env", format!("ANTHROPIC_API_KEY={key}\n"));
    m.repo.commit("deploy settings");
    let output = m.push(&["main"]);
    let text = both(&output);
    assert!(
        !output.status.success(),
        "a pushed key went through:\n{text}"
    );
    assert!(text.contains("deploy.env"), "{text}");

    // A new branch off pushed history, with a key: blocked too.
    m.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    m.repo.git(&["checkout", "-q", "-b", "feature"]);
    let key = anthropic_key(703);
    m.repo.write("feature.py", format!("KEY = \"{key}\"\n"));
    m.repo.commit("feature");
    let output = m.push(&["feature"]);
    let text = both(&output);
    assert!(
        !output.status.success(),
        "a new branch's key went through:\n{text}"
    );
    assert!(text.contains("feature.py:1:"), "{text}");
    assert_eq!(m.remote_tip("feature"), None);

    // A leak the remote already holds (pushed knowingly) does not block
    // later clean pushes: only what a push adds is judged.
    let output = m.push(&["--no-verify", "feature"]);
    assert!(output.status.success(), "{}", both(&output));
    m.repo.write("CHANGELOG.md", "feature\n");
    let clean = m.repo.commit("changelog");
    let output = m.push(&["feature"]);
    assert!(
        output.status.success(),
        "a clean push on top of pushed history was blocked:\n{}",
        both(&output)
    );
    assert_eq!(m.remote_tip("feature"), Some(clean));
}

#[test]
#[cfg_attr(
    not(have_pre_commit),
    ignore = "pre-commit is not installed (pip install pre-commit; then touch build.rs)"
)]
fn pre_commit_pre_push_hook_blocks_pushed_secrets() {
    manager_blocks_pushed_secrets(Manager::PreCommit);
}

#[test]
#[cfg_attr(
    not(have_prek),
    ignore = "prek is not installed (pip install prek; then touch build.rs)"
)]
fn prek_pre_push_hook_blocks_pushed_secrets() {
    manager_blocks_pushed_secrets(Manager::Prek);
}

/// Run by hand at the pre-push stage, the manager names no push: the hook
/// fails and says what is missing instead of passing.
#[test]
#[cfg_attr(
    not(have_pre_commit),
    ignore = "pre-commit is not installed (pip install pre-commit; then touch build.rs)"
)]
fn pre_push_hook_run_by_hand_fails_closed() {
    let m = Managed::new(Manager::PreCommit);
    m.repo
        .write("app.py", format!("KEY = \"{}\"\n", anthropic_key(704)));
    m.repo.commit("adds a key");
    let output = m
        .manager
        .command(&Manager::PreCommit.home())
        .current_dir(m.repo.path())
        .env_remove("CI")
        .args(["run", "--hook-stage", "pre-push", "--color", "never"])
        .output()
        .unwrap_or_else(|err| panic!("pre-commit run: {err}"));
    let text = both(&output);
    assert!(
        !output.status.success(),
        "passed with nothing to check:\n{text}"
    );
    assert!(text.contains("nothing to check"), "{text}");
    assert!(text.contains("PRE_COMMIT_TO_REF"), "{text}");
}
