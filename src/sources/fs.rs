//! Files and directories on disk, walked in parallel, gitignore-aware by
//! default (ripgrep's `ignore` crate), hidden files included: `.env` is exactly
//! the kind of file that leaks.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::{Blob, Piece, SkipReason, Skipped, SourceItem, display_path};

/// How files too large to hold whole are read: in pieces of `piece` bytes,
/// each with `overlap` bytes of context before and after.
#[derive(Debug, Clone, Copy)]
pub struct Chunking {
    /// Files larger than this are read in pieces.
    pub threshold: u64,
    /// Bytes each piece answers for.
    pub piece: usize,
    /// Context on each side: longer than any rule's window and any secret, so
    /// a secret across a boundary is whole in the piece that owns it.
    pub overlap: usize,
}

/// Files over 32 MiB are read 16 MiB at a time with 64 KiB of context on
/// each side (the largest rule window is 16 KiB): a worker never holds more
/// than about 32 MiB of one file, whatever its size.
pub const CHUNKING: Chunking = Chunking {
    threshold: 32 << 20,
    piece: 16 << 20,
    overlap: 64 << 10,
};

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

/// Where each scanned root sits in its git work tree (the nearest parent
/// with a `.git`), or at the top of its own tree when it is in none: what
/// lets a file's context (test, example...) be read from its path inside the
/// project (see [`crate::confidence::ContextRoots`]). A root that cannot be
/// resolved is left out: its paths are read as they are shown.
pub fn context_roots(paths: &[PathBuf]) -> crate::confidence::ContextRoots {
    let mut prefixes = Vec::new();
    for path in paths {
        if path.as_os_str() == STDIN_PATH {
            continue;
        }
        let dir = match path.parent() {
            _ if path.is_dir() => path.as_path(),
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let shown = display_path(dir);
        let shown = if shown.is_empty() || shown == "." {
            String::new()
        } else {
            format!("{}/", shown.trim_end_matches('/'))
        };
        let Ok(absolute) = dir.canonicalize() else {
            continue;
        };
        let top = absolute
            .ancestors()
            .find(|a| a.join(".git").exists())
            .unwrap_or(&absolute);
        let inside = absolute
            .strip_prefix(top)
            .map(display_path)
            .unwrap_or_default();
        let inside = if inside.is_empty() {
            inside
        } else {
            format!("{inside}/")
        };
        prefixes.push((shown, inside));
    }
    crate::confidence::ContextRoots::new(prefixes)
}

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
        match std::fs::symlink_metadata(path) {
            Ok(_) => roots.push(path.clone()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(FsError::NotFound { path: path.clone() });
            }
            // There, but not for us to see (a directory on the way that this
            // user may not search): unread, and said so.
            Err(err) => sink(SourceItem::Skipped(Skipped {
                path: display_path(path),
                reason: SkipReason::Unreadable,
                detail: super::io_detail(&err),
            })),
        }
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
        .threads(options.threads);
    // What the walk yielded, to find the tracked files ignore files hid;
    // and the work trees it met, whose indexes list more of them.
    let walked: Mutex<HashSet<PathBuf>> = Mutex::new(HashSet::new());
    let work_trees: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let dirs: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    sink(SourceItem::Skipped(walk_error(err)));
                    return WalkState::Continue;
                }
            };
            if entry.depth() > 0 && entry.file_name() == ".git" {
                dot_git(entry.path(), &work_trees, sink);
                return WalkState::Skip;
            }
            let file_type = entry.file_type();
            if !options.no_ignore {
                if file_type.is_some_and(|t| t.is_dir()) {
                    lock(&dirs).push(entry.path().to_path_buf());
                } else {
                    lock(&walked).insert(entry.path().to_path_buf());
                }
            }
            visit(entry.path(), file_type, entry.depth() == 0, options, sink);
            WalkState::Continue
        })
    });
    if !options.no_ignore {
        let walked = walked.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut work_trees = work_trees.into_inner().unwrap_or_else(|p| p.into_inner());
        let dirs = dirs.into_inner().unwrap_or_else(|p| p.into_inner());
        work_trees.extend(repositories_in_skipped_dirs(&dirs));
        let missed = super::tracked::unwalked(&roots, &work_trees, &walked);
        for skipped in missed.skipped {
            sink(SourceItem::Skipped(skipped));
        }
        read_tracked(&missed.files, options, sink);
    }
    Ok(())
}

/// Reads the tracked files the walk did not yield (ignore files list them),
/// in parallel.
fn read_tracked(files: &[PathBuf], options: &FsOptions, sink: &(dyn Fn(SourceItem) + Sync)) {
    use rayon::prelude::*;
    let each = |path: &PathBuf| {
        // Deleted from the work tree since: nothing on disk to read.
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            visit(path, Some(meta.file_type()), false, options, sink);
        }
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.max(1))
        .build()
    {
        Ok(pool) => pool.install(|| files.par_iter().for_each(each)),
        Err(_) => files.iter().for_each(each),
    }
}

/// A `.git` below a scanned directory: a repository's (its work tree's
/// tracked files are read; its objects are history's business), or, when it
/// is not a repository, a skip to count: git never tracks a path named
/// `.git`, and the walk does not read it.
fn dot_git(path: &Path, work_trees: &Mutex<Vec<PathBuf>>, sink: &(dyn Fn(SourceItem) + Sync)) {
    if gix::discover::is_git(path).is_ok() {
        if let Some(work_tree) = path.parent() {
            lock(work_trees).push(work_tree.to_path_buf());
        }
        return;
    }
    sink(SourceItem::Skipped(Skipped {
        path: display_path(path),
        reason: SkipReason::DotGit,
        detail:
            "named .git but not a git repository: git never tracks such a path, so it was not read"
                .into(),
    }));
}

/// How deep below a directory the ignore files hid a nested repository is
/// looked for: `vendor/.git`, `vendor/lib/.git`, `vendor/a/lib/.git`.
const NESTED_REPOSITORY_DEPTH: usize = 2;

/// Work trees of repositories inside directories the walk did not enter
/// (ignore files hid them: `vendor/` ignored, `vendor/lib/` a repository of
/// its own, not a submodule). Their tracked files are tracked files, read
/// like every other; found by listing each walked directory once more and
/// looking a few levels into what it hid, never walking all of it
/// (`node_modules/`, `target/`).
fn repositories_in_skipped_dirs(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let entered: HashSet<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let mut found = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name() == ".git"
                || !entry.file_type().is_ok_and(|t| t.is_dir())
                || entered.contains(path.as_path())
            {
                continue;
            }
            find_repositories(&path, NESTED_REPOSITORY_DEPTH, &mut found);
        }
    }
    found
}

/// Work trees at or below `dir`, `depth` levels down at most.
fn find_repositories(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let dot_git = dir.join(".git");
    if dot_git.symlink_metadata().is_ok() && gix::discover::is_git(&dot_git).is_ok() {
        found.push(dir.to_path_buf());
        return;
    }
    if depth == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_repositories(&entry.path(), depth - 1, found);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads one walked entry, or says why not. `named` is true for a path given
/// on the command line, where a symbolic link to a file is read (the user
/// named it); links met during the walk are not followed.
fn visit(
    path: &Path,
    file_type: Option<std::fs::FileType>,
    named: bool,
    options: &FsOptions,
    sink: &(dyn Fn(SourceItem) + Sync),
) {
    let Some(file_type) = file_type else { return };
    if file_type.is_dir() {
        return;
    }
    let display = display_path(path);
    let skipped = |reason, detail: String| {
        sink(SourceItem::Skipped(Skipped {
            path: display.clone(),
            reason,
            detail,
        }));
    };
    if file_type.is_symlink() {
        let target = std::fs::read_link(path)
            .map(|target| display_path(&target))
            .unwrap_or_else(|err| format!("unreadable target: {err}"));
        let to_file = std::fs::metadata(path).is_ok_and(|meta| meta.is_file());
        if !(named && to_file) {
            return skipped(
                SkipReason::Symlink,
                format!("symbolic link to {target}: not followed (scan the target itself)"),
            );
        }
    } else if !file_type.is_file() {
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
    if metadata.len() > CHUNKING.threshold {
        let read =
            std::fs::File::open(path).and_then(|file| read_pieces(file, &display, &CHUNKING, sink));
        if let Err(err) = read {
            skipped(SkipReason::Unreadable, err.to_string());
        }
        return;
    }
    match std::fs::read(path) {
        Ok(data) => sink(SourceItem::Blob(Blob {
            path: display,
            data,
        })),
        Err(err) => skipped(SkipReason::Unreadable, err.to_string()),
    }
}

/// Reads `reader` in overlapping pieces and hands each to `sink` before
/// reading the next, so memory stays at one piece plus its context. Three
/// kinds of file go to the pipeline as one blob instead: a binary one (NUL
/// in the first 8 KiB) as its first piece only, enough to be recognised,
/// counted and skipped; a UTF-16 one (rare at this size) whole, to be
/// transcoded; an archive or compressed file whole, to be opened.
pub fn read_pieces(
    mut reader: impl Read,
    path: &str,
    chunking: &Chunking,
    sink: &(dyn Fn(SourceItem) + Sync),
) -> std::io::Result<()> {
    let (piece, overlap) = (chunking.piece.max(1), chunking.overlap);
    let mut buf: Vec<u8> = Vec::new();
    let mut own_start = 0;
    let mut index = 0;
    let mut lines_before = 0;
    let mut column_offset = 0;
    loop {
        let want = own_start + piece + overlap;
        fill(&mut reader, &mut buf, want)?;
        let at_end = buf.len() < want;
        if index == 0 {
            let utf16 = buf.starts_with(b"\xff\xfe") || buf.starts_with(b"\xfe\xff");
            let binary = memchr::memchr(0, &buf[..buf.len().min(8 * 1024)]).is_some();
            // An archive is read whole: its index may be at the end, and the
            // pipeline bounds what it decompresses.
            let archive = super::archive::sniff(&buf).is_some();
            if (utf16 || archive) && !at_end {
                reader.read_to_end(&mut buf)?;
            }
            if utf16 || binary || archive {
                // The pipeline decides from these bytes: transcoded, or
                // skipped as binary (and counted).
                sink(SourceItem::Blob(Blob {
                    path: path.to_string(),
                    data: buf,
                }));
                return Ok(());
            }
        }
        let own_end = if at_end { buf.len() } else { own_start + piece };
        let cut = own_end.saturating_sub(overlap);
        let tail = buf[cut..].to_vec();
        let newlines = memchr::memchr_iter(b'\n', &buf[..cut]).count();
        let next_column = match memchr::memrchr(b'\n', &buf[..cut]) {
            Some(i) => cut - i - 1,
            None => column_offset + cut,
        };
        sink(SourceItem::Piece(Piece {
            blob: Blob {
                path: path.to_string(),
                data: buf,
            },
            index,
            owned: own_start..own_end,
            lines_before,
            column_offset,
        }));
        if at_end {
            return Ok(());
        }
        buf = tail;
        own_start = own_end - cut;
        lines_before += newlines;
        column_offset = next_column;
        index += 1;
    }
}

/// Reads until `buf` holds `want` bytes or the input ends.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<()> {
    while buf.len() < want {
        let have = buf.len();
        buf.resize(want, 0);
        match reader.read(&mut buf[have..]) {
            Ok(0) => {
                buf.truncate(have);
                return Ok(());
            }
            Ok(n) => buf.truncate(have + n),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => buf.truncate(have),
            Err(err) => {
                buf.truncate(have);
                return Err(err);
            }
        }
    }
    Ok(())
}

fn walk_error(err: ignore::Error) -> Skipped {
    let path = error_path(&err).map_or_else(|| "<unknown>".to_string(), display_path);
    // A loop only arises through a followed link; what it leads to is
    // scanned where it is, so it is a decision, not unread content.
    let reason = if is_loop(&err) {
        SkipReason::Symlink
    } else {
        SkipReason::Unreadable
    };
    Skipped {
        path,
        reason,
        detail: err.to_string(),
    }
}

fn is_loop(err: &ignore::Error) -> bool {
    match err {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
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
