//! Helpers shared by the integration tests: temp dirs, the binary, planted
//! secrets built at run time (so this repository's own source holds none).

#![allow(dead_code)]

pub mod git;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The secretgate binary under test, with CI variables cleared so redaction
/// defaults are the tests' choice.
pub fn secretgate() -> Command {
    let mut cmd = Command::cargo_bin("secretgate").unwrap_or_else(|err| panic!("binary: {err}"));
    cmd.env_remove("CI");
    cmd
}

/// A deterministic pseudo-random string over `alphabet` (a test fixture, not
/// a real secret).
pub fn random_string(seed: u64, len: usize, alphabet: &[u8]) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            alphabet[((state >> 33) % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const HEX: &[u8] = b"0123456789abcdef";
pub const URLSAFE: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

/// A well-formed Anthropic API key.
pub fn anthropic_key(seed: u64) -> String {
    format!("sk-ant-api{}-{}AA", "03", random_string(seed, 93, URLSAFE))
}

/// A temp directory with files written into it.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}")),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|err| panic!("mkdir: {err}"));
        }
        std::fs::write(&path, content).unwrap_or_else(|err| panic!("write {rel}: {err}"));
        path
    }
}

/// A copy of the binary under test at `dir/name`, executable: for hooks
/// that must find the secretgate that installed them once it is gone.
pub fn binary_copy(dir: &Path, name: &str) -> PathBuf {
    let copy = dir.join(name);
    if let Some(parent) = copy.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|err| panic!("mkdir: {err}"));
    }
    std::fs::copy(assert_cmd::cargo::cargo_bin("secretgate"), &copy)
        .unwrap_or_else(|err| panic!("copy the binary: {err}"));
    copy
}

/// Parses a JSON report from a command's stdout.
pub fn json_report(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not JSON ({err}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The rule ids of a JSON report's findings.
pub fn rule_ids(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .filter_map(|f| f["rule"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `secretgate scan . --format json` inside `path` (so reported paths are
/// relative to it) and returns (exit code, report).
pub fn scan_json(path: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let output = secretgate()
        .current_dir(path)
        .args(["scan", "."])
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap_or_else(|err| panic!("run: {err}"));
    let code = output.status.code().unwrap_or(-1);
    (code, json_report(&output))
}

/// A small, valid user rule file: one rule for a made-up `acme_` token.
pub const ACME_RULE: &str = r#"
[[rule]]
id = "acme-token"
name = "Acme token"
severity = "high"
description = "An Acme API token."
remediation = "Revoke it in the Acme console."
keywords = ["acme_"]
regex = '''\b(?P<secret>acme_[a-z0-9]{20})\b'''
examples = ["token = acme_k3j4h5g6f7d8s9a0q1w2"]
negative_examples = ["token = acme_short"]
"#;
