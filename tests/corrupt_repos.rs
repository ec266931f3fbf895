//! Damage that must never pass for "nothing there": a corrupt pack index, a
//! loose object whose content is not what its id names, a `HEAD` git itself
//! refuses, and a path named on the command line that this user may not look
//! at. Each is reported with the file and what is wrong, and none exits 0.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::git::*;
use common::*;

fn text(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `secretgate verify` with an empty (valid) report: it gets as far as
/// opening the repository.
fn verify(repo: &Path) -> Output {
    let report = Tree::new();
    let path = report.write("before.json", "{\"summary\": {}, \"findings\": []}\n");
    secretgate()
        .current_dir(repo)
        .arg("verify")
        .arg("--report")
        .arg(&path)
        .output()
        .unwrap_or_else(|err| panic!("secretgate verify: {err}"))
}

fn history(repo: &Path, args: &[&str]) -> Output {
    secretgate()
        .current_dir(repo)
        .env("GIT_CEILING_DIRECTORIES", repo.parent().unwrap_or(repo))
        .args(["history", "--quiet"])
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("secretgate history: {err}"))
}

/// A packed repository (one pack, no loose objects) holding a key.
fn packed_repo() -> Repo {
    let repo = Repo::new();
    repo.write("app.py", format!("KEY = \"{}\"\n", anthropic_key(801)));
    repo.write("README.md", "hello\n");
    repo.commit("first");
    repo.write("README.md", "hello again\n");
    repo.commit("second");
    repo.git(&["gc", "-q"]);
    repo
}

fn the_pack_index(repo: &Repo) -> PathBuf {
    let dir = repo.path().join(".git/objects/pack");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "idx"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

/// Overwrites `bytes` at `at` in `path` (object files are read-only).
fn damage(path: &Path, at: usize, bytes: &[u8]) {
    let mut data = std::fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    data[at..at + bytes.len()].copy_from_slice(bytes);
    make_writable(path);
    std::fs::write(path, data).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
}

fn make_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|err| panic!("chmod {}: {err}", path.display()));
}

#[test]
fn a_corrupt_pack_index_is_named_not_an_empty_repository() {
    // The fan-out table no longer adds up: git says "non-monotonic index".
    let repo = packed_repo();
    let index = the_pack_index(&repo);
    damage(&index, 8, &[0xff; 8]);
    let output = history(repo.path(), &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    let name = index.file_name().map(|n| n.to_string_lossy().into_owned());
    assert!(all.contains(&name.unwrap_or_default()), "{all}");
    assert!(all.contains("is corrupt"), "{all}");
    assert!(all.contains("git index-pack"), "{all}");
    assert!(!all.contains("has no commits"), "{all}");

    // The first object id in the table changed: the layout holds, the id
    // table does not (`git verify-pack` agrees).
    let repo = packed_repo();
    let index = the_pack_index(&repo);
    let verify_pack = git_command(repo.path(), DATE)
        .args(["verify-pack"])
        .arg(&index)
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(verify_pack.status.success());
    let first_id = 8 + 256 * 4;
    damage(&index, first_id, b"\xfe");
    let verify_pack = git_command(repo.path(), DATE)
        .args(["verify-pack"])
        .arg(&index)
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(!verify_pack.status.success(), "git verify-pack accepts it");
    let output = history(repo.path(), &["--format", "json"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(
        all.contains("outside the range the fan-out table gives"),
        "{all}"
    );
    // verify reads the same database: the same error.
    let output = verify(repo.path());
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains("is corrupt"), "{all}");
}

#[test]
fn a_loose_object_that_does_not_hash_to_its_id_is_corrupt() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.write("notes.txt", "nothing secret here\n");
    repo.commit("first");
    // notes.txt's object file now holds another (valid) object: it inflates
    // fine, to content whose id is not its own.
    let notes = repo.git(&["rev-parse", "HEAD:notes.txt"]);
    let other_file = repo.tree.write("../other.txt", "different content\n");
    let other = repo.git(&["hash-object", "-w", &other_file.to_string_lossy()]);
    let object = |id: &str| {
        repo.path()
            .join(".git/objects")
            .join(&id[..2])
            .join(&id[2..])
    };
    make_writable(&object(&notes));
    std::fs::copy(object(&other), object(&notes)).unwrap_or_else(|err| panic!("{err}"));
    let fsck = git_command(repo.path(), DATE)
        .args(["fsck", "--full"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(!fsck.status.success(), "git fsck accepts the damage");

    let output = history(repo.path(), &["--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let report = json_report(&output);
    let skipped = &report["summary"]["skipped"];
    assert_eq!(skipped["by_reason"]["corrupt_object"], 1, "{report:#}");
    let item = &skipped["items"][0];
    assert_eq!(item["path"], "notes.txt", "{report:#}");
    let detail = item["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&notes), "{detail}");
    assert!(detail.contains(&format!("hashes to {other}")), "{detail}");
}

#[test]
fn a_head_git_refuses_is_an_error() {
    let repo = Repo::new();
    repo.write("app.py", format!("KEY = \"{}\"\n", anthropic_key(802)));
    repo.commit("first");
    std::fs::write(repo.path().join(".git/HEAD"), "garbage here\n")
        .unwrap_or_else(|err| panic!("{err}"));
    // git no longer takes the directory for a repository.
    let git = git_command(repo.path(), DATE)
        .env(
            "GIT_CEILING_DIRECTORIES",
            repo.path().parent().unwrap_or(repo.path()),
        )
        .args(["rev-parse", "--git-dir"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(!git.status.success(), "git accepts the repository");

    for output in [history(repo.path(), &[]), verify(repo.path())] {
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{all}");
        assert!(all.contains(".git/HEAD"), "{all}");
        assert!(
            all.contains("neither `ref: refs/...` nor an object id"),
            "{all}"
        );
    }
}

/// A path named on the command line inside a directory this user may not
/// search: "permission denied", never "no such file". Tests run as root in
/// CI containers, where modes do not stop reads: the scan then runs as
/// `nobody` (uid 65534) through the kernel's own checks.
#[test]
fn a_path_this_user_may_not_see_is_permission_denied() {
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::process::CommandExt as _;
    let tree = Tree::new();
    std::fs::set_permissions(tree.path(), std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|err| panic!("{err}"));
    let file = tree.write("private/app.env", "ANTHROPIC_API_KEY=none\n");
    let private = tree.path().join("private");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000))
        .unwrap_or_else(|err| panic!("{err}"));
    // Whether modes bind us (not root, or no CAP_DAC_OVERRIDE).
    let privileged = std::fs::read_dir(&private).is_ok();

    let bin = assert_cmd::cargo::cargo_bin("secretgate");
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(["scan", "--format", "json"])
        .arg(&file)
        .env_remove("CI");
    if privileged {
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700))
            .unwrap_or_else(|err| panic!("{err}"));
        cmd.uid(65534).gid(65534).current_dir("/");
    }
    let output = cmd
        .output()
        .unwrap_or_else(|err| panic!("{} as nobody: {err}", bin.display()));
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|err| panic!("{err}"));
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(!all.contains("no such file"), "{all}");
    let report = json_report(&output);
    let item = &report["summary"]["skipped"]["items"][0];
    assert_eq!(item["reason"], "unreadable", "{report:#}");
    assert!(
        item["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("permission denied"),
        "{report:#}"
    );
}

/// Swaps the pack offsets of objects `a` and `b` in a version 2 pack index,
/// leaving everything else (the trailing checksum included) as it was.
fn swap_offsets(index: &Path, a: &str, b: &str) {
    let mut data = std::fs::read(index).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(&data[..8], b"\xfftOc\0\0\0\x02", "not a v2 index");
    let count =
        |at: usize| u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    let objects = count(8 + 255 * 4) as usize;
    let ids = 8 + 256 * 4;
    let entry = |id: &str| -> usize {
        let raw: Vec<u8> = (0..20)
            .map(|i| u8::from_str_radix(&id[2 * i..2 * i + 2], 16).unwrap_or(0))
            .collect();
        (0..objects)
            .find(|&i| data[ids + 20 * i..ids + 20 * (i + 1)] == raw[..])
            .unwrap_or_else(|| panic!("{id} is not in the index"))
    };
    let offsets = ids + objects * (20 + 4);
    let (a, b) = (offsets + 4 * entry(a), offsets + 4 * entry(b));
    for i in 0..4 {
        data.swap(a + i, b + i);
    }
    make_writable(index);
    std::fs::write(index, data).unwrap_or_else(|err| panic!("{err}"));
}

/// Two objects' offsets swapped in the pack index: every id still finds an
/// object, but the wrong one. The key's id now leads to harmless text and
/// the key's content sits under the id of a blob no ref reaches, so nothing
/// but the index's checksum tells: `history` and `verify` must say the index
/// is damaged (exit 2, naming it and how to rebuild it), never pass.
#[test]
fn an_index_with_swapped_offsets_is_corrupt_not_clean() {
    let repo = Repo::new();
    let key = anthropic_key(803);
    repo.write("app.py", format!("KEY = \"{key}\"\n"));
    repo.commit("first");
    let harmless = repo
        .tree
        .write("../harmless.txt", "KEY = \"nothing here at all\"\n");
    let unreachable = repo.git(&["hash-object", "-w", &harmless.to_string_lossy()]);
    // One pack holding everything, the unreachable blob included.
    let mut objects = repo.git(&["rev-list", "--objects", "--all"]);
    objects.push_str(&format!("\n{unreachable}\n"));
    let mut pack = git_command(repo.path(), DATE)
        .args(["pack-objects", "-q", ".git/objects/pack/pack"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("{err}"));
    if let Some(mut stdin) = pack.stdin.take() {
        use std::io::Write as _;
        stdin
            .write_all(objects.as_bytes())
            .unwrap_or_else(|err| panic!("{err}"));
    }
    assert!(pack.wait().is_ok_and(|status| status.success()));
    repo.git(&["prune-packed"]);
    let before = history(repo.path(), &["--format", "json", "--no-redact"]);
    assert_eq!(before.status.code(), Some(1), "{}", text(&before));
    let report = repo.tree.write("../before.json", &before.stdout);

    let index = the_pack_index(&repo);
    let secret_blob = repo.git(&["rev-parse", "HEAD:app.py"]);
    swap_offsets(&index, &secret_blob, &unreachable);
    let name = index
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let output = history(repo.path(), &["--format", "json"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains(&name), "{all}");
    assert!(all.contains("trailing checksum"), "{all}");
    assert!(all.contains("git index-pack"), "{all}");

    let output = secretgate()
        .current_dir(repo.path())
        .arg("verify")
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap_or_else(|err| panic!("secretgate verify: {err}"));
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains(&name), "{all}");
    assert!(all.contains("trailing checksum"), "{all}");
}

/// A multi-pack index maps ids to offsets like a pack index: a damaged one
/// is named, never read from.
#[test]
fn a_damaged_multi_pack_index_is_corrupt() {
    let repo = packed_repo();
    repo.write("later.txt", "more\n");
    repo.commit("third");
    repo.git(&["repack", "-q"]);
    repo.git(&["multi-pack-index", "write"]);
    let midx = repo.path().join(".git/objects/pack/multi-pack-index");
    let data = std::fs::read(&midx).unwrap_or_else(|err| panic!("{err}"));
    // The last byte before the trailing checksum: inside the offsets chunk.
    let at = data.len() - 21;
    damage(&midx, at, &[data[at] ^ 0x01]);
    for output in [history(repo.path(), &[]), verify(repo.path())] {
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{all}");
        assert!(all.contains("multi-pack-index"), "{all}");
        assert!(all.contains("trailing checksum"), "{all}");
        assert!(all.contains("git multi-pack-index write"), "{all}");
    }
}

/// A loose object this user may not read is `unreadable` ("permission
/// denied"), not a `corrupt_object`: the object may be intact, and the fix is
/// the file's permissions. Run as `nobody` when the tests run as root.
#[test]
fn an_object_file_this_user_may_not_read_is_unreadable_not_corrupt() {
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::process::CommandExt as _;
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("first");
    let blob = repo.git(&["rev-parse", "HEAD:README.md"]);
    let privileged = nix_is_root();
    if privileged {
        // Everything readable by nobody but the one object file.
        let status = std::process::Command::new("chmod")
            .args(["-R", "a+rX"])
            .arg(repo.path())
            .status()
            .unwrap_or_else(|err| panic!("{err}"));
        assert!(status.success());
    }
    let object = repo
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::set_permissions(&object, std::fs::Permissions::from_mode(0o000))
        .unwrap_or_else(|err| panic!("{err}"));
    let bin = assert_cmd::cargo::cargo_bin("secretgate");
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(["history", "--quiet", "--format", "json"])
        .current_dir(repo.path())
        .env("HOME", repo.path())
        .env_remove("CI");
    if privileged {
        cmd.uid(65534).gid(65534);
    }
    let output = cmd.output().unwrap_or_else(|err| panic!("{err}"));
    std::fs::set_permissions(&object, std::fs::Permissions::from_mode(0o444))
        .unwrap_or_else(|err| panic!("{err}"));
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    let report = json_report(&output);
    let item = &report["summary"]["skipped"]["items"][0];
    assert_eq!(item["reason"], "unreadable", "{report:#}");
    assert_eq!(item["path"], "README.md", "{report:#}");
    let detail = item["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("permission denied"), "{detail}");
    assert!(detail.contains(&blob), "{detail}");
}

/// Whether modes do not bind this process (root): then the scan runs as nobody.
fn nix_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A loose ref whose name git refuses (`refs/heads/a..b`) is skipped by git
/// and gix alike; what only it reaches is unread, and said so (exit 2).
#[test]
fn a_ref_with_a_name_git_refuses_is_counted_not_dropped() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    let first = repo.commit("first");
    repo.write("app.py", format!("KEY = \"{}\"\n", anthropic_key(804)));
    let second = repo.commit("adds a key");
    repo.git(&["reset", "-q", "--hard", &first]);
    std::fs::write(
        repo.path().join(".git/refs/heads/bad..name"),
        format!("{second}\n"),
    )
    .unwrap_or_else(|err| panic!("{err}"));
    let output = history(repo.path(), &["--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let report = json_report(&output);
    let item = &report["summary"]["skipped"]["items"][0];
    assert_eq!(item["path"], "refs/heads/bad..name", "{report:#}");
    assert_eq!(item["reason"], "unreadable", "{report:#}");
    let detail = item["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("git update-ref"), "{detail}");
}

/// A broken `packed-refs` hides the refs it holds: `verify` must not call
/// what they reach "unreachable" (`git gc` would not remove it), but say the
/// file cannot be read, and exit 2.
#[test]
fn verify_says_packed_refs_cannot_be_read_not_unreachable() {
    let repo = Repo::new();
    repo.write("app.py", format!("KEY = \"{}\"\n", anthropic_key(805)));
    repo.commit("adds a key");
    let before = history(repo.path(), &["--format", "json", "--no-redact"]);
    assert_eq!(before.status.code(), Some(1), "{}", text(&before));
    let report = repo.tree.write("../before-refs.json", &before.stdout);
    repo.git(&["pack-refs", "--all"]);
    let packed = repo.path().join(".git/packed-refs");
    let content = std::fs::read_to_string(&packed).unwrap_or_else(|err| panic!("{err}"));
    let mut lines: Vec<&str> = content.lines().collect();
    lines.insert(1, "not a ref line");
    std::fs::write(&packed, lines.join("\n") + "\n").unwrap_or_else(|err| panic!("{err}"));
    // Only the packed ref reaches the key: no reflogs, no index.
    std::fs::remove_dir_all(repo.path().join(".git/logs")).unwrap_or_else(|err| panic!("{err}"));
    std::fs::remove_file(repo.path().join(".git/index")).unwrap_or_else(|err| panic!("{err}"));
    let output = secretgate()
        .current_dir(repo.path())
        .arg("verify")
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap_or_else(|err| panic!("secretgate verify: {err}"));
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains("packed-refs: line 2"), "{all}");
    assert!(!all.contains("unreachable"), "{all}");
}
