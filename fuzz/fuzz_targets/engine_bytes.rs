//! The engine with every built-in rule on arbitrary bytes, through the same
//! entry the scan pipeline uses (`pipeline::scan_blob`), and below it
//! (`Engine::scan`) where byte ranges are visible.
//!
//! Invariants: no panic; every match's ranges lie inside the scanned text,
//! the secret's range inside the match's, and an unencoded secret is exactly
//! its range's bytes; each finding's line and column agree with the byte
//! offsets counted by hand; scanning the same input twice gives the same
//! matches and findings.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use secretgate::engine::Engine;
use secretgate::engine::text::{Prepared, prepare};
use secretgate::finding::{self, FindingKind};
use secretgate::pipeline::scan_blob;
use secretgate::rules::{RuleSet, RuleSources};
use secretgate::sources::Blob;

/// A path no sensitive-file rule flags, so every finding comes from content.
const PATH: &str = "src/settings.txt";

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let sources = RuleSources {
        builtin: true,
        paths: Vec::new(),
        config: None,
    };
    let rules = RuleSet::load(&sources).expect("the built-in rules load (their tests say so)");
    Engine::new(rules).expect("the built-in keyword automaton builds")
});

/// 1-based line and byte column of `offset`, counted the slow, obvious way.
fn position(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, offset - line_start + 1)
}

fuzz_target!(|data: &[u8]| {
    let engine = &*ENGINE;
    let rules = &engine.rules().rules;
    let blob = Blob {
        path: PATH.to_string(),
        data: data.to_vec(),
    };

    let (findings, stats) = scan_blob(engine, &blob);
    let (again, _) = scan_blob(engine, &blob);
    let json = |f: &[finding::Finding]| serde_json::to_string(f).expect("findings serialize");
    assert_eq!(
        json(&findings),
        json(&again),
        "same input, different findings"
    );

    let Prepared::Text { text, .. } = prepare(data) else {
        assert!(
            findings.iter().all(|f| f.kind == FindingKind::File),
            "a binary blob produced a content finding"
        );
        assert_eq!(stats.scanned, 0);
        return;
    };

    let matches = engine.scan(&text);
    assert_eq!(matches, engine.scan(&text), "same text, different matches");
    for m in &matches {
        assert!(m.rule < rules.len());
        assert!(
            m.span.start <= m.span.end && m.span.end <= text.len(),
            "match span {:?} outside text of {} bytes",
            m.span,
            text.len()
        );
        assert!(
            m.span.start <= m.secret_span.start && m.secret_span.end <= m.span.end,
            "secret span {:?} outside match span {:?}",
            m.secret_span,
            m.span
        );
        assert!(
            !m.secret.is_empty(),
            "empty secret for rule {}",
            rules[m.rule].id
        );
        if m.encoding.is_none() {
            assert_eq!(
                m.secret,
                &text[m.secret_span.clone()],
                "secret is not its span"
            );
        }
    }

    // The pipeline reports the matches that no inline marker allowed, in order.
    let total = matches.len();
    let kept: Vec<_> = matches.into_iter().filter(|m| !m.allowed).collect();
    assert_eq!(stats.allowed as usize, total - kept.len());
    let content: Vec<_> = findings
        .iter()
        .filter(|f| f.kind == FindingKind::Secret)
        .collect();
    assert_eq!(
        content.len(),
        kept.len(),
        "findings and kept matches differ in number"
    );
    for (m, f) in kept.iter().zip(content) {
        assert_eq!(f.rule, rules[m.rule].id);
        let (line, column) = position(&text, m.secret_span.start);
        assert_eq!(
            (f.line, f.column),
            (Some(line), Some(column)),
            "start of {m:?}"
        );
        let last = m.secret_span.end.saturating_sub(1).max(m.secret_span.start);
        let (end_line, end_column) = position(&text, last);
        assert_eq!(
            (f.end_line, f.end_column),
            (Some(end_line), Some(end_column + 1)),
            "end of {m:?}"
        );
        assert!(line <= end_line);
        assert_eq!(
            f.matched.as_deref(),
            Some(String::from_utf8_lossy(&text[m.span.clone()]).as_ref())
        );
    }
});
