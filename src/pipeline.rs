//! Joins the stages: a source's items go through the engine, matches become
//! findings, and everything is counted. Sources, engine and report never call
//! each other; this is the only place they meet.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::engine::Engine;
use crate::engine::text::{Prepared, prepare};
use crate::finding::{self, Finding, FindingKind, GitProvenance, Occurrences};
use crate::sources::git::{History, HistoryStats, Origin, OriginKind};
use crate::sources::staged::{AddedLines, StagedChange, added_lines};
use crate::sources::{Blob, SkipReason, Skipped, SourceItem};

/// What a scan did, for the summary and the exit code.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ScanStats {
    /// Blobs (files) whose content went through the engine.
    pub scanned: u64,
    /// Bytes of content that went through the engine.
    pub bytes: u64,
    /// Matches suppressed by an inline `secretgate:allow` marker.
    pub allowed: u64,
    /// Inputs not scanned, with why; see [`SkipReason`].
    pub skipped: Vec<Skipped>,
}

impl ScanStats {
    /// Skips counted by reason.
    pub fn skipped_by_reason(&self) -> BTreeMap<SkipReason, u64> {
        let mut counts = BTreeMap::new();
        for skip in &self.skipped {
            *counts.entry(skip.reason).or_insert(0) += 1;
        }
        counts
    }

    /// Whether any skipped input may have held a secret we did not read.
    pub fn has_unread_input(&self) -> bool {
        self.skipped.iter().any(|s| s.reason.is_error())
    }

    fn merge(&mut self, other: ScanStats) {
        self.scanned += other.scanned;
        self.bytes += other.bytes;
        self.allowed += other.allowed;
        self.skipped.extend(other.skipped);
    }
}

/// Findings and counts of a finished scan.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Every finding, sorted by path, line and rule.
    pub findings: Vec<Finding>,
    /// What was scanned and skipped.
    pub stats: ScanStats,
    /// What a history scan covered (refs, commits, blobs); `None` for files.
    pub history: Option<HistoryStats>,
    /// Findings taken out by the config, the ignore file and the baseline.
    pub suppressed: crate::allow::Suppressed,
    /// What the repository config turned off, shown in every report.
    pub config: crate::config::ConfigSummary,
}

/// Collects findings from many threads; items arrive in any order and the
/// outcome is sorted at the end, so output is deterministic.
#[derive(Debug)]
pub struct Collector<'e> {
    engine: &'e Engine,
    state: Mutex<ScanOutcome>,
}

impl<'e> Collector<'e> {
    /// A collector that runs `engine` on every blob.
    pub fn new(engine: &'e Engine) -> Self {
        Collector {
            engine,
            state: Mutex::new(ScanOutcome::default()),
        }
    }

    /// Scans one source item; safe to call from many threads.
    pub fn accept(&self, item: SourceItem) {
        let (findings, stats) = self.scan_item(item);
        self.merge(findings, stats);
    }

    /// Scans one item of git history. Findings carry its origin, and a secret
    /// repeated in one blob is reported once: per (rule, secret, blob), at its
    /// first position.
    pub fn accept_git(&self, item: SourceItem, origin: &Origin) {
        let (findings, stats) = self.scan_item(item);
        let mut seen = std::collections::HashSet::new();
        let findings: Vec<Finding> = findings
            .into_iter()
            .filter(|f| seen.insert((f.rule.clone(), f.secret.clone(), f.path.clone())))
            .map(|mut f| {
                f.git = Some(provenance(origin));
                f
            })
            .collect();
        self.merge(findings, stats);
    }

    /// Scans one staged file and keeps only what the commit adds: secrets on
    /// added lines, and sensitive-file findings for files new in this commit.
    pub fn accept_staged(&self, change: StagedChange) {
        let (findings, stats) = scan_blob(self.engine, &change.blob);
        let added = match &change.previous {
            None => AddedLines::All,
            // Most staged files have no finding: diff only those that do.
            Some(_) if findings.is_empty() => AddedLines::Some(Vec::new()),
            Some(old) => staged_added_lines(old, &change.blob.data),
        };
        let findings = findings
            .into_iter()
            .filter(|f| match (f.kind, f.line, f.end_line) {
                (FindingKind::Secret, Some(first), last) => {
                    added.touches(first, last.unwrap_or(first))
                }
                _ => added == AddedLines::All,
            })
            .collect();
        self.merge(findings, stats);
    }

    fn scan_item(&self, item: SourceItem) -> (Vec<Finding>, ScanStats) {
        match item {
            SourceItem::Blob(blob) => scan_blob(self.engine, &blob),
            SourceItem::Skipped(skipped) => (
                Vec::new(),
                ScanStats {
                    skipped: vec![skipped],
                    ..ScanStats::default()
                },
            ),
        }
    }

    fn merge(&self, findings: Vec<Finding>, stats: ScanStats) {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        state.findings.extend(findings);
        state.stats.merge(stats);
    }

    /// The sorted outcome.
    pub fn finish(self) -> ScanOutcome {
        let mut outcome = match self.state.into_inner() {
            Ok(outcome) => outcome,
            Err(poisoned) => poisoned.into_inner(),
        };
        outcome.findings.sort_by(|a, b| {
            let git = |f: &'_ Finding| f.git.as_ref().map(|g| (g.blob.clone(), g.commit.clone()));
            (&a.path, a.line, a.column, &a.rule, git(a)).cmp(&(
                &b.path,
                b.line,
                b.column,
                &b.rule,
                git(b),
            ))
        });
        outcome
            .stats
            .skipped
            .sort_by(|a, b| (&a.path, a.reason).cmp(&(&b.path, b.reason)));
        outcome
    }
}

/// Runs the engine and the sensitive-file rules on one blob.
pub fn scan_blob(engine: &Engine, blob: &Blob) -> (Vec<Finding>, ScanStats) {
    let rules = engine.rules();
    let mut stats = ScanStats::default();
    let mut findings = Vec::new();
    let text = match prepare(&blob.data) {
        Prepared::Text { text, .. } => text,
        Prepared::Binary => {
            stats.skipped.push(Skipped {
                path: blob.path.clone(),
                reason: SkipReason::Binary,
                detail: "NUL byte in the first 8 KiB".into(),
            });
            for index in engine.sensitive_file_rules(&blob.path, None) {
                findings.push(finding::for_sensitive_file(
                    &rules.file_rules[index],
                    &blob.path,
                ));
            }
            return (findings, stats);
        }
    };
    stats.scanned = 1;
    stats.bytes = blob.data.len() as u64;
    let mut matches = engine.scan(&text);
    let before = matches.len();
    matches.retain(|m| !m.allowed);
    stats.allowed = (before - matches.len()) as u64;
    findings.extend(finding::from_matches(
        &rules.rules,
        &blob.path,
        &text,
        &matches,
    ));
    for index in engine.sensitive_file_rules(&blob.path, Some(&text)) {
        findings.push(finding::for_sensitive_file(
            &rules.file_rules[index],
            &blob.path,
        ));
    }
    (findings, stats)
}

/// The lines of `new` that are not in `old`, numbered as findings number
/// them: both sides are diffed as the text the engine reads (UTF-16
/// transcoded), since a raw UTF-16 code unit such as U+4E0A holds a `\n` byte.
pub fn staged_added_lines(old: &[u8], new: &[u8]) -> AddedLines {
    let text = |blob| match prepare(blob) {
        Prepared::Text { text, .. } => text,
        Prepared::Binary => std::borrow::Cow::Borrowed(blob),
    };
    added_lines(&text(old), &text(new))
}

/// What is known about a finding's origin before commits are looked up.
fn provenance(origin: &Origin) -> GitProvenance {
    let mut git = GitProvenance {
        commit: origin.commit.map(|c| c.to_string()),
        blob: (origin.kind == OriginKind::Blob).then(|| origin.object.to_string()),
        reachable: origin.reachable,
        ..GitProvenance::default()
    };
    if let Some(tag) = &origin.tag {
        git.tag = Some(tag.name.clone());
        if let Some(tagger) = &tag.tagger {
            git.author = Some(tagger.name.clone());
            git.email = Some(tagger.email.clone());
            git.date = Some(tagger.date.clone());
        }
    }
    git
}

/// Completes history findings: author, date and subject of each finding's
/// commit, and for every blob with findings, how many commits hold it and
/// under which paths (one more pass over the trees, only when there are
/// findings).
pub fn attach_history(outcome: &mut ScanOutcome, history: &History) {
    use gix::ObjectId;
    let parse = |hex: &Option<String>| {
        hex.as_deref()
            .and_then(|h| ObjectId::from_hex(h.as_bytes()).ok())
    };
    let targets: std::collections::BTreeSet<ObjectId> = outcome
        .findings
        .iter()
        .filter_map(|f| f.git.as_ref())
        .filter(|g| g.reachable && g.commit.is_some())
        .filter_map(|g| parse(&g.blob))
        .collect();
    let occurrences = history.occurrences(&targets);
    let mut commits: std::collections::HashMap<ObjectId, Option<crate::sources::git::CommitInfo>> =
        Default::default();
    for finding in &mut outcome.findings {
        let Some(git) = finding.git.as_mut() else {
            continue;
        };
        if git.tag.is_none()
            && let Some(commit) = parse(&git.commit)
            && let Some(info) = commits
                .entry(commit)
                .or_insert_with(|| history.commit_info(commit))
        {
            git.author = Some(info.author.name.clone());
            git.email = Some(info.author.email.clone());
            git.date = Some(info.author.date.clone());
            git.summary = Some(info.summary.clone());
        }
        if let Some(found) = parse(&git.blob).and_then(|b| occurrences.get(&b))
            && found.commits > 0
        {
            git.occurrences = Some(Occurrences {
                commits: found.commits,
                paths: found.paths.iter().cloned().collect(),
            });
        }
    }
    outcome.history = Some(history.stats().clone());
}
