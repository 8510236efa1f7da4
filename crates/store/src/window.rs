//! The Merkle nodes of the blocks since the tree was last written, held in memory.
//!
//! Every block rewrites the upper levels of the tree, so most of a block's new nodes are stale a
//! few blocks later. Written block by block, each of them is encoded, logged, flushed, compacted,
//! listed as stale and deleted again. Instead the store keeps a block's new nodes here (the tree
//! batch its execution made, shared, not copied: a node is found in the batch of the version its
//! key holds), where every tree read sees them, and writes the tree once every
//! `tree_write_blocks` blocks, or sooner once the window holds [`TREE_WINDOW_BYTES_MAX`]. Such a
//! write holds only the nodes live at that version or at its parent, so proofs at the latest
//! block and its parent work right after it.
//! Nodes born and gone stale within one window never reach the disk.
//!
//! Values, blocks and receipts are still written with every block, in its one atomic batch. So
//! after a crash, opening the store re-executes the blocks written since the tree's last write (a
//! window at most) and rebuilds the window. Execution is deterministic, so the nodes are the same
//! (`Store::open` checks each root against its block's header).
//!
//! The window before the last write stays readable until the next write. A proof begun at a
//! version of it still finds its nodes.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use jmt::storage::{Node, NodeKey, StaleNodeIndex, TreeUpdateBatch};
use jmt::Version;

/// Blocks whose Merkle nodes are written together, unless a node's config says otherwise
/// (`[storage] tree_write_blocks`; 1 writes every block's nodes with it).
pub const TREE_WRITE_BLOCKS_DEFAULT: u64 = 16;

/// Most bytes of tree batches (as held in memory, estimated by [`batch_bytes`]) one window holds
/// before the tree is written, whatever `tree_write_blocks` says: a block whose batch would take
/// the window past it writes the tree. With the window before it, a store holds at most twice
/// this plus one block's batch.
pub const TREE_WINDOW_BYTES_MAX: usize = 96 * 1024 * 1024;

/// Bytes a node takes in memory, about: an internal node's sixteen child slots are one
/// allocation whatever its number of children.
fn node_bytes(node: &Node) -> usize {
    const KEY: usize = 64;
    KEY + match node {
        Node::Internal(_) => 16 * 64 + 32,
        Node::Leaf(_) => 96,
        Node::Null => 16,
    }
}

/// Bytes a version's tree batch takes in memory, about: its nodes, the values it wrote and its
/// list of stale nodes.
pub(crate) fn batch_bytes(batch: &TreeUpdateBatch) -> usize {
    const VALUE_KEY: usize = 48;
    const STALE: usize = 80;
    let nodes: usize = batch.node_batch.nodes().values().map(node_bytes).sum();
    let values: usize = batch.node_batch.values().values().map(|v| VALUE_KEY + v.as_ref().map_or(0, Vec::len)).sum();
    nodes + values + STALE * batch.stale_node_index_batch.len()
}

/// The tree batches of the versions a window holds, each with its [`batch_bytes`]. A node's key
/// holds the version that made it, so a node is found in its version's batch, and a batch joins
/// the window without a copy.
type Batches = BTreeMap<Version, (Arc<TreeUpdateBatch>, usize)>;

pub(crate) struct Window {
    /// The tree batches of the versions after `written`.
    batches: Batches,
    /// Nodes of `batches` that a later version of the window replaced: they are never written.
    stale: HashSet<NodeKey>,
    /// The window before the last write (every batch it held), read until the next write.
    previous: Batches,
    /// The last version whose tree is on disk.
    written: Version,
    bytes: usize,
}

impl Window {
    /// An empty window after version `written`, whose tree is on disk.
    pub(crate) fn new(written: Version) -> Self {
        Window { batches: Batches::new(), stale: HashSet::new(), previous: Batches::new(), written, bytes: 0 }
    }

    /// The last version whose tree is on disk.
    pub(crate) fn written(&self) -> Version {
        self.written
    }

    /// Bytes the window holds ([`batch_bytes`]), not counting the previous window.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn get(&self, key: &NodeKey) -> Option<Node> {
        let version = key.version();
        let batch = self.batches.get(&version).or_else(|| self.previous.get(&version))?;
        batch.0.node_batch.get_node(key).cloned()
    }

    /// Take in version `version`'s tree batch, of `bytes` ([`batch_bytes`]). Its new nodes join
    /// the window. Of the nodes it
    /// makes stale, those of the window are marked and never written. The exception is a version
    /// that `writes` the tree: what it replaces is live at its parent, so it is written and
    /// listed. Returns the stale nodes to list for pruning: those on disk, or every one when
    /// `writes`.
    pub(crate) fn add<'b>(
        &mut self,
        version: Version,
        batch: &'b Arc<TreeUpdateBatch>,
        bytes: usize,
        writes: bool,
    ) -> Vec<&'b StaleNodeIndex> {
        // A version taken in again replaces its batch, counted once.
        if let Some((_, replaced)) = self.batches.insert(version, (Arc::clone(batch), bytes)) {
            self.bytes -= replaced;
        }
        self.bytes += bytes;
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
    pub(crate) fn undo(&mut self, version: Version, batch: &TreeUpdateBatch) {
        if let Some((_, removed)) = self.batches.remove(&version) {
            self.bytes -= removed;
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
        let nodes = self.batches.values().flat_map(|(batch, _)| batch.node_batch.nodes());
        nodes.filter(|(key, _)| !self.stale.contains(*key))
    }

    /// The tree is on disk through `version`: the window becomes the previous one.
    pub(crate) fn written_through(&mut self, version: Version) {
        self.previous = std::mem::take(&mut self.batches);
        self.stale.clear();
        self.bytes = 0;
        self.written = version;
    }
}
