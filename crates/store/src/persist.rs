//! Writing decided blocks: each block's entries in one batch, the Merkle tree's nodes and
//! values, pruning of the nodes no kept version needs, and the checks that a written block
//! reads back whole.

use std::sync::atomic::Ordering;

use rocksdb::{Direction, IteratorMode, WriteBatch};

use huxin_state::Executed;
use huxin_types::{codec, Block, Hash32, Height};

use crate::*;

impl Store {
    /// Put, in `batch`, the lists of stale nodes for pruning: one list per version of the nodes
    /// stale since it (a block's are all stale since its own version), not an entry per node, so
    /// pruning costs a delete per node only.
    fn put_stale_lists<'s>(
        &self,
        batch: &mut WriteBatch,
        stale: impl IntoIterator<Item = &'s jmt::storage::StaleNodeIndex>,
    ) {
        let mut stale_since: std::collections::BTreeMap<u64, Vec<&jmt::storage::NodeKey>> = Default::default();
        for stale in stale {
            stale_since.entry(stale.stale_since_version).or_default().push(&stale.node_key);
        }
        for (since, nodes) in stale_since {
            let list = borsh::to_vec(&nodes).expect("borsh encodes node keys in memory");
            batch.put_cf(self.cf(CF_JMT_STALE), since.to_be_bytes(), list);
        }
    }

    fn put_nodes<'n>(
        &self,
        batch: &mut WriteBatch,
        nodes: impl Iterator<Item = (&'n jmt::storage::NodeKey, &'n jmt::storage::Node)>,
    ) {
        for (key, node) in nodes {
            batch.put_cf(self.cf(CF_JMT_NODES), self.node_keys.encode(key), crate::nodes::encode(node));
        }
    }

    /// Put, in `batch`, a whole tree batch: the nodes, their stale lists and the values (genesis).
    pub(crate) fn put_tree_batch(&self, batch: &mut WriteBatch, executed: &Executed) -> Result<(), StoreError> {
        self.put_stale_lists(batch, &executed.tree_batch.stale_node_index_batch);
        self.put_nodes(batch, executed.tree_batch.node_batch.nodes().iter());
        self.put_values(batch, executed)
    }

    /// Put, in `batch`, the state values a block wrote.
    fn put_values(&self, batch: &mut WriteBatch, executed: &Executed) -> Result<(), StoreError> {
        let node_batch = &executed.tree_batch.node_batch;
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
                        batch.put_cf(self.cf(CF_JMT_VALUES), values::history_key(*key_hash, before), history);
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
            batch.put_cf(self.cf(CF_STATE_LATEST), key_hash.0, values::encode_latest(*version, value.as_deref()));
        }
        Ok(())
    }

    /// Delete, in `batch`, the Merkle nodes no kept version needs once `height` is written: those
    /// stale since a version at most `height - state_versions_kept` (they belong to older trees
    /// only), whole versions at a time up to [`PRUNED_NODES_PER_BLOCK_MAX`] nodes (the rest go
    /// with the next blocks; a version's list bigger than that goes alone). The version to scan
    /// from next time, to be recorded once the batch is written.
    ///
    /// An entry of `jmt_stale` is a version's list of stale nodes (key: the version, 8 bytes), or
    /// one node (key: the version ‖ the node's key) as releases before the lists wrote them.
    fn prune_stale_nodes(&self, batch: &mut WriteBatch, height: Height) -> Result<Option<u64>, StoreError> {
        if self.state_versions_kept == 0 || height.0 <= self.state_versions_kept {
            return Ok(None);
        }
        let cutoff = height.0 - self.state_versions_kept;
        let start = self.pruned_below.load(Ordering::SeqCst).to_be_bytes();
        let mut next = None;
        let mut deleted = 0usize;
        let stale = self.scan(CF_JMT_STALE, IteratorMode::From(&start, Direction::Forward));
        for item in stale {
            let (key, value) = item?;
            let (since, node) = key
                .split_first_chunk::<8>()
                .ok_or_else(|| StoreError::Corrupt("a stale-node entry is shorter than its version".into()))?;
            let since = u64::from_be_bytes(*since);
            if since > cutoff {
                break;
            }
            if node.is_empty() {
                let nodes: Vec<jmt::storage::NodeKey> = borsh::from_slice(&value).map_err(|e| {
                    StoreError::Corrupt(format!("the stale-node list of version {since} does not decode: {e}"))
                })?;
                if deleted > 0 && deleted + nodes.len() > self.pruned_per_block_max {
                    break;
                }
                for node in &nodes {
                    batch.delete_cf(self.cf(CF_JMT_NODES), self.node_keys.encode(node));
                }
                deleted += nodes.len();
            } else {
                if deleted >= self.pruned_per_block_max {
                    break;
                }
                batch.delete_cf(self.cf(CF_JMT_NODES), node);
                deleted += 1;
            }
            batch.delete_cf(self.cf(CF_JMT_STALE), &key);
            next = Some(since);
        }
        Ok(next)
    }

    /// The state root the Merkle tree holds at `version` is `expected`: a written block reads back
    /// as it was executed.
    pub(crate) fn check_root(&self, version: u64, expected: Hash32) -> Result<(), StoreError> {
        let root = huxin_state::root_hash(self, version)
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

    /// Whether persisting block `height`, whose tree batch takes `incoming` bytes
    /// ([`batch_bytes`]), writes the Merkle tree (see `window`): every `tree_write_blocks` blocks,
    /// once the window would pass [`TREE_WINDOW_BYTES_MAX`], and the first block after genesis
    /// (so that rebuilding a window never starts at genesis, which is not a stored block).
    fn writes_tree_at(&self, height: Height, incoming: usize) -> Result<bool, StoreError> {
        let window = self.window.read().map_err(poisoned)?;
        Ok(window.written() == 0
            || height.0.saturating_sub(window.written()) >= self.tree_write_blocks()
            || window.bytes() + incoming >= self.tree_window_bytes_max)
    }

    /// Persist a decided block with its certificate and execution output, atomically.
    pub fn persist_block(&self, block: &Block, certificate: &[u8], executed: &Executed) -> Result<(), StoreError> {
        let height = block.header.height;
        let expected = Height(self.latest_height()?.map(|h| h.0 + 1).unwrap_or(0));
        if height != expected {
            return Err(StoreError::OutOfOrder { expected, got: height });
        }
        let hash = block.hash();
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_BLOCKS), height_key(height), block.encode());
        batch.put_cf(self.cf(CF_BLOCK_HASHES), hash.0, height_key(height));
        batch.put_cf(self.cf(CF_CERTIFICATES), height_key(height), certificate);
        batch.put_cf(self.cf(CF_RECEIPTS), height_key(height), codec::encode(&executed.receipts));
        for (index, tx) in block.txs.iter().enumerate() {
            let location = TxLocation { height, index: index as u32 };
            batch.put_cf(self.cf(CF_TX_INDEX), tx.hash().0, codec::encode(&location));
        }
        self.put_values(&mut batch, executed)?;
        let pruned_below = self.prune_stale_nodes(&mut batch, height)?;
        let entries = huxin_state::index::entries_proven(self, block, executed)
            .map_err(|e| StoreError::Corrupt(format!("proving block {height}'s validator change: {e}")))?;
        for (key, value) in entries {
            batch.put_cf(self.cf(CF_INDEX), key, value);
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
            batch.put_cf(self.cf(CF_INDEX), key, current.saturating_add(delta).to_be_bytes());
        }
        // Undecided proposals at or below this height are no longer needed.
        // Point deletes, not a range deletion: a range tombstone per block piles up in the
        // memtable, and every later read of proposals has to fragment them all. Lower heights
        // were pruned when they persisted, so the scan starts at this one.
        let end = height_key(Height(height.0 + 1));
        let start = height_key(height);
        let from = IteratorMode::From(&start, Direction::Forward);
        for item in self.scan(CF_PROPOSALS, from) {
            let (key, _) = item?;
            if key.as_ref() >= end.as_slice() {
                break;
            }
            batch.delete_cf(self.cf(CF_PROPOSALS), key);
        }
        batch.put_cf(self.cf(CF_META), META_LATEST, height_key(height));
        // The window last, once nothing else can fail before the write.
        let bytes = batch_bytes(&executed.tree_batch);
        let writes_tree = self.writes_tree_at(height, bytes)?;
        let stale = self.window.write().map_err(poisoned)?.add(height.0, &executed.tree_batch, bytes, writes_tree);
        self.put_stale_lists(&mut batch, stale);
        if writes_tree {
            // Encoded under a read lock: readers go on meanwhile (this is the only writer).
            self.put_nodes(&mut batch, self.window.read().map_err(poisoned)?.live());
            batch.put_cf(self.cf(CF_META), META_TREE_WRITTEN, height_key(height));
        }
        if let Err(e) = self.write_version(batch, height) {
            self.window.write().map_err(poisoned)?.undo(height.0, &executed.tree_batch);
            return Err(e);
        }
        if writes_tree {
            self.window.write().map_err(poisoned)?.written_through(height.0);
        }
        if let Some(version) = pruned_below {
            self.pruned_below.store(version, Ordering::SeqCst);
        }
        self.check_root(height.0, block.header.state_root)
    }
}
