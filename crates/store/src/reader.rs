//! The Merkle tree's reads: nodes (those of the versions since the tree was last written from
//! memory, see `window`), and a key's value at a version (the newest by point lookup, older ones
//! from the history).

use std::sync::atomic::Ordering;

use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use rocksdb::{Direction, IteratorMode};

use crate::{values, Store, CF_JMT_NODES, CF_JMT_VALUES, CF_STATE_LATEST, WRITING};

impl TreeReader for Store {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let window = self.window.read().map_err(crate::poisoned)?;
        if let Some(node) = window.get(node_key) {
            return Ok(Some(node));
        }
        drop(window);
        match self.db.get_cf(self.cf(CF_JMT_NODES), self.node_keys.encode(node_key))? {
            None => Ok(None),
            Some(bytes) => Ok(Some(crate::nodes::decode(&bytes)?)),
        }
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        // The newest value, by point lookup: a batch moves a superseded value to the history in
        // the same write that replaces it, so whatever this read sees, the history holds the rest.
        let seen = self.state_latest_version.load(Ordering::SeqCst);
        let latest = self.db.get_cf(self.cf(CF_STATE_LATEST), key_hash.0)?;
        match latest.as_deref().map(values::decode_latest).transpose().map_err(anyhow::Error::msg)? {
            // Never written: absent at every version.
            None => return Ok(None),
            Some(values::Latest::At { version, value }) if version <= max_version => return Ok(value),
            Some(values::Latest::At { .. }) => {}
            // An entry from before versions were kept beside it: the newest if no write
            // overlapped the read (a sequence lock), else the history has it.
            Some(values::Latest::Unversioned(value)) => {
                if seen != WRITING && max_version >= seen && self.state_latest_version.load(Ordering::SeqCst) == seen {
                    return Ok(value);
                }
            }
        }
        let seek = values::history_key(key_hash, max_version);
        let mut iter = self.scan(CF_JMT_VALUES, IteratorMode::From(&seek, Direction::Reverse));
        match iter.next() {
            None => Ok(None),
            Some(item) => {
                let (key, value) = item?;
                if key.len() != 40 || key[..32] != key_hash.0 {
                    return Ok(None);
                }
                values::decode_history(&value).map_err(anyhow::Error::msg)
            }
        }
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used by JMT state restoration, which Huxin does not do (Malachite has no state sync).
        anyhow::bail!("state restoration is not supported")
    }
}
