//! What a new version of a file shares with an earlier one, in the terms the
//! engine needs to rescan only the difference.
//!
//! Why: a repository's history stores most versions of a file as a delta
//! against another version, and most of every delta is "copy these bytes
//! from the base". A line that a single copy carries over whole, with its
//! line breaks, is the same line in both versions, so every line rule gives
//! the same matches on it; a span rule's merged window carried over whole,
//! and merged the same way in both versions, gives the same matches too.
//! Scanning only the rest turns a history audit from
//! "every byte of every version" into "every byte anyone ever wrote".

use std::ops::Range;

use super::Match;

/// One copy instruction of a delta: `len` bytes of the base at `base`
/// become the bytes of the new version at `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copy {
    /// Where the bytes land in the new version.
    pub target: usize,
    /// Where they come from in the base.
    pub base: usize,
    /// How many bytes.
    pub len: usize,
}

/// A run of whole lines of the new version that is, byte for byte and line
/// break for line break, a run of whole lines of the base.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    /// The lines in the new version, from a line start to just after a line
    /// break (or to the end of the text).
    target: Range<usize>,
    /// Where they start in the base.
    base: usize,
}

impl Segment {
    fn base_range(&self) -> Range<usize> {
        self.base..self.base + self.target.len()
    }
}

/// How a new version reuses its base: the lines carried over whole, and
/// everything else, which must be read again.
#[derive(Debug, Clone)]
pub struct Reuse {
    segments: Vec<Segment>,
    target_len: usize,
    base_len: usize,
}

impl Reuse {
    /// Works out the reused lines from the copies that built `target` out of
    /// `base`. Copies must be in target order and within both texts; any
    /// that are not are simply not reused.
    pub fn new(target: &[u8], base: &[u8], copies: &[Copy]) -> Reuse {
        let mut segments: Vec<Segment> = Vec::new();
        for copy in copies {
            let (t, b, n) = (copy.target, copy.base, copy.len);
            let (Some(t_end), Some(b_end)) = (t.checked_add(n), b.checked_add(n)) else {
                continue;
            };
            if n == 0 || t_end > target.len() || b_end > base.len() {
                continue;
            }
            // The first whole line inside the copy: at its start if both
            // texts have a line start there, else after its first line break.
            let starts_line = |text: &[u8], at: usize| at == 0 || text[at - 1] == b'\n';
            let first = if starts_line(target, t) && starts_line(base, b) {
                t
            } else {
                match memchr::memchr(b'\n', &target[t..t_end]) {
                    Some(i) => t + i + 1,
                    None => continue,
                }
            };
            // The end of the last whole line: after the copy's last line
            // break, or the copy's end if it ends both texts.
            let last = if t_end == target.len() && b_end == base.len() {
                t_end
            } else {
                match memchr::memrchr(b'\n', &target[first..t_end]) {
                    Some(i) => first + i + 1,
                    None => continue,
                }
            };
            if first >= last {
                continue;
            }
            let base_first = b + (first - t);
            match segments.last_mut() {
                // Copies that continue each other in both texts are one run.
                Some(prev)
                    if prev.target.end == first && prev.base + prev.target.len() == base_first =>
                {
                    prev.target.end = last;
                }
                _ => segments.push(Segment {
                    target: first..last,
                    base: base_first,
                }),
            }
        }
        Reuse {
            segments,
            target_len: target.len(),
            base_len: base.len(),
        }
    }

    /// Bytes of the new version that are reused lines.
    pub fn reused_bytes(&self) -> usize {
        self.segments.iter().map(|s| s.target.len()).sum()
    }

    /// For each of `ranges` (of the base), every segment whose base range
    /// holds all of it (a block of the base may be copied to several
    /// places), as `(index in ranges, segment)`. One sweep over both sorted
    /// by base start: about the number of ranges plus segments, not their
    /// product, however many keywords a file holds.
    fn holders<'a>(&'a self, ranges: &[Range<usize>]) -> Vec<(usize, &'a Segment)> {
        let mut order: Vec<usize> = (0..ranges.len()).collect();
        order.sort_unstable_by_key(|&i| ranges[i].start);
        let mut by_base: Vec<&Segment> = self.segments.iter().collect();
        by_base.sort_unstable_by_key(|s| s.base);
        let mut next = 0;
        // Segments starting at or before the current range and not ending
        // before it: those that may hold it or a later one.
        let mut open: Vec<&Segment> = Vec::new();
        let mut held = Vec::new();
        for i in order {
            let range = &ranges[i];
            while let Some(&segment) = by_base.get(next)
                && segment.base <= range.start
            {
                open.push(segment);
                next += 1;
            }
            open.retain(|s| s.base_range().end >= range.start);
            held.extend(
                open.iter()
                    .filter(|s| range.end <= s.base_range().end)
                    .map(|&s| (i, s)),
            );
        }
        held
    }

    /// The segment whose target range holds all of `range`.
    fn segment_in_target(&self, range: &Range<usize>) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.target.end < range.end);
        self.segments
            .get(i)
            .filter(|s| s.target.start <= range.start && range.end <= s.target.end)
    }

    /// The base's matches moved to every place the new version carries their
    /// windows to; none for a match whose window is not carried over whole
    /// (then the new version finds it again, or not, by rescanning). A span
    /// rule's window (`line_bounded` false for its rule) that touches either
    /// end of the text is never carried: there the window is cut short, and
    /// the same keyword sees a different window in the other version.
    pub fn carry(&self, matches: &[Match], line_bounded: impl Fn(usize) -> bool) -> Vec<Match> {
        let windows: Vec<Range<usize>> = matches.iter().map(|m| m.window.clone()).collect();
        let mut carried = Vec::new();
        for (i, segment) in self.holders(&windows) {
            let m = &matches[i];
            let shift = |r: &Range<usize>| {
                r.start - segment.base + segment.target.start
                    ..r.end - segment.base + segment.target.start
            };
            let moved = shift(&m.window);
            let clipped = |r: &Range<usize>, len: usize| r.start == 0 || r.end >= len;
            if !line_bounded(m.rule)
                && (clipped(&m.window, self.base_len) || clipped(&moved, self.target_len))
            {
                continue;
            }
            carried.push(Match {
                span: shift(&m.span),
                secret_span: shift(&m.secret_span),
                window: moved,
                ..m.clone()
            });
        }
        carried
    }

    /// Every place in the new version each of the base's byte `ranges` is
    /// carried to, as `(index in ranges, where)`.
    pub fn carry_ranges(&self, ranges: &[Range<usize>]) -> Vec<(usize, Range<usize>)> {
        self.holders(ranges)
            .into_iter()
            .map(|(i, s)| {
                let start = ranges[i].start - s.base + s.target.start;
                (i, start..start + ranges[i].len())
            })
            .collect()
    }

    /// Where in the base a span rule's window of the new version was
    /// carried over whole from, if it was: then the base's matches in that
    /// window are what [`Reuse::carry`] brought. A window touching either end
    /// of either text is never carried (see [`Reuse::carry`]).
    pub fn carried_from(&self, window: &Range<usize>) -> Option<Range<usize>> {
        if window.start == 0 || window.end >= self.target_len {
            return None;
        }
        let segment = self.segment_in_target(window)?;
        let base_start = window.start - segment.target.start + segment.base;
        let base_end = base_start + window.len();
        debug_assert!(segment.base_range().contains(&base_start));
        (base_start > 0 && base_end < self.base_len).then_some(base_start..base_end)
    }

    /// The whole lines of the new version that are not reused: what the line
    /// rules must read.
    pub fn dirty_lines(&self) -> Vec<Range<usize>> {
        let mut dirty = Vec::new();
        let mut at = 0;
        for segment in &self.segments {
            if segment.target.start > at {
                dirty.push(at..segment.target.start);
            }
            at = segment.target.end;
        }
        if at < self.target_len {
            dirty.push(at..self.target_len);
        }
        dirty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(target: usize, base: usize, len: usize) -> Copy {
        Copy { target, base, len }
    }

    #[test]
    fn whole_lines_of_a_copy_are_reused() {
        let base = b"one\ntwo\nthree\n";
        let target = b"zero\none\ntwo\nthree\n";
        // "zero\n" inserted, the rest copied.
        let reuse = Reuse::new(target, base, &[copy(5, 0, 14)]);
        assert_eq!(reuse.dirty_lines(), vec![0..5]);
        assert_eq!(reuse.reused_bytes(), 14);
    }

    #[test]
    fn a_copy_that_starts_mid_line_reuses_from_the_next_line() {
        let base = b"abc=1\ndef=2\n";
        let target = b"xyz=1\ndef=2\n";
        // "xyz" inserted, "=1\ndef=2\n" copied from offset 3.
        let reuse = Reuse::new(target, base, &[copy(3, 3, 9)]);
        assert_eq!(reuse.dirty_lines(), vec![0..6]);
    }

    #[test]
    fn a_line_whose_break_differs_is_not_reused() {
        // The copy carries "b\n" but in the base "b" ended the text without a
        // line break after... here the base line is "ab", not "b".
        let base = b"ab\n";
        let target = b"b\n";
        let reuse = Reuse::new(target, base, &[copy(0, 1, 2)]);
        assert_eq!(reuse.dirty_lines(), vec![0..2]);
    }

    #[test]
    fn the_last_line_without_a_break_is_reused_only_at_both_ends() {
        let base = b"a\nlast";
        let target = b"b\nlast";
        let reuse = Reuse::new(target, base, &[copy(2, 2, 4)]);
        assert_eq!(reuse.dirty_lines(), vec![0..2]);
        let longer_base = b"a\nlast line";
        let reuse = Reuse::new(target, longer_base, &[copy(2, 2, 4)]);
        assert_eq!(reuse.dirty_lines(), vec![0..6]);
    }

    #[test]
    fn contiguous_copies_merge_and_moved_lines_are_reused() {
        let base = b"1\n2\n3\n4\n";
        let reuse = Reuse::new(base, base, &[copy(0, 0, 4), copy(4, 4, 4)]);
        assert_eq!(reuse.segments.len(), 1);
        assert!(reuse.dirty_lines().is_empty());
        // Lines moved around are still whole lines of the base.
        let moved = b"3\n4\n1\n2\n";
        let reuse = Reuse::new(moved, base, &[copy(0, 4, 4), copy(4, 0, 4)]);
        assert_eq!(reuse.segments.len(), 2);
        assert!(reuse.dirty_lines().is_empty());
        assert_eq!(
            reuse.carry_ranges(&[0..1, 4..6]),
            vec![(0, 4..5), (1, 0..2)]
        );
    }

    #[test]
    fn bad_copies_are_ignored() {
        let reuse = Reuse::new(
            b"abc\n",
            b"abc\n",
            &[copy(2, 0, 10), copy(usize::MAX, 0, 2)],
        );
        assert_eq!(reuse.dirty_lines(), vec![0..4]);
    }

    /// A small deterministic generator, so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as usize
        }
        fn below(&mut self, n: usize) -> usize {
            self.next() % n.max(1)
        }
    }

    /// Builds a new version out of pieces of `base` (copies of up to
    /// `max_copy` bytes, some starting or ending mid-line, some moved) and
    /// inserted text (rule examples, filler, bare line breaks), and returns
    /// it with its copies.
    fn edit(
        base: &[u8],
        inserts: &[&[u8]],
        max_copy: usize,
        rng: &mut Rng,
    ) -> (Vec<u8>, Vec<Copy>) {
        let mut target = Vec::new();
        let mut copies = Vec::new();
        let mut at = 0;
        while at < base.len() {
            match rng.below(6) {
                0 => target.extend_from_slice(inserts[rng.below(inserts.len())]),
                1 => target.push(b'\n'),
                2 => at += rng.below(40), // drop a little
                3 if !base.is_empty() => {
                    // A block from anywhere in the base (a move).
                    let start = rng.below(base.len());
                    let len = rng.below(base.len() - start).min(max_copy * 3 / 4) + 1;
                    copies.push(Copy {
                        target: target.len(),
                        base: start,
                        len,
                    });
                    target.extend_from_slice(&base[start..start + len]);
                }
                _ => {
                    let len = rng.below(max_copy).min(base.len() - at) + 1;
                    let len = len.min(base.len() - at);
                    copies.push(Copy {
                        target: target.len(),
                        base: at,
                        len,
                    });
                    target.extend_from_slice(&base[at..at + len]);
                    at += len;
                }
            }
        }
        (target, copies)
    }

    /// Every rule's examples and negative examples, one a line, and the
    /// engine over the built-in rules.
    fn examples_and_engine() -> (Vec<Vec<u8>>, crate::engine::Engine) {
        let rules = crate::rules::RuleSet::load(&crate::rules::RuleSources {
            builtin: true,
            paths: Vec::new(),
            config: None,
        })
        .unwrap();
        let examples = rules
            .rules
            .iter()
            .flat_map(|r| r.examples.iter().chain(&r.negative_examples))
            .map(|e| format!("{e}\n").into_bytes())
            .collect();
        (examples, crate::engine::Engine::new(rules).unwrap())
    }

    /// What the chains of versions reused: bytes of lines, and merged span
    /// windows whose matches were carried over instead of read again.
    #[derive(Debug, Default)]
    struct Reached {
        bytes: usize,
        span_windows: usize,
    }

    /// Chains of versions, each a random edit of the one before (copies of
    /// up to `max_copy` bytes), each base a run of `pieces` inserts: checks
    /// that every delta scan gives the full scan's matches.
    fn check_chains(
        engine: &crate::engine::Engine,
        inserts: &[&[u8]],
        (rounds, pieces, max_copy): (usize, usize, usize),
        rng: &mut Rng,
    ) -> Reached {
        let sorted = |mut v: Vec<crate::engine::Match>| {
            v.sort_by(|a, b| {
                (a.rule, a.span.start, a.span.end, &a.secret, a.allowed).cmp(&(
                    b.rule,
                    b.span.start,
                    b.span.end,
                    &b.secret,
                    b.allowed,
                ))
            });
            v.into_iter()
                .map(|m| (m.rule, m.span, m.secret_span, m.secret, m.allowed))
                .collect::<Vec<_>>()
        };
        let mut reached = Reached::default();
        for round in 0..rounds {
            // A base: a run of examples and filler.
            let mut base = Vec::new();
            for _ in 0..pieces {
                base.extend_from_slice(inserts[rng.below(inserts.len())]);
            }
            let mut version = base;
            let mut state = engine.scan_full(&version).reusable;
            // A chain of versions, each a delta of the one before.
            for step in 0..4 {
                let (next, copies) = edit(&version, inserts, max_copy, rng);
                let reuse = Reuse::new(&next, &version, &copies);
                reached.bytes += reuse.reused_bytes();
                let delta = engine.scan_delta(&next, &state, &reuse);
                let full = engine.scan_full(&next);
                reached.span_windows += full
                    .reusable
                    .span_windows
                    .iter()
                    .filter(|w| {
                        reuse.carried_from(&w.range).is_some_and(|from| {
                            state
                                .span_windows
                                .iter()
                                .any(|b| b.rule == w.rule && b.range == from)
                        })
                    })
                    .count();
                assert_eq!(
                    delta.reusable.span_windows, full.reusable.span_windows,
                    "round {round} step {step}: merged span windows differ"
                );
                // What the next version inherits is the full scan's too.
                let raw = |mut v: Vec<crate::engine::Match>| {
                    v.sort_by_key(|m| (m.rule, m.span.start, m.span.end, m.window.start));
                    v
                };
                assert!(
                    raw(delta.reusable.matches.clone()) == raw(full.reusable.matches.clone()),
                    "round {round} step {step}: the matches a later version inherits differ"
                );
                let (got, want) = (sorted(delta.matches), sorted(full.matches));
                let missing: Vec<_> = want.iter().filter(|m| !got.contains(m)).collect();
                let extra: Vec<_> = got.iter().filter(|m| !want.contains(m)).collect();
                let show = |m: &&(usize, Range<usize>, Range<usize>, Vec<u8>, bool)| {
                    let id = &engine.rules().rules[m.0].id;
                    let at = &next[m.1.clone()];
                    format!("{id} at {:?}: {:?}", m.1, String::from_utf8_lossy(at))
                };
                assert!(
                    missing.is_empty() && extra.is_empty(),
                    "round {round} step {step}: delta scan differs from full scan\nmissing: {:#?}\nextra: {:#?}\nsegments: {:?}",
                    missing.iter().map(show).collect::<Vec<_>>(),
                    extra.iter().map(show).collect::<Vec<_>>(),
                    reuse.segments,
                );
                state = delta.reusable;
                version = next;
            }
        }
        reached
    }

    /// The promise of [`Reuse`]: a delta scan gives exactly the matches a
    /// full scan of the new version gives, over random edits of texts full
    /// of every rule's examples.
    #[test]
    fn delta_scans_equal_full_scans() {
        let (mut inserts, engine) = examples_and_engine();
        inserts.push(b"  filler line with the word secret and private\n".to_vec());
        inserts.push(b"x = 1; ".to_vec());
        // Base64 containers, whole and cut, so edits join and split them.
        use base64::Engine as _;
        let key: String = (0..93u32)
            .map(|i| {
                char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789"[(i * 7 % 46) as usize])
            })
            .collect();
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("ANTHROPIC_API_KEY=sk-ant-api03-{key}AA"));
        // Many times over: among every rule's examples, they would be rare.
        for _ in 0..inserts.len() / 40 {
            inserts.push(format!("tls_key_data: {encoded}\n").into_bytes());
            inserts.push(format!("src=\"data:text/plain;base64,{encoded}\"\n").into_bytes());
            inserts.push(b"signingKeyBase64: ".to_vec());
            inserts.push(format!("{encoded}\n").into_bytes());
        }
        let inserts: Vec<&[u8]> = inserts.iter().map(|v| v.as_slice()).collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let reached = check_chains(&engine, &inserts, (40, 40, 400), &mut rng);
        assert!(
            reached.bytes > 0,
            "the edits reused nothing: the test tests nothing"
        );
    }

    /// The same promise where span rules' merged windows are carried over
    /// (long copies, keywords spread out by filler) and where edits grow,
    /// split and join them (lines dense with span rules' keywords).
    #[test]
    fn delta_scans_equal_full_scans_across_span_windows() {
        let (mut inserts, engine) = examples_and_engine();
        let filler = "plain prose without any of the words the rules look for\n".repeat(12);
        for _ in 0..inserts.len() / 2 {
            inserts.push(filler.clone().into_bytes());
        }
        inserts.push(b"twilio twilio auth_token machine vapi passphrase private secret\n".to_vec());
        inserts.push(b"AKIA twilio ".to_vec());
        let inserts: Vec<&[u8]> = inserts.iter().map(|v| v.as_slice()).collect();
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let reached = check_chains(&engine, &inserts, (10, 120, 8000), &mut rng);
        assert!(
            reached.span_windows > 0,
            "no merged span window was carried over: the test tests nothing"
        );
    }
}
