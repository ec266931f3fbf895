//! Damage that git itself would refuse, found before anything is read: a
//! `HEAD` that is neither a symbolic ref nor an object id (git does not take
//! such a directory for a repository), a pack index (or multi-pack index)
//! that does not add up or does not match its checksum (its objects would
//! look missing, the repository empty, or one object be read under another's
//! id), and loose objects whose content does not hash to their id.
//!
//! Why here: gix is lenient where git is strict, and what gix quietly
//! skips turns into "the repository has no commits" or into content scanned
//! under the wrong id. Each check names the file and what is wrong, so the
//! error says what to repair.

use std::path::Path;

use gix::ObjectId;
use gix::objs::Find as _;

use super::GitError;

/// Why an object could not be read as what its id promises.
#[derive(Debug, thiserror::Error)]
pub(super) enum ObjectError {
    /// The object database could not read it.
    #[error("{0}")]
    Read(#[from] gix::Error),
    /// It was read, but its content is not what the id names.
    #[error(
        "its content hashes to {actual}, not to its id: the object file is damaged (`git fsck` reports it too)"
    )]
    Mismatch {
        /// What the content hashes to.
        actual: ObjectId,
    },
}

impl ObjectError {
    /// How a read that failed is counted: `unreadable` when the file system
    /// refused (permissions, an I/O error: the object may be intact), else
    /// `corrupt_object`; with the words for the skip's detail.
    pub(super) fn skip_reason(&self) -> (crate::sources::SkipReason, String) {
        use crate::sources::SkipReason;
        match self {
            ObjectError::Read(err) => match err.downcast_any_ref::<std::io::Error>() {
                Some(io) => (
                    SkipReason::Unreadable,
                    format!(
                        "its object file cannot be read: {}",
                        crate::sources::io_detail(io)
                    ),
                ),
                None => (SkipReason::CorruptObject, format!("{err:#}")),
            },
            ObjectError::Mismatch { .. } => (SkipReason::CorruptObject, self.to_string()),
        }
    }
}

/// Reads `id` through the object database and checks that its content
/// hashes to `id`: a damaged loose object still inflates, to the wrong bytes.
/// For objects no pack walk decoded (loose ones, alternates, leftovers).
pub(super) fn find_verified<'a>(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &'a mut Vec<u8>,
) -> Result<Option<gix::objs::Data<'a>>, ObjectError> {
    let Some(data) = repo.objects.try_find(id, buf)? else {
        return Ok(None);
    };
    let actual = gix::objs::compute_hash(repo.object_hash(), data.kind, data.data)?;
    if actual != *id {
        return Err(ObjectError::Mismatch { actual });
    }
    Ok(Some(data))
}

/// Checks what git checks before it accepts a repository, and what would
/// otherwise make objects silently disappear: `HEAD`, and every pack index
/// of the repository and its alternates.
pub(super) fn check(repo: &gix::Repository) -> Result<(), GitError> {
    check_head(&repo.git_dir().join("HEAD"))?;
    let objects = repo.objects.store_ref().path().to_path_buf();
    let mut dirs = vec![objects];
    // Alternates that cannot be resolved are reported by the reads that need them.
    dirs.extend(
        repo.objects
            .store_ref()
            .alternate_db_paths()
            .unwrap_or_default(),
    );
    for dir in dirs {
        for index in super::pack::pack_indexes(&dir) {
            check_pack_index(&index, repo.object_hash())?;
        }
        check_multi_pack_index(&dir.join("pack").join("multi-pack-index"))?;
    }
    Ok(())
}

/// `HEAD` must be `ref: refs/...`, an object id, or a symbolic link into
/// `refs/`, as git's own check (`validate_headref`) requires.
fn check_head(path: &Path) -> Result<(), GitError> {
    let bad = |problem: String| GitError::BadHead {
        path: path.to_path_buf(),
        problem,
    };
    let metadata =
        std::fs::symlink_metadata(path).map_err(|err| bad(format!("it cannot be read: {err}")))?;
    if metadata.file_type().is_symlink() {
        let target =
            std::fs::read_link(path).map_err(|err| bad(format!("it cannot be read: {err}")))?;
        return if target.starts_with("refs/") {
            Ok(())
        } else {
            Err(bad(
                "it is a symbolic link that does not point into refs/".to_string()
            ))
        };
    }
    let content = std::fs::read(path).map_err(|err| bad(format!("it cannot be read: {err}")))?;
    if head_is_valid(&content) {
        Ok(())
    } else {
        Err(bad(
            "it holds neither `ref: refs/...` nor an object id".to_string()
        ))
    }
}

/// Whether the content of a `HEAD` file is one git accepts.
fn head_is_valid(content: &[u8]) -> bool {
    if let Some(target) = content.strip_prefix(b"ref:") {
        return target.trim_ascii_start().starts_with(b"refs/");
    }
    // A detached HEAD: git reads an object id from the start (and checks
    // what follows only when it resolves the ref).
    content.len() >= 40 && content[..40].iter().all(u8::is_ascii_hexdigit)
}

/// Opens a pack index (gix checks its layout: header, fan-out table, size)
/// and checks that it is the index git wrote for its pack: its trailing
/// checksum (SHA-1 over the whole file: a damaged or edited index, say two
/// objects' offsets swapped, would have the scanner read one object's content
/// under another's id, and a secret pass for clean text), and its table of
/// object ids: ascending, each in the fan-out range of its first
/// byte. The checksum costs 35 ms for git.git's 23 MB index (a fraction of
/// a percent of its audit); the pack's own checksum (SHA-1 over every pack byte)
/// is left to `git fsck`: damage there fails to inflate and is reported per
/// object.
fn check_pack_index(path: &Path, hash: gix::hash::Kind) -> Result<(), GitError> {
    let corrupt = |problem: String| GitError::CorruptPackIndex {
        path: path.to_path_buf(),
        pack: path.with_extension("pack"),
        problem,
    };
    let index =
        gix::odb::pack::index::File::at(path, hash).map_err(|err| corrupt(err.to_string()))?;
    let fan = read_fan(path, index.version())
        .map_err(|err| corrupt(format!("its fan-out table cannot be read: {err}")))?;
    check_ids(&index, &fan).map_err(corrupt)?;
    let interrupt = std::sync::atomic::AtomicBool::new(false);
    index
        .verify_checksum(&mut gix::utils::progress::Discard, &interrupt)
        .map_err(|_| {
            corrupt(format!(
                "its content does not match its trailing checksum {} (the file was damaged or edited after git wrote it)",
                index.index_checksum()
            ))
        })?;
    Ok(())
}

/// A multi-pack index, when there is one, maps ids to pack offsets like a
/// pack index does (reads of single objects go through it): its trailing
/// checksum must hold too.
fn check_multi_pack_index(path: &Path) -> Result<(), GitError> {
    if path.symlink_metadata().is_err() {
        return Ok(());
    }
    let corrupt = |problem: String| GitError::CorruptMultiPackIndex {
        path: path.to_path_buf(),
        problem,
    };
    let index = gix::odb::pack::multi_index::File::at(path, None)
        .map_err(|err| corrupt(err.to_string()))?;
    let interrupt = std::sync::atomic::AtomicBool::new(false);
    index
        .verify_checksum(&mut gix::utils::progress::Discard, &interrupt)
        .map_err(|_| {
            corrupt(format!(
                "its content does not match its trailing checksum {} (the file was damaged or edited after git wrote it)",
                index.checksum()
            ))
        })?;
    Ok(())
}

/// The fan-out table: for each first byte, how many ids are at or below it.
fn read_fan(path: &Path, version: gix::odb::pack::index::Version) -> std::io::Result<[u32; 256]> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut header = vec![0u8; 8 + 256 * 4];
    file.read_exact(&mut header)?;
    let table = match version {
        gix::odb::pack::index::Version::V1 => &header[..256 * 4],
        gix::odb::pack::index::Version::V2 => &header[8..],
    };
    let mut fan = [0u32; 256];
    for (slot, bytes) in fan.iter_mut().zip(table.chunks_exact(4)) {
        *slot = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    Ok(fan)
}

/// Every id in ascending order, inside the fan-out range of its first byte.
fn check_ids(index: &gix::odb::pack::index::File, fan: &[u32; 256]) -> Result<(), String> {
    let mut previous: Option<&gix::oid> = None;
    for i in 0..index.num_objects() {
        let id = index.oid_at_index(i);
        let first = usize::from(id.as_bytes().first().copied().unwrap_or(0));
        let start = first.checked_sub(1).map_or(0, |before| fan[before]);
        if i < start || i >= fan[first] {
            return Err(format!(
                "entry {i} holds object id {id}, outside the range the fan-out table gives ids starting with {first:02x}"
            ));
        }
        if previous.is_some_and(|before| before >= id) {
            return Err(format!(
                "its object ids are out of order at entry {i} ({id})"
            ));
        }
        previous = Some(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::head_is_valid;

    #[test]
    fn head_contents_git_accepts() {
        for good in [
            "ref: refs/heads/main\n",
            "ref:refs/heads/main",
            "ref: refs/heads/.invalid\n", // reftable repositories
            "0123456789abcdef0123456789abcdef01234567\n",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
            // git's repository check reads only the id.
            "0123456789abcdef0123456789abcdef01234567 trailing\n",
        ] {
            assert!(head_is_valid(good.as_bytes()), "{good:?}");
        }
        for bad in [
            "",
            "garbage here\n",
            "ref: heads/main\n",
            "0123456789abcdef\n",
            "ref refs/heads/main\n",
        ] {
            assert!(!head_is_valid(bad.as_bytes()), "{bad:?}");
        }
    }
}
