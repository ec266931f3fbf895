//! `history --range-from-event`: the range the GitHub Action scans, from the
//! event payload, in real clones of a real remote (a bare repository cloned
//! as actions/checkout with `fetch-depth: 0` does: every branch as a
//! remote-tracking ref, and no unreachable commit).

mod common;

use std::path::Path;

use common::git::{DATE, Repo, findings_of, run_git};
use common::*;
use serde_json::{Value, json};

const ZERO: &str = "0000000000000000000000000000000000000000";

/// A developer's repository pushing to a bare `origin`.
struct Remote {
    dev: Repo,
    origin: Tree,
}

impl Remote {
    fn new() -> Remote {
        let origin = Tree::new();
        run_git(origin.path(), DATE, &["init", "-q", "--bare", "-b", "main"]);
        let dev = Repo::new();
        dev.git(&["checkout", "-q", "-b", "main"]);
        let url = origin.path().to_string_lossy().into_owned();
        dev.git(&["remote", "add", "origin", &url]);
        Remote { dev, origin }
    }

    /// Commits `file` holding `key` and returns the commit.
    fn commit_key(&self, file: &str, key: &str) -> String {
        self.dev.write(file, format!("KEY = '{key}'\n"));
        self.dev.commit(file)
    }

    fn push(&self, args: &[&str]) {
        let mut all = vec!["push", "-q", "origin"];
        all.extend_from_slice(args);
        self.dev.git(&all);
    }

    /// A fresh clone of the remote as CI makes it: objects sent over the
    /// wire (so nothing the remote no longer reaches), `branch` checked out.
    fn ci_clone(&self, branch: &str) -> Tree {
        let ci = Tree::new();
        let url = format!("file://{}", self.origin.path().display());
        let dir = ci.path().to_string_lossy().into_owned();
        run_git(ci.path(), DATE, &["clone", "-q", "-b", branch, &url, &dir]);
        ci
    }
}

/// `history --range-from-event` in `dir` for event `name` with `payload`;
/// returns (exit code, report, stderr).
fn run_event(dir: &Path, name: &str, payload: &Value) -> (i32, Value, String) {
    let events = Tree::new();
    let path = events.write("event.json", payload.to_string());
    let output = secretgate()
        .current_dir(dir)
        .env("GITHUB_EVENT_NAME", name)
        .env("GITHUB_EVENT_PATH", &path)
        .args(["history", "--range-from-event", "--format", "json"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = if output.stdout.is_empty() {
        Value::Null
    } else {
        json_report(&output)
    };
    (output.status.code().unwrap_or(-1), report, stderr)
}

fn found(report: &Value, key: &str) -> bool {
    !findings_of(report, key).is_empty()
}

fn pull_request(base: &str, head: &str) -> Value {
    json!({
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": { "ref": "main", "sha": base },
            "head": { "ref": "feature", "sha": head },
        },
    })
}

#[test]
fn pull_request_target_scans_the_head_by_sha_not_the_checked_out_base() {
    let remote = Remote::new();
    let old = anthropic_key(1510);
    let base = remote.commit_key("old.py", &old);
    remote.push(&["main"]);
    remote.dev.git(&["checkout", "-q", "-b", "feature"]);
    let new = anthropic_key(1511);
    let head = remote.commit_key("new.py", &new);
    // A fork's branch exists on the base repository only as refs/pull/N/head.
    remote.push(&["feature:refs/pull/7/head"]);

    // pull_request_target checks out the base branch: HEAD is `main`.
    let ci = remote.ci_clone("main");
    let (code, _, stderr) = run_event(
        ci.path(),
        "pull_request_target",
        &pull_request(&base, &head),
    );
    assert_eq!(code, 2, "the head is not fetched yet: {stderr}");
    assert!(
        stderr.contains(&format!("git fetch origin {head}")),
        "{stderr}"
    );

    run_git(
        ci.path(),
        DATE,
        &["fetch", "-q", "origin", "refs/pull/7/head"],
    );
    for event in ["pull_request_target", "pull_request"] {
        let (code, report, stderr) = run_event(ci.path(), event, &pull_request(&base, &head));
        assert_eq!(code, 1, "{event}: {stderr} {report:#}");
        assert!(found(&report, &new), "{event}: {report:#}");
        assert!(
            !found(&report, &old),
            "{event}: base history scanned: {report:#}"
        );
        assert!(stderr.contains("pull request #7"), "{stderr}");
    }
}

#[test]
fn a_push_scans_what_it_adds_and_a_force_push_what_is_new_since_the_old_tip() {
    let remote = Remote::new();
    let k0 = anthropic_key(1512);
    let c1 = remote.commit_key("a.py", &k0);
    remote.push(&["main"]);
    let k1 = anthropic_key(1513);
    let c2 = remote.commit_key("b.py", &k1);
    remote.push(&["main"]);
    let push = |before: &str, after: &str| {
        json!({
            "ref": "refs/heads/main", "before": before, "after": after, "deleted": false,
            "repository": { "default_branch": "main" },
        })
    };

    let ci = remote.ci_clone("main");
    let (code, report, stderr) = run_event(ci.path(), "push", &push(&c1, &c2));
    assert_eq!(code, 1, "{stderr}");
    assert!(found(&report, &k1) && !found(&report, &k0), "{report:#}");

    // Force-push: c2 is replaced by c3, which is not its descendant.
    remote.dev.git(&["reset", "-q", "--hard", &c1]);
    let k2 = anthropic_key(1514);
    let c3 = remote.commit_key("c.py", &k2);
    remote.push(&["--force", "main"]);
    // A clone that still has the old tip: what c3 adds to it.
    run_git(ci.path(), DATE, &["fetch", "-q", "origin"]);
    let (code, report, stderr) = run_event(ci.path(), "push", &push(&c2, &c3));
    assert_eq!(code, 1, "{stderr}");
    assert!(found(&report, &k2), "{report:#}");
    assert!(!found(&report, &k0) && !found(&report, &k1), "{report:#}");

    // A fresh clone lacks c2: no error; the default branch is scanned whole.
    let fresh = remote.ci_clone("main");
    let (code, report, stderr) = run_event(fresh.path(), "push", &push(&c2, &c3));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not in this clone"), "{stderr}");
    assert!(found(&report, &k2) && found(&report, &k0), "{report:#}");
}

#[test]
fn a_new_branch_scans_what_the_default_branch_does_not_reach() {
    let remote = Remote::new();
    let old = anthropic_key(1515);
    remote.commit_key("old.py", &old);
    remote.push(&["main"]);
    remote.dev.git(&["checkout", "-q", "-b", "feature"]);
    let new = anthropic_key(1516);
    let tip = remote.commit_key("new.py", &new);
    // Two new branches with the same commits, pushed at once.
    remote.push(&["feature", "feature:copy"]);

    let ci = remote.ci_clone("feature");
    for branch in ["feature", "copy"] {
        let payload = json!({
            "ref": format!("refs/heads/{branch}"), "before": ZERO, "after": tip,
            "deleted": false, "created": true,
            "repository": { "default_branch": "main" },
        });
        let (code, report, stderr) = run_event(ci.path(), "push", &payload);
        assert_eq!(code, 1, "{branch}: {stderr}");
        assert!(found(&report, &new), "{branch}: {report:#}");
        assert!(
            !found(&report, &old),
            "{branch}: main's history scanned: {report:#}"
        );
        assert!(stderr.contains("new ref"), "{stderr}");
    }

    // A new tag on main's commits adds nothing.
    remote.dev.git(&["checkout", "-q", "main"]);
    let main = remote.dev.git(&["rev-parse", "HEAD"]);
    let payload = json!({
        "ref": "refs/tags/v1", "before": ZERO, "after": main, "deleted": false,
        "repository": { "default_branch": "main" },
    });
    let (code, report, stderr) = run_event(ci.path(), "push", &payload);
    assert_eq!(code, 0, "{stderr} {report:#}");
}

#[test]
fn a_deletion_scans_nothing_other_events_everything_and_outside_ci_is_an_error() {
    let remote = Remote::new();
    let old = anthropic_key(1517);
    let tip = remote.commit_key("old.py", &old);
    remote.push(&["main"]);
    let ci = remote.ci_clone("main");

    let payload = json!({
        "ref": "refs/heads/gone", "before": tip, "after": ZERO, "deleted": true,
        "repository": { "default_branch": "main" },
    });
    let (code, _, stderr) = run_event(ci.path(), "push", &payload);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("deleted"), "{stderr}");

    let (code, report, stderr) = run_event(ci.path(), "workflow_dispatch", &json!({}));
    assert_eq!(code, 1, "{stderr}");
    assert!(found(&report, &old), "{report:#}");

    let output = secretgate()
        .current_dir(ci.path())
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_EVENT_PATH")
        .args(["history", "--range-from-event"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("GITHUB_EVENT_PATH"), "{stderr}");
    assert!(stderr.contains("--range"), "{stderr}");
}
