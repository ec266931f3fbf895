//! Where blobs come from. A source yields [`SourceItem`]s: blobs to scan, or
//! records of what it could not or would not read — never silence, because an
//! unread file is a possible leak nobody looked at.

pub mod fs;
pub mod git;
pub mod staged;

use serde::Serialize;

/// One unit of content to scan.
#[derive(Debug)]
pub struct Blob {
    /// Display path, `/`-separated, without a leading `./`.
    pub path: String,
    /// The raw bytes.
    pub data: Vec<u8>,
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
}

impl SkipReason {
    /// Whether this skip means content that may hold a secret went unread, which
    /// makes an otherwise clean run exit 2.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            SkipReason::Unreadable | SkipReason::MissingObject | SkipReason::CorruptObject
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

/// What a source hands to the pipeline.
#[derive(Debug)]
pub enum SourceItem {
    /// Content to scan.
    Blob(Blob),
    /// Content that was not scanned.
    Skipped(Skipped),
}

/// Makes a path printable and stable across platforms: `/`-separated, no `./`.
pub fn display_path(path: &std::path::Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut text = text.as_str();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    text.to_string()
}
