//! The state machine: executes blocks against the authenticated state and says what would change.
//!
//! The state is a Jellyfish Merkle Tree (`jmt`) whose version is the block height (genesis is
//! version 0). [`execute`] is the one state-transition function: given a read-only view of the
//! state after the parent block, it returns an [`Executed`] — the write set, the receipts, the
//! JMT node batch and the new root — and mutates nothing. Storage applies that output in one
//! atomic batch.
//!
//! Two kinds of failure, never mixed:
//! - a transaction that fails its contract's rules is *rejected*: it stays in the block with a
//!   failed receipt and changes nothing but its signer's nonce;
//! - a block whose header or transaction set is wrong (bad signature, wrong chain, replayed or
//!   gapped nonce, expired transaction, unknown signer, root mismatch) is *invalid*:
//!   [`InvalidBlock`], and validators vote against it.
//!
//! No I/O, no clock: the block's time and height are inputs.

mod admission;
pub mod answers;
pub mod credential;
pub mod index;
mod overlay;
pub mod proof;
pub mod queries;
pub mod rings;
pub mod stats;
mod tree;

use std::collections::BTreeMap;
use std::sync::Arc;

use jmt::storage::{TreeReader, TreeUpdateBatch};

use huxin_contracts::{StateError, TxContext};
use huxin_types::block::{receipts_root, txs_root_of};
use huxin_types::crypto::{PublicKey, Suite};
use huxin_types::genesis::Genesis;
use huxin_types::limits::{BLOCK_BYTES_MAX, BLOCK_TXS_MAX};
use huxin_types::{
    Block, BlockHash, BlockHeader, ChainId, Hash32, Height, Outcome, Receipt, Rejection, SignedTx, TimestampMs,
};

pub use admission::{check_admission, check_mempool_admission, check_stateless, Admitted, MEMPOOL_NONCE_GAP_MAX};
pub use overlay::StateView;
use tree::put_writes;
pub use tree::{key_hash, root_hash, InSuite, Pending, StateReader};

/// What executing a block (or genesis) produced. Nothing is written until storage applies it.
pub struct Executed {
    pub header: BlockHeader,
    pub receipts: Vec<Receipt>,
    /// Final value of every key the block touched (`None` = deleted), in key order.
    pub writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// JMT nodes and values to persist for this version (shared: the store holds it in memory
    /// until the tree is written, see `huxin_store`'s window).
    pub tree_batch: Arc<TreeUpdateBatch>,
}

/// Why a proposed block must be voted against.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBlock {
    #[error("block is for chain {got}, this is {expected}")]
    WrongChain { expected: ChainId, got: ChainId },
    #[error("block height is {got}; expected {expected}")]
    WrongHeight { expected: Height, got: Height },
    #[error("parent hash is {got}; the block at the previous height is {expected}")]
    WrongParent { expected: BlockHash, got: BlockHash },
    #[error("block time {got} ms is not after the parent's {parent} ms")]
    TimeNotIncreasing { parent: u64, got: u64 },
    #[error("block time {got} ms is more than {drift} ms ahead of this validator's clock {now} ms")]
    TimeInFuture { got: u64, now: u64, drift: u64 },
    #[error("block has {got} transactions; at most {max} are allowed")]
    TooManyTxs { got: usize, max: usize },
    #[error("block is {got} bytes; at most {max} are allowed")]
    TooLarge { got: usize, max: usize },
    #[error("header says {header} transactions, the block has {actual}")]
    TxCountMismatch { header: u32, actual: usize },
    #[error("{field} is {got}; executing the block gives {expected}")]
    RootMismatch { field: &'static str, expected: Hash32, got: Hash32 },
    #[error("transaction {index} ({hash}) cannot be included: {rejection}")]
    BadTx { index: usize, hash: huxin_types::TxHash, rejection: Rejection },
    #[error("the block's proposer {proposer} is not a key of this chain's suite {suite}")]
    WrongSuite { proposer: PublicKey, suite: Suite },
    #[error("the block's proposer {got} is not the validator that signed it ({expected})")]
    WrongProposer { expected: PublicKey, got: PublicKey },
    #[error(
        "the block's proposer {got} proposes no round up to {pol_round}, where the block is said to have had a polka"
    )]
    NoEarlierProposer { got: PublicKey, pol_round: u32 },
    /// Not the block's fault: this node's state could not be read. The node must not vote on
    /// (or persist) what it could not execute.
    #[error("state is unreadable: {0}")]
    State(String),
}

impl From<StateError> for InvalidBlock {
    fn from(e: StateError) -> Self {
        InvalidBlock::State(e.to_string())
    }
}

/// The parent a block builds on: its header facts that the next block must follow.
#[derive(Clone, Debug)]
pub struct Parent {
    pub chain_id: ChainId,
    /// The chain's suite (from genesis): every signer's key is of it.
    pub suite: Suite,
    pub height: Height,
    pub hash: BlockHash,
    pub time: TimestampMs,
}

impl Parent {
    pub fn genesis(genesis: &Genesis) -> Self {
        Parent {
            chain_id: genesis.chain_id.clone(),
            suite: genesis.suite,
            height: Height(0),
            hash: genesis.hash(),
            time: genesis.genesis_time,
        }
    }
    /// The parent that `header`'s block is, on a chain of `suite`.
    pub fn of(header: &BlockHeader, suite: Suite) -> Self {
        Parent {
            chain_id: header.chain_id.clone(),
            suite,
            height: header.height,
            hash: header.hash(),
            time: header.time,
        }
    }
}

/// Execute the genesis writes as version 0 of an empty tree.
pub fn execute_genesis<R: TreeReader + Sync>(
    reader: &R,
    genesis: &Genesis,
) -> Result<(Hash32, Executed), InvalidBlock> {
    let writes: BTreeMap<Vec<u8>, Option<Vec<u8>>> =
        huxin_contracts::registry::genesis_writes(genesis).into_iter().map(|(k, v)| (k, Some(v))).collect();
    let (root, tree_batch) = put_writes(&InSuite { reader, suite: genesis.suite }, &writes, 0)?;
    let header = BlockHeader {
        chain_id: genesis.chain_id.clone(),
        height: Height(0),
        time: genesis.genesis_time,
        parent_hash: BlockHash::ZERO,
        proposer: PublicKey::Ed25519(huxin_types::crypto::Ed25519PublicKey::ZERO),
        tx_count: 0,
        txs_root: Hash32::ZERO,
        state_root: root,
        receipts_root: Hash32::ZERO,
    };
    Ok((root, Executed { header, receipts: vec![], writes, tree_batch: Arc::new(tree_batch) }))
}

/// Apply one admitted transaction (whose hash is `tx_hash`) to `view`: consume its nonce, run its
/// contract, and keep the contract's writes only if it succeeds.
fn apply_tx<R: StateReader>(
    view: &mut StateView<'_, R>,
    admitted: Admitted,
    tx: &SignedTx,
    tx_hash: huxin_types::TxHash,
    height: Height,
    time: TimestampMs,
) -> Result<Receipt, StateError> {
    view.begin_tx();
    huxin_contracts::registry::consume_nonce(view, &tx.body.signer, tx.body.nonce);
    view.commit_tx();
    let ctx = TxContext {
        chain_id: tx.body.chain_id.clone(),
        height,
        time,
        tx_hash,
        signer: tx.body.signer,
        member: admitted.member,
    };
    view.begin_tx();
    let outcome = match huxin_contracts::apply(&ctx, view, &tx.body.action) {
        Ok(()) => {
            view.commit_tx();
            Outcome::Applied
        }
        Err(huxin_contracts::Error::Rejected(rejection)) => {
            view.discard_tx();
            Outcome::Rejected(rejection)
        }
        Err(huxin_contracts::Error::State(e)) => return Err(e),
    };
    Ok(Receipt { tx_hash, outcome })
}

/// How much a block being built may hold; each is capped again by the chain's own limits
/// ([`BLOCK_TXS_MAX`], and [`BLOCK_BYTES_MAX`] less room for the header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockLimits {
    pub txs: usize,
    pub bytes: usize,
}

impl BlockLimits {
    /// As much as the chain allows.
    pub const CHAIN: BlockLimits = BlockLimits { txs: BLOCK_TXS_MAX, bytes: BLOCK_BYTES_MAX };
}

/// What [`build_block`] made: the block, what executing it produced, and the candidates left out
/// with why (so the mempool can drop them).
pub struct Built {
    pub block: Block,
    pub executed: Executed,
    pub skipped: Vec<(huxin_types::TxHash, Rejection)>,
}

/// Build a block on `parent` from candidate transactions, in the order given, until `limits`
/// would be passed; signatures are checked unless `verified` says the transaction was verified
/// on admission. A candidate that cannot be included (bad nonce, expired, unknown signer, …) is
/// skipped and returned with its reason so the mempool can drop it; a candidate that fails its
/// contract is included with a failed receipt.
pub fn build_block<R: TreeReader + Sync>(
    reader: &R,
    parent: &Parent,
    proposer: PublicKey,
    time: TimestampMs,
    candidates: impl IntoIterator<Item = SignedTx>,
    limits: BlockLimits,
    verified: &dyn Fn(&SignedTx) -> bool,
) -> Result<Built, InvalidBlock> {
    let height = Height(parent.height.0 + 1);
    let reader = &InSuite { reader, suite: parent.suite };
    let mut view = StateView::new(reader, parent.height.0);
    let mut txs = Vec::new();
    let mut hashes = Vec::new();
    let mut receipts = Vec::new();
    let mut skipped = Vec::new();
    let mut bytes = 0usize;
    let max_txs = limits.txs.min(BLOCK_TXS_MAX);
    let max_bytes = limits.bytes.min(BLOCK_BYTES_MAX - 4096);
    for tx in candidates {
        if txs.len() >= max_txs {
            break;
        }
        let size = tx.encoded_len();
        if bytes + size > max_bytes {
            break;
        }
        let hash = tx.hash();
        match check_admission(&view, &parent.chain_id, parent.suite, &tx, height, time, !verified(&tx)) {
            Ok(admitted) => {
                receipts.push(apply_tx(&mut view, admitted, &tx, hash, height, time)?);
                bytes += size;
                txs.push(tx);
                hashes.push(hash);
            }
            Err(huxin_contracts::Error::Rejected(rejection)) => skipped.push((hash, rejection)),
            Err(huxin_contracts::Error::State(e)) => return Err(e.into()),
        }
    }
    let writes = view.into_writes()?;
    let (state_root, tree_batch) = put_writes(reader, &writes, height.0)?;
    let header = BlockHeader {
        chain_id: parent.chain_id.clone(),
        height,
        time,
        parent_hash: parent.hash,
        proposer,
        tx_count: txs.len() as u32,
        txs_root: txs_root_of(parent.suite, &hashes),
        state_root,
        receipts_root: receipts_root(parent.suite, &receipts),
    };
    let executed = Executed { header: header.clone(), receipts, writes, tree_batch: Arc::new(tree_batch) };
    Ok(Built { block: Block { header, txs }, executed, skipped })
}

/// Options for validating a block received from another validator.
#[derive(Clone, Copy, Debug)]
pub struct ValidateOptions {
    /// This validator's clock, Unix ms; `None` skips the future-time check (replaying history).
    pub now: Option<TimestampMs>,
    /// How far ahead of `now` a block's time may be.
    pub time_drift_ms_max: u64,
    /// Skip signature checks for transactions already verified (by hash and signature).
    pub signatures_verified: bool,
    /// Threads that verify the block's signatures before it executes (1: on this thread).
    pub signature_threads: usize,
}

/// Validate a proposed block on `parent` and execute it; the roots in its header must match.
pub fn validate_block<R: TreeReader + Sync>(
    reader: &R,
    parent: &Parent,
    block: &Block,
    options: ValidateOptions,
    verified: &dyn Fn(&SignedTx) -> bool,
) -> Result<Executed, InvalidBlock> {
    let h = &block.header;
    if h.chain_id != parent.chain_id {
        return Err(InvalidBlock::WrongChain { expected: parent.chain_id.clone(), got: h.chain_id.clone() });
    }
    let height = Height(parent.height.0 + 1);
    if h.height != height {
        return Err(InvalidBlock::WrongHeight { expected: height, got: h.height });
    }
    if h.parent_hash != parent.hash {
        return Err(InvalidBlock::WrongParent { expected: parent.hash, got: h.parent_hash });
    }
    if h.time <= parent.time {
        return Err(InvalidBlock::TimeNotIncreasing { parent: parent.time.0, got: h.time.0 });
    }
    if let Some(now) = options.now {
        if h.time.0 > now.0.saturating_add(options.time_drift_ms_max) {
            return Err(InvalidBlock::TimeInFuture { got: h.time.0, now: now.0, drift: options.time_drift_ms_max });
        }
    }
    if block.txs.len() > BLOCK_TXS_MAX {
        return Err(InvalidBlock::TooManyTxs { got: block.txs.len(), max: BLOCK_TXS_MAX });
    }
    let bytes: usize = block.txs.iter().map(SignedTx::encoded_len).sum();
    if bytes > BLOCK_BYTES_MAX {
        return Err(InvalidBlock::TooLarge { got: bytes, max: BLOCK_BYTES_MAX });
    }
    if h.proposer.suite() != parent.suite {
        return Err(InvalidBlock::WrongSuite { proposer: h.proposer, suite: parent.suite });
    }
    if h.tx_count as usize != block.txs.len() {
        return Err(InvalidBlock::TxCountMismatch { header: h.tx_count, actual: block.txs.len() });
    }
    // Each transaction's hash, once: the root, the receipts and any refusal name it.
    let hashes: Vec<huxin_types::TxHash> = block.txs.iter().map(SignedTx::hash).collect();
    let txs_root_actual = txs_root_of(parent.suite, &hashes);
    if txs_root_actual != h.txs_root {
        return Err(InvalidBlock::RootMismatch { field: "txs_root", expected: txs_root_actual, got: h.txs_root });
    }
    // Signatures first, on several threads; a transaction whose signature fails is checked
    // again in order below, so the block is refused with the same error either way.
    // A signer of another suite is not verified here at all: admission refuses it below, before
    // any signature check (an SM2 verification costs about thirteen ed25519 ones).
    let mut skip_signature: Vec<bool> = block
        .txs
        .iter()
        .map(|tx| options.signatures_verified || verified(tx) || tx.body.signer.suite() != parent.suite)
        .collect();
    let unverified: Vec<&SignedTx> =
        block.txs.iter().zip(&skip_signature).filter(|(_, skip)| !**skip).map(|(tx, _)| tx).collect();
    let mut results = huxin_types::tx::verify_signatures(&unverified, options.signature_threads).into_iter();
    for skip in skip_signature.iter_mut().filter(|skip| !**skip) {
        *skip = results.next().unwrap_or(false);
    }
    let reader = &InSuite { reader, suite: parent.suite };
    let mut view = StateView::new(reader, parent.height.0);
    let mut receipts = Vec::with_capacity(block.txs.len());
    for (index, tx) in block.txs.iter().enumerate() {
        let skip_signature = skip_signature[index];
        let admitted = match check_admission(&view, &parent.chain_id, parent.suite, tx, height, h.time, !skip_signature)
        {
            Ok(admitted) => admitted,
            Err(huxin_contracts::Error::Rejected(rejection)) => {
                return Err(InvalidBlock::BadTx { index, hash: hashes[index], rejection })
            }
            Err(huxin_contracts::Error::State(e)) => return Err(e.into()),
        };
        receipts.push(apply_tx(&mut view, admitted, tx, hashes[index], height, h.time)?);
    }
    let receipts_root_actual = receipts_root(parent.suite, &receipts);
    if receipts_root_actual != h.receipts_root {
        return Err(InvalidBlock::RootMismatch {
            field: "receipts_root",
            expected: receipts_root_actual,
            got: h.receipts_root,
        });
    }
    let writes = view.into_writes()?;
    let (state_root, tree_batch) = put_writes(reader, &writes, height.0)?;
    if state_root != h.state_root {
        return Err(InvalidBlock::RootMismatch { field: "state_root", expected: state_root, got: h.state_root });
    }
    Ok(Executed { header: h.clone(), receipts, writes, tree_batch: Arc::new(tree_batch) })
}

#[cfg(test)]
mod tests;
