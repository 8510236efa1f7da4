//! The Merkle state: readers that know their chain's suite, the state a block leaves before it
//! is written, roots and proofs; the update of one block is in [`update`].
//!
//! The tree hashes in the chain's suite: SHA-256 on an ed25519 chain, SM3 on an SM2 chain, both
//! the state keys (where a value sits) and the nodes (the root). A [`StateReader`] is a tree
//! that knows its suite.

use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, SimpleHasher, Version};
use sha2::Sha256;
use sm3::Sm3;

use huxin_types::crypto::Suite;
use huxin_types::Hash32;

mod update;

pub(crate) use update::put_writes;

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

#[cfg(test)]
mod tests;
