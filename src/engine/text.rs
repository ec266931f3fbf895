//! Turning raw blob bytes into text the rules can read, and byte offsets back
//! into the lines and columns people see.

use std::borrow::Cow;

/// How far into a blob to look for a NUL byte when deciding it is binary
/// (what git itself does).
const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// A blob after text preparation.
#[derive(Debug)]
pub enum Prepared<'a> {
    /// Text to scan: the blob itself, or its UTF-8 transcoding.
    Text {
        /// The bytes to scan.
        text: Cow<'a, [u8]>,
        /// The encoding the blob was transcoded from, if any.
        transcoded_from: Option<&'static str>,
    },
    /// Not text: it holds a NUL byte early on and no UTF-16 byte-order mark.
    Binary,
}

/// Detects binary blobs and transcodes UTF-16 (what PowerShell's `>` writes)
/// to UTF-8, so that every text a person could have typed a secret into is read.
pub fn prepare(blob: &[u8]) -> Prepared<'_> {
    if let Some(rest) = blob.strip_prefix(b"\xff\xfe") {
        return Prepared::Text {
            text: Cow::Owned(utf16_to_utf8(rest, u16::from_le_bytes)),
            transcoded_from: Some("utf-16le"),
        };
    }
    if let Some(rest) = blob.strip_prefix(b"\xfe\xff") {
        return Prepared::Text {
            text: Cow::Owned(utf16_to_utf8(rest, u16::from_be_bytes)),
            transcoded_from: Some("utf-16be"),
        };
    }
    let sniff = &blob[..blob.len().min(BINARY_SNIFF_LEN)];
    if memchr::memchr(0, sniff).is_some() {
        return Prepared::Binary;
    }
    Prepared::Text {
        text: Cow::Borrowed(blob),
        transcoded_from: None,
    }
}

fn utf16_to_utf8(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Vec<u8> {
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .into_bytes()
}

/// A position in text, 1-based, as editors show it. Columns count bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based byte column within the line.
    pub column: usize,
}

/// Maps byte offsets to positions; built once per blob that has matches.
#[derive(Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes every line start in `text`.
    pub fn new(text: &[u8]) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text).map(|i| i + 1));
        LineIndex { line_starts }
    }

    /// The position of byte `offset`.
    pub fn position(&self, offset: usize) -> Position {
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line.saturating_sub(1)];
        Position {
            line,
            column: offset - start + 1,
        }
    }

    /// The byte range of the line holding `offset`, without its line ending.
    pub fn line_range(&self, text: &[u8], offset: usize) -> std::ops::Range<usize> {
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line.saturating_sub(1)];
        let mut end = self
            .line_starts
            .get(line)
            .map_or(text.len(), |next| next - 1);
        if end > start && text.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_means_binary() {
        assert!(matches!(prepare(b"abc\0def"), Prepared::Binary));
        assert!(matches!(prepare(b"plain text"), Prepared::Text { .. }));
    }

    #[test]
    fn utf16le_with_bom_is_transcoded() {
        let mut blob = vec![0xff, 0xfe];
        for unit in "KEY=v\n".encode_utf16() {
            blob.extend_from_slice(&unit.to_le_bytes());
        }
        match prepare(&blob) {
            Prepared::Text {
                text,
                transcoded_from,
            } => {
                assert_eq!(&*text, b"KEY=v\n");
                assert_eq!(transcoded_from, Some("utf-16le"));
            }
            Prepared::Binary => panic!("UTF-16 text was judged binary"),
        }
    }

    #[test]
    fn positions_are_one_based_and_crlf_safe() {
        let text = b"first\r\nsecond line\nthird";
        let index = LineIndex::new(text);
        assert_eq!(index.position(0), Position { line: 1, column: 1 });
        assert_eq!(index.position(7), Position { line: 2, column: 1 });
        assert_eq!(index.position(14), Position { line: 2, column: 8 });
        assert_eq!(index.position(21), Position { line: 3, column: 3 });
        assert_eq!(&text[index.line_range(text, 2)], b"first");
        assert_eq!(&text[index.line_range(text, 21)], b"third");
    }
}
