//! A finding: a confirmed match with everything a person needs to act on it —
//! where it is, what it is, how to rotate it and a fingerprint that stays the
//! same when lines move.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::confidence::{Assessment, Context, assess, is_doc_comment_line};
use crate::engine::Match;
use crate::engine::text::LineIndex;
use crate::rules::{Confidence, FileRule, Rule, Severity};

/// What kind of thing was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// A secret inside content.
    Secret,
    /// A file that should not be in version control at all.
    File,
}

/// One finding, as every report format sees it. Field names are the JSON
/// schema documented in the README; add fields, never rename them.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Secret or sensitive file.
    pub kind: FindingKind,
    /// The rule id.
    pub rule: String,
    /// The rule's human name.
    pub name: String,
    /// How bad the leak is.
    pub severity: Severity,
    /// How sure it is to be a real credential: the rule's confidence,
    /// lowered in test, example and docs files (see [`crate::confidence`]).
    /// The gates fail on findings at or above `--min-confidence`.
    pub confidence: Confidence,
    /// The kind of file it is in (`test`, `example`, `docs`, ...), when the
    /// path is one that lowers confidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Why the secret has this severity and confidence, when its own content
    /// says (a JWT's claims: `role anon: ...`; a key's protection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The secret (decoded if it was encoded); `null` for file findings.
    pub secret: Option<String>,
    /// The whole matched text; `null` for file findings.
    #[serde(rename = "match")]
    pub matched: Option<String>,
    /// The path of the file (or blob path in history); for a secret inside
    /// an archive, the archive's path.
    pub path: String,
    /// For a finding inside an archive: its path inside, one element per
    /// nested archive (`["inner.zip", "config/.env"]`); lines and columns
    /// are those of the innermost file. Empty (and absent from JSON)
    /// otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inner_path: Vec<String>,
    /// 1-based line of the secret's first byte; `null` for file findings.
    pub line: Option<usize>,
    /// 1-based byte column of the secret's first byte.
    pub column: Option<usize>,
    /// 1-based line of the secret's last byte.
    pub end_line: Option<usize>,
    /// 1-based byte column just past the secret's last byte.
    pub end_column: Option<usize>,
    /// Hash of rule id and secret (or path, for files): independent of position.
    pub fingerprint: String,
    /// How the secret was encoded in the file (`base64`), if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Where and how to rotate.
    pub remediation: String,
    /// Git provenance, filled by history scans.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitProvenance>,
    /// The columns again in UTF-16 code units, which SARIF counts by default;
    /// computed while the line's text is at hand, so no report has to reread
    /// the file (or blob). Not part of the JSON report, whose columns count bytes.
    #[serde(skip)]
    pub utf16: Option<Utf16Columns>,
    /// The other paths that hold this finding, for the path rules (allowed
    /// paths, path-scoped ignore entries); see [`OtherPaths`]. Never serialized.
    #[serde(skip)]
    pub other_paths: OtherPaths,
    /// Whether the finding was not final when its blob was scanned (a
    /// sensitive-file finding that only another path of the blob shows, or
    /// one the path rules moved to another path), so a stream writes it at
    /// the end rather than as it was found. Never serialized.
    #[serde(skip)]
    pub deferred: bool,
    /// Whether the secret's line is in a documentation comment (` * `,
    /// `///`), which makes it documentation wherever the file is; kept so
    /// the confidence can be judged again from another path.
    #[serde(skip)]
    pub doc_comment: bool,
    /// The confidence the secret's own content gave it (a JWT's claims), in
    /// place of its rule's wherever the finding is judged again. Never
    /// serialized.
    #[serde(skip)]
    pub content_confidence: Option<Confidence>,
    /// The gate's threshold of the policy that judged this finding, when a
    /// scan spans repositories whose configs set different ones (each file
    /// is held to its own repository's); `None`: the outcome's. Never
    /// serialized.
    #[serde(skip)]
    pub gate: Option<crate::confidence::Threshold>,
}

impl Finding {
    /// Where the finding is, as people read it: the path, then each path
    /// inside an archive after a `!` (`backup.zip!config/.env`).
    pub fn shown_path(&self) -> std::borrow::Cow<'_, str> {
        if self.inner_path.is_empty() {
            std::borrow::Cow::Borrowed(&self.path)
        } else {
            std::borrow::Cow::Owned(format!("{}!{}", self.path, self.inner_path.join("!")))
        }
    }

    /// The path its confidence is judged from when its file is at `path`:
    /// an archive reads as a directory, so `tests/data.zip` holding
    /// `config/.env` is judged as `tests/data.zip/config/.env`.
    pub fn context_path(&self, path: &str) -> String {
        let mut joined = path.to_string();
        for part in &self.inner_path {
            joined.push('/');
            joined.push_str(part);
        }
        joined
    }
}

/// Where else the content of a finding is: a path rule (an allowed path, a
/// path-scoped ignore entry) accepts a finding only when it covers every
/// path that holds it. Why: a blob is one object however many paths name
/// it, and a key first committed under `tests/fixtures/` and later copied to
/// `src/` is in `src/` too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OtherPaths {
    /// Only the finding's own path (files on disk, a new staged file).
    #[default]
    None,
    /// History: the other paths the blob had in the scanned commits, in the
    /// order they first appeared, each with the first commit (hex) that held
    /// it there. A finding whose own path is covered is reported at the
    /// first one that is not.
    History(Vec<PathAt>),
    /// Staged: content `HEAD` already holds at these paths, where this
    /// finding would have been reported too. The commit adds the finding only
    /// if every one of them is covered: a rename of a reported secret adds
    /// nothing, a copy out of an allowed path does.
    InHead(Vec<String>),
}

/// One path of a blob and the first commit that held the blob there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathAt {
    /// The path, `/`-separated.
    pub path: String,
    /// The first commit (in parents-first order) whose tree holds the blob at
    /// `path`, hex.
    pub commit: Option<String>,
}

/// 1-based columns counted in UTF-16 code units, as SARIF and most editors'
/// protocols (LSP) count them: a line with non-ASCII text before the secret
/// has fewer code units than bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf16Columns {
    /// Column of the secret's first character.
    pub column: usize,
    /// Column just past the secret's last character, on its last line.
    pub end_column: usize,
}

/// The 1-based UTF-16 column of the character that follows `line_prefix`
/// (the bytes of its line before it). Invalid UTF-8 counts one unit per
/// replacement character, as a lossy decode would show it.
pub fn utf16_column(line_prefix: &[u8]) -> usize {
    utf16_units(line_prefix) + 1
}

/// UTF-16 code units of `bytes` decoded lossily; ASCII, by far the common
/// case, is one unit a byte and checked a word at a time.
fn utf16_units(bytes: &[u8]) -> usize {
    if bytes.is_ascii() {
        return bytes.len();
    }
    String::from_utf8_lossy(bytes).encode_utf16().count()
}

/// Bytes between two remembered UTF-16 counts of a line: a column costs at
/// most this much decoding, however long its line.
const UTF16_STEP: usize = 512;

/// What every finding on a line needs to know about the line before it,
/// learnt once per line. Why: thousands of findings on one long line (a
/// minified bundle, a JSON dump) each measured their line from its start,
/// so findings cost the square of the line's length.
#[derive(Debug, Default)]
struct LineFacts {
    /// The first byte of the line that is not a space or a tab (or where the
    /// search stopped, at the line's end).
    first_non_blank: usize,
    /// Offsets in the line, each at a character boundary, with the UTF-16
    /// units of the line before it; the first is the line's start.
    checkpoints: Vec<(usize, usize)>,
}

/// [`LineFacts`] of the lines of one text, by line start.
struct Lines<'t> {
    text: &'t [u8],
    facts: std::collections::HashMap<usize, LineFacts>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t [u8]) -> Self {
        Lines {
            text,
            facts: std::collections::HashMap::new(),
        }
    }

    fn facts(&mut self, line_start: usize) -> &mut LineFacts {
        let text = self.text;
        self.facts.entry(line_start).or_insert_with(|| {
            let first_non_blank = text[line_start..]
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t'))
                .map_or(text.len(), |i| line_start + i);
            LineFacts {
                first_non_blank,
                checkpoints: vec![(line_start, 0)],
            }
        })
    }

    /// Whether the line starting at `line_start` is a documentation comment
    /// as far as `at` ([`is_doc_comment_line`] of the bytes before `at`).
    fn doc_comment(&mut self, line_start: usize, at: usize) -> bool {
        let from = self.facts(line_start).first_non_blank.min(at);
        is_doc_comment_line(&self.text[from..at])
    }

    /// [`utf16_column`] of `text[line_start..at]`, decoding at most
    /// [`UTF16_STEP`] bytes beyond what earlier calls on the line decoded.
    fn utf16_column(&mut self, line_start: usize, at: usize) -> usize {
        let text = self.text;
        let checkpoints = &mut self.facts(line_start).checkpoints;
        // Remember counts every STEP bytes up to `at`, each at a byte that
        // starts a character (or is not a continuation byte): decoding
        // splits there exactly as a decode of the whole prefix does.
        while let Some(&(offset, units)) = checkpoints.last() {
            let mut next = offset + UTF16_STEP;
            while next < at && text[next] & 0xc0 == 0x80 {
                next += 1;
            }
            if next >= at {
                break;
            }
            checkpoints.push((next, units + utf16_units(&text[offset..next])));
        }
        let before = checkpoints.partition_point(|&(offset, _)| offset <= at);
        let (offset, units) = checkpoints[before.saturating_sub(1)];
        if at > offset && text[at..].first().is_some_and(|b| b & 0xc0 == 0x80) {
            // `at` splits a character: decode the prefix whole, as before.
            return utf16_column(&text[line_start..at]);
        }
        units + utf16_units(&text[offset..at]) + 1
    }
}

/// Where in git history a finding lives, so the person cleaning up knows which
/// commit to talk about and which blob to purge. Absent for directory scans;
/// fields are `null` when they do not apply (an unreachable blob has no commit).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GitProvenance {
    /// The commit that introduced the blob (the first one, parents before
    /// children), or that owns the message; for a tag message, the commit the
    /// tag points at.
    pub commit: Option<String>,
    /// The commit's author name (the tagger, for a tag message).
    pub author: Option<String>,
    /// The author's email.
    pub email: Option<String>,
    /// The author date, RFC 3339 with the author's offset.
    pub date: Option<String>,
    /// The commit's subject line.
    pub summary: Option<String>,
    /// The blob holding the secret: what `git filter-repo --strip-blobs-with-ids`
    /// or BFG needs. `null` for messages.
    pub blob: Option<String>,
    /// The tag's name, for a finding in an annotated tag's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Whether any ref reaches it; `false` only with `--all-objects`.
    pub reachable: bool,
    /// How widely the blob spread through history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrences: Option<Occurrences>,
    /// Secrets the engine finds in `summary` (a key pasted into a commit
    /// subject shows in every finding of that commit), so redaction can hide
    /// them wherever the subject is printed. Never serialized.
    #[serde(skip)]
    pub summary_secrets: Vec<String>,
}

/// How many commits hold a blob, and under which paths: the size of the
/// cleanup, and every path a `filter-repo --path` would need.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Occurrences {
    /// Commits (in the scanned history) whose tree holds the blob.
    pub commits: u64,
    /// Every distinct path it had, sorted.
    pub paths: Vec<String>,
}

/// Position-independent identity of a finding: editing or moving lines never
/// changes it, so baselines and ignore files do not churn.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0u8]);
    hasher.update(secret);
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the findings of one blob from its engine matches, each with its
/// confidence in this file; matches the file's kind drops (generic values
/// in a lock file) are left out.
pub fn from_matches(rules: &[Rule], path: &str, text: &[u8], matches: &[Match]) -> Vec<Finding> {
    if matches.is_empty() {
        return Vec::new();
    }
    let index = LineIndex::new(text);
    let mut lines = Lines::new(text);
    matches
        .iter()
        .filter_map(|m| {
            let rule = &rules[m.rule];
            let start = index.position(m.secret_span.start);
            let start_line = m.secret_span.start + 1 - start.column;
            let doc_comment = lines.doc_comment(start_line, m.secret_span.start);
            let base = m.verdict.confidence.unwrap_or(rule.confidence);
            let Assessment::Report(confidence, context) =
                assess(base, path, &m.secret, doc_comment)
            else {
                return None;
            };
            let last_offset = m.secret_span.end.saturating_sub(1).max(m.secret_span.start);
            let last = index.position(last_offset);
            let end_line = last_offset + 1 - last.column;
            let end = m.secret_span.end.max(last_offset + 1).min(text.len());
            let utf16 = Utf16Columns {
                column: lines.utf16_column(start_line, m.secret_span.start),
                end_column: lines.utf16_column(end_line, end),
            };
            Some(Finding {
                kind: FindingKind::Secret,
                rule: rule.id.clone(),
                name: rule.name.clone(),
                severity: m.verdict.severity.unwrap_or(rule.severity),
                confidence,
                context,
                detail: m.verdict.detail.clone(),
                secret: Some(String::from_utf8_lossy(&m.secret).into_owned()),
                matched: Some(String::from_utf8_lossy(&text[m.span.clone()]).into_owned()),
                path: path.to_string(),
                inner_path: Vec::new(),
                line: Some(start.line),
                column: Some(start.column),
                end_line: Some(last.line),
                end_column: Some(last.column + 1),
                fingerprint: fingerprint(&rule.id, &m.secret),
                encoding: m.encoding.map(str::to_string),
                remediation: rule.remediation.clone(),
                git: None,
                utf16: Some(utf16),
                other_paths: OtherPaths::None,
                deferred: false,
                doc_comment,
                content_confidence: m.verdict.confidence,
                gate: None,
            })
        })
        .collect()
}

/// `finding` judged again as found in `context_path` (its path inside the
/// project, when the reported path has directories above the project), from
/// its rule's confidence `base`; `None` where that place drops it.
pub fn placed(mut finding: Finding, base: Confidence, context_path: &str) -> Option<Finding> {
    reassess(&mut finding, base, context_path).then_some(finding)
}

/// Sets `finding`'s confidence and context for `context_path`, from its
/// rule's confidence `base` (or the one its content gave it); false where
/// that place drops it (a lock file). Why: history reports a finding at one
/// of several paths, and the one it ends at decides how much it counts.
pub fn reassess(finding: &mut Finding, base: Confidence, context_path: &str) -> bool {
    let base = finding.content_confidence.unwrap_or(base);
    let value = match finding.kind {
        FindingKind::Secret => finding.secret.as_deref().unwrap_or_default().as_bytes(),
        FindingKind::File => b"",
    };
    let Assessment::Report(confidence, context) =
        assess(base, context_path, value, finding.doc_comment)
    else {
        return false;
    };
    finding.confidence = confidence;
    finding.context = context;
    true
}

/// The finding for a sensitive file, with its confidence in this place (a
/// `.env` under `examples/` is lower than one at the root); `None` where the
/// place drops it (see [`crate::confidence::assess`]).
pub fn for_sensitive_file(rule: &FileRule, path: &str) -> Option<Finding> {
    let mut finding = file_finding(rule, path);
    // No value to judge: in any lowering context a file rule below high is low.
    reassess(&mut finding, rule.confidence, path).then_some(finding)
}

/// The finding for a sensitive file at `path`, at its rule's own confidence,
/// not yet judged for the place: for a finding that history moves to another
/// path of the blob before judging it there.
pub fn file_finding(rule: &FileRule, path: &str) -> Finding {
    Finding {
        kind: FindingKind::File,
        rule: rule.id.clone(),
        name: rule.name.clone(),
        severity: rule.severity,
        confidence: rule.confidence,
        context: None,
        detail: None,
        secret: None,
        matched: None,
        path: path.to_string(),
        inner_path: Vec::new(),
        line: None,
        column: None,
        end_line: None,
        end_column: None,
        fingerprint: fingerprint(&rule.id, path.as_bytes()),
        encoding: None,
        remediation: rule.remediation.clone(),
        git: None,
        utf16: None,
        other_paths: OtherPaths::None,
        deferred: false,
        doc_comment: false,
        content_confidence: None,
        gate: None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Lines, fingerprint, utf16_column};

    #[test]
    fn columns_of_a_long_line_match_decoding_its_prefix() {
        // ASCII, 2-, 3- and 4-byte characters and stray bytes, across many
        // checkpoints, asked for out of order.
        let mut line = Vec::new();
        for i in 0..3000 {
            match i % 7 {
                0 => line.extend("é".as_bytes()),
                1 => line.extend("€".as_bytes()),
                2 => line.extend("😀".as_bytes()),
                3 => line.push(0x80),
                4 => line.push(0xf0),
                _ => line.extend(b"ab"),
            }
        }
        let mut text = b"first line\n".to_vec();
        let start = text.len();
        text.extend(&line);
        text.extend(b"\nlast");
        let mut lines = Lines::new(&text);
        let mut at: Vec<usize> = (start..start + line.len()).step_by(37).collect();
        at.extend((start..start + line.len()).rev().step_by(101));
        for at in at {
            assert_eq!(
                lines.utf16_column(start, at),
                utf16_column(&text[start..at]),
                "at {at}"
            );
        }
    }

    #[test]
    fn doc_comments_are_judged_from_the_line_start() {
        let text = b"x\n   /// key = a\n\t\t  \n";
        let mut lines = Lines::new(text);
        assert!(lines.doc_comment(2, 12));
        assert!(!lines.doc_comment(2, 3)); // only blanks before it
        assert!(!lines.doc_comment(0, 1));
        assert!(!lines.doc_comment(18, 22));
    }

    #[test]
    fn utf16_columns_count_code_units_not_bytes() {
        assert_eq!(utf16_column(b""), 1);
        assert_eq!(utf16_column(b"key = "), 7);
        // "é" is 2 bytes and 1 unit; "€" 3 bytes and 1 unit; "😀" 4 bytes and 2 units.
        assert_eq!(utf16_column("é=".as_bytes()), 3);
        assert_eq!(utf16_column("€€ ".as_bytes()), 4);
        assert_eq!(utf16_column("😀:".as_bytes()), 4);
        // A stray continuation byte is one replacement character.
        assert_eq!(utf16_column(b"\x80="), 3);
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        let a = fingerprint("anthropic-api-key", b"sk-ant-api03-abc");
        assert_eq!(a, fingerprint("anthropic-api-key", b"sk-ant-api03-abc"));
        assert_ne!(a, fingerprint("openai-api-key", b"sk-ant-api03-abc"));
        assert_ne!(a, fingerprint("anthropic-api-key", b"sk-ant-api03-abd"));
        assert_eq!(a.len(), 32);
    }
}
