//! `secretgate staged` and the pre-commit hook on real repositories: only what
//! the commit adds counts, read from the index, and a real `git commit` is
//! blocked through the installed hook.

mod common;

use std::path::Path;

use common::git::*;
use common::*;
use serde_json::Value;

/// Runs `secretgate staged --format json` in `dir`; returns (exit code, report).
fn staged(dir: &Path) -> (i32, Value) {
    let output = secretgate()
        .current_dir(dir)
        .args(["staged", "--format", "json"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    (output.status.code().unwrap_or(-1), json_report(&output))
}

fn secrets(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == "secret")
        .filter_map(|f| f["secret"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn staged_secret_is_found_at_its_line_in_the_staged_file() {
    let repo = Repo::new();
    repo.write("app.py", "import os\n");
    repo.commit("base");
    let key = anthropic_key(200);
    repo.write("app.py", format!("import os\n\nKEY = '{key}'\n"));
    repo.git(&["add", "app.py"]);
    let (code, report) = staged(repo.path());
    assert_eq!(code, 1, "{report}");
    let f = &report["findings"][0];
    assert_eq!(f["path"], "app.py");
    assert_eq!(f["line"], 3);
    assert_eq!(f["rule"], "anthropic-api-key");
}

#[test]
fn nothing_staged_is_clean_and_silent() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit("base");
    let output = secretgate()
        .current_dir(repo.path())
        .arg("staged")
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn only_added_lines_count_not_secrets_already_committed() {
    let repo = Repo::new();
    let old = anthropic_key(201);
    repo.write("config.env", format!("ANTHROPIC_API_KEY={old}\n"));
    repo.commit("an old, accepted leak");
    repo.write(
        "config.env",
        format!("DEBUG=1\nANTHROPIC_API_KEY={old}\nLOG=info\n"),
    );
    repo.git(&["add", "-A"]);
    let (code, report) = staged(repo.path());
    assert_eq!(code, 0, "an unchanged line was reported: {report}");
}

#[test]
fn the_index_is_judged_not_the_work_tree() {
    let repo = Repo::new();
    repo.write("a.py", "x = 1\n");
    repo.commit("base");
    let key = anthropic_key(202);
    // Staged: a clean change. Work tree: a secret on top, not staged (as after `git add -p`).
    repo.write("a.py", "x = 2\n");
    repo.git(&["add", "a.py"]);
    repo.write("a.py", format!("x = 2\nKEY = '{key}'\n"));
    let (code, report) = staged(repo.path());
    assert_eq!(code, 0, "unstaged work-tree content was judged: {report}");
    // And the reverse: the secret is staged, then removed from the work tree only.
    repo.git(&["add", "a.py"]);
    repo.write("a.py", "x = 2\n");
    let (code, report) = staged(repo.path());
    assert_eq!(code, 1);
    assert_eq!(secrets(&report), [key]);
}

#[test]
fn first_commit_of_a_new_repository_is_scanned() {
    let repo = Repo::new();
    let key = anthropic_key(203);
    repo.write(".env", format!("ANTHROPIC_API_KEY={key}\n"));
    repo.git(&["add", "-A"]);
    let (code, report) = staged(repo.path());
    assert_eq!(code, 1);
    assert_eq!(secrets(&report), [key]);
    let files: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == "file")
        .collect();
    assert_eq!(files.len(), 1, "a new .env is a sensitive file: {report}");
}

#[test]
fn renames_and_deletions_add_nothing() {
    let repo = Repo::new();
    let key = anthropic_key(204);
    repo.write("old/settings.ini", format!("ANTHROPIC_API_KEY={key}\n"));
    repo.write(
        "gone.ini",
        format!("ANTHROPIC_API_KEY={}\n", anthropic_key(205)),
    );
    repo.commit("base");
    repo.git(&["mv", "old/settings.ini", "new-settings.ini"]);
    repo.git(&["rm", "-q", "gone.ini"]);
    let (code, report) = staged(repo.path());
    assert_eq!(code, 0, "{report}");
}

#[test]
fn outside_a_repository_is_an_error() {
    let tree = Tree::new();
    let output = secretgate()
        .current_dir(tree.path())
        .env(
            "GIT_CEILING_DIRECTORIES",
            tree.path().parent().unwrap_or(tree.path()),
        )
        .arg("staged")
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a git repository"));
}

/// Installs hooks/pre-commit into the repository, pointing it at the binary under test.
fn install_hook(repo: &Repo) {
    let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-commit");
    let target = repo.path().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(target.parent().unwrap_or(repo.path()))
        .unwrap_or_else(|err| panic!("{err}"));
    std::fs::copy(&hook, &target).unwrap_or_else(|err| panic!("{err}"));
}

/// The binary under test, as a path the hooks can run.
fn secretgate_bin() -> String {
    assert_cmd::cargo::cargo_bin("secretgate")
        .to_str()
        .unwrap_or_default()
        .to_string()
}

/// A repository with one commit and hooks/pre-commit installed.
fn repo_with_hook() -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("base");
    install_hook(&repo);
    repo
}

fn git_commit(repo: &Repo, secretgate_bin: &str) -> std::process::Output {
    git_command(repo.path(), DATE)
        .env("SECRETGATE", secretgate_bin)
        .env_remove("CI")
        .args(["commit", "-q", "-m", "change"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn hook_blocks_a_real_commit_with_a_secret_and_lets_a_clean_one_through() {
    let bin = &secretgate_bin();
    let repo = repo_with_hook();

    repo.write(
        "app.ts",
        format!("const key = \"{}\";\n", anthropic_key(206)),
    );
    repo.git(&["add", "app.ts"]);
    let blocked = git_commit(&repo, bin);
    assert!(!blocked.status.success(), "the commit went through");
    // git sends a hook's stdout to stderr.
    let message = String::from_utf8_lossy(&blocked.stderr);
    assert!(message.contains("app.ts:1:"), "{message}");
    assert!(message.contains("anthropic-api-key"), "{message}");
    assert!(message.contains("secretgate:allow"), "{message}");
    assert!(message.contains("--no-verify"), "{message}");
    assert!(
        !message.contains(&anthropic_key(206)),
        "the secret was printed in full"
    );
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");

    repo.write("app.ts", "const key = process.env.ANTHROPIC_API_KEY;\n");
    repo.git(&["add", "app.ts"]);
    let passed = git_commit(&repo, bin);
    assert!(
        passed.status.success(),
        "{}",
        String::from_utf8_lossy(&passed.stdout)
    );
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "2");

    repo.write(
        "test.ts",
        format!(
            "const fixture = \"{}\"; // secretgate:allow\n",
            anthropic_key(207)
        ),
    );
    repo.git(&["add", "test.ts"]);
    let allowed = git_commit(&repo, bin);
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stdout)
    );
}

#[test]
fn hook_fails_closed_when_secretgate_is_missing() {
    let repo = repo_with_hook();
    repo.write("notes.txt", "nothing secret\n");
    repo.git(&["add", "notes.txt"]);
    let output = git_commit(&repo, "/nonexistent/secretgate");
    assert!(!output.status.success(), "a commit went through unchecked");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("was not found"), "{stderr}");
    assert!(stderr.contains("--no-verify"), "{stderr}");
}

#[test]
fn pre_push_hook_blocks_new_secrets_but_not_already_pushed_history() {
    let bin = &secretgate_bin();
    let remote = Tree::new();
    run_git(remote.path(), DATE, &["init", "-q", "--bare"]);
    let remote_url = remote.path().to_str().unwrap_or_default().to_string();

    let repo = Repo::new();
    let old = anthropic_key(210);
    repo.write("old.env", format!("ANTHROPIC_API_KEY={old}\n"));
    repo.commit("an old leak, already on the remote");
    repo.git(&["remote", "add", "origin", &remote_url]);
    repo.git(&["push", "-q", "origin", "main"]);

    let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-push");
    std::fs::copy(&hook, repo.path().join(".git/hooks/pre-push"))
        .unwrap_or_else(|err| panic!("{err}"));
    let push = |args: &[&str]| {
        git_command(repo.path(), DATE)
            .env("SECRETGATE", bin)
            .env_remove("CI")
            .args(["push", "-q", "origin"])
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("{err}"))
    };

    // A clean commit on top of old history goes through.
    repo.write("README.md", "docs\n");
    repo.commit("clean");
    let output = push(&["main"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A secret in any of the pushed commits blocks the push, also on a new branch.
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let new = anthropic_key(211);
    repo.write("app.py", format!("KEY = '{new}'\n"));
    repo.commit("adds a secret");
    repo.write("app.py", "KEY = os.environ['KEY']\n");
    repo.commit("removes it again, too late");
    let output = push(&["feature"]);
    assert!(
        !output.status.success(),
        "a push with a secret went through"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("push blocked"), "{stderr}");
    let remote_branches = run_git(remote.path(), DATE, &["branch", "--list", "feature"]);
    assert!(remote_branches.is_empty(), "the branch reached the remote");

    // Deleting a remote branch pushes nothing and is never blocked.
    let output = push(&[":refs/heads/nonexistent-but-harmless"]);
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("push blocked"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn hook_lets_an_accepted_secret_through_and_blocks_a_new_one() {
    let bin = &secretgate_bin();
    let repo = repo_with_hook();

    let accepted = anthropic_key(220);
    repo.write("fixtures/key.txt", format!("{accepted}\n"));
    repo.git(&["add", "-A"]);
    let (_, report) = staged(repo.path());
    let fingerprint = report["findings"][0]["fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(fingerprint.len(), 32, "{report}");
    repo.write(
        ".secretgateignore",
        format!("{fingerprint} fixtures/key.txt # test fixture\n"),
    );
    repo.git(&["add", "-A"]);
    let passed = git_commit(&repo, bin);
    assert!(
        passed.status.success(),
        "{}",
        String::from_utf8_lossy(&passed.stderr)
    );

    repo.write("app.py", format!("KEY = '{}'\n", anthropic_key(221)));
    repo.git(&["add", "-A"]);
    let blocked = git_commit(&repo, bin);
    assert!(!blocked.status.success(), "a new secret went through");
}

#[test]
fn hook_honours_a_baseline_named_in_the_repository_config() {
    let bin = &secretgate_bin();
    let repo = repo_with_hook();

    let old = anthropic_key(230);
    repo.write("legacy/config.txt", format!("{old}\n"));
    repo.git(&["add", "-A"]);
    let output = secretgate()
        .current_dir(repo.path())
        .args([
            "staged",
            "--format",
            "json",
            "-o",
            "secretgate-baseline.json",
        ])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(1));
    repo.write(
        ".secretgate.toml",
        "[allow]\nbaseline = \"secretgate-baseline.json\"\n",
    );
    repo.git(&["add", "-A"]);
    let passed = git_commit(&repo, bin);
    assert!(
        passed.status.success(),
        "{}",
        String::from_utf8_lossy(&passed.stderr)
    );

    repo.write("app.py", format!("KEY = '{}'\n", anthropic_key(231)));
    repo.git(&["add", "-A"]);
    let blocked = git_commit(&repo, bin);
    assert!(!blocked.status.success(), "a new secret went through");
}

/// UTF-16LE with a byte-order mark, as PowerShell's `>` writes it.
fn utf16le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xfe];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

/// Added lines must be numbered as findings are, in the transcoded text: in
/// UTF-16, `上` (U+4E0A) holds a 0x0A byte, and a diff of the raw bytes saw an
/// extra line there, so the added line below it was judged unchanged.
#[test]
fn utf16_added_line_is_found_after_a_char_holding_a_newline_byte() {
    let repo = Repo::new();
    repo.write("notes.txt", utf16le("上\nx\ny\n"));
    repo.commit("base");
    let key = anthropic_key(202);
    repo.write("notes.txt", utf16le(&format!("上\nKEY={key}\nx\ny\n")));
    repo.git(&["add", "notes.txt"]);
    let (code, report) = staged(repo.path());
    assert_eq!(code, 1, "the added secret was missed: {report}");
    assert_eq!(secrets(&report), [key]);
    assert_eq!(report["findings"][0]["line"], 2);
}
