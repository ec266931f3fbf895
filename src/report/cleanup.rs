//! Cleanup files: what `git filter-repo` and BFG need to purge the findings of
//! a history audit, and the plan that ties audit, rotation, rewrite and
//! `secretgate verify` together.
//!
//! Three files, each written by `secretgate history` on request:
//!
//! - replacements (`--emit-replacements`), read by `git filter-repo
//!   --replace-text` / `--replace-message` and `bfg --replace-text`: one line
//!   per distinct secret value, `VALUE==>***REMOVED***`. Both tools read a line
//!   as a literal unless it starts with `regex:`, `glob:` or `literal:`, and
//!   split the replacement at `==>` (filter-repo at the last one, BFG at the
//!   first). A value that a literal line cannot carry exactly — one holding
//!   `==>`, a line break (PEM private keys), leading or trailing whitespace, a
//!   control character, or starting with one of those prefixes — is written
//!   as `regex:` with every ASCII punctuation character escaped, in the syntax
//!   common to Python's `re` (filter-repo) and Java's regexes (BFG). BFG
//!   replaces line by line, so it cannot replace a multi-line value; strip
//!   such files by blob id or path instead (`secretgate verify` tells).
//! - blob ids (`--emit-blob-ids`), for `git filter-repo --strip-blobs-with-ids`
//!   and `bfg --strip-blobs-with-ids`: the blobs that are whole secret files
//!   (findings of the sensitive-file rules: a tracked `.env`, an `id_rsa`).
//! - paths (`--emit-paths`), for `git filter-repo --invert-paths
//!   --paths-from-file`: every path those blobs had, which removes every
//!   version of those files, including ones edited after the audit.
//!
//! A secret inside an archive (a finding with an `inner_path`) is compressed
//! in its blob, where no text replacement reaches it: the archive is listed
//! with the whole secret files instead (its blob id and every path it had),
//! and its value is not written to the replacements.
//!
//! The files hold real secret values, so they are created with mode 0600 and
//! never printed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::finding::{Finding, FindingKind};

/// What filter-repo and BFG put in place of a secret by default; the engine
/// knows it too, and never reports it as a secret.
pub use crate::engine::placeholder::REMOVED;

/// Why a cleanup file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// The file could not be created, restricted to its owner, or written.
    #[error("cannot write the {what} file {path}: {source}")]
    Write {
        /// Which file (replacements, blob ids, paths).
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The content of the three cleanup files, derived from a history audit's
/// findings (suppressed findings are already gone from them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupFiles {
    /// Distinct values to replace, as the repository stores them, sorted.
    pub values: BTreeSet<String>,
    /// Blob ids of whole secret files, sorted.
    pub blob_ids: BTreeSet<String>,
    /// Every path those blobs had, sorted.
    pub paths: BTreeSet<String>,
    /// Whether any secret was found in a commit or tag message, which
    /// `--replace-text` does not touch (`--replace-message` does).
    pub in_messages: bool,
    /// Archives (paths) holding a finding: removed whole.
    pub archives: BTreeSet<String>,
}

impl CleanupFiles {
    /// Collects the values, blob ids and paths of `findings`.
    pub fn from_findings(findings: &[Finding]) -> CleanupFiles {
        let mut files = CleanupFiles::default();
        for finding in findings {
            if !finding.inner_path.is_empty() {
                files.add_whole(finding);
                files.archives.insert(finding.path.clone());
                continue;
            }
            match finding.kind {
                FindingKind::Secret => {
                    files.values.extend(stored_values(finding));
                    let in_blob = finding.git.as_ref().is_some_and(|g| g.blob.is_some());
                    if finding.git.is_some() && !in_blob {
                        files.in_messages = true;
                    }
                }
                FindingKind::File => files.add_whole(finding),
            }
        }
        files
    }

    /// Lists the blob of `finding` and every path it had, to be removed whole.
    fn add_whole(&mut self, finding: &Finding) {
        if let Some(blob) = finding.git.as_ref().and_then(|g| g.blob.clone()) {
            self.blob_ids.insert(blob);
        }
        if !finding.path.starts_with('<') {
            self.paths.insert(finding.path.clone());
        }
        if let Some(occurrences) = finding.git.as_ref().and_then(|g| g.occurrences.as_ref()) {
            self.paths.extend(occurrences.paths.iter().cloned());
        }
    }

    /// The `--replace-text` file: one line per value, sorted.
    pub fn replacements_text(&self) -> String {
        self.values
            .iter()
            .map(|value| replacement_line(value) + "\n")
            .collect()
    }

    /// The `--strip-blobs-with-ids` file: one blob id a line.
    pub fn blob_ids_text(&self) -> String {
        self.blob_ids.iter().map(|id| format!("{id}\n")).collect()
    }

    /// The `--paths-from-file` file: one path a line.
    pub fn paths_text(&self) -> String {
        self.paths
            .iter()
            .map(|path| path_line(path) + "\n")
            .collect()
    }
}

/// The byte strings under which a secret finding is stored in the
/// repository: the secret itself, or for a secret stored encoded (base64), the
/// encoded text, which is what a rewrite must replace and what `verify` must
/// look for. Empty for file findings.
pub fn stored_values(finding: &Finding) -> Vec<String> {
    match finding.secret.as_deref() {
        Some(secret) => stored_forms(
            secret,
            finding.matched.as_deref(),
            finding.encoding.is_some(),
        ),
        None => Vec::new(),
    }
}

/// [`stored_values`] from a report's fields: the secret, the matched text and
/// whether the secret was stored encoded.
pub fn stored_forms(secret: &str, matched: Option<&str>, encoded: bool) -> Vec<String> {
    if secret.is_empty() {
        return Vec::new();
    }
    if !encoded {
        return vec![secret.to_string()];
    }
    let matched = matched.unwrap_or_default();
    // A container value (a Kubernetes `data:` entry) decodes to more than the
    // secret; its match is exactly the encoded value.
    let is_base64 = |text: &str| {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=-_".contains(&b))
    };
    if !matched.is_empty() && is_base64(matched) {
        return vec![matched.to_string()];
    }
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let encoded = engines
        .iter()
        .map(|engine| engine.encode(secret.as_bytes()))
        .find(|encoded| matched.contains(encoded.as_str()));
    match encoded {
        Some(encoded) => vec![encoded],
        // Not found as such: the whole match holds it.
        None if !matched.is_empty() => vec![matched.to_string()],
        None => Vec::new(),
    }
}

/// One `--replace-text` line for `value`: a literal when both tools read it
/// back exactly, a `regex:` otherwise.
pub fn replacement_line(value: &str) -> String {
    if literal_is_exact(value) {
        format!("{value}==>{REMOVED}")
    } else {
        format!("regex:{}==>{REMOVED}", regex_escape(value))
    }
}

/// Whether `value` survives as a literal line: no `==>` (where the tools
/// split), no line break or control character (lines are split, and filter-repo
/// strips a trailing `\r`), no leading or trailing whitespace (easily lost by
/// editors and by BFG's line handling), no matcher prefix.
fn literal_is_exact(value: &str) -> bool {
    !value.is_empty()
        && !value.contains("==>")
        && !value.chars().any(char::is_control)
        && value.trim() == value
        && !["regex:", "glob:", "literal:"]
            .iter()
            .any(|prefix| value.starts_with(prefix))
}

/// `value` as a regex matching exactly it, in the syntax Python's `re` and
/// Java share: ASCII letters, digits and `_` as they are, other printable
/// ASCII backslash-escaped (never a letter: `\d` would mean something), space
/// and control characters as `\xHH` (`\n`, `\r`, `\t` by name), non-ASCII
/// characters as they are (both tools match them literally). The result never
/// contains `==>`, since `=` and `>` are escaped.
pub fn regex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for c in value.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_graphic() => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// One `--paths-from-file` line: the path, `literal:`-prefixed when it would
/// otherwise read as a comment or a matcher, a `regex:` when it holds `==>`
/// (a rename there) or a line break.
pub fn path_line(path: &str) -> String {
    if path.contains("==>") || path.chars().any(char::is_control) {
        format!("regex:^{}$", regex_escape(path))
    } else if ["#", "regex:", "glob:", "literal:"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
    {
        format!("literal:{path}")
    } else {
        path.to_string()
    }
}

/// Writes `content` to `path`, readable by its owner only: a new mode-0600
/// file renamed over the destination, never written through a symlink (see
/// [`crate::outfile`]).
pub fn write_private(path: &Path, what: &'static str, content: &str) -> Result<(), CleanupError> {
    crate::outfile::write_private(path, content.as_bytes()).map_err(|source| CleanupError::Write {
        what,
        path: path.to_path_buf(),
        source,
    })
}

/// Which cleanup files a run wrote, so the plan can name them.
#[derive(Debug, Clone, Default)]
pub struct Emitted {
    /// The `--replace-text` file.
    pub replacements: Option<PathBuf>,
    /// The `--strip-blobs-with-ids` file.
    pub blob_ids: Option<PathBuf>,
    /// The `--paths-from-file` file.
    pub paths: Option<PathBuf>,
}

/// The closing plan of a human history report with findings: rotate, back
/// up, rewrite (with the files this run wrote, or the flags that write them),
/// then verify and publish.
pub fn plan(findings: &[Finding], files: &CleanupFiles, emitted: &Emitted) -> String {
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    line("Cleaning up (see README, \"Cleaning a leaked secret out of history\"):");
    line("  1. Rotate first: rewriting history does not un-leak a secret that was pushed.");
    let mut rules = BTreeSet::new();
    for finding in findings {
        if rules.insert(finding.rule.as_str()) {
            line(&format!(
                "     - {}: {}",
                finding.rule,
                first_sentence(&finding.remediation)
            ));
        }
    }
    line("  2. Back up: git clone --mirror . ../backup.git");
    let shown = |path: &Option<PathBuf>, placeholder: &str| match path {
        Some(path) => shell_word(&path.display().to_string()),
        None => placeholder.to_string(),
    };
    let replacements = shown(&emitted.replacements, "REPLACEMENTS");
    let paths = shown(&emitted.paths, "PATHS");
    let mut command = String::from("git filter-repo");
    if !files.values.is_empty() {
        command.push_str(&format!(" --replace-text {replacements}"));
        if files.in_messages {
            command.push_str(&format!(" --replace-message {replacements}"));
        }
    }
    if !files.paths.is_empty() {
        command.push_str(&format!(" --invert-paths --paths-from-file {paths}"));
    }
    command.push_str(" --force");
    line(&format!("  3. Rewrite: {command}"));
    if !files.archives.is_empty() {
        line(&format!(
            "     ({} archive(s) hold secrets inside, where --replace-text cannot reach: they are removed whole, every version, by the paths file; keep what you need from them first)",
            files.archives.len()
        ));
    }
    let missing: Vec<&str> = [
        (!files.values.is_empty() && emitted.replacements.is_none())
            .then_some("--emit-replacements REPLACEMENTS"),
        (!files.paths.is_empty() && emitted.paths.is_none()).then_some("--emit-paths PATHS"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        line(&format!(
            "     (write those files with `secretgate history --format json --no-redact -o ../before.json {}`, outside the work tree: they hold the secrets)",
            missing.join(" ")
        ));
    }
    if !files.blob_ids.is_empty() {
        let blobs = shown(&emitted.blob_ids, "BLOB_IDS");
        line(&format!(
            "     (only the flagged versions of whole secret files: --strip-blobs-with-ids {blobs}; BFG: bfg --replace-text {replacements} --strip-blobs-with-ids {blobs})"
        ));
    }
    line("     then: git reflog expire --expire=now --all && git gc --prune=now --aggressive");
    line("  4. Verify: secretgate verify --report ../before.json (needs an unredacted -o report)");
    line(
        "  5. Publish: force-push every branch and tag, have collaborators re-clone, and ask the hosting provider to purge cached views and pull-request refs.",
    );
    out
}

/// The first sentence of a rule's remediation, on one line.
fn first_sentence(text: &str) -> String {
    let paragraph = text.split("\n\n").next().unwrap_or_default();
    let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.find(". ") {
        Some(end) => joined[..=end].to_string(),
        None => joined,
    }
}

/// `text` quoted for a POSIX shell when it needs it.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:,@%=".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_literal_lines() {
        assert_eq!(
            replacement_line("sk-abc_123.x/y+z"),
            "sk-abc_123.x/y+z==>***REMOVED***"
        );
    }

    #[test]
    fn values_a_literal_cannot_carry_are_regexes() {
        assert_eq!(replacement_line("a==>b"), r"regex:a\=\=\>b==>***REMOVED***");
        assert_eq!(
            replacement_line("-----BEGIN KEY-----\nQUJD\n-----END KEY-----"),
            r"regex:\-\-\-\-\-BEGIN\x20KEY\-\-\-\-\-\nQUJD\n\-\-\-\-\-END\x20KEY\-\-\-\-\-==>***REMOVED***"
        );
        assert_eq!(replacement_line(" lead"), r"regex:\x20lead==>***REMOVED***");
        assert_eq!(
            replacement_line("trail\t"),
            r"regex:trail\t==>***REMOVED***"
        );
        assert_eq!(replacement_line("a\r\nb"), r"regex:a\r\nb==>***REMOVED***");
        assert_eq!(
            replacement_line("regex:x"),
            r"regex:regex\:x==>***REMOVED***"
        );
        assert_eq!(
            replacement_line("glob:*"),
            r"regex:glob\:\*==>***REMOVED***"
        );
        assert_eq!(
            replacement_line("literal:q"),
            r"regex:literal\:q==>***REMOVED***"
        );
        assert_eq!(replacement_line("a\u{1}b"), r"regex:a\x01b==>***REMOVED***");
    }

    #[test]
    fn escaped_regexes_never_hold_the_separator_and_keep_non_ascii() {
        let escaped = regex_escape("x==>y é $1 \\ (?i)");
        assert!(!escaped.contains("==>"));
        assert_eq!(escaped, r"x\=\=\>y\x20é\x20\$1\x20\\\x20\(\?i\)");
    }

    #[test]
    fn paths_that_would_read_as_directives_are_quoted() {
        assert_eq!(path_line("config/.env"), "config/.env");
        assert_eq!(path_line("#notes.env"), "literal:#notes.env");
        assert_eq!(path_line("glob:x"), "literal:glob:x");
        assert_eq!(path_line("a==>b/.env"), r"regex:^a\=\=\>b\/\.env$");
    }

    fn finding(secret: &str, matched: &str, encoding: Option<&str>) -> Finding {
        Finding {
            kind: FindingKind::Secret,
            rule: "r".into(),
            name: "R".into(),
            severity: crate::rules::Severity::High,
            confidence: crate::rules::Confidence::High,
            context: None,
            detail: None,
            secret: Some(secret.into()),
            matched: Some(matched.into()),
            path: "p".into(),
            inner_path: Vec::new(),
            line: Some(1),
            column: Some(1),
            end_line: Some(1),
            end_column: Some(2),
            fingerprint: "f".into(),
            encoding: encoding.map(str::to_string),
            remediation: "Rotate it.".into(),
            git: None,
            utf16: None,
            other_paths: crate::finding::OtherPaths::None,
            deferred: false,
            doc_comment: false,
            content_confidence: None,
            gate: None,
        }
    }

    #[test]
    fn encoded_secrets_are_replaced_as_stored() {
        // "user:pass" in base64, inside a header.
        let f = finding(
            "user:pass",
            "Authorization: Basic dXNlcjpwYXNz",
            Some("base64"),
        );
        assert_eq!(stored_values(&f), ["dXNlcjpwYXNz"]);
        // A Kubernetes value decoded to more than the secret: the match is the value.
        let f = finding("tars2026", "dGFyczIwMjYK", Some("base64"));
        assert_eq!(stored_values(&f), ["dGFyczIwMjYK"]);
        let f = finding("plain", "key = plain", None);
        assert_eq!(stored_values(&f), ["plain"]);
    }

    #[test]
    fn the_plan_rewrites_messages_only_when_secrets_are_in_them() {
        let mut in_message = finding("m-secret", "m-secret", None);
        in_message.git = Some(crate::finding::GitProvenance {
            commit: Some("c".into()),
            ..Default::default()
        });
        let in_file = finding("f-secret", "f-secret", None);
        let emitted = Emitted {
            replacements: Some(PathBuf::from("../my replacements.txt")),
            ..Emitted::default()
        };
        let files = CleanupFiles::from_findings(std::slice::from_ref(&in_file));
        let text = plan(std::slice::from_ref(&in_file), &files, &emitted);
        assert!(text.contains("git filter-repo --replace-text '../my replacements.txt' --force"));
        assert!(text.contains("- r: Rotate it."), "{text}");
        let both = [in_file, in_message];
        let files = CleanupFiles::from_findings(&both);
        assert!(files.in_messages);
        let plan = plan(&both, &files, &Emitted::default());
        assert!(
            plan.contains("--replace-text REPLACEMENTS --replace-message REPLACEMENTS --force")
        );
        assert!(plan.contains("--emit-replacements REPLACEMENTS"), "{plan}");
    }

    #[test]
    fn archives_are_removed_whole_not_rewritten() {
        let mut inside = finding("in-zip", "in-zip", None);
        inside.path = "backup.zip".into();
        inside.inner_path = vec!["config/.env".into()];
        inside.git = Some(crate::finding::GitProvenance {
            commit: Some("c".into()),
            blob: Some("b10b".into()),
            occurrences: Some(crate::finding::Occurrences {
                commits: 2,
                paths: vec!["backup.zip".into(), "old/backup.zip".into()],
            }),
            ..Default::default()
        });
        let files = CleanupFiles::from_findings(std::slice::from_ref(&inside));
        assert!(files.values.is_empty());
        assert_eq!(files.blob_ids_text(), "b10b\n");
        assert_eq!(files.paths_text(), "backup.zip\nold/backup.zip\n");
        let text = plan(&[inside], &files, &Emitted::default());
        assert!(
            text.contains("--invert-paths --paths-from-file PATHS"),
            "{text}"
        );
        assert!(text.contains("1 archive(s) hold secrets inside"), "{text}");
    }

    #[test]
    fn first_sentences_are_one_line() {
        assert_eq!(
            first_sentence("Revoke the key at\nthe console. Then rotate.\n\nMore."),
            "Revoke the key at the console."
        );
        assert_eq!(first_sentence("No period"), "No period");
    }

    #[test]
    fn files_are_sorted_and_deduplicated() {
        let findings = [
            finding("b-secret", "b-secret", None),
            finding("a-secret", "a-secret", None),
            finding("b-secret", "b-secret", None),
        ];
        let files = CleanupFiles::from_findings(&findings);
        assert_eq!(
            files.replacements_text(),
            "a-secret==>***REMOVED***\nb-secret==>***REMOVED***\n"
        );
        assert!(files.blob_ids_text().is_empty());
    }
}
