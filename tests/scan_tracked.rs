//! `scan` in a git work tree reads every file git tracks, whatever
//! `.gitignore` or `.ignore` say, and counts everything the walk does not
//! read (symbolic links, `.git` entries that are not repositories).

mod common;

use std::path::Path;

use common::git::*;
use common::*;
use serde_json::Value;

/// Exit code and JSON report of `secretgate scan ARGS --format json` in `dir`.
fn scan_in(dir: &Path, args: &[&str]) -> (i32, Value) {
    let output = secretgate()
        .current_dir(dir)
        .arg("scan")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap_or_else(|err| panic!("run: {err}"));
    (output.status.code().unwrap_or(-1), json_report(&output))
}

/// The paths of the findings of rule `rule`, sorted.
fn paths_of(report: &Value, rule: &str) -> Vec<String> {
    let mut paths: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == rule)
        .filter_map(|f| f["path"].as_str().map(str::to_string))
        .collect();
    paths.sort();
    paths
}

/// (path, reason) of every skip, sorted.
fn skips(report: &Value) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = report["summary"]["skipped"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["path"].as_str().unwrap_or_default().to_string(),
                s["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn scan_reads_tracked_files_that_ignore_files_exclude() {
    let repo = Repo::new();
    // The classic half-fix: .env tracked first, ignored afterwards.
    repo.write(".env", env_line(&anthropic_key(1401)));
    repo.commit("env");
    repo.write(".gitignore", ".env\nbuild/\n");
    repo.write(".ignore", "config/local.txt\n");
    repo.write("config/local.txt", env_line(&anthropic_key(1402)));
    repo.commit("ignore them now");
    // Force-added under an ignored directory, and staged only.
    repo.write("build/release.txt", env_line(&anthropic_key(1403)));
    repo.git(&["add", "-f", "build/release.txt"]);
    // Ignored and untracked: stays skipped.
    repo.write("build/cache.txt", env_line(&anthropic_key(1404)));

    let (code, report) = scan_in(repo.path(), &["."]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        paths_of(&report, "anthropic-api-key"),
        strings(&[".env", "build/release.txt", "config/local.txt"])
    );
    assert_eq!(paths_of(&report, "dotenv-file"), strings(&[".env"]));

    // From a subdirectory, and naming subdirectories (a directory named on
    // the command line is read whole, as asked, even when ignored).
    let (code, report) = scan_in(&repo.path().join("config"), &["."]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        paths_of(&report, "anthropic-api-key"),
        strings(&["local.txt"])
    );
    let (_, report) = scan_in(repo.path(), &["config", "build"]);
    assert_eq!(
        paths_of(&report, "anthropic-api-key"),
        strings(&["build/cache.txt", "build/release.txt", "config/local.txt"])
    );

    // --no-ignore reads the untracked ignored file too, each file once.
    let (_, report) = scan_in(repo.path(), &[".", "--no-ignore"]);
    assert_eq!(
        paths_of(&report, "anthropic-api-key"),
        strings(&[
            ".env",
            "build/cache.txt",
            "build/release.txt",
            "config/local.txt"
        ])
    );
}

#[test]
fn scan_reads_tracked_files_of_nested_repositories_and_submodules() {
    let top = Repo::new();
    top.write("README.md", "top\n");
    top.commit("top");
    // A submodule whose own .gitignore lists a file it tracks.
    let module = Repo::new();
    module.write(".gitignore", "secrets.txt\n");
    module.write("secrets.txt", env_line(&anthropic_key(1405)));
    module.git(&["add", "-f", ".gitignore", "secrets.txt"]);
    module.git(&["commit", "-q", "-m", "module"]);
    let url = module.path().to_string_lossy().into_owned();
    top.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &url,
        "vendor/module",
    ]);
    top.commit("add the submodule");
    // A nested repository that is not a submodule, ignored by the top's
    // .gitignore but walked into through its own index.
    top.write(".gitignore", "tools/cache.cfg\n");
    top.write("tools/.gitignore", "cache.cfg\n");
    run_git(&top.path().join("tools"), DATE, &["init", "-q"]);
    top.write("tools/cache.cfg", env_line(&anthropic_key(1406)));
    run_git(&top.path().join("tools"), DATE, &["add", "-f", "cache.cfg"]);

    let (code, report) = scan_in(top.path(), &["."]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        paths_of(&report, "anthropic-api-key"),
        strings(&["tools/cache.cfg", "vendor/module/secrets.txt"])
    );
    // A repository's own .git is not a skip worth a line.
    assert_eq!(skips(&report), Vec::<(String, String)>::new());
}

#[test]
fn the_walk_counts_what_it_does_not_read() {
    let tree = Tree::new();
    let key = anthropic_key(1407);
    tree.write("real/key.txt", env_line(&key));
    tree.write("decoy/.git/notes.txt", env_line(&anthropic_key(1408)));
    std::os::unix::fs::symlink("real/key.txt", tree.path().join("link.txt"))
        .unwrap_or_else(|err| panic!("{err}"));
    std::os::unix::fs::symlink("real", tree.path().join("linked-dir"))
        .unwrap_or_else(|err| panic!("{err}"));

    let (code, report) = scan_in(tree.path(), &["."]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        paths_of(&report, "anthropic-api-key"),
        strings(&["real/key.txt"])
    );
    assert_eq!(
        skips(&report),
        [
            ("decoy/.git".to_string(), "dot_git".to_string()),
            ("link.txt".to_string(), "symlink".to_string()),
            ("linked-dir".to_string(), "symlink".to_string()),
        ]
    );
    assert_eq!(report["summary"]["skipped"]["by_reason"]["symlink"], 2);
    // Decisions, not unread content: a clean tree with them exits 0.
    std::fs::remove_file(tree.path().join("real/key.txt")).unwrap_or_else(|err| panic!("{err}"));
    let (code, report) = scan_in(tree.path(), &["."]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["skipped"]["total"], 3);

    // A link named on the command line is what the user asked for: read.
    tree.write("real/key.txt", env_line(&key));
    let (code, report) = scan_in(tree.path(), &["link.txt"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        paths_of(&report, "anthropic-api-key"),
        strings(&["link.txt"])
    );
}

/// A repository of its own (not a submodule) inside a directory the outer
/// repository ignores: its tracked files are tracked files, and are read.
#[test]
fn a_nested_repository_in_an_ignored_directory_is_scanned() {
    let outer = Repo::new();
    outer.write(".gitignore", "vendor/\n");
    outer.commit("ignore vendor");
    let key = anthropic_key(9401);
    outer.write("vendor/lib/app.py", format!("KEY = \"{key}\"\n"));
    outer.write("vendor/lib/untracked-notes.txt", "nothing\n");
    let nested = outer.path().join("vendor/lib");
    run_git(&nested, DATE, &["init", "-q"]);
    run_git(&nested, DATE, &["add", "app.py"]);
    let (code, report) = scan_json(outer.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(only_finding(&report, &key)["path"], "vendor/lib/app.py");
    // Only what that repository tracks: its untracked file stays ignored.
    assert_eq!(report["summary"]["files_scanned"], 2, "{report:#}");
}
