//! Decisions and history: persisting a decided block in one batch, recording equivocation
//! evidence, serving decided blocks to peers that sync, and taking in synced ones.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use eyre::{eyre, WrapErr};
use malachitebft_app_channel::app::engine::host::SyncedValueOutcome;
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, ExtendedCommitCertificate, Round, Validity, VoteExtensions,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::MisbehaviorEvidence;
use tracing::{info, warn};

use huxin_types::{Action, Block, BlockHash, Outcome, Rejection};

use super::build::last_nonce;
use super::{Finalised, Host};
use crate::codec::MESSAGE_BYTES_MAX;
use crate::context::{Address, Height, HuxinContext};

/// Most decided blocks sent in one sync response (the engine does not bound the range it asks
/// for); a response also stops before [`MESSAGE_BYTES_MAX`] bytes.
pub const SYNC_VALUES_MAX: u64 = 64;

impl Host {
    /// Persist the decided block and prepare the next height.
    pub(super) fn decide(&mut self, certificate: &CommitCertificate<HuxinContext>) -> eyre::Result<()> {
        let hash = BlockHash(certificate.value_id.0);
        let height = certificate.height;
        if !self.executed.contains_key(&hash) {
            // After a restart the execution cache is empty: re-execute the stored proposal.
            let block = self
                .stored_block(height, hash)?
                .ok_or_else(|| eyre!("decided block {hash} at height {height} is not among the stored proposals"))?;
            self.execute(block, false)?.map_err(|e| eyre!("decided block {hash} does not execute: {e}"))?;
        }
        let (block, executed) = self.executed.remove(&hash).ok_or_else(|| eyre!("executed block vanished"))?;
        let certificate_bytes = borsh::to_vec(certificate)?;
        let persisting = std::time::Instant::now();
        self.store
            .persist_block(&block, &certificate_bytes, &executed)
            .wrap_err_with(|| format!("persisting block {height}"))?;
        self.metrics.phases.persist.observe(persisting.elapsed().as_secs_f64());
        self.decided_at = Some(std::time::Instant::now());
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
            if block.txs.iter().any(|t| matches!(t.body.action, Action::Vote(_) | Action::Propose(_))) {
                self.drop_unauthorised(&mut mempool, height)?;
            }
            self.metrics.mempool_txs.set(mempool.len() as i64);
            self.metrics.mempool_bytes.set(mempool.bytes() as i64);
        }
        info!(%height, txs = block.txs.len(), failed, hash = %hash, "finalised block");
        let _ = self.finalised.send(Finalised { height: block.header.height, hash, txs: block.txs.len() });
        self.height = Height(height.0 + 1);
        Ok(())
    }

    /// After a block with governance in it (a key rotated, a member suspended or removed), drop
    /// the pending transactions of every key that can no longer sign, each with the reason.
    fn drop_unauthorised(&self, mempool: &mut huxin_mempool::Mempool, height: Height) -> eyre::Result<()> {
        let view = huxin_state::StateView::new(self.store.as_ref(), height.0);
        for signer in mempool.signers() {
            // `signer_member` refuses a key no member holds any more, and an inactive member's.
            match huxin_contracts::registry::signer_member(&view, &signer) {
                Ok(_) => {}
                Err(huxin_contracts::Error::Rejected(reason)) => self.drop_signer(mempool, &signer, reason),
                Err(huxin_contracts::Error::State(e)) => return Err(eyre!("reading signer {signer}: {e}")),
            }
        }
        Ok(())
    }

    fn drop_signer(&self, mempool: &mut huxin_mempool::Mempool, signer: &huxin_types::PublicKey, reason: Rejection) {
        let dropped = mempool.remove_signer(signer);
        info!(%signer, count = dropped.len(), reason = %reason.reason, "dropping pending transactions of a key that can no longer sign");
        self.status.record_dropped(dropped.into_iter().map(|h| (h, reason.clone())));
    }

    /// Log and count the equivocations the engine saw at `height` (double proposals and double
    /// votes, each pair signed by the same validator), so operators see who misbehaved.
    pub(super) fn record_evidence(
        &self,
        height: Height,
        evidence: &MisbehaviorEvidence<HuxinContext>,
    ) -> eyre::Result<()> {
        if evidence.is_empty() {
            return Ok(());
        }
        for validator in self.validator_set(height)?.validators {
            let proposals = evidence.proposals.get(&validator.address).map_or(0, Vec::len);
            let votes = evidence.votes.get(&validator.address).map_or(0, Vec::len);
            if proposals + votes == 0 {
                continue;
            }
            warn!(%height, validator = %validator.address, proposals, votes, "equivocation evidence: a validator signed conflicting messages");
            self.metrics.equivocations.inc_by((proposals + votes) as u64);
            self.status.record_equivocation(height.0, validator.address.0, proposals, votes);
        }
        Ok(())
    }

    /// The decided blocks of `range` with their certificates, for a peer that syncs: at most
    /// [`SYNC_VALUES_MAX`] of them and fewer than [`MESSAGE_BYTES_MAX`] bytes, from the start of
    /// the range, stopping at the first height this node does not have.
    pub(super) fn decided_values(
        &self,
        range: RangeInclusive<Height>,
    ) -> eyre::Result<Vec<RawDecidedValue<HuxinContext>>> {
        let (start, end) = (range.start().0, range.end().0);
        let end = end.min(start.saturating_add(SYNC_VALUES_MAX - 1));
        let mut values = Vec::new();
        let mut bytes = 0usize;
        for h in start..=end {
            let h = huxin_types::Height(h);
            let (Some(block), Some(cert)) = (self.store.block_bytes(h)?, self.store.certificate(h)?) else { break };
            let certificate = borsh::from_slice::<CommitCertificate<HuxinContext>>(&cert)
                .map_err(|e| eyre!("stored certificate at {h} does not decode: {e}"))?;
            bytes += block.len() + cert.len();
            if !values.is_empty() && bytes >= MESSAGE_BYTES_MAX {
                break;
            }
            let certificate = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
                certificate,
                VoteExtensions::default(),
            );
            #[cfg(feature = "byzantine")]
            let block = crate::byzantine::corrupt_if(self.lies.corrupt_sync_answers, block);
            values.push(RawDecidedValue::new(Bytes::from(block), certificate));
        }
        Ok(values)
    }

    /// Take in a block a peer sent while this node catches up. Bytes that do not decode, or a
    /// block for another height, are the peer's fault; the engine checks the commit certificate
    /// against the value id this returns, which is the hash of the bytes received.
    pub(super) fn synced_value(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
        value_bytes: &[u8],
    ) -> eyre::Result<SyncedValueOutcome<HuxinContext>> {
        let arrived = std::time::Instant::now();
        let next = height.0 == self.latest()?.0 + 1;
        if let Some(decided) = self.decided_at.filter(|_| next) {
            self.metrics.phases.sync_wait.observe(decided.elapsed().as_secs_f64());
            self.decided_at = None;
        }
        let block = match Block::decode(value_bytes) {
            Ok(block) if block.header.height.0 == height.0 => block,
            Ok(block) => {
                warn!(%height, got = %block.header.height, "synced block is for another height");
                return Ok(SyncedValueOutcome::PeerFault);
            }
            Err(e) => {
                warn!(%height, error = %e, "synced block does not decode");
                return Ok(SyncedValueOutcome::PeerFault);
            }
        };
        let hash = block.hash();
        self.network_height = self.network_height.max(height);
        self.store_proposal(height, round, Round::Nil, proposer, &block)?;
        // The next height's block is executed now; a later one (sync runs requests in parallel)
        // is executed when it is decided, and a decided block that does not execute stops the node.
        self.metrics.phases.sync_take_in.observe(arrived.elapsed().as_secs_f64());
        let validity = if next { self.validity(block, false)? } else { Validity::Valid };
        Ok(SyncedValueOutcome::Verdict(self.proposed_value(height, round, Round::Nil, proposer, hash, validity)))
    }
}
