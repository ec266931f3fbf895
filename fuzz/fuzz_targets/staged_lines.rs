//! The staged-diff line mapping: `pipeline::staged_added_lines`, a histogram
//! line diff (`sources::staged::added_lines`) of HEAD's content against the
//! staged content, both as the engine reads them (UTF-16 transcoded). The
//! input's first two bytes (little-endian, modulo the rest's length + 1) say
//! where the rest splits into old and new content.
//!
//! Invariants: no panic; one flag per line of new content as findings number
//! lines (in the text the engine scans); the lines not marked added appear in
//! old, in order (a diff only keeps what both sides have); identical content
//! adds nothing, empty old content makes every line added; `touches` agrees
//! with the flags.

#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use secretgate::engine::text::{Prepared, prepare};
use secretgate::pipeline::staged_added_lines;
use secretgate::sources::staged::AddedLines;

/// The text findings are numbered in.
fn scanned(blob: &[u8]) -> Cow<'_, [u8]> {
    match prepare(blob) {
        Prepared::Text { text, .. } => text,
        Prepared::Binary => Cow::Borrowed(blob),
    }
}

/// Lines as finding line numbers count them: split after each `\n`; a last
/// line without one counts, an empty tail does not.
fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split_inclusive(|&b| b == b'\n').collect()
}

fuzz_target!(|data: &[u8]| {
    let (head, rest) = data.split_at(data.len().min(2));
    let mut split = [0u8; 2];
    split[..head.len()].copy_from_slice(head);
    let at = usize::from(u16::from_le_bytes(split)) % (rest.len() + 1);
    let (old, new) = rest.split_at(at);

    let AddedLines::Some(flags) = staged_added_lines(old, new) else {
        panic!("added lines of two contents must be per line");
    };
    let (old_text, new_text) = (scanned(old), scanned(new));
    let old_lines = lines(&old_text);
    let new_lines = lines(&new_text);
    assert_eq!(flags.len(), new_lines.len(), "one flag per line of new content");

    // Kept lines of new form a subsequence of old's lines.
    let mut remaining = old_lines.iter();
    for (line, _) in new_lines.iter().zip(&flags).filter(|(_, added)| !**added) {
        assert!(
            remaining.any(|old_line| old_line == line),
            "kept line {line:?} is not in old content in order"
        );
    }
    if old_text == new_text {
        assert!(flags.iter().all(|added| !added), "identical content added lines");
    }
    if old_text.is_empty() {
        assert!(flags.iter().all(|added| *added), "lines added to empty content not marked");
    }

    let added = AddedLines::Some(flags.clone());
    for (index, &flag) in flags.iter().enumerate() {
        assert_eq!(added.touches(index + 1, index + 1), flag);
    }
    let beyond = flags.len() + 1;
    assert!(!added.touches(beyond, beyond + 2), "a line past the end is added");
    assert_eq!(added.touches(1, flags.len()), flags.iter().any(|&f| f));
});
