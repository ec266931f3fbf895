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
    seen_trees: gix::hashtable::HashSet<ObjectId>,
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
            seen_trees: Default::default(),
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
        if !self.seen_trees.insert(root) {
            return;
        }
        let hash = self.repo.object_hash();
        let mut stack = vec![(root, prefix.to_string())];
        while let Some((tree, dir)) = stack.pop() {
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
                    if self.seen_trees.insert(id) {
                        stack.push((id, join(&dir, &crate::sources::path_text(entry.filename))));
                    }
                } else if entry.mode.is_blob_or_symlink()
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
        }
    }

    /// Every tree and blob met, for telling reachable from unreachable.
    pub fn known(&self) -> HashSet<ObjectId> {
        self.seen_trees
            .iter()
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

    /// The blobs to read, each once, with its first path and commit.
    pub fn into_items(self) -> Vec<Item> {
        self.origins
            .into_iter()
            .map(|(object, path, owner)| Item {
                object,
                kind: OriginKind::Blob,
                path,
                owner,
                reachable: true,
            })
            .collect()
    }
}

/// A tree being decoded in the occurrence pass.
struct Frame {
    id: ObjectId,
    /// Its name inside the parent tree.
    name: String,
    /// Subtrees and target blobs, in tree order.
    entries: Vec<(bool, String, ObjectId)>,
    next: usize,
    /// (target index, path relative to this tree).
    found: Vec<(u32, String)>,
}

type Contents = Rc<Vec<(u32, String)>>;

/// Counts, for each target blob, the commits in `scope` whose tree holds it
/// and the distinct paths it has there.
pub(super) fn occurrences(
    repo: &gix::Repository,
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
    let mut last_commit: Vec<Option<u32>> = vec![None; target_list.len()];
    let mut memo: gix::hashtable::HashMap<ObjectId, Contents> = Default::default();
    let mut buf = Vec::new();
    if !target_list.is_empty() {
        for &c in scope {
            let root = graph.nodes[c as usize].tree;
            let contents = tree_contents(repo, root, &target_index, &mut memo, &mut buf);
            for (target, path) in contents.iter() {
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
    }
    target_list.into_iter().zip(result).collect()
}

/// Which targets `root` holds, and where; memoised per tree, decoded without
/// recursion so deep directory nesting cannot overflow the stack.
fn tree_contents(
    repo: &gix::Repository,
    root: ObjectId,
    targets: &HashMap<ObjectId, u32>,
    memo: &mut gix::hashtable::HashMap<ObjectId, Contents>,
    buf: &mut Vec<u8>,
) -> Contents {
    if let Some(done) = memo.get(&root) {
        return done.clone();
    }
    let mut stack = vec![open_frame(repo, root, String::new(), targets, buf)];
    loop {
        let Some(top) = stack.last_mut() else {
            return Rc::new(Vec::new());
        };
        if top.next < top.entries.len() {
            let (is_tree, name, id) = top.entries[top.next].clone();
            top.next += 1;
            if !is_tree {
                if let Some(&t) = targets.get(&id) {
                    top.found.push((t, name));
                }
            } else if let Some(done) = memo.get(&id) {
                for (t, path) in done.iter() {
                    top.found.push((*t, format!("{name}/{path}")));
                }
            } else {
                let frame = open_frame(repo, id, name, targets, buf);
                stack.push(frame);
            }
            continue;
        }
        let Some(frame) = stack.pop() else {
            return Rc::new(Vec::new());
        };
        let contents: Contents = Rc::new(frame.found);
        memo.insert(frame.id, contents.clone());
        match stack.last_mut() {
            Some(parent) => {
                for (t, path) in contents.iter() {
                    parent.found.push((*t, format!("{}/{path}", frame.name)));
                }
            }
            None => return contents,
        }
    }
}

fn open_frame(
    repo: &gix::Repository,
    id: ObjectId,
    name: String,
    targets: &HashMap<ObjectId, u32>,
    buf: &mut Vec<u8>,
) -> Frame {
    let mut entries = Vec::new();
    // Unreadable trees were reported by the first pass; here they hold nothing.
    if let Ok(Some(data)) = repo.objects.try_find(&id, buf)
        && data.kind == Kind::Tree
    {
        for entry in TreeRefIter::from_bytes(data.data, repo.object_hash()).flatten() {
            let oid = entry.oid.to_owned();
            if entry.mode.is_tree() {
                entries.push((true, crate::sources::path_text(entry.filename), oid));
            } else if entry.mode.is_blob_or_symlink() && targets.contains_key(&oid) {
                entries.push((false, crate::sources::path_text(entry.filename), oid));
            }
        }
    }
    Frame {
        id,
        name,
        entries,
        next: 0,
        found: Vec::new(),
    }
}
