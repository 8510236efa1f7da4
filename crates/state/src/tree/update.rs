//! The Merkle update of one block: a write set in, the new root and the tree nodes to persist
//! out.
//!
//! jmt inserts a key at a time (`put_value_set`), rehashing the path from the root for every
//! key, or a sorted batch at once (`batch_put_value_sets`), visiting each touched node once per
//! version. Both build the same canonical tree: the same root and the same nodes for the same
//! keys (`tests::batch_and_one_by_one_build_the_same_tree`). The batch takes no deletions and no
//! empty set, so those (no contract deletes a state key today; an empty block writes nothing)
//! go one key at a time.
//!
//! **A large batch is split across threads.** Below the root, the subtrees of its sixteen
//! children are disjoint: a key whose hash starts with nibble `n` touches only child `n`'s
//! subtree. So the keys are cut into parts by their first nibble, each part is a jmt batch of
//! its own over the same parent tree on a thread of its own, and the parts' nodes are exactly the
//! nodes one batch would write, but for the root: each part writes a root that has only its own
//! children replaced. The new root takes each child from the part that owns that nibble. Reading
//! the parent's nodes (most of them from table files on a long chain) and hashing the new ones
//! are most of a block's Merkle update, and both split evenly. The result does not depend on
//! the threads: `tests::a_split_update_is_one_batch` requires the same root, nodes, values, stale
//! nodes and counts as one batch, whatever the number of parts.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::OnceLock;

use borsh::{BorshDeserialize, BorshSerialize};
use jmt::storage::{Node, NodeKey, NodeStats, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, SimpleHasher, Version};
use sha2::Sha256;
use sm3::Sm3;

use huxin_types::crypto::Suite;
use huxin_types::Hash32;

use super::StateReader;
use crate::InvalidBlock;

/// Fewest keys a block must write for its Merkle update to be split across threads: below
/// this, starting the threads costs about what they save.
pub const SPLIT_KEYS_MIN: usize = 64;

/// Most threads one Merkle update is split across (fewer on a machine with fewer cores).
pub const SPLIT_PARTS_MAX: usize = 4;

/// Threads a large Merkle update is split across on this machine.
fn split_parts() -> usize {
    static PARTS: OnceLock<usize> = OnceLock::new();
    *PARTS.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get).min(SPLIT_PARTS_MAX))
}

/// Put `writes` (`None`: delete) into the tree at `version`, on top of `version - 1`.
pub(crate) fn put_writes<R: StateReader + Sync>(
    reader: &R,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    version: u64,
) -> Result<(Hash32, TreeUpdateBatch), InvalidBlock> {
    let parts = if writes.len() >= SPLIT_KEYS_MIN { split_parts() } else { 1 };
    put_writes_in_parts(reader, writes, version, parts)
}

/// [`put_writes`], a batch split into at most `parts` (1: one batch on this thread).
pub(super) fn put_writes_in_parts<R: StateReader + Sync>(
    reader: &R,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    version: u64,
    parts: usize,
) -> Result<(Hash32, TreeUpdateBatch), InvalidBlock> {
    match reader.suite() {
        Suite::Ed25519Sha256 => put_writes_with::<_, Sha256>(reader, writes, version, parts),
        Suite::Sm2Sm3 => put_writes_with::<_, Sm3>(reader, writes, version, parts),
    }
}

fn put_writes_with<R: TreeReader + Sync, H: SimpleHasher>(
    reader: &R,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    version: u64,
    parts: usize,
) -> Result<(Hash32, TreeUpdateBatch), InvalidBlock> {
    let key_hash = |key: &[u8]| KeyHash::with::<H>(key);
    let upserts: Option<Vec<(KeyHash, Vec<u8>)>> =
        writes.iter().map(|(k, v)| v.as_ref().map(|v| (key_hash(k), v.clone()))).collect();
    let (root, batch) = match upserts {
        Some(set) if !set.is_empty() => split_batch::<_, H>(reader, set, version, parts)?,
        _ => JellyfishMerkleTree::<_, H>::new(reader)
            .put_value_set(writes.iter().map(|(k, v)| (key_hash(k), v.clone())), version)
            .map_err(unreadable)?,
    };
    Ok((Hash32(root.0), batch))
}

/// One jmt batch of `set` at `version`, on this thread.
fn one_batch<R: TreeReader, H: SimpleHasher>(
    reader: &R,
    set: Vec<(KeyHash, OwnedValue)>,
    version: Version,
) -> Result<(RootHash, TreeUpdateBatch), InvalidBlock> {
    let (roots, batch) =
        JellyfishMerkleTree::<_, H>::new(reader).batch_put_value_sets(vec![set], None, version).map_err(unreadable)?;
    let root = *roots.first().ok_or_else(|| InvalidBlock::State("the Merkle update gave no root".into()))?;
    Ok((root, batch))
}

/// `set` at `version` as one batch, split by the keys' first nibble into at most `parts` run on
/// threads of their own when the parent's root has children to split (a tree of one key or
/// none does not, nor does genesis).
fn split_batch<R: TreeReader + Sync, H: SimpleHasher>(
    reader: &R,
    mut set: Vec<(KeyHash, OwnedValue)>,
    version: Version,
    parts: usize,
) -> Result<(RootHash, TreeUpdateBatch), InvalidBlock> {
    if parts < 2 || version == 0 {
        return one_batch::<_, H>(reader, set, version);
    }
    let parent_root = NodeKey::new(version - 1, std::iter::empty().collect());
    if !matches!(reader.get_node_option(&parent_root).map_err(unreadable)?, Some(Node::Internal(_))) {
        return one_batch::<_, H>(reader, set, version);
    }
    set.sort_unstable_by_key(|(key, _)| *key);
    let cuts = cuts(&set, parts);
    if cuts.len() < 2 {
        return one_batch::<_, H>(reader, set, version);
    }
    // Each part's keys and the nibbles it owns (the last part owns up to 15).
    let mut owned = Vec::with_capacity(cuts.len());
    for (i, &(start, first_nibble)) in cuts.iter().enumerate().rev() {
        let last_nibble = cuts.get(i + 1).map_or(15, |&(_, next)| next - 1);
        owned.push((set.split_off(start), first_nibble..=last_nibble));
    }
    owned.reverse();
    let (sets, nibbles): (Vec<_>, Vec<_>) = owned.into_iter().unzip();
    let results = std::thread::scope(|scope| {
        let mut sets = sets.into_iter();
        let first = sets.next().unwrap_or_default();
        let others: Vec<_> = sets.map(|set| scope.spawn(move || one_batch::<_, H>(reader, set, version))).collect();
        let mut results = vec![one_batch::<_, H>(reader, first, version)];
        for other in others {
            results.push(other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        results
    });
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    merge::<H>(results.into_iter().map(|(_, batch)| batch).zip(nibbles), version)
}

/// Where each part of the sorted `set` starts, and the first nibble it owns: at most `parts`
/// cuts, each at a change of first nibble, as even in keys as those allow. The first part owns
/// nibbles from 0.
pub(super) fn cuts(set: &[(KeyHash, OwnedValue)], parts: usize) -> Vec<(usize, u8)> {
    let nibble = |i: usize| set[i].0 .0[0] >> 4;
    let mut cuts = vec![(0, 0)];
    for part in 1..parts {
        let target = set.len() * part / parts;
        // The first key at or after the target whose first nibble differs from its predecessor's.
        let Some(start) = (target.max(1)..set.len()).find(|&i| nibble(i) != nibble(i - 1)) else { break };
        if start > cuts.last().map_or(0, |&(s, _)| s) {
            cuts.push((start, nibble(start)));
        }
    }
    cuts
}

/// The layout of an internal node in jmt's borsh encoding (after the node's tag), which jmt
/// gives no constructor for: its sixteen child slots, how many are filled, and the leaves below.
#[derive(BorshSerialize, BorshDeserialize)]
struct InternalLayout {
    children: [Option<ChildLayout>; 16],
    num_children: u64,
    leaf_count: u64,
}

#[derive(BorshSerialize, BorshDeserialize, Clone)]
struct ChildLayout {
    hash: [u8; 32],
    version: u64,
    node_type: NodeTypeLayout,
}

#[derive(BorshSerialize, BorshDeserialize, Clone)]
enum NodeTypeLayout {
    Leaf,
    Internal { leaf_count: u64 },
}

/// jmt's borsh tag of an internal node.
const INTERNAL_TAG: u8 = 1;

fn internal_layout(node: &Node) -> Result<InternalLayout, InvalidBlock> {
    let bytes = borsh::to_vec(node).map_err(unreadable)?;
    match bytes.split_first() {
        Some((&INTERNAL_TAG, rest)) => borsh::from_slice(rest).map_err(unreadable),
        _ => Err(InvalidBlock::State("a split Merkle update's root is not an internal node".into())),
    }
}

fn internal_node(layout: &InternalLayout) -> Result<Node, InvalidBlock> {
    let mut bytes = vec![INTERNAL_TAG];
    layout.serialize(&mut bytes).map_err(unreadable)?;
    borsh::from_slice(&bytes).map_err(unreadable)
}

/// One batch from the parts' batches, each with the first-nibble range it owns: every part's
/// nodes, values and stale nodes, and the root rebuilt with each child from its owner.
fn merge<H: SimpleHasher>(
    parts: impl IntoIterator<Item = (TreeUpdateBatch, std::ops::RangeInclusive<u8>)>,
    version: Version,
) -> Result<(RootHash, TreeUpdateBatch), InvalidBlock> {
    let root_key = NodeKey::new(version, std::iter::empty().collect());
    let missing_root = || InvalidBlock::State("a split Merkle update's part wrote no root".into());
    let mut merged: Option<(TreeUpdateBatch, InternalLayout)> = None;
    for (part, nibbles) in parts {
        let root = internal_layout(part.node_batch.get_node(&root_key).ok_or_else(missing_root)?)?;
        let Some((batch, layout)) = merged.as_mut() else {
            merged = Some((part, root));
            continue;
        };
        for n in nibbles {
            layout.children[usize::from(n)] = root.children[usize::from(n)].clone();
        }
        // Every part wrote a root and made the parent's stale: the merged batch counts each once.
        for (sum, stats) in batch.node_stats.iter_mut().zip(&part.node_stats) {
            *sum = NodeStats {
                new_nodes: sum.new_nodes + stats.new_nodes - 1,
                new_leaves: sum.new_leaves + stats.new_leaves,
                stale_nodes: sum.stale_nodes + stats.stale_nodes - 1,
                stale_leaves: sum.stale_leaves + stats.stale_leaves,
            };
        }
        batch.node_batch.merge(part.node_batch);
        batch.stale_node_index_batch.extend(part.stale_node_index_batch);
    }
    let (mut batch, mut layout) = merged.ok_or_else(missing_root)?;
    layout.num_children = layout.children.iter().flatten().count() as u64;
    layout.leaf_count = layout
        .children
        .iter()
        .flatten()
        .map(|child| match child.node_type {
            NodeTypeLayout::Leaf => 1,
            NodeTypeLayout::Internal { leaf_count } => leaf_count,
        })
        .sum();
    let root = internal_node(&layout)?;
    let hash = match &root {
        Node::Internal(node) => node.hash::<H>(),
        _ => return Err(InvalidBlock::State("a split Merkle update's root did not rebuild".into())),
    };
    batch.node_batch.insert_node(root_key, root);
    Ok((RootHash(hash), batch))
}

/// The tree could not be read (a storage error, not the block's fault).
fn unreadable(e: impl std::fmt::Display) -> InvalidBlock {
    InvalidBlock::State(e.to_string())
}
