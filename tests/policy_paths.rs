//! Path-based policy through the binary, against real git: a path rule
//! (allowed path, path-scoped ignore entry) accepts a finding only when it
//! covers every path that holds it, a sensitive-file rule fires on any path
//! a blob had, and the policy files are the repository's whatever the
//! current directory.

mod common;

use std::path::Path;
use std::process::Output;

use common::git::*;
use common::*;
use serde_json::Value;

const ALLOW_FIXTURES: &str = "[allow]\npaths = [\"tests/fixtures/**\"]\n";
/// A `.env` body the dotenv rule flags, with no secret of its own.
const DOTENV: &str = "APP_MODE=production\nLOG_LEVEL=debug\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    secretgate()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("run {args:?}: {err}"))
}

/// Exit code and JSON report of `secretgate ARGS --format json` in `dir`.
fn json_in(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let output = run(dir, &all);
    (output.status.code().unwrap_or(-1), json_report(&output))
}

/// (rule, path) of every finding.
fn placed(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pair(rule: &str, path: &str) -> (String, String) {
    (rule.to_string(), path.to_string())
}

#[test]
fn history_reports_a_key_copied_out_of_an_allowed_path_where_it_is_not_allowed() {
    let repo = Repo::new();
    let key = anthropic_key(1301);
    repo.write(".secretgate.toml", ALLOW_FIXTURES);
    repo.write("tests/fixtures/k.txt", env_line(&key));
    repo.commit("fixture");
    repo.write("src/prod.txt", env_line(&key));
    let copied = repo.commit("copy the fixture into the code");

    let (code, report) = json_in(repo.path(), &["history", "--quiet"]);
    assert_eq!(code, 1, "{report:#}");
    let finding = only_finding(&report, &key);
    assert_eq!(finding["path"], "src/prod.txt", "{report:#}");
    // The commit that put it there, not the one that added the fixture.
    assert_eq!(finding["commit"], copied.as_str());
    assert_eq!(finding["summary"], "copy the fixture into the code");
    assert_eq!(
        finding["occurrences"]["paths"],
        serde_json::json!(["src/prod.txt", "tests/fixtures/k.txt"])
    );
    assert_eq!(report["summary"]["suppressed"]["allowed_paths"], 0);

    // Streamed too: the finding is written once every path is known.
    let output = run(repo.path(), &["history", "--quiet", "--format", "jsonl"]);
    assert_eq!(output.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect();
    let streamed: Vec<&Value> = lines.iter().filter(|l| l["type"] == "finding").collect();
    assert_eq!(streamed.len(), 1, "{lines:#?}");
    assert_eq!(streamed[0]["path"], "src/prod.txt");
    assert_eq!(streamed[0]["author"], NAME);

    // The same tree scanned as files says the same.
    let (code, report) = json_in(repo.path(), &["scan", "."]);
    assert_eq!(code, 1);
    assert_eq!(only_finding(&report, &key)["path"], "src/prod.txt");
}

#[test]
fn history_still_accepts_a_blob_every_path_of_which_is_allowed() {
    let repo = Repo::new();
    let key = anthropic_key(1302);
    repo.write(".secretgate.toml", ALLOW_FIXTURES);
    repo.write("tests/fixtures/a.txt", env_line(&key));
    repo.commit("fixture");
    std::fs::create_dir_all(repo.path().join("tests/fixtures/b"))
        .unwrap_or_else(|err| panic!("{err}"));
    repo.git(&["mv", "tests/fixtures/a.txt", "tests/fixtures/b/a.txt"]);
    repo.write("tests/fixtures/c.txt", env_line(&key));
    repo.commit("move and copy within the fixtures");
    let (code, report) = json_in(repo.path(), &["history", "--quiet"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["suppressed"]["allowed_paths"], 1);
}

#[test]
fn a_path_scoped_ignore_entry_covers_only_its_path() {
    let repo = Repo::new();
    let key = anthropic_key(1303);
    repo.write("fixtures/k.txt", env_line(&key));
    repo.commit("fixture");
    let (_, report) = json_in(repo.path(), &["history", "--quiet"]);
    let fingerprint = only_finding(&report, &key)["fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    repo.write(
        ".secretgateignore",
        format!("{fingerprint} fixtures/k.txt # test key\n"),
    );
    repo.commit("accept the fixture");
    let (code, report) = json_in(repo.path(), &["history", "--quiet"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["suppressed"]["ignored"], 1);

    repo.write("app/settings.txt", env_line(&key));
    repo.commit("copy it");
    let (code, report) = json_in(repo.path(), &["history", "--quiet"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(only_finding(&report, &key)["path"], "app/settings.txt");

    // Covering the second path too accepts it again.
    repo.write(
        ".secretgateignore",
        format!("{fingerprint} fixtures/k.txt\n{fingerprint} app/settings.txt\n"),
    );
    repo.commit("accept the copy");
    let (code, report) = json_in(
        repo.path(),
        &["history", "--quiet", "--report-unused-ignores"],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["summary"]["suppressed"]["unused_ignores"],
        serde_json::json!([])
    );
}

#[test]
fn history_flags_a_file_that_became_a_dotenv_file_later() {
    let repo = Repo::new();
    repo.write("settings.txt", DOTENV);
    repo.commit("settings");
    repo.git(&["mv", "settings.txt", ".env"]);
    let renamed = repo.commit("rename to .env");

    let (code, report) = json_in(repo.path(), &["history", "--quiet"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(placed(&report), [pair("dotenv-file", ".env")]);
    assert_eq!(report["findings"][0]["commit"], renamed.as_str());
    assert_eq!(
        report["findings"][0]["occurrences"]["paths"],
        serde_json::json!([".env", "settings.txt"])
    );
    // Its paths are in the cleanup files.
    let out = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let paths = out.path().join("paths.txt");
    let shown = paths.to_string_lossy().into_owned();
    let output = run(
        repo.path(),
        &["history", "--quiet", "--emit-paths", shown.as_str()],
    );
    assert_eq!(output.status.code(), Some(1));
    let listed = std::fs::read_to_string(&paths).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(listed, ".env\nsettings.txt\n");

    // Streamed as well.
    let output = run(repo.path(), &["history", "--quiet", "--format", "jsonl"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        text.matches("\"rule\":\"dotenv-file\"").count(),
        1,
        "{text}"
    );

    // A file named like a .env only under an excluded name is not flagged.
    let clean = Repo::new();
    clean.write("settings.txt", DOTENV);
    clean.commit("settings");
    clean.git(&["mv", "settings.txt", ".env.example"]);
    clean.commit("an example");
    let (code, report) = json_in(clean.path(), &["history", "--quiet"]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn history_flags_a_file_later_moved_into_a_keystore_directory() {
    // The rule names the directory (`keystore/*`), not the file.
    let repo = Repo::new();
    let wallet = format!(
        "{{\"crypto\":{{\"ciphertext\":\"{}\",\"kdf\":\"scrypt\"}},\"version\":3}}\n",
        random_string(1310, 64, HEX)
    );
    repo.write("backup/account", wallet);
    repo.commit("backup");
    std::fs::create_dir_all(repo.path().join("wallet/keystore"))
        .unwrap_or_else(|err| panic!("{err}"));
    repo.git(&["mv", "backup/account", "wallet/keystore/account"]);
    repo.commit("into the keystore");
    let (code, report) = json_in(repo.path(), &["history", "--quiet"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        placed(&report),
        [pair("ethereum-keystore-file", "wallet/keystore/account")]
    );
}

#[test]
fn staged_judges_a_rename_or_copy_at_its_new_path() {
    let repo = Repo::new();
    let key = anthropic_key(1304);
    repo.write(".secretgate.toml", ALLOW_FIXTURES);
    repo.write("tests/fixtures/k.txt", env_line(&key));
    repo.write("settings.txt", DOTENV);
    repo.commit("fixture and settings");

    // A copy out of the allowed path adds the key where it is not allowed.
    repo.write("src/prod.txt", env_line(&key));
    repo.git(&["add", "-A"]);
    let (code, report) = json_in(repo.path(), &["staged"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(placed(&report), [pair("anthropic-api-key", "src/prod.txt")]);
    repo.git(&["rm", "-q", "--cached", "src/prod.txt"]);

    // A rename to .env adds a tracked .env.
    repo.git(&["mv", "settings.txt", ".env"]);
    let (code, report) = json_in(repo.path(), &["staged"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(placed(&report), [pair("dotenv-file", ".env")]);
    repo.git(&["mv", ".env", "settings.txt"]);

    // Moving within the allowed paths, or moving what HEAD already reports,
    // adds nothing.
    repo.git(&["mv", "tests/fixtures/k.txt", "tests/fixtures/moved.txt"]);
    let (code, report) = json_in(repo.path(), &["staged"]);
    assert_eq!(code, 0, "{report:#}");
    repo.git(&["commit", "-q", "-m", "move the fixture"]);
    repo.write("leak.txt", env_line(&key));
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "a leak, committed anyway",
    ]);
    repo.git(&["mv", "leak.txt", "leak-renamed.txt"]);
    let (code, report) = json_in(repo.path(), &["staged"]);
    assert_eq!(code, 0, "{report:#}");
}

/// A repository whose policy files accept a fixture by path and a key by
/// fingerprint, with findings at the top and under `deploy/`.
struct Policed {
    repo: Repo,
    accepted: String,
    reported: String,
}

fn policed() -> Policed {
    let repo = Repo::new();
    let fixture = anthropic_key(1305);
    let accepted = anthropic_key(1306);
    let reported = anthropic_key(1307);
    repo.write(
        ".secretgate.toml",
        "[allow]\npaths = [\"deploy/fixtures/**\"]\n",
    );
    repo.write("deploy/fixtures/k.txt", env_line(&fixture));
    repo.write("deploy/accepted.txt", env_line(&accepted));
    repo.write("deploy/app.txt", env_line(&reported));
    repo.commit("deploy");
    let (_, report) = json_in(repo.path(), &["history", "--quiet", "--no-repo-config"]);
    let fingerprint = only_finding(&report, &accepted)["fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    repo.write(
        ".secretgateignore",
        format!("{fingerprint} deploy/accepted.txt # rotated\n"),
    );
    repo.commit("policy");
    Policed {
        repo,
        accepted,
        reported,
    }
}

/// Checks a report obeyed the repository's policy: only the unaccepted key
/// is reported, and the config file is named.
fn obeyed(code: i32, report: &Value, policed: &Policed, config_file: &str) {
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["summary"]["findings"], 1, "{report:#}");
    assert_eq!(findings_of(report, &policed.reported).len(), 1);
    assert!(findings_of(report, &policed.accepted).is_empty());
    assert_eq!(report["summary"]["suppressed"]["allowed_paths"], 1);
    assert_eq!(report["summary"]["suppressed"]["ignored"], 1);
    assert_eq!(report["summary"]["config"]["file"], config_file);
}

#[test]
fn policy_files_are_the_repositorys_whatever_the_current_directory() {
    let policed = policed();
    let top = policed.repo.path();
    let deploy = top.join("deploy");
    let fixtures = deploy.join("fixtures");

    let (code, report) = json_in(top, &["history", "--quiet"]);
    obeyed(code, &report, &policed, ".secretgate.toml");
    let (code, report) = json_in(&deploy, &["history", "--quiet"]);
    obeyed(code, &report, &policed, "../.secretgate.toml");
    let (code, report) = json_in(&fixtures, &["history", "--quiet"]);
    obeyed(code, &report, &policed, "../../.secretgate.toml");

    // scan from a subdirectory judges what it walks relative to the top.
    let (code, report) = json_in(&deploy, &["scan", "."]);
    obeyed(code, &report, &policed, "../.secretgate.toml");
    assert_eq!(
        only_finding(&report, &policed.reported)["path"],
        "app.txt",
        "paths stay as walked"
    );
    let (code, report) = json_in(top, &["scan", "deploy"]);
    obeyed(code, &report, &policed, ".secretgate.toml");
    let (code, report) = json_in(&fixtures, &["scan", ".."]);
    obeyed(code, &report, &policed, "../../.secretgate.toml");

    // staged, with everything staged again as new: from the subdirectory.
    policed.repo.git(&["rm", "-q", "-r", "--cached", "deploy"]);
    policed.repo.git(&["commit", "-q", "-m", "untrack"]);
    policed.repo.git(&["add", "-A"]);
    let (code, report) = json_in(&deploy, &["staged"]);
    obeyed(code, &report, &policed, "../.secretgate.toml");
}

#[test]
fn a_bare_repositorys_policy_files_are_in_the_repository() {
    let policed = policed();
    let bare = Tree::new();
    let bare_path = bare.path().join("mirror.git");
    run_git(
        bare.path(),
        DATE,
        &[
            "clone",
            "-q",
            "--bare",
            &policed.repo.path().to_string_lossy(),
            "mirror.git",
        ],
    );
    for name in [".secretgate.toml", ".secretgateignore"] {
        std::fs::copy(policed.repo.path().join(name), bare_path.join(name))
            .unwrap_or_else(|err| panic!("{err}"));
    }
    let (code, report) = json_in(&bare_path, &["history", "--quiet"]);
    obeyed(code, &report, &policed, ".secretgate.toml");
    let (code, report) = json_in(bare.path(), &["history", "--quiet", "mirror.git"]);
    obeyed(code, &report, &policed, "mirror.git/.secretgate.toml");
}

#[test]
fn outside_a_repository_scan_reads_the_policy_at_the_root_of_what_it_scans() {
    let tree = Tree::new();
    let key = anthropic_key(1308);
    tree.write("site/.secretgate.toml", ALLOW_FIXTURES);
    tree.write("site/tests/fixtures/k.txt", env_line(&key));
    tree.write("site/src/app.txt", env_line(&anthropic_key(1309)));
    // Its paths name files relative to it, wherever the scan runs from.
    let (code, report) = json_in(tree.path(), &["scan", "site"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        placed(&report),
        [pair("anthropic-api-key", "site/src/app.txt")]
    );
    assert_eq!(report["summary"]["suppressed"]["allowed_paths"], 1);
    assert_eq!(report["summary"]["config"]["file"], "site/.secretgate.toml");
    let (code, report) = json_in(&tree.path().join("site"), &["scan", "."]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(placed(&report), [pair("anthropic-api-key", "src/app.txt")]);
    assert_eq!(report["summary"]["config"]["file"], ".secretgate.toml");
}

/// `scan A B` with A and B in two repositories: each file is judged by the
/// policy of the repository holding it. A's config allows `tests/fixtures/**`
/// and disables `anthropic-api-key`, A's ignore file accepts a key; none of
/// that may hide B's keys, whichever is named first, and the summary lists
/// each repository's config.
#[test]
fn scan_judges_each_root_by_its_own_repositorys_policy() {
    let parent = Tree::new();
    let repo_a = parent.path().join("a");
    let repo_b = parent.path().join("b");
    for repo in [&repo_a, &repo_b] {
        std::fs::create_dir_all(repo).unwrap_or_else(|err| panic!("{err}"));
        run_git(repo, DATE, &["init", "-q"]);
    }
    let fixture_key = anthropic_key(9301);
    let plain_key = anthropic_key(9302);
    let ignored_key = format!("ghp_{}", random_string(9303, 36, BASE62));
    parent.write(
        "a/.secretgate.toml",
        "[allow]\npaths = [\"tests/fixtures/**\"]\n[rules]\ndisable = [\"anthropic-api-key\"]\n",
    );
    parent.write("b/tests/fixtures/k.txt", env_line(&fixture_key));
    parent.write("b/src/main.txt", env_line(&plain_key));
    parent.write("b/src/token.txt", format!("token = {ignored_key}\n"));
    // The ignore entry, by fingerprint, for the GitHub token in B.
    let (_, from_b) = json_in(&repo_b, &["scan", "."]);
    let fingerprint = findings_of(&from_b, &ignored_key)
        .first()
        .map(|f| f["fingerprint"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| panic!("no finding of the token: {from_b:#}"));
    parent.write("a/.secretgateignore", format!("{fingerprint}\n"));

    for order in [["a", "b"], ["b", "a"]] {
        let (code, report) = json_in(parent.path(), &["scan", order[0], order[1]]);
        assert_eq!(code, 1, "{order:?}: {report:#}");
        for key in [&fixture_key, &plain_key, &ignored_key] {
            assert_eq!(findings_of(&report, key).len(), 1, "{order:?}: {report:#}");
        }
        let configs = report["summary"]["configs"]
            .as_array()
            .unwrap_or_else(|| panic!("no summary.configs: {report:#}"));
        assert_eq!(configs.len(), 2, "{report:#}");
        let of = |root: &str| {
            configs
                .iter()
                .find(|c| c["root"] == root)
                .unwrap_or_else(|| panic!("no config for {root}: {report:#}"))
        };
        assert_eq!(of("a")["disabled_rules"][0], "anthropic-api-key");
        assert_eq!(of("a")["file"], "a/.secretgate.toml");
        assert!(of("b")["file"].is_null(), "{report:#}");
        // The union: a reader of summary.config alone misses nothing.
        assert_eq!(report["summary"]["config"]["weakens_detection"], true);
        assert_eq!(
            report["summary"]["config"]["disabled_rules"][0],
            "anthropic-api-key"
        );
    }

    // A's own files still obey A's policy in the same run.
    parent.write("a/tests/fixtures/k.txt", env_line(&anthropic_key(9304)));
    parent.write(
        "a/src/gh.txt",
        format!("token = ghp_{}\n", random_string(9305, 36, BASE62)),
    );
    let (_, report) = json_in(parent.path(), &["scan", "b", "a"]);
    let paths: Vec<String> = placed(&report).into_iter().map(|(_, p)| p).collect();
    assert!(paths.contains(&"a/src/gh.txt".to_string()), "{report:#}");
    assert!(
        !paths.iter().any(|p| p == "a/tests/fixtures/k.txt"),
        "{report:#}"
    );
    let human = run(parent.path(), &["scan", "a", "b"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("config a/.secretgate.toml: changes detection"),
        "{text}"
    );

    // A's gate lets medium findings pass; B's does not.
    parent.write("a/.secretgate.toml", "[gate]\nmin_confidence = \"high\"\n");
    std::fs::remove_file(repo_a.join(".secretgateignore")).unwrap_or_else(|err| panic!("{err}"));
    let password = |seed| format!("db_password = \"{}\"\n", random_string(seed, 24, BASE62));
    for dir in ["a", "b"] {
        for file in [
            "tests/fixtures/k.txt",
            "src/main.txt",
            "src/token.txt",
            "src/gh.txt",
        ] {
            let _ = std::fs::remove_file(parent.path().join(dir).join(file));
        }
    }
    parent.write("a/app.py", password(9306));
    let (code, report) = json_in(parent.path(), &["scan", "a"]);
    assert_eq!(
        (code, report["summary"]["blocking"].as_u64()),
        (0, Some(0)),
        "{report:#}"
    );
    parent.write("b/app.py", password(9307));
    let (code, report) = json_in(parent.path(), &["scan", "a", "b"]);
    assert_eq!(
        (code, report["summary"]["blocking"].as_u64()),
        (1, Some(1)),
        "{report:#}"
    );
    assert_eq!(report["summary"]["findings"], 2, "{report:#}");
}

/// A tag naming a blob directly is one more place the blob is (it is pushed
/// and kept under that name): a key committed under an allowed path and also
/// tagged is reported at the tag.
#[test]
fn a_tag_naming_an_allowed_blob_is_a_path_the_policy_does_not_cover() {
    let repo = Repo::new();
    let key = anthropic_key(9311);
    repo.write(".secretgate.toml", ALLOW_FIXTURES);
    repo.write("tests/fixtures/k.txt", env_line(&key));
    repo.commit("fixtures");
    let (code, report) = json_in(repo.path(), &["history"]);
    assert_eq!(code, 0, "{report:#}");
    let blob = repo.git(&["rev-parse", "HEAD:tests/fixtures/k.txt"]);
    repo.git(&["tag", "keyblob", &blob]);
    let (code, report) = json_in(repo.path(), &["history"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(only_finding(&report, &key)["path"], "refs/tags/keyblob");
}
