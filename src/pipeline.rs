//! Joins the stages: a source's items go through the engine, matches become
//! findings, and everything is counted. Sources, engine and report never call
//! each other; this is the only place they meet.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::engine::Engine;
use crate::engine::delta::{Copy, Reuse};
use crate::engine::text::{Prepared, prepare};
use crate::finding::{self, Finding, FindingKind, GitProvenance};
use crate::sources::git::{Derived, HistoryStats, Origin, OriginKind};
use crate::sources::staged::{AddedLines, StagedChange, added_lines};
use crate::sources::{Blob, BlobRef, GitItem, Piece, SkipReason, Skipped, SourceItem};

mod archive;
mod history;
pub use archive::Archives;
pub use history::{CommitInfos, attach_history, resolve_history_paths};

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

    /// Adds the counts and skips of another scan (`scan` of several
    /// repositories runs one scan per repository).
    pub fn merge(&mut self, other: ScanStats) {
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
    /// `scan` of paths in several repositories: each one's own config (their
    /// union is `config`); empty otherwise.
    pub configs: Vec<crate::config::ConfigSummary>,
    /// The documentation of every rule that produced a finding, by id, for
    /// formats that describe rules once (SARIF).
    pub rule_docs: BTreeMap<String, crate::rules::RuleDoc>,
    /// The confidence at and above which findings fail the gate.
    pub threshold: crate::confidence::Threshold,
}

/// Receives the findings of one blob (file, staged file, history blob or
/// message) as soon as they are final, on the worker thread that scanned it:
/// what `--format jsonl` streams. Findings arrive in no particular order.
pub type FindingSink<'s> = dyn Fn(&[Finding]) + Sync + 's;

/// Collects findings from many threads; items arrive in any order and the
/// outcome is sorted at the end, so output is deterministic. An optional sink
/// sees each blob's findings as they are found, for streaming output.
pub struct Collector<'e> {
    engine: &'e Engine,
    state: Mutex<ScanOutcome>,
    sink: Option<&'e FindingSink<'e>>,
    roots: crate::confidence::ContextRoots,
    archives: Archives,
}

impl std::fmt::Debug for Collector<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("state", &self.state)
            .field("sink", &self.sink.is_some())
            .finish_non_exhaustive()
    }
}

impl<'e> Collector<'e> {
    /// A collector that runs `engine` on every blob.
    pub fn new(engine: &'e Engine) -> Self {
        Collector {
            engine,
            state: Mutex::new(ScanOutcome::default()),
            sink: None,
            roots: Default::default(),
            archives: Archives::default(),
        }
    }

    /// The same collector, opening archives within `limits` (by default,
    /// [`crate::sources::archive::Limits::default`]).
    pub fn with_archive_limits(mut self, limits: crate::sources::archive::Limits) -> Self {
        self.archives = Archives::new(limits);
        self
    }

    /// The same collector, reading each file's context (test, example...)
    /// from its path inside its project (see [`crate::confidence::ContextRoots`]).
    pub fn with_context_roots(mut self, roots: crate::confidence::ContextRoots) -> Self {
        self.roots = roots;
        self
    }

    /// The same collector, also handing each blob's final findings to `sink`
    /// before they are merged (see [`FindingSink`]).
    pub fn with_sink(mut self, sink: &'e FindingSink<'e>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Scans one source item; safe to call from many threads.
    pub fn accept(&self, item: SourceItem) {
        let (findings, stats) = self.scan_item(item);
        self.merge(findings, stats);
    }

    /// Scans one item of git history. Findings carry its origin, and a secret
    /// repeated in one blob is reported once: per (rule, secret, blob), at its
    /// first position. A blob derived from one scanned before is scanned only
    /// where it differs; the returned state is what a blob derived from this
    /// one can reuse.
    pub fn accept_git(
        &self,
        item: GitItem<'_>,
        origin: &Origin,
        derived: Option<Derived<'_, Reusable>>,
    ) -> Option<Reusable> {
        let elsewhere = origin.name_tags.as_deref();
        let (findings, stats, reusable) = match item {
            GitItem::Blob(blob) => {
                scan_blob_reusing(self.engine, Some(&self.archives), blob, derived, elsewhere)
            }
            GitItem::Skipped(skipped) => {
                let (findings, stats) = self.scan_item(SourceItem::Skipped(skipped));
                (findings, stats, None)
            }
        };
        let mut seen = std::collections::HashSet::new();
        let findings: Vec<Finding> = findings
            .into_iter()
            .filter(|f| {
                seen.insert((
                    f.rule.clone(),
                    f.secret.clone(),
                    f.path.clone(),
                    f.inner_path.clone(),
                ))
            })
            .map(|mut f| {
                f.git = Some(provenance(origin));
                f
            })
            .collect();
        self.merge(findings, stats);
        reusable
    }

    /// Scans one staged file and keeps only what the commit adds: secrets on
    /// added lines, and sensitive-file findings for files new in this commit.
    ///
    /// A file renamed or copied without change is new at its path only: its
    /// findings carry the paths where `HEAD` already holds them
    /// ([`crate::finding::OtherPaths::InHead`]) for the policy to judge.
    pub fn accept_staged(&self, change: StagedChange) {
        let (mut findings, stats) = self.scan_blob(&change.blob);
        if !change.held_in_head.is_empty() {
            let file_rules = &self.engine.rules().file_rules;
            for finding in &mut findings {
                let rule = file_rules.iter().find(|r| r.id == finding.rule);
                let held = change
                    .held_in_head
                    .iter()
                    .filter(|path| match finding.kind {
                        FindingKind::File if finding.inner_path.is_empty() => {
                            rule.is_some_and(|r| r.path_matches(path))
                        }
                        _ => true,
                    })
                    .cloned()
                    .collect();
                finding.other_paths = crate::finding::OtherPaths::InHead(held);
            }
        }
        // Inside an archive, what the commit adds is what the archive in
        // HEAD did not hold; lines of the archive itself mean nothing.
        let (inside, findings): (Vec<Finding>, Vec<Finding>) =
            findings.drain(..).partition(|f| !f.inner_path.is_empty());
        let inside = match &change.previous {
            Some(old) if !inside.is_empty() => {
                let (held, _) = self.scan_blob(&Blob {
                    path: change.blob.path.clone(),
                    data: old.clone(),
                });
                let key = |f: &Finding| (f.rule.clone(), f.secret.clone(), f.inner_path.clone());
                let held: std::collections::HashSet<_> = held.iter().map(key).collect();
                inside
                    .into_iter()
                    .filter(|f| !held.contains(&key(f)))
                    .collect()
            }
            _ => inside,
        };
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
            .chain(inside)
            .collect();
        self.merge(findings, stats);
    }

    fn scan_item(&self, item: SourceItem) -> (Vec<Finding>, ScanStats) {
        let (findings, stats) = match item {
            SourceItem::Blob(blob) => self.scan_blob(&blob),
            SourceItem::Piece(piece) => scan_piece(self.engine, &piece),
            SourceItem::Skipped(skipped) => (
                Vec::new(),
                ScanStats {
                    skipped: vec![skipped],
                    ..ScanStats::default()
                },
            ),
        };
        let rules = self.engine.rules();
        let findings = findings
            .into_iter()
            .filter_map(|f| match self.roots.context_path(&f.path) {
                std::borrow::Cow::Borrowed(_) => Some(f),
                std::borrow::Cow::Owned(inside) => {
                    let base = rules.confidence(&f.rule)?;
                    let inside = f.context_path(&inside);
                    finding::placed(f, base, &inside)
                }
            })
            .collect();
        (findings, stats)
    }

    fn merge(&self, findings: Vec<Finding>, stats: ScanStats) {
        if let Some(sink) = self.sink
            && !findings.is_empty()
        {
            sink(&findings);
        }
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
        outcome.sort();
        let rules = self.engine.rules();
        for finding in &outcome.findings {
            if !outcome.rule_docs.contains_key(&finding.rule)
                && let Some(doc) = rules.doc(&finding.rule)
            {
                outcome.rule_docs.insert(finding.rule.clone(), doc);
            }
        }
        outcome
    }
}

impl ScanOutcome {
    /// How many findings fail the gate (confidence at or above the threshold).
    pub fn blocking(&self) -> usize {
        self.findings.iter().filter(|f| self.fails(f)).count()
    }

    /// Whether `finding` fails the gate: its own policy's threshold, else the run's.
    pub fn fails(&self, finding: &Finding) -> bool {
        finding
            .gate
            .unwrap_or(self.threshold)
            .fails(finding.confidence)
    }

    /// Sorts findings by path, line and rule, and skips by path: output is
    /// the same whatever order threads delivered them in.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            let git = |f: &'_ Finding| f.git.as_ref().map(|g| (g.blob.clone(), g.commit.clone()));
            (&a.path, a.line, a.column, &a.rule, git(a)).cmp(&(
                &b.path,
                b.line,
                b.column,
                &b.rule,
                git(b),
            ))
        });
        self.stats
            .skipped
            .sort_by(|a, b| (&a.path, a.reason).cmp(&(&b.path, b.reason)));
    }

    /// Adds a submodule's outcome, its paths under `prefix` (the submodule's
    /// path in this repository), so one report covers both.
    pub fn absorb(&mut self, other: ScanOutcome, prefix: &str) {
        let under = |path: &str| format!("{prefix}/{path}");
        self.findings
            .extend(other.findings.into_iter().map(|mut f| {
                f.path = under(&f.path);
                match &mut f.other_paths {
                    crate::finding::OtherPaths::None => {}
                    crate::finding::OtherPaths::History(others) => {
                        for other in others {
                            other.path = under(&other.path);
                        }
                    }
                    crate::finding::OtherPaths::InHead(others) => {
                        for other in others {
                            *other = under(other);
                        }
                    }
                }
                f
            }));
        let mut stats = other.stats;
        for skip in &mut stats.skipped {
            skip.path = under(&skip.path);
        }
        self.stats.merge(stats);
        self.rule_docs.extend(other.rule_docs);
        self.sort();
    }
}

use crate::engine::Reusable;

/// Runs the engine and the sensitive-file rules on one blob, without
/// opening archives.
pub fn scan_blob(engine: &Engine, blob: &Blob) -> (Vec<Finding>, ScanStats) {
    let (findings, stats, _) = scan_blob_reusing(engine, None, blob.as_ref(), None, None);
    (findings, stats)
}

impl Collector<'_> {
    /// [`scan_blob`], opening archives within this collector's limits.
    fn scan_blob(&self, blob: &Blob) -> (Vec<Finding>, ScanStats) {
        let (findings, stats, _) =
            scan_blob_reusing(self.engine, Some(&self.archives), blob.as_ref(), None, None);
        (findings, stats)
    }
}

/// [`scan_blob`], reusing the scan of the blob's delta base when there is
/// one; returns what a blob derived from this one can reuse (nothing for
/// binary or transcoded text, whose bytes are not the text scanned).
///
/// `elsewhere` lists sensitive-file rules that could flag the blob under
/// another path it had in history: each one that does not flag its first
/// path but whose content test passes gives a pending finding (`deferred`),
/// placed or dropped by [`resolve_history_paths`] once every path is known.
fn scan_blob_reusing(
    engine: &Engine,
    archives: Option<&Archives>,
    blob: BlobRef<'_>,
    derived: Option<Derived<'_, Reusable>>,
    elsewhere: Option<&[u32]>,
) -> (Vec<Finding>, ScanStats, Option<Reusable>) {
    let rules = engine.rules();
    if let Some(archives) = archives
        && let Some(kind) = archives.sniff(blob.data)
    {
        let (mut findings, stats) = archive::scan(engine, archives, blob.path, blob.data, kind);
        sensitive_files(engine, blob.path, None, elsewhere, &mut findings);
        return (findings, stats, None);
    }
    let mut stats = ScanStats::default();
    let mut findings = Vec::new();
    let (text, plain) = match prepare(blob.data) {
        Prepared::Text {
            text,
            transcoded_from,
        } => (text, transcoded_from.is_none()),
        Prepared::Binary => {
            stats.skipped.push(Skipped {
                path: blob.path.to_string(),
                reason: SkipReason::Binary,
                detail: "NUL byte in the first 8 KiB".into(),
            });
            sensitive_files(engine, blob.path, None, elsewhere, &mut findings);
            return (findings, stats, None);
        }
    };
    stats.scanned = 1;
    stats.bytes = blob.data.len() as u64;
    let scan = match derived {
        Some(derived) if plain => {
            let copies: Vec<Copy> = derived
                .copies
                .iter()
                .map(|c| Copy {
                    target: c.target,
                    base: c.base,
                    len: c.len,
                })
                .collect();
            let reuse = Reuse::new(&text, derived.base, &copies);
            engine.scan_delta(&text, derived.base_state, &reuse)
        }
        _ => engine.scan_full(&text),
    };
    let mut matches = scan.matches;
    let before = matches.len();
    matches.retain(|m| !m.allowed);
    stats.allowed = (before - matches.len()) as u64;
    findings.extend(finding::from_matches(
        &rules.rules,
        blob.path,
        &text,
        &matches,
    ));
    sensitive_files(engine, blob.path, Some(&text), elsewhere, &mut findings);
    (findings, stats, plain.then_some(scan.reusable))
}

/// The sensitive-file findings of one blob at `path`, and pending ones for
/// the rules in `elsewhere` that only another path could trigger.
fn sensitive_files(
    engine: &Engine,
    path: &str,
    content: Option<&[u8]>,
    elsewhere: Option<&[u32]>,
    findings: &mut Vec<Finding>,
) {
    let rules = &engine.rules().file_rules;
    let here = engine.sensitive_file_rules(path, content);
    for &index in &here {
        findings.extend(finding::for_sensitive_file(&rules[index], path));
    }
    for &index in elsewhere.unwrap_or_default() {
        let index = index as usize;
        let Some(rule) = rules.get(index) else {
            continue;
        };
        // A rule whose path test passed here already judged this content.
        if !rule.path_matches(path) && rule.content_matches(content) {
            // Judged where it is placed, once every path is known.
            let mut pending = finding::file_finding(rule, path);
            pending.deferred = true;
            findings.push(pending);
        }
    }
}

/// Runs the engine on one piece of a large file and keeps what the piece
/// owns (secrets whose first byte is in its owned range), with lines and
/// columns made relative to the whole file. Sensitive-file rules run on the
/// first piece only, so a file is flagged once.
pub fn scan_piece(engine: &Engine, piece: &Piece) -> (Vec<Finding>, ScanStats) {
    let rules = engine.rules();
    let text = &piece.blob.data;
    let mut stats = ScanStats {
        scanned: u64::from(piece.index == 0),
        bytes: piece.owned.len() as u64,
        ..ScanStats::default()
    };
    let mut matches = engine.scan(text);
    matches.retain(|m| piece.owned.contains(&m.secret_span.start));
    let before = matches.len();
    matches.retain(|m| !m.allowed);
    stats.allowed = (before - matches.len()) as u64;
    let mut findings = finding::from_matches(&rules.rules, &piece.blob.path, text, &matches);
    for f in &mut findings {
        let shift = |line: &mut Option<usize>, column: &mut Option<usize>| {
            if let Some(line) = line {
                if *line == 1
                    && let Some(column) = column
                {
                    *column += piece.column_offset;
                }
                *line += piece.lines_before;
            }
        };
        shift(&mut f.line, &mut f.column);
        shift(&mut f.end_line, &mut f.end_column);
    }
    if piece.index == 0 {
        for index in engine.sensitive_file_rules(&piece.blob.path, Some(text)) {
            findings.extend(finding::for_sensitive_file(
                &rules.file_rules[index],
                &piece.blob.path,
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleSet, RuleSources};
    use crate::sources::fs::{Chunking, read_pieces};

    fn engine() -> Engine {
        let rules = RuleSet::load(&RuleSources {
            builtin: true,
            paths: Vec::new(),
            config: None,
        })
        .unwrap();
        Engine::new(rules).unwrap()
    }

    /// A well-formed Anthropic key built at run time, so no literal key sits
    /// in the source.
    fn key() -> String {
        seeded_key(0x9e37_79b9_7f4a_7c15)
    }

    /// Like [`key`], one per seed.
    fn seeded_key(seed: u64) -> String {
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
        let mut state: u64 = seed;
        let body: String = (0..93)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                alphabet[((state >> 33) % alphabet.len() as u64) as usize] as char
            })
            .collect();
        format!("sk-ant-api{}-{body}AA", "03")
    }

    /// Rule, line, column, end line, end column of each finding, sorted.
    fn positions(findings: &[Finding]) -> Vec<String> {
        let mut all: Vec<String> = findings
            .iter()
            .map(|f| {
                format!(
                    "{} {:?} {:?} {:?} {:?}",
                    f.rule, f.line, f.column, f.end_line, f.end_column
                )
            })
            .collect();
        all.sort();
        all
    }

    #[test]
    fn pieces_find_exactly_what_the_whole_file_finds() {
        let engine = engine();
        // Keys on short lines, on one very long line, and straddling every
        // possible piece boundary position over a few pieces.
        let mut text = String::new();
        for i in 0..60u64 {
            text.push_str(&"filler text ".repeat((i as usize * 37) % 200));
            // An allowed key sits on its own short line: a piece sees its
            // context, not the whole of a megabyte line.
            if i % 3 == 0 || i % 5 == 0 {
                text.push('\n');
            }
            text.push_str(&format!("ANTHROPIC_API_KEY={} ", seeded_key(i)));
            if i % 5 == 0 {
                text.push_str("# secretgate:allow\n");
            }
        }
        let whole = Blob {
            path: "big.txt".into(),
            data: text.clone().into_bytes(),
        };
        let (expected, expected_stats) = scan_blob(&engine, &whole);
        assert!(expected.len() > 30, "{}", expected.len());
        for piece in [700, 1000, 4093] {
            let chunking = Chunking {
                threshold: 0,
                piece,
                overlap: 640,
            };
            let collected = Mutex::new((Vec::new(), 0u64, 0u64, 0u64));
            read_pieces(text.as_bytes(), "big.txt", &chunking, &|item| {
                let SourceItem::Piece(p) = item else {
                    panic!("not a piece")
                };
                let (findings, stats) = scan_piece(&engine, &p);
                let mut all = collected.lock().unwrap();
                all.0.extend(findings);
                all.1 += stats.bytes;
                all.2 += stats.scanned;
                all.3 += stats.allowed;
            })
            .unwrap();
            let (found, bytes, scanned, allowed) = collected.into_inner().unwrap();
            assert_eq!(positions(&found), positions(&expected), "piece {piece}");
            assert_eq!(bytes, text.len() as u64);
            assert_eq!(scanned, 1);
            assert_eq!(allowed, expected_stats.allowed);
        }
    }

    #[test]
    fn the_sink_sees_each_blobs_findings_before_the_scan_ends() {
        let rules = RuleSet::load(&RuleSources {
            builtin: true,
            paths: Vec::new(),
            config: None,
        })
        .unwrap();
        let engine = Engine::new(rules).unwrap();
        let seen: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let sink = |found: &[Finding]| {
            let mut seen = seen.lock().unwrap();
            seen.extend(found.iter().map(|f| f.path.clone()));
        };
        let collector = Collector::new(&engine).with_sink(&sink);
        collector.accept(SourceItem::Blob(Blob {
            path: "a.cfg".into(),
            data: format!("ANTHROPIC_API_KEY={}\n", key()).into_bytes(),
        }));
        // Already delivered, long before `finish`.
        assert_eq!(*seen.lock().unwrap(), ["a.cfg"]);
        collector.accept(SourceItem::Blob(Blob {
            path: "clean.txt".into(),
            data: b"nothing here\n".to_vec(),
        }));
        assert_eq!(seen.lock().unwrap().len(), 1, "a clean blob sends nothing");
        let outcome = collector.finish();
        assert_eq!(outcome.findings.len(), 1);
        assert!(outcome.rule_docs.contains_key("anthropic-api-key"));
    }
}
