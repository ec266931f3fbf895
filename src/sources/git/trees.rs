//! Trees: which commit and path introduced each blob (first pass), and how
//! often the few blobs with findings occur (second pass).
//!
//! The first pass walks commits oldest first and never decodes a tree twice:
//! a tree already seen holds only blobs already attributed. The second pass
//! remembers, per tree, which of the target blobs it contains (usually none),
//! so it too decodes each tree once however many commits share it.

use gix::hashtable::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use gix::ObjectId;
use gix::objs::{Find as _, Kind, TreeRefIter};

use super::graph::Graph;
use super::{Item, Occurrence, OriginKind};
use crate::sources::{SkipReason, Skipped};

/// Marks a blob that the excluded side of a range already holds.
const EXCLUDED: u32 = u32::MAX;

/// First-seen attribution of blobs to (path, commit).
pub(super) struct Attribution<'r> {
    repo: &'r gix::Repository,
    /// Every tree met, with what the occurrence pass needs of it.
    index: TreeIndex,
    /// Blob id to its index in `origins`, or [`EXCLUDED`].
    blobs: gix::hashtable::HashMap<ObjectId, u32>,
    /// (blob, first path, first commit).
    origins: Vec<(ObjectId, String, Option<u32>)>,
    /// Submodule paths met in scanned trees, with the first commit each named.
    submodules: std::collections::BTreeMap<String, ObjectId>,
    buf: Vec<u8>,
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

impl<'r> Attribution<'r> {
    /// An empty attribution over `repo`.
    pub fn new(repo: &'r gix::Repository) -> Self {
        Attribution {
            repo,
            index: TreeIndex::default(),
            blobs: Default::default(),
            origins: Vec::new(),
            submodules: Default::default(),
            buf: Vec::new(),
        }
    }

    /// Marks everything in commit `c`'s tree as already present (the
    /// excluded side of a range): none of it is scanned.
    pub fn exclude_commit(&mut self, graph: &Graph, c: u32, skipped: &mut Vec<Skipped>) {
        let tree = graph.nodes[c as usize].tree;
        self.walk(tree, "", None, false, skipped);
    }

    /// Attributes every blob of commit `c`'s tree not seen before to `c`.
    pub fn attribute_commit(&mut self, graph: &Graph, c: u32, skipped: &mut Vec<Skipped>) {
        let tree = graph.nodes[c as usize].tree;
        self.walk(tree, "", Some(c), true, skipped);
    }

    /// A tree a ref points at directly: its blobs have paths but no commit.
    pub fn attribute_tree(&mut self, tree: ObjectId, name: &str, skipped: &mut Vec<Skipped>) {
        self.walk(tree, name, None, true, skipped);
    }

    /// A blob a ref points at directly.
    pub fn attribute_blob(&mut self, blob: ObjectId, name: &str) {
        if let Entry::Vacant(slot) = self.blobs.entry(blob) {
            slot.insert(self.origins.len() as u32);
            self.origins.push((blob, name.to_string(), None));
        }
    }

    fn walk(
        &mut self,
        root: ObjectId,
        prefix: &str,
        commit: Option<u32>,
        record: bool,
        skipped: &mut Vec<Skipped>,
    ) {
        let (root_index, new) = self.index.intern(root);
        if !new {
            return;
        }
        let hash = self.repo.object_hash();
        let mut stack = vec![(root, root_index, prefix.to_string())];
        let mut blob_ids: Vec<ObjectId> = Vec::new();
        while let Some((tree, tree_index, dir)) = stack.pop() {
            let shown = if dir.is_empty() { "<root tree>" } else { &dir };
            let data = match self.repo.objects.try_find(&tree, &mut self.buf) {
                Ok(Some(data)) if data.kind == Kind::Tree => data,
                Ok(Some(data)) => {
                    skipped.push(Skipped {
                        path: shown.to_string(),
                        reason: SkipReason::CorruptObject,
                        detail: format!("tree {tree}: expected a tree, found a {}", data.kind),
                    });
                    continue;
                }
                Ok(None) => {
                    skipped.push(Skipped {
                        path: shown.to_string(),
                        reason: SkipReason::MissingObject,
                        detail: format!("tree {tree} is not in the repository"),
                    });
                    continue;
                }
                Err(err) => {
                    skipped.push(Skipped {
                        path: shown.to_string(),
                        reason: SkipReason::CorruptObject,
                        detail: format!("tree {tree}: {err:#}"),
                    });
                    continue;
                }
            };
            blob_ids.clear();
            let mut subtrees: Vec<(u32, u32)> = Vec::new();
            for entry in TreeRefIter::from_bytes(data.data, hash) {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(err) => {
                        skipped.push(Skipped {
                            path: shown.to_string(),
                            reason: SkipReason::CorruptObject,
                            detail: format!("tree {tree}: {err:#}"),
                        });
                        break;
                    }
                };
                let id = entry.oid.to_owned();
                if entry.mode.is_tree() {
                    let (child, new) = self.index.intern(id);
                    subtrees.push((self.index.name_id(entry.filename), child));
                    if new {
                        stack.push((
                            id,
                            child,
                            join(&dir, &crate::sources::path_text(entry.filename)),
                        ));
                    }
                    continue;
                }
                if entry.mode.is_blob_or_symlink() {
                    blob_ids.push(id);
                }
                if entry.mode.is_blob_or_symlink()
                    && let Entry::Vacant(slot) = self.blobs.entry(id)
                {
                    if record {
                        slot.insert(self.origins.len() as u32);
                        let path = join(&dir, &crate::sources::path_text(entry.filename));
                        self.origins.push((id, path, commit));
                    } else {
                        slot.insert(EXCLUDED);
                    }
                } else if entry.mode.is_commit() && record {
                    // A submodule names a commit of another repository: it
                    // cannot be read here, so it is reported, never dropped.
                    self.submodules
                        .entry(join(&dir, &crate::sources::path_text(entry.filename)))
                        .or_insert(id);
                }
            }
            self.index.fill(tree_index, subtrees, &blob_ids);
        }
    }

    /// What this walk found, without the repository handle, so a walk run
    /// on another thread can hand it back.
    pub fn into_found(self) -> Found {
        Found {
            index: self.index,
            origins: self.origins,
            submodules: self.submodules,
        }
    }

    /// Adds what a walk over later commits found: blobs this one has not
    /// met keep the later walk's first commit and path.
    pub fn absorb(&mut self, later: Found) {
        for (blob, path, commit) in later.origins {
            if let Entry::Vacant(slot) = self.blobs.entry(blob) {
                slot.insert(self.origins.len() as u32);
                self.origins.push((blob, path, commit));
            }
        }
        for (path, commit) in later.submodules {
            self.submodules.entry(path).or_insert(commit);
        }
        self.index.absorb(later.index);
    }

    /// Every tree and blob met, for telling reachable from unreachable.
    pub fn known(&self) -> HashSet<ObjectId> {
        self.index
            .ids
            .keys()
            .chain(self.blobs.keys())
            .copied()
            .collect()
    }

    /// One skip per submodule path: history that lives in another repository.
    pub fn submodules(&self) -> Vec<Skipped> {
        self.submodules
            .iter()
            .map(|(path, commit)| Skipped {
                path: path.clone(),
                reason: SkipReason::Submodule,
                detail: format!(
                    "submodule (commit {commit}): its history is another repository and was not scanned; add `--recurse-submodules`, or run `secretgate history {path}`"
                ),
            })
            .collect()
    }

    /// The blobs to read, each once, with its first path and commit; and the
    /// index of every tree met, for the occurrence pass.
    pub fn into_items(self) -> (Vec<Item>, TreeIndex) {
        let items = self
            .origins
            .into_iter()
            .map(|(object, path, owner)| Item {
                object,
                kind: OriginKind::Blob,
                path,
                owner,
                reachable: true,
            })
            .collect();
        (items, self.index)
    }
}

/// What a walk over part of the history found (see [`Attribution::absorb`]).
pub(super) struct Found {
    index: TreeIndex,
    origins: Vec<(ObjectId, String, Option<u32>)>,
    submodules: std::collections::BTreeMap<String, ObjectId>,
}

/// What the occurrence pass needs to know of every tree without decoding it
/// again: its subtrees (by name), and a Bloom filter of its blobs.
///
/// Why: counting the commits and paths of the few blobs with findings used
/// to decode every tree of the history a second time, as long as the first
/// pass. With this index (about one byte per tree entry) it decodes only the
/// trees whose filter says they may hold one of those blobs: the ones that
/// do, plus about 3% false alarms.
#[derive(Debug, Default)]
pub(super) struct TreeIndex {
    /// Tree id to its index.
    ids: gix::hashtable::HashMap<ObjectId, u32>,
    /// Per tree: its id.
    trees: Vec<ObjectId>,
    /// Per tree: (name id, subtree index), in tree order.
    subtrees: Vec<Box<[(u32, u32)]>>,
    /// Per tree: the Bloom filter of its blob entries (empty: no blobs).
    blooms: Vec<Box<[u64]>>,
    /// Subtree names, interned.
    names: Vec<String>,
    name_ids: HashMap<Vec<u8>, u32>,
}

/// Bloom filter bits per blob entry; with three probes, ~3% false positives.
const BLOOM_BITS_PER_ENTRY: usize = 8;

/// The three probe positions of `id` in a filter of `bits` bits. Object ids
/// are hashes already: their bytes are the probe values.
fn probes(id: &gix::oid, bits: usize) -> [usize; 3] {
    let bytes = id.as_bytes();
    let word = |at: usize| {
        let mut buf = [0u8; 8];
        let end = (at + 8).min(bytes.len());
        buf[..end - at].copy_from_slice(&bytes[at..end]);
        u64::from_le_bytes(buf)
    };
    // Multiply-shift maps a 64-bit value onto 0..bits without a division.
    let reduce = |h: u64| ((u128::from(h) * bits as u128) >> 64) as usize;
    [reduce(word(0)), reduce(word(8)), reduce(word(12))]
}

impl TreeIndex {
    /// The index of tree `id`, and whether it is new.
    fn intern(&mut self, id: ObjectId) -> (u32, bool) {
        match self.ids.entry(id) {
            Entry::Occupied(slot) => (*slot.get(), false),
            Entry::Vacant(slot) => {
                let index = self.trees.len() as u32;
                slot.insert(index);
                self.trees.push(id);
                self.subtrees.push(Box::new([]));
                self.blooms.push(Box::new([]));
                (index, true)
            }
        }
    }

    fn name_id(&mut self, name: &gix::bstr::BStr) -> u32 {
        if let Some(&id) = self.name_ids.get(name.as_ref() as &[u8]) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(crate::sources::path_text(name));
        self.name_ids.insert(name.to_vec(), id);
        id
    }

    /// Records what tree `index` holds.
    fn fill(&mut self, index: u32, subtrees: Vec<(u32, u32)>, blobs: &[ObjectId]) {
        let i = index as usize;
        self.subtrees[i] = subtrees.into_boxed_slice();
        if blobs.is_empty() {
            return;
        }
        let words = (blobs.len() * BLOOM_BITS_PER_ENTRY).div_ceil(64);
        let mut filter = vec![0u64; words].into_boxed_slice();
        for id in blobs {
            for bit in probes(id, words * 64) {
                filter[bit / 64] |= 1 << (bit % 64);
            }
        }
        self.blooms[i] = filter;
    }

    /// Adds the trees of another index; trees both have are the same trees.
    fn absorb(&mut self, other: TreeIndex) {
        let known = self.trees.len() as u32;
        let names: Vec<u32> = other
            .names
            .iter()
            .map(|name| self.name_id(name.as_bytes().into()))
            .collect();
        let here: Vec<u32> = other.trees.iter().map(|id| self.intern(*id).0).collect();
        for (i, (subtrees, bloom)) in other.subtrees.into_iter().zip(other.blooms).enumerate() {
            let at = here[i];
            if at < known {
                continue; // already filled by this index's own walk
            }
            self.subtrees[at as usize] = subtrees
                .iter()
                .map(|&(name, child)| (names[name as usize], here[child as usize]))
                .collect();
            self.blooms[at as usize] = bloom;
        }
    }

    /// Whether tree `index` may hold blob `id` directly (never false when it does).
    fn may_hold(&self, index: usize, id: &gix::oid) -> bool {
        let filter = &self.blooms[index];
        !filter.is_empty()
            && probes(id, filter.len() * 64)
                .iter()
                .all(|&bit| filter[bit / 64] & (1 << (bit % 64)) != 0)
    }
}

type Contents = Rc<Vec<(u32, String)>>;

/// Counts, for each target blob, the commits in `scope` whose tree holds it
/// and the distinct paths it has there. Trees come from `index`; only those
/// whose filter may hold a target are decoded.
pub(super) fn occurrences(
    repo: &gix::Repository,
    index: &TreeIndex,
    graph: &Graph,
    scope: &[u32],
    targets: &BTreeSet<ObjectId>,
) -> HashMap<ObjectId, Occurrence> {
    let target_list: Vec<ObjectId> = targets.iter().copied().collect();
    let target_index: HashMap<ObjectId, u32> = target_list
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i as u32))
        .collect();
    let mut result: Vec<Occurrence> = vec![Occurrence::default(); target_list.len()];
    if target_list.is_empty() {
        return HashMap::new();
    }
    let contents = all_contents(repo, index, &target_list, &target_index);
    let mut last_commit: Vec<Option<u32>> = vec![None; target_list.len()];
    for &c in scope {
        let root = graph.nodes[c as usize].tree;
        let Some(&tree) = index.ids.get(&root) else {
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
            }
        }
    }
    target_list.into_iter().zip(result).collect()
}

/// For every tree of `index`: which targets it holds, at which paths below
/// it. Each tree is done after all its subtrees (an iterative post-order
/// walk, so deep nesting cannot overflow the stack).
fn all_contents(
    repo: &gix::Repository,
    index: &TreeIndex,
    targets: &[ObjectId],
    target_index: &HashMap<ObjectId, u32>,
) -> Vec<Contents> {
    let empty: Contents = Rc::new(Vec::new());
    let count = index.trees.len();
    let mut contents: Vec<Contents> = vec![empty; count];
    let mut done = vec![false; count];
    let mut buf = Vec::new();
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..count {
        if done[start] {
            continue;
        }
        stack.push((start, 0));
        while let Some((tree, next)) = stack.last_mut() {
            let tree = *tree;
            if let Some(&(_, child)) = index.subtrees[tree].get(*next) {
                *next += 1;
                if !done[child as usize] {
                    // Mark on entry: a cycle (only in a corrupt repository)
                    // then ends instead of looping.
                    done[child as usize] = true;
                    stack.push((child as usize, 0));
                }
                continue;
            }
            stack.pop();
            done[tree] = true;
            let mut found: Vec<(u32, String)> = Vec::new();
            if targets.iter().any(|t| index.may_hold(tree, t)) {
                found.extend(direct_targets(
                    repo,
                    &index.trees[tree],
                    target_index,
                    &mut buf,
                ));
            }
            for &(name, child) in index.subtrees[tree].iter() {
                let below = &contents[child as usize];
                if below.is_empty() {
                    continue;
                }
                let name = &index.names[name as usize];
                found.extend(below.iter().map(|(t, path)| (*t, format!("{name}/{path}"))));
            }
            if !found.is_empty() {
                contents[tree] = Rc::new(found);
            }
        }
    }
    contents
}

/// The targets tree `id` holds directly, with their names. Unreadable trees
/// were reported by the first pass; here they hold nothing.
fn direct_targets(
    repo: &gix::Repository,
    id: &ObjectId,
    targets: &HashMap<ObjectId, u32>,
    buf: &mut Vec<u8>,
) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    if let Ok(Some(data)) = repo.objects.try_find(id, buf)
        && data.kind == Kind::Tree
    {
        for entry in TreeRefIter::from_bytes(data.data, repo.object_hash()).flatten() {
            if entry.mode.is_blob_or_symlink()
                && let Some(&t) = targets.get(entry.oid)
            {
                found.push((t, crate::sources::path_text(entry.filename)));
            }
        }
    }
    found
}
