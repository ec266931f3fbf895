//! Zip archives and their family (jar, war, apk, whl, nupkg, the Office
//! and OpenDocument formats, whose XML parts are read as text).

use std::io::Cursor;

use super::{Walk, entry_name};
use crate::sources::SkipReason;

/// Reads every file entry of the zip archive `data`, at level `depth`.
pub(super) fn walk(walk: &mut Walk<'_>, data: &[u8], depth: u32) {
    let mut archive = match ::zip::ZipArchive::new(Cursor::new(data)) {
        Ok(archive) => archive,
        Err(err) => {
            walk.skip(
                "",
                SkipReason::CorruptArchive,
                format!("not a readable zip archive: {err}"),
            );
            return;
        }
    };
    for index in 0..archive.len() {
        if walk.stopped() {
            return;
        }
        let (name, is_dir, encrypted, size, compressed, method) = match archive.by_index_data(index)
        {
            Ok(entry) => (
                entry_name(entry.name_raw()),
                entry.is_dir(),
                entry.encrypted(),
                entry.size(),
                entry.compressed_size(),
                entry.compression(),
            ),
            Err(err) => {
                walk.skip(
                    &format!("<entry {index}>"),
                    SkipReason::CorruptArchive,
                    format!("unreadable zip entry: {err}"),
                );
                continue;
            }
        };
        if is_dir {
            continue;
        }
        if !walk.count_entry(&name) {
            return;
        }
        if encrypted {
            walk.skip(
                &name,
                SkipReason::EncryptedArchiveEntry,
                "encrypted: its content cannot be read without the password".into(),
            );
            continue;
        }
        // Stored, deflate and bzip2 are what zip tools write; the rest
        // (deflate64, LZMA, zstd, PPMd) would each need one more decoder.
        use ::zip::CompressionMethod as Method;
        if !matches!(method, Method::Stored | Method::Deflated | Method::Bzip2) {
            walk.skip(
                &name,
                SkipReason::UnsupportedArchiveEntry,
                format!("compressed with {method:?}, which is not read here"),
            );
            continue;
        }
        let cap = walk.meter.limits.max_entry_size;
        if cap > 0 && size > cap {
            walk.skip(
                &name,
                SkipReason::TooLarge,
                format!("{size} bytes decompressed > --max-file-size {cap}"),
            );
            continue;
        }
        let outcome = match archive.by_index(index) {
            Ok(file) => walk.read(file, Some(compressed)),
            Err(err) => {
                walk.skip(
                    &name,
                    SkipReason::CorruptArchive,
                    format!("damaged zip entry: {err}"),
                );
                continue;
            }
        };
        walk.outcome(&name, outcome, depth, true);
    }
}
