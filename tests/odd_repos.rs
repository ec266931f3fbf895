//! Repositories as they are found in the wild, not as tests like them:
//! empty, unborn, SHA-256, partial clones, damaged packs, submodules, ten
//! thousand refs, file names no UTF-8 decoder likes. Each either scans
//! correctly or says exactly what it could not read (exit 2); none is a
//! silent clean. What `tests/history.rs` already covers (bare, linked work
//! tree for `history`, shallow, corrupt loose object, missing tree) is not
//! repeated here.

mod common;

use std::path::Path;

use common::git::*;
use common::*;
use serde_json::Value;

type Run = (i32, Value, String);

/// Runs `secretgate <args> --format json` in `dir`; returns (exit code, report, stderr).
fn run_in(dir: &Path, args: &[&str]) -> Result<Run, Box<dyn std::error::Error>> {
    let output = secretgate()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json"])
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

fn history(dir: &Path) -> Result<Run, Box<dyn std::error::Error>> {
    run_in(dir, &["history", ".", "--quiet"])
}

fn staged(dir: &Path) -> Result<Run, Box<dyn std::error::Error>> {
    run_in(dir, &["staged"])
}

fn scan(dir: &Path) -> Result<Run, Box<dyn std::error::Error>> {
    run_in(dir, &["scan", "."])
}

fn paths_of<'a>(report: &'a Value, secret: &str) -> Vec<&'a str> {
    findings_of(report, secret)
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect()
}

#[test]
fn empty_repository_is_clean_for_every_command() -> TestResult {
    let repo = Repo::new();
    let (code, report, stderr) = staged(repo.path())?;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["summary"]["findings"], 0);
    let (code, report, stderr) = history(repo.path())?;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        report["summary"]["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("no commits")),
        "{report:#}"
    );
    let (code, _, stderr) = scan(repo.path())?;
    assert_eq!(code, 0, "{stderr}");
    Ok(())
}

#[test]
fn unborn_branch_with_staged_files_is_judged_by_staged_and_clean_in_history() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(401);
    repo.write("app.py", format!("KEY = \"{key}\"\n"));
    repo.git(&["add", "app.py"]);
    let (code, report, stderr) = staged(repo.path())?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(findings_of(&report, &key).len(), 1, "{report:#}");
    // Nothing is committed yet: history has nothing to read, and says so.
    let (code, report, stderr) = history(repo.path())?;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["summary"]["commits"], 0);
    assert!(
        report["summary"]["notes"]
            .to_string()
            .contains("no commits")
    );
    Ok(())
}

#[test]
fn linked_worktree_is_scanned_from_inside_by_every_command() -> TestResult {
    let repo = Repo::new();
    let committed = anthropic_key(402);
    repo.write("k.env", env_line(&committed));
    repo.commit("key");
    let linked = repo.path().join("linked");
    repo.git(&["worktree", "add", "-q", "-b", "side", "linked"]);
    let staged_key = anthropic_key(403);
    std::fs::write(linked.join("new.py"), format!("K = \"{staged_key}\"\n"))?;
    run_git(&linked, DATE, &["add", "new.py"]);

    let (code, report, stderr) = staged(&linked)?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths_of(&report, &staged_key), ["new.py"]);
    assert!(findings_of(&report, &committed).is_empty());
    let (code, report, stderr) = history(&linked)?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths_of(&report, &committed), ["k.env"]);
    let (code, report, stderr) = scan(&linked)?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths_of(&report, &staged_key), ["new.py"]);
    assert_eq!(paths_of(&report, &committed), ["k.env"]);
    Ok(())
}

#[test]
fn bare_repository_has_nothing_staged_and_a_history() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(404);
    repo.write("k.env", env_line(&key));
    repo.commit("key");
    let outer = Tree::new();
    let url = format!("file://{}", repo.path().display());
    run_git(
        outer.path(),
        DATE,
        &["clone", "-q", "--bare", &url, "b.git"],
    );
    let bare = outer.path().join("b.git");
    let (code, report, stderr) = history(&bare)?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths_of(&report, &key), ["k.env"]);
    // A bare repository has no index: `staged` must not pretend it is clean.
    let (code, _, stderr) = staged(&bare)?;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bare repository"), "{stderr}");
    Ok(())
}

#[test]
fn submodule_history_is_reported_as_not_scanned_or_read_with_recurse_submodules() -> TestResult {
    let inner = Repo::new();
    let key = anthropic_key(405);
    inner.write("k.env", env_line(&key));
    inner.commit("inner key");
    let outer = Repo::new();
    outer.write("README.md", "outer\n");
    outer.commit("base");
    outer.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        inner.path().to_str().unwrap_or_default(),
        "vendor/inner",
    ]);
    outer.commit("add submodule");

    let (code, report, stderr) = history(outer.path())?;
    assert_eq!(code, 0, "{stderr}");
    let skipped = &report["summary"]["skipped"];
    assert_eq!(skipped["by_reason"]["submodule"], 1, "{report:#}");
    let item = &skipped["items"][0];
    assert_eq!(item["path"], "vendor/inner");
    let commit = inner.git(&["rev-parse", "HEAD"]);
    assert!(
        item["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&commit) && d.contains("--recurse-submodules")),
        "{item}"
    );
    // The human report says so too.
    let output = secretgate()
        .current_dir(outer.path())
        .args(["history", "--quiet"])
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("not scanned: 1 submodule(s)") && text.contains("vendor/inner"),
        "{text}"
    );
    // Scanning the submodule's checkout as its own repository finds the key.
    let (code, report, _) = history(&outer.path().join("vendor/inner"))?;
    assert_eq!(code, 1);
    assert_eq!(paths_of(&report, &key), ["k.env"]);
    // So does --recurse-submodules, under the submodule's path, with the
    // submodule's commit, and the submodule is no longer listed as skipped.
    let (code, report, stderr) = run_in(
        outer.path(),
        &["history", ".", "--quiet", "--recurse-submodules"],
    )?;
    assert_eq!(code, 1, "{stderr}");
    let found = only_finding(&report, &key);
    assert_eq!(found["path"], "vendor/inner/k.env");
    assert_eq!(found["commit"], commit.as_str());
    assert_eq!(found["summary"], "inner key");
    assert_eq!(report["summary"]["skipped"]["total"], 0, "{report:#}");
    // Streamed JSON Lines carry the submodule's findings too.
    let output = secretgate()
        .current_dir(outer.path())
        .args([
            "history",
            "--quiet",
            "--recurse-submodules",
            "--format",
            "jsonl",
        ])
        .output()?;
    assert_eq!(output.status.code(), Some(1));
    let lines = String::from_utf8_lossy(&output.stdout);
    let with_key: Vec<&str> = lines.lines().filter(|l| l.contains(&key)).collect();
    assert_eq!(with_key.len(), 1, "{lines}");
    assert!(with_key[0].contains("vendor/inner/k.env"), "{lines}");
    Ok(())
}

#[test]
fn submodule_is_reported_when_trees_are_walked_on_several_threads() -> TestResult {
    let inner = Repo::new();
    inner.write("a.txt", "a\n");
    inner.commit("inner");
    let outer = Repo::new();
    for i in 0..100 {
        outer.git(&["commit", "-q", "--allow-empty", "-m", &format!("c{i}")]);
    }
    // The submodule arrives in the last commit: only the last run of
    // commits, on its own thread, meets it.
    outer.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        inner.path().to_str().unwrap_or_default(),
        "lib",
    ]);
    outer.commit("add submodule");
    let (code, report, stderr) = run_in(outer.path(), &["history", ".", "--quiet", "-j", "4"])?;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["summary"]["commits"], 101);
    assert_eq!(
        report["summary"]["skipped"]["by_reason"]["submodule"], 1,
        "{report:#}"
    );
    Ok(())
}

#[test]
fn partial_clone_lists_every_missing_blob_by_id_and_exits_two() -> TestResult {
    let origin = Repo::new();
    origin.write("a.txt", "one\n");
    origin.write("k.env", env_line(&anthropic_key(406)));
    origin.commit("base");
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    let blobs = [
        origin.git(&["rev-parse", "HEAD:a.txt"]),
        origin.git(&["rev-parse", "HEAD:k.env"]),
    ];
    let outer = Tree::new();
    let url = format!("file://{}", origin.path().display());
    run_git(
        outer.path(),
        DATE,
        &[
            "clone",
            "-q",
            "--no-checkout",
            "--filter=blob:none",
            &url,
            "p",
        ],
    );
    let partial = outer.path().join("p");
    let output = secretgate()
        .current_dir(&partial)
        .args(["history", "--format", "json"])
        // Make sure nothing could fetch the blobs behind our back.
        .env("GIT_NO_LAZY_FETCH", "1")
        .output()?;
    assert_eq!(output.status.code(), Some(2));
    let report = json_report(&output);
    let skipped = &report["summary"]["skipped"];
    assert_eq!(skipped["by_reason"]["missing_object"], 2, "{report:#}");
    let details = skipped["items"].to_string();
    for blob in &blobs {
        assert!(
            details.contains(blob.as_str()),
            "{blob} not listed: {details}"
        );
    }
    assert!(
        report["summary"]["notes"]
            .to_string()
            .contains("partial clone"),
        "{report:#}"
    );
    Ok(())
}

#[test]
fn truncated_pack_is_reported_and_exits_two() -> TestResult {
    let repo = Repo::new();
    for i in 0..20 {
        repo.write(&format!("f{i}.txt"), format!("file {i}\n").repeat(50));
    }
    repo.commit("many");
    repo.git(&["repack", "-adq"]);
    let pack_dir = repo.path().join(".git/objects/pack");
    let pack = std::fs::read_dir(&pack_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .ok_or("no pack")?;
    let mut permissions = std::fs::metadata(&pack)?.permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&pack, permissions)?;
    let len = std::fs::metadata(&pack)?.len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&pack)?
        .set_len(len / 2)?;

    let (code, report, stderr) = history(repo.path())?;
    assert_eq!(code, 2, "{stderr}");
    let total = report["summary"]["skipped"]["total"].as_u64().unwrap_or(0);
    assert!(total > 0, "{report:#}");
    assert!(
        report["summary"]["skipped"]["by_reason"]["corrupt_object"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{report:#}"
    );
    Ok(())
}

#[test]
fn sha256_repository_is_scanned_with_its_own_ids() -> TestResult {
    let tree = Tree::new();
    run_git(
        tree.path(),
        DATE,
        &["init", "-q", "--object-format=sha256", "r"],
    );
    let dir = tree.path().join("r");
    let key = anthropic_key(407);
    std::fs::write(dir.join("k.env"), env_line(&key))?;
    run_git(&dir, DATE, &["add", "k.env"]);
    run_git(&dir, DATE, &["commit", "-q", "-m", "key"]);
    run_git(&dir, DATE, &["gc", "-q"]);
    let commit = run_git(&dir, DATE, &["rev-parse", "HEAD"]);
    let blob = run_git(&dir, DATE, &["rev-parse", "HEAD:k.env"]);
    assert_eq!(commit.len(), 64);

    let (code, report, stderr) = history(&dir)?;
    assert_eq!(code, 1, "{stderr}");
    let found = only_finding(&report, &key);
    assert_eq!(found["commit"], commit.as_str());
    assert_eq!(found["blob"], blob.as_str());

    let staged_key = anthropic_key(408);
    std::fs::write(dir.join("b.py"), format!("K = \"{staged_key}\"\n"))?;
    run_git(&dir, DATE, &["add", "b.py"]);
    let (code, report, stderr) = staged(&dir)?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths_of(&report, &staged_key), ["b.py"]);
    Ok(())
}

#[test]
fn ten_thousand_refs_are_all_read() -> TestResult {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    let first = repo.commit("base");
    let key = anthropic_key(409);
    repo.write("k.env", env_line(&key));
    let second = repo.commit("key");
    repo.git(&["reset", "-q", "--hard", &first]);
    // 10 000 branches, the last one alone holding the key's commit.
    let mut input = String::new();
    for i in 0..9_999 {
        input.push_str(&format!("create refs/heads/b{i:05} {first}\n"));
    }
    input.push_str(&format!("create refs/heads/b99999 {second}\n"));
    let mut child = git_command(repo.path(), DATE)
        .args(["update-ref", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .spawn()?;
    std::io::Write::write_all(child.stdin.as_mut().ok_or("stdin")?, input.as_bytes())?;
    assert!(child.wait()?.success());
    repo.git(&["pack-refs", "--all"]);

    let (code, report, stderr) = history(repo.path())?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths_of(&report, &key), ["k.env"]);
    // main, HEAD and the 10 000 branches.
    assert!(
        report["summary"]["refs"]
            .as_u64()
            .is_some_and(|n| n >= 10_001),
        "{report:#}"
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn file_names_with_invalid_utf8_and_newlines_are_found_and_reported_losslessly() -> TestResult {
    use std::os::unix::ffi::OsStrExt as _;
    let repo = Repo::new();
    let bad_key = anthropic_key(410);
    let newline_key = anthropic_key(411);
    let bad_name = std::ffi::OsStr::from_bytes(b"bad\xffname.txt");
    std::fs::write(repo.path().join(bad_name), env_line(&bad_key))?;
    std::fs::write(repo.path().join("new\nline.txt"), env_line(&newline_key))?;
    repo.git(&["add", "-A"]);

    let check = |report: &Value| {
        assert_eq!(
            paths_of(report, &bad_key),
            ["bad\\xffname.txt"],
            "{report:#}"
        );
        assert_eq!(
            paths_of(report, &newline_key),
            ["new\nline.txt"],
            "{report:#}"
        );
    };
    let (code, report, stderr) = staged(repo.path())?;
    assert_eq!(code, 1, "{stderr}");
    check(&report);
    repo.commit("odd names");
    let (code, report, stderr) = history(repo.path())?;
    assert_eq!(code, 1, "{stderr}");
    check(&report);
    let (code, report, stderr) = scan(repo.path())?;
    assert_eq!(code, 1, "{stderr}");
    check(&report);

    // Human output never prints a raw newline inside a path: it could forge
    // a report line.
    let output = secretgate()
        .current_dir(repo.path())
        .args(["scan", "."])
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("at      new\\nline.txt:1:"), "{text}");
    assert!(text.contains("at      bad\\xffname.txt:1:"), "{text}");
    Ok(())
}

#[test]
fn crlf_files_are_found_at_the_right_line_in_every_command() -> TestResult {
    let repo = Repo::new();
    repo.git(&["config", "core.autocrlf", "false"]);
    let key = anthropic_key(412);
    repo.write(
        "win.env",
        format!("A=1\r\nANTHROPIC_API_KEY={key}\r\nB=2\r\n"),
    );
    repo.git(&["add", "win.env"]);
    for (code, report, stderr) in [staged(repo.path())?, scan(repo.path())?] {
        assert_eq!(code, 1, "{stderr}");
        let f = only_finding(&report, &key);
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(2), Some(19))
        );
    }
    repo.commit("crlf");
    let (code, report, stderr) = history(repo.path())?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(only_finding(&report, &key)["line"], 2);
    Ok(())
}

#[test]
fn utf16_file_with_a_bom_is_found_in_history_and_staged() -> TestResult {
    // tests/scan.rs covers `scan`; the git sources hand over the same bytes.
    let repo = Repo::new();
    let key = anthropic_key(413);
    let mut bytes = vec![0xff, 0xfe];
    for unit in format!("x=1\r\nANTHROPIC_API_KEY={key}\r\n").encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    repo.write("ps.env", &bytes);
    repo.git(&["add", "ps.env"]);
    let (code, report, stderr) = staged(repo.path())?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(only_finding(&report, &key)["line"], 2);
    repo.commit("utf16");
    let (code, report, stderr) = history(repo.path())?;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(only_finding(&report, &key)["line"], 2);
    Ok(())
}
