//! Everything a repository still holds, for `secretgate verify` after a
//! history rewrite: every object in the object database (loose, every pack,
//! alternates; reachable or not) is searched for exact byte strings, and each
//! object found is traced back to what keeps it alive — refs (including
//! `refs/original/` and `refs/stash`), every reflog entry (HEAD's and the
//! stash's included), and the HEAD and index of every work tree — with the
//! commit and path where it sits.
//!
//! Why objects and not history: a rewrite leaves the old objects on disk
//! until reflogs expire and `git gc` prunes them, and a push of any ref that
//! still reaches one publishes it again. The object database is the ground
//! truth; the trace only tells the user which door to close.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aho_corasick::AhoCorasick;
use gix::ObjectId;
use gix::objs::{Find as _, FindHeader as _, Kind, TagRef, TreeRefIter};
use gix::refs::TargetRef;

use super::GitError;
use super::graph;
use super::refs::Tip;
use crate::sources::{SkipReason, Skipped};

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Exact byte strings (secrets as stored). Each is also looked for in
    /// UTF-16 (LE and BE), as Windows tools write text.
    pub values: Vec<Vec<u8>>,
    /// Objects that must be gone (blobs of whole secret files).
    pub objects: BTreeSet<ObjectId>,
    /// Paths that must not be in any tree any more (whole secret files).
    pub paths: BTreeSet<String>,
    /// Worker threads for the object search.
    pub threads: usize,
    /// Whether to look inside archive blobs too, and within which limits.
    pub archives: Option<crate::sources::archive::Limits>,
}

/// Where an object or path is still reachable from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// `refs/heads/main`, `HEAD`, `refs/heads/main@{2}` (a reflog entry),
    /// `refs/stash@{1}`, or `index`.
    pub root: String,
    /// The newest commit on that root's history that holds it (`None` for the
    /// index and for objects a ref names directly).
    pub commit: Option<ObjectId>,
    /// Path in that commit's tree, or `<commit message>` / `<tag message>`.
    pub path: String,
}

/// An object that still holds a searched value, or is a searched object.
#[derive(Debug, Clone)]
pub struct Survivor {
    /// The object.
    pub object: ObjectId,
    /// `blob`, `tree`, `commit` or `tag`.
    pub kind: &'static str,
    /// Indices into [`Query::values`] found in it.
    pub values: Vec<usize>,
    /// Whether the object itself is in [`Query::objects`].
    pub listed: bool,
    /// What reaches it; empty when nothing does (an unreachable object that
    /// `git gc --prune=now` removes).
    pub places: Vec<Place>,
}

/// A searched path still present in some tree.
#[derive(Debug, Clone)]
pub struct PathSurvivor {
    /// The path.
    pub path: String,
    /// The blob at that path.
    pub blob: ObjectId,
    /// What reaches it.
    pub places: Vec<Place>,
}

/// Counts for the summary.
#[derive(Debug, Clone, Default)]
pub struct EverywhereStats {
    /// Objects in the database that were read.
    pub objects: u64,
    /// Bytes of object content searched.
    pub bytes: u64,
    /// Refs read (HEAD included).
    pub refs: u64,
    /// Reflog entries read.
    pub reflog_entries: u64,
    /// Commits walked to trace survivors.
    pub commits: u64,
}

/// The result of a search.
#[derive(Debug, Default)]
pub struct Everywhere {
    /// Objects still holding something searched, by object id.
    pub survivors: Vec<Survivor>,
    /// Searched paths still in a tree.
    pub paths: Vec<PathSurvivor>,
    /// What was read.
    pub stats: EverywhereStats,
    /// Objects that could not be read: each may hold a survivor.
    pub skipped: Vec<Skipped>,
    /// Things worth knowing that are not failures (a reflog entry naming an
    /// object that is already gone).
    pub notes: Vec<String>,
}

/// Searches every object of `repo` and traces what is found.
pub fn search(repo: &gix::ThreadSafeRepository, query: &Query) -> Result<Everywhere, GitError> {
    let local = repo.to_thread_local();
    check_refs(&local)?;
    let mut result = Everywhere::default();
    let ids = all_objects(&local, &mut result.skipped)?;
    let found = scan_objects(repo, &ids, query, &mut result);
    let mut survivors: Vec<Survivor> = found.into_values().collect();
    survivors.sort_by_key(|s| s.object);
    result.survivors = survivors;
    trace(&local, query, &mut result);
    Ok(result)
}

/// Every ref must be listed before anything is traced: a ref that cannot be
/// read would make what only it reaches look unreachable ("`git gc`
/// removes it"), which is false. A broken `packed-refs` (or a ref store that
/// cannot be listed) is an error naming the file and the bad line.
fn check_refs(repo: &gix::Repository) -> Result<(), GitError> {
    let packed = repo.common_dir().join("packed-refs");
    let broken = |problem: String| GitError::UnreadableRefs {
        path: if packed.symlink_metadata().is_ok() {
            packed.clone()
        } else {
            repo.common_dir().join("refs")
        },
        problem,
    };
    if packed.symlink_metadata().is_ok() {
        let text = std::fs::read(&packed).map_err(|err| broken(crate::sources::io_detail(&err)))?;
        if let Some(problem) = packed_refs_problem(&text) {
            return Err(broken(problem));
        }
    }
    let platform = repo
        .references()
        .map_err(|err| broken(format!("the refs cannot be listed: {err:#}")))?;
    for reference in platform
        .all()
        .map_err(|err| broken(format!("the refs cannot be listed: {err:#}")))?
    {
        reference.map_err(|err| broken(format!("a ref cannot be read: {err:#}")))?;
    }
    Ok(())
}

/// The first line of a `packed-refs` file that is not what git writes: a
/// `#` header first, then `<object id> <ref name>` lines, each optionally
/// followed by a `^<object id>` (the tag's peeled target).
fn packed_refs_problem(text: &[u8]) -> Option<String> {
    let is_id = |hex: &[u8]| matches!(hex.len(), 40 | 64) && hex.iter().all(u8::is_ascii_hexdigit);
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let fine = match line.first() {
            None => true,
            Some(b'#') => index == 0,
            Some(b'^') => is_id(&line[1..]),
            Some(_) => line
                .iter()
                .position(|&b| b == b' ')
                .is_some_and(|space| is_id(&line[..space]) && line.len() > space + 1),
        };
        if !fine {
            return Some(format!(
                "line {} is not `<object id> <ref name>` (git says `unexpected line in packed-refs` too)",
                index + 1
            ));
        }
    }
    None
}

/// Every object id in the database, each once.
fn all_objects(
    repo: &gix::Repository,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<ObjectId>, GitError> {
    let all = repo.objects.iter().map_err(|source| GitError::Objects {
        path: repo.git_dir().join("objects"),
        source,
    })?;
    let mut ids = Vec::new();
    for id in all {
        match id {
            Ok(id) => ids.push(id),
            Err(err) => skipped.push(Skipped {
                path: "<objects>".to_string(),
                reason: SkipReason::CorruptObject,
                detail: format!("cannot list an object: {err:#}"),
            }),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The automaton over every value and its UTF-16 forms, with the value each
/// pattern stands for.
pub(super) fn automaton(values: &[Vec<u8>]) -> Option<(AhoCorasick, Vec<usize>)> {
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    let mut owners = Vec::new();
    for (index, value) in values.iter().enumerate() {
        if value.is_empty() {
            continue;
        }
        let mut forms = vec![value.clone()];
        if let Ok(text) = std::str::from_utf8(value) {
            let units: Vec<u16> = text.encode_utf16().collect();
            forms.push(units.iter().flat_map(|u| u.to_le_bytes()).collect());
            forms.push(units.iter().flat_map(|u| u.to_be_bytes()).collect());
        }
        for form in forms {
            patterns.push(form);
            owners.push(index);
        }
    }
    if patterns.is_empty() {
        return None;
    }
    AhoCorasick::new(&patterns).ok().map(|ac| (ac, owners))
}

/// Reads every object in parallel and keeps those holding a value or listed
/// in the query.
fn scan_objects(
    repo: &gix::ThreadSafeRepository,
    ids: &[ObjectId],
    query: &Query,
    result: &mut Everywhere,
) -> HashMap<ObjectId, Survivor> {
    let automaton = automaton(&query.values);
    let run = crate::sources::archive::RunBudget::default();
    let found: Mutex<HashMap<ObjectId, Survivor>> = Mutex::new(HashMap::new());
    let skipped: Mutex<Vec<Skipped>> = Mutex::new(Vec::new());
    let objects = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    const RUN: usize = 256;
    let work = || {
        let repo = repo.to_thread_local();
        let mut buf = Vec::new();
        loop {
            let start = next.fetch_add(RUN, Ordering::Relaxed);
            if start >= ids.len() {
                break;
            }
            for id in &ids[start..(start + RUN).min(ids.len())] {
                let listed = query.objects.contains(id);
                let mut kind = None;
                let mut values = BTreeSet::new();
                if let Some((ac, owners)) = &automaton {
                    match repo.objects.try_find(id, &mut buf) {
                        Ok(Some(data)) => {
                            objects.fetch_add(1, Ordering::Relaxed);
                            bytes.fetch_add(data.data.len(), Ordering::Relaxed);
                            kind = Some(data.kind);
                            for hit in ac.find_overlapping_iter(data.data) {
                                values.insert(owners[hit.pattern().as_usize()]);
                            }
                            if let (Some(limits), Kind::Blob) = (&query.archives, data.kind) {
                                let mut inside = |entry: &[u8]| {
                                    for hit in ac.find_overlapping_iter(entry) {
                                        values.insert(owners[hit.pattern().as_usize()]);
                                    }
                                };
                                let unread = crate::sources::archive::each_entry(
                                    data.data,
                                    limits,
                                    &run,
                                    &mut inside,
                                );
                                for (inner, reason, detail) in unread {
                                    lock(&skipped).push(Skipped {
                                        path: format!("{id}!{inner}"),
                                        reason,
                                        detail,
                                    });
                                }
                            }
                        }
                        Ok(None) => {
                            // Listed a moment ago, gone now: a concurrent gc.
                        }
                        Err(err) => {
                            lock(&skipped).push(Skipped {
                                path: "<objects>".to_string(),
                                reason: SkipReason::CorruptObject,
                                detail: format!("object {id}: {err:#}"),
                            });
                        }
                    }
                } else {
                    objects.fetch_add(1, Ordering::Relaxed);
                }
                if values.is_empty() && !listed {
                    continue;
                }
                let kind = match kind {
                    Some(kind) => kind,
                    None => match repo.objects.try_header(id) {
                        Ok(Some(header)) => header.kind,
                        _ => Kind::Blob,
                    },
                };
                lock(&found).insert(
                    *id,
                    Survivor {
                        object: *id,
                        kind: kind_name(kind),
                        values: values.into_iter().collect(),
                        listed,
                        places: Vec::new(),
                    },
                );
            }
        }
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(query.threads.max(1))
        .build()
    {
        Ok(pool) => {
            pool.broadcast(|_| work());
        }
        Err(_) => work(),
    }
    result.stats.objects = objects.into_inner() as u64;
    result.stats.bytes = bytes.into_inner() as u64;
    result.skipped.extend(into_inner(skipped));
    into_inner(found)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn into_inner<T>(mutex: Mutex<T>) -> T {
    match mutex.into_inner() {
        Ok(inner) => inner,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Blob => "blob",
        Kind::Tree => "tree",
        Kind::Commit => "commit",
        Kind::Tag => "tag",
    }
}

/// Something a tree walk or a commit reaches: a surviving object, or a
/// searched path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Target {
    Object(usize),
    Path(usize),
}

/// Where a target sits below a commit: the newest commit holding it, and the
/// path.
type Reach = BTreeMap<Target, (ObjectId, String)>;

/// Finds, for every survivor and searched path, the refs, reflog entries and
/// index entries that keep it.
fn trace(repo: &gix::Repository, query: &Query, result: &mut Everywhere) {
    let roots = roots(repo, result);
    let by_id: HashMap<ObjectId, usize> = result
        .survivors
        .iter()
        .enumerate()
        .map(|(i, s)| (s.object, i))
        .collect();
    if by_id.is_empty() && query.paths.is_empty() {
        return;
    }
    let mut walker = TreeWalker::new(repo, &by_id, &query.paths);
    let mut places: BTreeSet<(Target, Place)> = BTreeSet::new();
    let mut path_blobs: Vec<(String, ObjectId)> = Vec::new();
    let mut path_index: HashMap<(String, ObjectId), usize> = HashMap::new();
    let mut target_of_path = |path: &str, blob: ObjectId| -> Target {
        let key = (path.to_string(), blob);
        let next = path_blobs.len();
        let index = *path_index.entry(key.clone()).or_insert(next);
        if index == next {
            path_blobs.push(key);
        }
        Target::Path(index)
    };

    // Peel every root to a commit, tree or blob, noting tags on the way.
    let mut tips = Vec::new();
    let mut commit_roots: Vec<(String, ObjectId)> = Vec::new();
    let mut buf = Vec::new();
    for (name, id) in &roots {
        let mut id = *id;
        for _ in 0..64 {
            let data = match repo.objects.try_find(&id, &mut buf) {
                Ok(Some(data)) => data,
                Ok(None) => {
                    result.notes.push(format!(
                        "{name} names object {id}, which is no longer in the repository"
                    ));
                    break;
                }
                Err(err) => {
                    result.notes.push(format!("{name}: object {id}: {err:#}"));
                    break;
                }
            };
            match data.kind {
                Kind::Tag => {
                    if let Some(&i) = by_id.get(&id) {
                        places.insert((
                            Target::Object(i),
                            Place {
                                root: name.clone(),
                                commit: None,
                                path: super::TAG_MESSAGE_PATH.to_string(),
                            },
                        ));
                    }
                    match TagRef::from_bytes(data.data, repo.object_hash()) {
                        Ok(tag) => id = tag.target(),
                        Err(_) => break,
                    }
                }
                Kind::Commit => {
                    tips.push(Tip::Commit(id));
                    commit_roots.push((name.clone(), id));
                    break;
                }
                Kind::Tree => {
                    for (found, path) in walker.tree(id) {
                        if let Some(target) =
                            resolve(found, &path, &query.paths, &mut target_of_path)
                        {
                            places.insert((
                                target,
                                Place {
                                    root: name.clone(),
                                    commit: None,
                                    path,
                                },
                            ));
                        }
                    }
                    break;
                }
                Kind::Blob => {
                    if let Some(&i) = by_id.get(&id) {
                        places.insert((
                            Target::Object(i),
                            Place {
                                root: name.clone(),
                                commit: None,
                                path: name.clone(),
                            },
                        ));
                    }
                    break;
                }
            }
        }
    }

    let mut missing = Vec::new();
    let graph = graph::walk(
        repo,
        &tips,
        &HashSet::new(),
        &Default::default(),
        &mut missing,
    );
    for skip in missing {
        result.notes.push(skip.detail);
    }
    result.stats.commits = graph.nodes.len() as u64;
    let mut reach: Vec<Option<Rc<Reach>>> = vec![None; graph.nodes.len()];
    for c in graph.topological_order() {
        let node = &graph.nodes[c as usize];
        let mut own = Reach::new();
        if let Some(&i) = by_id.get(&node.id) {
            own.insert(
                Target::Object(i),
                (node.id, super::COMMIT_MESSAGE_PATH.to_string()),
            );
        }
        if let Some(&i) = by_id.get(&node.tree) {
            own.insert(Target::Object(i), (node.id, ".".to_string()));
        }
        for (found, path) in walker.tree(node.tree) {
            if let Some(target) = resolve(found, &path, &query.paths, &mut target_of_path) {
                own.insert(target, (node.id, path));
            }
        }
        let parents: Vec<&Rc<Reach>> = node
            .parents
            .iter()
            .filter_map(|&p| reach[p as usize].as_ref())
            .collect();
        let merged = match (own.is_empty(), parents.as_slice()) {
            (true, []) => Rc::new(Reach::new()),
            (true, [only]) => Rc::clone(only),
            _ => {
                let mut all = Reach::new();
                for parent in parents.iter().rev() {
                    all.extend(parent.iter().map(|(k, v)| (*k, v.clone())));
                }
                all.extend(own);
                Rc::new(all)
            }
        };
        reach[c as usize] = Some(merged);
    }
    let index_of: HashMap<ObjectId, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i))
        .collect();
    for (name, commit) in &commit_roots {
        let Some(Some(found)) = index_of.get(commit).map(|&i| &reach[i]) else {
            continue;
        };
        for (target, (holder, path)) in found.iter() {
            places.insert((
                *target,
                Place {
                    root: name.clone(),
                    commit: Some(*holder),
                    path: path.clone(),
                },
            ));
        }
    }

    // Every work tree's index: what is staged is kept by `git gc` too.
    for (worktree, label) in worktrees(repo) {
        let index = match worktree.index_or_empty() {
            Ok(index) => index,
            Err(err) => {
                result.skipped.push(Skipped {
                    path: format!("<{label}>"),
                    reason: SkipReason::Unreadable,
                    detail: format!("cannot read the {label}: {err:#}"),
                });
                continue;
            }
        };
        for entry in index.entries() {
            let path = entry.path(&index).to_string();
            let target = if let Some(&i) = by_id.get(&entry.id) {
                Some(Target::Object(i))
            } else if query.paths.contains(&path) {
                Some(target_of_path(&path, entry.id))
            } else {
                None
            };
            if let Some(target) = target {
                places.insert((
                    target,
                    Place {
                        root: label.clone(),
                        commit: None,
                        path,
                    },
                ));
            }
        }
    }

    let mut paths: Vec<PathSurvivor> = path_blobs
        .into_iter()
        .map(|(path, blob)| PathSurvivor {
            path,
            blob,
            places: Vec::new(),
        })
        .collect();
    for (target, place) in places {
        match target {
            Target::Object(i) => result.survivors[i].places.push(place),
            Target::Path(i) => paths[i].places.push(place),
        }
    }
    paths.sort_by(|a, b| (&a.path, a.blob).cmp(&(&b.path, b.blob)));
    result.paths = paths;
}

/// A target found under a root tree, with its full path: a surviving object
/// always counts; a blob whose path ends a searched path only when the full
/// path is searched.
fn resolve(
    found: Found,
    path: &str,
    paths: &BTreeSet<String>,
    target_of_path: &mut impl FnMut(&str, ObjectId) -> Target,
) -> Option<Target> {
    match found {
        Found::Object(i) => Some(Target::Object(i)),
        Found::MaybePath(blob) => paths.contains(path).then(|| target_of_path(path, blob)),
    }
}

/// What a tree holds that matters: a surviving object, or a blob whose path
/// may be a searched path once its prefix is known.
#[derive(Debug, Clone, Copy)]
enum Found {
    Object(usize),
    MaybePath(ObjectId),
}

/// Decodes each tree once and remembers, per tree, only the entries that
/// matter (paths relative to that tree).
struct TreeWalker<'r> {
    repo: &'r gix::Repository,
    by_id: &'r HashMap<ObjectId, usize>,
    /// Every suffix (`a/b/.env`, `b/.env`, `.env`) of every searched path.
    suffixes: HashSet<String>,
    memo: HashMap<ObjectId, Rc<Vec<(Found, String)>>>,
    /// Shared by every tree that holds nothing of interest (nearly all).
    empty: Rc<Vec<(Found, String)>>,
    buf: Vec<u8>,
}

impl<'r> TreeWalker<'r> {
    fn new(
        repo: &'r gix::Repository,
        by_id: &'r HashMap<ObjectId, usize>,
        paths: &BTreeSet<String>,
    ) -> Self {
        let mut suffixes = HashSet::new();
        for path in paths {
            let mut rest = path.as_str();
            suffixes.insert(rest.to_string());
            while let Some((_, tail)) = rest.split_once('/') {
                suffixes.insert(tail.to_string());
                rest = tail;
            }
        }
        TreeWalker {
            repo,
            by_id,
            suffixes,
            memo: HashMap::new(),
            empty: Rc::new(Vec::new()),
            buf: Vec::new(),
        }
    }

    /// The entries of `tree` (recursively) that are survivors, or whose path
    /// relative to `tree` ends a searched path; for a root tree the paths are
    /// full, and callers check them against the searched paths.
    fn tree(&mut self, tree: ObjectId) -> Vec<(Found, String)> {
        self.entries(tree).as_ref().clone()
    }

    fn entries(&mut self, tree: ObjectId) -> Rc<Vec<(Found, String)>> {
        if let Some(known) = self.memo.get(&tree) {
            return Rc::clone(known);
        }
        let mut children: Vec<(ObjectId, String, bool)> = Vec::new();
        // A tree that cannot be read is counted by the object search (it is
        // in the database) or does not exist (nothing to find in it).
        if let Ok(Some(data)) = self.repo.objects.try_find(&tree, &mut self.buf) {
            for entry in TreeRefIter::from_bytes(data.data, self.repo.object_hash()).flatten() {
                let is_tree = entry.mode.is_tree();
                if entry.mode.is_commit() {
                    continue; // a submodule: its objects live elsewhere
                }
                children.push((entry.oid.to_owned(), entry.filename.to_string(), is_tree));
            }
        }
        let mut out = Vec::new();
        for (id, name, is_tree) in children {
            if let Some(&i) = self.by_id.get(&id) {
                out.push((Found::Object(i), name.clone()));
            }
            if is_tree {
                for (found, path) in self.entries(id).iter() {
                    let full = format!("{name}/{path}");
                    let keep = match found {
                        Found::Object(_) => true,
                        Found::MaybePath(_) => self.suffixes.contains(&full),
                    };
                    if keep {
                        out.push((*found, full));
                    }
                }
            } else if self.suffixes.contains(&name) {
                out.push((Found::MaybePath(id), name));
            }
        }
        let out = if out.is_empty() {
            Rc::clone(&self.empty)
        } else {
            Rc::new(out)
        };
        self.memo.insert(tree, Rc::clone(&out));
        out
    }
}

/// Every ref (symbolic ones through HEAD only), every reflog entry, as
/// (name, object).
fn roots(repo: &gix::Repository, result: &mut Everywhere) -> Vec<(String, ObjectId)> {
    let mut roots = Vec::new();
    let add_log = |name: &str,
                   reference: &gix::Reference<'_>,
                   roots: &mut Vec<(String, ObjectId)>,
                   result: &mut Everywhere| {
        let mut log = reference.log_iter();
        let lines = match log.all() {
            Ok(Some(lines)) => lines,
            Ok(None) => return,
            Err(err) => {
                result.skipped.push(Skipped {
                    path: format!("{name} reflog"),
                    reason: SkipReason::Unreadable,
                    detail: format!("cannot read the reflog of {name}: {err}"),
                });
                return;
            }
        };
        let entries: Vec<_> = lines.collect();
        let count = entries.len();
        for (position, line) in entries.into_iter().enumerate() {
            match line {
                Ok(line) => {
                    result.stats.reflog_entries += 1;
                    // The reflog is oldest first; name@{0} is the newest.
                    let n = count - 1 - position;
                    roots.push((format!("{name}@{{{n}}}"), line.new_oid()));
                    let old = line.previous_oid();
                    if position == 0 && !old.is_null() {
                        roots.push((format!("{name}@{{{count}}}"), old));
                    }
                }
                Err(err) => result.skipped.push(Skipped {
                    path: format!("{name} reflog"),
                    reason: SkipReason::Unreadable,
                    detail: format!("unreadable reflog line of {name}: {err}"),
                }),
            }
        }
    };
    let mut refs = Vec::new();
    if let Ok(platform) = repo.references()
        && let Ok(all) = platform.all()
    {
        for reference in all {
            match reference {
                Ok(reference) => refs.push(reference),
                Err(err) => result.skipped.push(Skipped {
                    path: "<refs>".to_string(),
                    reason: SkipReason::Unreadable,
                    detail: format!("unreadable reference: {err:#}"),
                }),
            }
        }
    } else {
        result.skipped.push(Skipped {
            path: "<refs>".to_string(),
            reason: SkipReason::Unreadable,
            detail: format!("cannot list the references of {}", repo.git_dir().display()),
        });
    }
    for reference in &refs {
        result.stats.refs += 1;
        let name = reference.name().as_bstr().to_string();
        if let TargetRef::Object(id) = reference.target() {
            roots.push((name.clone(), id.to_owned()));
        }
        add_log(&name, reference, &mut roots, result);
    }
    // Each work tree has its own HEAD and HEAD reflog.
    for (worktree, label) in worktrees(repo) {
        let name = match label.strip_suffix("index") {
            Some(prefix) => format!("{prefix}HEAD"),
            None => "HEAD".to_string(),
        };
        if let Ok(Some(head)) = worktree.try_find_reference("HEAD") {
            result.stats.refs += 1;
            if let Ok(id) = worktree.head_id() {
                roots.push((name.clone(), id.detach()));
            }
            add_log(&name, &head, &mut roots, result);
        }
    }
    roots
}

/// The main work tree (or bare repository) and every linked work tree, each
/// with the label of its index: `index`, or `worktrees/<id>/index`.
fn worktrees(repo: &gix::Repository) -> Vec<(gix::Repository, String)> {
    let label = |worktree: &gix::Repository| {
        if worktree.kind() == gix::repository::Kind::LinkedWorkTree {
            let id = worktree
                .git_dir()
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("worktrees/{id}/index")
        } else {
            "index".to_string()
        }
    };
    match repo.worktrees_including_main() {
        Ok(all) => all
            .flatten()
            .map(|worktree| {
                let name = label(&worktree);
                (worktree, name)
            })
            .collect(),
        Err(_) => vec![(repo.clone(), label(repo))],
    }
}
