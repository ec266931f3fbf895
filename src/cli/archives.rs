//! The flags that bound reading inside archives.

use clap::Args;

/// How archives and compressed files are opened; shared by every command
/// that scans (see README, "Archives and compressed files").
#[derive(Debug, Args, Clone)]
pub struct ArchiveArgs {
    /// Open archives and compressed files (zip, jar, docx, tar, gz, bz2, xz,
    /// zst) nested down to this many levels; 0 opens none.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_archive_depth: u32,
    /// Stop reading an archive after this many decompressed bytes, nested
    /// archives included (counted as a skip, `archive_bytes_limit`).
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_archive_bytes: u64,
}

impl ArchiveArgs {
    /// The limits these flags set; a file inside an archive larger than
    /// `max_file_size` is skipped as a file on disk is.
    pub fn limits(&self, max_file_size: u64) -> crate::sources::archive::Limits {
        crate::sources::archive::Limits {
            max_depth: self.max_archive_depth,
            max_bytes: self.max_archive_bytes,
            max_entry_size: max_file_size,
            ..Default::default()
        }
    }
}
