//! Proposals: persisting undecided ones for WAL replay, authenticating received streams, and
//! executing a block before this validator votes on it (with a per-height cache).
//!
//! What a validator that lies can do here, and what stops it:
//! - stream for a height or round it does not propose: the stream's `Init` is checked against
//!   that round's proposer (from that height's validator set) and a bounded horizon
//!   ([`PROPOSAL_HEIGHTS_AHEAD_MAX`], [`PROPOSAL_ROUNDS_AHEAD_MAX`]) before anything more of it
//!   is buffered;
//! - equivocate: at most [`PROPOSALS_PER_ROUND_MAX`] distinct blocks are stored per height and
//!   round;
//! - put another validator in the header: a fresh block whose `proposer` is not the stream's
//!   signer is voted against (`WrongProposer`); a block proposed again after a polka names the
//!   proposer of an earlier round, one that proposed a round up to the polka's
//!   (`NoEarlierProposer`);
//! - time a block ahead: the time is checked against this validator's clock every time it is
//!   about to vote on the block (also on replay and on an execution-cache hit).

use std::collections::HashSet;

use eyre::eyre;
use malachitebft_app_channel::app::types::core::{Round, Validity};
use malachitebft_app_channel::app::types::{PeerId, ProposedValue};
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use huxin_state::{validate_block, InvalidBlock, Parent, ValidateOptions};
use huxin_store::Store;
use huxin_types::{codec, Block, BlockHash, SignedTx};

use super::Host;
use crate::clock::now_ms;
use crate::context::{Address, BlockValue, Height, HuxinContext, ValueId};
use crate::streaming::{ReceivedStream, StreamHead};

/// How many heights past the current one a proposal stream may be for (buffered until then).
pub const PROPOSAL_HEIGHTS_AHEAD_MAX: u64 = 2;
/// How many rounds past the current one (or past round 0, for a later height) a stream may be for.
pub const PROPOSAL_ROUNDS_AHEAD_MAX: u32 = 16;
/// Most distinct blocks stored for one height and round: an equivocating proposer's second block
/// is kept, any further one dropped.
pub const PROPOSALS_PER_ROUND_MAX: usize = 2;

/// Whether a stream announcing `head` may be buffered while this node is at (`height`, `round`):
/// within the horizon, and from the proposer of that height and round.
pub(super) fn admit_head(store: &Store, height: Height, round: Round, head: &StreamHead) -> Result<(), String> {
    use malachitebft_app_channel::app::types::core::Context as _;
    let Some(head_round) = head.round.as_u32() else { return Err("a stream for round nil".into()) };
    if head.height < height {
        return Err(format!("height {} is behind this node's {height}", head.height));
    }
    if head.height.0 > height.0.saturating_add(PROPOSAL_HEIGHTS_AHEAD_MAX) {
        return Err(format!("height {} is more than {PROPOSAL_HEIGHTS_AHEAD_MAX} past {height}", head.height));
    }
    let base = if head.height == height { round.as_u32().unwrap_or(0) } else { 0 };
    if head_round > base.saturating_add(PROPOSAL_ROUNDS_AHEAD_MAX) {
        return Err(format!("round {head_round} is more than {PROPOSAL_ROUNDS_AHEAD_MAX} past round {base}"));
    }
    let validators = crate::validators::validator_set(store, head.height).map_err(|e| e.to_string())?;
    if validators.validators.is_empty() {
        return Err("no validator set".into());
    }
    let proposer = HuxinContext.select_proposer(&validators, head.height, head.round);
    if proposer.address != head.proposer {
        return Err(format!(
            "{} is not the proposer of height {} round {head_round} ({} is)",
            head.proposer, head.height, proposer.address
        ));
    }
    Ok(())
}

/// Why `block`, streamed by `streamer` with `pol_round`, cannot have been built by the validator
/// its header names (`None`: it can).
///
/// A fresh proposal (`pol_round` nil) is built by the validator that streams it. A value that had
/// a polka in `pol_round` is proposed again, unchanged, by each later round's proposer (a locked
/// validator must be able to vote for it again, or one proposer that crashes mid-round halts
/// the chain): its header names the proposer of the round it was first proposed in, at or before
/// `pol_round`. Proposers rotate through the set, so those are at most one per validator.
pub(super) fn builder_contradiction(
    validators: &crate::context::ValidatorSet,
    height: Height,
    pol_round: Round,
    streamer: &crate::context::Validator,
    block: &Block,
) -> Option<InvalidBlock> {
    use malachitebft_app_channel::app::types::core::Context as _;
    let got = block.header.proposer;
    match pol_round.as_u32() {
        None => (got != streamer.public_key.to_huxin())
            .then(|| InvalidBlock::WrongProposer { expected: streamer.public_key.to_huxin(), got }),
        Some(pol) => {
            let rounds = (pol as usize).min(validators.validators.len().saturating_sub(1)) as u32;
            let proposed_then = (0..=rounds)
                .any(|r| HuxinContext.select_proposer(validators, height, Round::new(r)).public_key.to_huxin() == got);
            (!proposed_then).then_some(InvalidBlock::NoEarlierProposer { got, pol_round: pol })
        }
    }
}

/// Whether a block's transaction signatures are checked when it executes here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Signatures {
    /// Checked: a block this validator may vote on.
    Checked,
    /// Left to the block's commit certificate. Validators of more than two thirds of the voting
    /// power signed it, so at least one that is not faulty (fewer than a third are, or consensus
    /// guarantees nothing anyway) executed the block with every signature checked. Only for a
    /// block that a certificate decides: one sent through value sync (the engine checks the
    /// certificate before the host sees the bytes, and refuses bytes whose hash is not the
    /// certified value) or a decided block executed again after a restart. An execution with
    /// signatures left unchecked is never reused for a vote.
    Certified,
}

/// An undecided proposal as persisted for WAL replay.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredProposal {
    pub pol_round: i64,
    pub proposer: [u8; 20],
    pub block: Vec<u8>,
}

pub(super) fn round_from_i64(r: i64) -> Round {
    if r < 0 {
        Round::Nil
    } else {
        Round::new(r as u32)
    }
}

impl Host {
    pub(super) fn parent(&self, height: huxin_types::Height) -> eyre::Result<Parent> {
        if height.0 == 0 {
            return Ok(Parent::genesis(&self.genesis));
        }
        let header = self.store.header(height)?.ok_or_else(|| eyre!("block {height} is not persisted"))?;
        Ok(Parent::of(&header, self.genesis.suite))
    }

    /// Validate and execute `block` as the next block, its signatures checked or not; cache the
    /// result.
    pub(super) fn execute(
        &mut self,
        block: Block,
        check_time: bool,
        signatures: Signatures,
    ) -> eyre::Result<Result<BlockHash, InvalidBlock>> {
        let hash = block.hash();
        // The clock check comes before the cache: a block executed once without it (replayed,
        // or kept from a future height) is still checked when this validator is about to vote.
        if check_time {
            let now = now_ms();
            if block.header.time.0 > now.0.saturating_add(self.config.block_time_drift_ms_max) {
                return Ok(Err(InvalidBlock::TimeInFuture {
                    got: block.header.time.0,
                    now: now.0,
                    drift: self.config.block_time_drift_ms_max,
                }));
            }
        }
        match self.executed.get(&hash) {
            // Executed without its signatures checked: not good enough for a vote.
            Some((_, _, Signatures::Certified)) if signatures == Signatures::Checked => {
                self.executed.remove(&hash);
            }
            Some(_) => return Ok(Ok(hash)),
            None => {}
        }
        let latest = self.latest()?;
        if block.header.height.0 != latest.0 + 1 {
            return Ok(Err(InvalidBlock::WrongHeight {
                expected: huxin_types::Height(latest.0 + 1),
                got: block.header.height,
            }));
        }
        let validators = self.validator_set(Height(block.header.height.0))?;
        if !validators.validators.iter().any(|v| v.public_key.to_huxin() == block.header.proposer) {
            return Ok(Err(InvalidBlock::State(format!(
                "block proposer {} is not a validator",
                block.header.proposer
            ))));
        }
        let parent = self.parent(latest)?;
        let options = ValidateOptions {
            // Checked above, before the cache.
            now: None,
            time_drift_ms_max: self.config.block_time_drift_ms_max,
            signatures_verified: signatures == Signatures::Certified,
            signature_threads: self.config.signature_threads,
        };
        // Transactions this node admitted had their signatures verified then; look them up
        // under the lock, then execute without holding it (submissions keep flowing). With an
        // empty pool (a node catching up) there is nothing to look up, nor a hash to compute.
        let verified_hashes: HashSet<huxin_types::TxHash> = {
            let mempool = self.mempool.lock().map_err(|_| eyre!("mempool lock poisoned"))?;
            if mempool.is_empty() {
                HashSet::new()
            } else {
                block.txs.iter().filter(|tx| mempool.is_verified(tx)).map(|tx| tx.hash()).collect()
            }
        };
        let verified = |tx: &SignedTx| !verified_hashes.is_empty() && verified_hashes.contains(&tx.hash());
        let started = std::time::Instant::now();
        let result = validate_block(self.store.as_ref(), &parent, &block, options, &verified);
        self.metrics.phases.execute.observe(started.elapsed().as_secs_f64());
        match result {
            Ok(executed) => {
                self.executed.insert(hash, (block, executed, signatures));
                Ok(Ok(hash))
            }
            Err(InvalidBlock::State(e)) => Err(eyre!("state unreadable while executing block: {e}")),
            Err(invalid) => Ok(Err(invalid)),
        }
    }

    pub(super) fn store_proposal(
        &self,
        height: Height,
        round: Round,
        pol_round: Round,
        proposer: Address,
        block: &Block,
    ) -> eyre::Result<()> {
        self.store_proposal_bytes(height, round, pol_round, proposer, block.hash(), block.encode())
    }

    /// [`Self::store_proposal`] for a block already encoded: `block_bytes` must be the canonical
    /// encoding of the block whose hash is `hash` (bytes received and decoded canonically).
    pub(super) fn store_proposal_bytes(
        &self,
        height: Height,
        round: Round,
        pol_round: Round,
        proposer: Address,
        hash: BlockHash,
        block_bytes: Vec<u8>,
    ) -> eyre::Result<()> {
        let record = StoredProposal { pol_round: pol_round.as_i64(), proposer: proposer.0, block: block_bytes };
        let round = round.as_i64().max(0) as u32;
        self.store.put_proposal(huxin_types::Height(height.0), round, &hash, &codec::encode(&record))?;
        Ok(())
    }

    pub(super) fn stored_proposals(&self, height: Height) -> eyre::Result<Vec<(u32, StoredProposal)>> {
        let mut out = Vec::new();
        for (round, _, bytes) in self.store.proposals(huxin_types::Height(height.0))? {
            match codec::decode_canonical::<StoredProposal>(&bytes, usize::MAX) {
                Ok(p) => out.push((round, p)),
                Err(e) => warn!(%height, round, error = %e, "stored proposal does not decode; skipped"),
            }
        }
        Ok(out)
    }

    /// The stored block with hash `wanted` at `height`, if any. Stored proposals are keyed by
    /// their hash, so only the wanted one is decoded.
    pub(super) fn stored_block(&self, height: Height, wanted: BlockHash) -> eyre::Result<Option<Block>> {
        let Some((_, _, bytes)) =
            self.store.proposals(huxin_types::Height(height.0))?.into_iter().find(|(_, hash, _)| *hash == wanted)
        else {
            return Ok(None);
        };
        let decoded = codec::decode_canonical::<StoredProposal>(&bytes, usize::MAX)
            .map_err(|e| e.to_string())
            .and_then(|p| Block::decode(&p.block).map_err(|e| e.to_string()));
        match decoded {
            Ok(block) => Ok(Some(block)),
            Err(e) => {
                warn!(%height, block = %wanted, error = %e, "stored proposal does not decode; skipped");
                Ok(None)
            }
        }
    }

    pub(super) fn proposed_value(
        &self,
        height: Height,
        round: Round,
        pol_round: Round,
        proposer: Address,
        hash: BlockHash,
        validity: Validity,
    ) -> ProposedValue<HuxinContext> {
        ProposedValue { height, round, valid_round: pol_round, proposer, value: BlockValue(ValueId(hash.0)), validity }
    }

    /// Authenticate and (if it is for the current height) execute a received stream.
    pub(super) fn on_stream(
        &mut self,
        from: PeerId,
        stream: ReceivedStream,
    ) -> eyre::Result<Option<ProposedValue<HuxinContext>>> {
        let height = stream.height;
        self.metrics.phases.receive.observe(stream.receive_time.as_secs_f64());
        if height < self.height {
            debug!(%height, current = %self.height, "stale proposal ignored");
            return Ok(None);
        }
        let validators = self.validator_set(height)?;
        let Some(proposer) = validators.validators.iter().find(|v| v.address == stream.proposer) else {
            warn!(%height, proposer = %stream.proposer, "proposal from a non-validator ignored");
            return Ok(None);
        };
        if !self.validator_peers(height)?.contains(&from) {
            warn!(%from, "proposal part relayed by a peer that is not a validator ignored");
            return Ok(None);
        }
        if !self.signer.verify_stream(&stream.digest, &stream.signature, &proposer.public_key) {
            warn!(%height, proposer = %stream.proposer, "proposal signature does not verify; ignored");
            return Ok(None);
        }
        let block = match Block::decode(&stream.block_bytes) {
            Ok(block) => block,
            Err(e) => {
                warn!(%height, error = %e, "proposed block does not decode; voting against it");
                self.metrics.proposals_invalid.inc();
                return Ok(None);
            }
        };
        let hash = block.hash();
        let contradiction = if block.header.height.0 != height.0 {
            Some(InvalidBlock::WrongHeight { expected: huxin_types::Height(height.0), got: block.header.height })
        } else {
            builder_contradiction(&validators, height, stream.pol_round, proposer, &block)
        };
        if let Some(invalid) = contradiction {
            warn!(%height, reason = %invalid, "proposed block contradicts its stream; voting against it");
            self.metrics.proposals_invalid.inc();
            return Ok((height == self.height).then(|| {
                self.proposed_value(height, stream.round, stream.pol_round, stream.proposer, hash, Validity::Invalid)
            }));
        }
        let round = stream.round.as_i64().max(0) as u32;
        let others = self
            .store
            .proposals(huxin_types::Height(height.0))?
            .iter()
            .filter(|(r, h, _)| *r == round && *h != hash)
            .count();
        if others >= PROPOSALS_PER_ROUND_MAX {
            warn!(%height, round, proposer = %stream.proposer, "proposer streamed more blocks for one round than are kept; dropped");
            return Ok(None);
        }
        self.store_proposal(height, stream.round, stream.pol_round, stream.proposer, &block)?;
        if height > self.height {
            debug!(%height, "proposal for a future height kept for later");
            return Ok(None);
        }
        let validity = self.validity(block, true, Signatures::Checked)?;
        self.proposal_ready();
        Ok(Some(self.proposed_value(height, stream.round, stream.pol_round, stream.proposer, hash, validity)))
    }

    pub(super) fn validity(
        &mut self,
        block: Block,
        check_time: bool,
        signatures: Signatures,
    ) -> eyre::Result<Validity> {
        let height = block.header.height;
        Ok(match self.execute(block, check_time, signatures)? {
            Ok(_) => Validity::Valid,
            Err(invalid) => {
                warn!(%height, reason = %invalid, "invalid proposal; voting nil");
                self.metrics.proposals_invalid.inc();
                Validity::Invalid
            }
        })
    }
}
