//! JSON Lines (`--format jsonl`): one JSON object a line, each finding written
//! as soon as it is final, so a long history audit can be piped and acted on
//! before it ends.
//!
//! Wire format (documented in the README, "JSON Lines"); every line has a
//! `type`:
//!
//! - `"finding"`: the fields of one entry of the JSON report's `findings`
//!   array, plus `type`. Written when the blob (file, staged file, history blob
//!   or message) holding it has been scanned, after suppression
//!   (`.secretgate.toml` paths, `.secretgateignore`, baseline) and redaction.
//!   Lines come in the order blobs finish, which varies between runs; sort by
//!   `path`, `line`, `column` for a stable order.
//! - `"occurrences"` (history only, after every finding): `blob`, `commits`,
//!   `paths` for each blob with findings. How many commits hold a blob is known
//!   only after one more pass over every tree, which runs when the scan ends,
//!   so streamed history findings lack the JSON report's `occurrences` field
//!   and these lines carry it instead, keyed by `blob`.
//! - `"summary"` (always the last line): `version`, `tool` and `summary`
//!   exactly as in the JSON report. Its `summary.findings` equals the number
//!   of finding lines.
//!
//! A finding is final when its blob is: per-blob deduplication and the choice
//! of a specific rule over a generic one happen inside one blob, and the
//! commit that introduced a blob is planned before any blob is read.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

use super::{Report, ReportOptions, Summary, Tool};
use crate::finding::{Finding, Occurrences};
use crate::pipeline::ScanOutcome;

/// One `"finding"` line.
#[derive(Serialize)]
struct FindingLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    finding: &'a Finding,
}

/// One `"occurrences"` line.
#[derive(Serialize)]
struct OccurrencesLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    blob: &'a str,
    #[serde(flatten)]
    occurrences: &'a Occurrences,
}

/// The `"summary"` line: the JSON report without its findings.
#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    version: u32,
    tool: &'a Tool,
    summary: &'a Summary<'a>,
}

/// A JSONL report being written while the scan runs; shared by the worker
/// threads (each batch of lines is written and flushed under a lock, so
/// lines never interleave).
pub struct Stream<W> {
    redact: bool,
    state: Mutex<StreamState<W>>,
}

struct StreamState<W> {
    out: W,
    /// The first write error; later lines are dropped and [`Stream::finish`]
    /// returns it.
    error: Option<std::io::Error>,
}

impl<W> std::fmt::Debug for Stream<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("redact", &self.redact)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> Stream<W> {
    /// A stream writing to `out`, redacting secrets when `redact`.
    pub fn new(out: W, redact: bool) -> Stream<W> {
        Stream {
            redact,
            state: Mutex::new(StreamState { out, error: None }),
        }
    }

    /// Writes one `"finding"` line per finding and flushes, so a reader at
    /// the other end of a pipe sees them now. Findings must already be final
    /// and not suppressed.
    pub fn findings<'f>(&self, findings: impl IntoIterator<Item = &'f Finding>) {
        let findings: Vec<&Finding> = findings.into_iter().collect();
        // The batch is one blob's findings: a secret in its file name is one
        // of them, so redacting with the batch's secrets hides it there too.
        let redactor = self
            .redact
            .then(|| super::redact::Redactor::new(findings.iter().copied()));
        let mut text = Vec::new();
        for finding in findings {
            let shown;
            let finding = match &redactor {
                Some(redactor) => {
                    shown = redactor.finding(finding);
                    &shown
                }
                None => finding,
            };
            if let Err(err) = line(
                &mut text,
                &FindingLine {
                    kind: "finding",
                    finding,
                },
            ) {
                self.fail(err);
                return;
            }
        }
        if text.is_empty() {
            return;
        }
        let mut state = self.lock();
        if state.error.is_some() {
            return;
        }
        if let Err(err) = state.out.write_all(&text).and_then(|()| state.out.flush()) {
            state.error = Some(err);
        }
    }

    /// Writes the `"occurrences"` lines (history) and the `"summary"` line,
    /// then flushes and hands the writer back (to be committed); returns the
    /// first error any line met.
    pub fn finish(self, outcome: &ScanOutcome, options: &ReportOptions) -> std::io::Result<W> {
        let state = match self.state.into_inner() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        let StreamState { mut out, error } = state;
        if let Some(err) = error {
            return Err(err);
        }
        write_tail(&mut out, outcome, options)?;
        out.flush()?;
        Ok(out)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StreamState<W>> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn fail(&self, err: std::io::Error) {
        let mut state = self.lock();
        if state.error.is_none() {
            state.error = Some(err);
        }
    }
}

/// Writes a whole JSONL report at once (finding lines in the report's sorted
/// order), for callers that did not stream.
pub fn write(
    out: &mut dyn Write,
    outcome: &ScanOutcome,
    options: &ReportOptions,
) -> std::io::Result<()> {
    let report = Report::new(outcome, options);
    for finding in &report.findings {
        line(
            out,
            &FindingLine {
                kind: "finding",
                finding,
            },
        )?;
    }
    write_tail(out, outcome, options)
}

/// The lines after the findings: occurrences per blob, then the summary.
fn write_tail(
    out: &mut dyn Write,
    outcome: &ScanOutcome,
    options: &ReportOptions,
) -> std::io::Result<()> {
    let by_blob: BTreeMap<&str, &Occurrences> = outcome
        .findings
        .iter()
        .filter_map(|f| f.git.as_ref())
        .filter_map(|g| Some((g.blob.as_deref()?, g.occurrences.as_ref()?)))
        .collect();
    // Paths can hold a secret (a key in a file name): the same redaction as
    // every other field.
    let redactor = options
        .redact
        .then(|| super::redact::Redactor::new(&outcome.findings));
    for (blob, occurrences) in by_blob {
        let shown;
        let occurrences = match &redactor {
            Some(redactor) => {
                shown = Occurrences {
                    commits: occurrences.commits,
                    paths: occurrences.paths.iter().map(|p| redactor.text(p)).collect(),
                };
                &shown
            }
            None => occurrences,
        };
        line(
            out,
            &OccurrencesLine {
                kind: "occurrences",
                blob,
                occurrences,
            },
        )?;
    }
    let report = Report::new(outcome, options);
    line(
        out,
        &SummaryLine {
            kind: "summary",
            version: report.version,
            tool: &report.tool,
            summary: &report.summary,
        },
    )
}

/// One value on one line: serde_json's compact form never contains a raw
/// newline (control characters in strings are escaped).
fn line(out: &mut dyn Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}
