//! The application side of Malachite: answers every message the engine sends.
//!
//! Rules this loop keeps (see DESIGN.md, "Malachite 0.5.0"):
//! - every message with a reply channel gets exactly one reply;
//! - `GetValue` returns the same block when asked twice for one height and round, and the block
//!   is persisted (as an undecided proposal) before the reply, so WAL replay finds it;
//! - proposals are executed before voting: a block whose roots or transactions are wrong is
//!   answered with `Validity::Invalid` and consensus votes nil;
//! - `Decided` persists the block atomically, then starts the next height; a failed write stops
//!   the node (the loop returns an error);
//! - proposal parts are authenticated with the validator set of the part's own height, and only
//!   accepted from peers whose key is a validator's.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use eyre::{eyre, WrapErr};
use malachitebft_app_channel::app::engine::host::Next;
use malachitebft_app_channel::app::types::core::{CommitCertificate, Round, Validity};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{LocallyProposedValue, PeerId, ProposedValue};
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tracing::{debug, error, info, warn};

use huxin_mempool::Mempool;
use huxin_state::{build_block, validate_block, Executed, InvalidBlock, Parent, ValidateOptions};
use huxin_store::Store;
use huxin_types::genesis::Genesis;
use huxin_types::{codec, Block, BlockHash, Outcome, SignedTx, TimestampMs};

use crate::context::{Address, BlockValue, Height, HuxinContext, PublicKey, Signer, Validator, ValidatorSet, ValueId};
use crate::ingress::now_ms;
use crate::status::{Metrics, NodeStatus};
use crate::streaming::{stream_block, ReceivedStream, Streams};

/// How blocks are built and checked.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct HostConfig {
    /// Most transactions a block built here carries.
    pub block_txs_max: usize,
    /// Most bytes a block built here carries.
    pub block_bytes_max: usize,
    /// With transactions waiting, how long to gather more before building.
    pub block_gather_ms: u64,
    /// With none waiting, how long to wait for one before proposing an empty block.
    pub block_empty_wait_ms: u64,
    /// How far ahead of this validator's clock a proposed block's time may be.
    pub block_time_drift_ms_max: u64,
    /// Stop adding transactions to a block being built after this long, so every validator can
    /// execute it well within the propose timeout (a block sized by count alone can take longer
    /// to execute than the timeout under load, and every round then fails).
    #[serde(default = "default_block_build_ms_max")]
    pub block_build_ms_max: u64,
}

fn default_block_build_ms_max() -> u64 {
    400
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            block_txs_max: 2_000,
            block_bytes_max: 4 * 1024 * 1024,
            block_gather_ms: 20,
            block_empty_wait_ms: 500,
            block_time_drift_ms_max: 2_000,
            block_build_ms_max: default_block_build_ms_max(),
        }
    }
}

/// An undecided proposal as persisted for WAL replay.
#[derive(Serialize, Deserialize)]
struct StoredProposal {
    pol_round: i64,
    proposer: [u8; 20],
    block: Vec<u8>,
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
    executed: HashMap<BlockHash, (Block, Executed)>,
    /// Validator node keys as libp2p peers, for the height they were computed at.
    peers_cache: Option<(Height, BTreeSet<PeerId>)>,
}

/// A key's last used nonce at the latest persisted height (0 if none or unreadable: the
/// mempool then offers transactions that block building re-checks).
fn last_nonce(store: &Store, key: &huxin_types::PublicKey) -> u64 {
    store
        .state_value(&huxin_contracts::keys::nonce(key))
        .ok()
        .flatten()
        .and_then(|b| codec::decode_canonical::<u64>(&b, 16).ok())
        .unwrap_or(0)
}

fn round_from_i64(r: i64) -> Round {
    if r < 0 {
        Round::Nil
    } else {
        Round::new(r as u32)
    }
}

impl Host {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: HostConfig,
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
        }
    }

    fn latest(&self) -> eyre::Result<huxin_types::Height> {
        self.store.latest_height()?.ok_or_else(|| eyre!("store has no genesis"))
    }

    /// The validator set in force at `height`, read from the state after block `height - 1`, or
    /// after the latest block if that one is not persisted yet. Governance schedules a change two
    /// heights after the block that makes it, so the latest state already knows the set of the
    /// height after next.
    pub fn validator_set(&self, height: Height) -> eyre::Result<ValidatorSet> {
        let latest = self.latest()?;
        let version = height.0.saturating_sub(1).min(latest.0);
        let read = |key: Vec<u8>| {
            jmt::storage::TreeReader::get_value_option(self.store.as_ref(), version, huxin_state::key_hash(&key))
                .map_err(|e| eyre!("reading the validator set at version {version}: {e}"))
        };
        let bytes =
            read(huxin_contracts::keys::validators())?.ok_or_else(|| eyre!("no validator set at version {version}"))?;
        let current: Vec<huxin_contracts::registry::ValidatorRecord> =
            codec::decode_canonical(&bytes, usize::MAX).map_err(|e| eyre!("validator set does not decode: {e}"))?;
        let next = match read(huxin_contracts::keys::validators_next())? {
            Some(bytes) => Some(
                codec::decode_canonical(&bytes, usize::MAX)
                    .map_err(|e| eyre!("next validator set does not decode: {e}"))?,
            ),
            None => None,
        };
        let records = huxin_contracts::registry::select_validators(current, next, huxin_types::Height(height.0));
        Ok(ValidatorSet::new(records.iter().map(|r| Validator::new(PublicKey(r.public_key.0), r.power)).collect()))
    }

    fn validator_peers(&self, height: Height) -> eyre::Result<BTreeSet<PeerId>> {
        Ok(self
            .validator_set(height)?
            .validators
            .iter()
            .filter_map(|v| crate::gossip::peer_id_of(&v.public_key.0))
            .filter_map(|p| PeerId::from_bytes(&p.to_bytes()).ok())
            .collect())
    }

    /// Whether `peer` is the node key of a validator at the current height (cached per height).
    fn is_validator_peer(&mut self, peer: &PeerId) -> eyre::Result<bool> {
        if self.peers_cache.as_ref().map(|(h, _)| *h) != Some(self.height) {
            let peers = self.validator_peers(self.height)?;
            self.peers_cache = Some((self.height, peers));
        }
        Ok(self.peers_cache.as_ref().is_some_and(|(_, peers)| peers.contains(peer)))
    }

    fn parent(&self, height: huxin_types::Height) -> eyre::Result<Parent> {
        if height.0 == 0 {
            return Ok(Parent::genesis(&self.genesis));
        }
        let header = self.store.header(height)?.ok_or_else(|| eyre!("block {height} is not persisted"))?;
        Ok(Parent::of(&header))
    }

    /// Validate and execute `block` as the next block; cache the result.
    fn execute(&mut self, block: Block, check_time: bool) -> eyre::Result<Result<BlockHash, InvalidBlock>> {
        let hash = block.hash();
        if self.executed.contains_key(&hash) {
            return Ok(Ok(hash));
        }
        let latest = self.latest()?;
        if block.header.height.0 != latest.0 + 1 {
            return Ok(Err(InvalidBlock::WrongHeight {
                expected: huxin_types::Height(latest.0 + 1),
                got: block.header.height,
            }));
        }
        let validators = self.validator_set(Height(block.header.height.0))?;
        if !validators.validators.iter().any(|v| v.public_key.0 == block.header.proposer.0) {
            return Ok(Err(InvalidBlock::State(format!(
                "block proposer {} is not a validator",
                block.header.proposer
            ))));
        }
        let parent = self.parent(latest)?;
        let options = ValidateOptions {
            now: check_time.then(now_ms),
            time_drift_ms_max: self.config.block_time_drift_ms_max,
            signatures_verified: false,
        };
        // Transactions this node admitted had their signatures verified then; look them up
        // under the lock, then execute without holding it (submissions keep flowing).
        let verified_hashes: HashSet<huxin_types::TxHash> = {
            let mempool = self.mempool.lock().map_err(|_| eyre!("mempool lock poisoned"))?;
            block.txs.iter().filter(|tx| mempool.is_verified(tx)).map(|tx| tx.hash()).collect()
        };
        let verified = |tx: &SignedTx| verified_hashes.contains(&tx.hash());
        let result = validate_block(self.store.as_ref(), &parent, &block, options, &verified);
        match result {
            Ok(executed) => {
                self.executed.insert(hash, (block, executed));
                Ok(Ok(hash))
            }
            Err(InvalidBlock::State(e)) => Err(eyre!("state unreadable while executing block: {e}")),
            Err(invalid) => Ok(Err(invalid)),
        }
    }

    fn store_proposal(
        &self,
        height: Height,
        round: Round,
        pol_round: Round,
        proposer: Address,
        block: &Block,
    ) -> eyre::Result<()> {
        let record = StoredProposal { pol_round: pol_round.as_i64(), proposer: proposer.0, block: block.encode() };
        let round = round.as_i64().max(0) as u32;
        self.store.put_proposal(huxin_types::Height(height.0), round, &block.hash(), &codec::encode(&record))?;
        Ok(())
    }

    fn stored_proposals(&self, height: Height) -> eyre::Result<Vec<(u32, StoredProposal)>> {
        let mut out = Vec::new();
        for (round, _, bytes) in self.store.proposals(huxin_types::Height(height.0))? {
            match codec::decode_canonical::<StoredProposal>(&bytes, usize::MAX) {
                Ok(p) => out.push((round, p)),
                Err(e) => warn!(%height, round, error = %e, "stored proposal does not decode; skipped"),
            }
        }
        Ok(out)
    }

    /// Build a block for (height, round) from the mempool, waiting briefly for transactions.
    async fn build(&mut self, height: Height, round: Round, timeout: Duration) -> eyre::Result<Block> {
        let start = Instant::now();
        let budget = timeout / 2;
        loop {
            let waiting = self.mempool.lock().map_err(|_| eyre!("mempool lock poisoned"))?.len();
            let waited = start.elapsed();
            if waiting >= self.config.block_txs_max
                || (waiting > 0 && waited >= Duration::from_millis(self.config.block_gather_ms))
                || waited >= Duration::from_millis(self.config.block_empty_wait_ms)
                || waited >= budget
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let latest = self.latest()?;
        let parent = self.parent(latest)?;
        let time = TimestampMs(now_ms().0.max(parent.time.0 + 1));
        let store = self.store.clone();
        let nonce_of = |key: &huxin_types::PublicKey| last_nonce(&store, key);
        let candidates = {
            let mempool = self.mempool.lock().map_err(|_| eyre!("mempool lock poisoned"))?;
            mempool.select(self.config.block_txs_max, self.config.block_bytes_max, nonce_of)
        };
        let deadline = Instant::now() + Duration::from_millis(self.config.block_build_ms_max);
        let (block, executed, skipped) = build_block(
            self.store.as_ref(),
            &parent,
            self.public_key.to_huxin(),
            time,
            // Consumed lazily: once the build deadline passes, no more candidates are offered.
            candidates.into_iter().take_while(|_| Instant::now() < deadline),
            self.config.block_txs_max,
            self.config.block_bytes_max,
            // Candidates come from the mempool, which verified each signature on admission.
            &|_| true,
        )
        .map_err(|e| eyre!("building block {height}: {e}"))?;
        if !skipped.is_empty() {
            debug!(count = skipped.len(), "dropping transactions that can no longer be included");
            let mut mempool = self.mempool.lock().map_err(|_| eyre!("mempool lock poisoned"))?;
            mempool.remove_hashes(skipped.iter().map(|(h, _)| h));
            self.status.record_dropped(skipped);
        }
        self.store_proposal(height, round, Round::Nil, self.address, &block)?;
        self.executed.insert(block.hash(), (block.clone(), executed));
        info!(%height, %round, txs = block.txs.len(), hash = %block.hash(), "built proposal");
        Ok(block)
    }

    fn proposed_value(
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
    fn on_stream(&mut self, from: PeerId, stream: ReceivedStream) -> eyre::Result<Option<ProposedValue<HuxinContext>>> {
        let height = stream.height;
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
        self.store_proposal(height, stream.round, stream.pol_round, stream.proposer, &block)?;
        if height > self.height {
            debug!(%height, "proposal for a future height kept for later");
            return Ok(None);
        }
        let validity = self.validity(block, true)?;
        Ok(Some(self.proposed_value(height, stream.round, stream.pol_round, stream.proposer, hash, validity)))
    }

    fn validity(&mut self, block: Block, check_time: bool) -> eyre::Result<Validity> {
        let height = block.header.height;
        Ok(match self.execute(block, check_time)? {
            Ok(_) => Validity::Valid,
            Err(invalid) => {
                warn!(%height, reason = %invalid, "invalid proposal; voting nil");
                self.metrics.proposals_invalid.inc();
                Validity::Invalid
            }
        })
    }

    /// Persist the decided block and prepare the next height.
    fn decide(&mut self, certificate: &CommitCertificate<HuxinContext>) -> eyre::Result<()> {
        let hash = BlockHash(certificate.value_id.0);
        let height = certificate.height;
        if !self.executed.contains_key(&hash) {
            // After a restart the execution cache is empty: re-execute the stored proposal.
            let found = self
                .store
                .proposals(huxin_types::Height(height.0))?
                .into_iter()
                .find(|(_, h, _)| *h == hash)
                .ok_or_else(|| {
                eyre!("decided block {hash} at height {height} is not among the stored proposals")
            })?;
            let stored: StoredProposal = codec::decode_canonical(&found.2, usize::MAX)?;
            let block = Block::decode(&stored.block)?;
            self.execute(block, false)?.map_err(|e| eyre!("decided block {hash} does not execute: {e}"))?;
        }
        let (block, executed) = self.executed.remove(&hash).ok_or_else(|| eyre!("executed block vanished"))?;
        let certificate_bytes = borsh::to_vec(certificate)?;
        self.store
            .persist_block(&block, &certificate_bytes, &executed)
            .wrap_err_with(|| format!("persisting block {height}"))?;
        self.executed.clear();

        let failed = executed.receipts.iter().filter(|r| matches!(r.outcome, Outcome::Rejected(_))).count();
        self.metrics.blocks_decided.inc();
        self.metrics.txs_finalised.inc_by(block.txs.len() as u64);
        self.metrics.txs_failed.inc_by(failed as u64);
        self.metrics.height.set(height.0 as i64);
        self.status.height.store(height.0, Ordering::Relaxed);

        let store = self.store.clone();
        let nonce_of = |key: &huxin_types::PublicKey| last_nonce(&store, key);
        {
            let mut mempool = self.mempool.lock().map_err(|_| eyre!("mempool lock poisoned"))?;
            let hashes: Vec<_> = block.txs.iter().map(|t| t.hash()).collect();
            mempool.remove_hashes(hashes.iter());
            let signers: BTreeSet<_> = block.txs.iter().map(|t| t.body.signer).collect();
            mempool.remove_used(signers, nonce_of);
            mempool.evict_expired(huxin_types::Height(height.0 + 1), block.header.time);
            self.metrics.mempool_txs.set(mempool.len() as i64);
            self.metrics.mempool_bytes.set(mempool.bytes() as i64);
        }
        info!(%height, txs = block.txs.len(), failed, hash = %hash, "finalised block");
        let _ = self.finalised.send(Finalised { height: block.header.height, hash, txs: block.txs.len() });
        self.height = Height(height.0 + 1);
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
                    let validators = self.validator_set(start)?;
                    if reply.send((start, validators)).is_err() {
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
                        let validity = self.validity(block, false)?;
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
                                let _ = self.execute(block.clone(), false)?;
                            }
                            block
                        }
                        None => self.build(height, round, timeout).await?,
                    };
                    let value = BlockValue(ValueId(block.hash().0));
                    if reply.send(LocallyProposedValue::new(height, round, value)).is_err() {
                        error!("GetValue reply dropped");
                    }
                    for msg in stream_block(&self.signer, self.address, height, round, Round::Nil, &block.encode()) {
                        channels.network.send(NetworkMsg::PublishProposalPart(msg)).await?;
                    }
                }

                AppMsg::ExtendVote { reply, .. } => {
                    if reply.send(None).is_err() {
                        error!("ExtendVote reply dropped");
                    }
                }

                AppMsg::VerifyVoteExtension { reply, .. } => {
                    if reply.send(Ok(())).is_err() {
                        error!("VerifyVoteExtension reply dropped");
                    }
                }

                AppMsg::ReceivedProposalPart { from, part, reply } => {
                    // Refuse parts from peers that are not validators before buffering anything,
                    // so strangers cannot crowd real proposals out of the reassembly buffer.
                    if !self.is_validator_peer(&from)? {
                        warn!(%from, "proposal part from a peer that is not a validator dropped");
                        if reply.send(None).is_err() {
                            error!("ReceivedProposalPart reply dropped");
                        }
                        continue;
                    }
                    let value = match self.streams.insert(from, part) {
                        Ok(Some(stream)) => self.on_stream(from, stream)?,
                        Ok(None) => None,
                        Err(e) => {
                            warn!(%from, error = %e, "proposal stream dropped");
                            None
                        }
                    };
                    self.metrics.proposal_streams_open.set(self.streams.open_count() as i64);
                    if reply.send(value).is_err() {
                        error!("ReceivedProposalPart reply dropped");
                    }
                }

                AppMsg::GetValidatorSet { height, reply } => {
                    let set = match self.validator_set(height) {
                        Ok(set) => Some(set),
                        Err(e) => {
                            warn!(%height, error = %e, "validator set unavailable");
                            None
                        }
                    };
                    if reply.send(set).is_err() {
                        error!("GetValidatorSet reply dropped");
                    }
                }

                AppMsg::Decided { certificate, reply, .. } => {
                    // A failed write stops the node: returning the error ends this loop.
                    self.decide(&certificate)?;
                    let next = Height(certificate.height.0 + 1);
                    let validators = self.validator_set(next)?;
                    if reply.send(Next::Start(next, validators)).is_err() {
                        error!("Decided reply dropped");
                    }
                }

                AppMsg::GetDecidedValue { height, reply } => {
                    let h = huxin_types::Height(height.0);
                    let value = match (self.store.block_bytes(h)?, self.store.certificate(h)?) {
                        (Some(block), Some(cert)) => {
                            match borsh::from_slice::<CommitCertificate<HuxinContext>>(&cert) {
                                Ok(certificate) => {
                                    Some(RawDecidedValue { certificate, value_bytes: Bytes::from(block) })
                                }
                                Err(e) => return Err(eyre!("stored certificate at {height} does not decode: {e}")),
                            }
                        }
                        _ => None,
                    };
                    if reply.send(value).is_err() {
                        error!("GetDecidedValue reply dropped");
                    }
                }

                AppMsg::ProcessSyncedValue { height, round, proposer, value_bytes, reply } => {
                    let value = match Block::decode(&value_bytes) {
                        Ok(block) if block.header.height.0 == height.0 => {
                            let hash = block.hash();
                            self.store_proposal(height, round, Round::Nil, proposer, &block)?;
                            // A synced value comes with a commit certificate the engine checks. The
                            // next height's block is executed now; a later one (sync runs requests
                            // in parallel) is executed when it is decided, and a decided block that
                            // does not execute stops the node.
                            let validity = if height.0 == self.latest()?.0 + 1 {
                                self.validity(block, false)?
                            } else {
                                Validity::Valid
                            };
                            Some(self.proposed_value(height, round, Round::Nil, proposer, hash, validity))
                        }
                        Ok(block) => {
                            warn!(%height, got = %block.header.height, "synced block is for another height");
                            None
                        }
                        Err(e) => {
                            warn!(%height, error = %e, "synced block does not decode");
                            None
                        }
                    };
                    if reply.send(value).is_err() {
                        error!("ProcessSyncedValue reply dropped");
                    }
                }

                AppMsg::GetHistoryMinHeight { reply } => {
                    // Full history is kept (Malachite 0.5.0 has no state sync).
                    if reply.send(Height(1)).is_err() {
                        error!("GetHistoryMinHeight reply dropped");
                    }
                }

                AppMsg::RestreamProposal { height, round, valid_round, value_id, .. } => {
                    let wanted = BlockHash(value_id.0);
                    let found = self
                        .stored_proposals(height)?
                        .into_iter()
                        .filter_map(|(_, p)| Block::decode(&p.block).ok())
                        .find(|b| b.hash() == wanted);
                    match found {
                        Some(block) => {
                            for msg in
                                stream_block(&self.signer, self.address, height, round, valid_round, &block.encode())
                            {
                                channels.network.send(NetworkMsg::PublishProposalPart(msg)).await?;
                            }
                        }
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
