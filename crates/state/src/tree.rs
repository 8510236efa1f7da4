//! The Merkle update of one block: a write set in, the new root and the tree nodes to persist
//! out.
//!
//! jmt inserts a key at a time (`put_value_set`), rehashing the path from the root for every
//! key, or a sorted batch at once (`batch_put_value_sets`), visiting each touched node once per
//! version. Both build the same canonical tree: the same root and the same nodes for the same
//! keys (`tests::batch_and_one_by_one_build_the_same_tree`). The batch takes no deletions and no
//! empty set, so those (no contract deletes a state key today; an empty block writes nothing)
//! go one key at a time.

use std::collections::BTreeMap;

use jmt::storage::{TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, Sha256Jmt};
use sha2::Sha256;

use huxin_types::Hash32;

use crate::InvalidBlock;

/// The JMT key hash of a state key.
pub fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash::with::<Sha256>(key)
}

/// Put `writes` (`None`: delete) into the tree at `version`, on top of `version - 1`.
pub(crate) fn put_writes<R: TreeReader>(
    reader: &R,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    version: u64,
) -> Result<(Hash32, TreeUpdateBatch), InvalidBlock> {
    let tree = Sha256Jmt::new(reader);
    let upserts: Option<Vec<(KeyHash, Vec<u8>)>> =
        writes.iter().map(|(k, v)| v.as_ref().map(|v| (key_hash(k), v.clone()))).collect();
    let (root, batch) = match upserts {
        Some(set) if !set.is_empty() => {
            let (roots, batch) = tree.batch_put_value_sets(vec![set], None, version).map_err(unreadable)?;
            let root = *roots.first().ok_or_else(|| InvalidBlock::State("the Merkle update gave no root".into()))?;
            (root, batch)
        }
        _ => tree.put_value_set(writes.iter().map(|(k, v)| (key_hash(k), v.clone())), version).map_err(unreadable)?,
    };
    Ok((Hash32(root.0), batch))
}

/// The tree could not be read (a storage error, not the block's fault).
fn unreadable(e: impl std::fmt::Display) -> InvalidBlock {
    InvalidBlock::State(e.to_string())
}

#[cfg(test)]
mod tests {
    use jmt::mock::MockTreeStore;
    use proptest::prelude::*;

    use super::*;

    /// Blocks of writes: keys drawn from a small space so later blocks overwrite earlier keys,
    /// values of a few bytes.
    fn blocks() -> impl Strategy<Value = Vec<BTreeMap<Vec<u8>, Option<Vec<u8>>>>> {
        let block = proptest::collection::btree_map(0u16..600, proptest::collection::vec(any::<u8>(), 0..8), 0..80)
            .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_be_bytes().to_vec(), Some(v))).collect());
        proptest::collection::vec(block, 1..12)
    }

    /// The old way: every key put one at a time.
    fn one_by_one(
        reader: &MockTreeStore,
        writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
        version: u64,
    ) -> (Hash32, TreeUpdateBatch) {
        let (root, batch) = Sha256Jmt::new(reader)
            .put_value_set(writes.iter().map(|(k, v)| (key_hash(k), v.clone())), version)
            .expect("put");
        (Hash32(root.0), batch)
    }

    proptest! {
        /// The batch update gives the same root and persists the same nodes, values and stale
        /// nodes as putting each key alone, block after block; and every key proves against the
        /// batch-built root.
        #[test]
        fn batch_and_one_by_one_build_the_same_tree(blocks in blocks()) {
            let (batch_store, single_store) = (MockTreeStore::default(), MockTreeStore::default());
            let mut latest: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
            for (version, writes) in blocks.iter().enumerate() {
                let version = version as u64;
                let (root, batch) = put_writes(&batch_store, writes, version).expect("batch");
                let (single_root, single) = one_by_one(&single_store, writes, version);
                prop_assert_eq!(root, single_root, "root at version {}", version);
                prop_assert_eq!(batch.node_batch.nodes(), single.node_batch.nodes());
                prop_assert_eq!(batch.node_batch.values(), single.node_batch.values());
                prop_assert_eq!(&batch.stale_node_index_batch, &single.stale_node_index_batch);
                batch_store.write_tree_update_batch(batch).expect("write");
                single_store.write_tree_update_batch(single).expect("write");
                for (k, v) in writes {
                    latest.insert(k.clone(), v.clone().expect("upserts only"));
                }
                for (k, v) in &latest {
                    let (value, proof) =
                        Sha256Jmt::new(&batch_store).get_with_proof(key_hash(k), version).expect("a proof");
                    prop_assert_eq!(value.as_ref(), Some(v));
                    prop_assert!(proof.verify(jmt::RootHash(root.0), key_hash(k), Some(v)).is_ok());
                }
            }
        }
    }

    /// A deletion (and an empty block) takes the one-by-one path and still updates the tree.
    #[test]
    fn deletions_and_empty_blocks_update_the_tree() {
        let store = MockTreeStore::default();
        let first: BTreeMap<_, _> = [(b"a".to_vec(), Some(b"1".to_vec())), (b"b".to_vec(), Some(b"2".to_vec()))].into();
        let (root0, batch) = put_writes(&store, &first, 0).expect("put");
        store.write_tree_update_batch(batch).expect("write");
        let (root1, batch) = put_writes(&store, &BTreeMap::new(), 1).expect("empty");
        assert_eq!(root1, root0, "an empty block keeps the root");
        store.write_tree_update_batch(batch).expect("write");
        let delete: BTreeMap<_, _> = [(b"a".to_vec(), None)].into();
        let (root2, batch) = put_writes(&store, &delete, 2).expect("delete");
        assert_ne!(root2, root1);
        store.write_tree_update_batch(batch).expect("write");
        let (value, _) = Sha256Jmt::new(&store).get_with_proof(key_hash(b"a"), 2).expect("read");
        assert_eq!(value, None);
    }
}
