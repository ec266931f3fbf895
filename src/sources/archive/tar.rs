//! Tar archives, plain or inside a compressed stream (`.tar.gz`, `.tgz`,
//! `.tar.xz`...), read entry by entry as the stream goes.

use std::io::Read;

use super::{Walk, entry_name};
use crate::sources::SkipReason;

/// Reads every regular file of the tar archive `reader`, at level `depth`.
/// Directories, links and devices hold no content of their own.
pub(super) fn walk(walk: &mut Walk<'_>, reader: impl Read, depth: u32) {
    let mut archive = ::tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(err) => {
            walk.skip(
                "",
                SkipReason::CorruptArchive,
                format!("not a readable tar archive: {err}"),
            );
            return;
        }
    };
    // An entry skipped as too large whose data runs past the end (a header
    // that claims 64 GiB, as test fixtures do): the end is no damage, there
    // was nothing more to read.
    let mut skipped_large = false;
    for entry in entries {
        if walk.stopped() {
            return;
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                if walk.meter.limit_hit() {
                    walk.limit_stop("");
                } else if skipped_large
                    && (err.kind() == std::io::ErrorKind::UnexpectedEof
                        || err.to_string().contains("unexpected EOF"))
                {
                    // Counted already, as `too_large`.
                } else {
                    walk.skip(
                        "",
                        SkipReason::CorruptArchive,
                        format!("damaged tar archive: {err}"),
                    );
                }
                return;
            }
        };
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse()) {
            continue;
        }
        let name = entry_name(&entry.path_bytes());
        if !walk.count_entry(&name) {
            return;
        }
        let size = entry.size();
        skipped_large = false;
        let cap = walk.meter.limits.max_entry_size;
        if cap > 0 && size > cap {
            walk.skip(
                &name,
                SkipReason::TooLarge,
                format!("{size} bytes > --max-file-size {cap}"),
            );
            skipped_large = true;
            continue;
        }
        // Stored as it is: counted already if a stream decompressed it.
        let outcome = walk.read(entry, None);
        walk.outcome(&name, outcome, depth, false);
    }
}
