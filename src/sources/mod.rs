//! Where blobs come from. A source yields [`SourceItem`]s: blobs to scan, or
//! records of what it could not or would not read — never silence, because an
//! unread file is a possible leak nobody looked at.

pub mod archive;
pub mod fs;
pub mod git;
pub mod staged;
pub mod tracked;

use serde::Serialize;

/// One unit of content to scan.
#[derive(Debug)]
pub struct Blob {
    /// Display path, `/`-separated, without a leading `./`.
    pub path: String,
    /// The raw bytes.
    pub data: Vec<u8>,
}

/// A blob's content where it lies: history blobs decoded in a pack walk are
/// scanned in the walk's own buffer, not copied.
#[derive(Debug, Clone, Copy)]
pub struct BlobRef<'a> {
    /// Display path, `/`-separated.
    pub path: &'a str,
    /// The raw bytes.
    pub data: &'a [u8],
}

impl Blob {
    /// This blob, borrowed.
    pub fn as_ref(&self) -> BlobRef<'_> {
        BlobRef {
            path: &self.path,
            data: &self.data,
        }
    }
}

/// One item of git history as the reader hands it over.
#[derive(Debug)]
pub enum GitItem<'a> {
    /// Content to scan.
    Blob(BlobRef<'a>),
    /// Content that was not scanned.
    Skipped(Skipped),
}

/// Why an input was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Content is binary (a NUL byte in its first 8 KiB, no UTF-16 mark).
    Binary,
    /// Larger than `--max-file-size`.
    TooLarge,
    /// A FIFO, socket or device: it has no content to scan.
    NotRegularFile,
    /// It could not be read: permissions, I/O error, vanished mid-scan.
    Unreadable,
    /// A git object that history refers to is not in the repository.
    MissingObject,
    /// A git object could not be decoded: damaged on disk or malformed.
    CorruptObject,
    /// A submodule (gitlink): its content and history live in another
    /// repository, which `history` does not open; scan that one too.
    Submodule,
    /// A symbolic link: the walk does not follow links (their targets are
    /// scanned where they are, if under the scanned paths).
    Symlink,
    /// A `.git` directory or file that is not a git repository: git never
    /// tracks a path named `.git`, and the walk does not read it.
    DotGit,
    /// An archive yielded more decompressed bytes than its limit or the
    /// run's (`--max-archive-bytes`): the rest of it was not read.
    ArchiveBytesLimit,
    /// A compressed entry or stream decompressed far more than real
    /// documents do (a zip bomb): the rest of it was not read.
    ArchiveRatioLimit,
    /// An archive held more entries than its limit: the rest were not read.
    ArchiveEntriesLimit,
    /// An archive nested deeper than `--max-archive-depth`: not opened.
    ArchiveDepthLimit,
    /// An encrypted archive entry: unreadable without its password.
    EncryptedArchiveEntry,
    /// An archive entry stored with a compression method not read here.
    UnsupportedArchiveEntry,
    /// An archive whose magic bytes say it is one, but whose data is
    /// damaged: what could not be read may hold a secret.
    CorruptArchive,
}

impl SkipReason {
    /// Whether this skip means content that may hold a secret went unread, which
    /// makes an otherwise clean run exit 2.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            SkipReason::Unreadable
                | SkipReason::MissingObject
                | SkipReason::CorruptObject
                | SkipReason::CorruptArchive
        )
    }

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too_large",
            SkipReason::NotRegularFile => "not_regular_file",
            SkipReason::Unreadable => "unreadable",
            SkipReason::MissingObject => "missing_object",
            SkipReason::CorruptObject => "corrupt_object",
            SkipReason::Submodule => "submodule",
            SkipReason::Symlink => "symlink",
            SkipReason::DotGit => "dot_git",
            SkipReason::ArchiveBytesLimit => "archive_bytes_limit",
            SkipReason::ArchiveRatioLimit => "archive_ratio_limit",
            SkipReason::ArchiveEntriesLimit => "archive_entries_limit",
            SkipReason::ArchiveDepthLimit => "archive_depth_limit",
            SkipReason::EncryptedArchiveEntry => "encrypted_archive_entry",
            SkipReason::UnsupportedArchiveEntry => "unsupported_archive_entry",
            SkipReason::CorruptArchive => "corrupt_archive",
        }
    }
}

/// An input that was not scanned, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// Display path.
    pub path: String,
    /// Why.
    pub reason: SkipReason,
    /// The underlying error or size, for the person fixing it.
    pub detail: String,
}

/// One piece of a file too large to hold in memory whole: its bytes with
/// context on both sides, and where they sit in the file. Pieces overlap so a
/// secret across a boundary is whole in one of them; each secret belongs to
/// the piece whose `owned` range holds its first byte, so none is reported
/// twice.
#[derive(Debug)]
pub struct Piece {
    /// The file's display path and this piece's bytes.
    pub blob: Blob,
    /// 0 for the file's first piece.
    pub index: u64,
    /// The bytes of `blob.data` this piece answers for; the rest is context.
    pub owned: std::ops::Range<usize>,
    /// Newlines in the file before `blob.data[0]`.
    pub lines_before: usize,
    /// Bytes between the start of the line holding `blob.data[0]` and it.
    pub column_offset: usize,
}

/// What a source hands to the pipeline.
#[derive(Debug)]
pub enum SourceItem {
    /// Content to scan.
    Blob(Blob),
    /// A piece of a file read in bounded memory.
    Piece(Piece),
    /// Content that was not scanned.
    Skipped(Skipped),
}

/// Makes a path printable and stable across platforms: `/`-separated, no `./`,
/// invalid UTF-8 escaped as by [`path_text`].
pub fn display_path(path: &std::path::Path) -> String {
    #[cfg(unix)]
    let text = path_text(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()));
    #[cfg(not(unix))]
    let text = path.to_string_lossy().replace('\\', "/");
    let mut text = text.as_str();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    text.to_string()
}

/// A path's bytes as text without losing any: valid UTF-8 as it is, each
/// byte of an invalid sequence as `\xNN`. Git allows any byte but NUL and `/`
/// in a file name, and a report that turned two names into the same
/// replacement character could not say which file holds the secret.
pub fn path_text(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let mut text = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// Why a file (a scanned file, a git object file) could not be read, in
/// words: "permission denied" rather than the OS's message alone.
pub fn io_detail(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::PermissionDenied => format!(
            "permission denied: this user may not read it, or search a directory on the way ({err})"
        ),
        _ => format!("cannot be read: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::path_text;

    #[test]
    fn invalid_utf8_in_paths_is_escaped_not_replaced() {
        assert_eq!(
            path_text(b"plain/\xc3\xa9t\xc3\xa9.txt"),
            "plain/\u{e9}t\u{e9}.txt"
        );
        assert_eq!(path_text(b"bad\xffname\xfe.txt"), "bad\\xffname\\xfe.txt");
        assert_eq!(path_text(b"new\nline"), "new\nline");
    }
}
