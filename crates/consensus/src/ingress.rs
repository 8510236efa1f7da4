//! Where transactions enter a node: from the API or from gossip. Each is checked against the
//! latest persisted state (size, chain id, signature, member signer, unused nonce, expiry), then
//! put in the mempool; API submissions are also gossiped to the other validators.

use std::sync::{Arc, Mutex};

use huxin_mempool::{Mempool, MempoolError};
use huxin_state::{check_mempool_admission, StateView};
use huxin_store::Store;
use huxin_types::{ChainId, Height, Rejection, SignedTx, TxHash};

use crate::clock::now_ms;
use crate::gossip::{GossipSender, GossipVerdict};
use crate::status::{Metrics, NodeStatus};

/// Why a transaction was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Rejected(Rejection),
    #[error("{0}")]
    Mempool(MempoolError),
    #[error("node is not ready: {0}")]
    Unavailable(String),
    /// The state could not be read to admit the transaction: nothing is decided about it.
    #[error("{0}")]
    Storage(huxin_contracts::StateError),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Origin {
    Api,
    Gossip,
}

#[derive(Clone)]
pub struct Ingress {
    pub chain_id: ChainId,
    /// The chain's suite (from genesis).
    pub suite: huxin_types::crypto::Suite,
    pub store: Arc<Store>,
    pub mempool: Arc<Mutex<Mempool>>,
    pub gossip: Arc<Mutex<Option<GossipSender>>>,
    pub metrics: Metrics,
    /// Where transactions evicted from a full mempool are recorded as dropped.
    pub status: Arc<NodeStatus>,
}

impl Ingress {
    pub fn submit(&self, tx: SignedTx, origin: Origin) -> Result<TxHash, SubmitError> {
        let result = self.admit(tx.clone());
        match &result {
            Ok(_) => {
                self.metrics.txs_submitted.inc();
                if origin == Origin::Api {
                    let sent = self.gossip.lock().map(|g| g.as_ref().is_some_and(|g| g.send(tx))).unwrap_or(false);
                    if !sent {
                        self.metrics.gossip_queue_full.inc();
                    }
                }
            }
            Err(_) => {
                self.metrics.txs_refused.inc();
            }
        }
        result
    }

    /// Admit a batch a gossip peer sent, and judge the batch (see [`GossipVerdict`]): rejected if
    /// any transaction is one no honest node would have admitted, forwarded if any was admitted.
    pub fn submit_gossiped(&self, txs: Vec<SignedTx>) -> GossipVerdict {
        let mut admitted = false;
        let mut faulty = false;
        for tx in txs {
            match self.submit(tx, Origin::Gossip) {
                Ok(_) => admitted = true,
                Err(SubmitError::Rejected(r)) if r.code.is_sender_fault() => faulty = true,
                Err(_) => {}
            }
        }
        if faulty {
            GossipVerdict::Reject
        } else if admitted {
            GossipVerdict::Accept
        } else {
            GossipVerdict::Ignore
        }
    }

    fn admit(&self, tx: SignedTx) -> Result<TxHash, SubmitError> {
        let latest = self
            .store
            .latest_height()
            .map_err(|e| SubmitError::Unavailable(e.to_string()))?
            .ok_or_else(|| SubmitError::Unavailable("genesis is not written yet".into()))?;
        {
            let mempool = self.mempool.lock().map_err(|_| SubmitError::Unavailable("mempool lock poisoned".into()))?;
            if mempool.contains(&tx.hash()) {
                return Err(SubmitError::Mempool(MempoolError::Duplicate(tx.hash())));
            }
        }
        let view = StateView::new(self.store.as_ref(), latest.0);
        let admitted = check_mempool_admission(&view, &self.chain_id, self.suite, &tx, Height(latest.0 + 1), now_ms())
            .map_err(|e| match e {
                huxin_contracts::Error::Rejected(r) => SubmitError::Rejected(r),
                huxin_contracts::Error::State(e) => SubmitError::Storage(e),
            })?;
        let mut mempool = self.mempool.lock().map_err(|_| SubmitError::Unavailable("mempool lock poisoned".into()))?;
        let (hash, evicted) = mempool.insert_ready(tx, admitted.last_nonce).map_err(SubmitError::Mempool)?;
        self.metrics.mempool_txs.set(mempool.len() as i64);
        self.metrics.mempool_bytes.set(mempool.bytes() as i64);
        drop(mempool);
        if !evicted.is_empty() {
            self.metrics.mempool_evicted.inc_by(evicted.len() as u64);
            self.status.record_dropped(evicted.into_iter().map(|e| {
                let reason = format!(
                    "evicted from a full mempool: nonce {} of key {} follows a gap (the ledger's next is {}); submit the missing nonces first, then this one again",
                    e.nonce,
                    e.signer,
                    e.ledger_nonce + 1
                );
                (e.hash, Rejection::new(huxin_types::RejectCode::BadNonce, reason))
            }));
        }
        Ok(hash)
    }
}
