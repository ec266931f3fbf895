//! Where each rule's regex runs: the windows around keyword hits, merged so
//! that no rule's regex reads the same byte twice in one scan.
//!
//! Why: in keyword-dense text (a 4 MB Sphinx index with "twilio" every few
//! bytes, a file of `secret secret ...`) every byte is near hundreds of hits.
//! Running a regex on each hit's window read each byte hundreds of times: the
//! scan was quadratic in the keyword density. Merged windows keep it linear.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Range;

use crate::rules::Rule;

/// Keyword hits re-ordered by start. An overlapping Aho-Corasick search
/// reports hits by end, so a short keyword found after a long one can start
/// later or earlier; a hit can start at most `max_len` bytes before the end
/// of the last one seen, so a heap of the hits in those last bytes is enough
/// to release them by start.
pub(super) struct ByStart<I> {
    hits: I,
    heap: BinaryHeap<Reverse<(usize, usize, usize)>>,
    max_len: usize,
    last_end: usize,
    done: bool,
}

impl<I: Iterator<Item = aho_corasick::Match>> ByStart<I> {
    /// Wraps hits reported in order of end; `max_len` is the longest keyword.
    pub(super) fn new(hits: I, max_len: usize) -> Self {
        ByStart {
            hits,
            heap: BinaryHeap::new(),
            max_len,
            last_end: 0,
            done: false,
        }
    }
}

impl<I: Iterator<Item = aho_corasick::Match>> Iterator for ByStart<I> {
    /// `(start, end, keyword id)`.
    type Item = (usize, usize, usize);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(Reverse(top)) = self.heap.peek()
                && (self.done || top.0.saturating_add(self.max_len) <= self.last_end)
            {
                return self.heap.pop().map(|Reverse(hit)| hit);
            }
            if self.done {
                return None;
            }
            match self.hits.next() {
                Some(hit) => {
                    self.last_end = self.last_end.max(hit.end());
                    self.heap
                        .push(Reverse((hit.start(), hit.end(), hit.pattern().as_usize())));
                }
                None => self.done = true,
            }
        }
    }
}

/// The line around each of a series of positions given in increasing order,
/// each line found once: a line with a thousand keywords is searched for its
/// ends once, not a thousand times per rule.
pub(super) struct Lines<'t> {
    text: &'t [u8],
    /// The last line found, from its first byte to its line break
    /// (exclusive) or the end of the text.
    line: Option<Range<usize>>,
    /// A line start at or before every position asked about.
    origin: usize,
}

impl<'t> Lines<'t> {
    /// A cursor for positions at or after `origin`, which starts a line.
    pub(super) fn new(text: &'t [u8], origin: usize) -> Self {
        Lines {
            text,
            line: None,
            origin,
        }
    }

    /// The line holding `start..end` (a keyword holds no line break).
    pub(super) fn around(&mut self, start: usize, end: usize) -> Range<usize> {
        let floor = match &self.line {
            Some(line) if line.start <= start && end <= line.end => return line.clone(),
            // A later line: it starts after the last one's break.
            Some(line) if start > line.end => line.end + 1,
            Some(line) if start >= line.start => line.start,
            _ => self.origin.min(start),
        };
        let line_start =
            memchr::memrchr(b'\n', &self.text[floor..start]).map_or(floor, |i| floor + i + 1);
        let line_end =
            memchr::memchr(b'\n', &self.text[end..]).map_or(self.text.len(), |i| end + i);
        self.line = Some(line_start..line_end);
        line_start..line_end
    }
}

/// The text a line rule's regex may see around one keyword occurrence: the
/// line holding it, clipped to the rule's window either side. `len` is the
/// text's length.
pub(super) fn line_window(
    rule: &Rule,
    len: usize,
    line: &Range<usize>,
    start: usize,
    end: usize,
) -> Range<usize> {
    let window = span_window(rule, len, start, end);
    window.start.max(line.start)..window.end.min(line.end)
}

/// The text a span rule's regex may see around one keyword occurrence: the
/// rule's window either side, regardless of lines.
pub(super) fn span_window(rule: &Rule, len: usize, start: usize, end: usize) -> Range<usize> {
    start.saturating_sub(rule.window)..end.saturating_add(rule.window).min(len)
}

/// A span rule's windows that overlap or touch, merged: the regex runs once
/// over each, and each match found depends on the bytes of its merged window
/// alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpanWindow {
    /// The rule.
    pub rule: usize,
    /// The union of the windows.
    pub range: Range<usize>,
}

/// Merges `(rule, window)` pairs, in any order, into each rule's disjoint
/// windows, sorted by rule and start.
pub(super) fn merge(mut windows: Vec<(usize, Range<usize>)>) -> Vec<SpanWindow> {
    windows.sort_unstable_by_key(|(rule, w)| (*rule, w.start, w.end));
    let mut merged: Vec<SpanWindow> = Vec::new();
    for (rule, window) in windows {
        match merged.last_mut() {
            Some(last) if last.rule == rule && window.start <= last.range.end => {
                last.range.end = last.range.end.max(window.end);
            }
            _ => merged.push(SpanWindow {
                rule,
                range: window,
            }),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_come_out_by_start() {
        let automaton = aho_corasick::AhoCorasick::new(["abcdef", "cd", "bcdefgh", "f"]).unwrap();
        let text = b"xxabcdefghxx abcdefgh";
        let hits = automaton.find_overlapping_iter(&text[..]);
        let ordered: Vec<_> = ByStart::new(hits, 7).collect();
        let mut sorted = ordered.clone();
        sorted.sort();
        assert_eq!(ordered, sorted);
        assert_eq!(ordered.len(), 8);
    }

    #[test]
    fn each_line_is_found_once_and_right() {
        let text = b"one\ntwo two\n\nthree";
        let mut lines = Lines::new(text, 0);
        assert_eq!(lines.around(0, 3), 0..3);
        assert_eq!(lines.around(4, 7), 4..11);
        assert_eq!(lines.around(8, 11), 4..11);
        assert_eq!(lines.around(13, 18), 13..18);
        let mut lines = Lines::new(text, 0);
        assert_eq!(lines.around(8, 11), 4..11);
        assert_eq!(lines.around(0, 3), 0..3);
    }

    #[test]
    fn windows_of_one_rule_merge_when_they_touch() {
        let merged = merge(vec![
            (1, 5..9),
            (0, 0..4),
            (1, 0..5),
            (0, 5..6),
            (1, 20..30),
        ]);
        let got: Vec<_> = merged.into_iter().map(|w| (w.rule, w.range)).collect();
        assert_eq!(got, vec![(0, 0..4), (0, 5..6), (1, 0..9), (1, 20..30)]);
    }

    /// A run of `rule`'s keywords at least `len` bytes long and four of its
    /// windows: half of it on one line, half one run a line.
    fn dense_block(rule: &Rule, len: usize) -> String {
        let run: String = rule.keywords.iter().map(|k| format!("{k} ")).collect();
        let len = len.max(4 * rule.window);
        let mut block = String::new();
        while block.len() < len {
            block.push_str(&run);
            if block.len() > len / 2 {
                block.push('\n');
            }
        }
        block
    }

    /// Issue 13: text dense with a rule's keywords costs that rule's regex at
    /// most two passes over the text (the match filter, then the capture
    /// pass), however many keywords there are; and text dense with every
    /// rule's keywords costs all the rules together a small multiple of its
    /// size. Reading each hit's window on its own made the work grow with
    /// the density: `secret secret ...` read each byte about 600 times.
    #[test]
    fn keyword_dense_text_is_read_a_bounded_number_of_times() {
        let rules = crate::rules::RuleSet::load(&crate::rules::RuleSources {
            builtin: true,
            paths: Vec::new(),
            config: None,
        })
        .unwrap();
        let blocks: Vec<String> = rules.rules.iter().map(|r| dense_block(r, 8192)).collect();
        let all: Vec<String> = rules
            .rules
            .iter()
            .flat_map(|r| r.keywords.iter().cloned())
            .collect();
        let engine = super::super::Engine::new(rules).unwrap();
        let rules = &engine.rules().rules;
        let ratio = |bytes: u64, n: usize| bytes as f64 / n as f64;
        // Each rule on its own block.
        let mut over = Vec::new();
        for (index, (rule, block)) in rules.iter().zip(&blocks).enumerate() {
            let read = engine.regex_bytes_by_rule(block.as_bytes())[index];
            if read > 2 * block.len() as u64 || read == 0 {
                over.push(format!("{}: {:.1}x", rule.id, ratio(read, block.len())));
            }
        }
        assert!(
            over.is_empty(),
            "rules reading their dense block more than twice (or not at all): {over:?}"
        );
        // Every block, then every keyword on one line, then one a line.
        let text = format!("{}\n{}\n{}", blocks.concat(), all.join(" "), all.join("\n"));
        let by_rule = engine.regex_bytes_by_rule(text.as_bytes());
        let n = text.len() as u64;
        let over: Vec<String> = by_rule
            .iter()
            .zip(rules)
            .filter(|(bytes, _)| **bytes > 2 * n)
            .map(|(bytes, rule)| format!("{}: {:.1}x", rule.id, ratio(*bytes, text.len())))
            .collect();
        assert!(
            over.is_empty(),
            "rules reading the {n}-byte text more than twice: {over:?}"
        );
        let total: u64 = by_rule.iter().sum();
        assert_eq!(total, engine.scan_full(text.as_bytes()).regex_bytes);
        assert!(
            total <= 8 * n,
            "all rules together read the {n}-byte text {:.1} times",
            ratio(total, text.len())
        );
    }
}
