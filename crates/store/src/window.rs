//! The Merkle nodes of the blocks since the tree was last written, held in memory.
//!
//! Every block rewrites the upper levels of the tree, so most of a block's new nodes are stale a
//! few blocks later. Written block by block, each of them is encoded, logged, flushed, compacted,
//! listed as stale and deleted again. Instead the store keeps a block's new nodes here, where every
//! tree read sees them, and writes the tree once every `tree_write_blocks` blocks, or sooner once
//! the window holds [`TREE_WINDOW_BYTES_MAX`]. Such a write holds only the nodes live at that
//! version or at its parent, so proofs at the latest block and its parent work right after it.
//! Nodes born and gone stale within one window never reach the disk.
//!
//! Values, blocks and receipts are still written with every block, in its one atomic batch. So
//! after a crash, opening the store re-executes the blocks written since the tree's last write (a
//! window at most) and rebuilds the window. Execution is deterministic, so the nodes are the same
//! (`Store::open` checks each root against its block's header).
//!
//! The window before the last write stays readable until the next write. A proof begun at a
//! version of it still finds its nodes.

use std::collections::{HashMap, HashSet};

use jmt::storage::{Node, NodeKey, StaleNodeIndex, TreeUpdateBatch};
use jmt::Version;

/// Blocks whose Merkle nodes are written together, unless a node's config says otherwise
/// (`[storage] tree_write_blocks`; 1 writes every block's nodes with it).
pub const TREE_WRITE_BLOCKS_DEFAULT: u64 = 16;

/// Most bytes of Merkle nodes (as held in memory, estimated by [`node_bytes`]) one window holds
/// before the tree is written, whatever `tree_write_blocks` says: a block whose nodes would take
/// the window past it writes the tree. With the window before it, a store holds at most twice
/// this plus one block's nodes.
pub const TREE_WINDOW_BYTES_MAX: usize = 96 * 1024 * 1024;

/// Bytes a node takes in memory here, about: an internal node's sixteen child slots are one
/// allocation whatever its number of children.
pub(crate) fn node_bytes(node: &Node) -> usize {
    const KEY: usize = 64;
    KEY + match node {
        Node::Internal(_) => 16 * 64 + 32,
        Node::Leaf(_) => 96,
        Node::Null => 16,
    }
}

pub(crate) struct Window {
    /// Nodes of the versions after `written`.
    nodes: HashMap<NodeKey, Node>,
    /// Nodes of `nodes` that a later version of the window replaced: they are never written.
    stale: HashSet<NodeKey>,
    /// The window before the last write (every node it held), read until the next write.
    previous: HashMap<NodeKey, Node>,
    /// The last version whose tree is on disk.
    written: Version,
    bytes: usize,
}

impl Window {
    /// An empty window after version `written`, whose tree is on disk.
    pub(crate) fn new(written: Version) -> Self {
        Window { nodes: HashMap::new(), stale: HashSet::new(), previous: HashMap::new(), written, bytes: 0 }
    }

    /// The last version whose tree is on disk.
    pub(crate) fn written(&self) -> Version {
        self.written
    }

    /// Bytes the window holds ([`node_bytes`]), not counting the previous window.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn get(&self, key: &NodeKey) -> Option<Node> {
        self.nodes.get(key).or_else(|| self.previous.get(key)).cloned()
    }

    /// Take in a version's tree batch. Its new nodes join the window. Of the nodes it makes
    /// stale, those of the window are marked and never written. The exception is a version that
    /// `writes` the tree: what it replaces is live at its parent, so it is written and listed.
    /// Returns the stale nodes to list for pruning: those on disk, or every one when `writes`.
    pub(crate) fn add<'b>(&mut self, batch: &'b TreeUpdateBatch, writes: bool) -> Vec<&'b StaleNodeIndex> {
        for (key, node) in batch.node_batch.nodes() {
            // A version's nodes are all new (their keys hold the version).
            if self.nodes.insert(key.clone(), node.clone()).is_none() {
                self.bytes += node_bytes(node);
            }
        }
        let mut listed = Vec::new();
        for stale in &batch.stale_node_index_batch {
            if self.holds(&stale.node_key) && !writes {
                self.stale.insert(stale.node_key.clone());
            } else {
                listed.push(stale);
            }
        }
        listed
    }

    /// Take back what [`Window::add`] did with `batch`, a version's whose write failed: its
    /// nodes leave, and the nodes it marked stale are live again (a node goes stale once).
    pub(crate) fn undo(&mut self, batch: &TreeUpdateBatch) {
        for key in batch.node_batch.nodes().keys() {
            if let Some(node) = self.nodes.remove(key) {
                self.bytes -= node_bytes(&node);
            }
        }
        for stale in &batch.stale_node_index_batch {
            self.stale.remove(&stale.node_key);
        }
    }

    /// Whether `key` is a node of a version after the last write (one the window holds).
    fn holds(&self, key: &NodeKey) -> bool {
        key.version() > self.written
    }

    /// The nodes a write of the tree puts on disk: every node of the window not replaced before
    /// the version being written.
    pub(crate) fn live(&self) -> impl Iterator<Item = (&NodeKey, &Node)> {
        self.nodes.iter().filter(|(key, _)| !self.stale.contains(*key))
    }

    /// The tree is on disk through `version`: the window becomes the previous one.
    pub(crate) fn written_through(&mut self, version: Version) {
        self.previous = std::mem::take(&mut self.nodes);
        self.stale.clear();
        self.bytes = 0;
        self.written = version;
    }
}
