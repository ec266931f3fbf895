//! Reading objects of one kind (blobs, or trees) straight out of pack files,
//! in delta order.
//!
//! Why: a pack stores most versions of a file as a delta against another
//! version. Looking blobs up one by one re-applies the same delta chains over
//! and over; walking each pack's delta forest instead decodes every object
//! exactly once, from its base, with the base still in memory. And because
//! the walk knows which bytes each delta copied from its base, it hands the
//! copies on, so the scanner can skip what it has already read in the base.
//!
//! Only what this module can decode with certainty is handed out. Anything
//! else (a pack it cannot open, an entry it cannot inflate, a delta whose base
//! lives in another pack) is left alone and read later through the object
//! database, which reports what it cannot read.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::objs::Kind;
use gix::odb::pack;

/// One copy instruction of a delta, in absolute offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyOp {
    /// Where the bytes land in the new object.
    pub target: usize,
    /// Where they come from in the base.
    pub base: usize,
    /// How many bytes.
    pub len: usize,
}

/// A blob decoded as a delta: its base's bytes, the copies that built it,
/// and whatever the visitor kept from visiting the base.
#[derive(Debug)]
pub struct Derived<'a, S> {
    /// The base object's content.
    pub base: &'a [u8],
    /// The delta's copy instructions, in target order.
    pub copies: &'a [CopyOp],
    /// What the visitor returned for the base.
    pub base_state: &'a S,
}

/// Decides what the walk does with an object of its kind.
pub(super) trait Visitor: Sync {
    /// What a visit leaves for the object's delta children.
    type State: Send;
    /// The one kind of object this walk visits (git deltas never cross kinds).
    fn kind(&self) -> gix::objs::Kind;
    /// Whether this object is to be visited; the walk decodes only objects
    /// that are wanted or that a wanted one is derived from. Default: all.
    fn wants(&self, _id: &gix::oid) -> bool {
        true
    }
    /// Objects larger than this many bytes (0: no limit) are not decoded,
    /// nor anything derived from them: the one-by-one reader then reports
    /// the wanted ones as too large from their headers, so no object larger
    /// than the limit is ever held in memory by the walk. Default: none.
    fn size_limit(&self) -> u64 {
        0
    }
    /// Visits one wanted object (each id at most once per walk).
    fn visit(
        &self,
        id: ObjectId,
        data: &[u8],
        derived: Option<Derived<'_, Self::State>>,
    ) -> Option<Self::State>;
}

/// The pack index (`.idx`) files of an objects directory, sorted by name.
pub(super) fn pack_indexes(objects_dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(objects_dir.join("pack"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "idx"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
}

/// No delta base.
const NO_PARENT: u32 = u32::MAX;

/// An entry of one pack, in pack order.
struct Node {
    offset: u64,
    /// Where its id is in the pack index.
    index_entry: u32,
    /// The delta base, as an index into the pack's nodes (`NO_PARENT`: none).
    parent: u32,
    /// The kind of object it is (for deltas: the kind its chain ends in).
    kind: Kind,
}

/// One pack, opened and its delta forest read once for every walk of an
/// audit: reading 400k entry headers costs a tenth of a second, and mapping
/// the pack afresh for each walk would fault all of it in again.
pub(super) struct Pack {
    index: pack::index::File,
    data: pack::data::File,
    nodes: Vec<Node>,
}

impl std::fmt::Debug for Pack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pack")
            .field("path", &self.data.path())
            .field("objects", &self.nodes.len())
            .finish()
    }
}

impl Pack {
    fn id(&self, node: &Node) -> &gix::oid {
        self.index.oid_at_index(node.index_entry)
    }

    /// Where `id` is stored in this pack, if it is.
    pub(super) fn offset_of(&self, id: &gix::oid) -> Option<u64> {
        self.index
            .lookup(id)
            .map(|entry| self.index.pack_offset_at_index(entry))
    }
}

/// Every pack of an objects directory that can be read. A pack that cannot
/// be opened or whose headers do not add up is left out: its objects are then
/// read the slow way, which reports why.
pub(super) fn open_packs(objects_dir: &Path, hash: gix::hash::Kind) -> Vec<Pack> {
    pack_indexes(objects_dir)
        .iter()
        .filter_map(|index_path| {
            let index = pack::index::File::at(index_path, hash).ok()?;
            let data = pack::data::File::at(index_path.with_extension("pack"), hash).ok()?;
            let nodes = read_forest(&index, &data)?;
            Some(Pack { index, data, nodes })
        })
        .collect()
}

/// Visits every wanted object of every pack in `packs`, each delta tree on
/// one of `pool`'s threads.
pub(super) fn walk_packs<V: Visitor>(packs: &[Pack], pool: &rayon::ThreadPool, visitor: &V) {
    for pack in packs {
        walk_pack(pack, pool, visitor);
    }
}

fn walk_pack<V: Visitor>(pack: &Pack, pool: &rayon::ThreadPool, visitor: &V) {
    let (needed, children) = plan(pack, visitor);
    let roots: Vec<u32> = (0..pack.nodes.len() as u32)
        .filter(|&i| needed[i as usize] && pack.nodes[i as usize].parent == NO_PARENT)
        .collect();
    pool.install(|| {
        use rayon::prelude::*;
        roots
            .par_iter()
            .with_max_len(1)
            .for_each(|&root| walk_tree(root, pack, &children, visitor));
    });
}

/// Reads every entry header: the delta forest of the pack. `None` if the
/// pack is inconsistent.
fn read_forest(index: &pack::index::File, data: &pack::data::File) -> Option<Vec<Node>> {
    let mut entries: Vec<(u64, u32)> = (0..index.num_objects())
        .map(|i| (index.pack_offset_at_index(i), i))
        .collect();
    entries.sort_unstable_by_key(|(offset, _)| *offset);
    let position = |offset: u64| -> Option<u32> {
        entries
            .binary_search_by_key(&offset, |(o, _)| *o)
            .ok()
            .map(|i| i as u32)
    };
    let mut nodes: Vec<Node> = Vec::with_capacity(entries.len());
    // For each node: its kind once known; deltas learn it from their base.
    let mut known: Vec<Option<Kind>> = Vec::with_capacity(entries.len());
    for &(offset, index_entry) in &entries {
        let entry = data.entry(offset).ok()?;
        let (parent, kind) = match entry.header {
            pack::data::entry::Header::Blob => (NO_PARENT, Some(Kind::Blob)),
            pack::data::entry::Header::Tree => (NO_PARENT, Some(Kind::Tree)),
            pack::data::entry::Header::Commit => (NO_PARENT, Some(Kind::Commit)),
            pack::data::entry::Header::Tag => (NO_PARENT, Some(Kind::Tag)),
            pack::data::entry::Header::OfsDelta { base_distance } => {
                let base =
                    pack::data::entry::Header::verified_base_pack_offset(offset, base_distance)?;
                (position(base)?, None)
            }
            pack::data::entry::Header::RefDelta { base_id } => {
                let base = index
                    .lookup(base_id)
                    .map(|i| index.pack_offset_at_index(i))?;
                (position(base)?, None)
            }
        };
        nodes.push(Node {
            offset,
            index_entry,
            parent,
            kind: Kind::Blob,
        });
        known.push(kind);
    }
    // Resolve each delta's kind from its chain (ref deltas may point forward).
    let mut chain = Vec::new();
    for i in 0..nodes.len() {
        chain.clear();
        let mut at = i;
        let kind = loop {
            if let Some(kind) = known[at] {
                break kind;
            }
            chain.push(at);
            if chain.len() > nodes.len() || nodes[at].parent == NO_PARENT {
                return None; // a cycle: not a valid pack
            }
            at = nodes[at].parent as usize;
        };
        for &c in &chain {
            known[c] = Some(kind);
        }
        nodes[i].kind = kind;
    }
    Some(nodes)
}

/// The part of the forest one walk decodes: which nodes are wanted or a
/// base of a wanted one, and the children of each along those paths.
fn plan<V: Visitor>(pack: &Pack, visitor: &V) -> (Vec<bool>, Vec<Vec<u32>>) {
    let nodes = &pack.nodes;
    let walked = visitor.kind();
    let mut needed = vec![false; nodes.len()];
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); nodes.len()];
    for i in 0..nodes.len() {
        if nodes[i].kind != walked || !visitor.wants(pack.id(&nodes[i])) {
            continue;
        }
        let mut at = i as u32;
        while at != NO_PARENT && !needed[at as usize] {
            needed[at as usize] = true;
            let parent = nodes[at as usize].parent;
            if parent != NO_PARENT {
                children[parent as usize].push(at);
            }
            at = parent;
        }
    }
    (needed, children)
}

/// One object of a delta tree being walked, with its content kept for its
/// children.
struct Frame<S> {
    node: u32,
    content: Vec<u8>,
    state: Option<S>,
    next_child: usize,
}

/// Popped buffers a walk keeps for reuse: enough for the usual back-and-forth
/// of a depth-first walk, without holding a deep chain's memory twice.
const SPARE_BUFFERS: usize = 4;

/// Decodes a delta tree depth first: every object once, from its base.
fn walk_tree<V: Visitor>(root: u32, pack: &Pack, children: &[Vec<u32>], visitor: &V) {
    let (nodes, data) = (&pack.nodes, &pack.data);
    let limit = visitor.size_limit();
    let mut inflate = gix::zlib::Inflate::default();
    let mut delta = Vec::new();
    let Some(content) = inflate_entry(
        data,
        nodes[root as usize].offset,
        limit,
        &mut inflate,
        Vec::new(),
    ) else {
        return;
    };
    let state = visit(visitor, pack.id(&nodes[root as usize]), &content, None);
    let mut stack = vec![Frame {
        node: root,
        content,
        state,
        next_child: 0,
    }];
    let mut copies = Vec::new();
    // Buffers of popped frames, reused: objects of one delta tree have
    // similar sizes, and fresh multi-megabyte allocations cost more than
    // the copying they hold.
    let mut spare: Vec<Vec<u8>> = Vec::new();
    while let Some(top) = stack.last_mut() {
        let Some(&child) = children[top.node as usize].get(top.next_child) else {
            if let Some(frame) = stack.pop()
                && spare.len() < SPARE_BUFFERS
            {
                spare.push(frame.content);
            }
            continue;
        };
        top.next_child += 1;
        let Some(raw) = inflate_entry(
            data,
            nodes[child as usize].offset,
            limit,
            &mut inflate,
            std::mem::take(&mut delta),
        ) else {
            continue;
        };
        if limit > 0 && delta_target_size(&raw).is_none_or(|size| size as u64 > limit) {
            delta = raw;
            continue;
        }
        let mut content = spare.pop().unwrap_or_default();
        copies.clear();
        let applied = apply_delta(&top.content, &raw, &mut content, &mut copies);
        delta = raw;
        if applied.is_err() {
            // Left for the object database to read and report.
            if spare.len() < SPARE_BUFFERS {
                spare.push(content);
            }
            continue;
        }
        let derived = top.state.as_ref().map(|base_state| Derived {
            base: &top.content,
            copies: &copies,
            base_state,
        });
        let state = visit(visitor, pack.id(&nodes[child as usize]), &content, derived);
        stack.push(Frame {
            node: child,
            content,
            state,
            next_child: 0,
        });
    }
}

fn visit<V: Visitor>(
    visitor: &V,
    id: &gix::oid,
    content: &[u8],
    derived: Option<Derived<'_, V::State>>,
) -> Option<V::State> {
    if visitor.wants(id) {
        visitor.visit(id.to_owned(), content, derived)
    } else {
        None
    }
}

/// The inflated bytes of the entry at `offset` (for a delta: the delta);
/// `None` if it cannot be read or is over `limit` bytes (0: no limit).
fn inflate_entry(
    data: &pack::data::File,
    offset: u64,
    limit: u64,
    inflate: &mut gix::zlib::Inflate,
    mut out: Vec<u8>,
) -> Option<Vec<u8>> {
    let entry = data.entry(offset).ok()?;
    if limit > 0 && entry.decompressed_size > limit {
        return None;
    }
    let size = usize::try_from(entry.decompressed_size).ok()?;
    out.clear();
    out.resize(size, 0);
    data.decompress_entry(&entry, inflate, &mut out).ok()?;
    Some(out)
}

/// Why a delta could not be applied.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum DeltaError {
    /// The delta ends in the middle of a header or instruction.
    Truncated,
    /// The delta's base size is not the base's.
    BaseSize,
    /// A copy reaches outside the base.
    CopyOutOfRange,
    /// Instruction 0 is reserved.
    Reserved,
    /// The result is not the size the delta announced.
    TargetSize,
}

fn varint(delta: &[u8], at: &mut usize) -> Result<usize, DeltaError> {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let byte = *delta.get(*at).ok_or(DeltaError::Truncated)?;
        *at += 1;
        if shift >= usize::BITS {
            return Err(DeltaError::Truncated);
        }
        value |= usize::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
}

/// The size of the object a delta builds, from its header.
fn delta_target_size(delta: &[u8]) -> Option<usize> {
    let mut at = 0;
    varint(delta, &mut at).ok()?;
    varint(delta, &mut at).ok()
}

/// Applies a git delta to `base`, writing the object to `out` and each copy
/// instruction to `copies`.
pub(super) fn apply_delta(
    base: &[u8],
    delta: &[u8],
    out: &mut Vec<u8>,
    copies: &mut Vec<CopyOp>,
) -> Result<(), DeltaError> {
    let mut at = 0;
    if varint(delta, &mut at)? != base.len() {
        return Err(DeltaError::BaseSize);
    }
    let target_size = varint(delta, &mut at)?;
    out.clear();
    out.reserve(target_size);
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        if op & 0x80 != 0 {
            let mut field = |present: bool, shift: u32| -> Result<usize, DeltaError> {
                if !present {
                    return Ok(0);
                }
                let byte = *delta.get(at).ok_or(DeltaError::Truncated)?;
                at += 1;
                Ok(usize::from(byte) << shift)
            };
            let mut offset = 0;
            for bit in 0..4 {
                offset |= field(op & (1 << bit) != 0, 8 * bit)?;
            }
            let mut len = 0;
            for bit in 0..3 {
                len |= field(op & (1 << (4 + bit)) != 0, 8 * bit)?;
            }
            if len == 0 {
                len = 0x10000;
            }
            let end = offset.checked_add(len).ok_or(DeltaError::CopyOutOfRange)?;
            let source = base.get(offset..end).ok_or(DeltaError::CopyOutOfRange)?;
            match copies.last_mut() {
                // Consecutive copies of consecutive base bytes are one copy.
                Some(last)
                    if last.target + last.len == out.len() && last.base + last.len == offset =>
                {
                    last.len += len;
                }
                _ => copies.push(CopyOp {
                    target: out.len(),
                    base: offset,
                    len,
                }),
            }
            out.extend_from_slice(source);
        } else if op != 0 {
            let len = usize::from(op);
            let insert = delta.get(at..at + len).ok_or(DeltaError::Truncated)?;
            at += len;
            out.extend_from_slice(insert);
        } else {
            return Err(DeltaError::Reserved);
        }
    }
    if out.len() != target_size {
        return Err(DeltaError::TargetSize);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(base: usize, target: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for mut value in [base, target] {
            loop {
                let byte = (value & 0x7f) as u8;
                value >>= 7;
                if value == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
        out
    }

    #[test]
    fn copies_and_inserts_rebuild_the_object() {
        let base = b"hello, world\n".repeat(20);
        let mut delta = header(base.len(), 5 + 3 + 200);
        delta.extend([0x80 | 0x01 | 0x10, 0, 5]); // copy 5 bytes at 0
        delta.extend([3, b'X', b'Y', b'Z']); // insert "XYZ"
        delta.extend([0x80 | 0x01 | 0x10, 13, 200]); // copy 200 bytes at 13
        let (mut out, mut copies) = (Vec::new(), Vec::new());
        apply_delta(&base, &delta, &mut out, &mut copies).unwrap();
        assert_eq!(&out[..8], b"helloXYZ");
        assert_eq!(&out[8..], &base[13..213]);
        assert_eq!(
            copies,
            vec![
                CopyOp {
                    target: 0,
                    base: 0,
                    len: 5
                },
                CopyOp {
                    target: 8,
                    base: 13,
                    len: 200
                }
            ]
        );
    }

    #[test]
    fn broken_deltas_are_errors_not_panics() {
        let base = b"abc";
        let (mut out, mut copies) = (Vec::new(), Vec::new());
        let mut wrong_base = header(4, 3);
        wrong_base.extend([0x91, 0, 3]);
        assert_eq!(
            apply_delta(base, &wrong_base, &mut out, &mut copies),
            Err(DeltaError::BaseSize)
        );
        let mut out_of_range = header(3, 3);
        out_of_range.extend([0x91, 2, 3]);
        assert_eq!(
            apply_delta(base, &out_of_range, &mut out, &mut copies),
            Err(DeltaError::CopyOutOfRange)
        );
        let mut truncated = header(3, 3);
        truncated.extend([5, b'a']);
        assert_eq!(
            apply_delta(base, &truncated, &mut out, &mut copies),
            Err(DeltaError::Truncated)
        );
        let mut short = header(3, 9);
        short.extend([0x91, 0, 3]);
        assert_eq!(
            apply_delta(base, &short, &mut out, &mut copies),
            Err(DeltaError::TargetSize)
        );
        assert_eq!(
            apply_delta(base, &[3, 3, 0], &mut out, &mut copies),
            Err(DeltaError::Reserved)
        );
        assert!(apply_delta(base, &[0x80], &mut out, &mut copies).is_err());
    }
}
