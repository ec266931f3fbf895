//! `secretgate history` through the binary, on real repositories built with
//! `git` in temp dirs: what is reachable, attribution, ranges, occurrences and
//! damaged or unusual repositories.

mod common;

use std::path::Path;

use common::git::*;
use common::*;
use serde_json::Value;

/// Runs `secretgate history <dir> --format json`; returns (exit code, report, stderr).
fn history(dir: &Path, extra: &[&str]) -> Result<(i32, Value, String), Box<dyn std::error::Error>> {
    let output = secretgate()
        .arg("history")
        .arg(dir)
        .args(["--format", "json", "--quiet"])
        .args(extra)
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .output()?;
    let code = output.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = if output.stdout.is_empty() {
        Value::Null
    } else {
        json_report(&output)
    };
    Ok((code, report, stderr))
}

#[test]
fn secret_in_head_is_attributed_exactly() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(101);
    repo.write("README.md", "hello\n");
    repo.commit("first");
    repo.write("config/app.env", format!("# app\n{}", env_line(&key)));
    let commit = repo.commit("Add app config\n\nWith a body that is not the subject.");
    let blob = repo.git(&["rev-parse", "HEAD:config/app.env"]);

    let (code, report, stderr) = history(repo.path(), &[])?;
    assert_eq!(code, 1, "{stderr}");
    let f = only_finding(&report, &key);
    assert_eq!(f["rule"], "anthropic-api-key");
    assert_eq!(f["path"], "config/app.env");
    assert_eq!(f["line"], 2);
    assert_eq!(f["commit"], commit.as_str());
    assert_eq!(f["author"], NAME);
    assert_eq!(f["email"], EMAIL);
    assert_eq!(f["date"], DATE);
    assert_eq!(f["summary"], "Add app config");
    assert_eq!(f["blob"], blob.as_str());
    assert_eq!(f["reachable"], true);
    assert_eq!(f["occurrences"]["commits"], 1);
    assert_eq!(
        f["occurrences"]["paths"],
        serde_json::json!(["config/app.env"])
    );
    let summary = &report["summary"];
    assert_eq!(summary["commits"], 2);
    assert_eq!(summary["blobs"], 2);
    assert_eq!(summary["refs"], 2, "refs/heads/main and HEAD");
    assert_eq!(summary["shallow"], false);
    // Two blobs and two commit messages.
    assert_eq!(summary["files_scanned"], 4);
    Ok(())
}

#[test]
fn secret_deleted_from_head_is_still_found_in_history() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(102);
    repo.write(".env", env_line(&key));
    let added = repo.commit("add env");
    std::fs::remove_file(repo.path().join(".env"))?;
    repo.write("src/main.rs", "fn main() {}\n");
    repo.commit("remove env");

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    let f = only_finding(&report, &key);
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(f["path"], ".env");
    assert_eq!(f["occurrences"]["commits"], 1);
    Ok(())
}

#[test]
fn renamed_file_is_reported_once_at_its_original_path() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(103);
    repo.write("old/name.txt", env_line(&key));
    let added = repo.commit("add");
    repo.git(&["mv", "old/name.txt", "new-name.txt"]);
    repo.commit("rename");

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    let f = only_finding(&report, &key);
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(f["path"], "old/name.txt");
    assert_eq!(f["occurrences"]["commits"], 2);
    assert_eq!(
        f["occurrences"]["paths"],
        serde_json::json!(["new-name.txt", "old/name.txt"])
    );
    Ok(())
}

#[test]
fn secret_on_an_unmerged_branch_is_found() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(104);
    repo.write("a.txt", "a\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.cfg", env_line(&key));
    let on_branch = repo.commit("feature work");
    repo.git(&["checkout", "-q", "main"]);

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    assert_eq!(only_finding(&report, &key)["commit"], on_branch.as_str());
    Ok(())
}

#[test]
fn secret_reachable_only_from_a_tag_of_a_tag_is_found_and_tag_messages_are_scanned() -> TestResult {
    let repo = Repo::new();
    let in_file = anthropic_key(105);
    let in_message = anthropic_key(106);
    repo.write("a.txt", "a\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "release"]);
    repo.write("release.cfg", env_line(&in_file));
    let tagged = repo.commit("release config");
    repo.git(&[
        "tag",
        "-a",
        "v1",
        "-m",
        &format!("release v1\n\nkey {in_message}"),
    ]);
    repo.git(&["tag", "-a", "v1-signed-off", "v1", "-m", "a tag of a tag"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-D", "release"]);
    repo.git(&["tag", "-d", "v1"]);

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    assert_eq!(only_finding(&report, &in_file)["commit"], tagged.as_str());
    let f = only_finding(&report, &in_message);
    assert_eq!(f["path"], "<tag message>");
    assert_eq!(f["tag"], "v1");
    assert_eq!(f["commit"], tagged.as_str());
    assert_eq!(f["author"], "Committer", "the tagger");
    assert_eq!(report["summary"]["tags"], 2);
    Ok(())
}

#[test]
fn secret_in_the_stash_is_found() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(107);
    repo.write("settings.ini", "debug = true\n");
    repo.commit("base");
    repo.write("settings.ini", format!("debug = true\n{}", env_line(&key)));
    repo.git(&["stash", "-q"]);

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    let f = only_finding(&report, &key);
    assert_eq!(f["path"], "settings.ini");
    assert_eq!(f["reachable"], true);
    Ok(())
}

#[test]
fn secret_in_an_older_stash_entry_is_found_through_the_reflog() -> TestResult {
    let repo = Repo::new();
    let older = anthropic_key(120);
    repo.write("settings.ini", "debug = true\n");
    repo.commit("base");
    repo.write(
        "settings.ini",
        format!("debug = true\n{}", env_line(&older)),
    );
    repo.git(&["stash", "-q"]);
    repo.write("settings.ini", "debug = false\n");
    repo.git(&["stash", "-q"]);
    // refs/stash now names the second stash; the first lives only in the reflog.

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1, "{report}");
    let f = only_finding(&report, &older);
    assert_eq!(f["path"], "settings.ini");
    Ok(())
}

#[test]
fn secret_on_a_detached_head_is_found() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(108);
    repo.write("a.txt", "a\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("b.txt", env_line(&key));
    let detached = repo.commit("on a detached head");

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    assert_eq!(only_finding(&report, &key)["commit"], detached.as_str());
    Ok(())
}

#[test]
fn secret_added_only_in_a_merge_commit_is_attributed_to_the_merge() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(109);
    repo.write("a.txt", "a\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("side.txt", "side\n");
    repo.commit("side work");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", "main\n");
    repo.commit("main work");
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
    repo.write("evil.txt", env_line(&key));
    let merge = repo.commit("Merge branch 'side'");
    assert_eq!(
        repo.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        3
    );

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    let f = only_finding(&report, &key);
    assert_eq!(f["commit"], merge.as_str());
    assert_eq!(f["summary"], "Merge branch 'side'");
    Ok(())
}

#[test]
fn dangling_blob_is_found_only_with_all_objects() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(110);
    repo.write("a.txt", "a\n");
    repo.commit("base");
    std::fs::write(repo.path().join("loose.txt"), env_line(&key))?;
    let blob = repo.git(&["hash-object", "-w", "loose.txt"]);
    std::fs::remove_file(repo.path().join("loose.txt"))?;

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 0, "{report:#}");
    assert!(findings_of(&report, &key).is_empty());

    let (code, report, _) = history(repo.path(), &["--all-objects"])?;
    assert_eq!(code, 1);
    let f = only_finding(&report, &key);
    assert_eq!(f["blob"], blob.as_str());
    assert_eq!(f["reachable"], false);
    assert_eq!(f["commit"], Value::Null);
    assert_eq!(report["summary"]["unreachable_blobs"], 1);
    Ok(())
}

#[test]
fn secret_in_a_commit_message_is_found() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(111);
    repo.write("a.txt", "a\n");
    let commit = repo.commit(&format!("Use the new key\n\nANTHROPIC_API_KEY={key}"));

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    let f = only_finding(&report, &key);
    assert_eq!(f["path"], "<commit message>");
    assert_eq!(f["commit"], commit.as_str());
    assert_eq!(f["line"], 3);
    assert_eq!(f["summary"], "Use the new key");
    assert_eq!(f["blob"], Value::Null);
    Ok(())
}

#[test]
fn range_scans_only_what_it_adds() -> TestResult {
    let repo = Repo::new();
    let old = anthropic_key(112);
    let new = anthropic_key(113);
    repo.write("old.env", env_line(&old));
    let first = repo.commit("old secret");
    std::fs::remove_file(repo.path().join("old.env"))?;
    let second = repo.commit("drop it");
    repo.write("new.env", env_line(&new));
    // Re-adding content the excluded side already holds is not new.
    repo.write("again.env", env_line(&old));
    let third = repo.commit("new secret");

    let range = format!("{second}..HEAD");
    let (code, report, _) = history(repo.path(), &["--range", &range])?;
    assert_eq!(code, 1);
    assert_eq!(only_finding(&report, &new)["commit"], third.as_str());
    assert!(findings_of(&report, &old).is_empty(), "{report:#}");
    assert_eq!(report["summary"]["commits"], 1);
    assert_eq!(report["summary"]["range"], range.as_str());

    let (_, since, _) = history(repo.path(), &["--since-commit", &second])?;
    assert_eq!(since["findings"], report["findings"]);

    let (code, report, _) = history(repo.path(), &["--range", &format!("{first}..{second}")])?;
    assert_eq!(code, 0, "{report:#}");

    let (code, report, _) = history(repo.path(), &["--range", &format!("{first}~0..main")])?;
    assert_eq!(code, 1);
    assert_eq!(findings_of(&report, &old).len(), 0);
    assert_eq!(findings_of(&report, &new).len(), 1);
    Ok(())
}

#[test]
fn range_from_a_missing_commit_says_to_fetch_more_history() -> TestResult {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit("base");
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let (code, _, stderr) = history(repo.path(), &["--range", &format!("{missing}..HEAD")])?;
    assert_eq!(code, 2);
    assert!(stderr.contains(missing), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
    Ok(())
}

#[test]
fn secret_in_fifty_commits_is_reported_once_with_its_occurrences() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(114);
    repo.write("secrets.env", env_line(&key));
    let first = repo.commit("commit 0");
    for i in 1..50 {
        repo.write("counter.txt", format!("{i}\n"));
        repo.commit(&format!("commit {i}"));
    }
    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    let f = only_finding(&report, &key);
    assert_eq!(f["commit"], first.as_str());
    assert_eq!(f["occurrences"]["commits"], 50);
    assert_eq!(
        f["occurrences"]["paths"],
        serde_json::json!(["secrets.env"])
    );
    assert_eq!(report["summary"]["commits"], 50);
    Ok(())
}

#[test]
fn corrupt_object_is_reported_with_its_id_and_exits_two() -> TestResult {
    let repo = Repo::new();
    repo.write("a.txt", "nothing to see\n");
    repo.write("b.txt", "still nothing\n");
    repo.commit("base");
    let blob = repo.git(&["rev-parse", "HEAD:b.txt"]);
    let file = repo
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut permissions = std::fs::metadata(&file)?.permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&file, permissions)?;
    std::fs::write(&file, b"this is not zlib data at all")?;

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 2, "{report:#}");
    let skipped = &report["summary"]["skipped"];
    assert_eq!(skipped["by_reason"]["corrupt_object"], 1, "{report:#}");
    let item = &skipped["items"][0];
    assert_eq!(item["path"], "b.txt");
    assert!(
        item["detail"].as_str().is_some_and(|d| d.contains(&blob)),
        "{item}"
    );
    // The rest was still scanned: one blob and one message.
    assert_eq!(report["summary"]["files_scanned"], 2);
    Ok(())
}

#[test]
fn shallow_clone_is_scanned_as_far_as_it_goes() -> TestResult {
    let repo = Repo::new();
    let old = anthropic_key(115);
    let new = anthropic_key(116);
    repo.write("old.env", env_line(&old));
    repo.commit("old");
    std::fs::remove_file(repo.path().join("old.env"))?;
    repo.commit("drop old");
    repo.write("new.env", env_line(&new));
    let head = repo.commit("new");
    let clone = Tree::new();
    let url = format!("file://{}", repo.path().display());
    run_git(
        clone.path(),
        DATE,
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let shallow = clone.path().join("shallow");

    let (code, report, stderr) = history(&shallow, &[])?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(only_finding(&report, &new)["commit"], head.as_str());
    assert!(findings_of(&report, &old).is_empty());
    assert_eq!(report["summary"]["shallow"], true);
    assert_eq!(report["summary"]["commits"], 1);
    assert!(
        report["summary"]["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("shallow")),
        "{report:#}"
    );
    // The commit before the boundary is not here: a range from it cannot work.
    let (code, _, stderr) = history(&shallow, &["--since-commit", "HEAD~1"])?;
    assert_eq!(code, 2);
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
    Ok(())
}

#[test]
fn bare_repository_and_linked_worktree_are_read() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(117);
    repo.write("k.env", env_line(&key));
    repo.commit("key");
    let bare = Tree::new();
    let url = format!("file://{}", repo.path().display());
    run_git(bare.path(), DATE, &["clone", "-q", "--bare", &url, "b.git"]);
    let (code, report, _) = history(&bare.path().join("b.git"), &[])?;
    assert_eq!(code, 1);
    assert_eq!(findings_of(&report, &key).len(), 1);

    let linked = repo.path().join("linked");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        linked.to_str().unwrap_or("linked"),
    ]);
    let (code, report, _) = history(&linked, &[])?;
    assert_eq!(code, 1);
    assert_eq!(findings_of(&report, &key).len(), 1);
    Ok(())
}

#[test]
fn not_a_repository_exits_two_with_a_clear_message() -> TestResult {
    let tree = Tree::new();
    tree.write("a.txt", "a\n");
    let (code, report, stderr) = history(tree.path(), &[])?;
    assert_eq!(code, 2);
    assert_eq!(report, Value::Null);
    assert!(stderr.contains("not a git repository"), "{stderr}");
    Ok(())
}

#[test]
fn empty_repository_is_clean() -> TestResult {
    let repo = Repo::new();
    let (code, report, stderr) = history(repo.path(), &[])?;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(report["summary"]["commits"], 0);
    Ok(())
}

#[test]
fn human_output_names_the_commit() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(118);
    repo.write("k.env", env_line(&key));
    let commit = repo.commit("key");
    let output = secretgate().arg("history").arg(repo.path()).output()?;
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains(&key), "human output leaked the key");
    assert!(
        text.contains(&format!("commit  {commit} by {NAME} <{EMAIL}>")),
        "{text}"
    );
    assert!(text.contains("history: 2 refs, 1 commit, 1 blob"), "{text}");
    Ok(())
}

#[test]
fn secret_in_git_notes_is_found() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(119);
    repo.write("a.txt", "a\n");
    repo.commit("base");
    repo.git(&["notes", "add", "-m", &format!("ANTHROPIC_API_KEY={key}")]);
    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1);
    let f = only_finding(&report, &key);
    assert_eq!(f["summary"], "Notes added by 'git notes add'");
    Ok(())
}

#[test]
fn repository_behind_a_dot_git_file_is_read() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(120);
    repo.write("k.env", env_line(&key));
    repo.commit("key");
    let outer = Tree::new();
    let separate = outer.path().join("separate.git");
    std::fs::rename(repo.path().join(".git"), &separate)?;
    repo.write(".git", format!("gitdir: {}\n", separate.display()));
    let (code, report, stderr) = history(repo.path(), &[])?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(findings_of(&report, &key).len(), 1);
    Ok(())
}

#[test]
fn missing_tree_is_reported_and_the_rest_is_scanned() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(121);
    repo.write("top.env", env_line(&key));
    repo.write("sub/inner.txt", "inner\n");
    repo.commit("base");
    let tree = repo.git(&["rev-parse", "HEAD:sub"]);
    let file = repo
        .path()
        .join(".git/objects")
        .join(&tree[..2])
        .join(&tree[2..]);
    std::fs::remove_file(&file)?;

    let (code, report, _) = history(repo.path(), &[])?;
    assert_eq!(code, 1, "the finding wins over the unread tree");
    assert_eq!(findings_of(&report, &key).len(), 1);
    let skipped = &report["summary"]["skipped"];
    assert_eq!(skipped["by_reason"]["missing_object"], 1, "{report:#}");
    assert_eq!(skipped["items"][0]["path"], "sub");
    assert!(
        skipped["items"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&tree))
    );
    Ok(())
}

/// A packed history, where most versions of a file are deltas of another:
/// the audit rescans only what each delta changes and carries the rest of
/// the matches over. It must find exactly what scanning every version in
/// full finds, with the same attribution.
#[test]
fn packed_deltas_find_what_full_rescans_find() -> TestResult {
    let repo = Repo::new();
    let early = anthropic_key(301);
    let late = anthropic_key(302);
    let filler: Vec<String> = (0..200)
        .map(|i| format!("def handler_{i}(request):\n    return respond(request, {i})\n"))
        .collect();
    let mut commits = Vec::new();
    for version in 0..40 {
        let mut lines = filler.clone();
        lines.truncate(120 + version * 2);
        lines[version] = format!("def handler_{version}(request):  # edited in v{version}\n");
        if (10..15).contains(&version) {
            lines.insert(60, env_line(&early));
        }
        if version >= 20 {
            // Added at 20, then moved further down the file from 30 on.
            let at = if version >= 30 { 100 } else { 40 };
            lines.insert(
                at,
                format!("PASSWORD_FALLBACK = 'unused'\n{}", env_line(&late)),
            );
        }
        repo.write("app/handlers.py", lines.concat());
        commits.push(repo.commit(&format!("version {version}")));
    }
    repo.git(&["gc", "--aggressive", "--quiet"]);
    let deltas = repo.git(&[
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objecttype) %(deltabase)",
    ]);
    let blob_deltas = deltas
        .lines()
        .filter(|l| l.starts_with("blob ") && !l.ends_with(&"0".repeat(40)))
        .count();
    assert!(
        blob_deltas > 20,
        "git stored too few deltas to test: {deltas}"
    );

    let (code, report, _) = history(repo.path(), &[])?;
    let (full_code, full_report, _) = history(repo.path(), &["--full-rescan"])?;
    assert_eq!((code, full_code), (1, 1));
    assert_eq!(report["findings"], full_report["findings"]);
    let early_found = findings_of(&report, &early);
    assert_eq!(early_found.len(), 5, "one per blob holding it: {report:#}");
    assert!(
        early_found
            .iter()
            .any(|f| f["commit"] == commits[10].as_str())
    );
    let late_found = findings_of(&report, &late);
    assert_eq!(late_found.len(), 20, "one per blob holding it: {report:#}");
    let first = late_found
        .iter()
        .find(|f| f["commit"] == commits[20].as_str())
        .ok_or("the late key is not attributed to version 20")?;
    // 40 two-line handlers (one of them edited down to a single line), the
    // PASSWORD_FALLBACK line, then the key.
    assert_eq!(first["line"], 81);
    Ok(())
}

/// With several threads the tree walk cuts the history into runs walked in
/// parallel and merged oldest first; attribution, occurrences and counts must
/// be exactly those of one thread walking it all.
#[test]
fn parallel_tree_walk_attributes_like_a_single_walk() -> TestResult {
    let repo = Repo::new();
    let keys: Vec<String> = (0..6).map(|i| anthropic_key(400 + i)).collect();
    for version in 0..120 {
        repo.write(
            &format!("src/module_{}.py", version % 7),
            format!("VERSION = {version}\n"),
        );
        match version {
            5 => repo.write("config/.env", env_line(&keys[0])),
            30 => {
                // A secret file renamed in a later run of commits.
                repo.git(&["mv", "config/.env", "config/prod.env"]);
            }
            40 => repo.write("deploy/settings.py", env_line(&keys[1])),
            70 => {
                std::fs::remove_file(repo.path().join("deploy/settings.py"))?;
            }
            80 => repo.write("docs/notes.md", format!("old key {}\n", keys[2])),
            _ => {}
        }
        repo.git(&["add", "-A"]);
        repo.commit(&format!("version {version}"));
    }
    repo.git(&["checkout", "-q", "-b", "side", "HEAD~50"]);
    repo.write("side.txt", env_line(&keys[3]));
    repo.commit("side branch secret");
    repo.git(&["checkout", "-q", "-"]);
    repo.git(&["merge", "-q", "--no-edit", "side"]);

    let (one_code, one, _) = history(repo.path(), &["--threads", "1"])?;
    let (many_code, many, _) = history(repo.path(), &["--threads", "4"])?;
    assert_eq!((one_code, many_code), (1, 1));
    assert_eq!(one["findings"], many["findings"]);
    assert_eq!(one["summary"]["blobs"], many["summary"]["blobs"]);
    assert_eq!(one["summary"]["commits"], many["summary"]["commits"]);
    let renamed = only_finding(&many, &keys[0]);
    assert_eq!(renamed["path"], "config/.env");
    assert_eq!(
        renamed["occurrences"]["paths"],
        serde_json::json!(["config/.env", "config/prod.env"])
    );
    assert_eq!(findings_of(&many, &keys[3]).len(), 1);
    Ok(())
}

/// In a pack, newer (larger) versions are usually the bases of older ones.
/// A base over `--max-file-size` is never decoded by the pack walk; the
/// smaller versions derived from it are still read (one by one) and scanned,
/// and the large ones are counted as too large.
#[test]
fn packed_blobs_over_the_size_limit_are_skipped_not_their_smaller_versions() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(501);
    let line = "x = compute(a, b, c)  # padding padding padding padding\n";
    for version in 0..8 {
        let body = line.repeat(10 + version * 20);
        repo.write("src/big.py", format!("{}{body}", env_line(&key)));
        repo.commit(&format!("version {version}"));
    }
    repo.git(&["gc", "--aggressive", "--quiet"]);
    let (code, report, _) = history(repo.path(), &["--max-file-size", "3000"])?;
    assert_eq!(code, 1, "{report:#}");
    let found = findings_of(&report, &key);
    assert!(!found.is_empty(), "{report:#}");
    assert!(report["summary"]["skipped"]["by_reason"]["too_large"].as_u64() > Some(0));
    let (_, full, _) = history(repo.path(), &["--max-file-size", "3000", "--full-rescan"])?;
    assert_eq!(report["findings"], full["findings"]);
    assert_eq!(report["summary"]["skipped"], full["summary"]["skipped"]);
    Ok(())
}
