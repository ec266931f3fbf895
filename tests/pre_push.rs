//! `history --pre-push` through real `git push`es: what a push sends is
//! scanned, tags included (their messages, and the blobs or trees a tag may
//! name), and a hook that is given nothing to go on fails closed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::git::*;
use common::*;

fn secretgate_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("secretgate")
}

/// A repository with secretgate's own pre-push hook, and an empty bare
/// remote `origin`.
struct Pushing {
    repo: Repo,
    remote: Tree,
}

impl Pushing {
    fn new() -> Pushing {
        let remote = Tree::new();
        run_git(remote.path(), DATE, &["init", "-q", "--bare"]);
        let repo = Repo::new();
        let url = remote.path().to_string_lossy().into_owned();
        repo.git(&["remote", "add", "origin", &url]);
        let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-push");
        std::fs::copy(&hook, repo.path().join(".git/hooks/pre-push"))
            .unwrap_or_else(|err| panic!("{err}"));
        Pushing { repo, remote }
    }

    fn push(&self, args: &[&str]) -> Output {
        git_command(self.repo.path(), DATE)
            .env("SECRETGATE", secretgate_bin())
            .env_remove("CI")
            .args(["push", "-q", "origin"])
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("git push: {err}"))
    }

    /// Whether the remote has `name` (a branch or tag ref).
    fn remote_has(&self, name: &str) -> bool {
        git_command(self.remote.path(), DATE)
            .args(["rev-parse", "--verify", "--quiet", name])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

/// What a push printed: the hook's report (stdout) and git's and the hook's
/// messages (stderr).
fn stderr(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_pushed_annotated_tag_is_scanned_message_blob_and_tree() {
    let p = Pushing::new();
    p.repo.write("README.md", "hello\n");
    p.repo.commit("first");
    let output = p.push(&["main"]);
    assert!(output.status.success(), "{}", stderr(&output));

    // A clean annotated tag on a commit the remote has goes through.
    p.repo.git(&["tag", "-a", "v1", "-m", "release 1"]);
    let output = p.push(&["v1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(p.remote_has("refs/tags/v1"));

    // The same commit, tagged with a key in the message: blocked.
    let in_message = anthropic_key(601);
    p.repo.git(&[
        "tag",
        "-a",
        "v2",
        "-m",
        &format!("release 2\n\ndeployed with ANTHROPIC_API_KEY={in_message}"),
    ]);
    let output = p.push(&["v2"]);
    assert!(!output.status.success(), "the tag message went through");
    let text = stderr(&output);
    assert!(text.contains("push blocked"), "{text}");
    assert!(!p.remote_has("refs/tags/v2"), "the tag reached the remote");

    // A tag naming a blob, annotated or not: the blob is what is pushed.
    let blob_key = anthropic_key(602);
    let key_file = p
        .repo
        .tree
        .write("../key-blob.txt", format!("{blob_key}\n"));
    let blob = p
        .repo
        .git(&["hash-object", "-w", &key_file.to_string_lossy()]);
    p.repo.git(&["tag", "-a", "keyblob", "-m", "a blob", &blob]);
    p.repo.git(&["tag", "lightblob", &blob]);
    for tag in ["keyblob", "lightblob"] {
        let output = p.push(&[tag]);
        assert!(!output.status.success(), "a tag naming a blob went through");
        let text = stderr(&output);
        assert!(text.contains("push blocked"), "{text}");
        assert!(text.contains(&format!("refs/tags/{tag}")), "{text}");
        assert!(!p.remote_has(&format!("refs/tags/{tag}")));
    }

    // A tag naming a tree: every file in it is pushed.
    let tree_key = anthropic_key(603);
    p.repo
        .write("deploy/app.env", format!("ANTHROPIC_API_KEY={tree_key}\n"));
    p.repo.git(&["add", "deploy/app.env"]);
    let tree = p.repo.git(&["write-tree"]);
    p.repo.git(&["reset", "-q"]);
    p.repo.git(&["tag", "-a", "keytree", "-m", "a tree", &tree]);
    let output = p.push(&["keytree"]);
    assert!(!output.status.success(), "a tag naming a tree went through");
    let text = stderr(&output);
    assert!(text.contains("refs/tags/keytree/deploy/app.env"), "{text}");

    // What the hook ran, as JSON: each finding names its tag.
    let tip = |name: &str| p.repo.git(&["rev-parse", name]);
    let zero = "0".repeat(40);
    let lines = format!(
        "refs/tags/v2 {} refs/tags/v2 {zero}\nrefs/tags/keyblob {} refs/tags/keyblob {zero}\n",
        tip("v2"),
        tip("keyblob")
    );
    let output = secretgate()
        .current_dir(p.repo.path())
        .args(["history", "--pre-push", "--remote", "origin", "--quiet"])
        .args(["--format", "json"])
        .write_stdin(lines)
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json_report(&output);
    let message = only_finding(&report, &in_message);
    assert_eq!(message["path"], "<tag message>");
    assert_eq!(message["tag"], "v2");
    let blob = only_finding(&report, &blob_key);
    assert_eq!(blob["path"], "refs/tags/keyblob");
    assert_eq!(report["summary"]["tags"], 2, "{report:#}");
    // The tagged commit is on the remote already: no commit is scanned again.
    assert_eq!(report["summary"]["commits"], 0, "{report:#}");
}

#[test]
fn pre_push_with_nothing_to_go_on_fails_closed() {
    let p = Pushing::new();
    p.repo
        .write("app.py", format!("KEY = \"{}\"\n", anthropic_key(611)));
    p.repo.commit("adds a key");
    // No lines on stdin and no hook-manager variables: exit 2, saying what
    // is missing, never a pass.
    let output = secretgate()
        .current_dir(p.repo.path())
        .env_remove("PRE_COMMIT_TO_REF")
        .env_remove("PRE_COMMIT_SOURCE")
        .env_remove("PRE_COMMIT_LOCAL_BRANCH")
        .args(["history", "--pre-push", "--quiet"])
        .write_stdin("")
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("nothing to check"), "{text}");
    assert!(text.contains("PRE_COMMIT_TO_REF"), "{text}");
    assert!(text.contains("--range"), "{text}");

    // A hook manager's variables alone name the push.
    let output = secretgate()
        .current_dir(p.repo.path())
        .env("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
        .env("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
        .args(["history", "--pre-push", "--quiet"])
        .write_stdin("")
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    // Only deletions: git's lines say nothing is pushed.
    let zero = "0".repeat(40);
    let head = p.repo.git(&["rev-parse", "HEAD"]);
    let output = secretgate()
        .current_dir(p.repo.path())
        .args(["history", "--pre-push", "--quiet"])
        .write_stdin(format!("(delete) {zero} refs/heads/old {head}\n"))
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // git's own hook with nothing to push ("Everything up-to-date"): git
    // runs it with no lines, and the hook lets that through.
    p.repo.git(&["reset", "-q", "--hard", "HEAD~0"]);
    p.repo.write("app.py", "KEY = os.environ['KEY']\n");
    p.repo
        .git(&["commit", "-q", "-a", "--amend", "-m", "no key"]);
    let output = p.push(&["main"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = p.push(&["main"]);
    assert!(
        output.status.success(),
        "an up-to-date push failed:\n{}",
        stderr(&output)
    );
}

/// What another remote has says nothing about the remote pushed to: a key
/// already on a private mirror (`mirror/main` reaches it) is new to an empty
/// `origin`, and the push there is blocked.
#[test]
fn another_remotes_tracking_refs_do_not_count_as_pushed() {
    let p = Pushing::new();
    let mirror = Tree::new();
    run_git(mirror.path(), DATE, &["init", "-q", "--bare"]);
    p.repo
        .git(&["remote", "add", "mirror", &mirror.path().to_string_lossy()]);
    p.repo
        .write("app.py", format!("KEY = \"{}\"\n", anthropic_key(612)));
    p.repo.commit("adds a key");
    p.repo.git(&["push", "-q", "--no-verify", "mirror", "main"]);
    assert!(
        !p.repo
            .git(&["rev-parse", "refs/remotes/mirror/main"])
            .is_empty()
    );

    let output = p.push(&["main"]);
    assert!(!output.status.success(), "{}", stderr(&output));
    assert!(!p.remote_has("refs/heads/main"), "the key reached origin");

    // Once origin has it, a push that adds nothing new goes through.
    p.repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    p.repo.write("README.md", "clean\n");
    p.repo.commit("clean");
    let output = p.push(&["main"]);
    assert!(output.status.success(), "{}", stderr(&output));

    // Pushed to a URL rather than a remote's name, git passes the URL as
    // the remote: no tracking refs, and no error.
    p.repo.write("README.md", "clean again\n");
    p.repo.commit("clean again");
    let output = git_command(p.repo.path(), DATE)
        .env("SECRETGATE", secretgate_bin())
        .env_remove("CI")
        .args(["push", "-q"])
        .arg(format!("file://{}", mirror.path().display()))
        .arg("main")
        .output()
        .unwrap_or_else(|err| panic!("git push: {err}"));
    assert!(output.status.success(), "{}", stderr(&output));
}
