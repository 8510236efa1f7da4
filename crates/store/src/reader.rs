//! The Merkle tree's reads: nodes, and a key's value at a version (the newest by point lookup,
//! older ones from the history).

use std::sync::atomic::Ordering;

use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use rocksdb::{Direction, IteratorMode};

use huxin_state::StateReader;
use huxin_types::crypto::Suite;

use crate::{values, Store, CF_JMT_NODES, CF_JMT_VALUES, CF_STATE_LATEST, WRITING};

fn decode_node(bytes: Option<impl AsRef<[u8]>>) -> anyhow::Result<Option<Node>> {
    Ok(bytes.map(|b| borsh::from_slice(b.as_ref())).transpose()?)
}

/// Reads through the state write in flight (see `applying`): what a node executes and answers from.
impl TreeReader for Store {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        decode_node(self.get(CF_JMT_NODES, &borsh::to_vec(node_key)?)?)
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        // The newest value, by point lookup: a batch moves a superseded value to the history in
        // the same write that replaces it, so whatever this read sees, the history holds the rest.
        let seen = self.state_latest_version.load(Ordering::SeqCst);
        let overlay = self.applying.overlay();
        let latest = match overlay.as_ref().and_then(|o| o.get(CF_STATE_LATEST, &key_hash.0)) {
            Some(entry) => entry.map(<[u8]>::to_vec),
            None => self.db.get_cf(self.cf(CF_STATE_LATEST), key_hash.0)?,
        };
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
        // The newest history entry at or below `max_version`, on disk or in the write in flight
        // (which holds at most the one it moves there, newer than any on disk).
        let seek = values::history_key(key_hash, max_version);
        let first = values::history_key(key_hash, 0);
        let mut iter = self.db.iterator_cf(self.cf(CF_JMT_VALUES), IteratorMode::From(&seek, Direction::Reverse));
        let on_disk = match iter.next().transpose()? {
            Some((key, value)) if key.len() == 40 && key[..32] == key_hash.0 => {
                Some((key.to_vec(), Some(value.to_vec())))
            }
            _ => None,
        };
        let in_flight = overlay
            .as_ref()
            .and_then(|o| o.last_in(CF_JMT_VALUES, first.as_slice()..=seek.as_slice()))
            .map(|(key, value)| (key.to_vec(), value.map(<[u8]>::to_vec)));
        match on_disk.into_iter().chain(in_flight).max_by(|a, b| a.0.cmp(&b.0)) {
            Some((_, Some(value))) => values::decode_history(&value).map_err(anyhow::Error::msg),
            _ => Ok(None),
        }
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used by JMT state restoration, which Huxin does not do (Malachite has no state sync).
        anyhow::bail!("state restoration is not supported")
    }
}

/// The store's Merkle tree as written on disk, without the write in flight: what a write reads
/// back to check it landed whole.
pub(crate) struct OnDisk<'a>(pub(crate) &'a Store);

impl StateReader for OnDisk<'_> {
    fn suite(&self) -> Suite {
        self.0.suite()
    }
}

impl TreeReader for OnDisk<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        decode_node(self.0.db.get_cf(self.0.cf(CF_JMT_NODES), borsh::to_vec(node_key)?)?)
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        self.0.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.0.get_rightmost_leaf()
    }
}
