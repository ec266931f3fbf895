//! Trees: which commit and path introduced each blob (before the scan), and
//! how often the few blobs with findings occur (after it).
//!
//! Why this shape: git.git's 168k distinct trees hold 61M entries, 2.6 GB
//! of tree data, nearly all of it unchanged from one version of a directory
//! to the next. Walking commits and decoding each new tree by random access
//! re-applied the same delta chains over and over and looked every entry up
//! in a hash table. Instead, trees are decoded once each in pack delta order
//! (like blobs, see `pack.rs`), and an entry a delta copies whole from its
//! base is not parsed again: it is the base's entry, carried over.
//!
//! Every entry parsed from bytes is a *lineage*: that entry and every copy of
//! it the delta forest carries down. A tree is then a sequence of lineages,
//! stored as segments (a run of its base's sequence, or a run of new
//! lineages). Attribution is a walk of the commits in topological order over
//! subtree links only, which numbers every tree by when it is first met (the
//! same order the old one-tree-at-a-time walk met them), followed by one pass
//! over the sequences: a blob's first tree is the lowest-numbered tree that
//! holds one of its lineages, and its first path is that tree's path.
//!
//! Trees a pack walk cannot decode (loose objects, alternates, an entry whose
//! base is elsewhere) are read through the object database when the commit
//! walk meets them; what cannot be read there is reported, never dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use gix::ObjectId;
use gix::objs::Kind;
use gix::objs::tree::EntryMode;

use super::graph::Graph;
use super::pack::{CopyOp, Derived, Visitor};
use super::{Item, NameTags, Occurrence, OriginKind};
use crate::sources::{SkipReason, Skipped};

/// What a tree entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    Blob,
    Tree,
    /// A submodule: a commit of another repository.
    Commit,
    /// A mode git does not write; ignored, as git ignores it.
    Other,
}

/// One entry as parsed from a tree's bytes, and every copy of it a delta
/// carries down the forest.
#[derive(Debug)]
struct Lineage {
    oid: ObjectId,
    name: u32,
    kind: EntryKind,
}

/// A run of a tree's entries.
#[derive(Debug, Clone, Copy)]
enum Segment {
    /// Entries `start..start + len` of the delta base, unchanged.
    Base { start: u32, len: u32 },
    /// Lineages `first..first + len`, parsed in this tree.
    New { first: u32, len: u32 },
}

/// One distinct tree.
#[derive(Debug)]
struct TreeNode {
    oid: ObjectId,
    /// The node this one is a delta of (its sequence's `Base` segments).
    base: Option<u32>,
    segments: Box<[Segment]>,
    /// Lineages of its subtree entries, in entry order.
    subtrees: Box<[u32]>,
    /// Why parsing stopped early, if it did (the entries before are kept).
    error: Option<String>,
}

impl TreeNode {
    fn placeholder() -> Self {
        TreeNode {
            oid: ObjectId::null(gix::hash::Kind::Sha1),
            base: None,
            segments: Box::new([]),
            subtrees: Box::new([]),
            error: None,
        }
    }
}

/// Every tree of the repository met, as lineage sequences.
#[derive(Debug, Default)]
pub(super) struct Forest {
    trees: Vec<TreeNode>,
    /// Tree id to node; the first pack's copy of a tree stored twice wins.
    by_id: gix::hashtable::HashMap<ObjectId, u32>,
    lineages: Vec<Lineage>,
    /// For tree-kind lineages: the node of the subtree (`NONE` until known).
    child: Vec<u32>,
    names: Vec<String>,
    name_ids: HashMap<Vec<u8>, u32>,
}

const NONE: u32 = u32::MAX;

/// Where a tree's entries begin, and what each entry is; kept along the
/// pack walk's path so a delta child can carry entries over.
pub(super) struct TreeState {
    node: u32,
    /// Entry start offsets, plus one past the last entry's end.
    starts: Vec<u32>,
    /// The lineage of each entry.
    seq: Vec<u32>,
    kinds: Vec<EntryKind>,
}

/// What the pack walk learnt of one tree.
struct NodeRecord {
    node: u32,
    oid: ObjectId,
    base: Option<u32>,
    segments: Vec<Segment>,
    subtrees: Vec<u32>,
    error: Option<String>,
}

/// The forest as the walk's threads build it. New entries go straight into
/// the one lineage table (not into a buffer per tree copied over at the end):
/// on git.git that is 2.8M entries, and buffering them cost 120 MB at the
/// walk's peak, memory the allocator could not hand back afterwards.
#[derive(Default)]
struct Building {
    records: Vec<NodeRecord>,
    lineages: Vec<Lineage>,
    names: Vec<String>,
    name_ids: HashMap<Vec<u8>, u32>,
}

/// Decodes every tree of every pack once, in delta order, on `pool`.
pub(super) struct TreeVisitor {
    hash: gix::hash::Kind,
    next_node: AtomicU32,
    building: Mutex<Building>,
}

impl TreeVisitor {
    pub fn new(hash: gix::hash::Kind) -> Self {
        TreeVisitor {
            hash,
            next_node: AtomicU32::new(0),
            building: Mutex::new(Building::default()),
        }
    }

    /// The forest of every tree visited.
    pub fn into_forest(self) -> Forest {
        let building = self
            .building
            .into_inner()
            .unwrap_or_else(|poison| poison.into_inner());
        let nodes = self.next_node.into_inner() as usize;
        let mut slots: Vec<Option<TreeNode>> = (0..nodes).map(|_| None).collect();
        for record in building.records {
            slots[record.node as usize] = Some(TreeNode {
                oid: record.oid,
                base: record.base,
                segments: record.segments.into_boxed_slice(),
                subtrees: record.subtrees.into_boxed_slice(),
                error: record.error,
            });
        }
        let mut forest = Forest {
            // Every id handed out was recorded (a visit records before it
            // returns); a gap would be a bug, and stays an empty placeholder.
            trees: slots
                .into_iter()
                .map(|slot| slot.unwrap_or_else(TreeNode::placeholder))
                .collect(),
            lineages: building.lineages,
            names: building.names,
            name_ids: building.name_ids,
            ..Forest::default()
        };
        if forest.names.is_empty() {
            forest.names.push(String::new());
        }
        for (i, tree) in forest.trees.iter().enumerate() {
            if !tree.oid.is_null() {
                forest.by_id.entry(tree.oid).or_insert(i as u32);
            }
        }
        forest.child = vec![NONE; forest.lineages.len()];
        forest
    }
}

impl Visitor for TreeVisitor {
    type State = TreeState;

    fn kind(&self) -> Kind {
        Kind::Tree
    }

    fn visit(
        &self,
        id: ObjectId,
        data: &[u8],
        derived: Option<Derived<'_, TreeState>>,
    ) -> Option<TreeState> {
        let node = self.next_node.fetch_add(1, Ordering::Relaxed);
        let parsed = parse(data, derived.as_ref(), self.hash);
        let mut building = self
            .building
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let first = building.lineages.len() as u32;
        for (oid, name, kind) in &parsed.fresh {
            let name = building.name_id(&parsed.names[name.start as usize..name.end as usize]);
            building.lineages.push(Lineage {
                oid: *oid,
                name,
                kind: *kind,
            });
        }
        drop(building);
        let mut seq = Vec::with_capacity(parsed.kinds.len());
        for segment in &parsed.segments {
            match *segment {
                Segment::Base { start, len } => {
                    if let Some(base) = &derived {
                        let range = start as usize..(start + len) as usize;
                        seq.extend_from_slice(&base.base_state.seq[range]);
                    }
                }
                Segment::New { first: local, len } => {
                    seq.extend(first + local..first + local + len)
                }
            }
        }
        let segments: Vec<Segment> = parsed
            .segments
            .iter()
            .map(|s| match *s {
                Segment::New { first: local, len } => Segment::New {
                    first: first + local,
                    len,
                },
                base => base,
            })
            .collect();
        let subtrees = seq
            .iter()
            .zip(&parsed.kinds)
            .filter(|(_, kind)| **kind == EntryKind::Tree)
            .map(|(l, _)| *l)
            .collect();
        let record = NodeRecord {
            node,
            oid: id,
            base: derived.as_ref().map(|d| d.base_state.node),
            segments,
            subtrees,
            error: parsed.error,
        };
        self.building
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .records
            .push(record);
        Some(TreeState {
            node,
            starts: parsed.starts,
            seq,
            kinds: parsed.kinds,
        })
    }
}

/// A tree's entries, found by parsing only what its delta did not copy whole.
struct Parsed {
    starts: Vec<u32>,
    kinds: Vec<EntryKind>,
    /// `New` segments count lineages from 0 here.
    segments: Vec<Segment>,
    fresh: Vec<(ObjectId, std::ops::Range<u32>, EntryKind)>,
    names: Vec<u8>,
    error: Option<String>,
}

impl Parsed {
    fn push_segment(&mut self, segment: Segment) {
        match (self.segments.last_mut(), segment) {
            (Some(Segment::Base { start, len }), Segment::Base { start: s, len: l })
                if *start + *len == s =>
            {
                *len += l
            }
            (Some(Segment::New { len, .. }), Segment::New { len: l, .. }) => *len += l,
            _ => self.segments.push(segment),
        }
    }
}

/// Splits `data` into entries. With a delta base, a run of entries that a
/// copy carries over byte for byte (it starts on one of the base's entry
/// starts and ends inside the copy) is taken from the base unparsed.
fn parse(data: &[u8], derived: Option<&Derived<'_, TreeState>>, hash: gix::hash::Kind) -> Parsed {
    let mut out = Parsed {
        starts: Vec::new(),
        kinds: Vec::new(),
        segments: Vec::new(),
        fresh: Vec::new(),
        names: Vec::new(),
        error: None,
    };
    if u32::try_from(data.len()).is_err() {
        out.error = Some("tree larger than 4 GiB".to_string());
        out.starts.push(0);
        return out;
    }
    let hash_len = hash.len_in_bytes();
    let copies: &[CopyOp] = derived.map_or(&[], |d| d.copies);
    let mut pos = 0usize;
    let mut next_copy = 0usize;
    while pos < data.len() {
        while next_copy < copies.len() && copies[next_copy].target + copies[next_copy].len <= pos {
            next_copy += 1;
        }
        if let (Some(base), Some(copy)) = (derived, copies.get(next_copy))
            && copy.target <= pos
        {
            let state = base.base_state;
            let entries = state.seq.len();
            let at = copy.base + (pos - copy.target);
            let end = copy.base + copy.len;
            if let Ok(k) = state.starts[..entries].binary_search(&(at as u32)) {
                // Entries k..upto end within the copy: unchanged.
                let upto = state.starts.partition_point(|&s| s as usize <= end) - 1;
                if upto > k {
                    for e in k..upto {
                        out.starts
                            .push((state.starts[e] as usize - at + pos) as u32);
                    }
                    out.kinds.extend_from_slice(&state.kinds[k..upto]);
                    out.push_segment(Segment::Base {
                        start: k as u32,
                        len: (upto - k) as u32,
                    });
                    pos += state.starts[upto] as usize - at;
                    continue;
                }
            }
        }
        match parse_entry(&data[pos..], hash_len) {
            Some((len, mode, name, oid)) => {
                let kind = if mode.is_tree() {
                    EntryKind::Tree
                } else if mode.is_commit() {
                    EntryKind::Commit
                } else if mode.is_blob_or_symlink() {
                    EntryKind::Blob
                } else {
                    EntryKind::Other
                };
                let local = out.fresh.len() as u32;
                let from = out.names.len() as u32;
                out.names.extend_from_slice(name);
                out.fresh.push((oid, from..out.names.len() as u32, kind));
                out.starts.push(pos as u32);
                out.kinds.push(kind);
                out.push_segment(Segment::New {
                    first: local,
                    len: 1,
                });
                pos += len;
            }
            None => {
                out.error = Some(format!("malformed tree entry at byte {pos}"));
                break;
            }
        }
    }
    out.starts.push(pos as u32);
    out
}

/// One entry at the start of `data`: its length, mode, name and id.
fn parse_entry(data: &[u8], hash_len: usize) -> Option<(usize, EntryMode, &[u8], ObjectId)> {
    let space = memchr::memchr(b' ', data.get(..8.min(data.len()))?)?;
    let mode = EntryMode::from_bytes(data)?;
    let name_start = space + 1;
    let nul = name_start + memchr::memchr(0, &data[name_start..])?;
    let oid = data.get(nul + 1..nul + 1 + hash_len)?;
    let oid = ObjectId::try_from(oid).ok()?;
    Some((nul + 1 + hash_len, mode, &data[name_start..nul], oid))
}

/// Who met a tree first in the commit walk.
#[derive(Debug, Clone)]
struct FirstVisit {
    /// The order it was met in.
    ord: u32,
    commit: Option<u32>,
    path: String,
    /// Met from the excluded side of a range.
    excluded: bool,
}

/// The attribution of every blob to its first commit and path.
pub(super) struct Attribution<'r> {
    repo: &'r gix::Repository,
    forest: Forest,
    visits: Vec<Option<FirstVisit>>,
    /// Trees visited, by order met.
    by_ord: Vec<u32>,
    /// Trees that could not be read (reported once).
    unreadable: HashSet<ObjectId>,
    /// Blobs refs point at directly: (blob, name), after the trees.
    tip_blobs: Vec<(ObjectId, String)>,
}

impl<'r> Attribution<'r> {
    /// Starts from the trees the pack walk decoded.
    pub fn new(repo: &'r gix::Repository, forest: Forest) -> Self {
        let visits = vec![None; forest.trees.len()];
        Attribution {
            repo,
            forest,
            visits,
            by_ord: Vec::new(),
            unreadable: HashSet::new(),
            tip_blobs: Vec::new(),
        }
    }

    /// Marks everything in commit `c`'s tree as already present (the
    /// excluded side of a range): none of it is scanned.
    pub fn exclude_commit(&mut self, graph: &Graph, c: u32, skipped: &mut Vec<Skipped>) {
        self.walk(graph.nodes[c as usize].tree, "", None, true, skipped);
    }

    /// Attributes every blob of commit `c`'s tree not seen before to `c`.
    pub fn attribute_commit(&mut self, graph: &Graph, c: u32, skipped: &mut Vec<Skipped>) {
        self.walk(graph.nodes[c as usize].tree, "", Some(c), false, skipped);
    }

    /// A tree a ref points at directly: its blobs have paths but no commit.
    pub fn attribute_tree(&mut self, tree: ObjectId, name: &str, skipped: &mut Vec<Skipped>) {
        self.walk(tree, name, None, false, skipped);
    }

    /// A blob a ref points at directly.
    pub fn attribute_blob(&mut self, blob: ObjectId, name: &str) {
        self.tip_blobs.push((blob, name.to_string()));
    }

    /// The node of tree `id`, reading it through the object database if no
    /// pack walk decoded it; `None` (reported) if it cannot be read.
    fn node(&mut self, id: ObjectId, shown: &str, skipped: &mut Vec<Skipped>) -> Option<u32> {
        if let Some(&node) = self.forest.by_id.get(&id) {
            return Some(node);
        }
        if self.unreadable.contains(&id) {
            return None;
        }
        let mut buf = Vec::new();
        let failure = match super::integrity::find_verified(self.repo, &id, &mut buf) {
            Ok(Some(data)) if data.kind == Kind::Tree => {
                let parsed = parse(data.data, None, self.repo.object_hash());
                let node = self.forest.add_root(id, parsed);
                self.visits.push(None);
                return Some(node);
            }
            Ok(Some(data)) => (
                SkipReason::CorruptObject,
                format!("tree {id}: expected a tree, found a {}", data.kind),
            ),
            Ok(None) => (
                SkipReason::MissingObject,
                format!("tree {id} is not in the repository"),
            ),
            Err(err) => {
                let (reason, detail) = err.skip_reason();
                (reason, format!("tree {id}: {detail}"))
            }
        };
        self.unreadable.insert(id);
        skipped.push(Skipped {
            path: shown.to_string(),
            reason: failure.0,
            detail: failure.1,
        });
        None
    }

    /// Numbers every tree not met before under `root`, depth first, as the
    /// one-tree-at-a-time walk met them.
    fn walk(
        &mut self,
        root: ObjectId,
        prefix: &str,
        commit: Option<u32>,
        excluded: bool,
        skipped: &mut Vec<Skipped>,
    ) {
        let shown = if prefix.is_empty() {
            "<root tree>"
        } else {
            prefix
        };
        if self.seen(&root) {
            return;
        }
        let Some(root_node) = self.node(root, shown, skipped) else {
            return;
        };
        self.mark(root_node);
        let mut stack = vec![(root_node, prefix.to_string())];
        while let Some((node, dir)) = stack.pop() {
            let ord = self.by_ord.len() as u32;
            self.by_ord.push(node);
            if let Some(err) = &self.forest.trees[node as usize].error {
                skipped.push(Skipped {
                    path: if dir.is_empty() {
                        "<root tree>".to_string()
                    } else {
                        dir.clone()
                    },
                    reason: SkipReason::CorruptObject,
                    detail: format!("tree {}: {err}", self.forest.trees[node as usize].oid),
                });
            }
            let subtrees = self.forest.trees[node as usize].subtrees.clone();
            for lineage in subtrees.iter() {
                let (oid, name) = {
                    let l = &self.forest.lineages[*lineage as usize];
                    (l.oid, l.name)
                };
                if self.seen(&oid) {
                    if let Some(&child) = self.forest.by_id.get(&oid) {
                        self.forest.child[*lineage as usize] = child;
                    }
                    continue;
                }
                let path = join(&dir, &self.forest.names[name as usize]);
                let Some(child) = self.node(oid, &path, skipped) else {
                    continue;
                };
                self.forest.child[*lineage as usize] = child;
                self.mark(child);
                stack.push((child, path));
            }
            self.visits[node as usize] = Some(FirstVisit {
                ord,
                commit,
                path: dir,
                excluded,
            });
        }
    }

    /// Whether tree `id` was met already (or could not be read).
    fn seen(&self, id: &ObjectId) -> bool {
        self.unreadable.contains(id)
            || self
                .forest
                .by_id
                .get(id)
                .is_some_and(|&n| self.visits[n as usize].is_some())
    }

    /// Marks a tree as met when it is pushed, as the old walk interned it,
    /// so a tree two entries name is walked once.
    fn mark(&mut self, node: u32) {
        self.visits[node as usize] = Some(FirstVisit {
            ord: NONE,
            commit: None,
            path: String::new(),
            excluded: false,
        });
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The id of an entry name, interned: git.git's 2.8M entries have 7k names.
fn intern(names: &mut Vec<String>, name_ids: &mut HashMap<Vec<u8>, u32>, name: &[u8]) -> u32 {
    if let Some(&id) = name_ids.get(name) {
        return id;
    }
    let id = names.len() as u32;
    names.push(crate::sources::path_text(name));
    name_ids.insert(name.to_vec(), id);
    id
}

impl Building {
    fn name_id(&mut self, name: &[u8]) -> u32 {
        intern(&mut self.names, &mut self.name_ids, name)
    }
}

impl Forest {
    fn name_id(&mut self, name: &[u8]) -> u32 {
        intern(&mut self.names, &mut self.name_ids, name)
    }

    /// Adds a tree read outside the pack walk: all its entries are new.
    fn add_root(&mut self, oid: ObjectId, parsed: Parsed) -> u32 {
        let first = self.lineages.len() as u32;
        for (lineage_oid, name, kind) in parsed.fresh {
            let name = self.name_id(&parsed.names[name.start as usize..name.end as usize]);
            self.lineages.push(Lineage {
                oid: lineage_oid,
                name,
                kind,
            });
            self.child.push(NONE);
        }
        let count = self.lineages.len() as u32 - first;
        let subtrees = (first..first + count)
            .filter(|&l| self.lineages[l as usize].kind == EntryKind::Tree)
            .collect();
        let node = self.trees.len() as u32;
        self.trees.push(TreeNode {
            oid,
            base: None,
            segments: if count > 0 {
                Box::new([Segment::New { first, len: count }])
            } else {
                Box::new([])
            },
            subtrees,
            error: parsed.error,
        });
        self.by_id.insert(oid, node);
        node
    }

    /// Calls `each(node, sequence)` for every tree, with its lineage
    /// sequence expanded; delta trees in parallel on rayon's current pool.
    fn for_each_sequence(&self, each: &(dyn Fn(u32, &[u32]) + Sync)) {
        use rayon::prelude::*;
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); self.trees.len()];
        let mut roots = Vec::new();
        for (i, tree) in self.trees.iter().enumerate() {
            match tree.base {
                Some(base) => children[base as usize].push(i as u32),
                None => roots.push(i as u32),
            }
        }
        roots.par_iter().with_max_len(1).for_each(|&root| {
            let mut stack: Vec<(u32, Vec<u32>, usize)> = vec![(root, self.expand(root, &[]), 0)];
            each(root, &stack[0].1);
            while let Some(top) = stack.last_mut() {
                let Some(&child) = children[top.0 as usize].get(top.2) else {
                    stack.pop();
                    continue;
                };
                top.2 += 1;
                let seq = self.expand(child, &top.1);
                each(child, &seq);
                stack.push((child, seq, 0));
            }
        });
    }

    /// The lineage sequence of one tree, expanded along its delta chain.
    fn sequence(&self, node: u32) -> Vec<u32> {
        let mut chain = vec![node];
        while let Some(base) = chain
            .last()
            .and_then(|&n| self.trees.get(n as usize))
            .and_then(|tree| tree.base)
        {
            if chain.len() > self.trees.len() {
                break; // a cycle: only in a corrupt forest
            }
            chain.push(base);
        }
        let mut seq = Vec::new();
        for &n in chain.iter().rev() {
            seq = self.expand(n, &seq);
        }
        seq
    }

    fn expand(&self, node: u32, base: &[u32]) -> Vec<u32> {
        let mut seq = Vec::new();
        for segment in self.trees[node as usize].segments.iter() {
            match *segment {
                Segment::Base { start, len } => {
                    seq.extend_from_slice(&base[start as usize..(start + len) as usize])
                }
                Segment::New { first, len } => seq.extend(first..first + len),
            }
        }
        seq
    }
}

/// What attribution hands the history: the blobs to read, each with its
/// first path and commit, and what the occurrence pass needs.
pub(super) struct Attributed {
    pub items: Vec<Item>,
    /// The distinct unions of name tags items point at.
    pub tag_sets: Vec<std::sync::Arc<[u32]>>,
    pub trees: Trees,
    pub submodules: Vec<Skipped>,
    /// Every tree and blob met, for telling reachable from unreachable.
    pub known: HashSet<ObjectId>,
}

/// The trees as attribution left them, for counting occurrences.
#[derive(Debug)]
pub(super) struct Trees {
    forest: Forest,
    visits: Vec<Option<FirstVisit>>,
}

/// The commit walk's result, without the repository handle, so the last
/// step can run on a thread pool.
pub(super) struct Walked {
    forest: Forest,
    visits: Vec<Option<FirstVisit>>,
    by_ord: Vec<u32>,
    unreadable: HashSet<ObjectId>,
    tip_blobs: Vec<(ObjectId, String)>,
}

impl Attribution<'_> {
    /// Ends the commit walk.
    pub fn into_walked(self) -> Walked {
        Walked {
            forest: self.forest,
            visits: self.visits,
            by_ord: self.by_ord,
            unreadable: self.unreadable,
            tip_blobs: self.tip_blobs,
        }
    }
}

impl Walked {
    /// Finds each blob's first tree (the earliest met that holds it) and
    /// lists the blobs to read; `want_known` also lists every tree and blob
    /// met (for `--all-objects`).
    pub fn finish(self, want_known: bool, name_tags: Option<&NameTags>) -> Attributed {
        let Walked {
            forest,
            visits,
            by_ord,
            unreadable,
            tip_blobs,
        } = self;
        // Per lineage: the lowest (tree order, entry index) holding it.
        let best: Vec<AtomicU64> = (0..forest.lineages.len())
            .map(|_| AtomicU64::new(u64::MAX))
            .collect();
        let modules: Mutex<Vec<(u64, u32)>> = Mutex::new(Vec::new());
        let visit_ord = |node: u32| {
            visits
                .get(node as usize)
                .and_then(|v| v.as_ref())
                .map(|v| v.ord)
                .filter(|&ord| ord != NONE)
        };
        forest.for_each_sequence(&|node, seq| {
            let Some(ord) = visit_ord(node) else { return };
            if forest.by_id.get(&forest.trees[node as usize].oid) != Some(&node) {
                return; // a second copy of a tree stored twice
            }
            let mut found_modules = Vec::new();
            for (index, &lineage) in seq.iter().enumerate() {
                let key = (u64::from(ord) << 32) | index as u64;
                match forest.lineages[lineage as usize].kind {
                    EntryKind::Blob => {
                        let slot = &best[lineage as usize];
                        if slot.load(Ordering::Relaxed) > key {
                            slot.fetch_min(key, Ordering::Relaxed);
                        }
                    }
                    EntryKind::Commit => found_modules.push((key, lineage)),
                    _ => {}
                }
            }
            if !found_modules.is_empty() {
                modules
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .extend(found_modules);
            }
        });
        // Per blob: the best of its lineages.
        let mut first: gix::hashtable::HashMap<ObjectId, (u64, u32)> = Default::default();
        for (lineage, key) in best.iter().enumerate() {
            let key = key.load(Ordering::Relaxed);
            if key == u64::MAX {
                continue;
            }
            let oid = forest.lineages[lineage].oid;
            let slot = first.entry(oid).or_insert((key, lineage as u32));
            if key < slot.0 {
                *slot = (key, lineage as u32);
            }
        }
        let visit_of = |key: u64| {
            let node = by_ord[(key >> 32) as usize];
            visits[node as usize].as_ref()
        };
        let mut ordered: Vec<(u64, ObjectId, u32)> = first
            .iter()
            .map(|(oid, (key, l))| (*key, *oid, *l))
            .collect();
        ordered.sort_unstable_by_key(|(key, _, _)| *key);
        let (blob_tags, tag_sets) = match name_tags {
            Some(tagger) => tag_blobs(&forest, tagger),
            None => Default::default(),
        };
        let tags_of = |blob: &ObjectId| blob_tags.get(blob).copied().unwrap_or(NONE);
        let mut items = Vec::with_capacity(ordered.len());
        for (key, object, lineage) in ordered {
            let Some(visit) = visit_of(key) else { continue };
            if visit.excluded {
                continue;
            }
            let name = &forest.names[forest.lineages[lineage as usize].name as usize];
            items.push(Item {
                object,
                kind: OriginKind::Blob,
                path: join(&visit.path, name),
                owner: visit.commit,
                reachable: true,
                tags: tags_of(&object),
            });
        }
        let mut tip_seen = HashSet::new();
        for (blob, name) in tip_blobs {
            if !first.contains_key(&blob) && tip_seen.insert(blob) {
                items.push(Item {
                    object: blob,
                    kind: OriginKind::Blob,
                    path: name,
                    owner: None,
                    reachable: true,
                    tags: NONE,
                });
            }
        }
        // Submodules: every path one is met at, with the first commit it names.
        let mut found_modules = modules.into_inner().unwrap_or_else(|p| p.into_inner());
        found_modules.sort_unstable();
        let mut submodules: BTreeMap<String, ObjectId> = BTreeMap::new();
        for (key, lineage) in found_modules {
            let Some(visit) = visit_of(key) else { continue };
            if visit.excluded {
                continue;
            }
            let l = &forest.lineages[lineage as usize];
            submodules
                .entry(join(&visit.path, &forest.names[l.name as usize]))
                .or_insert(l.oid);
        }
        let submodules = submodules
            .into_iter()
            .map(|(path, commit)| Skipped {
                detail: format!(
                    "submodule (commit {commit}): its history is another repository and was not scanned; add `--recurse-submodules`, or run `secretgate history {path}`"
                ),
                path,
                reason: SkipReason::Submodule,
            })
            .collect();
        let known = if want_known {
            let mut known: HashSet<ObjectId> = first.keys().copied().collect();
            known.extend(by_ord.iter().map(|&n| forest.trees[n as usize].oid));
            known.extend(unreadable);
            known.extend(items.iter().map(|i| i.object));
            known
        } else {
            HashSet::new()
        };
        Attributed {
            items,
            tag_sets,
            trees: Trees { forest, visits },
            submodules,
            known,
        }
    }
}

/// For every blob with a tagged name, or directly in a directory with a
/// tagged name, anywhere in the forest: the index of the union of its tags
/// in the returned list of distinct unions. Each tagger runs once per
/// distinct name; the lineages are one pass; only the trees a tagged
/// directory name points at are expanded.
#[allow(clippy::type_complexity)]
fn tag_blobs(
    forest: &Forest,
    tagger: &NameTags,
) -> (
    gix::hashtable::HashMap<ObjectId, u32>,
    Vec<std::sync::Arc<[u32]>>,
) {
    let file_tags: Vec<Vec<u32>> = forest.names.iter().map(|n| (tagger.files)(n)).collect();
    let dir_tags: Vec<Vec<u32>> = forest.names.iter().map(|n| (tagger.dirs)(n)).collect();
    let mut unions: gix::hashtable::HashMap<ObjectId, BTreeSet<u32>> = Default::default();
    let mut tagged_dirs: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for (index, lineage) in forest.lineages.iter().enumerate() {
        match lineage.kind {
            EntryKind::Blob => {
                let tags = &file_tags[lineage.name as usize];
                if !tags.is_empty() {
                    unions
                        .entry(lineage.oid)
                        .or_default()
                        .extend(tags.iter().copied());
                }
            }
            EntryKind::Tree => {
                let tags = &dir_tags[lineage.name as usize];
                let child = forest.child[index];
                if !tags.is_empty() && child != NONE {
                    tagged_dirs
                        .entry(child)
                        .or_default()
                        .extend(tags.iter().copied());
                }
            }
            _ => {}
        }
    }
    for (node, tags) in tagged_dirs {
        for lineage in forest.sequence(node) {
            let lineage = &forest.lineages[lineage as usize];
            if lineage.kind == EntryKind::Blob {
                unions
                    .entry(lineage.oid)
                    .or_default()
                    .extend(tags.iter().copied());
            }
        }
    }
    let mut sets: Vec<std::sync::Arc<[u32]>> = Vec::new();
    let mut set_ids: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut blob_tags: gix::hashtable::HashMap<ObjectId, u32> = Default::default();
    for (blob, tags) in unions {
        let tags: Vec<u32> = tags.into_iter().collect();
        let id = *set_ids.entry(tags.clone()).or_insert_with(|| {
            sets.push(tags.into());
            (sets.len() - 1) as u32
        });
        blob_tags.insert(blob, id);
    }
    (blob_tags, sets)
}

type Contents = Rc<Vec<(u32, String)>>;

impl Trees {
    /// Counts, for each target blob, the commits in `scope` whose tree
    /// holds it and the distinct paths it has there.
    pub fn occurrences(
        &self,
        graph: &Graph,
        scope: &[u32],
        targets: &BTreeSet<ObjectId>,
    ) -> HashMap<ObjectId, Occurrence> {
        let target_list: Vec<ObjectId> = targets.iter().copied().collect();
        if target_list.is_empty() {
            return HashMap::new();
        }
        let target_index: HashMap<ObjectId, u32> = target_list
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        let forest = &self.forest;
        let target_of: Vec<u32> = forest
            .lineages
            .iter()
            .map(|l| match l.kind {
                EntryKind::Blob => target_index.get(&l.oid).copied().unwrap_or(NONE),
                _ => NONE,
            })
            .collect();
        // Per visited tree: the targets it holds directly, with their names.
        let direct: Mutex<Vec<(u32, u32, u32)>> = Mutex::new(Vec::new());
        forest.for_each_sequence(&|node, seq| {
            if !self.visited(node) {
                return;
            }
            let found: Vec<(u32, u32, u32)> = seq
                .iter()
                .filter(|&&l| target_of[l as usize] != NONE)
                .map(|&l| {
                    (
                        node,
                        target_of[l as usize],
                        forest.lineages[l as usize].name,
                    )
                })
                .collect();
            if !found.is_empty() {
                direct
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .extend(found);
            }
        });
        let mut direct = direct.into_inner().unwrap_or_else(|p| p.into_inner());
        direct.sort_unstable();
        let mut direct_of: HashMap<u32, Vec<(u32, String)>> = HashMap::new();
        for (node, target, name) in direct {
            direct_of
                .entry(node)
                .or_default()
                .push((target, forest.names[name as usize].clone()));
        }
        let contents = self.all_contents(&direct_of);
        let mut result: Vec<Occurrence> = vec![Occurrence::default(); target_list.len()];
        let mut last_commit: Vec<Option<u32>> = vec![None; target_list.len()];
        for &c in scope {
            let Some(&tree) = forest.by_id.get(&graph.nodes[c as usize].tree) else {
                continue;
            };
            for (target, path) in contents[tree as usize].iter() {
                let t = *target as usize;
                if last_commit[t] != Some(c) {
                    last_commit[t] = Some(c);
                    result[t].commits += 1;
                }
                if !result[t].paths.contains(path) {
                    result[t].paths.insert(path.clone());
                    result[t]
                        .first_seen
                        .push((path.clone(), graph.nodes[c as usize].id));
                }
            }
        }
        target_list.into_iter().zip(result).collect()
    }

    fn visited(&self, node: u32) -> bool {
        self.visits
            .get(node as usize)
            .is_some_and(|v| v.as_ref().is_some_and(|v| v.ord != NONE))
    }

    /// For every visited tree: which targets it holds, at which paths below
    /// it. Each tree is done after all its subtrees (an iterative post-order
    /// walk, so deep nesting cannot overflow the stack).
    fn all_contents(&self, direct: &HashMap<u32, Vec<(u32, String)>>) -> Vec<Contents> {
        let forest = &self.forest;
        let empty: Contents = Rc::new(Vec::new());
        let count = forest.trees.len();
        let mut contents: Vec<Contents> = vec![empty; count];
        let mut done = vec![false; count];
        let subtree = |tree: usize, next: usize| -> Option<(u32, u32)> {
            let lineage = *forest.trees[tree].subtrees.get(next)?;
            Some((
                forest.lineages[lineage as usize].name,
                forest.child[lineage as usize],
            ))
        };
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for start in 0..count {
            if done[start] || !self.visited(start as u32) {
                continue;
            }
            stack.push((start, 0));
            while let Some((tree, next)) = stack.last_mut() {
                let tree = *tree;
                if let Some((_, child)) = subtree(tree, *next) {
                    *next += 1;
                    if child != NONE && !done[child as usize] {
                        // Mark on entry: a cycle (only in a corrupt
                        // repository) then ends instead of looping.
                        done[child as usize] = true;
                        stack.push((child as usize, 0));
                    }
                    continue;
                }
                stack.pop();
                done[tree] = true;
                let mut found: Vec<(u32, String)> =
                    direct.get(&(tree as u32)).cloned().unwrap_or_default();
                for next in 0.. {
                    let Some((name, child)) = subtree(tree, next) else {
                        break;
                    };
                    if child == NONE {
                        continue;
                    }
                    let below = &contents[child as usize];
                    if below.is_empty() {
                        continue;
                    }
                    let name = &forest.names[name as usize];
                    found.extend(below.iter().map(|(t, path)| (*t, format!("{name}/{path}"))));
                }
                if !found.is_empty() {
                    contents[tree] = Rc::new(found);
                }
            }
        }
        contents
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_bytes(entries: &[(&str, String, u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (mode, name, fill) in entries {
            out.extend_from_slice(mode.as_bytes());
            out.push(b' ');
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            out.extend_from_slice(&[*fill; 20]);
        }
        out
    }

    /// Git-like copies: the longest run of the base found at each position
    /// of the target (at least 4 bytes), wherever it starts, entry
    /// boundaries or not.
    fn greedy_copies(base: &[u8], target: &[u8]) -> Vec<CopyOp> {
        let mut copies = Vec::new();
        let mut i = 0;
        while i < target.len() {
            let (mut best, mut at) = (0, 0);
            for j in 0..base.len() {
                let len = base[j..]
                    .iter()
                    .zip(&target[i..])
                    .take_while(|(a, b)| a == b)
                    .count();
                if len > best {
                    (best, at) = (len, j);
                }
            }
            if best >= 4 {
                copies.push(CopyOp {
                    target: i,
                    base: at,
                    len: best,
                });
                i += best;
            } else {
                i += 1;
            }
        }
        copies
    }

    fn resolved(parsed: &Parsed, base: Option<&Parsed>) -> Vec<(ObjectId, Vec<u8>, EntryKind)> {
        let entry = |p: &Parsed, i: usize| {
            let (oid, name, kind) = &p.fresh[i];
            (
                oid.to_owned(),
                p.names[name.start as usize..name.end as usize].to_vec(),
                *kind,
            )
        };
        let mut out = Vec::new();
        for segment in &parsed.segments {
            match *segment {
                Segment::Base { start, len } => {
                    let base = base.expect("a Base segment needs a base");
                    // The base was parsed without a base: entry i is lineage i.
                    out.extend((start..start + len).map(|i| entry(base, i as usize)));
                }
                Segment::New { first, len } => {
                    out.extend((first..first + len).map(|i| entry(parsed, i as usize)));
                }
            }
        }
        out
    }

    fn state_of(parsed: &Parsed) -> TreeState {
        TreeState {
            node: 0,
            starts: parsed.starts.clone(),
            seq: (0..parsed.kinds.len() as u32).collect(),
            kinds: parsed.kinds.clone(),
        }
    }

    #[test]
    fn carried_entries_are_the_entries_a_full_parse_finds() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let modes = ["100644", "100755", "40000", "120000", "160000"];
        for _round in 0..60 {
            let count = 1 + next(40) as usize;
            let mut entries: Vec<(&str, String, u8)> = (0..count)
                .map(|i| {
                    let mode = modes[next(modes.len() as u64) as usize];
                    (
                        mode,
                        format!("file{i:03}.{}", next(1000)),
                        next(250) as u8 + 1,
                    )
                })
                .collect();
            let base = tree_bytes(&entries);
            for _edit in 0..1 + next(4) {
                let at = next(entries.len() as u64 + 1) as usize;
                match next(3) {
                    0 if at < entries.len() => entries[at].2 = entries[at].2.wrapping_add(1),
                    1 if at < entries.len() => {
                        entries.remove(at);
                    }
                    _ => entries.insert(at, ("100644", format!("new{}", next(99)), 7)),
                }
            }
            let child = tree_bytes(&entries);
            let base_parsed = parse(&base, None, gix::hash::Kind::Sha1);
            let copies = greedy_copies(&base, &child);
            let state = state_of(&base_parsed);
            let derived = Derived {
                base: &base,
                copies: &copies,
                base_state: &state,
            };
            let incremental = parse(&child, Some(&derived), gix::hash::Kind::Sha1);
            let full = parse(&child, None, gix::hash::Kind::Sha1);
            assert_eq!(incremental.error, None);
            assert_eq!(incremental.starts, full.starts);
            assert_eq!(incremental.kinds, full.kinds);
            assert_eq!(
                resolved(&incremental, Some(&base_parsed)),
                resolved(&full, None)
            );
        }
    }

    #[test]
    fn unchanged_entries_are_not_parsed_again() {
        let entries: Vec<(&str, String, u8)> = (0..50)
            .map(|i| ("100644", format!("f{i:02}"), i as u8 + 1))
            .collect();
        let base = tree_bytes(&entries);
        let mut changed = entries.clone();
        changed[25].2 = 200;
        let child = tree_bytes(&changed);
        let base_parsed = parse(&base, None, gix::hash::Kind::Sha1);
        let state = state_of(&base_parsed);
        let copies = greedy_copies(&base, &child);
        let derived = Derived {
            base: &base,
            copies: &copies,
            base_state: &state,
        };
        let parsed = parse(&child, Some(&derived), gix::hash::Kind::Sha1);
        // Only the changed entry (and at most its neighbours, where a copy
        // ends inside them) is new.
        assert!(
            parsed.fresh.len() <= 3,
            "{} entries parsed",
            parsed.fresh.len()
        );
        assert_eq!(parsed.kinds.len(), 50);
    }

    #[test]
    fn a_malformed_tree_keeps_the_entries_before_the_damage() {
        let mut data = tree_bytes(&[
            ("100644", "a".to_string(), 1),
            ("100644", "b".to_string(), 2),
        ]);
        data.extend_from_slice(b"100644 broken-without-nul");
        let parsed = parse(&data, None, gix::hash::Kind::Sha1);
        assert_eq!(parsed.kinds.len(), 2);
        assert!(parsed.error.is_some());
    }
}
