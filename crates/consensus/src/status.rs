//! Live node status and Prometheus metrics, shared by consensus, gossip and the API.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use huxin_types::{Rejection, TxHash};

use malachitebft_metrics::SharedRegistry;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

/// Counters and gauges exported at `/metrics` under the `huxin_` prefix.
#[derive(Clone, Default)]
pub struct Metrics {
    pub height: Gauge,
    pub round: Gauge,
    pub blocks_decided: Counter,
    pub txs_finalised: Counter,
    pub txs_failed: Counter,
    pub txs_submitted: Counter,
    pub txs_refused: Counter,
    pub mempool_txs: Gauge,
    pub mempool_bytes: Gauge,
    pub mempool_evicted: Counter,
    pub gossip_peers: Gauge,
    pub gossip_queue_full: Counter,
    pub gossip_rejected: Counter,
    pub proposals_invalid: Counter,
    pub proposal_streams_open: Gauge,
    pub proposal_streams_refused: Counter,
    pub equivocations: Counter,
    pub consensus_peers: Gauge,
    pub consensus_validator_peers: Gauge,
    /// Validators of the next height (for the quorum alert).
    pub validators: Gauge,
    /// The mempool's capacity in transactions (for the fill alert).
    pub mempool_txs_max: Gauge,
    /// Size and free space of the filesystem that holds the node's data.
    pub data_disk_bytes: Gauge,
    pub data_disk_free_bytes: Gauge,
    /// Supervisor-query audit entries not yet anchored on the ledger.
    pub audit_unanchored_entries: Gauge,
    /// Where a block's time goes, per phase (see [`BlockPhases`]).
    pub phases: BlockPhases,
}

/// Per-block phase timings, in seconds, exported as Prometheus histograms
/// `huxin_block_<phase>_seconds`.
#[derive(Clone)]
pub struct BlockPhases {
    /// A received proposal stream, from its first part to its last.
    pub receive: Histogram,
    /// Validating and executing a proposed block (signatures included) before voting on it.
    pub execute: Histogram,
    /// Building this validator's own proposal (waiting for transactions included).
    pub build: Histogram,
    /// Persisting a decided block (one atomic, synced write).
    pub persist: Histogram,
    /// From a block's decision to the next height's proposal being ready to vote on (built
    /// here, or received and executed).
    pub commit_to_next_proposal: Histogram,
    /// Catching up: from a block's decision to the next synced block reaching the host (the
    /// engine finalising the height, starting the next and handing over the block it holds).
    pub sync_wait: Histogram,
    /// Catching up: taking in a synced block before executing it (decoding it, hashing it,
    /// storing it as the height's proposal).
    pub sync_take_in: Histogram,
}

impl Default for BlockPhases {
    fn default() -> Self {
        // 0.5 ms to about 16 s.
        let histogram = || Histogram::new(exponential_buckets(0.000_5, 2.0, 16));
        Self {
            receive: histogram(),
            execute: histogram(),
            build: histogram(),
            persist: histogram(),
            commit_to_next_proposal: histogram(),
            sync_wait: histogram(),
            sync_take_in: histogram(),
        }
    }
}

impl Metrics {
    /// Register into Malachite's global registry, so one `/metrics` page shows both.
    pub fn register(&self) {
        SharedRegistry::global().with_prefix("huxin", |r| {
            r.register("height", "Last persisted block height", self.height.clone());
            r.register("round", "Current consensus round", self.round.clone());
            r.register("blocks_decided", "Blocks decided and persisted", self.blocks_decided.clone());
            r.register(
                "txs_finalised",
                "Transactions finalised (applied or rejected in a block)",
                self.txs_finalised.clone(),
            );
            r.register("txs_failed", "Finalised transactions whose contract rejected them", self.txs_failed.clone());
            r.register("txs_submitted", "Transactions admitted to this node's mempool", self.txs_submitted.clone());
            r.register("txs_refused", "Transactions refused at admission", self.txs_refused.clone());
            r.register("mempool_txs", "Transactions in the mempool", self.mempool_txs.clone());
            r.register("mempool_bytes", "Bytes in the mempool", self.mempool_bytes.clone());
            r.register(
                "mempool_evicted",
                "Transactions evicted from a full mempool (their nonces followed a gap) for ones that could be included",
                self.mempool_evicted.clone(),
            );
            r.register("gossip_peers", "Connected transaction-gossip peers", self.gossip_peers.clone());
            r.register(
                "gossip_queue_full",
                "Transactions not gossiped because the queue was full",
                self.gossip_queue_full.clone(),
            );
            r.register(
                "gossip_rejected",
                "Gossip messages refused as invalid (undecodable, over the limit, or with a transaction no honest node admits)",
                self.gossip_rejected.clone(),
            );
            r.register(
                "proposals_invalid",
                "Proposed blocks this validator voted against",
                self.proposals_invalid.clone(),
            );
            r.register(
                "proposal_streams_open",
                "Proposal streams being reassembled",
                self.proposal_streams_open.clone(),
            );
            r.register(
                "proposal_streams_refused",
                "Proposal streams refused (not that round's proposer, past the horizon, or too many open)",
                self.proposal_streams_refused.clone(),
            );
            r.register("consensus_peers", "Peers connected on the consensus network", self.consensus_peers.clone());
            r.register(
                "consensus_validator_peers",
                "Consensus peers whose validator proof names a validator's key",
                self.consensus_validator_peers.clone(),
            );
            r.register(
                "consensus_messages_malformed",
                "Consensus, sync and WAL messages that did not decode (each dropped)",
                crate::codec::MESSAGES_MALFORMED.clone(),
            );
            r.register("validators", "Validators of the next height", self.validators.clone());
            r.register("mempool_txs_max", "The mempool's capacity in transactions", self.mempool_txs_max.clone());
            r.register("data_disk_bytes", "Size of the filesystem holding the node's data", self.data_disk_bytes.clone());
            r.register(
                "data_disk_free_bytes",
                "Free space on the filesystem holding the node's data",
                self.data_disk_free_bytes.clone(),
            );
            r.register(
                "audit_unanchored_entries",
                "Supervisor-query audit entries not yet anchored on the ledger",
                self.audit_unanchored_entries.clone(),
            );
            let phases = &self.phases;
            r.register("block_receive_seconds", "A proposal stream, first part to last", phases.receive.clone());
            r.register(
                "block_execute_seconds",
                "Validating and executing a proposed block before voting",
                phases.execute.clone(),
            );
            r.register("block_build_seconds", "Building this validator's proposal", phases.build.clone());
            r.register("block_persist_seconds", "Persisting a decided block", phases.persist.clone());
            r.register(
                "block_commit_to_next_proposal_seconds",
                "From a decision to the next height's proposal ready to vote on",
                phases.commit_to_next_proposal.clone(),
            );
            r.register(
                "block_sync_wait_seconds",
                "Catching up: from a decision to the next synced block reaching the host",
                phases.sync_wait.clone(),
            );
            r.register(
                "block_sync_take_in_seconds",
                "Catching up: decoding, hashing and storing a synced block before executing it",
                phases.sync_take_in.clone(),
            );
            r.register(
                "equivocations",
                "Conflicting proposals or votes seen signed by one validator (equivocation evidence)",
                self.equivocations.clone(),
            );
        });
    }

    /// The Prometheus text exposition of every registered metric.
    pub fn export() -> String {
        let mut out = String::new();
        malachitebft_metrics::export(&mut out);
        out
    }
}

/// How many dropped transactions (and why) a node remembers for `GET /v1/txs/{hash}`.
pub const DROPPED_TXS_MAX: usize = 10_000;

/// How many equivocation records a node keeps for operators (the oldest are forgotten first).
pub const EQUIVOCATIONS_KEPT_MAX: usize = 256;

/// A validator seen signing conflicting messages at one height.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equivocation {
    pub height: u64,
    /// The validator's consensus address.
    pub validator: [u8; 20],
    /// Pairs of conflicting proposals.
    pub proposals: usize,
    /// Pairs of conflicting votes.
    pub votes: usize,
}

/// What the API shows about consensus right now.
#[derive(Default)]
pub struct NodeStatus {
    pub height: AtomicU64,
    pub round: AtomicI64,
    pub gossip_peers: Arc<AtomicI64>,
    /// Peers connected on the consensus network (Malachite's).
    pub consensus_peers: AtomicI64,
    dropped: Mutex<VecDeque<(TxHash, Rejection)>>,
    equivocations: Mutex<VecDeque<Equivocation>>,
}

impl NodeStatus {
    pub fn round(&self) -> i64 {
        self.round.load(Ordering::Relaxed)
    }
    pub fn peers(&self) -> i64 {
        self.gossip_peers.load(Ordering::Relaxed)
    }

    /// Remember transactions dropped from the mempool without being included, oldest forgotten
    /// first.
    pub fn record_dropped(&self, items: impl IntoIterator<Item = (TxHash, Rejection)>) {
        if let Ok(mut dropped) = self.dropped.lock() {
            for item in items {
                if dropped.len() >= DROPPED_TXS_MAX {
                    dropped.pop_front();
                }
                dropped.push_back(item);
            }
        }
    }

    pub fn record_equivocation(&self, height: u64, validator: [u8; 20], proposals: usize, votes: usize) {
        if let Ok(mut kept) = self.equivocations.lock() {
            if kept.len() >= EQUIVOCATIONS_KEPT_MAX {
                kept.pop_front();
            }
            kept.push_back(Equivocation { height, validator, proposals, votes });
        }
    }

    /// The equivocations seen since the node started, oldest first.
    pub fn equivocations(&self) -> Vec<Equivocation> {
        self.equivocations.lock().map(|kept| kept.iter().cloned().collect()).unwrap_or_default()
    }

    pub fn dropped(&self, hash: &TxHash) -> Option<Rejection> {
        let dropped = self.dropped.lock().ok()?;
        dropped.iter().rev().find(|(h, _)| h == hash).map(|(_, r)| r.clone())
    }
}
