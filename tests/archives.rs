//! Secrets inside archives, compressed files and base64 containers, through
//! the binary: `history`, `scan` and `staged` open them by their magic
//! bytes, report findings at the archive with their path inside, and stop
//! at the limits with a counted skip. Archives are built here with the same
//! crates the scanner reads them with; every key is made up at run time.

mod common;

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use common::git::*;
use common::*;
use serde_json::Value;

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        writer
            .start_file(*name, options)
            .unwrap_or_else(|err| panic!("{err}"));
        writer.write_all(data).unwrap_or_else(|err| panic!("{err}"));
    }
    writer
        .finish()
        .unwrap_or_else(|err| panic!("{err}"))
        .into_inner()
}

fn tar_gz_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, *data)
            .unwrap_or_else(|err| panic!("{err}"));
    }
    gzip(&builder.into_inner().unwrap_or_else(|err| panic!("{err}")))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(data)
        .unwrap_or_else(|err| panic!("{err}"));
    encoder.finish().unwrap_or_else(|err| panic!("{err}"))
}

/// Runs `secretgate ARGS --format json` in `dir`: (exit code, report).
fn run(dir: &Path, args: &[&str]) -> (i32, Value) {
    let output = secretgate()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    (output.status.code().unwrap_or(-1), json_report(&output))
}

/// The skip reasons of a report, each with its path.
fn skips(report: &Value) -> Vec<(String, String)> {
    report["summary"]["skipped"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["path"].as_str().unwrap_or_default().to_string(),
                s["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn inner_path(finding: &Value) -> Vec<&str> {
    finding["inner_path"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn a_zip_committed_then_deleted_is_found_in_history_and_removed_whole() -> TestResult {
    let repo = Repo::new();
    let key = anthropic_key(1601);
    repo.write(
        "env-backup.zip",
        zip_of(&[(
            "app/settings.cfg",
            format!("# backup\n{}", env_line(&key)).as_bytes(),
        )]),
    );
    let added = repo.commit("back up the settings");
    let blob = repo.git(&["rev-parse", "HEAD:env-backup.zip"]);
    repo.git(&["rm", "-q", "env-backup.zip"]);
    repo.commit("remove the backup");
    let out = tempfile::tempdir()?;
    let file = |name: &str| out.path().join(name).display().to_string();
    let (code, report) = run(
        repo.path(),
        &[
            "history",
            "--emit-replacements",
            &file("replacements.txt"),
            "--emit-blob-ids",
            &file("blobs.txt"),
            "--emit-paths",
            &file("paths.txt"),
        ],
    );
    assert_eq!(code, 1, "{report:#}");
    let finding = only_finding(&report, &key);
    assert_eq!(finding["path"], "env-backup.zip");
    assert_eq!(inner_path(finding), ["app/settings.cfg"]);
    assert_eq!(finding["line"], 2);
    assert_eq!(finding["commit"], added.as_str());
    assert_eq!(finding["blob"], blob.as_str());
    // Compressed in its blob: no text replacement reaches it, the archive
    // goes whole.
    let replacements = std::fs::read_to_string(out.path().join("replacements.txt"))?;
    assert!(!replacements.contains(&key), "{replacements}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("blobs.txt"))?,
        format!("{blob}\n")
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("paths.txt"))?,
        "env-backup.zip\n"
    );
    Ok(())
}

#[test]
fn a_tar_gz_a_gzip_file_and_a_zip_in_a_zip_are_scanned_in_the_work_tree() {
    let tree = Tree::new();
    let keys = [
        anthropic_key(1602),
        anthropic_key(1603),
        anthropic_key(1604),
    ];
    tree.write(
        "backups/config.tar.gz",
        tar_gz_of(&[("etc/app.conf", env_line(&keys[0]).as_bytes())]),
    );
    tree.write(
        "dump.sql.gz",
        gzip(format!("insert into keys values ('{}');\n", keys[1]).as_bytes()),
    );
    let inner = zip_of(&[(
        "deep/notes.txt",
        format!("\n\n{}", env_line(&keys[2])).as_bytes(),
    )]);
    tree.write(
        "release.zip",
        zip_of(&[("readme.txt", b"hello"), ("inner.zip", &inner)]),
    );
    let (code, report) = run(tree.path(), &["scan", "."]);
    assert_eq!(code, 1, "{report:#}");
    let tgz = only_finding(&report, &keys[0]);
    assert_eq!(tgz["path"], "backups/config.tar.gz");
    assert_eq!(inner_path(tgz), ["etc/app.conf"]);
    let gz = only_finding(&report, &keys[1]);
    assert_eq!(gz["path"], "dump.sql.gz");
    assert_eq!(inner_path(gz), ["dump.sql"]);
    let nested = only_finding(&report, &keys[2]);
    assert_eq!(nested["path"], "release.zip");
    assert_eq!(inner_path(nested), ["inner.zip", "deep/notes.txt"]);
    assert_eq!(nested["line"], 3);
    assert!(skips(&report).is_empty(), "{report:#}");
    // Human output names the path inside after a `!`.
    let output = secretgate()
        .current_dir(tree.path())
        .args(["scan", "."])
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("release.zip!inner.zip!deep/notes.txt:3:"),
        "{text}"
    );
    // Depth 0: archives are not opened, only counted as binary.
    let (code, report) = run(tree.path(), &["scan", ".", "--max-archive-depth", "0"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(skips(&report).iter().all(|(_, reason)| reason == "binary"));
}

#[test]
fn a_docx_staged_for_commit_blocks_it() {
    let repo = Repo::new();
    repo.write("README.md", "runbooks\n");
    repo.commit("start");
    let key = anthropic_key(1605);
    let document = format!(
        "<?xml version=\"1.0\"?><w:document><w:body><w:p><w:r><w:t>Deploy key: {key}</w:t></w:r></w:p></w:body></w:document>"
    );
    repo.write(
        "docs/runbook.docx",
        zip_of(&[
            ("[Content_Types].xml", b"<Types/>".as_slice()),
            ("word/document.xml", document.as_bytes()),
        ]),
    );
    repo.git(&["add", "docs/runbook.docx"]);
    let (code, report) = run(repo.path(), &["staged"]);
    assert_eq!(code, 1, "{report:#}");
    let finding = only_finding(&report, &key);
    assert_eq!(finding["path"], "docs/runbook.docx");
    assert_eq!(inner_path(finding), ["word/document.xml"]);
    // Committed: the next staged change to something else adds nothing.
    repo.commit("add the runbook");
    repo.write("README.md", "runbooks and more\n");
    repo.git(&["add", "README.md"]);
    let (code, report) = run(repo.path(), &["staged"]);
    assert_eq!(code, 0, "{report:#}");
}

/// A PEM body of the right shape from random letters: no key at all.
fn fake_pem(seed: u64) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let body = format!("MIIEpAIBAAKCAQEA{}", random_string(seed, 1500, alphabet));
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

#[test]
fn a_kubeconfig_client_key_is_decoded_and_scanned_as_pem() {
    let tree = Tree::new();
    let pem = fake_pem(1606);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&pem);
    // `kubectl config view --raw -o json`: the name in quotes.
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "users": [ { "name": "admin", "user": {
            "client-certificate-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==",
            "client-key-data": encoded,
        } } ],
    });
    tree.write(
        "deploy/admin.kubeconfig.json",
        serde_json::to_string_pretty(&config).unwrap(),
    );
    let (code, report) = run(tree.path(), &["scan", "."]);
    assert_eq!(code, 1, "{report:#}");
    let finding = only_finding(&report, pem.trim_end());
    assert_eq!(finding["rule"], "private-key-rsa");
    assert_eq!(finding["encoding"], "base64");
    assert_eq!(finding["match"], encoded.as_str());
    // In YAML, the kubeconfig rule reads the encoded value itself: one
    // finding, not two.
    tree.write("deploy/admin.kubeconfig.json", "{}");
    tree.write(
        "kubeconfig",
        format!("apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    client-key-data: {encoded}\n"),
    );
    let (_, report) = run(tree.path(), &["scan", "kubeconfig"]);
    let secrets: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == "secret")
        .collect();
    assert_eq!(secrets.len(), 1, "{report:#}");
    assert_eq!(secrets[0]["rule"], "kubeconfig-client-key-data");
}

#[test]
fn a_zip_bomb_stops_at_the_byte_limit_with_a_counted_skip() {
    let tree = Tree::new();
    let letters = vec![b'a'; 4 << 20];
    tree.write(
        "bomb.zip",
        zip_of(&[
            ("one.txt", &letters),
            ("two.txt", &letters),
            ("three.txt", &letters),
        ]),
    );
    let (code, report) = run(
        tree.path(),
        &["scan", ".", "--max-archive-bytes", "1000000"],
    );
    assert_eq!(code, 0, "a limit is not an error: {report:#}");
    assert_eq!(
        skips(&report),
        [(
            "bomb.zip!one.txt".to_string(),
            "archive_bytes_limit".to_string()
        )]
    );
    assert_eq!(
        report["summary"]["skipped"]["by_reason"]["archive_bytes_limit"],
        1
    );
}

#[test]
fn encrypted_and_corrupt_archives_are_counted_and_corrupt_ones_fail_the_run() {
    use zip::unstable::write::FileOptionsExt;
    let tree = Tree::new();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    writer
        .start_file(
            "vault.txt",
            options.with_deprecated_encryption(b"pw").unwrap(),
        )
        .unwrap();
    writer.write_all(b"locked away\n").unwrap();
    let locked = writer.finish().unwrap().into_inner();
    tree.write("locked.zip", &locked);
    let (code, report) = run(tree.path(), &["scan", "."]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        skips(&report),
        [(
            "locked.zip!vault.txt".to_string(),
            "encrypted_archive_entry".to_string()
        )]
    );
    let good = zip_of(&[("a.txt", b"hello")]);
    tree.write("cut.zip", &good[..good.len() - 30]);
    let (code, report) = run(tree.path(), &["scan", "."]);
    assert_eq!(code, 2, "unread content is an error: {report:#}");
    assert!(
        skips(&report).contains(&("cut.zip".to_string(), "corrupt_archive".to_string())),
        "{report:#}"
    );
}

#[test]
fn an_entry_named_with_dot_dot_is_only_a_name() {
    let tree = Tree::new();
    let work = tree.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let key = anthropic_key(1607);
    let name = "../../escaped-secretgate-1607.cfg";
    std::fs::write(
        work.join("evil.zip"),
        zip_of(&[(name, env_line(&key).as_bytes())]),
    )
    .unwrap();
    let (code, report) = run(&work, &["scan", "."]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(inner_path(only_finding(&report, &key)), [name]);
    // Nothing was written anywhere the name points.
    assert!(!tree.path().join("escaped-secretgate-1607.cfg").exists());
    assert!(!work.join(name).exists());
    let entries: Vec<_> = std::fs::read_dir(&work).unwrap().collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn verify_finds_a_secret_still_inside_an_archive() -> TestResult {
    let before_repo = Repo::new();
    let key = anthropic_key(1608);
    before_repo.write(
        "env-backup.zip",
        zip_of(&[("prod.cfg", env_line(&key).as_bytes())]),
    );
    before_repo.commit("backup");
    let output = secretgate()
        .current_dir(before_repo.path())
        .args(["history", "--format", "json", "--no-redact"])
        .output()?;
    let out = tempfile::tempdir()?;
    let report = out.path().join("before.json");
    std::fs::write(&report, &output.stdout)?;
    // A "rewrite" that moved the key into another archive, under another
    // name: no blob or path of the report is left, only the value.
    let after = Repo::new();
    after.write(
        "moved/settings.tgz",
        tar_gz_of(&[("prod.cfg", env_line(&key).as_bytes())]),
    );
    after.commit("moved");
    let report_arg = report.display().to_string();
    let (code, verify) = run(after.path(), &["verify", "--report", &report_arg]);
    assert_eq!(code, 1, "{verify:#}");
    let survivors = verify["survivors"].as_array().ok_or("no survivors")?;
    assert_eq!(survivors.len(), 1, "{verify:#}");
    assert_eq!(survivors[0]["kind"], "blob");
    assert_eq!(
        survivors[0]["reached_from"][0]["path"],
        "moved/settings.tgz"
    );
    Ok(())
}

#[test]
fn a_changed_archive_adds_only_what_the_committed_one_did_not_hold() {
    let repo = Repo::new();
    let (old, new) = (anthropic_key(1609), anthropic_key(1610));
    repo.write("conf.zip", zip_of(&[("a.cfg", env_line(&old).as_bytes())]));
    repo.commit("config");
    repo.write(
        "conf.zip",
        zip_of(&[
            ("a.cfg", env_line(&old).as_bytes()),
            ("b.cfg", env_line(&new).as_bytes()),
        ]),
    );
    repo.git(&["add", "conf.zip"]);
    let (code, report) = run(repo.path(), &["staged"]);
    assert_eq!(code, 1, "{report:#}");
    assert!(findings_of(&report, &old).is_empty(), "{report:#}");
    assert_eq!(inner_path(only_finding(&report, &new)), ["b.cfg"]);
}
