//! The application side of Malachite: answers every message the engine sends.
//!
//! Rules this loop keeps (see DESIGN.md, "Malachite: facts worth knowing"):
//! - every message with a reply channel gets exactly one reply;
//! - `GetValue` returns the same block when asked twice for one height and round, and the block
//!   is persisted (as an undecided proposal) before the reply, so WAL replay finds it;
//! - proposals are executed before voting, every signature checked: a block whose roots or
//!   transactions are wrong is answered with `Validity::Invalid` and consensus votes nil;
//! - a block sent through value sync executes with its signatures left to the commit
//!   certificate the engine checked first (`proposals::Signatures`), and that execution is never
//!   reused for a vote;
//! - `Decided` persists the block atomically; `Finalized` records equivocation evidence and
//!   starts the next height; a failed write stops the node (the loop returns an error);
//! - proposal parts are authenticated with the validator set of the part's own height, and only
//!   accepted from peers whose key is a validator's.
//!
//! Jobs, one module each: [`proposals`] (storing, authenticating and executing proposals),
//! [`build`] (building this validator's block), [`decide`] (persisting decisions, evidence),
//! [`sync`] (serving decided blocks to peers that catch up, taking in the ones sent here).

mod build;
mod decide;
mod proposals;
mod sync;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eyre::eyre;
use malachitebft_app_channel::app::engine::host::{HeightParams, Next};
use malachitebft_app_channel::app::streaming::StreamContent;
use malachitebft_app_channel::app::types::core::{LinearTimeouts, Round};
use malachitebft_app_channel::app::types::{LocallyProposedValue, PeerId};
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tracing::{debug, error, info, warn};

use huxin_mempool::Mempool;
use huxin_state::Executed;
use huxin_store::Store;
use huxin_types::genesis::Genesis;
use huxin_types::{Block, BlockHash};

use crate::context::{
    Address, BlockValue, Height, HuxinContext, ProposalPart, PublicKey, Signer, ValidatorSet, ValueId,
};
use crate::status::{Metrics, NodeStatus};
use crate::streaming::{stream_block, Streams};
use proposals::{round_from_i64, Signatures};

pub use sync::SYNC_VALUES_MAX;

/// How long a proposer waits for a transaction before proposing an empty block, by default: an
/// idle network writes at most one block a second.
pub const BLOCK_EMPTY_WAIT_MS_DEFAULT: u64 = 1_000;

/// How blocks are built and checked.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct HostConfig {
    /// Most transactions a block built here carries.
    pub block_txs_max: usize,
    /// Most bytes a block built here carries.
    pub block_bytes_max: usize,
    /// With transactions waiting, how long to gather more before building.
    pub block_gather_ms: u64,
    /// With none waiting, how long to wait for one before proposing an empty block: an idle
    /// network writes at most about one empty block per this long (capped at half the propose
    /// timeout, so the proposal still arrives in time).
    pub block_empty_wait_ms: u64,
    /// How far ahead of this validator's clock a proposed block's time may be.
    pub block_time_drift_ms_max: u64,
    /// Stop adding transactions to a block being built after this long, so every validator can
    /// execute it well within the propose timeout (a block sized by count alone can take longer
    /// to execute than the timeout under load, and every round then fails).
    #[serde(default = "default_block_build_ms_max")]
    pub block_build_ms_max: u64,
    /// Threads that verify a received block's signatures before it executes (default: one per
    /// core this process may use).
    #[serde(default = "default_signature_threads")]
    pub signature_threads: usize,
}

fn default_block_build_ms_max() -> u64 {
    400
}

fn default_signature_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            block_txs_max: 2_000,
            block_bytes_max: 4 * 1024 * 1024,
            block_gather_ms: 20,
            block_empty_wait_ms: BLOCK_EMPTY_WAIT_MS_DEFAULT,
            block_time_drift_ms_max: 2_000,
            block_build_ms_max: default_block_build_ms_max(),
            signature_threads: default_signature_threads(),
        }
    }
}

/// A finalised block, announced to subscribers (API, events) after it is persisted.
#[derive(Clone, Debug)]
pub struct Finalised {
    pub height: huxin_types::Height,
    pub hash: BlockHash,
    pub txs: usize,
}

pub struct Host {
    pub ctx: HuxinContext,
    pub config: HostConfig,
    /// Consensus timeouts, handed to the engine with every height.
    pub timeouts: LinearTimeouts,
    /// Shortest time from the start of a height to its decision (`None`: as soon as possible).
    pub target_time: Option<Duration>,
    pub genesis: Genesis,
    pub store: Arc<Store>,
    pub mempool: Arc<Mutex<Mempool>>,
    pub signer: Signer,
    pub address: Address,
    pub public_key: PublicKey,
    pub metrics: Metrics,
    pub status: Arc<NodeStatus>,
    pub finalised: broadcast::Sender<Finalised>,
    height: Height,
    round: Round,
    streams: Streams,
    /// Executed proposals of the current height, by block hash.
    /// Executed blocks of the current height, by block hash, with whether their signatures were
    /// checked.
    executed: HashMap<BlockHash, (Block, Executed, Signatures)>,
    /// Validator node keys as libp2p peers, for the height they were computed at.
    peers_cache: Option<(Height, BTreeSet<PeerId>)>,
    /// The highest height another validator is known to work on: a block received through
    /// value sync, or a validator's proposal stream (admitted or refused as too far ahead).
    /// While it is above the current height this node is catching up, and a proposal it is
    /// asked for is built from what the mempool holds without waiting for more: the height is
    /// decided by sync anyway. (A validator that lies about its height can only make this node
    /// propose without that short wait.)
    network_height: Height,
    /// When the last block was decided here, until the next height's proposal is ready (for
    /// `huxin_block_commit_to_next_proposal_seconds`).
    decided_at: Option<std::time::Instant>,
    /// What a misbehaving validator's host does wrong (see [`crate::byzantine`]).
    #[cfg(feature = "byzantine")]
    pub(crate) lies: crate::byzantine::HostLies,
}

impl Host {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: HostConfig,
        timeouts: LinearTimeouts,
        target_time: Option<Duration>,
        genesis: Genesis,
        store: Arc<Store>,
        mempool: Arc<Mutex<Mempool>>,
        signer: Signer,
        public_key: PublicKey,
        metrics: Metrics,
        status: Arc<NodeStatus>,
        finalised: broadcast::Sender<Finalised>,
    ) -> Self {
        Self {
            ctx: HuxinContext,
            config,
            timeouts,
            target_time,
            genesis,
            store,
            mempool,
            signer,
            address: Address::from_public_key(&public_key),
            public_key,
            metrics,
            status,
            finalised,
            height: Height(0),
            round: Round::Nil,
            streams: Streams::default(),
            executed: HashMap::new(),
            peers_cache: None,
            network_height: Height(0),
            decided_at: None,
            #[cfg(feature = "byzantine")]
            lies: Default::default(),
        }
    }

    fn latest(&self) -> eyre::Result<huxin_types::Height> {
        self.store.latest_height()?.ok_or_else(|| eyre!("store has no genesis"))
    }

    /// The validator set in force at `height` (see [`crate::validators::validator_set`]).
    pub fn validator_set(&self, height: Height) -> eyre::Result<ValidatorSet> {
        crate::validators::validator_set(&self.store, height)
    }

    /// What the engine needs to run `height`: its validator set, timeouts and target time.
    fn height_params(&self, height: Height) -> eyre::Result<HeightParams<HuxinContext>> {
        Ok(HeightParams::new(self.validator_set(height)?, self.timeouts, self.target_time))
    }

    fn validator_peers(&self, height: Height) -> eyre::Result<BTreeSet<PeerId>> {
        Ok(self
            .validator_set(height)?
            .validators
            .iter()
            .filter_map(|v| crate::validators::peer_of(&self.store, &v.public_key.0))
            .filter_map(|p| PeerId::from_bytes(&p.to_bytes()).ok())
            .collect())
    }

    /// The next height's proposal is ready to vote on: the time since the decision is observed.
    fn proposal_ready(&mut self) {
        if let Some(decided) = self.decided_at.take() {
            self.metrics.phases.commit_to_next_proposal.observe(decided.elapsed().as_secs_f64());
        }
    }

    /// Whether `peer` is the node key of a validator at the current height (cached per height).
    fn is_validator_peer(&mut self, peer: &PeerId) -> eyre::Result<bool> {
        if self.peers_cache.as_ref().map(|(h, _)| *h) != Some(self.height) {
            let peers = self.validator_peers(self.height)?;
            self.peers_cache = Some((self.height, peers));
        }
        Ok(self.peers_cache.as_ref().is_some_and(|(_, peers)| peers.contains(peer)))
    }

    /// Publish the parts of `block` as this validator's proposal for (height, round).
    async fn publish(
        &self,
        channels: &mut Channels<HuxinContext>,
        height: Height,
        round: Round,
        pol_round: Round,
        block: &Block,
    ) -> eyre::Result<()> {
        for msg in stream_block(&self.signer, self.address, height, round, pol_round, &block.encode()) {
            channels.network.send(NetworkMsg::PublishProposalPart(msg)).await?;
        }
        Ok(())
    }

    /// Answer the engine until it stops. Returns an error if the node must stop.
    pub async fn run(mut self, channels: &mut Channels<HuxinContext>) -> eyre::Result<()> {
        while let Some(msg) = channels.consensus.recv().await {
            match msg {
                AppMsg::ConsensusReady { reply } => {
                    let start = Height(self.latest()?.0 + 1);
                    self.height = start;
                    info!(height = %start, "consensus ready; starting");
                    if reply.send((start, self.height_params(start)?)).is_err() {
                        error!("ConsensusReady reply dropped");
                    }
                }

                AppMsg::StartedRound { height, round, proposer, role, reply_value } => {
                    debug!(%height, %round, %proposer, ?role, "started round");
                    self.height = height;
                    self.round = round;
                    self.status.round.store(round.as_i64(), Ordering::Relaxed);
                    self.metrics.round.set(round.as_i64());
                    // Replay what we already have for this round (after a crash, or proposals that
                    // arrived while we were at a lower height).
                    let mut values = Vec::new();
                    for (stored_round, p) in self.stored_proposals(height)? {
                        if stored_round as i64 != round.as_i64() {
                            continue;
                        }
                        let Ok(block) = Block::decode(&p.block) else { continue };
                        let hash = block.hash();
                        // About to vote on it: the time is checked against the clock now.
                        let validity = self.validity(block, true, Signatures::Checked)?;
                        values.push(self.proposed_value(
                            height,
                            round,
                            round_from_i64(p.pol_round),
                            Address(p.proposer),
                            hash,
                            validity,
                        ));
                    }
                    if reply_value.send(values).is_err() {
                        error!("StartedRound reply dropped");
                    }
                    #[cfg(feature = "byzantine")]
                    if self.lies.stream_out_of_turn && proposer != self.address {
                        self.stream_out_of_turn(channels, height, round).await?;
                    }
                }

                AppMsg::GetValue { height, round, timeout, reply } => {
                    let own = self
                        .stored_proposals(height)?
                        .into_iter()
                        .find(|(r, p)| *r as i64 == round.as_i64() && p.proposer == self.address.0)
                        .and_then(|(_, p)| Block::decode(&p.block).ok());
                    let block = match own {
                        Some(block) => {
                            info!(%height, %round, "re-using the block built earlier for this round");
                            if !self.executed.contains_key(&block.hash()) {
                                let _ = self.execute(block.clone(), false, Signatures::Checked)?;
                            }
                            block
                        }
                        None => self.build(height, round, timeout).await?,
                    };
                    let value = BlockValue(ValueId(block.hash().0));
                    if reply.send(LocallyProposedValue::new(height, round, value)).is_err() {
                        error!("GetValue reply dropped");
                    }
                    self.publish(channels, height, round, Round::Nil, &block).await?;
                }

                AppMsg::ExtendVote { reply, .. } => {
                    // Vote extensions are disabled (the default policy): nothing to attach.
                    if reply.send(None).is_err() {
                        error!("ExtendVote reply dropped");
                    }
                }

                AppMsg::VerifyVoteExtensions { extensions, reply, .. } => {
                    // With extensions disabled none should arrive; accept nothing silently either:
                    // each gets a verdict, in order, as the engine requires.
                    let verdicts = extensions.into_iter().map(|(address, _)| (address, Ok(()))).collect();
                    if reply.send(verdicts).is_err() {
                        error!("VerifyVoteExtensions reply dropped");
                    }
                }

                AppMsg::ReceivedProposalPart { from, published_by, part, reply } => {
                    // Refuse parts from peers that are not validators before buffering anything,
                    // so strangers cannot crowd real proposals out of the reassembly buffer.
                    if !self.is_validator_peer(&from)? {
                        warn!(%from, "proposal part from a peer that is not a validator dropped");
                        if reply.send(None).is_err() {
                            error!("ReceivedProposalPart reply dropped");
                        }
                        continue;
                    }
                    if let StreamContent::Data(ProposalPart::Init { height, .. }) = &part.content {
                        self.network_height = self.network_height.max(*height);
                    }
                    // Parts of one stream share their publisher whichever peer relayed each.
                    let publisher = published_by.unwrap_or(from);
                    let (store, height, round) = (self.store.clone(), self.height, self.round);
                    let admit =
                        |head: &crate::streaming::StreamHead| proposals::admit_head(&store, height, round, head);
                    let value = match self.streams.insert(publisher, part, admit) {
                        Ok(Some(stream)) => self.on_stream(publisher, stream)?,
                        Ok(None) => None,
                        Err(e) => {
                            warn!(%from, error = %e, "proposal stream dropped");
                            self.metrics.proposal_streams_refused.inc();
                            None
                        }
                    };
                    self.metrics.proposal_streams_open.set(self.streams.open_count() as i64);
                    if reply.send(value).is_err() {
                        error!("ReceivedProposalPart reply dropped");
                    }
                }

                AppMsg::Decided { certificate, reply, .. } => {
                    // A failed write stops the node: returning the error ends this loop.
                    self.decide(&certificate)?;
                    if reply.send(()).is_err() {
                        error!("Decided reply dropped");
                    }
                }

                AppMsg::Finalized { certificate, evidence, reply, .. } => {
                    self.record_evidence(certificate.height, &evidence)?;
                    let next = Height(certificate.height.0 + 1);
                    if reply.send(Next::Start(next, self.height_params(next)?)).is_err() {
                        error!("Finalized reply dropped");
                    }
                }

                AppMsg::GetDecidedValues { range, reply } => {
                    let values = self.decided_values(range)?;
                    if reply.send(values).is_err() {
                        error!("GetDecidedValues reply dropped");
                    }
                }

                AppMsg::ProcessSyncedValue { height, round, proposer, value_bytes, reply } => {
                    let outcome = self.synced_value(height, round, proposer, &value_bytes)?;
                    if reply.send(outcome).is_err() {
                        error!("ProcessSyncedValue reply dropped");
                    }
                }

                AppMsg::GetHistoryMinHeight { reply } => {
                    // Full history is kept (there is no state sync).
                    if reply.send(Height(1)).is_err() {
                        error!("GetHistoryMinHeight reply dropped");
                    }
                }

                AppMsg::RestreamProposal { height, round, valid_round, value_id, .. } => {
                    match self.stored_block(height, BlockHash(value_id.0))? {
                        Some(block) => self.publish(channels, height, round, valid_round, &block).await?,
                        None => {
                            warn!(%height, %round, value = %value_id, "asked to restream a proposal we do not have")
                        }
                    }
                }
            }
        }
        Err(eyre!("the consensus engine closed its channel: consensus has stopped"))
    }
}

#[cfg(test)]
mod tests;
