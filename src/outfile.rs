//! Where secretgate writes what may hold secrets: reports (`-o FILE`, or
//! standard output) and cleanup files (`--emit-*`).
//!
//! A file destination is never opened for writing. The content goes to a new
//! temporary file in the destination's directory (created exclusively, mode
//! 0600), is flushed to disk, and only then renamed over the destination. So:
//! a symlink at the destination is replaced, never written through (a planted
//! link cannot steer a report elsewhere); an existing file's wider mode is
//! never kept; and a write that fails (a full disk) leaves the destination as
//! it was and no temporary file behind, never a truncated report.
//!
//! A destination that is a device or a pipe (`/dev/stdout`, `/dev/null`,
//! `>(jq .)`) is not a file that can be replaced or keep secrets on disk: it
//! is written directly.

use std::fs::File;
use std::io::{BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};

/// What standard output is called in error messages.
pub const STDOUT_NAME: &str = "standard output";

/// An output being written; call [`Output::commit`] when it is complete.
/// Dropped without a commit, a file destination is left untouched.
#[derive(Debug)]
pub struct Output {
    inner: Inner,
    name: String,
}

#[derive(Debug)]
enum Inner {
    Stdout(BufWriter<Stdout>),
    Temp {
        file: BufWriter<tempfile::NamedTempFile>,
        path: PathBuf,
    },
    Device(BufWriter<File>),
}

impl Output {
    /// Standard output.
    pub fn stdout() -> Output {
        Output {
            inner: Inner::Stdout(BufWriter::new(std::io::stdout())),
            name: STDOUT_NAME.to_string(),
        }
    }

    /// An output that will replace `path` when committed (or, for a device
    /// or a pipe, writes to it). The error names what could not be created.
    pub fn create(path: &Path) -> std::io::Result<Output> {
        let name = path.display().to_string();
        let named = |err: std::io::Error, what: &str| {
            std::io::Error::new(err.kind(), format!("{what}: {err}"))
        };
        if is_device(path) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|err| named(err, "cannot open it"))?;
            return Ok(Output {
                inner: Inner::Device(BufWriter::new(file)),
                name,
            });
        }
        if path.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "it is a directory; name a file",
            ));
        }
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{base}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            builder.permissions(std::fs::Permissions::from_mode(0o600));
        }
        let temp = builder.tempfile_in(dir).map_err(|err| {
            named(
                err,
                &format!("cannot create a temporary file in {}", dir.display()),
            )
        })?;
        Ok(Output {
            inner: Inner::Temp {
                file: BufWriter::new(temp),
                path: path.to_path_buf(),
            },
            name,
        })
    }

    /// `path`, or standard output when `None`.
    pub fn open(path: Option<&Path>) -> std::io::Result<Output> {
        match path {
            Some(path) => Output::create(path),
            None => Ok(Output::stdout()),
        }
    }

    /// The destination as error messages name it: the path, or
    /// [`STDOUT_NAME`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Finishes the output: flushes it, and for a file, syncs the temporary
    /// file to disk and renames it over the destination. On error the
    /// destination is unchanged and the temporary file removed.
    pub fn commit(self) -> std::io::Result<()> {
        match self.inner {
            Inner::Stdout(mut out) => out.flush(),
            Inner::Device(mut out) => out.flush(),
            Inner::Temp { file, path } => {
                let temp = file.into_inner().map_err(|err| err.into_error())?;
                temp.as_file().sync_all()?;
                temp.persist(&path).map(drop).map_err(|err| err.error)
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.inner {
            Inner::Stdout(out) => out.write(buf),
            Inner::Device(out) => out.write(buf),
            Inner::Temp { file, .. } => file.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.inner {
            Inner::Stdout(out) => out.flush(),
            Inner::Device(out) => out.flush(),
            Inner::Temp { file, .. } => file.flush(),
        }
    }
}

/// Whether `path` (followed through symlinks) is a device, a pipe or a
/// socket: something written to, not a file replaced.
fn is_device(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let kind = meta.file_type();
        kind.is_char_device() || kind.is_block_device() || kind.is_fifo() || kind.is_socket()
    }
    #[cfg(not(unix))]
    {
        !meta.is_file() && !meta.is_dir()
    }
}

/// Writes `content` to `path` as [`Output`] does (new 0600 file renamed over
/// the destination); the error says which step failed.
pub fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut out = Output::create(path)?;
    out.write_all(content)?;
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uncommitted_output_leaves_nothing_behind() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("report.json");
        std::fs::write(&path, "old")?;
        let mut out = Output::create(&path)?;
        out.write_all(b"new")?;
        drop(out);
        assert_eq!(std::fs::read_to_string(&path)?, "old");
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        let mut out = Output::create(&path)?;
        out.write_all(b"new")?;
        out.commit()?;
        assert_eq!(std::fs::read_to_string(&path)?, "new");
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        Ok(())
    }
}
