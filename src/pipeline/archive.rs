//! Findings inside archives: each file an archive holds goes through the
//! engine and the sensitive-file rules as a file of its own, and its
//! findings are reported at the archive's path with their path inside
//! ([`Finding::inner_path`]), so history attributes them to the commit that
//! added the archive and a cleanup removes the archive whole.

use super::ScanStats;
use crate::engine::Engine;
use crate::engine::text::{Prepared, prepare};
use crate::finding::{self, Finding, FindingKind};
use crate::sources::archive::{self, Kind, Limits, RunBudget, Visitor};
use crate::sources::{SkipReason, Skipped};

/// How archives are opened in one run: the limits, and the budget every
/// archive of the run draws from.
#[derive(Debug, Default)]
pub struct Archives {
    /// Depth, bytes, entries, ratio (see [`Limits`]).
    pub limits: Limits,
    /// Decompressed bytes used so far by the run's archives.
    pub run: RunBudget,
}

impl Archives {
    /// Archives opened within `limits`.
    pub fn new(limits: Limits) -> Self {
        Archives {
            limits,
            run: RunBudget::default(),
        }
    }

    /// The archive format of `data`, when archives are opened at all.
    pub fn sniff(&self, data: &[u8]) -> Option<Kind> {
        if self.limits.max_depth == 0 {
            return None;
        }
        archive::sniff(data)
    }
}

/// Scans every file inside the archive `data` at `path`: findings at
/// `path` with their `inner_path`, skips at `path!inner`. Binary entries
/// (classes, images) are counted in one skip per archive.
pub(super) fn scan(
    engine: &Engine,
    archives: &Archives,
    path: &str,
    data: &[u8],
    kind: Kind,
) -> (Vec<Finding>, ScanStats) {
    let mut visit = Scan {
        engine,
        path,
        findings: Vec::new(),
        stats: ScanStats {
            scanned: 1,
            ..ScanStats::default()
        },
        binary: 0,
        first_binary: None,
    };
    archive::expand(
        path,
        data,
        kind,
        &archives.limits,
        &archives.run,
        &mut visit,
    );
    if let Some(first) = visit.first_binary.take() {
        let detail = format!(
            "{} binary file(s) inside the archive, not scanned (the first: {first})",
            visit.binary
        );
        visit.stats.skipped.push(Skipped {
            path: path.to_string(),
            reason: SkipReason::Binary,
            detail,
        });
    }
    (visit.findings, visit.stats)
}

/// The visitor that scans what an archive holds.
struct Scan<'a> {
    engine: &'a Engine,
    /// The archive's own path.
    path: &'a str,
    findings: Vec<Finding>,
    stats: ScanStats,
    binary: u64,
    first_binary: Option<String>,
}

impl Visitor for Scan<'_> {
    fn entry(&mut self, inner: &[String], data: &[u8]) {
        let text = match prepare(data) {
            Prepared::Text { text, .. } => text,
            Prepared::Binary => {
                self.binary += 1;
                self.first_binary.get_or_insert_with(|| inner.join("!"));
                return;
            }
        };
        let rules = self.engine.rules();
        self.stats.bytes += data.len() as u64;
        let mut matches = self.engine.scan(&text);
        let before = matches.len();
        matches.retain(|m| !m.allowed);
        self.stats.allowed += (before - matches.len()) as u64;
        // Judged as if the archive were a directory (see
        // `Finding::context_path`), then placed at the archive.
        let context = format!("{}/{}", self.path, inner.join("/"));
        let mut found = finding::from_matches(&rules.rules, &context, &text, &matches);
        for index in self.engine.sensitive_file_rules(&context, Some(&text)) {
            found.extend(finding::for_sensitive_file(
                &rules.file_rules[index],
                &context,
            ));
        }
        let shown = format!("{}!{}", self.path, inner.join("!"));
        for mut f in found {
            f.path = self.path.to_string();
            f.inner_path = inner.to_vec();
            if f.kind == FindingKind::File {
                f.fingerprint = finding::fingerprint(&f.rule, shown.as_bytes());
            }
            self.findings.push(f);
        }
    }

    fn skipped(&mut self, inner: &[String], reason: SkipReason, detail: String) {
        let path = if inner.is_empty() {
            self.path.to_string()
        } else {
            format!("{}!{}", self.path, inner.join("!"))
        };
        self.stats.skipped.push(Skipped {
            path,
            reason,
            detail,
        });
    }
}
