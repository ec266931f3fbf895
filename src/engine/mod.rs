//! The matching engine: keyword prefilter, regex confirmation on a window around
//! each keyword, then the filters (entropy, checksum, placeholder, JWT claims,
//! base64 decoding) that turn regex hits into matches worth reporting.
//!
//! Why a prefilter: almost every byte of a repository is not near a secret. One
//! Aho-Corasick pass over all rule keywords finds the few places worth a regex,
//! and each regex then runs on a small window instead of the whole blob, so the
//! cost of adding a rule is close to the cost of adding its keywords.

pub mod checksum;
mod containers;
pub mod decode;
pub mod delta;
pub mod entropy;
pub mod jwt;
pub mod keys;
mod overlap;
pub mod placeholder;
pub mod self_test;
pub mod text;
pub mod validate;
pub mod windows;

use std::collections::HashSet;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::rules::{Decode, Rule, RuleSet, normalize_public_value};
use windows::{ByStart, Lines, SpanWindow, line_window, span_window};

/// The marker that, anywhere on a matched line, allows the match.
pub const INLINE_ALLOW_MARKER: &[u8] = b"secretgate:allow";

/// A confirmed rule hit inside one blob, before any provenance is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in [`RuleSet::rules`].
    pub rule: usize,
    /// The whole regex match, as a byte range of the scanned text (for decoded
    /// values: the range of the encoded text).
    pub span: Range<usize>,
    /// The secret's byte range in the scanned text (the encoded text's range
    /// when the secret was decoded).
    pub secret_span: Range<usize>,
    /// The secret itself, decoded when the rule or the container encodes it.
    pub secret: Vec<u8>,
    /// The text the rule's regex ran on to find it: nothing outside can
    /// change this match.
    pub window: Range<usize>,
    /// How the secret was encoded in the text, if it was.
    pub encoding: Option<&'static str>,
    /// Whether the line carries an inline allow marker.
    pub allowed: bool,
    /// What the rule's validator said about this secret (severity,
    /// confidence and reason from its content), if the rule has one.
    pub verdict: validate::Verdict,
}

/// Errors building the engine: only a rule set too large for the automaton.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The keyword automaton could not be built.
    #[error("cannot build the keyword automaton for {keywords} keywords: {source}")]
    Automaton {
        /// How many keywords there were.
        keywords: usize,
        /// Why it failed.
        source: aho_corasick::BuildError,
    },
}

/// Keywords of one group of rules and, per keyword, the rules that use it.
#[derive(Debug)]
struct KeywordSet {
    automaton: AhoCorasick,
    /// For each keyword pattern id, the rules that use it.
    rules: Vec<Vec<usize>>,
    /// The longest keyword, in bytes.
    max_len: usize,
}

impl KeywordSet {
    /// One automaton over the keywords of the rules `pick` selects; all of
    /// them share the rules' case sensitivity, which `pick` must respect.
    fn build(
        rules: &RuleSet,
        case_sensitive: bool,
        pick: impl Fn(&Rule) -> bool,
    ) -> Result<KeywordSet, EngineError> {
        let mut ids: std::collections::HashMap<String, usize> = Default::default();
        let mut keywords: Vec<String> = Vec::new();
        let mut users: Vec<Vec<usize>> = Vec::new();
        for (rule_index, rule) in rules.rules.iter().enumerate() {
            if rule.keywords_case_sensitive != case_sensitive || !pick(rule) {
                continue;
            }
            for keyword in &rule.keywords {
                let id = *ids.entry(keyword.clone()).or_insert_with(|| {
                    keywords.push(keyword.clone());
                    users.push(Vec::new());
                    keywords.len() - 1
                });
                if !users[id].contains(&rule_index) {
                    users[id].push(rule_index);
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(!case_sensitive)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .map_err(|source| EngineError::Automaton {
                keywords: keywords.len(),
                source,
            })?;
        Ok(KeywordSet {
            automaton,
            rules: users,
            max_len: keywords.iter().map(String::len).max().unwrap_or(0),
        })
    }
}

/// The compiled engine; build once, share across threads.
///
/// Rules come in two shapes. Line rules (the vast majority) see only the line
/// around a keyword, so a line's matches depend on that line alone; span
/// rules (multi-line secrets such as PEM keys, or a key name a few lines
/// above its value) see a fixed window of bytes around each keyword, merged
/// with the overlapping windows of the same rule, so each of their matches
/// depends on its merged window alone. Both properties are what
/// [`Engine::scan_delta`] relies on to rescan only what a new version of a
/// file changed. Both merges are what keep a scan linear in its input: no
/// rule's regex reads a byte twice, however dense the keywords.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    /// Every rule's keywords: case-blind ones, then exact-case ones.
    keywords: [KeywordSet; 2],
    /// Secrets dropped only because of a config, for the summary.
    dropped: std::sync::Mutex<DropLog>,
    /// Whether an inline [`INLINE_ALLOW_MARKER`] accepts a match; off for
    /// untrusted changes, whose author could add a key with a marker.
    inline_allow: bool,
}

/// What a config made the engine drop: distinct secrets, each kept as a
/// hash. Distinct secrets, not hits, so the count does not depend on how
/// often a secret repeats, on how many rules (a specific one and a generic
/// one) saw it, or on which versions a delta scan rescanned.
#[derive(Debug, Default)]
struct DropLog {
    entropy_floor: HashSet<u64>,
    public_values: HashSet<u64>,
}

/// Counts of [`Engine::config_drops`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfigDrops {
    /// Secrets dropped because a config's entropy floor is above the rule
    /// file's (or the rule has none), which they pass.
    pub entropy_floor: u64,
    /// Secrets dropped because only a config's extra rule file declares them
    /// public values.
    pub public_values: u64,
}

/// Why a config dropped a secret.
#[derive(Debug, Clone, Copy)]
enum DropReason {
    EntropyFloor,
    PublicValue,
}

/// A keyword of a span rule found in a text: where its window is centred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanHit {
    /// The rule.
    pub rule: usize,
    /// The keyword's byte range.
    pub start: usize,
    /// End of the keyword.
    pub end: usize,
}

/// What a scan of one version of a file leaves for scanning versions
/// derived from it.
#[derive(Debug, Default, Clone)]
pub struct Reusable {
    /// Every rule hit before overlaps are resolved and allow markers read,
    /// each with the window it was confirmed in.
    pub matches: Vec<Match>,
    /// Every span-rule keyword in the text.
    pub span_hits: Vec<SpanHit>,
    /// The matches in line containers (see `containers`), each with its
    /// line as window.
    pub decoded: Vec<Match>,
    /// The merged windows the span rules' regexes ran on (or whose matches
    /// were carried over), sorted by rule and start.
    pub span_windows: Vec<SpanWindow>,
}

/// A scan's matches, plus what a later version of the same file can reuse.
#[derive(Debug, Default)]
pub struct Scan {
    /// The matches to report, as [`Engine::scan`] returns them.
    pub matches: Vec<Match>,
    /// The state a delta scan of a derived version inherits.
    pub reusable: Reusable,
    /// Bytes the rules' regexes read, once per pass over a window: the work
    /// that must stay linear in the input whatever its keyword density.
    pub regex_bytes: u64,
}

/// Bytes the rules' regexes read during one scan, in total and, when asked
/// for, per rule; and the line rules' pending windows, allocated once per
/// scan rather than once per region or decoded value.
#[derive(Debug, Default)]
struct Work {
    bytes: u64,
    by_rule: Option<Vec<u64>>,
    pending: Vec<Option<Range<usize>>>,
}

impl Work {
    fn add(&mut self, rule: usize, bytes: usize) {
        self.bytes += bytes as u64;
        if let Some(by_rule) = &mut self.by_rule
            && let Some(count) = by_rule.get_mut(rule)
        {
            *count += bytes as u64;
        }
    }
}

impl Engine {
    /// Compiles the keyword automata over every rule's keywords.
    pub fn new(rules: RuleSet) -> Result<Engine, EngineError> {
        let keywords = [
            KeywordSet::build(&rules, false, |_| true)?,
            KeywordSet::build(&rules, true, |_| true)?,
        ];
        Ok(Engine {
            rules,
            keywords,
            dropped: std::sync::Mutex::default(),
            inline_allow: true,
        })
    }

    /// This engine with inline allow markers honoured or not: off
    /// (`--no-inline-allow`), a match on a marked line is reported like any
    /// other, since whoever wrote the change also wrote the marker.
    pub fn with_inline_allow(mut self, honoured: bool) -> Engine {
        self.inline_allow = honoured;
        self
    }

    /// The rules this engine runs.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// How many distinct secrets the engine has dropped so far
    /// only because of a config's entropy floors or public values: findings
    /// the rules without the config would have reported, unless something
    /// else (an allow marker, a more specific rule) took them out too.
    pub fn config_drops(&self) -> ConfigDrops {
        let log = match self.dropped.lock() {
            Ok(log) => log,
            Err(poisoned) => poisoned.into_inner(),
        };
        ConfigDrops {
            entropy_floor: log.entropy_floor.len() as u64,
            public_values: log.public_values.len() as u64,
        }
    }

    fn record_drop(&self, reason: DropReason, secret: &[u8]) {
        use std::hash::{Hash as _, Hasher as _};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        secret.hash(&mut hasher);
        let key = hasher.finish();
        let mut log = match self.dropped.lock() {
            Ok(log) => log,
            Err(poisoned) => poisoned.into_inner(),
        };
        match reason {
            DropReason::EntropyFloor => log.entropy_floor.insert(key),
            DropReason::PublicValue => log.public_values.insert(key),
        };
    }

    /// Finds every match in `text`, including secrets in decoded containers,
    /// with overlapping generic matches resolved in favour of specific rules.
    pub fn scan(&self, text: &[u8]) -> Vec<Match> {
        self.scan_full(text).matches
    }

    /// [`Engine::scan`], keeping what a delta scan of a later version needs.
    pub fn scan_full(&self, text: &[u8]) -> Scan {
        self.scan_full_with(text, &mut Work::default())
    }

    /// The bytes each rule's regex reads in a full scan of `text`, indexed
    /// like [`RuleSet::rules`]: what tests and profiles use to check that no
    /// rule reads the input more than a bounded number of times.
    pub fn regex_bytes_by_rule(&self, text: &[u8]) -> Vec<u64> {
        let mut work = Work {
            by_rule: Some(vec![0; self.rules.rules.len()]),
            ..Work::default()
        };
        self.scan_full_with(text, &mut work);
        work.by_rule.unwrap_or_default()
    }

    fn scan_full_with(&self, text: &[u8], work: &mut Work) -> Scan {
        let mut raw = Vec::new();
        let mut span_hits = Vec::new();
        for set in &self.keywords {
            self.scan_set(set, text, 0..text.len(), &mut raw, &mut span_hits, work);
        }
        let span_windows = self.confirm_spans(text, &span_hits, None, &mut raw, work);
        let whole = 0..text.len();
        let regions = std::slice::from_ref(&whole);
        self.finish(
            text,
            raw,
            regions,
            Vec::new(),
            span_hits,
            span_windows,
            work,
        )
    }

    /// Scans a version of a file derived from an earlier one by the copies
    /// in `delta`, given what the earlier one's scan left
    /// ([`Scan::reusable`]). Keywords are looked for only in the lines the
    /// copies do not carry over whole (a keyword never spans lines, so the
    /// others are the base's, moved); regexes run only on those lines and on
    /// merged span windows that are not the base's, carried over whole; every
    /// other match is the base's, moved. The result is the one
    /// [`Engine::scan_full`] gives.
    pub fn scan_delta(&self, text: &[u8], base: &Reusable, delta: &delta::Reuse) -> Scan {
        let mut work = Work::default();
        let mut raw = delta.carry(&base.matches, |rule| self.rules.rules[rule].line_bounded);
        let hits: Vec<Range<usize>> = base.span_hits.iter().map(|h| h.start..h.end).collect();
        let mut span_hits: Vec<SpanHit> = delta
            .carry_ranges(&hits)
            .into_iter()
            .map(|(i, moved)| SpanHit {
                rule: base.span_hits[i].rule,
                start: moved.start,
                end: moved.end,
            })
            .collect();
        let dirty_lines = delta.dirty_lines();
        for dirty in &dirty_lines {
            for set in &self.keywords {
                let (raw, hits) = (&mut raw, &mut span_hits);
                self.scan_set(set, text, dirty.clone(), raw, hits, &mut work);
            }
        }
        let from = Some((delta, base.span_windows.as_slice()));
        let span_windows = self.confirm_spans(text, &span_hits, from, &mut raw, &mut work);
        let carried = delta.carry(&base.decoded, |_| true);
        self.finish(
            text,
            raw,
            &dirty_lines,
            carried,
            span_hits,
            span_windows,
            &mut work,
        )
    }

    /// Decoded containers, overlaps and allow markers: the steps that look
    /// at the whole text, run after the rules.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        text: &[u8],
        raw: Vec<Match>,
        regions: &[Range<usize>],
        carried: Vec<Match>,
        span_hits: Vec<SpanHit>,
        span_windows: Vec<SpanWindow>,
        work: &mut Work,
    ) -> Scan {
        let decoded = self.decoded_matches(text, &raw, regions, carried, work);
        let mut matches = raw.clone();
        matches.extend(decoded.matches);
        overlap::resolve_overlaps(&mut matches, &self.rules.rules);
        if self.inline_allow {
            mark_allowed(text, &mut matches);
        }
        Scan {
            matches,
            reusable: Reusable {
                matches: raw,
                decoded: decoded.reusable,
                span_hits,
                span_windows,
            },
            regex_bytes: work.bytes,
        }
    }

    /// The keywords of `set` inside `region` (whole lines): line rules are
    /// confirmed here, span rules' keywords are collected in `span_hits` for
    /// [`Engine::confirm_spans`].
    ///
    /// A line rule's regex runs on the line around its keyword; windows of
    /// one rule that touch are merged, so a line with many keywords is read
    /// once, and they never cross a line, so a line's matches depend on that
    /// line alone. Hits are taken in order of start, so a rule's windows come
    /// in order and the merged ones never overlap: no byte is read twice.
    fn scan_set(
        &self,
        set: &KeywordSet,
        text: &[u8],
        region: Range<usize>,
        out: &mut Vec<Match>,
        span_hits: &mut Vec<SpanHit>,
        work: &mut Work,
    ) {
        // Empty, or one slot per rule, all `None` between calls.
        let mut pending = std::mem::take(&mut work.pending);
        let mut touched: Vec<usize> = Vec::new();
        let mut lines = Lines::new(text, region.start);
        let offset = region.start;
        let hits = set.automaton.find_overlapping_iter(&text[region]);
        for (start, end, keyword) in ByStart::new(hits, set.max_len) {
            let (start, end) = (offset + start, offset + end);
            let mut line = None;
            for &rule_index in &set.rules[keyword] {
                let rule = &self.rules.rules[rule_index];
                if !rule.line_bounded {
                    span_hits.push(SpanHit {
                        rule: rule_index,
                        start,
                        end,
                    });
                    continue;
                }
                let line = line.get_or_insert_with(|| lines.around(start, end));
                let window = line_window(rule, text.len(), line, start, end);
                if pending.is_empty() {
                    pending = vec![None; self.rules.rules.len()];
                }
                match &mut pending[rule_index] {
                    Some(current) if window.start <= current.end => {
                        current.start = current.start.min(window.start);
                        current.end = current.end.max(window.end);
                    }
                    slot => {
                        if let Some(done) = slot.replace(window) {
                            self.confirm(rule_index, text, done, out, work);
                        } else {
                            touched.push(rule_index);
                        }
                    }
                }
            }
        }
        for rule_index in touched {
            if let Some(window) = pending[rule_index].take() {
                self.confirm(rule_index, text, window, out, work);
            }
        }
        work.pending = pending;
    }

    /// Span rules: each rule's windows merged where they overlap or touch,
    /// and the regex run once over each merged window, whose bytes alone
    /// decide its matches. With a delta and the base's merged windows, a
    /// merged window the base had too, carried over whole, is not read
    /// again: its matches were carried over. Matches carried into any other
    /// window are dropped, since that window is read again. Returns the
    /// merged windows.
    fn confirm_spans(
        &self,
        text: &[u8],
        hits: &[SpanHit],
        delta: Option<(&delta::Reuse, &[SpanWindow])>,
        out: &mut Vec<Match>,
        work: &mut Work,
    ) -> Vec<SpanWindow> {
        let windows = windows::merge(
            hits.iter()
                .map(|hit| {
                    let rule = &self.rules.rules[hit.rule];
                    (hit.rule, span_window(rule, text.len(), hit.start, hit.end))
                })
                .collect(),
        );
        let mut reused = vec![false; windows.len()];
        if let Some((reuse, base_windows)) = delta {
            let key = |w: &SpanWindow| (w.rule, w.range.start, w.range.end);
            for (window, reused) in windows.iter().zip(reused.iter_mut()) {
                *reused = reuse.carried_from(&window.range).is_some_and(|from| {
                    let base = (window.rule, from.start, from.end);
                    base_windows.binary_search_by_key(&base, key).is_ok()
                });
            }
            out.retain(|m| {
                self.rules.rules[m.rule].line_bounded
                    || windows
                        .binary_search_by_key(&(m.rule, m.window.start, m.window.end), key)
                        .is_ok_and(|i| reused[i])
            });
        }
        for (window, reused) in windows.iter().zip(&reused) {
            if !reused {
                self.confirm(window.rule, text, window.range.clone(), out, work);
            }
        }
        windows
    }

    /// Runs one rule's regex over one window and keeps the hits that pass.
    fn confirm(
        &self,
        rule_index: usize,
        text: &[u8],
        window: Range<usize>,
        out: &mut Vec<Match>,
        work: &mut Work,
    ) {
        let rule = &self.rules.rules[rule_index];
        // Built-in regexes compile in tests; user regexes are compiled at load.
        let Ok(compiled) = rule.regex.get() else {
            return;
        };
        let base = window.start;
        let range = window.clone();
        let window = &text[window];
        // Most windows hold no match: the lazy DFA behind `is_match` rejects
        // them far faster than a capturing search would.
        work.add(rule_index, window.len());
        if !compiled.regex.is_match(window) {
            return;
        }
        work.add(rule_index, window.len());
        for caps in compiled.regex.captures_iter(window) {
            let Some(whole) = caps.get(0) else { continue };
            let secret = compiled
                .secret_groups
                .iter()
                .find_map(|&group| caps.get(group))
                .unwrap_or(whole);
            if secret.is_empty() {
                continue;
            }
            let name = compiled
                .name_group
                .and_then(|group| caps.get(group))
                .map(|m| m.as_bytes());
            let Some((secret_bytes, encoding, verdict)) =
                self.accept(rule, secret.as_bytes(), name)
            else {
                continue;
            };
            out.push(Match {
                rule: rule_index,
                span: base + whole.start()..base + whole.end(),
                secret_span: base + secret.start()..base + secret.end(),
                secret: secret_bytes,
                window: range.clone(),
                encoding,
                allowed: false,
                verdict,
            });
        }
    }

    /// Applies a rule's filters to a captured secret; returns the secret to
    /// report (decoded if the rule decodes) with its validator's verdict, or
    /// `None` to drop the hit.
    fn accept(
        &self,
        rule: &Rule,
        captured: &[u8],
        name: Option<&[u8]>,
    ) -> Option<(Vec<u8>, Option<&'static str>, validate::Verdict)> {
        let (secret, encoding) = match rule.decode {
            None => (captured.to_vec(), None),
            Some(Decode::Base64) => {
                let decoded = decode::base64_decode(captured)?;
                if !decode::is_printable_text(&decoded) {
                    return None;
                }
                if let Some(shape) = &rule.decoded_regex
                    && !shape.is_match(&decoded)
                {
                    return None;
                }
                (decoded, Some("base64"))
            }
        };
        // What a cleanup left in place of a secret, whatever the rule.
        if placeholder::is_removal_marker(&secret) || placeholder::is_removal_marker(captured) {
            return None;
        }
        // A secret only a config's change drops goes through every other
        // filter first: it is counted only if the rules alone would report it.
        let mut config_drop = None;
        if rule.placeholder_check {
            if placeholder::is_placeholder(&secret) {
                return None;
            }
            let normal = normalize_public_value(&secret);
            if self.rules.public_values.contains(&normal) {
                if !self.rules.config_public_set.contains(&normal) {
                    return None;
                }
                config_drop = Some(DropReason::PublicValue);
            }
        }
        if rule.min_length.is_some_and(|min| secret.len() < min) || rule.deny.vetoes(&secret, name)
        {
            return None;
        }
        if let Some(min) = rule.entropy_floor() {
            let entropy = entropy::shannon_entropy(&secret);
            if entropy < min {
                if rule.config_entropy.is_none()
                    || rule.min_entropy.is_some_and(|own| entropy < own)
                {
                    return None;
                }
                config_drop.get_or_insert(DropReason::EntropyFloor);
            }
        }
        if let Some(kind) = rule.checksum
            && !checksum::verify(kind, &secret)
        {
            return None;
        }
        if let Some(claims) = &rule.jwt_claims
            && !decode::jwt_has_claims(&secret, claims)
        {
            return None;
        }
        let verdict = match rule.validate {
            Some(validator) => validate::check(validator, &secret)?,
            None => validate::Verdict::default(),
        };
        if let Some(reason) = config_drop {
            self.record_drop(reason, &secret);
            return None;
        }
        Some((secret, encoding, verdict))
    }

    /// Indexes of the sensitive-file rules that flag this path and content.
    pub fn sensitive_file_rules(&self, path: &str, content: Option<&[u8]>) -> Vec<usize> {
        self.rules
            .file_rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.matches(path, content))
            .map(|(index, _)| index)
            .collect()
    }
}

/// Marks matches whose first or last line carries [`INLINE_ALLOW_MARKER`].
/// Line starts and marker positions are indexed once, so a 50 MB line with
/// thousands of matches costs one pass, not one pass per match.
fn mark_allowed(text: &[u8], matches: &mut [Match]) {
    if matches.is_empty() {
        return;
    }
    let markers: Vec<usize> = memchr::memmem::find_iter(text, INLINE_ALLOW_MARKER).collect();
    if markers.is_empty() {
        return;
    }
    let lines = text::LineIndex::new(text);
    for m in matches {
        let first = lines.line_range(text, m.span.start);
        let end = m.span.end.max(m.span.start);
        let last = lines.line_range(text, end.saturating_sub(1).max(m.span.start));
        let (start, end) = (first.start, last.end.max(first.end));
        let at = markers.partition_point(|&p| p < start);
        m.allowed = markers
            .get(at)
            .is_some_and(|&p| p + INLINE_ALLOW_MARKER.len() <= end);
    }
}
