//! The commit graph: every commit reachable from the tips, with its tree and
//! parents, and a topological order (parents before children) so the first
//! commit holding a blob is the one that introduced it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use gix::ObjectId;
use gix::objs::{CommitRef, Kind};

use super::refs::Tip;
use crate::sources::{SkipReason, Skipped};

/// One commit, as much as the scan needs of it.
#[derive(Debug, Clone)]
pub(super) struct CommitNode {
    /// The commit id.
    pub id: ObjectId,
    /// Its root tree.
    pub tree: ObjectId,
    /// Indices of the parents present in the graph.
    pub parents: Vec<u32>,
    /// Committer time, seconds: orders unrelated branches oldest first.
    pub time: i64,
}

/// Every commit reachable from the tips.
#[derive(Debug, Default)]
pub(super) struct Graph {
    /// Commits in discovery order.
    pub nodes: Vec<CommitNode>,
}

/// What the graph needs of a commit, decoded ahead in a pack walk.
#[derive(Debug, Clone)]
pub(super) struct CommitHeader {
    tree: ObjectId,
    parents: Vec<ObjectId>,
    time: i64,
}

/// Decodes every commit of every pack once, in pack order and in parallel,
/// so the graph walk does not look commits up one by one. Commits it cannot
/// parse are left out: the walk then reads them itself and reports them.
pub(super) struct CommitVisitor {
    hash: gix::hash::Kind,
    headers: std::sync::Mutex<gix::hashtable::HashMap<ObjectId, CommitHeader>>,
}

impl CommitVisitor {
    pub fn new(hash: gix::hash::Kind) -> Self {
        CommitVisitor {
            hash,
            headers: Default::default(),
        }
    }

    /// Every commit decoded.
    pub fn into_headers(self) -> gix::hashtable::HashMap<ObjectId, CommitHeader> {
        self.headers
            .into_inner()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl super::pack::Visitor for CommitVisitor {
    type State = ();

    fn kind(&self) -> Kind {
        Kind::Commit
    }

    fn visit(
        &self,
        id: ObjectId,
        data: &[u8],
        _: Option<super::pack::Derived<'_, ()>>,
    ) -> Option<()> {
        let commit = CommitRef::from_bytes(data, self.hash).ok()?;
        let header = CommitHeader {
            tree: commit.tree(),
            parents: commit.parents().collect(),
            time: commit.time().map(|t| t.seconds).unwrap_or(0),
        };
        self.headers
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(id, header);
        None
    }
}

/// Walks parents from every commit tip. A missing or corrupt commit is
/// recorded and the walk goes on; parents of shallow-boundary commits are not
/// followed (they are absent by design). Commits in `decoded` are not read
/// again.
pub(super) fn walk(
    repo: &gix::Repository,
    tips: &[Tip],
    shallow: &HashSet<ObjectId>,
    decoded: &gix::hashtable::HashMap<ObjectId, CommitHeader>,
    skipped: &mut Vec<Skipped>,
) -> Graph {
    let hash = repo.object_hash();
    let mut index: gix::hashtable::HashMap<ObjectId, u32> = Default::default();
    let mut parent_ids: Vec<Vec<ObjectId>> = Vec::new();
    let mut nodes: Vec<CommitNode> = Vec::new();
    let mut failed: HashSet<ObjectId> = HashSet::new();
    let mut stack: Vec<(ObjectId, Option<ObjectId>)> = tips
        .iter()
        .filter_map(|tip| match tip {
            Tip::Commit(id) => Some((*id, None)),
            _ => None,
        })
        .collect();
    let mut buf = Vec::new();
    while let Some((id, child)) = stack.pop() {
        if index.contains_key(&id) || failed.contains(&id) {
            continue;
        }
        let what = || match child {
            Some(child) => format!("commit {id} (parent of {child})"),
            None => format!("commit {id}"),
        };
        let header = match decoded.get(&id) {
            Some(header) => header.clone(),
            None => match read_header(repo, id, hash, &mut buf) {
                Ok(header) => header,
                Err((reason, detail)) => {
                    // Why this commit cannot be read: recorded once, and the
                    // walk goes on without it.
                    failed.insert(id);
                    skipped.push(Skipped {
                        path: "<commit>".to_string(),
                        reason,
                        detail: format!("{}{detail}", what()),
                    });
                    continue;
                }
            },
        };
        let parents: Vec<ObjectId> = if shallow.contains(&id) {
            Vec::new()
        } else {
            header.parents
        };
        for parent in parents.iter().rev() {
            stack.push((*parent, Some(id)));
        }
        index.insert(id, nodes.len() as u32);
        nodes.push(CommitNode {
            id,
            tree: header.tree,
            parents: Vec::new(),
            time: header.time,
        });
        parent_ids.push(parents);
    }
    for (node, parents) in nodes.iter_mut().zip(parent_ids) {
        let mut resolved: Vec<u32> = parents
            .iter()
            .filter_map(|p| index.get(p).copied())
            .collect();
        resolved.dedup();
        node.parents = resolved;
    }
    Graph { nodes }
}

/// Reads one commit through the object database; on failure, why (the
/// detail follows the commit's description).
fn read_header(
    repo: &gix::Repository,
    id: ObjectId,
    hash: gix::hash::Kind,
    buf: &mut Vec<u8>,
) -> Result<CommitHeader, (SkipReason, String)> {
    match super::integrity::find_verified(repo, &id, buf) {
        Ok(Some(data)) if data.kind == Kind::Commit => match CommitRef::from_bytes(data.data, hash)
        {
            Ok(commit) => Ok(CommitHeader {
                tree: commit.tree(),
                parents: commit.parents().collect(),
                time: commit.time().map(|t| t.seconds).unwrap_or(0),
            }),
            Err(err) => Err((SkipReason::CorruptObject, format!(": {err:#}"))),
        },
        Ok(Some(data)) => Err((
            SkipReason::CorruptObject,
            format!(": expected a commit, found a {}", data.kind),
        )),
        Ok(None) => Err((
            SkipReason::MissingObject,
            " is not in the repository".to_string(),
        )),
        Err(err) => {
            let (reason, detail) = err.skip_reason();
            Err((reason, format!(": {detail}")))
        }
    }
}

impl Graph {
    /// Kahn's algorithm: a commit comes after all its parents; among commits
    /// that are ready, the oldest (committer time) goes first, so unrelated
    /// branches are attributed in the order they were written.
    pub fn topological_order(&self) -> Vec<u32> {
        let n = self.nodes.len();
        let mut pending: Vec<usize> = self.nodes.iter().map(|c| c.parents.len()).collect();
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, node) in self.nodes.iter().enumerate() {
            for &p in &node.parents {
                children[p as usize].push(i as u32);
            }
        }
        let mut ready: BinaryHeap<Reverse<(i64, u32)>> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| pending[*i] == 0)
            .map(|(i, c)| Reverse((c.time, i as u32)))
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse((_, i))) = ready.pop() {
            order.push(i);
            for &child in &children[i as usize] {
                let count = &mut pending[child as usize];
                *count -= 1;
                if *count == 0 {
                    ready.push(Reverse((self.nodes[child as usize].time, child)));
                }
            }
        }
        if order.len() < n {
            // Only a corrupt graph has a cycle; scan what is left anyway.
            let mut placed = vec![false; n];
            for &i in &order {
                placed[i as usize] = true;
            }
            order.extend((0..n as u32).filter(|&i| !placed[i as usize]));
        }
        order
    }

    /// Marks `roots` and all their ancestors.
    pub fn ancestors(&self, roots: &[ObjectId]) -> Vec<bool> {
        let mut marked = vec![false; self.nodes.len()];
        let mut stack: Vec<u32> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, c)| roots.contains(&c.id))
            .map(|(i, _)| i as u32)
            .collect();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut marked[i as usize], true) {
                continue;
            }
            stack.extend(self.nodes[i as usize].parents.iter().copied());
        }
        marked
    }
}
