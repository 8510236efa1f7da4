//! Building this validator's proposal from the mempool, within the time and size budgets.

use std::time::{Duration, Instant};

use eyre::eyre;
use malachitebft_app_channel::app::types::core::Round;
use tracing::{debug, info};

use huxin_state::{build_block, BlockLimits, Built};
use huxin_store::Store;
use huxin_types::{codec, Block, TimestampMs};

use super::proposals::Signatures;
use super::Host;
use crate::clock::now_ms;
use crate::context::Height;

/// A key's last used nonce at the latest persisted height (0 if none or unreadable: the
/// mempool then offers transactions that block building re-checks).
pub(super) fn last_nonce(store: &Store, key: &huxin_types::PublicKey) -> u64 {
    store
        .state_value(&huxin_contracts::keys::nonce(key))
        .ok()
        .flatten()
        .and_then(|b| codec::decode_canonical::<u64>(&b, 16).ok())
        .unwrap_or(0)
}

impl Host {
    /// The time of a block this validator proposes: its clock, and after the parent's.
    fn proposal_time(&self, parent: &huxin_state::Parent) -> TimestampMs {
        #[cfg(feature = "byzantine")]
        if self.lies.block_time_offset_ms != 0 {
            return TimestampMs(now_ms().0.saturating_add_signed(self.lies.block_time_offset_ms));
        }
        TimestampMs(now_ms().0.max(parent.time.0 + 1))
    }

    /// Build a block for (height, round) from the mempool, waiting briefly for transactions
    /// (not while catching up: see `Host::network_height`).
    pub(super) async fn build(&mut self, height: Height, round: Round, timeout: Duration) -> eyre::Result<Block> {
        let start = Instant::now();
        let budget = timeout / 2;
        let catching_up = self.network_height > height;
        if !catching_up {
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
        }
        let latest = self.latest()?;
        let parent = self.parent(latest)?;
        let time = self.proposal_time(&parent);
        let store = self.store.clone();
        let nonce_of = |key: &huxin_types::PublicKey| last_nonce(&store, key);
        let candidates = {
            let mempool = self.mempool.lock().map_err(|_| eyre!("mempool lock poisoned"))?;
            mempool.select(self.config.block_txs_max, self.config.block_bytes_max, nonce_of)
        };
        let deadline = Instant::now() + Duration::from_millis(self.config.block_build_ms_max);
        let Built { block, executed, skipped } = build_block(
            self.store.as_ref(),
            &parent,
            self.public_key.to_huxin(),
            time,
            // Consumed lazily: once the build deadline passes, no more candidates are offered.
            candidates.into_iter().take_while(|_| Instant::now() < deadline),
            BlockLimits { txs: self.config.block_txs_max, bytes: self.config.block_bytes_max },
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
        // Every candidate's signature was checked when the mempool admitted it.
        self.executed.insert(block.hash(), (block.clone(), executed, Signatures::Checked));
        self.metrics.phases.build.observe(start.elapsed().as_secs_f64());
        self.proposal_ready();
        info!(%height, %round, txs = block.txs.len(), hash = %block.hash(), "built proposal");
        Ok(block)
    }

    /// The out-of-turn lie (see [`crate::byzantine::HostLies::stream_out_of_turn`]): stream an
    /// empty block of this validator's for a round it does not propose, the next round, the next
    /// height and a height past the horizon.
    #[cfg(feature = "byzantine")]
    pub(super) async fn stream_out_of_turn(
        &mut self,
        channels: &mut malachitebft_app_channel::Channels<crate::context::HuxinContext>,
        height: Height,
        round: Round,
    ) -> eyre::Result<()> {
        let parent = self.parent(self.latest()?)?;
        let time = self.proposal_time(&parent);
        let Built { block, .. } = build_block(
            self.store.as_ref(),
            &parent,
            self.public_key.to_huxin(),
            time,
            std::iter::empty(),
            BlockLimits { txs: 0, bytes: self.config.block_bytes_max },
            &|_| true,
        )
        .map_err(|e| eyre!("building an out-of-turn block: {e}"))?;
        let next_round = Round::new(round.as_u32().unwrap_or(0) + 1);
        let far = Height(height.0 + super::proposals::PROPOSAL_HEIGHTS_AHEAD_MAX + 5);
        for (h, r) in
            [(height, round), (height, next_round), (Height(height.0 + 1), Round::new(0)), (far, Round::new(0))]
        {
            info!(height = %h, round = %r, "byzantine: streaming out of turn");
            self.publish(channels, h, r, Round::Nil, &block).await?;
        }
        Ok(())
    }
}
