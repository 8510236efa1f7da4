//! Blocks: a header that commits to everything, and the transactions.
//!
//! The block hash is the suite's hash (of the proposer's key: SHA-256 or SM3) over
//! `huxin/v1/block ‖ canonical header bytes`. The header commits to the transactions (Merkle root
//! of transaction hashes), to the state root *after* executing this block, and to the receipts
//! (Merkle root of receipt hashes).

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError};
use crate::crypto::{PublicKey, Suite};
use crate::id::{BlockHash, ChainId, Hash32, Height, TimestampMs, TxHash};
use crate::limits::BLOCK_BYTES_MAX;
use crate::receipt::Receipt;
use crate::tx::SignedTx;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
        BlockHash(self.proposer.suite().hash_tagged(b"huxin/v1/block", &codec::encode(self)).0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// Decode a block this node stored (checked canonical when it was received): without
    /// re-encoding it to compare.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode_stored(bytes, BLOCK_BYTES_MAX)
    }
    /// The header of a block this node stored, without decoding its transactions.
    pub fn decode_stored_header(bytes: &[u8]) -> Result<BlockHeader, DecodeError> {
        codec::decode_stored_front(bytes, BLOCK_BYTES_MAX)
    }
}

/// The Merkle root of the transactions' hashes, in a chain of `suite`.
pub fn txs_root(suite: Suite, txs: &[SignedTx]) -> Hash32 {
    let hashes: Vec<TxHash> = txs.iter().map(SignedTx::hash).collect();
    txs_root_of(suite, &hashes)
}

/// [`txs_root`] of transactions whose hashes are known already, in block order.
pub fn txs_root_of(suite: Suite, hashes: &[TxHash]) -> Hash32 {
    let leaves: Vec<[u8; 32]> = hashes.iter().map(|hash| hash.0).collect();
    suite.merkle_root(&leaves)
}

/// The Merkle root of the receipts' hashes, in a chain of `suite`.
pub fn receipts_root(suite: Suite, receipts: &[Receipt]) -> Hash32 {
    let leaves: Vec<[u8; 32]> = receipts.iter().map(|r| r.hash(suite).0).collect();
    suite.merkle_root(&leaves)
}

/// A validator's address in consensus messages: the first 20 bytes of the key's suite's hash of
/// `huxin/v1/validator` ‖ consensus key.
pub fn validator_address(key: &PublicKey) -> [u8; 20] {
    let digest = key.suite().hash_tagged(b"huxin/v1/validator", key.as_bytes());
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest.0[..20]);
    out
}

/// The message a validator signs (in [`crate::crypto::Domain::Vote`]) to precommit `block` at
/// `height` and `round`. A commit certificate is a quorum of these signatures.
///
/// Layout (the borsh form of the consensus vote, bound to the chain): chain id length (1) ‖ chain
/// id ‖ vote type 1 = precommit (1) ‖ height (8, LE) ‖ round: 1 ‖ round (4, LE) ‖ value: 1 ‖ block
/// hash (32) ‖ validator address (20). `huxin-consensus` signs votes with these bytes and tests
/// that they equal its encoding.
pub fn precommit_message(
    chain_id: &ChainId,
    height: Height,
    round: u32,
    block: &BlockHash,
    address: &[u8; 20],
) -> Vec<u8> {
    let chain = chain_id.as_str().as_bytes();
    let mut bytes = Vec::with_capacity(1 + chain.len() + 1 + 8 + 5 + 33 + 20);
    bytes.push(chain.len() as u8);
    bytes.extend_from_slice(chain);
    bytes.push(1);
    bytes.extend_from_slice(&height.0.to_le_bytes());
    bytes.push(1);
    bytes.extend_from_slice(&round.to_le_bytes());
    bytes.push(1);
    bytes.extend_from_slice(&block.0);
    bytes.extend_from_slice(address);
    bytes
}
