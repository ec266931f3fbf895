//! Files and directories on disk, walked in parallel, gitignore-aware by
//! default (ripgrep's `ignore` crate), hidden files included: `.env` is exactly
//! the kind of file that leaks.

use std::io::Read;
use std::path::{Path, PathBuf};

use ignore::{WalkBuilder, WalkState};

use super::{Blob, SkipReason, Skipped, SourceItem, display_path};

/// How to walk.
#[derive(Debug, Clone)]
pub struct FsOptions {
    /// Read files that `.gitignore` and friends exclude.
    pub no_ignore: bool,
    /// Skip files larger than this many bytes; 0 means no limit.
    pub max_file_size: u64,
    /// Worker threads.
    pub threads: usize,
}

/// Errors that stop a walk before it starts.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// A path named on the command line does not exist.
    #[error("{path}: no such file or directory (check the path, or run from the repository root)")]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// Standard input could not be read.
    #[error("cannot read standard input: {0}")]
    Stdin(std::io::Error),
}

/// The path that means "read standard input".
pub const STDIN_PATH: &str = "-";

/// Walks `paths` in parallel and hands every file (or skip record) to `sink`,
/// from several threads at once.
pub fn walk(
    paths: &[PathBuf],
    options: &FsOptions,
    sink: &(dyn Fn(SourceItem) + Sync),
) -> Result<(), FsError> {
    let mut roots = Vec::new();
    for path in paths {
        if path.as_os_str() == STDIN_PATH {
            let mut data = Vec::new();
            std::io::stdin()
                .read_to_end(&mut data)
                .map_err(FsError::Stdin)?;
            sink(SourceItem::Blob(Blob {
                path: "<stdin>".to_string(),
                data,
            }));
            continue;
        }
        if std::fs::symlink_metadata(path).is_err() {
            return Err(FsError::NotFound { path: path.clone() });
        }
        roots.push(path.clone());
    }
    let Some((first, rest)) = roots.split_first() else {
        return Ok(());
    };
    let mut builder = WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    builder
        .hidden(false)
        .ignore(!options.no_ignore)
        .git_ignore(!options.no_ignore)
        .git_global(!options.no_ignore)
        .git_exclude(!options.no_ignore)
        .parents(!options.no_ignore)
        .follow_links(false)
        .threads(options.threads)
        .filter_entry(|entry| entry.file_name() != ".git");
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            match entry {
                Ok(entry) => {
                    if let Some(item) = visit(entry.path(), entry.file_type(), options) {
                        sink(item);
                    }
                }
                Err(err) => sink(SourceItem::Skipped(walk_error(err))),
            }
            WalkState::Continue
        })
    });
    Ok(())
}

fn visit(
    path: &Path,
    file_type: Option<std::fs::FileType>,
    options: &FsOptions,
) -> Option<SourceItem> {
    let file_type = file_type?;
    if file_type.is_dir() || file_type.is_symlink() {
        return None;
    }
    let display = display_path(path);
    let skipped = |reason, detail: String| {
        Some(SourceItem::Skipped(Skipped {
            path: display.clone(),
            reason,
            detail,
        }))
    };
    if !file_type.is_file() {
        return skipped(SkipReason::NotRegularFile, "not a regular file".into());
    }
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) => return skipped(SkipReason::Unreadable, err.to_string()),
    };
    if options.max_file_size > 0 && metadata.len() > options.max_file_size {
        return skipped(
            SkipReason::TooLarge,
            format!(
                "{} bytes > --max-file-size {}",
                metadata.len(),
                options.max_file_size
            ),
        );
    }
    match std::fs::read(path) {
        Ok(data) => Some(SourceItem::Blob(Blob {
            path: display,
            data,
        })),
        Err(err) => skipped(SkipReason::Unreadable, err.to_string()),
    }
}

fn walk_error(err: ignore::Error) -> Skipped {
    let path = error_path(&err).map_or_else(|| "<unknown>".to_string(), display_path);
    Skipped {
        path,
        reason: SkipReason::Unreadable,
        detail: err.to_string(),
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}
