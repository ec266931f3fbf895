//! Inside archives and compressed files: one blob whose magic bytes say zip
//! (and its family: jar, war, apk, whl, nupkg, docx, xlsx, odt...), tar,
//! gzip, bzip2, xz or zstd becomes the files it holds, each named by its
//! path inside (`backup.zip` → `config/.env`), nested archives opened down
//! to [`Limits::max_depth`].
//!
//! Why here, before the engine: histories hold backups (`env-backup.zip`
//! committed once and deleted, a `dump.sql.gz`), and a binary blob is
//! otherwise skipped unread. Everything is read in memory or streamed, never
//! written to disk, so an entry named `../../etc/passwd` is only a name.
//! Every limit that stops a read is reported as a skip with its reason.

mod compressed;
pub mod limits;
mod tar;
mod zip;

use std::io::Read;

pub use limits::{Limits, Meter, RunBudget, Trip};

use super::{SkipReason, path_text};

/// The container formats recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// PKZIP and everything built on it.
    Zip,
    /// POSIX (ustar), GNU or old-style tar.
    Tar,
    /// gzip (`.gz`, `.tgz`).
    Gzip,
    /// bzip2.
    Bzip2,
    /// xz.
    Xz,
    /// Zstandard.
    Zstd,
}

/// The archive format `data` starts with, if any: a few byte comparisons,
/// so ordinary blobs cost nothing.
pub fn sniff(data: &[u8]) -> Option<Kind> {
    let starts = |magic: &[u8]| data.starts_with(magic);
    if starts(b"PK\x03\x04") {
        Some(Kind::Zip)
    } else if starts(b"\x1f\x8b\x08") {
        Some(Kind::Gzip)
    } else if starts(b"\xfd7zXZ\x00") {
        Some(Kind::Xz)
    } else if starts(b"\x28\xb5\x2f\xfd") {
        Some(Kind::Zstd)
    } else if data.len() >= 10
        && starts(b"BZh")
        && (b'1'..=b'9').contains(&data[3])
        && (data[4..10] == *b"\x31\x41\x59\x26\x53\x59"
            || data[4..10] == *b"\x17\x72\x45\x38\x50\x90")
    {
        Some(Kind::Bzip2)
    } else if is_tar(data) {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// Whether `data` starts with a tar header: the `ustar` magic, or (old
/// tars have none) a header checksum that adds up.
pub fn is_tar(data: &[u8]) -> bool {
    let Some(header) = data.get(..512) else {
        return false;
    };
    if &header[257..262] == b"ustar" {
        return true;
    }
    // The checksum field: octal digits, ended by NUL or space; the sum
    // counts the field itself as eight spaces.
    let field = &header[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() || header[0] == 0 {
        return false;
    }
    let Ok(expected) = u32::from_str_radix(&String::from_utf8_lossy(&digits), 8) else {
        return false;
    };
    let sum: u32 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == expected
}

/// What the expansion hands over: files inside, and what it did not read.
pub trait Visitor {
    /// A file inside, by its path below the top-level archive (one element
    /// per archive level), with its content.
    fn entry(&mut self, inner: &[String], data: &[u8]);
    /// Something inside that was not read, and why; `inner` is empty for
    /// the top-level archive itself.
    fn skipped(&mut self, inner: &[String], reason: SkipReason, detail: String);
}

/// Opens the archive `data` (of `kind`, as [`sniff`] says) found at `name`
/// and hands every file inside to `visitor`, nested archives expanded.
pub fn expand(
    name: &str,
    data: &[u8],
    kind: Kind,
    limits: &Limits,
    run: &RunBudget,
    visitor: &mut dyn Visitor,
) {
    let meter = Meter::new(limits, run);
    let mut walk = Walk {
        meter: &meter,
        visitor,
        path: Vec::new(),
        entries: 0,
        full: false,
        reported: false,
    };
    walk.container(kind, file_name(name), data, 1);
}

/// Hands the content of every file inside `data`, if it is an archive, to
/// `found`, for a search that needs no names (`verify`); returns what could
/// not be read, with why, each named by its path inside.
pub fn each_entry(
    data: &[u8],
    limits: &Limits,
    run: &RunBudget,
    found: &mut dyn FnMut(&[u8]),
) -> Vec<(String, SkipReason, String)> {
    struct Each<'f> {
        found: &'f mut dyn FnMut(&[u8]),
        skipped: Vec<(String, SkipReason, String)>,
    }
    impl Visitor for Each<'_> {
        fn entry(&mut self, _inner: &[String], data: &[u8]) {
            (self.found)(data);
        }
        fn skipped(&mut self, inner: &[String], reason: SkipReason, detail: String) {
            self.skipped.push((inner.join("!"), reason, detail));
        }
    }
    let Some(kind) = sniff(data).filter(|_| limits.max_depth > 0) else {
        return Vec::new();
    };
    let mut each = Each {
        found,
        skipped: Vec::new(),
    };
    expand("", data, kind, limits, run, &mut each);
    each.skipped
}

/// The last component of a `/`-separated path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// How reading one entry ended.
enum Outcome {
    /// All of it.
    Whole(Vec<u8>),
    /// More than [`Limits::max_entry_size`].
    TooLarge,
    /// A limit stopped it; what was read before.
    Stopped(Vec<u8>),
    /// The data is damaged; what was read before.
    Broken(String, Vec<u8>),
}

/// One top-level archive being expanded.
struct Walk<'a> {
    meter: &'a Meter<'a>,
    visitor: &'a mut dyn Visitor,
    /// The nested archives we are inside of, below the top level.
    path: Vec<String>,
    /// Entries seen, nested ones included.
    entries: u64,
    /// The entry limit was reached.
    full: bool,
    /// The byte limit's skip was reported.
    reported: bool,
}

impl Walk<'_> {
    /// The path of `name` inside the top-level archive.
    fn inner(&self, name: &str) -> Vec<String> {
        let mut inner = self.path.clone();
        if !name.is_empty() {
            inner.push(name.to_string());
        }
        inner
    }

    fn skip(&mut self, name: &str, reason: SkipReason, detail: String) {
        let inner = self.inner(name);
        self.visitor.skipped(&inner, reason, detail);
    }

    /// Whether nothing more of this archive is to be read.
    fn stopped(&self) -> bool {
        self.full || self.meter.limit_hit()
    }

    /// Counts one more entry; false (and reported) past the limit.
    fn count_entry(&mut self, name: &str) -> bool {
        self.entries += 1;
        if self.entries > self.meter.limits.max_entries {
            self.full = true;
            let max = self.meter.limits.max_entries;
            self.skip(
                name,
                SkipReason::ArchiveEntriesLimit,
                format!(
                    "the archive holds more than {max} entries: this one and the rest were not read"
                ),
            );
            return false;
        }
        true
    }

    /// Reports the limit that stopped a read at `name`: the archive's byte
    /// budget once, or the ratio of one stream.
    fn limit_stop(&mut self, name: &str) {
        let limits = *self.meter.limits;
        match self.meter.tripped() {
            Some(trip) if !self.reported => {
                self.reported = true;
                let detail = match trip {
                    Trip::RunBytes => format!(
                        "the run's archives yielded more than {} decompressed bytes: the rest of this archive and later archives were not read",
                        limits.max_run_bytes
                    ),
                    _ => format!(
                        "the archive yielded more than {} decompressed bytes (--max-archive-bytes): the rest was not read",
                        limits.max_bytes
                    ),
                };
                self.skip(name, trip.reason(), detail);
            }
            Some(_) => {}
            None if self.meter.ratio_tripped() => self.skip(
                name,
                SkipReason::ArchiveRatioLimit,
                format!(
                    "decompresses to more than {} bytes per compressed byte (a zip bomb?): the rest was not read",
                    limits.max_ratio
                ),
            ),
            None => {}
        }
    }

    /// Reads an entry whole, within the limits; `compressed` is its stored
    /// size when its decompression is to be counted here (`None` when its
    /// bytes are counted already, as a tar's inside a gzip are).
    fn read(&self, reader: impl Read, compressed: Option<u64>) -> Outcome {
        let cap = self.meter.limits.max_entry_size;
        let mut data = Vec::new();
        let result = match compressed {
            Some(size) => {
                let mut metered = self.meter.wrap(reader, size.max(1));
                read_capped(&mut metered, cap, &mut data)
            }
            None => read_capped(reader, cap, &mut data),
        };
        match result {
            Ok(()) if cap > 0 && data.len() as u64 > cap => Outcome::TooLarge,
            Ok(()) => Outcome::Whole(data),
            Err(_) if self.meter.limit_hit() => Outcome::Stopped(data),
            Err(err) => Outcome::Broken(err.to_string(), data),
        }
    }

    /// Handles a read entry: scans it, opens it when it is an archive, or
    /// reports why not. `depth` is the level of the archive holding it.
    fn outcome(&mut self, name: &str, outcome: Outcome, depth: u32, owns_ratio: bool) {
        match outcome {
            Outcome::Whole(data) => self.item(name, &data, depth),
            Outcome::TooLarge => {
                let cap = self.meter.limits.max_entry_size;
                self.skip(
                    name,
                    SkipReason::TooLarge,
                    format!("more than {cap} bytes decompressed (--max-file-size)"),
                );
            }
            Outcome::Stopped(partial) => {
                self.limit_stop(name);
                if owns_ratio {
                    self.meter.clear_ratio();
                }
                self.partial(name, &partial);
            }
            Outcome::Broken(err, partial) => {
                self.skip(
                    name,
                    SkipReason::CorruptArchive,
                    format!("damaged archive data: {err}"),
                );
                self.partial(name, &partial);
            }
        }
    }

    /// The start of an entry a limit or damage cut short is still scanned,
    /// unless it is an archive, which cannot be opened cut short.
    fn partial(&mut self, name: &str, data: &[u8]) {
        if !data.is_empty() && sniff(data).is_none() {
            let inner = self.inner(name);
            self.visitor.entry(&inner, data);
        }
    }

    /// One file inside an archive at level `depth`: scanned, or opened when
    /// it is an archive itself and the depth allows.
    fn item(&mut self, name: &str, data: &[u8], depth: u32) {
        match sniff(data) {
            Some(kind) if depth < self.meter.limits.max_depth => {
                self.path.push(name.to_string());
                self.container(kind, name, data, depth + 1);
                self.path.pop();
            }
            Some(_) => {
                let max = self.meter.limits.max_depth;
                self.skip(
                    name,
                    SkipReason::ArchiveDepthLimit,
                    format!("an archive nested deeper than {max} levels (--max-archive-depth): not opened"),
                );
            }
            None => {
                let inner = self.inner(name);
                self.visitor.entry(&inner, data);
            }
        }
    }

    /// Expands one archive at level `depth`; `name` is its file name (what
    /// a compressed file's content is named after).
    fn container(&mut self, kind: Kind, name: &str, data: &[u8], depth: u32) {
        match kind {
            Kind::Zip => zip::walk(self, data, depth),
            Kind::Tar => tar::walk(self, data, depth),
            Kind::Gzip | Kind::Bzip2 | Kind::Xz | Kind::Zstd => {
                compressed::walk(self, kind, name, data, depth)
            }
        }
    }
}

/// Reads `reader` to its end into `data`, at most `cap` + 1 bytes (0: no
/// cap), so a lying size field cannot make it hold more.
fn read_capped(reader: impl Read, cap: u64, data: &mut Vec<u8>) -> std::io::Result<()> {
    let limit = if cap == 0 { u64::MAX } else { cap + 1 };
    reader.take(limit).read_to_end(data).map(|_| ())
}

/// An entry name as text, invalid UTF-8 escaped (see [`path_text`]).
fn entry_name(raw: &[u8]) -> String {
    path_text(raw)
}

#[cfg(test)]
mod tests;
