//! Decisions: persisting a decided block in one batch, the mempool's bookkeeping after it, and
//! recording equivocation evidence.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use eyre::{eyre, WrapErr};
use malachitebft_app_channel::app::types::core::CommitCertificate;
use malachitebft_app_channel::app::types::MisbehaviorEvidence;
use tracing::{info, warn};

use huxin_types::{Action, BlockHash, Outcome, Rejection};

use super::build::last_nonce;
use super::proposals::Signatures;
use super::{Finalised, Host};
use crate::context::{Height, HuxinContext};

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
            self.execute(block, false, Signatures::Certified)?
                .map_err(|e| eyre!("decided block {hash} does not execute: {e}"))?;
        }
        let (block, executed, _) = self.executed.remove(&hash).ok_or_else(|| eyre!("executed block vanished"))?;
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
            // A receipt per transaction, each naming its transaction's hash.
            mempool.remove_hashes(executed.receipts.iter().map(|r| &r.tx_hash));
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
}
