//! Value sync: serving decided blocks to peers that catch up, and taking in the blocks this
//! node is sent while it catches up.

use std::ops::RangeInclusive;

use bytes::Bytes;
use eyre::eyre;
use malachitebft_app_channel::app::engine::host::SyncedValueOutcome;
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, ExtendedCommitCertificate, Round, Validity, VoteExtensions,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use tracing::warn;

use huxin_types::Block;

use super::proposals::Signatures;
use super::Host;
use crate::codec::MESSAGE_BYTES_MAX;
use crate::context::{Address, Height, HuxinContext};

/// Most decided blocks sent in one sync response (the engine does not bound the range it asks
/// for); a response also stops before [`MESSAGE_BYTES_MAX`] bytes.
pub const SYNC_VALUES_MAX: u64 = 64;

impl Host {
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
        // Stored as received: `Block::decode` checked these bytes are the block's canonical encoding.
        self.store_proposal_bytes(height, round, Round::Nil, proposer, hash, value_bytes.to_vec())?;
        // The next height's block is executed now; a later one (sync runs requests in parallel)
        // is executed when it is decided, and a decided block that does not execute stops the node.
        // Its signatures are left to the certificate the engine checked before this call: an
        // execution that is not of the certified block is never decided, nor reused for a vote.
        self.metrics.phases.sync_take_in.observe(arrived.elapsed().as_secs_f64());
        let validity = if next { self.validity(block, false, Signatures::Certified)? } else { Validity::Valid };
        Ok(SyncedValueOutcome::Verdict(self.proposed_value(height, round, Round::Nil, proposer, hash, validity)))
    }
}
