//! Reading the policy files a run is told to use: `.secretgate.toml`, the
//! rule files its `[rules] extra` names, its baseline, `.secretgateignore`.
//!
//! Who named a file decides what may be read. A file named on the command
//! line (`--config`, `--rules`, `--baseline`, `--ignore-file`) is the user's
//! choice and may be anywhere. A file the scanned repository names (its own
//! `.secretgate.toml`, and what that names) must resolve, symlinks followed,
//! to a regular file inside the repository: otherwise a cloned repository
//! could make the scanner read `~/.aws/credentials` and quote it in an error,
//! or read `/dev/zero` until memory runs out. Every file is read with a size
//! bound, whoever named it.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Largest config or rule file read, in bytes.
pub const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;

/// Largest baseline (an earlier JSON report) read, in bytes.
pub const MAX_BASELINE_BYTES: u64 = 256 * 1024 * 1024;

/// Who named a file, and so what it may be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Trust {
    /// Named on the command line: anywhere, any kind of file.
    #[default]
    User,
    /// Named by the repository itself: only regular files inside `root`
    /// (canonical) after resolving symlinks.
    Repository {
        /// The repository's top level, canonical.
        root: PathBuf,
    },
}

/// Why a policy file cannot be read. Messages name the file, never quote it.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file, as named.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A repository named a file outside itself.
    #[error(
        "{path} is outside the repository {root} (symlinks resolved, it is {resolved}): a repository's own config may only name files inside the repository; to use this file, pass it on the command line (--config or --rules)"
    )]
    Outside {
        /// The file, as named.
        path: PathBuf,
        /// Where it resolves to.
        resolved: PathBuf,
        /// The repository.
        root: PathBuf,
    },
    /// A repository named a device, a pipe or a socket.
    #[error(
        "{path} is not a regular file ({kind}): a repository's own config may only name regular files"
    )]
    NotRegular {
        /// The file, as named.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// The file is larger than the bound.
    #[error("{path} is larger than {limit} bytes, the most secretgate reads of such a file")]
    TooLarge {
        /// The file, as named.
        path: PathBuf,
        /// The bound.
        limit: u64,
    },
    /// The file is not UTF-8 text.
    #[error("{path} is not UTF-8 text")]
    NotText {
        /// The file, as named.
        path: PathBuf,
    },
}

impl Trust {
    /// Trust for files the repository at `root` names.
    pub fn repository(root: &Path) -> Result<Trust, ReadError> {
        let root = root.canonicalize().map_err(|source| ReadError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(Trust::Repository { root })
    }

    /// Whether the repository named this file (errors then quote nothing
    /// of it but a redacted excerpt).
    pub fn is_repository(&self) -> bool {
        matches!(self, Trust::Repository { .. })
    }

    /// Where `path` may be opened: as named for the user, resolved and
    /// inside the repository for a repository.
    pub fn admit(&self, path: &Path) -> Result<PathBuf, ReadError> {
        let Trust::Repository { root } = self else {
            return Ok(path.to_path_buf());
        };
        let resolved = path.canonicalize().map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if !resolved.starts_with(root) {
            return Err(ReadError::Outside {
                path: path.to_path_buf(),
                resolved,
                root: root.clone(),
            });
        }
        Ok(resolved)
    }
}

/// Reads `path` as text, at most `limit` bytes, as `trust` allows.
pub fn read_text(path: &Path, limit: u64, trust: &Trust) -> Result<String, ReadError> {
    let bytes = read_bytes(path, limit, trust)?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotText {
        path: path.to_path_buf(),
    })
}

/// Reads `path`, at most `limit` bytes, as `trust` allows: a repository's
/// file must be a regular file inside it; any file larger than `limit` is an
/// error, read no further than that (a device never ends).
pub fn read_bytes(path: &Path, limit: u64, trust: &Trust) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let open = trust.admit(path)?;
    if trust.is_repository() {
        // Checked before opening too: opening a pipe would wait for a writer.
        let meta = std::fs::metadata(&open).map_err(io)?;
        if !meta.is_file() {
            return Err(ReadError::NotRegular {
                path: path.to_path_buf(),
                kind: kind_of(&meta),
            });
        }
    }
    let file = std::fs::File::open(&open).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if trust.is_repository() && !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(&meta),
        });
    }
    let too_large = || ReadError::TooLarge {
        path: path.to_path_buf(),
        limit,
    };
    if meta.is_file() && meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let kind = meta.file_type();
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_fifo() {
            return "a pipe";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_reads_only_regular_files_inside_it() -> Result<(), Box<dyn std::error::Error>> {
        let outside = tempfile::tempdir()?;
        let repo = tempfile::tempdir()?;
        std::fs::write(outside.path().join("creds"), "secret")?;
        std::fs::write(repo.path().join("rules.toml"), "x = 1")?;
        let trust = Trust::repository(repo.path())?;
        let inside = read_text(&repo.path().join("rules.toml"), 100, &trust)?;
        assert_eq!(inside, "x = 1");
        let err = read_text(&outside.path().join("creds"), 100, &trust);
        assert!(matches!(err, Err(ReadError::Outside { .. })), "{err:?}");
        let escape = repo
            .path()
            .join("../")
            .join(outside.path().file_name().ok_or("no name")?);
        let err = read_text(&escape.join("creds"), 100, &trust);
        assert!(matches!(err, Err(ReadError::Outside { .. })), "{err:?}");
        let err = read_text(&repo.path().join("rules.toml"), 3, &trust);
        assert!(matches!(err, Err(ReadError::TooLarge { .. })), "{err:?}");
        // The user may name anything, bounded.
        let user = read_text(&outside.path().join("creds"), 100, &Trust::User)?;
        assert_eq!(user, "secret");
        #[cfg(unix)]
        {
            let err = read_bytes(Path::new("/dev/zero"), 1024, &Trust::User);
            assert!(matches!(err, Err(ReadError::TooLarge { .. })), "{err:?}");
        }
        Ok(())
    }
}
