//! Turning a scan outcome into output: human text for people, JSON, JSON
//! Lines and SARIF for machines. Every format honours redaction.

pub mod cleanup;
pub mod human;
pub mod json;
pub mod jsonl;
pub mod redact;
pub mod sarif;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::Finding;
use crate::pipeline::ScanOutcome;
use crate::sources::Skipped;
use crate::sources::git::HistoryStats;

/// Version of the JSON report layout; bumped only on incompatible change.
pub const REPORT_VERSION: u32 = 1;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: locations, redacted secrets, how to rotate and allow.
    Human,
    /// One JSON document (schema in the README).
    Json,
    /// JSON Lines: one finding a line as it is found, then a summary line.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
}

/// Choices that shape every format.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Replace secrets by their redaction in every field.
    pub redact: bool,
    /// How many rules the scan ran, for the summary.
    pub rules_loaded: usize,
    /// Wall time of the scan.
    pub elapsed: std::time::Duration,
}

/// The JSON document: `version`, `tool`, `summary`, `findings`.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// Layout version, see [`REPORT_VERSION`].
    pub version: u32,
    /// Which program wrote it.
    pub tool: Tool,
    /// What was scanned and skipped.
    pub summary: Summary<'a>,
    /// The findings, secrets redacted if asked.
    pub findings: Vec<Finding>,
}

/// Program identity.
#[derive(Debug, Serialize)]
pub struct Tool {
    /// Always `secretgate`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

/// Counts for the report.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    /// Files (blobs) whose content was scanned.
    pub files_scanned: u64,
    /// Bytes of content scanned.
    pub bytes_scanned: u64,
    /// Number of findings, whatever their confidence.
    pub findings: usize,
    /// Findings that fail the gate: confidence at or above `min_confidence`.
    pub blocking: usize,
    /// The gate's threshold (`--min-confidence`, `[gate] min_confidence`, or
    /// medium); findings below it are listed and do not fail.
    pub min_confidence: crate::rules::Confidence,
    /// Findings per confidence: `high`, `medium`, `low` (each always present).
    pub by_confidence: BTreeMap<&'static str, usize>,
    /// Matches suppressed by an inline allow marker.
    pub allowed_inline: u64,
    /// Rules run.
    pub rules_loaded: usize,
    /// What was not scanned.
    pub skipped: SkippedSummary<'a>,
    /// Findings accepted by `.secretgate.toml` paths, `.secretgateignore` or
    /// the baseline, not listed.
    pub suppressed: &'a crate::allow::Suppressed,
    /// What `.secretgate.toml` turned off: never silent.
    pub config: Cow<'a, crate::config::ConfigSummary>,
    /// `scan` of paths in several repositories: what each one's config
    /// turned off, with its `root` (`config` is their union).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<Cow<'a, crate::config::ConfigSummary>>,
    /// Whether secrets in this report are redacted.
    pub redacted: bool,
    /// Wall time in milliseconds.
    pub elapsed_ms: u128,
    /// History scans only: refs, commits, blobs, shallow, range, notes.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub history: Option<&'a HistoryStats>,
}

/// Skips by reason, with every path.
#[derive(Debug, Serialize)]
pub struct SkippedSummary<'a> {
    /// All skips.
    pub total: usize,
    /// Counts per reason name.
    pub by_reason: BTreeMap<&'static str, u64>,
    /// Every skipped input.
    pub items: Cow<'a, [Skipped]>,
}

impl<'a> Report<'a> {
    /// Builds the report document, redacting if asked: one [`Redactor`]
    /// over every finding's secrets, applied to every finding and every
    /// skipped path.
    pub fn new(outcome: &'a ScanOutcome, options: &ReportOptions) -> Report<'a> {
        let redactor = options
            .redact
            .then(|| redact::Redactor::new(&outcome.findings));
        let findings = outcome
            .findings
            .iter()
            .map(|f| match &redactor {
                Some(redactor) => redactor.finding(f),
                None => f.clone(),
            })
            .collect();
        let stats = &outcome.stats;
        let items = match &redactor {
            Some(redactor) => Cow::Owned(
                stats
                    .skipped
                    .iter()
                    .map(|s| Skipped {
                        path: redactor.text(&s.path),
                        reason: s.reason,
                        detail: redactor.text(&s.detail),
                    })
                    .collect(),
            ),
            None => Cow::Borrowed(stats.skipped.as_slice()),
        };
        let shown = |config: &'a crate::config::ConfigSummary| {
            if options.redact {
                Cow::Owned(config.redacted())
            } else {
                Cow::Borrowed(config)
            }
        };
        let config = shown(&outcome.config);
        let configs = outcome.configs.iter().map(shown).collect();
        let mut by_confidence: BTreeMap<&'static str, usize> = ["high", "medium", "low"]
            .into_iter()
            .map(|level| (level, 0))
            .collect();
        for finding in &outcome.findings {
            *by_confidence
                .entry(finding.confidence.as_str())
                .or_insert(0) += 1;
        }
        Report {
            version: REPORT_VERSION,
            tool: Tool {
                name: "secretgate",
                version: env!("CARGO_PKG_VERSION"),
            },
            summary: Summary {
                files_scanned: stats.scanned,
                bytes_scanned: stats.bytes,
                findings: outcome.findings.len(),
                blocking: outcome.blocking(),
                min_confidence: outcome.threshold.0,
                by_confidence,
                allowed_inline: stats.allowed,
                rules_loaded: options.rules_loaded,
                skipped: SkippedSummary {
                    total: stats.skipped.len(),
                    by_reason: stats
                        .skipped_by_reason()
                        .into_iter()
                        .map(|(reason, count)| (reason.as_str(), count))
                        .collect(),
                    items,
                },
                suppressed: &outcome.suppressed,
                config,
                configs,
                redacted: options.redact,
                elapsed_ms: options.elapsed.as_millis(),
                history: outcome.history.as_ref(),
            },
            findings,
        }
    }
}
