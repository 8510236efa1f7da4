//! Gauges the node samples once a second for its operators' monitoring (deploy/monitoring/):
//! gossip peers, the validator count, the mempool's capacity, the data disk's size and free
//! space, and — when the node does not anchor its audit log — every audit entry as unanchored.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use huxin_api::signed::AuditLog;
use huxin_consensus::Metrics;
use huxin_store::Store;
use huxin_types::Height;

/// How often the gauges are sampled.
const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

pub struct Sources {
    pub metrics: Metrics,
    pub store: Arc<Store>,
    /// The node's data directory (its filesystem is the one measured).
    pub data_dir: PathBuf,
    pub gossip_peers: Arc<AtomicI64>,
    pub mempool_txs_max: usize,
    /// The audit log, when nothing anchors it (the anchoring task reports its own lag).
    pub unanchored_log: Option<Arc<AuditLog>>,
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub async fn run(sources: Sources) {
    let metrics = &sources.metrics;
    metrics.mempool_txs_max.set(gauge_value(sources.mempool_txs_max as u64));
    let mut tick = tokio::time::interval(SAMPLE_INTERVAL);
    loop {
        tick.tick().await;
        metrics.gossip_peers.set(sources.gossip_peers.load(Ordering::Relaxed));
        if let Ok(Some(latest)) = sources.store.latest_height() {
            let view = huxin_state::StateView::new(sources.store.as_ref(), latest.0);
            if let Ok(validators) = huxin_contracts::registry::validators_at(&view, Height(latest.0 + 1)) {
                metrics.validators.set(gauge_value(validators.len() as u64));
            }
        }
        if let Ok(fs) = rustix::fs::statvfs(&sources.data_dir) {
            metrics.data_disk_bytes.set(gauge_value(fs.f_blocks.saturating_mul(fs.f_frsize)));
            metrics.data_disk_free_bytes.set(gauge_value(fs.f_bavail.saturating_mul(fs.f_frsize)));
        }
        if let Some(log) = &sources.unanchored_log {
            metrics.audit_unanchored_entries.set(gauge_value(log.head().0));
        }
    }
}
