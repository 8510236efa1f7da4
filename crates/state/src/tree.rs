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
//! The tree hashes in the chain's suite: SHA-256 on an ed25519 chain, SM3 on an SM2 chain, both
//! the state keys (where a value sits) and the nodes (the root). A [`StateReader`] is a tree
//! that knows its suite.

use std::collections::BTreeMap;

use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, SimpleHasher, Version};
use sha2::Sha256;
use sm3::Sm3;

use huxin_types::crypto::Suite;
use huxin_types::Hash32;

use crate::InvalidBlock;

/// A reader of the Merkle state that knows its chain's suite, which hashes its keys and nodes.
pub trait StateReader: TreeReader {
    fn suite(&self) -> Suite;
}

/// Any tree reader, with the suite it hashes in: a reader that does not know its own (a mock
/// store in tests, a proof's entries).
pub struct InSuite<'a, R> {
    pub reader: &'a R,
    pub suite: Suite,
}

impl<R: TreeReader> TreeReader for InSuite<'_, R> {
    fn get_node_option(&self, node_key: &jmt::storage::NodeKey) -> anyhow::Result<Option<jmt::storage::Node>> {
        self.reader.get_node_option(node_key)
    }
    fn get_value_option(
        &self,
        max_version: jmt::Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<jmt::OwnedValue>> {
        self.reader.get_value_option(max_version, key_hash)
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(jmt::storage::NodeKey, jmt::storage::LeafNode)>> {
        self.reader.get_rightmost_leaf()
    }
}

impl<R: TreeReader> StateReader for InSuite<'_, R> {
    fn suite(&self) -> Suite {
        self.suite
    }
}

/// The state a block leaves, before it is written: its tree batch (new nodes, and the values it
/// wrote at its version) over `reader`, the store as of the block's parent (or later: what the
/// block wrote is read from the batch either way). The next block can execute on it while this
/// one is being persisted, and a block's entries be proven before it is.
pub struct Pending<'a, R> {
    reader: &'a R,
    batch: &'a NodeBatch,
    version: Version,
}

impl<'a, R> Pending<'a, R> {
    pub fn new(reader: &'a R, executed: &'a crate::Executed) -> Self {
        Pending { reader, batch: &executed.tree_batch.node_batch, version: executed.header.height.0 }
    }
}

impl<R: StateReader> StateReader for Pending<'_, R> {
    fn suite(&self) -> Suite {
        self.reader.suite()
    }
}

impl<R: TreeReader> TreeReader for Pending<'_, R> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        match self.batch.get_node(node_key) {
            Some(node) => Ok(Some(node.clone())),
            None => self.reader.get_node_option(node_key),
        }
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        // The batch holds values at the block's version only, the newest there are.
        if max_version >= self.version {
            if let Some(value) = self.batch.values().get(&(self.version, key_hash)) {
                return Ok(value.clone());
            }
        }
        self.reader.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("state restoration is not supported")
    }
}

/// The JMT key hash of a state key, in a chain of `suite`.
pub fn key_hash(suite: Suite, key: &[u8]) -> KeyHash {
    match suite {
        Suite::Ed25519Sha256 => KeyHash::with::<Sha256>(key),
        Suite::Sm2Sm3 => KeyHash::with::<Sm3>(key),
    }
}

/// The tree's root at `version`.
pub fn root_hash<R: StateReader>(reader: &R, version: u64) -> anyhow::Result<Hash32> {
    let root = match reader.suite() {
        Suite::Ed25519Sha256 => JellyfishMerkleTree::<_, Sha256>::new(reader).get_root_hash(version)?,
        Suite::Sm2Sm3 => JellyfishMerkleTree::<_, Sm3>::new(reader).get_root_hash(version)?,
    };
    Ok(Hash32(root.0))
}

/// `key`'s value at `version` and its proof (jmt's `SparseMerkleProof`, borsh-encoded: the same
/// bytes whatever the hash).
pub(crate) fn get_with_proof<R: StateReader>(
    reader: &R,
    key: &[u8],
    version: u64,
) -> anyhow::Result<(Option<Vec<u8>>, Vec<u8>)> {
    fn prove<R: TreeReader, H: SimpleHasher>(
        reader: &R,
        key: &[u8],
        version: u64,
    ) -> anyhow::Result<(Option<Vec<u8>>, Vec<u8>)> {
        let (value, proof) =
            JellyfishMerkleTree::<_, H>::new(reader).get_with_proof(KeyHash::with::<H>(key), version)?;
        Ok((value, borsh::to_vec(&proof)?))
    }
    match reader.suite() {
        Suite::Ed25519Sha256 => prove::<_, Sha256>(reader, key, version),
        Suite::Sm2Sm3 => prove::<_, Sm3>(reader, key, version),
    }
}

/// Check a proof (as [`get_with_proof`] encodes it) that `key` holds `value` (`None`: nothing)
/// in the tree of `root`, in a chain of `suite`.
pub(crate) fn verify_proof(
    suite: Suite,
    proof: &[u8],
    root: &Hash32,
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<(), String> {
    fn check<H: SimpleHasher>(proof: &[u8], root: &Hash32, key: &[u8], value: Option<&[u8]>) -> Result<(), String> {
        let proof: jmt::proof::SparseMerkleProof<H> =
            borsh::from_slice(proof).map_err(|e| format!("proof does not decode: {e}"))?;
        proof.verify(RootHash(root.0), KeyHash::with::<H>(key), value).map_err(|e| e.to_string())
    }
    match suite {
        Suite::Ed25519Sha256 => check::<Sha256>(proof, root, key, value),
        Suite::Sm2Sm3 => check::<Sm3>(proof, root, key, value),
    }
}

/// Put `writes` (`None`: delete) into the tree at `version`, on top of `version - 1`.
pub(crate) fn put_writes<R: StateReader>(
    reader: &R,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    version: u64,
) -> Result<(Hash32, TreeUpdateBatch), InvalidBlock> {
    match reader.suite() {
        Suite::Ed25519Sha256 => put_writes_with::<_, Sha256>(reader, writes, version),
        Suite::Sm2Sm3 => put_writes_with::<_, Sm3>(reader, writes, version),
    }
}

fn put_writes_with<R: StateReader, H: SimpleHasher>(
    reader: &R,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    version: u64,
) -> Result<(Hash32, TreeUpdateBatch), InvalidBlock> {
    let key_hash = |key: &[u8]| KeyHash::with::<H>(key);
    let tree = JellyfishMerkleTree::<_, H>::new(reader);
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

    fn suites() -> impl Strategy<Value = Suite> {
        prop_oneof![Just(Suite::Ed25519Sha256), Just(Suite::Sm2Sm3)]
    }

    fn store(mock: &MockTreeStore, suite: Suite) -> InSuite<'_, MockTreeStore> {
        InSuite { reader: mock, suite }
    }

    /// The old way: every key put one at a time.
    fn one_by_one(
        store: &InSuite<'_, MockTreeStore>,
        writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
        version: u64,
    ) -> (Hash32, TreeUpdateBatch) {
        fn put<H: SimpleHasher>(
            store: &InSuite<'_, MockTreeStore>,
            writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
            version: u64,
        ) -> (Hash32, TreeUpdateBatch) {
            let (root, batch) = JellyfishMerkleTree::<_, H>::new(store)
                .put_value_set(writes.iter().map(|(k, v)| (key_hash(store.suite, k), v.clone())), version)
                .expect("put");
            (Hash32(root.0), batch)
        }
        match store.suite {
            Suite::Ed25519Sha256 => put::<Sha256>(store, writes, version),
            Suite::Sm2Sm3 => put::<Sm3>(store, writes, version),
        }
    }

    proptest! {
        /// The batch update gives the same root and persists the same nodes, values and stale
        /// nodes as putting each key alone, block after block, in either suite; and every key
        /// proves against the batch-built root, and not in the other suite.
        #[test]
        fn batch_and_one_by_one_build_the_same_tree(blocks in blocks(), suite in suites()) {
            let (batch_mock, single_mock) = (MockTreeStore::default(), MockTreeStore::default());
            let (batch_store, single_store) = (store(&batch_mock, suite), store(&single_mock, suite));
            let other = match suite { Suite::Ed25519Sha256 => Suite::Sm2Sm3, Suite::Sm2Sm3 => Suite::Ed25519Sha256 };
            let mut latest: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
            for (version, writes) in blocks.iter().enumerate() {
                let version = version as u64;
                let (root, batch) = put_writes(&batch_store, writes, version).expect("batch");
                let (single_root, single) = one_by_one(&single_store, writes, version);
                prop_assert_eq!(root, single_root, "root at version {}", version);
                prop_assert_eq!(batch.node_batch.nodes(), single.node_batch.nodes());
                prop_assert_eq!(batch.node_batch.values(), single.node_batch.values());
                prop_assert_eq!(&batch.stale_node_index_batch, &single.stale_node_index_batch);
                batch_store.reader.write_tree_update_batch(batch).expect("write");
                single_store.reader.write_tree_update_batch(single).expect("write");
                prop_assert_eq!(root_hash(&batch_store, version).expect("a root"), root);
                for (k, v) in writes {
                    latest.insert(k.clone(), v.clone().expect("upserts only"));
                }
                for (k, v) in &latest {
                    let (value, proof) = get_with_proof(&batch_store, k, version).expect("a proof");
                    prop_assert_eq!(value.as_ref(), Some(v));
                    prop_assert_eq!(verify_proof(suite, &proof, &root, k, Some(v)), Ok(()));
                    prop_assert!(verify_proof(other, &proof, &root, k, Some(v)).is_err());
                }
            }
        }
    }

    /// A deletion (and an empty block) takes the one-by-one path and still updates the tree.
    #[test]
    fn deletions_and_empty_blocks_update_the_tree() {
        for suite in [Suite::Ed25519Sha256, Suite::Sm2Sm3] {
            let mock = MockTreeStore::default();
            let store = store(&mock, suite);
            let first: BTreeMap<_, _> =
                [(b"a".to_vec(), Some(b"1".to_vec())), (b"b".to_vec(), Some(b"2".to_vec()))].into();
            let (root0, batch) = put_writes(&store, &first, 0).expect("put");
            store.reader.write_tree_update_batch(batch).expect("write");
            let (root1, batch) = put_writes(&store, &BTreeMap::new(), 1).expect("empty");
            assert_eq!(root1, root0, "an empty block keeps the root");
            store.reader.write_tree_update_batch(batch).expect("write");
            let delete: BTreeMap<_, _> = [(b"a".to_vec(), None)].into();
            let (root2, batch) = put_writes(&store, &delete, 2).expect("delete");
            assert_ne!(root2, root1);
            store.reader.write_tree_update_batch(batch).expect("write");
            let (value, proof) = get_with_proof(&store, b"a", 2).expect("read");
            assert_eq!(value, None);
            assert_eq!(verify_proof(suite, &proof, &root2, b"a", None), Ok(()), "{suite}: absence proven");
        }
    }

    /// The same writes give different roots in the two suites.
    #[test]
    fn the_suites_build_different_trees() {
        let writes: BTreeMap<_, _> = [(b"k".to_vec(), Some(b"v".to_vec()))].into();
        let mock = MockTreeStore::default();
        let (sha, _) = put_writes(&store(&mock, Suite::Ed25519Sha256), &writes, 0).expect("put");
        let (sm3, _) = put_writes(&store(&mock, Suite::Sm2Sm3), &writes, 0).expect("put");
        assert_ne!(sha, sm3);
    }
}
