//! The node anchors its audit log of supervisor queries: whenever the log has grown past what
//! the ledger last recorded for this node's member, it submits `anchor_audit_log` with the log's
//! head, signed with the configured anchor key (see `huxin_types::audit`).

use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, warn};

use huxin_api::signed::AuditLog;
use huxin_consensus::{Ingress, Origin};
use huxin_contracts::{audit, registry};
use huxin_state::StateView;
use huxin_store::Store;
use huxin_types::audit::AnchorAuditLog;
use huxin_types::{Action, ChainId, Height, SecretKey};

/// Heights an anchor transaction stays valid.
const ANCHOR_EXPIRY_HEIGHTS: u64 = 100;

pub async fn run(
    log: Arc<AuditLog>,
    store: Arc<Store>,
    ingress: Ingress,
    chain_id: ChainId,
    key: SecretKey,
    interval: Duration,
    unanchored: prometheus_client::metrics::gauge::Gauge,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending: Option<(u64, Height)> = None;
    loop {
        tick.tick().await;
        let (seq, head) = log.head();
        if seq == 0 {
            continue;
        }
        let height = match store.latest_height() {
            Ok(h) => h.unwrap_or(Height(0)),
            Err(e) => {
                warn!(error = %e, "audit anchoring: reading the latest height");
                continue;
            }
        };
        let view = StateView::new(store.as_ref(), height.0);
        let reads = registry::signer_member(&view, &key.public_key()).and_then(|member| {
            let anchored = audit::latest(&view, &member.id)?.map_or(0, |a| a.seq);
            Ok((anchored, registry::last_nonce(&view, &key.public_key())?))
        });
        let (anchored, last_nonce) = match reads {
            Ok(read) => read,
            Err(e) => {
                warn!(error = %e, "audit anchoring: the anchor key cannot sign, or the state is unreadable");
                continue;
            }
        };
        unanchored.set(i64::try_from(seq.saturating_sub(anchored)).unwrap_or(i64::MAX));
        if anchored >= seq {
            continue;
        }
        let nonce = last_nonce + 1;
        // One anchor in flight at a time: wait for it to land or expire.
        if let Some((in_flight, expiry)) = pending {
            if in_flight >= nonce && height < expiry {
                continue;
            }
        }
        let expiry = huxin_client::expiry_after(height.0, ANCHOR_EXPIRY_HEIGHTS);
        let tx =
            huxin_client::sign_tx(&key, &chain_id, nonce, expiry, Action::AnchorAuditLog(AnchorAuditLog { seq, head }));
        match ingress.submit(tx, Origin::Api) {
            Ok(hash) => {
                debug!(seq, %hash, "audit log anchor submitted");
                pending = Some((nonce, Height(height.0 + ANCHOR_EXPIRY_HEIGHTS)));
            }
            Err(e) => warn!(error = ?e, "audit anchoring: submission refused"),
        }
    }
}
