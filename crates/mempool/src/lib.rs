//! The mempool: transactions admitted but not yet in a block.
//!
//! Invariants:
//! - bounded in count ([`MempoolConfig::txs_max`]), bytes ([`MempoolConfig::bytes_max`]) and per
//!   signer ([`MempoolConfig::signer_txs_max`]); a full pool refuses, it never grows;
//! - one transaction per hash, and one per (signer, nonce): a second body for a taken nonce is
//!   refused, never silently replaced;
//! - selection hands out, per signer, only the unbroken run of nonces that follows the signer's
//!   last used nonce; signers are served in the order their oldest waiting transaction arrived;
//! - expired transactions are evicted by [`Mempool::evict_expired`];
//! - a full pool never stays full of transactions that cannot be included: admitting a
//!   transaction that extends its signer's includable run ([`Mempool::insert_ready`]) evicts a
//!   transaction whose nonce follows a gap (the one furthest from its signer's ledger nonce), so
//!   a client that sent out of order, or a member that filled the pool with future nonces,
//!   cannot block the transactions that would be included.
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

/// Transactions a mempool holds by default: five full blocks of the default size (2 000). Under
/// overload a transaction then waits a few blocks at most, and the node sheds the rest at
/// admission (`mempool_full`, with `Retry-After`) instead of queueing tens of seconds of them,
/// each verified, gossiped and re-read every block. On the 4-validator devnet at twice its
/// sustainable rate this keeps the finalised rate at its peak and p99 latency near 3.6 s, where
/// 100 000 let it fall by a third with p99 at 17 s (PERFORMANCE.md, "Overload").
pub const TXS_MAX_DEFAULT: usize = 10_000;

impl Default for MempoolConfig {
    fn default() -> Self {
        Self { txs_max: TXS_MAX_DEFAULT, bytes_max: 256 * 1024 * 1024, signer_txs_max: 1024 }
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
    /// Each pending signer's last nonce on the ledger, as last seen (admission, a block).
    ledger_nonce: BTreeMap<PublicKey, u64>,
    bytes: usize,
    next_arrival: u64,
}

/// A transaction evicted from a full pool to make room for one that can be included sooner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evicted {
    pub hash: TxHash,
    pub signer: PublicKey,
    pub nonce: u64,
    /// The signer's last nonce on the ledger then: the gap runs from after it.
    pub ledger_nonce: u64,
}

impl Mempool {
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            by_hash: HashMap::new(),
            by_signer: BTreeMap::new(),
            ledger_nonce: BTreeMap::new(),
            bytes: 0,
            next_arrival: 0,
        }
    }

    fn is_full_for(&self, size: usize) -> bool {
        self.by_hash.len() >= self.config.txs_max || self.bytes + size > self.config.bytes_max
    }

    /// Whether `nonce` extends (or fills a gap in) `signer`'s includable run after `ledger`.
    fn is_ready(&self, signer: &PublicKey, nonce: u64, ledger: u64) -> bool {
        let mut expected = ledger.saturating_add(1);
        if let Some(nonces) = self.by_signer.get(signer) {
            for n in nonces.range(expected..).map(|(n, _)| *n) {
                if n != expected {
                    break;
                }
                expected += 1;
            }
        }
        nonce == expected
    }

    /// The pending transaction furthest past a gap, counting `incoming` (signer, nonce) as
    /// pending: the highest nonce of the signer whose pending nonces leave the largest gap after
    /// its ledger nonce (none when every pending transaction can be included in turn).
    fn stuck_victim(&self, incoming: (&PublicKey, u64)) -> Option<Evicted> {
        let mut best: Option<(u64, Evicted)> = None;
        for (signer, nonces) in &self.by_signer {
            let Some(ledger) = self.ledger_nonce.get(signer).copied() else { continue };
            let Some((&highest, hash)) = nonces.iter().next_back() else { continue };
            let mut pending_after = nonces.range(ledger.saturating_add(1)..).count() as u64;
            if incoming.0 == signer && incoming.1 > ledger && incoming.1 < highest {
                pending_after += 1;
            }
            // Nonces ledger+1 ..= highest are all pending exactly when there are that many.
            let gap = highest.saturating_sub(ledger).saturating_sub(pending_after);
            if gap > 0 && best.as_ref().is_none_or(|(g, _)| gap > *g) {
                best = Some((gap, Evicted { hash: *hash, signer: *signer, nonce: highest, ledger_nonce: ledger }));
            }
        }
        best.map(|(_, victim)| victim)
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

    /// Add an admitted transaction whose signer's last nonce on the ledger is `ledger_nonce`. A
    /// full pool makes room for it, if it extends its signer's includable run, by evicting
    /// transactions that cannot be included (see the module docs); they are returned.
    pub fn insert_ready(&mut self, tx: SignedTx, ledger_nonce: u64) -> Result<(TxHash, Vec<Evicted>), MempoolError> {
        let signer = tx.body.signer;
        let size = tx.encoded_len();
        let mut evicted = Vec::new();
        if self.is_full_for(size) && self.is_ready(&signer, tx.body.nonce, ledger_nonce) {
            while self.is_full_for(size) {
                let Some(victim) = self.stuck_victim((&signer, tx.body.nonce)) else { break };
                self.remove(&victim.hash);
                evicted.push(victim);
            }
        }
        let hash = self.insert(tx)?;
        // A block may have persisted since the admission read: keep the later nonce.
        let seen = self.ledger_nonce.entry(signer).or_insert(ledger_nonce);
        *seen = (*seen).max(ledger_nonce);
        Ok((hash, evicted))
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
        if self.is_full_for(size) {
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
                    self.ledger_nonce.remove(&signer);
                }
            }
        }
    }

    /// Pick transactions for a block: per signer, the unbroken run of nonces after
    /// `last_nonce(signer)`; signers in arrival order of their first ready transaction.
    pub fn select(&self, txs_max: usize, bytes_max: usize, last_nonce: impl Fn(&PublicKey) -> u64) -> Vec<SignedTx> {
        let mut runs: Vec<(u64, Vec<&Entry>)> = Vec::new();
        for (signer, nonces) in &self.by_signer {
            // The signer's next nonces without a gap, from the one after its last on the ledger.
            let next = last_nonce(signer).saturating_add(1);
            let run: Vec<&Entry> = nonces
                .range(next..)
                .zip(next..)
                .take_while(|((nonce, _), expected)| **nonce == *expected)
                .map_while(|((_, hash), _)| self.by_hash.get(hash))
                .collect();
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
            // Nothing of this signer's is pending here: nothing to drop, and no nonce to read.
            if !self.by_signer.contains_key(&signer) && !self.ledger_nonce.contains_key(&signer) {
                continue;
            }
            let last = last_nonce(&signer);
            if let Some(seen) = self.ledger_nonce.get_mut(&signer) {
                *seen = (*seen).max(last);
            }
            let used: Vec<TxHash> = match self.by_signer.get(&signer) {
                Some(nonces) => nonces.range(..=last).map(|(_, h)| *h).collect(),
                None => continue,
            };
            for hash in used {
                self.remove(&hash);
            }
        }
    }

    /// The keys that have pending transactions.
    pub fn signers(&self) -> Vec<PublicKey> {
        self.by_signer.keys().copied().collect()
    }

    /// Drop every pending transaction of `signer` (its key was rotated out, or its member
    /// suspended or removed): their hashes.
    pub fn remove_signer(&mut self, signer: &PublicKey) -> Vec<TxHash> {
        let hashes: Vec<TxHash> = self.by_signer.get(signer).map(|n| n.values().copied().collect()).unwrap_or_default();
        for hash in &hashes {
            self.remove(hash);
        }
        hashes
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
