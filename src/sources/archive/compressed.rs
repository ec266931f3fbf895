//! Single compressed streams: gzip, bzip2, xz, zstd. What comes out is a
//! tar (read entry by entry, its files listed directly under the compressed
//! file: `backup.tgz!config/.env`) or one file, named after the compressed
//! one without its extension (`dump.sql.gz!dump.sql`).

use std::io::{Cursor, Read};

use super::{Kind, Walk, is_tar};
use crate::sources::SkipReason;

/// The largest window a stream may ask the decoder to hold (xz and zstd
/// declare theirs; bzip2's is at most 900 kB, gzip's 32 KiB): what the
/// highest standard levels use. A larger one is refused, not allocated.
const MAX_WINDOW: u64 = 128 << 20;

/// Reads the compressed stream `data` (of `kind`), found as `name`, at
/// level `depth`.
pub(super) fn walk(walk: &mut Walk<'_>, kind: Kind, name: &str, data: &[u8], depth: u32) {
    let decoder: Box<dyn Read + '_> = match kind {
        Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
        Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(data)),
        Kind::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
            data,
            true,
            (MAX_WINDOW >> 10) as u32,
        )),
        Kind::Zstd => {
            match ruzstd::decoding::StreamingDecoder::new_with_max_window_size(data, MAX_WINDOW) {
                Ok(decoder) => Box::new(decoder),
                Err(err) => {
                    walk.skip(
                        "",
                        SkipReason::CorruptArchive,
                        format!("not a readable zstd stream: {err}"),
                    );
                    return;
                }
            }
        }
        Kind::Zip | Kind::Tar => return,
    };
    let meter = walk.meter;
    let mut stream = meter.wrap(decoder, data.len() as u64);
    // Enough of the content to tell a tar.
    let mut head = Vec::with_capacity(512);
    let peeked = (&mut stream).take(512).read_to_end(&mut head);
    let inner = inner_name(name, kind);
    if peeked.is_ok() && is_tar(&head) {
        super::tar::walk(walk, Cursor::new(head).chain(stream), depth);
    } else {
        let rest = Cursor::new(head).chain(stream);
        let outcome = match peeked {
            Ok(_) => walk.read(rest, None),
            Err(err) if meter.limit_hit() => {
                let _ = err;
                super::Outcome::Stopped(Vec::new())
            }
            Err(err) => super::Outcome::Broken(err.to_string(), Vec::new()),
        };
        walk.outcome(&inner, outcome, depth, false);
    }
    meter.clear_ratio();
}

/// What a compressed file's content is called: its name without the
/// compression extension (`.tgz` and the like become `.tar`).
fn inner_name(name: &str, kind: Kind) -> String {
    let lower = name.to_ascii_lowercase();
    let to_tar: &[&str] = &[".tgz", ".taz", ".tbz", ".tbz2", ".tb2", ".txz", ".tzst"];
    for ext in to_tar {
        if lower.ends_with(ext) && lower.len() > ext.len() {
            return format!("{}.tar", &name[..name.len() - ext.len()]);
        }
    }
    let exts: &[&str] = match kind {
        Kind::Gzip => &[".gz", ".gzip", ".z"],
        Kind::Bzip2 => &[".bz2", ".bzip2", ".bz"],
        Kind::Xz => &[".xz"],
        Kind::Zstd => &[".zst", ".zstd"],
        Kind::Zip | Kind::Tar => &[],
    };
    for ext in exts {
        if lower.ends_with(ext) && lower.len() > ext.len() {
            return name[..name.len() - ext.len()].to_string();
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_files_are_named_without_their_extension() {
        assert_eq!(inner_name("dump.sql.gz", Kind::Gzip), "dump.sql");
        assert_eq!(inner_name("Backup.TGZ", Kind::Gzip), "Backup.tar");
        assert_eq!(inner_name("notes.txt.zst", Kind::Zstd), "notes.txt");
        assert_eq!(inner_name("data", Kind::Xz), "data");
        assert_eq!(inner_name(".gz", Kind::Gzip), ".gz");
    }
}
