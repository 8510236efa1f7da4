//! The chain's hash: SHA-256 on an `ed25519-sha256` chain, SM3 (GM/T 0004-2012) on an `sm2-sm3`
//! one. Every hash the ledger decides by follows the suite: transaction, block, receipt and
//! genesis hashes, the Merkle roots of a block, the Merkle state tree (key hashes and nodes),
//! member ids and validator addresses, subject statement and credit record ids, audit chains and
//! the expert draw. An object signed by a key hashes in that key's suite (a transaction in its
//! signer's, a header in its proposer's), so it needs no suite beside it; admission and
//! validation already refuse a key of the other suite.
//!
//! Two kinds of hash stay SHA-256 on every chain: hashes a client supplies of its own documents
//! (`document_hash`, evidence hashes: computed outside the ledger, the ledger only keeps them), and
//! the network's own identifiers (gossip message ids, the proposal stream digest), which decide
//! nothing the ledger says.

use rs_merkle::MerkleTree;
use sha2::{Digest as _, Sha256};
use sm3::Sm3;

use super::Suite;
use crate::id::Hash32;

impl Suite {
    /// The suite's hash of `bytes`.
    pub fn hash(self, bytes: &[u8]) -> Hash32 {
        match self {
            Suite::Ed25519Sha256 => Hash32(Sha256::digest(bytes).into()),
            Suite::Sm2Sm3 => Hash32(Sm3::digest(bytes).into()),
        }
    }

    /// The suite's hash of a domain tag followed by `bytes`.
    pub fn hash_tagged(self, tag: &[u8], bytes: &[u8]) -> Hash32 {
        match self {
            Suite::Ed25519Sha256 => Hash32(Sha256::new().chain_update(tag).chain_update(bytes).finalize().into()),
            Suite::Sm2Sm3 => Hash32(Sm3::new().chain_update(tag).chain_update(bytes).finalize().into()),
        }
    }

    /// The Merkle root (rs_merkle's tree, in the suite's hash) over 32-byte leaves; all zeros
    /// when there are none.
    pub fn merkle_root(self, leaves: &[[u8; 32]]) -> Hash32 {
        if leaves.is_empty() {
            return Hash32::ZERO;
        }
        let root = match self {
            Suite::Ed25519Sha256 => MerkleTree::<rs_merkle::algorithms::Sha256>::from_leaves(leaves).root(),
            Suite::Sm2Sm3 => MerkleTree::<MerkleSm3>::from_leaves(leaves).root(),
        };
        Hash32(root.unwrap_or([0u8; 32]))
    }
}

/// SM3 for rs_merkle's trees.
#[derive(Clone)]
pub struct MerkleSm3;

impl rs_merkle::Hasher for MerkleSm3 {
    type Hash = [u8; 32];
    fn hash(data: &[u8]) -> [u8; 32] {
        Sm3::digest(data).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GM/T 0004-2012, appendix A.1: SM3("abc").
    const SM3_ABC: &str = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";

    #[test]
    fn each_suite_hashes_with_its_own_function() {
        assert_eq!(Suite::Sm2Sm3.hash(b"abc").to_hex(), SM3_ABC);
        assert_eq!(
            Suite::Ed25519Sha256.hash(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Suite::Sm2Sm3.hash_tagged(b"a", b"bc"), Suite::Sm2Sm3.hash(b"abc"));
        assert_eq!(Suite::Ed25519Sha256.hash_tagged(b"ab", b"c"), Suite::Ed25519Sha256.hash(b"abc"));
    }

    #[test]
    fn merkle_roots_differ_by_suite_and_pair_leaves_with_the_suite_hash() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        for suite in [Suite::Ed25519Sha256, Suite::Sm2Sm3] {
            let pair = [a, b].concat();
            assert_eq!(suite.merkle_root(&[a, b]), suite.hash(&pair), "{suite}");
            assert_eq!(suite.merkle_root(&[a]), Hash32(a), "{suite}: one leaf is the root");
            assert_eq!(suite.merkle_root(&[]), Hash32::ZERO);
        }
        assert_ne!(Suite::Ed25519Sha256.merkle_root(&[a, b]), Suite::Sm2Sm3.merkle_root(&[a, b]));
    }
}
