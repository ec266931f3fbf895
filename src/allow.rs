//! Findings a team has already judged: an ignore file (`.secretgateignore`)
//! and a baseline (a previous JSON report). Only findings in neither fail.
//!
//! Both match on the position-independent fingerprint (rule id + secret), so
//! moving or editing nearby lines never revives an accepted finding. An ignore
//! entry may also name a path, to accept a secret in one file only; like an
//! allowed path, it then accepts a finding only when every path holding it is
//! covered (see `cli::policy`).
//!
//! Ignore file format, one entry a line, `#` starts a comment:
//!
//! ```text
//! # fingerprint                    [path]            # reason
//! 3f0c5d2e9a1b4c7d8e6f0a1b2c3d4e5f tests/fixtures.py # fake key used by the tests
//! 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d                   # rotated 2026-11-02, history not rewritten
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::confined::{MAX_BASELINE_BYTES, MAX_POLICY_BYTES, Trust};

/// The name of the ignore file looked for at the root of what is scanned.
pub const IGNORE_FILE_NAME: &str = ".secretgateignore";

/// Why an allow list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AllowError {
    /// The file could not be read, or may not be.
    #[error(transparent)]
    File(#[from] crate::confined::ReadError),
    /// A line of the ignore file is not `FINGERPRINT [PATH] [# reason]`.
    #[error(
        "{path}:{line}: {reason}; expected `FINGERPRINT [PATH] [# reason]` (the fingerprint is the 32-hex `fingerprint` of a finding)"
    )]
    IgnoreSyntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The baseline is not a secretgate JSON report.
    #[error(
        "{path}: not a secretgate JSON report ({reason}); make a baseline with `--format json -o FILE`"
    )]
    Baseline {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// One accepted fingerprint from the ignore file.
#[derive(Debug, Clone, Serialize)]
pub struct IgnoreEntry {
    /// The accepted finding's fingerprint.
    pub fingerprint: String,
    /// Only in this path, when given.
    pub path: Option<String>,
    /// The team's reason, from the comment.
    pub reason: Option<String>,
    /// Where the entry is: `file:line`.
    pub location: String,
}

/// Everything accepted for this run.
#[derive(Debug, Default)]
pub struct AllowList {
    ignores: Vec<IgnoreEntry>,
    baseline: HashSet<String>,
}

/// What the allow list took out, for the summary.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Suppressed {
    /// Findings in paths `.secretgate.toml` allows.
    pub allowed_paths: u64,
    /// Findings matched by an ignore-file entry.
    pub ignored: u64,
    /// Findings present in the baseline.
    pub baseline: u64,
    /// Distinct secrets the engine dropped only because a config raised a
    /// rule's entropy floor above its rule file's.
    pub entropy_floor: u64,
    /// Distinct secrets the engine dropped only because a config's extra
    /// rule file declared them public values.
    pub public_values: u64,
    /// Ignore entries that matched nothing (listed with `--report-unused-ignores`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unused_ignores: Option<Vec<IgnoreEntry>>,
}

impl Suppressed {
    /// Adds another scan's counts (`scan` of several repositories).
    pub fn add(&mut self, other: Suppressed) {
        self.allowed_paths += other.allowed_paths;
        self.ignored += other.ignored;
        self.baseline += other.baseline;
        self.entropy_floor += other.entropy_floor;
        self.public_values += other.public_values;
        if let Some(unused) = other.unused_ignores {
            self.unused_ignores
                .get_or_insert_with(Vec::new)
                .extend(unused);
        }
    }
}

impl AllowList {
    /// Reads an ignore file and a baseline, each with who named it; either
    /// may be absent.
    pub fn load(
        ignore_file: Option<&(PathBuf, Trust)>,
        baseline: Option<&(PathBuf, Trust)>,
    ) -> Result<AllowList, AllowError> {
        let mut list = AllowList::default();
        if let Some((path, trust)) = ignore_file {
            let text = crate::confined::read_text(path, MAX_POLICY_BYTES, trust)?;
            list.ignores = parse_ignore_file(path, &text)?;
        }
        if let Some((path, trust)) = baseline {
            list.baseline = read_baseline(path, trust)?;
        }
        Ok(list)
    }

    /// The ignore entries that accept `fingerprint` at `path`: those without
    /// a path, and those naming exactly this path (repository-relative).
    pub fn entries_covering<'a>(
        &'a self,
        fingerprint: &'a str,
        path: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        self.ignores
            .iter()
            .enumerate()
            .filter(move |(_, entry)| {
                entry.fingerprint == fingerprint && entry.path.as_deref().is_none_or(|p| p == path)
            })
            .map(|(index, _)| index)
    }

    /// Whether the baseline holds `fingerprint`.
    pub fn in_baseline(&self, fingerprint: &str) -> bool {
        self.baseline.contains(fingerprint)
    }

    /// How many ignore entries there are (indices for
    /// [`AllowList::entries_covering`] and [`AllowList::unused`]).
    pub fn ignore_count(&self) -> usize {
        self.ignores.len()
    }

    /// The ignore entries whose index is not marked in `used`.
    pub fn unused(&self, used: &[bool]) -> Vec<IgnoreEntry> {
        self.ignores
            .iter()
            .enumerate()
            .filter(|(index, _)| !used.get(*index).copied().unwrap_or(false))
            .map(|(_, entry)| entry.clone())
            .collect()
    }
}

fn parse_ignore_file(path: &Path, text: &str) -> Result<Vec<IgnoreEntry>, AllowError> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let (content, reason) = match raw.split_once('#') {
            Some((content, reason)) => (content, Some(reason.trim().to_string())),
            None => (raw, None),
        };
        let mut fields = content.split_whitespace();
        let Some(fingerprint) = fields.next() else {
            continue;
        };
        let syntax = |reason: String| AllowError::IgnoreSyntax {
            path: path.to_path_buf(),
            line: index + 1,
            reason,
        };
        if fingerprint.len() != 32 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(syntax(format!(
                "`{}` is not a 32-hex fingerprint",
                shown_token(fingerprint)
            )));
        }
        let entry_path = fields.next().map(str::to_string);
        if let Some(extra) = fields.next() {
            return Err(syntax(format!(
                "unexpected `{}` after the path",
                shown_token(extra)
            )));
        }
        entries.push(IgnoreEntry {
            fingerprint: fingerprint.to_ascii_lowercase(),
            path: entry_path,
            reason: reason.filter(|r| !r.is_empty()),
            location: format!("{}:{}", crate::sources::display_path(path), index + 1),
        });
    }
    Ok(entries)
}

fn read_baseline(path: &Path, trust: &Trust) -> Result<HashSet<String>, AllowError> {
    let text = crate::confined::read_bytes(path, MAX_BASELINE_BYTES, trust)?;
    let bad = |reason: String| AllowError::Baseline {
        path: path.to_path_buf(),
        reason,
    };
    let report: serde_json::Value =
        serde_json::from_slice(&text).map_err(|err| bad(err.to_string()))?;
    let findings = report["findings"]
        .as_array()
        .ok_or_else(|| bad("no `findings` array".into()))?;
    findings
        .iter()
        .map(|f| {
            f["fingerprint"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| bad("a finding has no `fingerprint`".into()))
        })
        .collect()
}

/// What an error message may show of a malformed ignore-file token: people
/// paste the secret itself there by mistake, and the message must not print
/// it back (to a CI log, say), so it is redacted like any secret; the line
/// number and the length say which token it is.
fn shown_token(token: &str) -> String {
    let count = token.chars().count();
    let hint = if count > 40 {
        "; is this the secret itself rather than its fingerprint?"
    } else {
        ""
    };
    format!(
        "{} ({count} characters{hint})",
        crate::redact::printable(&crate::redact::redact(token))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_file_lines_parse_with_optional_path_and_reason() {
        let text = "# header\n\n0123456789abcdef0123456789ABCDEF tests/x.py # fixture\nfedcba9876543210fedcba9876543210\n";
        let entries = parse_ignore_file(Path::new(".secretgateignore"), text).unwrap_or_default();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].fingerprint, "0123456789abcdef0123456789abcdef");
        assert_eq!(entries[0].path.as_deref(), Some("tests/x.py"));
        assert_eq!(entries[0].reason.as_deref(), Some("fixture"));
        assert_eq!(entries[0].location, ".secretgateignore:3");
        assert_eq!(entries[1].path, None);
    }

    #[test]
    fn bad_ignore_line_names_file_and_line() {
        let err = parse_ignore_file(Path::new("ig"), "\nnot-a-fingerprint\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("ig:2:"), "{err}");
    }
}
