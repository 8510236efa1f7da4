//! The mempool: transactions admitted but not yet in a block.
//!
//! Invariants:
//! - bounded in count ([`MempoolConfig::txs_max`]), bytes ([`MempoolConfig::bytes_max`]) and per
//!   signer ([`MempoolConfig::signer_txs_max`]); a full pool refuses, it never grows;
//! - one transaction per hash, and one per (signer, nonce): a second body for a taken nonce is
//!   refused, never silently replaced;
//! - selection hands out, per signer, only the unbroken run of nonces that follows the signer's
//!   last used nonce; signers are served in the order their oldest waiting transaction arrived;
//! - expired transactions are evicted by [`Mempool::evict_expired`].
//!
//! The mempool decides nothing the ledger records: which transactions a proposer picks is its
//! own business, and every validator re-checks them. It does no I/O.

use std::collections::{BTreeMap, HashMap};

use huxin_types::crypto::PublicKey;
use huxin_types::{Height, SignedTx, TimestampMs, TxHash};

#[derive(Clone, Copy, Debug)]
pub struct MempoolConfig {
    pub txs_max: usize,
    pub bytes_max: usize,
    pub signer_txs_max: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self { txs_max: 100_000, bytes_max: 256 * 1024 * 1024, signer_txs_max: 1024 }
    }
}

/// Why the mempool refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    #[error("transaction {0} is already pending")]
    Duplicate(TxHash),
    #[error("key {signer} already has a different pending transaction with nonce {nonce} ({existing})")]
    NonceTaken { signer: PublicKey, nonce: u64, existing: TxHash },
    #[error("mempool holds {txs} transactions / {bytes} bytes; limits are {txs_max} / {bytes_max}")]
    Full { txs: usize, bytes: usize, txs_max: usize, bytes_max: usize },
    #[error("key {signer} already has {count} pending transactions; at most {max} are held per key")]
    SignerFull { signer: PublicKey, count: usize, max: usize },
}

struct Entry {
    tx: SignedTx,
    size: usize,
    arrival: u64,
}

pub struct Mempool {
    config: MempoolConfig,
    by_hash: HashMap<TxHash, Entry>,
    by_signer: BTreeMap<PublicKey, BTreeMap<u64, TxHash>>,
    bytes: usize,
    next_arrival: u64,
}

impl Mempool {
    pub fn new(config: MempoolConfig) -> Self {
        Self { config, by_hash: HashMap::new(), by_signer: BTreeMap::new(), bytes: 0, next_arrival: 0 }
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn contains(&self, hash: &TxHash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// True if this exact transaction (hash and signature) was admitted, so its signature has
    /// been verified already.
    pub fn is_verified(&self, tx: &SignedTx) -> bool {
        self.by_hash.get(&tx.hash()).is_some_and(|e| e.tx.signature == tx.signature)
    }

    /// Add an admitted transaction (its signature and nonce were checked against state).
    pub fn insert(&mut self, tx: SignedTx) -> Result<TxHash, MempoolError> {
        let hash = tx.hash();
        if self.by_hash.contains_key(&hash) {
            return Err(MempoolError::Duplicate(hash));
        }
        let signer = tx.body.signer;
        let nonce = tx.body.nonce;
        if let Some(existing) = self.by_signer.get(&signer).and_then(|m| m.get(&nonce)) {
            return Err(MempoolError::NonceTaken { signer, nonce, existing: *existing });
        }
        let size = tx.encoded_len();
        if self.by_hash.len() >= self.config.txs_max || self.bytes + size > self.config.bytes_max {
            return Err(MempoolError::Full {
                txs: self.by_hash.len(),
                bytes: self.bytes,
                txs_max: self.config.txs_max,
                bytes_max: self.config.bytes_max,
            });
        }
        let count = self.by_signer.get(&signer).map_or(0, |m| m.len());
        if count >= self.config.signer_txs_max {
            return Err(MempoolError::SignerFull { signer, count, max: self.config.signer_txs_max });
        }
        self.by_signer.entry(signer).or_default().insert(nonce, hash);
        self.by_hash.insert(hash, Entry { tx, size, arrival: self.next_arrival });
        self.next_arrival += 1;
        self.bytes += size;
        Ok(hash)
    }

    fn remove(&mut self, hash: &TxHash) {
        if let Some(entry) = self.by_hash.remove(hash) {
            self.bytes -= entry.size;
            let signer = entry.tx.body.signer;
            if let Some(nonces) = self.by_signer.get_mut(&signer) {
                nonces.remove(&entry.tx.body.nonce);
                if nonces.is_empty() {
                    self.by_signer.remove(&signer);
                }
            }
        }
    }

    /// Pick transactions for a block: per signer, the unbroken run of nonces after
    /// `last_nonce(signer)`; signers in arrival order of their first ready transaction.
    pub fn select(&self, txs_max: usize, bytes_max: usize, last_nonce: impl Fn(&PublicKey) -> u64) -> Vec<SignedTx> {
        let mut runs: Vec<(u64, Vec<&Entry>)> = Vec::new();
        for (signer, nonces) in &self.by_signer {
            let mut expected = last_nonce(signer).saturating_add(1);
            let mut run = Vec::new();
            for (nonce, hash) in nonces.range(expected..) {
                if *nonce != expected {
                    break;
                }
                if let Some(entry) = self.by_hash.get(hash) {
                    run.push(entry);
                }
                expected += 1;
            }
            if let Some(first) = run.first() {
                runs.push((first.arrival, run));
            }
        }
        runs.sort_by_key(|(arrival, _)| *arrival);
        let mut out = Vec::new();
        let mut bytes = 0;
        'outer: for (_, run) in runs {
            for entry in run {
                if out.len() >= txs_max || bytes + entry.size > bytes_max {
                    break 'outer;
                }
                bytes += entry.size;
                out.push(entry.tx.clone());
            }
        }
        out
    }

    /// Drop transactions whose nonce is now used (included in a block, or superseded).
    pub fn remove_used(
        &mut self,
        signers: impl IntoIterator<Item = PublicKey>,
        last_nonce: impl Fn(&PublicKey) -> u64,
    ) {
        for signer in signers {
            let last = last_nonce(&signer);
            let used: Vec<TxHash> = match self.by_signer.get(&signer) {
                Some(nonces) => nonces.range(..=last).map(|(_, h)| *h).collect(),
                None => continue,
            };
            for hash in used {
                self.remove(&hash);
            }
        }
    }

    /// Drop specific transactions (e.g. ones a block builder found no longer includable).
    pub fn remove_hashes<'a>(&mut self, hashes: impl IntoIterator<Item = &'a TxHash>) {
        for hash in hashes {
            self.remove(hash);
        }
    }

    /// Drop every transaction that can no longer be included at `height`/`time`.
    pub fn evict_expired(&mut self, height: Height, time: TimestampMs) -> usize {
        let expired: Vec<TxHash> =
            self.by_hash.iter().filter(|(_, e)| e.tx.body.expiry.is_expired(height, time)).map(|(h, _)| *h).collect();
        for hash in &expired {
            self.remove(hash);
        }
        expired.len()
    }
}

#[cfg(test)]
mod tests;
