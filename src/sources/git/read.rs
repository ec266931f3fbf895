//! Reading planned items in parallel: each worker owns a thread-local
//! repository handle (its own pack and delta-base caches) and takes runs of
//! items in pack order, so consecutive reads share delta bases.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gix::ObjectId;
use gix::objs::{CommitRef, Find as _, FindHeader as _, Kind, TagRef};

use super::{CommitInfo, GitError, History, Item, Origin, OriginKind, signature};
use crate::sources::{Blob, BlobRef, GitItem, SkipReason, Skipped};

/// How to read.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Worker threads.
    pub threads: usize,
    /// Skip blobs larger than this many bytes; 0 means no limit.
    pub max_file_size: u64,
}

/// Items a worker takes at a time: long enough to reuse delta bases, short
/// enough to balance the load at the end.
const RUN: usize = 32;

/// Where a blob read from history comes from, for a sink that can reuse
/// work: `derived` is set when the blob was decoded as a delta against a
/// blob the sink saw before.
pub type Sink<'s, S> =
    dyn Fn(GitItem<'_>, &Origin, Option<super::pack::Derived<'_, S>>) -> Option<S> + Sync + 's;

/// Hands every item of `history` to `sink`, from `options.threads` workers:
/// first every planned blob found in a pack, in delta order; then the rest
/// (commit and tag messages, loose objects, alternates, anything a pack walk
/// could not decode) looked up one by one, which also reports what cannot be
/// read.
pub(super) fn read_all<S: Send>(history: &History, options: &ReadOptions, sink: &Sink<'_, S>) {
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.max(1))
        .build()
    {
        Ok(pool) => pool,
        Err(_) => {
            // No threads to be had: read everything here, one by one.
            let repo = history.repo.to_thread_local();
            let mut buf = Vec::new();
            for item in &history.items {
                let read = read_item(&repo, item, options, &mut buf);
                sink(as_git_item(&read), &history.origin(item), None);
            }
            return;
        }
    };
    let items = &history.items;
    let done: Vec<AtomicBool> = items.iter().map(|_| AtomicBool::new(false)).collect();
    let repo = history.repo.to_thread_local();
    // Blobs, then commit messages, each in pack order.
    for (kind, origin) in [
        (Kind::Blob, OriginKind::Blob),
        (Kind::Commit, OriginKind::CommitMessage),
    ] {
        let wanted: gix::hashtable::HashMap<ObjectId, usize> = items
            .iter()
            .enumerate()
            .filter(|(_, item)| item.kind == origin)
            .map(|(i, item)| (item.object, i))
            .collect();
        let visitor = PackVisitor {
            history,
            options,
            kind,
            hash: repo.object_hash(),
            wanted: &wanted,
            done: &done,
            sink,
        };
        super::pack::walk_packs(&history.packs, &pool, &visitor);
    }

    let mut rest: Vec<&Item> = items
        .iter()
        .zip(&done)
        .filter(|(_, done)| !done.load(Ordering::Relaxed))
        .map(|(item, _)| item)
        .collect();
    sort_by_location(history, &mut rest);
    let next = AtomicUsize::new(0);
    let work = || {
        let repo = history.repo.to_thread_local();
        let mut buf = Vec::new();
        loop {
            let start = next.fetch_add(RUN, Ordering::Relaxed);
            if start >= rest.len() {
                break;
            }
            let end = (start + RUN).min(rest.len());
            for item in &rest[start..end] {
                let read = read_item(&repo, item, options, &mut buf);
                sink(as_git_item(&read), &history.origin(item), None);
            }
        }
    };
    pool.broadcast(|_| work());
}

/// Hands the planned blobs (or commit messages) a pack walk decodes to the
/// sink, each once.
struct PackVisitor<'a, 's, S> {
    history: &'a History,
    options: &'a ReadOptions,
    /// Blob or commit.
    kind: Kind,
    hash: gix::hash::Kind,
    /// Planned items of that kind, by object id.
    wanted: &'a gix::hashtable::HashMap<ObjectId, usize>,
    done: &'a [AtomicBool],
    sink: &'a Sink<'s, S>,
}

impl<S: Send> super::pack::Visitor for PackVisitor<'_, '_, S> {
    type State = S;

    fn kind(&self) -> gix::objs::Kind {
        self.kind
    }

    fn size_limit(&self) -> u64 {
        match self.kind {
            Kind::Blob => self.options.max_file_size,
            _ => 0,
        }
    }

    fn wants(&self, id: &gix::oid) -> bool {
        self.wanted
            .get(id)
            .is_some_and(|&i| !self.done[i].load(Ordering::Relaxed))
    }

    fn visit(
        &self,
        id: ObjectId,
        data: &[u8],
        derived: Option<super::pack::Derived<'_, S>>,
    ) -> Option<S> {
        let &index = self.wanted.get(&id)?;
        let (content, derived): (&[u8], _) = if self.kind == Kind::Commit {
            // A commit that does not parse is left for the one-by-one
            // reader, which reports it.
            let commit = CommitRef::from_bytes(data, self.hash).ok()?;
            (commit.message.as_ref(), None)
        } else {
            (data, derived)
        };
        if self.done[index].swap(true, Ordering::Relaxed) {
            return None;
        }
        let item = &self.history.items[index];
        let origin = self.history.origin(item);
        // The walk decodes nothing over the size limit (`size_limit`).
        let blob = GitItem::Blob(BlobRef {
            path: &item.path,
            data: content,
        });
        let state = (self.sink)(blob, &origin, derived);
        // A message is not a commit's bytes: nothing to hand a delta child.
        state.filter(|_| self.kind == Kind::Blob)
    }
}

/// What one-by-one reading gives: the content, or why there is none.
type ReadResult = Result<Blob, Skipped>;

/// The read as a history sink takes it.
fn as_git_item(read: &ReadResult) -> GitItem<'_> {
    match read {
        Ok(blob) => GitItem::Blob(blob.as_ref()),
        Err(skipped) => GitItem::Skipped(skipped.clone()),
    }
}

fn skip(item: &Item, reason: SkipReason, detail: String) -> ReadResult {
    Err(Skipped {
        path: item.path.clone(),
        reason,
        detail,
    })
}

fn what(item: &Item) -> &'static str {
    match item.kind {
        OriginKind::Blob => "blob",
        OriginKind::CommitMessage => "commit",
        OriginKind::TagMessage => "tag",
    }
}

fn read_item(
    repo: &gix::Repository,
    item: &Item,
    options: &ReadOptions,
    buf: &mut Vec<u8>,
) -> ReadResult {
    let id = item.object;
    if item.kind == OriginKind::Blob && options.max_file_size > 0 {
        match repo.objects.try_header(&id) {
            Ok(Some(header)) if header.size > options.max_file_size => {
                return skip(
                    item,
                    SkipReason::TooLarge,
                    format!(
                        "blob {id}: {} bytes > --max-file-size {}",
                        header.size, options.max_file_size
                    ),
                );
            }
            Ok(Some(_)) => {}
            Ok(None) => return missing(item),
            Err(err) => return unreadable_or_corrupt(item, &err),
        }
    }
    let data = match super::integrity::find_verified(repo, &id, buf) {
        Ok(Some(data)) => data,
        Ok(None) => return missing(item),
        Err(err) => {
            let (reason, detail) = err.skip_reason();
            return skip(
                item,
                reason,
                format!("{} {}: {detail}", what(item), item.object),
            );
        }
    };
    let content: &[u8] = match item.kind {
        OriginKind::Blob => data.data,
        OriginKind::CommitMessage => match CommitRef::from_bytes(data.data, repo.object_hash()) {
            Ok(commit) => commit.message,
            Err(err) => return corrupt(item, &err),
        },
        OriginKind::TagMessage => match TagRef::from_bytes(data.data, repo.object_hash()) {
            Ok(tag) => tag.message,
            Err(err) => return corrupt(item, &err),
        },
    };
    Ok(Blob {
        path: item.path.clone(),
        data: content.to_vec(),
    })
}

fn missing(item: &Item) -> ReadResult {
    skip(
        item,
        SkipReason::MissingObject,
        format!("{} {} is not in the repository", what(item), item.object),
    )
}

/// An object that could not be read: `unreadable` when the file system
/// refused (its object file may be fine: permissions, an I/O error), else
/// `corrupt_object`.
fn unreadable_or_corrupt(item: &Item, err: &gix::Error) -> ReadResult {
    match err.downcast_any_ref::<std::io::Error>() {
        Some(io) => skip(
            item,
            SkipReason::Unreadable,
            format!(
                "{} {}: its object file cannot be read: {}",
                what(item),
                item.object,
                crate::sources::io_detail(io)
            ),
        ),
        None => corrupt(item, err),
    }
}

fn corrupt(item: &Item, err: &dyn std::fmt::Display) -> ReadResult {
    skip(
        item,
        SkipReason::CorruptObject,
        format!("{} {}: {err:#}", what(item), item.object),
    )
}

/// Sorts the items left for one-by-one reading by where they are stored
/// (pack, then offset; loose objects and alternates last), so workers read
/// packs front to back and reuse delta bases. Looks ids up in the pack
/// indexes directly: gix's `location_by_oid` inflates each entry, which costs
/// more than the sort saves.
fn sort_by_location(history: &History, items: &mut [&Item]) {
    if history.packs.is_empty() {
        return;
    }
    items.sort_by_cached_key(|item| {
        history
            .packs
            .iter()
            .enumerate()
            .find_map(|(n, pack)| pack.offset_of(&item.object).map(|offset| (n, offset)))
            .unwrap_or((usize::MAX, 0))
    });
}

/// Every blob in the object database (packs, loose, alternates) that is not
/// in `known`.
pub(super) fn unreachable_blobs(
    repo: &gix::Repository,
    known: &HashSet<ObjectId>,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<ObjectId>, GitError> {
    let all = repo.objects.iter().map_err(|source| GitError::Objects {
        path: repo.git_dir().join("objects"),
        source,
    })?;
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut blobs = Vec::new();
    for id in all {
        let id = match id {
            Ok(id) => id,
            Err(err) => {
                skipped.push(Skipped {
                    path: "<objects>".to_string(),
                    reason: SkipReason::CorruptObject,
                    detail: format!("cannot list an object: {err:#}"),
                });
                continue;
            }
        };
        if known.contains(&id) || !seen.insert(id) {
            continue;
        }
        match repo.objects.try_header(&id) {
            Ok(Some(header)) if header.kind == Kind::Blob => blobs.push(id),
            Ok(_) => {}
            Err(err) => skipped.push(Skipped {
                path: super::UNREACHABLE_PATH.to_string(),
                reason: SkipReason::CorruptObject,
                detail: format!("object {id}: {err:#}"),
            }),
        }
    }
    Ok(blobs)
}

/// Author, date and subject of a commit.
pub(super) fn commit_info(repo: &gix::Repository, id: ObjectId) -> Option<CommitInfo> {
    let mut buf = Vec::new();
    let data = repo.objects.try_find(&id, &mut buf).ok()??;
    let commit = CommitRef::from_bytes(data.data, repo.object_hash()).ok()?;
    Some(CommitInfo {
        author: commit.author().map(signature).unwrap_or_default(),
        summary: commit.message().summary().to_string(),
    })
}
