//! One secret, one finding: when several rules match the same secret, the
//! most specific one reports it.

use std::collections::HashSet;
use std::ops::Range;

use super::Match;
use crate::rules::Rule;

/// How specific a rule is: a match yields to an overlapping match of a
/// more specific rule. Provider rules (a documented prefix) beat format
/// families (any JWT, any private-key armour), which beat generic rules (a
/// value found by the name it is assigned to).
fn specificity(rule: &Rule) -> u8 {
    if rule.generic {
        0
    } else if rule.family {
        1
    } else {
        2
    }
}

/// One secret, one finding: drops exact duplicates, and matches whose
/// secret overlaps the secret of a more specific rule (see [`specificity`]).
pub(super) fn resolve_overlaps(matches: &mut Vec<Match>, rules: &[Rule]) {
    if matches.len() < 2 {
        return;
    }
    // Sorted on everything that tells duplicates apart, so which duplicate
    // is kept does not depend on the order the matches were found in (a
    // delta scan finds them in another order than a full scan).
    matches.sort_by(|a, b| {
        (
            a.secret_span.start,
            a.secret_span.end,
            a.rule,
            a.span.start,
            a.span.end,
            &a.secret,
        )
            .cmp(&(
                b.secret_span.start,
                b.secret_span.end,
                b.rule,
                b.span.start,
                b.span.end,
                &b.secret,
            ))
    });
    let mut seen = HashSet::new();
    matches.retain(|m| seen.insert((m.rule, m.secret_span.clone(), m.secret.clone())));
    // Most specific first: a family match that a provider match removed
    // no longer removes a generic one.
    for level in [1, 0] {
        drop_overlapped(matches, rules, level);
    }
}

/// Drops the matches of `level` whose secret overlaps the secret of a
/// match more specific than it. Those secrets sorted by start, with the
/// largest end seen so far: a secret overlaps one of them iff, among those
/// starting before its end, the largest end is past its start. Binary
/// search keeps a line with thousands of matches linear-logarithmic, not
/// quadratic.
fn drop_overlapped(matches: &mut Vec<Match>, rules: &[Rule], level: u8) {
    let mut above: Vec<Range<usize>> = matches
        .iter()
        .filter(|m| specificity(&rules[m.rule]) > level)
        .map(|m| m.secret_span.clone())
        .collect();
    if above.is_empty() {
        return;
    }
    above.sort_by_key(|s| s.start);
    let max_end: Vec<usize> = above
        .iter()
        .scan(0, |max, s| {
            *max = (*max).max(s.end);
            Some(*max)
        })
        .collect();
    matches.retain(|m| {
        if specificity(&rules[m.rule]) != level {
            return true;
        }
        let before = above.partition_point(|s| s.start < m.secret_span.end);
        before == 0 || max_end[before - 1] <= m.secret_span.start
    });
}
