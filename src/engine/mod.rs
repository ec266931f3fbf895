//! The matching engine: keyword prefilter, regex confirmation on a window around
//! each keyword, then the filters (entropy, checksum, placeholder, JWT claims,
//! base64 decoding) that turn regex hits into matches worth reporting.
//!
//! Why a prefilter: almost every byte of a repository is not near a secret. One
//! Aho-Corasick pass over all rule keywords finds the few places worth a regex,
//! and each regex then runs on a small window instead of the whole blob, so the
//! cost of adding a rule is close to the cost of adding its keywords.

pub mod checksum;
pub mod decode;
pub mod entropy;
pub mod placeholder;
pub mod self_test;
pub mod text;

use std::collections::HashSet;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::rules::{Decode, Rule, RuleSet, normalize_public_value};

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
    /// How the secret was encoded in the text, if it was.
    pub encoding: Option<&'static str>,
    /// Whether the line carries an inline allow marker.
    pub allowed: bool,
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

/// The compiled engine; build once, share across threads.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    keywords: AhoCorasick,
    /// For each keyword pattern id, the rules that use it.
    keyword_rules: Vec<Vec<usize>>,
}

impl Engine {
    /// Compiles the keyword automaton over every rule's keywords.
    pub fn new(rules: RuleSet) -> Result<Engine, EngineError> {
        let mut keyword_ids: std::collections::HashMap<String, usize> = Default::default();
        let mut keyword_list: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (rule_index, rule) in rules.rules.iter().enumerate() {
            for keyword in &rule.keywords {
                let id = *keyword_ids.entry(keyword.clone()).or_insert_with(|| {
                    keyword_list.push(keyword.clone());
                    keyword_rules.push(Vec::new());
                    keyword_list.len() - 1
                });
                if !keyword_rules[id].contains(&rule_index) {
                    keyword_rules[id].push(rule_index);
                }
            }
        }
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keyword_list)
            .map_err(|source| EngineError::Automaton {
                keywords: keyword_list.len(),
                source,
            })?;
        Ok(Engine {
            rules,
            keywords,
            keyword_rules,
        })
    }

    /// The rules this engine runs.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Finds every match in `text`, including secrets in decoded containers,
    /// with overlapping generic matches resolved in favour of specific rules.
    pub fn scan(&self, text: &[u8]) -> Vec<Match> {
        let mut matches = Vec::new();
        self.scan_plain(text, &mut matches);
        for decoded in decode::kubernetes_secret_values(text) {
            let mut inner = Vec::new();
            self.scan_plain(&decoded.text, &mut inner);
            for m in inner {
                matches.push(Match {
                    span: decoded.span.clone(),
                    secret_span: decoded.span.clone(),
                    encoding: Some("base64"),
                    ..m
                });
            }
        }
        resolve_overlaps(&mut matches, &self.rules.rules);
        mark_allowed(text, &mut matches);
        matches
    }

    /// Keyword prefilter and regex confirmation on `text`, no container decoding.
    fn scan_plain(&self, text: &[u8], out: &mut Vec<Match>) {
        // Per rule, the window waiting to be confirmed; windows of one rule that
        // touch are merged so a line with many keywords is read once.
        let mut pending: Vec<Option<Range<usize>>> = Vec::new();
        let mut touched: Vec<usize> = Vec::new();
        for hit in self.keywords.find_overlapping_iter(text) {
            if pending.is_empty() {
                pending = vec![None; self.rules.rules.len()];
            }
            for &rule_index in &self.keyword_rules[hit.pattern().as_usize()] {
                let rule = &self.rules.rules[rule_index];
                let window = keyword_window(rule, text, hit.start(), hit.end());
                match &mut pending[rule_index] {
                    Some(current) if window.start <= current.end => {
                        current.start = current.start.min(window.start);
                        current.end = current.end.max(window.end);
                    }
                    slot => {
                        if let Some(done) = slot.replace(window) {
                            self.confirm(rule_index, text, done, out);
                        } else {
                            touched.push(rule_index);
                        }
                    }
                }
            }
        }
        for rule_index in touched {
            if let Some(window) = pending[rule_index].take() {
                self.confirm(rule_index, text, window, out);
            }
        }
    }

    /// Runs one rule's regex over one window and keeps the hits that pass.
    fn confirm(&self, rule_index: usize, text: &[u8], window: Range<usize>, out: &mut Vec<Match>) {
        let rule = &self.rules.rules[rule_index];
        // Built-in regexes compile in tests; user regexes are compiled at load.
        let Ok(compiled) = rule.regex.get() else {
            return;
        };
        let base = window.start;
        let window = &text[window];
        // Most windows hold no match: the lazy DFA behind `is_match` rejects
        // them far faster than a capturing search would.
        if !compiled.regex.is_match(window) {
            return;
        }
        for caps in compiled.regex.captures_iter(window) {
            let Some(whole) = caps.get(0) else { continue };
            let secret = compiled
                .secret_group
                .and_then(|group| caps.get(group))
                .unwrap_or(whole);
            if secret.is_empty() {
                continue;
            }
            let name = compiled
                .name_group
                .and_then(|group| caps.get(group))
                .map(|m| m.as_bytes());
            let Some((secret_bytes, encoding)) = self.accept(rule, secret.as_bytes(), name) else {
                continue;
            };
            out.push(Match {
                rule: rule_index,
                span: base + whole.start()..base + whole.end(),
                secret_span: base + secret.start()..base + secret.end(),
                secret: secret_bytes,
                encoding,
                allowed: false,
            });
        }
    }

    /// Applies a rule's filters to a captured secret; returns the secret to
    /// report (decoded if the rule decodes) or `None` to drop the hit.
    fn accept(
        &self,
        rule: &Rule,
        captured: &[u8],
        name: Option<&[u8]>,
    ) -> Option<(Vec<u8>, Option<&'static str>)> {
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
        if rule.placeholder_check
            && (placeholder::is_placeholder(&secret)
                || self
                    .rules
                    .public_values
                    .contains(&normalize_public_value(&secret)))
        {
            return None;
        }
        if rule.min_length.is_some_and(|min| secret.len() < min) || rule.deny.vetoes(&secret, name)
        {
            return None;
        }
        if let Some(min) = rule.min_entropy
            && entropy::shannon_entropy(&secret) < min
        {
            return None;
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
        Some((secret, encoding))
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

/// The text a rule's regex may see around one keyword occurrence.
fn keyword_window(rule: &Rule, text: &[u8], start: usize, end: usize) -> Range<usize> {
    let lo = start.saturating_sub(rule.window);
    let hi = end.saturating_add(rule.window).min(text.len());
    if !rule.line_bounded {
        return lo..hi;
    }
    let line_start = memchr::memrchr(b'\n', &text[lo..start]).map_or(lo, |i| lo + i + 1);
    let line_end = memchr::memchr(b'\n', &text[end..hi]).map_or(hi, |i| end + i);
    line_start..line_end
}

/// One secret, one finding: drops exact duplicates, and generic matches whose
/// secret overlaps a specific rule's secret.
fn resolve_overlaps(matches: &mut Vec<Match>, rules: &[Rule]) {
    if matches.len() < 2 {
        return;
    }
    matches.sort_by(|a, b| {
        (a.secret_span.start, a.secret_span.end, a.rule).cmp(&(
            b.secret_span.start,
            b.secret_span.end,
            b.rule,
        ))
    });
    let mut seen = HashSet::new();
    matches.retain(|m| seen.insert((m.rule, m.secret_span.clone(), m.secret.clone())));
    // Specific secrets sorted by start, with the largest end seen so far: a
    // generic secret overlaps one of them iff, among those starting before
    // its end, the largest end is past its start. Binary search keeps a line
    // with thousands of matches linear-logarithmic, not quadratic.
    let mut specific: Vec<Range<usize>> = matches
        .iter()
        .filter(|m| !rules[m.rule].generic)
        .map(|m| m.secret_span.clone())
        .collect();
    if specific.is_empty() {
        return;
    }
    specific.sort_by_key(|s| s.start);
    let max_end: Vec<usize> = specific
        .iter()
        .scan(0, |max, s| {
            *max = (*max).max(s.end);
            Some(*max)
        })
        .collect();
    matches.retain(|m| {
        if !rules[m.rule].generic {
            return true;
        }
        let before = specific.partition_point(|s| s.start < m.secret_span.end);
        before == 0 || max_end[before - 1] <= m.secret_span.start
    });
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
