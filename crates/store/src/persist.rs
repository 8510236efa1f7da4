//! Writing decided blocks: each block's entries in one batch, the Merkle tree's nodes and
//! values, pruning of the nodes no kept version needs, and the checks that a written block
//! reads back whole.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rocksdb::{Direction, IteratorMode, WriteOptions};

use huxin_state::{Executed, StateReader};
use huxin_types::{codec, Block, Hash32, Height};

use crate::applying::Batch;
use crate::*;

impl Store {
    pub(crate) fn put_tree_batch(&self, batch: &mut Batch, executed: &Executed) -> Result<(), StoreError> {
        for stale in &executed.tree_batch.stale_node_index_batch {
            let node = borsh::to_vec(&stale.node_key).expect("borsh encodes a node key in memory");
            let key = [&stale.stale_since_version.to_be_bytes()[..], &node].concat();
            batch.put(self, CF_JMT_STALE, key, []);
        }
        let node_batch = &executed.tree_batch.node_batch;
        for (key, node) in node_batch.nodes() {
            let k = borsh::to_vec(key).expect("borsh encodes a node key in memory");
            let v = borsh::to_vec(node).expect("borsh encodes a node in memory");
            batch.put(self, CF_JMT_NODES, k, v);
        }
        // Each written key's newest value replaces the one before, which moves to the history
        // (see `values`): one multi-get of the keys' current entries.
        let written: Vec<_> = node_batch.values().iter().collect();
        let current =
            self.db.multi_get_cf(written.iter().map(|((_, key_hash), _)| (self.cf(CF_STATE_LATEST), key_hash.0)));
        for (((version, key_hash), value), current) in written.into_iter().zip(current) {
            if let Some(bytes) = current? {
                match values::decode_latest(&bytes).map_err(StoreError::Corrupt)? {
                    values::Latest::At { version: before, value: old } if before < *version => {
                        let history = values::encode_history(old.as_deref());
                        batch.put(self, CF_JMT_VALUES, values::history_key(*key_hash, before), history);
                    }
                    values::Latest::At { version: before, .. } => {
                        return Err(StoreError::Corrupt(format!(
                            "state key {key_hash:?} holds version {before}, not older than the {version} being written"
                        )));
                    }
                    // Written with its history copy already.
                    values::Latest::Unversioned(_) => {}
                }
            }
            batch.put(self, CF_STATE_LATEST, key_hash.0, values::encode_latest(*version, value.as_deref()));
        }
        Ok(())
    }

    /// Delete, in `batch`, the Merkle nodes no kept version needs once `height` is written: those
    /// stale since a version at most `height - state_versions_kept` (they belong to older trees
    /// only), up to [`PRUNED_NODES_PER_BLOCK_MAX`] (the rest go with the next blocks). The version to scan from next time, to be
    /// recorded once the batch is written.
    fn prune_stale_nodes(&self, batch: &mut Batch, height: Height) -> Result<Option<u64>, StoreError> {
        if self.state_versions_kept == 0 || height.0 <= self.state_versions_kept {
            return Ok(None);
        }
        let cutoff = height.0 - self.state_versions_kept;
        let start = self.pruned_below.load(Ordering::SeqCst).to_be_bytes();
        let mut next = None;
        let stale = self.db.iterator_cf(self.cf(CF_JMT_STALE), IteratorMode::From(&start, Direction::Forward));
        for (deleted, item) in stale.enumerate() {
            let (key, _) = item?;
            let since = key
                .get(..8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::Corrupt("a stale-node entry is shorter than its version".into()))?;
            if since > cutoff || deleted == self.pruned_per_block_max {
                break;
            }
            batch.delete(self, CF_JMT_NODES, &key[8..]);
            batch.delete(self, CF_JMT_STALE, &key);
            next = Some(since);
        }
        Ok(next)
    }

    /// The state root the Merkle tree holds at `version` is `expected`: a written block reads back
    /// as it was executed.
    pub(crate) fn check_root(&self, version: u64, expected: Hash32) -> Result<(), StoreError> {
        Self::check_root_of(self, version, expected)
    }

    /// [`Store::check_root`] on what is on disk, past the write in flight.
    fn check_root_on_disk(&self, version: u64, expected: Hash32) -> Result<(), StoreError> {
        Self::check_root_of(&crate::reader::OnDisk(self), version, expected)
    }

    fn check_root_of(reader: &impl StateReader, version: u64, expected: Hash32) -> Result<(), StoreError> {
        let root = huxin_state::root_hash(reader, version)
            .map_err(|e| StoreError::Corrupt(format!("state root at version {version} cannot be read back: {e}")))?;
        if root != expected {
            return Err(StoreError::Corrupt(format!(
                "state root read back at version {version} is {root}, not the executed {expected}"
            )));
        }
        Ok(())
    }

    /// Check that the store holds whole blocks up to its latest height and nothing half
    /// written: that height's block, its hash index, certificate and receipts are all there, and
    /// the state tree's root at it is the block's state root. The latest height (`None` before
    /// genesis), or what is missing. What the fault suite runs on a store after `kill -9`.
    pub fn check_committed(&self) -> Result<Option<Height>, StoreError> {
        let Some(height) = self.read_latest_height()? else { return Ok(None) };
        if height.0 == 0 {
            self.genesis_hash()?.ok_or_else(|| StoreError::Corrupt("height 0 without a genesis hash".into()))?;
            huxin_state::root_hash(self, 0)
                .map_err(|e| StoreError::Corrupt(format!("the genesis state root cannot be read: {e}")))?;
            return Ok(Some(height));
        }
        let block = self.block(height)?.ok_or_else(|| StoreError::Corrupt(format!("block {height} is missing")))?;
        if block.header.height != height {
            return Err(StoreError::Corrupt(format!("block {height} says it is block {}", block.header.height)));
        }
        if self.height_of(&block.hash())? != Some(height) {
            return Err(StoreError::Corrupt(format!("block {height}'s hash is not indexed")));
        }
        self.certificate(height)?.ok_or_else(|| StoreError::Corrupt(format!("block {height} has no certificate")))?;
        let receipts =
            self.receipts(height)?.ok_or_else(|| StoreError::Corrupt(format!("block {height} has no receipts")))?;
        if receipts.len() != block.txs.len() {
            return Err(StoreError::Corrupt(format!(
                "block {height} has {} transactions and {} receipts",
                block.txs.len(),
                receipts.len()
            )));
        }
        self.check_root(height.0, block.header.state_root)?;
        Ok(Some(height))
    }

    /// Persist a decided block with its certificate and execution output, in one write: what
    /// import, benches and tests use. A node uses [`Store::record_decided`] and
    /// [`Store::apply_decided`], which overlap the state write with the next height.
    pub fn persist_block(&self, block: &Block, certificate: &[u8], executed: &Executed) -> Result<(), StoreError> {
        self.wait_applied()?;
        let height = block.header.height;
        self.check_next(height)?;
        let mut batch = Batch::plain();
        self.decided_entries(&mut batch, block, certificate)?;
        let pruned_below = self.state_entries(&mut batch, block, executed)?;
        self.write_version(batch.inner, height)?;
        if let Some(version) = pruned_below {
            self.pruned_below.store(version, Ordering::SeqCst);
        }
        self.check_root(height.0, block.header.state_root)
    }

    /// Make a decided block durable before its state: the block, its hash index and its
    /// certificate, in one synced write (the undecided proposals at its height go with it). Once
    /// this returns the node may go on to the next height: if it stops before
    /// [`Store::apply_decided`]'s write lands, the block is executed again when it starts
    /// ([`Store::decided_ahead`]). Waits for the previous block's state write first, so the store
    /// is never more than one block ahead of its state.
    pub fn record_decided(&self, block: &Block, certificate: &[u8]) -> Result<(), StoreError> {
        self.wait_applied()?;
        let height = block.header.height;
        self.check_next(height)?;
        let mut batch = Batch::plain();
        self.decided_entries(&mut batch, block, certificate)?;
        let mut options = WriteOptions::default();
        options.set_sync(self.sync_writes);
        self.db.write_opt(batch.inner, &options)?;
        Ok(())
    }

    /// Apply a recorded decided block's execution output (its state, receipts and indexes) and
    /// make its height the latest, with the write itself on a thread of its own. From the moment
    /// this returns, reads see the new height: point reads through the write's entries until it
    /// lands, scans once it has ([`Store::wait_applied`]). A write that fails (or reads back a
    /// different state root) fails every later write and wait: the node must stop.
    pub fn apply_decided(self: &Arc<Self>, block: &Block, executed: &Executed) -> Result<(), StoreError> {
        self.wait_applied()?;
        let height = block.header.height;
        self.check_next(height)?;
        if self.height_of(&block.hash())? != Some(height) {
            return Err(StoreError::NotRecorded(height));
        }
        let mut batch = Batch::keeping();
        let pruned_below = self.state_entries(&mut batch, block, executed)?;
        let (batch, overlay) = batch.into_parts();
        self.applying.begin(Arc::new(overlay.unwrap_or_default()));
        // Readers see the new height only once its entries are in the overlay (the seqlock of
        // `state_latest_version`, as in `write_version`).
        self.state_latest_version.store(WRITING, Ordering::SeqCst);
        self.latest.store(height.0, Ordering::SeqCst);
        self.state_latest_version.store(height.0, Ordering::SeqCst);
        let store = Arc::clone(self);
        let root = block.header.state_root;
        let spawned = std::thread::Builder::new().name("store-apply".into()).spawn(move || {
            store.applying.hold_point();
            let result = store.write(batch).and_then(|()| store.check_root_on_disk(height.0, root));
            if let (Ok(()), Some(version)) = (&result, pruned_below) {
                store.pruned_below.store(version, Ordering::SeqCst);
            }
            store.applying.finish(result.map_err(|e| format!("applying block {height}: {e}")));
        });
        if let Err(e) = spawned {
            self.applying.finish(Err(format!("applying block {height}: no thread to write it: {e}")));
            return Err(StoreError::ApplyFailed(format!("applying block {height}: no thread to write it: {e}")));
        }
        Ok(())
    }

    /// Wait until the state write in flight (if any) has landed; the failure of any so far.
    pub fn wait_applied(&self) -> Result<(), StoreError> {
        self.applying.wait().map_err(StoreError::ApplyFailed)
    }

    /// A block recorded as decided whose state was never applied (the node stopped between
    /// [`Store::record_decided`] and the write of [`Store::apply_decided`]): the node executes
    /// and applies it before it goes on.
    pub fn decided_ahead(&self) -> Result<Option<Block>, StoreError> {
        self.wait_applied()?;
        let Some(latest) = self.latest_height()? else { return Ok(None) };
        self.block(Height(latest.0 + 1))
    }

    /// `height` is the next to write: one above the latest.
    fn check_next(&self, height: Height) -> Result<(), StoreError> {
        let expected = Height(self.latest_height()?.map(|h| h.0 + 1).unwrap_or(0));
        if height != expected {
            return Err(StoreError::OutOfOrder { expected, got: height });
        }
        Ok(())
    }

    /// The entries that make a block decided: the block, its hash index, its certificate; and the
    /// deletion of the undecided proposals at its height.
    fn decided_entries(&self, batch: &mut Batch, block: &Block, certificate: &[u8]) -> Result<(), StoreError> {
        let height = block.header.height;
        batch.put(self, CF_BLOCKS, height_key(height), block.encode());
        batch.put(self, CF_BLOCK_HASHES, block.hash().0, height_key(height));
        batch.put(self, CF_CERTIFICATES, height_key(height), certificate);
        // Point deletes, not a range deletion: a range tombstone per block piles up in the
        // memtable, and every later read of proposals has to fragment them all. Lower heights
        // were pruned when they were decided, so the scan starts at this one.
        let end = height_key(Height(height.0 + 1));
        let start = height_key(height);
        let from = IteratorMode::From(&start, Direction::Forward);
        for item in self.db.iterator_cf(self.cf(CF_PROPOSALS), from) {
            let (key, _) = item?;
            if key.as_ref() >= end.as_slice() {
                break;
            }
            batch.delete(self, CF_PROPOSALS, key);
        }
        Ok(())
    }

    /// The entries of a block's execution: receipts, transaction locations, the Merkle tree's
    /// nodes and values (and the pruning of nodes no kept version needs), indexes, statistics,
    /// and the new latest height. The version to scan stale nodes from next, once written.
    fn state_entries(&self, batch: &mut Batch, block: &Block, executed: &Executed) -> Result<Option<u64>, StoreError> {
        let height = block.header.height;
        batch.put(self, CF_RECEIPTS, height_key(height), codec::encode(&executed.receipts));
        for (index, tx) in block.txs.iter().enumerate() {
            let location = TxLocation { height, index: index as u32 };
            batch.put(self, CF_TX_INDEX, tx.hash().0, codec::encode(&location));
        }
        self.put_tree_batch(batch, executed)?;
        let pruned_below = self.prune_stale_nodes(batch, height)?;
        let entries = huxin_state::index::entries_proven(self, block, executed)
            .map_err(|e| StoreError::Corrupt(format!("proving block {height}'s validator change: {e}")))?;
        for (key, value) in entries {
            batch.put(self, CF_INDEX, key, value);
        }
        // Counters: this node is their only writer and blocks persist in order.
        for (key, delta) in huxin_state::stats::increments(block, &executed.receipts, &executed.writes) {
            let current = match self.get(CF_INDEX, &key)? {
                Some(v) => u64::from_be_bytes(
                    v.as_slice()
                        .try_into()
                        .map_err(|_| StoreError::Corrupt("a statistics counter is not 8 bytes".into()))?,
                ),
                None => 0,
            };
            batch.put(self, CF_INDEX, key, current.saturating_add(delta).to_be_bytes());
        }
        batch.put(self, CF_META, META_LATEST, height_key(height));
        Ok(pruned_below)
    }
}
