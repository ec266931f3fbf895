//! The staged-diff line mapping (`sources::staged::added_lines`, a histogram
//! line diff of HEAD's content against the staged content) on arbitrary
//! pairs. The input is split at its first NUL byte into old and new content
//! (at its middle when it has none).
//!
//! Invariants: no panic; one flag per line of new content, numbered as
//! findings number lines; the lines not marked added appear in old, in order
//! (a diff only keeps what both sides have); identical content adds nothing,
//! empty old content makes every line added; `touches` agrees with the flags.

#![no_main]

use libfuzzer_sys::fuzz_target;
use secretgate::sources::staged::{AddedLines, added_lines};

/// Lines as the diff and line numbers see them: split after each `\n`, a
/// last line without one counts, an empty tail does not.
fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split_inclusive(|&b| b == b'\n').collect()
}

fuzz_target!(|data: &[u8]| {
    let (old, new) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => data.split_at(data.len() / 2),
    };
    let AddedLines::Some(flags) = added_lines(old, new) else {
        panic!("added_lines of two contents must be per line");
    };
    let old_lines = lines(old);
    let new_lines = lines(new);
    assert_eq!(
        flags.len(),
        new_lines.len(),
        "one flag per line of new content"
    );

    // Kept lines of new form a subsequence of old's lines.
    let mut rest = old_lines.iter();
    for (line, _) in new_lines.iter().zip(&flags).filter(|(_, added)| !**added) {
        assert!(
            rest.any(|old_line| old_line == line),
            "kept line {line:?} is not in old content in order"
        );
    }
    if old == new {
        assert!(
            flags.iter().all(|added| !added),
            "identical content added lines"
        );
    }
    if old.is_empty() {
        assert!(
            flags.iter().all(|added| *added),
            "new lines of empty old content not added"
        );
    }

    let added = AddedLines::Some(flags.clone());
    for (index, &flag) in flags.iter().enumerate() {
        assert_eq!(added.touches(index + 1, index + 1), flag);
    }
    let beyond = flags.len() + 1;
    assert!(
        !added.touches(beyond, beyond + 2),
        "a line past the end is added"
    );
    assert_eq!(added.touches(1, flags.len()), flags.iter().any(|&f| f));
});
