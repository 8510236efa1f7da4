//! Blocks: a header that commits to everything, and the transactions.
//!
//! The block hash is SHA-256 over `huxin/v1/block ‖ canonical header bytes`. The header commits
//! to the transactions (Merkle root of transaction hashes), to the state root *after* executing
//! this block, and to the receipts (Merkle root of receipt hashes).

use rs_merkle::algorithms::Sha256 as MerkleSha256;
use rs_merkle::MerkleTree;
use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError};
use crate::crypto::PublicKey;
use crate::id::{BlockHash, ChainId, Hash32, Height, TimestampMs};
use crate::limits::BLOCK_BYTES_MAX;
use crate::receipt::Receipt;
use crate::tx::SignedTx;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    pub chain_id: ChainId,
    pub height: Height,
    /// Proposer's clock, Unix milliseconds; strictly later than the parent's.
    pub time: TimestampMs,
    /// Hash of the previous block's header; the genesis hash for height 1.
    pub parent_hash: BlockHash,
    /// Consensus key of the validator that built this block.
    pub proposer: PublicKey,
    pub tx_count: u32,
    pub txs_root: Hash32,
    /// State root after executing this block.
    pub state_root: Hash32,
    pub receipts_root: Hash32,
}

impl BlockHeader {
    pub fn hash(&self) -> BlockHash {
        BlockHash(codec::hash_tagged(b"huxin/v1/block", &codec::encode(self)).0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTx>,
}

impl Block {
    pub fn hash(&self) -> BlockHash {
        self.header.hash()
    }
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode_canonical(bytes, BLOCK_BYTES_MAX)
    }
}

/// Merkle root (SHA-256, rs_merkle) over a list of 32-byte leaves; all zeros when empty.
pub fn merkle_root(leaves: &[[u8; 32]]) -> Hash32 {
    if leaves.is_empty() {
        return Hash32::ZERO;
    }
    let tree = MerkleTree::<MerkleSha256>::from_leaves(leaves);
    Hash32(tree.root().unwrap_or([0u8; 32]))
}

pub fn txs_root(txs: &[SignedTx]) -> Hash32 {
    let leaves: Vec<[u8; 32]> = txs.iter().map(|tx| tx.hash().0).collect();
    merkle_root(&leaves)
}

pub fn receipts_root(receipts: &[Receipt]) -> Hash32 {
    let leaves: Vec<[u8; 32]> = receipts.iter().map(|r| r.hash().0).collect();
    merkle_root(&leaves)
}
