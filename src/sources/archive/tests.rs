//! Archives built here with the crates' own writers; every content is made
//! up, no key in them.

use std::io::Write;

use super::*;

#[derive(Default)]
struct Collect {
    entries: Vec<(String, Vec<u8>)>,
    skips: Vec<(String, SkipReason)>,
}

impl Visitor for Collect {
    fn entry(&mut self, inner: &[String], data: &[u8]) {
        self.entries.push((inner.join("!"), data.to_vec()));
    }
    fn skipped(&mut self, inner: &[String], reason: SkipReason, _detail: String) {
        self.skips.push((inner.join("!"), reason));
    }
}

fn open(name: &str, data: &[u8], limits: &Limits) -> Collect {
    let mut out = Collect::default();
    let kind = sniff(data).unwrap_or_else(|| panic!("{name} is not an archive"));
    expand(name, data, kind, limits, &RunBudget::default(), &mut out);
    out
}

fn names(c: &Collect) -> Vec<&str> {
    c.entries.iter().map(|(n, _)| n.as_str()).collect()
}

pub(crate) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated);
    for (name, data) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

pub(crate) fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = ::tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = ::tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn magic_bytes_decide_and_text_is_never_an_archive() {
    assert_eq!(sniff(&zip_of(&[("a", b"x")])), Some(Kind::Zip));
    assert_eq!(sniff(&tar_of(&[("a", b"x")])), Some(Kind::Tar));
    assert_eq!(sniff(&gzip(b"x")), Some(Kind::Gzip));
    assert_eq!(sniff(b"PK is a prefix of text"), None);
    assert_eq!(sniff(b"BZh9 not bzip2 at all"), None);
    assert_eq!(sniff(&[b'a'; 600]), None);
    assert_eq!(sniff(b""), None);
}

#[test]
fn old_tars_without_magic_are_recognised_by_their_checksum() {
    let mut tar = tar_of(&[("a.txt", b"hello")]);
    tar[257..265].fill(0);
    // Recompute the checksum without the magic.
    tar[148..156].fill(b' ');
    let sum: u32 = tar[..512].iter().map(|&b| u32::from(b)).sum();
    tar[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    assert!(is_tar(&tar));
    tar[148] = b'7';
    assert!(!is_tar(&tar));
}

#[test]
fn zip_entries_nested_archives_and_compressed_tars_are_listed_by_path() {
    let tgz = gzip(&tar_of(&[("etc/app.conf", b"password = hunter2\n")]));
    let inner = zip_of(&[("deep/.env", b"TOKEN=inner\n")]);
    let outer = zip_of(&[
        ("config/.env", b"TOKEN=outer\n"),
        ("inner.zip", &inner),
        ("conf.tgz", &tgz),
    ]);
    let got = open("backup.zip", &outer, &Limits::default());
    assert_eq!(
        names(&got),
        [
            "config/.env",
            "inner.zip!deep/.env",
            "conf.tgz!etc/app.conf"
        ]
    );
    assert_eq!(got.entries[1].1, b"TOKEN=inner\n");
    assert!(got.skips.is_empty(), "{:?}", got.skips);
}

#[test]
fn every_single_stream_format_is_read() {
    let text = b"some text\n".repeat(50);
    let gz = gzip(&text);
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&text).unwrap();
    let bz = bz.finish().unwrap();
    let mut xz =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    xz.write_all(&text).unwrap();
    let xz = xz.finish().unwrap();
    let zst =
        ruzstd::encoding::compress_to_vec(&text[..], ruzstd::encoding::CompressionLevel::Fastest);
    for (name, data, kind) in [
        ("dump.sql.gz", gz, Kind::Gzip),
        ("dump.sql.bz2", bz, Kind::Bzip2),
        ("dump.sql.xz", xz, Kind::Xz),
        ("dump.sql.zst", zst, Kind::Zstd),
    ] {
        assert_eq!(sniff(&data), Some(kind), "{name}");
        let got = open(name, &data, &Limits::default());
        assert_eq!(names(&got), ["dump.sql"], "{name}");
        assert_eq!(got.entries[0].1, text, "{name}");
    }
}

#[test]
fn depth_zero_opens_nothing_and_each_level_counts() {
    let level3 = zip_of(&[("c.txt", b"three")]);
    let level2 = zip_of(&[("b.zip", &level3)]);
    let level1 = zip_of(&[("a.zip", &level2)]);
    let got = open("top.zip", &level1, &Limits::default());
    assert_eq!(names(&got), ["a.zip!b.zip!c.txt"]);
    let two = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let got = open("top.zip", &level1, &two);
    assert!(got.entries.is_empty());
    assert_eq!(
        got.skips,
        [("a.zip!b.zip".to_string(), SkipReason::ArchiveDepthLimit)]
    );
}

#[test]
fn encrypted_entries_are_skipped_and_the_rest_read() {
    use ::zip::unstable::write::FileOptionsExt;
    let mut writer = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let plain = ::zip::write::SimpleFileOptions::default();
    writer
        .start_file(
            "secret.txt",
            plain.with_deprecated_encryption(b"pw").unwrap(),
        )
        .unwrap();
    writer.write_all(b"TOKEN=locked\n").unwrap();
    writer.start_file("open.txt", plain).unwrap();
    writer.write_all(b"hello\n").unwrap();
    let data = writer.finish().unwrap().into_inner();
    let got = open("locked.zip", &data, &Limits::default());
    assert_eq!(names(&got), ["open.txt"]);
    assert_eq!(
        got.skips,
        [("secret.txt".to_string(), SkipReason::EncryptedArchiveEntry)]
    );
}

#[test]
fn damaged_archives_are_reported_corrupt() {
    let zip = zip_of(&[("a.txt", b"hello")]);
    let got = open("cut.zip", &zip[..zip.len() - 30], &Limits::default());
    assert_eq!(got.skips, [(String::new(), SkipReason::CorruptArchive)]);
    let text: String = (0..4000u32)
        .map(|i| format!("line {} of text\n", i.wrapping_mul(2_654_435_761)))
        .collect();
    let gz = gzip(text.as_bytes());
    let got = open("cut.gz", &gz[..gz.len() / 2], &Limits::default());
    assert_eq!(got.skips, [("cut".to_string(), SkipReason::CorruptArchive)]);
    // What came out before the damage is still scanned.
    assert!(!got.entries.is_empty());
}

#[test]
fn bombs_stop_at_the_byte_limit_and_the_ratio() {
    let zeros = vec![b'a'; 8 << 20];
    let bomb = zip_of(&[("a.txt", &zeros), ("b.txt", &zeros), ("c.txt", b"after")]);
    let small = Limits {
        max_bytes: 1 << 20,
        ..Limits::default()
    };
    let got = open("bomb.zip", &bomb, &small);
    assert_eq!(
        got.skips,
        [("a.txt".to_string(), SkipReason::ArchiveBytesLimit)]
    );
    let got = open("bomb.zip", &bomb, &Limits::default());
    // 8 MiB of one letter deflates about 1000:1: each stops at the ratio,
    // and the next entry is still read.
    assert_eq!(
        got.skips,
        [
            ("a.txt".to_string(), SkipReason::ArchiveRatioLimit),
            ("b.txt".to_string(), SkipReason::ArchiveRatioLimit)
        ]
    );
    assert!(names(&got).contains(&"c.txt"));
    let gz = gzip(&zeros);
    let got = open("bomb.txt.gz", &gz, &Limits::default());
    assert_eq!(
        got.skips,
        [("bomb.txt".to_string(), SkipReason::ArchiveRatioLimit)]
    );
}

#[test]
fn entry_counts_are_bounded() {
    let files: Vec<(String, Vec<u8>)> = (0..5).map(|i| (format!("f{i}"), vec![b'x'])).collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let limits = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    let got = open("many.tar", &tar_of(&refs), &limits);
    assert_eq!(names(&got), ["f0", "f1", "f2"]);
    assert_eq!(
        got.skips,
        [("f3".to_string(), SkipReason::ArchiveEntriesLimit)]
    );
}

#[test]
fn entry_names_are_only_names() {
    let zip = zip_of(&[("../../escape.env", b"TOKEN=x\n"), ("/abs/path", b"y")]);
    let got = open("evil.zip", &zip, &Limits::default());
    assert_eq!(names(&got), ["../../escape.env", "/abs/path"]);
}

#[test]
fn entries_in_methods_not_read_here_are_counted_as_unsupported() {
    let mut writer = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Stored);
    writer.start_file("a.txt", stored).unwrap();
    writer.write_all(b"hello").unwrap();
    let mut data = writer.finish().unwrap().into_inner();
    // Say LZMA (14) in the local header and in the central directory.
    data[8] = 14;
    let central = data.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    data[central + 10] = 14;
    let got = open("lzma.zip", &data, &Limits::default());
    assert!(got.entries.is_empty());
    assert_eq!(
        got.skips,
        [("a.txt".to_string(), SkipReason::UnsupportedArchiveEntry)]
    );
}

#[test]
fn a_tar_whose_last_entry_claims_more_than_it_holds_is_not_damaged() {
    // What git's own test suite commits: a header for a 64 GiB file, and
    // no data behind it.
    let mut tar = tar_of(&[("small.txt", b"hello")]);
    let end = tar.len() - 1024;
    tar.truncate(end);
    let mut header = ::tar::Header::new_gnu();
    header.set_path("huge").unwrap();
    header.set_size(64 << 30);
    header.set_mode(0o644);
    header.set_cksum();
    tar.extend_from_slice(header.as_bytes());
    let got = open("huge.tar", &tar, &Limits::default());
    assert_eq!(names(&got), ["small.txt"]);
    assert_eq!(got.skips, [("huge".to_string(), SkipReason::TooLarge)]);
}
