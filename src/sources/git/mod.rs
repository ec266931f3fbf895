//! Git history as a source: every blob reachable from every ref (or, with
//! `--all-objects`, every blob in the object database), each exactly once,
//! plus commit and annotated-tag messages, with the first commit and path that
//! introduced each blob.
//!
//! Why this shape: a secret that was committed and later deleted is still in
//! every clone, so the audit reads objects, not checkouts. Reading each blob
//! once (not once per commit) keeps a 75 000-commit history affordable; the
//! attribution walk meets every tree once, oldest commit first, so the first
//! commit that holds a blob is the one that introduced it.
//!
//! Planning ([`History::plan`]) decodes every commit and every tree of each
//! pack once, in pack delta order and in parallel (`pack.rs`, `graph.rs`,
//! `forest.rs`), then walks refs, the commit graph, topological order and
//! trees in memory. Reading ([`History::read`]) walks the packs again for the
//! planned blobs and commit messages, in parallel; what no pack walk decodes
//! is looked up one by one. The source never calls the engine: it hands blobs
//! and their [`Origin`] to a sink.

pub mod everywhere;
mod forest;
mod graph;
mod integrity;
pub mod leftovers;
mod pack;
mod read;
mod refs;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use serde::Serialize;

use super::Skipped;

pub use pack::{CopyOp, Derived};
pub use read::{ReadOptions, Sink};

/// Errors that stop a history scan before any blob is read.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// No repository at or above the path.
    #[error(
        "{path}: not a git repository (nor any parent directory); run inside a repository or pass its path: `secretgate history PATH`"
    )]
    NotARepository {
        /// The path that was searched from.
        path: PathBuf,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// The references could not be listed.
    #[error("cannot list the references of {path}")]
    References {
        /// The repository's git directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: gix::Error,
    },
    /// A `--range` value is not `A..B`.
    #[error("invalid range {range:?}: expected `A..B` (or `A..` for A..HEAD)")]
    BadRange {
        /// The value as given.
        range: String,
    },
    /// A revision in `--range` / `--since-commit` does not name an object here.
    #[error(
        "cannot find {spec:?} in this repository; if this is a shallow clone, fetch more history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)"
    )]
    MissingRevision {
        /// The revision as given.
        spec: String,
        /// Why it did not resolve.
        #[source]
        source: Option<gix::Error>,
    },
    /// A revision resolved to something that is not a commit.
    #[error("{spec:?} is not a commit (it names a {kind})")]
    NotACommit {
        /// The revision as given.
        spec: String,
        /// The kind of object it names.
        kind: String,
    },
    /// `HEAD` is not what git requires, so git refuses the repository.
    #[error(
        "{path}: {problem}, so git does not take this for a repository (`fatal: not a git repository`); point it back at a branch, e.g. `printf 'ref: refs/heads/main\\n' > {path}`"
    )]
    BadHead {
        /// The `HEAD` file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A pack index is damaged: the objects of its pack cannot be found.
    #[error(
        "pack index {path} is corrupt: {problem}; the objects of {pack} cannot be found or read reliably through it. Move it aside and rebuild it from the pack (`git index-pack {pack}`), or restore it from a backup or a fresh clone"
    )]
    CorruptPackIndex {
        /// The `.idx` file.
        path: PathBuf,
        /// Its pack.
        pack: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A multi-pack index is damaged: objects read through it may be the
    /// wrong ones.
    #[error(
        "multi-pack index {path} is corrupt: {problem}; objects cannot be read reliably through it. Remove it and write it again from the packs (`git multi-pack-index write`), or restore it from a backup or a fresh clone"
    )]
    CorruptMultiPackIndex {
        /// The `multi-pack-index` file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The refs cannot all be read, so what reaches an object is unknown.
    #[error(
        "{path}: {problem}; the refs cannot all be read, so what still reaches each object cannot be told. Repair it (fix or remove the bad line, or restore the file from a backup or a fresh clone) and run again"
    )]
    UnreadableRefs {
        /// `packed-refs`, or the `refs` directory.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The object database could not be enumerated (`--all-objects`).
    #[error("cannot list the objects of {path}")]
    Objects {
        /// The objects directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: gix::Error,
    },
}

/// Which history to read.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Also read every blob in the object database that no ref reaches
    /// (loose, packed, alternates).
    pub all_objects: bool,
    /// Only commits reachable from `include` and not from `exclude`, and only
    /// blobs that `exclude`'s history does not already hold.
    pub range: Option<RevRange>,
    /// Threads for the tree walk (0 or 1: walk on the calling thread).
    pub threads: usize,
    /// Tags for file names; each blob's [`Origin::name_tags`] unites the
    /// tags of every name it had (see [`NameTags`]).
    pub name_tags: Option<NameTags>,
}

/// Tags tree entry names with small numbers, for the scan to learn which
/// blobs had a name of interest anywhere in history without the source
/// knowing why: the pipeline tags names with the sensitive-file rules that
/// could flag a path ending in them. A blob's tags (see
/// [`Origin::name_tags`]) unite `files` of every name it had and `dirs` of
/// every name of a directory that directly held it. Each function runs once
/// per distinct name (git.git's 61M tree entries have 7k names), never per
/// entry.
#[derive(Clone)]
pub struct NameTags {
    /// Tags of a file's own name.
    pub files: std::sync::Arc<TagName>,
    /// Tags every file directly inside a directory of that name gets.
    pub dirs: std::sync::Arc<TagName>,
}

/// A function inside [`NameTags`]: a name's tags, none for most names.
pub type TagName = dyn Fn(&str) -> Vec<u32> + Send + Sync;

impl std::fmt::Debug for NameTags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NameTags")
    }
}

/// `A..B`: what B added on top of A. A pre-push has several of each: every
/// pushed tip, minus everything the remote already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevRange {
    /// A: their history is excluded (may be empty: the whole history of B).
    pub exclude: Vec<String>,
    /// B: what is scanned.
    pub include: Vec<String>,
    /// For each of `include`, the name a blob or tree it names is shown
    /// under (the ref a push updates); the revision itself when missing.
    pub names: Vec<String>,
}

impl RevRange {
    /// Parses `A..B`; an empty B means `HEAD`.
    pub fn parse(range: &str) -> Result<RevRange, GitError> {
        let bad = || GitError::BadRange {
            range: range.to_string(),
        };
        let (exclude, include) = range.split_once("..").ok_or_else(bad)?;
        if exclude.is_empty() || include.starts_with('.') {
            return Err(bad());
        }
        Ok(RevRange {
            exclude: vec![exclude.to_string()],
            include: vec![if include.is_empty() {
                "HEAD".to_string()
            } else {
                include.to_string()
            }],
            names: Vec::new(),
        })
    }

    /// `A..B` as people write it, for the summary.
    pub fn describe(&self) -> String {
        let excluded = self.exclude.join(" ^");
        let included = self.include.join(" ");
        if self.exclude.len() == 1 && self.include.len() == 1 {
            format!("{excluded}..{included}")
        } else if excluded.is_empty() {
            included
        } else {
            format!("{included} ^{excluded}")
        }
    }
}

/// What the history scan covered; reported in the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HistoryStats {
    /// References read (HEAD included).
    pub refs: u64,
    /// Commits whose trees and messages were scanned.
    pub commits: u64,
    /// Distinct blobs found (reachable ones, plus unreachable with `--all-objects`).
    pub blobs: u64,
    /// Blobs no ref reaches, read because of `--all-objects`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_blobs: Option<u64>,
    /// Annotated tags whose messages were scanned.
    pub tags: u64,
    /// Whether the repository is a shallow clone (history stops early).
    pub shallow: bool,
    /// The range scanned, `A..B`, if one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// Things the reader should know (a shallow clone, an empty repository).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What an item is, so findings can say where they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginKind {
    /// File content.
    Blob,
    /// A commit's message.
    CommitMessage,
    /// An annotated tag's message.
    TagMessage,
}

/// Where one scanned item came from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Blob, commit message or tag message.
    pub kind: OriginKind,
    /// The object read: the blob, the commit or the tag.
    pub object: ObjectId,
    /// The commit that introduced the blob (or owns the message); for a tag
    /// message, the commit the tag points at. `None` for unreachable blobs.
    pub commit: Option<ObjectId>,
    /// For tag messages: the tag.
    pub tag: Option<TagInfo>,
    /// Whether a ref reaches the object.
    pub reachable: bool,
    /// For a blob: the union of the [`NameTags`] of every name it had in any
    /// tree of the repository (not only its first path's); `None` when no
    /// name of it was tagged.
    pub name_tags: Option<std::sync::Arc<[u32]>>,
}

/// A person and a time, as a report shows them.
#[derive(Debug, Clone, Default)]
pub struct Signature {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// RFC 3339 date with the signer's offset.
    pub date: String,
}

/// What a report says about a commit.
#[derive(Debug, Clone, Default)]
pub struct CommitInfo {
    /// The author.
    pub author: Signature,
    /// The subject: the message's first paragraph, on one line.
    pub summary: String,
}

/// An annotated tag whose message is scanned.
#[derive(Debug, Clone)]
pub struct TagInfo {
    /// The tag object id.
    pub id: ObjectId,
    /// The tag's name (`v1.0`).
    pub name: String,
    /// Who tagged, if recorded.
    pub tagger: Option<Signature>,
    /// The commit the tag (eventually) points at.
    pub commit: Option<ObjectId>,
}

/// How often a blob occurs in the scanned history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    /// Commits whose tree holds the blob.
    pub commits: u64,
    /// Every distinct path the blob has had, sorted.
    pub paths: BTreeSet<String>,
    /// The same paths in the order they first appeared (commits parents
    /// first), each with the first commit that held the blob there.
    #[serde(skip)]
    pub first_seen: Vec<(String, ObjectId)>,
}

/// Pseudo-path of a commit message.
pub const COMMIT_MESSAGE_PATH: &str = "<commit message>";
/// Pseudo-path of an annotated tag message.
pub const TAG_MESSAGE_PATH: &str = "<tag message>";
/// Pseudo-path of a blob no commit reaches.
pub const UNREACHABLE_PATH: &str = "<unreachable blob>";

/// One unit of work for the reader.
#[derive(Debug, Clone)]
struct Item {
    object: ObjectId,
    kind: OriginKind,
    path: String,
    /// Index into the commit graph, or the tag index for tag messages.
    owner: Option<u32>,
    reachable: bool,
    /// Index into [`History::tag_sets`], or `u32::MAX` for none.
    tags: u32,
}

/// An opened repository with its history planned: every blob to read, once.
#[derive(Debug)]
pub struct History {
    repo: gix::ThreadSafeRepository,
    graph: graph::Graph,
    /// Commits in scope (all, or the range), as graph indices.
    scope: Vec<u32>,
    items: Vec<Item>,
    /// Every tree of the plan, for the occurrence pass.
    tree_index: forest::Trees,
    /// The packs, opened once for planning and reading.
    packs: Vec<pack::Pack>,
    tags: Vec<TagInfo>,
    /// Blobs a ref (a tag) names directly, with those refs' names: each is
    /// a place the blob is, for the path rules, besides its tree paths.
    ref_blobs: std::collections::HashMap<ObjectId, Vec<String>>,
    /// The distinct unions of name tags that blobs carry (see [`NameTags`]).
    tag_sets: Vec<std::sync::Arc<[u32]>>,
    stats: HistoryStats,
    /// Objects that could not be read while planning.
    skipped: Vec<Skipped>,
}

/// Opens the repository at or above `path` (work trees, linked work trees,
/// `.git` files and bare repositories alike).
///
/// Damage git itself refuses (a garbage `HEAD`) or that would make objects
/// vanish silently (a corrupt pack index) is an error naming the file.
pub fn open(path: &Path) -> Result<gix::ThreadSafeRepository, GitError> {
    let repo =
        gix::ThreadSafeRepository::discover(path).map_err(|source| GitError::NotARepository {
            path: path.to_path_buf(),
            source,
        })?;
    integrity::check(&repo.to_thread_local())?;
    Ok(repo)
}

impl History {
    /// Reads refs, the commit graph and every tree; decides which blobs and
    /// messages to read and which commit introduced each blob.
    pub fn plan(
        repo: gix::ThreadSafeRepository,
        options: &HistoryOptions,
    ) -> Result<History, GitError> {
        let local = repo.to_thread_local();
        let mut skipped = Vec::new();
        let mut stats = HistoryStats::default();
        let shallow = refs::shallow_boundary(&local);
        stats.shallow = !shallow.is_empty();

        let (tips, tags, boundary) = match &options.range {
            None => {
                let found = refs::all_tips(&local, &mut skipped)?;
                stats.refs = found.refs;
                (found.tips, found.tags, Vec::new())
            }
            Some(range) => {
                // What B names is peeled as a ref is: a pushed annotated tag
                // brings its message, and may name a tree or a blob.
                let mut found = refs::Tips::default();
                for (i, spec) in range.include.iter().enumerate() {
                    let name = range.names.get(i).unwrap_or(spec);
                    refs::resolve_tip(&local, spec, name, &mut found, &mut skipped)?;
                }
                let exclude = range
                    .exclude
                    .iter()
                    .map(|spec| refs::resolve_commit(&local, spec))
                    .collect::<Result<Vec<_>, _>>()?;
                stats.range = Some(range.describe());
                stats.refs = (range.include.len() + exclude.len()) as u64;
                let mut tips = found.tips;
                tips.extend(exclude.iter().map(|&id| refs::Tip::Commit(id)));
                (tips, found.tags, exclude)
            }
        };

        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.threads.max(1))
            .build()
            .ok();
        // Commits and trees are decoded in pack order first (each once, in
        // parallel); the walks below then read from memory.
        let packs = pack::open_packs(local.objects.store_ref().path(), local.object_hash());
        let decoded = match &pool {
            Some(pool) => {
                let visitor = graph::CommitVisitor::new(local.object_hash());
                pack::walk_packs(&packs, pool, &visitor);
                visitor.into_headers()
            }
            None => Default::default(),
        };
        let graph = graph::walk(&local, &tips, &shallow, &decoded, &mut skipped);
        drop(decoded);
        let order = graph.topological_order();
        let excluded = graph.ancestors(&boundary);
        let scope: Vec<u32> = order
            .iter()
            .copied()
            .filter(|&c| !excluded[c as usize])
            .collect();
        stats.commits = scope.len() as u64;

        let forest = match &pool {
            Some(pool) => {
                let visitor = forest::TreeVisitor::new(local.object_hash());
                pack::walk_packs(&packs, pool, &visitor);
                visitor.into_forest()
            }
            // No threads to be had: every tree is read one by one below.
            None => forest::Forest::default(),
        };
        let mut attribution = forest::Attribution::new(&local, forest);
        let mut ref_blobs: std::collections::HashMap<ObjectId, Vec<String>> = Default::default();
        for &c in order.iter().filter(|&&c| excluded[c as usize]) {
            attribution.exclude_commit(&graph, c, &mut skipped);
        }
        for &c in &scope {
            attribution.attribute_commit(&graph, c, &mut skipped);
        }
        for tip in &tips {
            match tip {
                refs::Tip::Tree { id, name } => attribution.attribute_tree(*id, name, &mut skipped),
                refs::Tip::Blob { id, name } => {
                    ref_blobs.entry(*id).or_default().push(name.clone());
                    attribution.attribute_blob(*id, name);
                }
                refs::Tip::Commit(_) => {}
            }
        }
        let walked = attribution.into_walked();
        let name_tags = options.name_tags.as_ref();
        let attributed = match &pool {
            Some(pool) => pool.install(|| walked.finish(options.all_objects, name_tags)),
            None => walked.finish(options.all_objects, name_tags),
        };
        let tag_sets = attributed.tag_sets;
        skipped.extend(attributed.submodules);
        let mut known = attributed.known;
        let mut items = attributed.items;
        let tree_index = attributed.trees;
        stats.blobs = items.len() as u64;

        if options.all_objects {
            known.extend(graph.nodes.iter().map(|c| c.id));
            known.extend(tags.iter().map(|t| t.id));
            let unreachable = read::unreachable_blobs(&local, &known, &mut skipped)?;
            stats.unreachable_blobs = Some(unreachable.len() as u64);
            stats.blobs += unreachable.len() as u64;
            items.extend(unreachable.into_iter().map(|object| Item {
                object,
                kind: OriginKind::Blob,
                path: UNREACHABLE_PATH.to_string(),
                owner: None,
                reachable: false,
                tags: u32::MAX,
            }));
        }
        items.extend(scope.iter().map(|&c| Item {
            object: graph.nodes[c as usize].id,
            kind: OriginKind::CommitMessage,
            path: COMMIT_MESSAGE_PATH.to_string(),
            owner: Some(c),
            reachable: true,
            tags: u32::MAX,
        }));
        items.extend(tags.iter().enumerate().map(|(i, tag)| Item {
            object: tag.id,
            kind: OriginKind::TagMessage,
            path: TAG_MESSAGE_PATH.to_string(),
            owner: Some(i as u32),
            reachable: true,
            tags: u32::MAX,
        }));
        stats.tags = tags.len() as u64;

        if stats.shallow {
            stats.notes.push(format!(
                "shallow clone: history stops at {} boundary commit(s); fetch more (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout) to scan the rest",
                shallow.len()
            ));
        }
        if refs::is_partial_clone(&local) {
            stats.notes.push(
                "partial clone: blobs the clone filtered out are not on disk; secretgate never fetches, so each is listed as a missing object; scan a full clone (without --filter) to read them".to_string(),
            );
        }
        // Refs naming objects that cannot be read are not an empty history:
        // the skipped list says what is missing.
        if graph.nodes.is_empty() && options.range.is_none() && skipped.is_empty() {
            stats
                .notes
                .push("the repository has no commits: nothing to scan".to_string());
        }
        Ok(History {
            repo,
            graph,
            scope,
            items,
            tree_index,
            packs,
            tags,
            ref_blobs,
            tag_sets,
            stats,
            skipped,
        })
    }

    /// What the plan covers.
    pub fn stats(&self) -> &HistoryStats {
        &self.stats
    }

    /// How many items [`History::read`] will hand to its sink (blobs and
    /// messages), for a progress bar.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Objects that could not be read while planning (missing or corrupt
    /// commits and trees); each is an unread part of history.
    pub fn take_skipped(&mut self) -> Vec<Skipped> {
        std::mem::take(&mut self.skipped)
    }

    /// Reads every planned item in parallel and hands it to `sink` with its
    /// origin; blobs over the size limit and unreadable objects arrive as
    /// skips.
    ///
    /// Blobs stored as deltas in a pack arrive with their base and the
    /// delta's copies ([`Derived`]) when the sink kept a state for the base,
    /// so it can reuse what it learnt there.
    pub fn read<S: Send>(&self, options: &ReadOptions, sink: &Sink<'_, S>) {
        read::read_all(self, options, sink);
    }

    /// The refs (tags) that name `blob` directly: places it is pushed and
    /// kept under, besides the paths of the trees holding it.
    pub fn ref_names(&self, blob: &ObjectId) -> &[String] {
        self.ref_blobs.get(blob).map_or(&[], Vec::as_slice)
    }

    /// Author, date and subject of `commit`, read again from the database.
    pub fn commit_info(&self, commit: ObjectId) -> Option<CommitInfo> {
        read::commit_info(&self.repo.to_thread_local(), commit)
    }

    /// For each of `blobs`: how many scanned commits hold it, and under which
    /// paths. Decodes each tree once, remembering only which of `blobs` it
    /// contains.
    pub fn occurrences(
        &self,
        blobs: &BTreeSet<ObjectId>,
    ) -> std::collections::HashMap<ObjectId, Occurrence> {
        self.tree_index.occurrences(&self.graph, &self.scope, blobs)
    }

    fn origin(&self, item: &Item) -> Origin {
        let owner = item.owner.map(|i| i as usize);
        match item.kind {
            OriginKind::TagMessage => {
                let tag = owner.and_then(|i| self.tags.get(i)).cloned();
                Origin {
                    kind: item.kind,
                    object: item.object,
                    commit: tag.as_ref().and_then(|t| t.commit),
                    tag,
                    reachable: item.reachable,
                    name_tags: None,
                }
            }
            _ => Origin {
                kind: item.kind,
                object: item.object,
                commit: owner.and_then(|i| self.graph.nodes.get(i)).map(|n| n.id),
                tag: None,
                reachable: item.reachable,
                name_tags: self.tag_sets.get(item.tags as usize).cloned(),
            },
        }
    }
}

/// Formats a git time as RFC 3339 with its own offset.
fn rfc3339(time: gix::date::Time) -> String {
    time.format_or_unix(gix::date::time::format::ISO8601_STRICT)
}

fn signature(sig: gix::actor::SignatureRef<'_>) -> Signature {
    let sig = sig.trim();
    Signature {
        name: sig.name.to_string(),
        email: sig.email.to_string(),
        date: sig.time().map(rfc3339).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::RevRange;

    #[test]
    fn ranges_parse() {
        let r = RevRange::parse("v1..main").unwrap();
        assert_eq!(
            (r.exclude.as_slice(), r.include.as_slice()),
            (&["v1".to_string()][..], &["main".to_string()][..])
        );
        assert_eq!(r.describe(), "v1..main");
        assert_eq!(RevRange::parse("abc..").unwrap().include, ["HEAD"]);
        assert!(RevRange::parse("..main").is_err());
        assert!(RevRange::parse("main").is_err());
        assert!(RevRange::parse("a...b").is_err());
    }
}
