//! RocksDB storage for blocks, commit certificates, receipts, indexes, undecided proposals and the
//! Merkle state.
//!
//! Invariants:
//! - a decided block, its commit certificate, its state writes (JMT nodes and values), its
//!   receipts, its indexes and the new latest height are written in **one** `WriteBatch`, with
//!   the WAL synced: after a crash at any moment the store holds every persisted block whole and
//!   no part of any other;
//! - after writing, the state root is read back and must equal the header's (checked with
//!   `assert!`: a mismatch is a broken invariant);
//! - heights are stored big-endian so that key order is height order;
//! - the same write deletes the Merkle nodes that no kept version of the tree needs (the last
//!   `state_versions_kept`; values and validator-change proofs are kept for good), and moves a
//!   replaced state value to the versioned history (see `values`);
//! - a block's new Merkle nodes are held in memory and written with every
//!   `tree_write_blocks`-th block (see `window`); opening the store re-executes the blocks
//!   since the last such write to rebuild them.
//!
//! Errors: [`StoreError`]. A failed write is fatal to the node (the caller stops).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock};

use jmt::storage::TreeReader;
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB,
};

use huxin_state::StateReader;
use huxin_types::codec;
use huxin_types::crypto::Suite;
use huxin_types::genesis::Genesis;
use huxin_types::{Block, BlockHash, BlockHeader, Height, Receipt, TxHash};

use nodes::NodeKeys;
use window::{batch_bytes, Window};
pub use window::{TREE_WINDOW_BYTES_MAX, TREE_WRITE_BLOCKS_DEFAULT};

const CF_META: &str = "meta";
const CF_BLOCKS: &str = "blocks";
const CF_BLOCK_HASHES: &str = "block_hashes";
const CF_CERTIFICATES: &str = "certificates";
const CF_RECEIPTS: &str = "receipts";
const CF_TX_INDEX: &str = "tx_index";
/// Merkle nodes by node key (layouts: see `nodes`).
const CF_JMT_NODES: &str = "jmt_nodes";
const CF_JMT_VALUES: &str = "jmt_values";
const CF_PROPOSALS: &str = "proposals";
/// The value of every state key at the latest version (key hash → tagged value): point reads
/// for the common case instead of a seek through every version.
const CF_STATE_LATEST: &str = "state_latest";
/// Secondary indexes for list queries (see `huxin_state::index`).
const CF_INDEX: &str = "index";
/// The node's own audit log of supervisor queries (not ledger state): seq (8, BE) → entry.
const CF_AUDIT: &str = "audit";
/// Merkle nodes that left the tree: a version (8, BE) → the keys in `jmt_nodes` of the nodes
/// stale since it (borsh); entries of older releases are one a node, version ‖ node key →
/// nothing. Pruning reads it in version order.
const CF_JMT_STALE: &str = "jmt_stale";
const COLUMN_FAMILIES: [&str; 13] = [
    CF_META,
    CF_BLOCKS,
    CF_BLOCK_HASHES,
    CF_CERTIFICATES,
    CF_RECEIPTS,
    CF_TX_INDEX,
    CF_JMT_NODES,
    CF_JMT_VALUES,
    CF_PROPOSALS,
    CF_STATE_LATEST,
    CF_INDEX,
    CF_AUDIT,
    CF_JMT_STALE,
];

/// Versions of the Merkle tree a node keeps by default: proofs are made at the latest block (and
/// its parent), so older versions serve nothing; a margin covers answers being assembled while
/// blocks are written. Twice [`TREE_WRITE_BLOCKS_DEFAULT`], so that the default window fits (the
/// tree is written at most every `state_versions_kept / 2` blocks). Values are kept at every
/// version (events read old ones).
pub const STATE_VERSIONS_KEPT_DEFAULT: u64 = 2 * TREE_WRITE_BLOCKS_DEFAULT;
/// Fewest versions a node may keep: the latest, its parent, and room for answers in flight.
pub const STATE_VERSIONS_KEPT_MIN: u64 = 16;
/// Most stale Merkle nodes one block's write deletes (the rest go with the next blocks; one
/// version's list, bounded by the block limits, goes whole): a bound on a block's persist after
/// a long pause in pruning (a restart with a smaller retention).
pub const PRUNED_NODES_PER_BLOCK_MAX: usize = 20_000;

const META_LATEST: &[u8] = b"latest_height";
const META_GENESIS: &[u8] = b"genesis_hash";
/// The chain's suite (its name), written with genesis. A store written before suites existed
/// has none: it is ed25519's.
const META_SUITE: &[u8] = b"suite";
/// The last version whose Merkle tree is on disk (8, BE); later versions' nodes are in memory
/// (see `window`). A store written before windows has none: every version is on disk.
const META_TREE_WRITTEN: &[u8] = b"tree_written";

/// Largest stored record we agree to decode (a block plus slack).
const RECORD_BYTES_MAX: usize = huxin_types::limits::BLOCK_BYTES_MAX + 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("this database belongs to genesis {stored}, not {given}")]
    GenesisMismatch { stored: BlockHash, given: BlockHash },
    #[error("cannot persist block {got}: the next height is {expected}")]
    OutOfOrder { expected: Height, got: Height },
    #[error("a thread panicked while it held the store's window of Merkle nodes")]
    WindowPoisoned,
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::WindowPoisoned
}

/// Where a finalised transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TxLocation {
    pub height: Height,
    pub index: u32,
}

pub struct Store {
    db: DB,
    sync_writes: bool,
    /// The version `state_latest` holds, or [`WRITING`] while a batch is being written. Readers
    /// use it as a sequence lock (read it, read the value, read it again).
    state_latest_version: AtomicU64,
    /// Cached latest persisted height (`u64::MAX` before genesis).
    latest: AtomicU64,
    /// Merkle tree versions kept (0: every version).
    state_versions_kept: u64,
    /// Stale-node entries below this version are pruned already: the next scan starts here, not
    /// at the front of `jmt_stale`, where the deleted entries' tombstones pile up.
    pruned_below: AtomicU64,
    /// [`PRUNED_NODES_PER_BLOCK_MAX`] (a field so that tests can lower it).
    pruned_per_block_max: usize,
    /// The chain's suite, which hashes the state tree's keys and nodes: read at open, set by
    /// [`Store::init_genesis`] on a new store.
    suite: OnceLock<Suite>,
    /// The Merkle nodes of the versions since the tree was last written.
    window: RwLock<Window>,
    /// Blocks whose Merkle nodes are written together ([`Store::set_tree_write_blocks`]).
    tree_write_blocks: AtomicU64,
    /// [`TREE_WINDOW_BYTES_MAX`] (a field so that tests can lower it).
    tree_window_bytes_max: usize,
    /// How this store's Merkle node keys are written (see `nodes`), fixed when it was created.
    node_keys: NodeKeys,
}

const WRITING: u64 = u64::MAX;

/// An index entry: its key and value.
pub type IndexEntry = (Vec<u8>, Vec<u8>);

/// RocksDB's block cache, shared by every column family.
pub const BLOCK_CACHE_BYTES: usize = 256 * 1024 * 1024;
/// Most bytes of write-ahead log kept: past it, RocksDB flushes the column families whose
/// memtables hold the oldest log, and deletes that log. Without a bound, a family written a
/// little every block (the metadata, the block hashes) keeps every log since its last flush
/// alive, up to four times all the memtables (about 6.6 GB), which a restart then replays. A
/// gigabyte is about what the busiest families fill their memtables with anyway (catching up,
/// the latest state values flush full at 47 MB; at 256 MB they were flushed at 29).
pub const WAL_BYTES_MAX: u64 = 1024 * 1024 * 1024;
/// Bloom filter bits per key in table files: most state reads during execution are of keys
/// that do not exist yet (a new section, a new document), and the filter answers those
/// without reading a block.
const TABLE_BLOOM_BITS_PER_KEY: f64 = 10.0;
/// Share of each memtable given to a whole-key bloom filter, for the same misses before they
/// search the memtable's skip list.
const MEMTABLE_BLOOM_RATIO: f64 = 0.1;

/// Buckets of the hash-indexed memtable of a point-lookup column family (8 bytes each).
const MEMTABLE_HASH_BUCKETS: usize = 1 << 18;

/// Column families the store only reads by point lookups and never scans, whose keys are many: their
/// memtables are hash tables (whole key → entries) instead of skip lists, which costs a block's
/// writes and reads a skip-list search each, `log n` cache misses in a memtable of 64 MB. Scans
/// go through [`Store::scan`], which asks for the total order a hash memtable needs.
const POINT_LOOKUP_FAMILIES: [&str; 3] = [CF_JMT_NODES, CF_STATE_LATEST, CF_TX_INDEX];

/// Options of column family `name`: point lookups through bloom filters and one block cache.
fn column_family_options(name: &str, cache: &Cache) -> Options {
    let point_lookups = POINT_LOOKUP_FAMILIES.contains(&name);
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_bloom_filter(TABLE_BLOOM_BITS_PER_KEY, false);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    // The whole key is the prefix (below): one filter of it, not two.
    table.set_whole_key_filtering(!point_lookups);
    let mut options = Options::default();
    options.set_block_based_table_factory(&table);
    // LZ4 where tables are rewritten often, Zstandard in the last level, where most bytes rest:
    // blocks and records shrink to about half; hashes, most of the Merkle nodes, do not.
    options.set_compression_type(rocksdb::DBCompressionType::Lz4);
    options.set_bottommost_compression_type(rocksdb::DBCompressionType::Zstd);
    options.set_memtable_prefix_bloom_ratio(MEMTABLE_BLOOM_RATIO);
    options.set_memtable_whole_key_filtering(true);
    if point_lookups {
        options.set_prefix_extractor(rocksdb::SliceTransform::create_noop());
        options.set_memtable_factory(rocksdb::MemtableFactory::HashLinkList { bucket_count: MEMTABLE_HASH_BUCKETS });
    }
    options
}

fn height_key(h: Height) -> [u8; 8] {
    h.0.to_be_bytes()
}

impl Store {
    /// Open (or create) the store at `path`, keeping [`STATE_VERSIONS_KEPT_DEFAULT`] versions of
    /// the Merkle tree. `sync_writes` syncs RocksDB's WAL on every block.
    pub fn open(path: &Path, sync_writes: bool) -> Result<Self, StoreError> {
        Self::open_keeping(path, sync_writes, STATE_VERSIONS_KEPT_DEFAULT)
    }

    /// [`Store::open`], keeping `state_versions_kept` versions of the Merkle tree (0: every
    /// version; a node's config refuses fewer than [`STATE_VERSIONS_KEPT_MIN`]).
    pub fn open_keeping(path: &Path, sync_writes: bool, state_versions_kept: u64) -> Result<Self, StoreError> {
        Self::open_with(path, sync_writes, state_versions_kept, WAL_BYTES_MAX)
    }

    /// [`Store::open_keeping`], keeping at most `wal_bytes_max` bytes of write-ahead log.
    fn open_with(
        path: &Path,
        sync_writes: bool,
        state_versions_kept: u64,
        wal_bytes_max: u64,
    ) -> Result<Self, StoreError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_max_open_files(512);
        options.set_max_total_wal_size(wal_bytes_max);
        options.increase_parallelism(2);
        // Hash-indexed memtables insert one write at a time.
        options.set_allow_concurrent_memtable_write(false);
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let cfs =
            COLUMN_FAMILIES.iter().map(|name| ColumnFamilyDescriptor::new(*name, column_family_options(name, &cache)));
        let db = DB::open_cf_descriptors(&options, path, cfs)?;
        let store = Self::over(db, sync_writes, state_versions_kept, true)?;
        store.set_tree_write_blocks(TREE_WRITE_BLOCKS_DEFAULT);
        if let Some(latest) = store.latest_height()? {
            if store.get(CF_META, META_TREE_WRITTEN)?.is_none() {
                // Written before windows: the whole tree is on disk.
                store.db.put_cf(store.cf(CF_META), META_TREE_WRITTEN, height_key(latest))?;
            }
        }
        store.rebuild_window()?;
        store.keep_validator_change_proofs()?;
        Ok(store)
    }

    /// A store over an opened database: its suite, latest height and node-key layout read (a new
    /// store opened `writable` gets [`NodeKeys::VersionFirst`]), nothing held in memory yet (the
    /// openers rebuild the Merkle window).
    fn over(db: DB, sync_writes: bool, state_versions_kept: u64, writable: bool) -> Result<Self, StoreError> {
        let mut store = Self {
            db,
            sync_writes,
            state_latest_version: AtomicU64::new(WRITING),
            latest: AtomicU64::new(WRITING),
            state_versions_kept,
            pruned_below: AtomicU64::new(0),
            pruned_per_block_max: PRUNED_NODES_PER_BLOCK_MAX,
            suite: OnceLock::new(),
            window: RwLock::new(Window::new(0)),
            tree_write_blocks: AtomicU64::new(1),
            tree_window_bytes_max: TREE_WINDOW_BYTES_MAX,
            node_keys: NodeKeys::Borsh,
        };
        store.read_suite()?;
        let latest = store.read_latest_height()?;
        store.node_keys = match store.get(CF_META, nodes::META_NODE_KEYS)? {
            Some(v) if v == nodes::VERSION_FIRST => NodeKeys::VersionFirst,
            Some(v) => {
                return Err(StoreError::Corrupt(format!(
                    "unknown Merkle node key layout {:?}",
                    String::from_utf8_lossy(&v)
                )))
            }
            // A new store: nothing is written yet, so its keys can take the new layout.
            None if writable && latest.is_none() => {
                store.db.put_cf(store.cf(CF_META), nodes::META_NODE_KEYS, nodes::VERSION_FIRST)?;
                NodeKeys::VersionFirst
            }
            None => NodeKeys::Borsh,
        };
        let cached = latest.map_or(WRITING, |h| h.0);
        store.latest = AtomicU64::new(cached);
        store.state_latest_version = AtomicU64::new(cached);
        Ok(store)
    }

    /// Write the Merkle tree every `blocks` blocks (see `window`), at most every
    /// `state_versions_kept / 2` (so that pruning never takes a node of a version held in memory)
    /// and every block when every version is kept.
    pub fn set_tree_write_blocks(&self, blocks: u64) {
        let blocks = match self.state_versions_kept {
            0 => 1,
            kept => blocks.min(kept / 2).max(1),
        };
        self.tree_write_blocks.store(blocks, Ordering::SeqCst);
    }

    /// Blocks whose Merkle nodes are written together.
    pub fn tree_write_blocks(&self) -> u64 {
        self.tree_write_blocks.load(Ordering::SeqCst)
    }

    /// The last version whose Merkle tree is on disk (later ones are held in memory).
    pub fn tree_written(&self) -> Result<Height, StoreError> {
        Ok(Height(self.window.read().map_err(poisoned)?.written()))
    }

    /// Re-execute the blocks written since the Merkle tree was (their values are on disk, their
    /// nodes were in memory), each against its header's roots, and hold their nodes in memory
    /// again. Reads only: a read-only store does it too.
    fn rebuild_window(&self) -> Result<(), StoreError> {
        let Some(latest) = self.latest_height()? else { return Ok(()) };
        let written = match self.get(CF_META, META_TREE_WRITTEN)? {
            None => latest.0,
            Some(bytes) => u64::from_be_bytes(
                bytes.as_slice().try_into().map_err(|_| StoreError::Corrupt("the tree's written version".into()))?,
            ),
        };
        if written > latest.0 {
            return Err(StoreError::Corrupt(format!("the tree is written through {written}, past block {latest}")));
        }
        *self.window.write().map_err(poisoned)? = Window::new(written);
        let options = huxin_state::ValidateOptions {
            now: None,
            time_drift_ms_max: 0,
            signatures_verified: true,
            signature_threads: 1,
        };
        for height in (written + 1..=latest.0).map(Height) {
            let missing = || StoreError::Corrupt(format!("block {height}, after the tree's last write, is missing"));
            let block = self.block(height)?.ok_or_else(missing)?;
            let parent = self.header(Height(height.0 - 1))?.ok_or_else(missing)?;
            let parent = huxin_state::Parent::of(&parent, self.suite());
            let executed = huxin_state::validate_block(self, &parent, &block, options, &|_| true).map_err(|e| {
                StoreError::Corrupt(format!("re-executing block {height} to rebuild its Merkle nodes: {e}"))
            })?;
            self.window.write().map_err(poisoned)?.add(
                height.0,
                &executed.tree_batch,
                batch_bytes(&executed.tree_batch),
                false,
            );
        }
        Ok(())
    }

    /// Give every validator change indexed before its proof was kept with it (a store written by
    /// an older release) that proof, from the tree at its version, before pruning can remove that
    /// tree: answers' proofs walk the changes. Bounded by the changes a proof may walk.
    fn keep_validator_change_proofs(&self) -> Result<(), StoreError> {
        let prefix = huxin_state::index::VALIDATOR_CHANGES;
        let (changes, _) = self.index_scan(prefix, None, huxin_state::proof::VALIDATOR_CHANGES_MAX + 1)?;
        let mut batch = WriteBatch::default();
        for (key, _) in changes.iter().filter(|(_, value)| value.is_empty()) {
            let height = key[prefix.len()..]
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Corrupt("a validator change index key".into()))?;
            let proof = huxin_state::index::prove_validator_change(self, height)
                .map_err(|e| StoreError::Corrupt(format!("proving validator change {height}: {e}")))?;
            batch.put_cf(self.cf(CF_INDEX), key, proof);
        }
        if !batch.is_empty() {
            self.write(batch)?;
        }
        Ok(())
    }

    /// Open a store read-only (a backup being checked): nothing is written, not even a log. A
    /// store written by an older release may lack a column family added since; it opens without it.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let options = Options::default();
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES / 16);
        let present = DB::list_cf(&options, path)?;
        let cfs = COLUMN_FAMILIES
            .iter()
            .filter(|name| present.iter().any(|p| p == *name))
            .map(|name| ColumnFamilyDescriptor::new(*name, column_family_options(name, &cache)));
        let db = DB::open_cf_descriptors_read_only(&options, path, cfs, false)?;
        let store = Self::over(db, false, 0, false)?;
        store.rebuild_window()?;
        Ok(store)
    }

    /// An online, consistent copy of the whole store in `dir` (which must not exist yet), taken
    /// while the node runs: RocksDB's checkpoint (hard links on the same filesystem, copies
    /// otherwise). Each block is one write batch, so the copy holds whole blocks up to some
    /// finalised height and nothing of the next; open it with [`Store::open_read_only`] to see
    /// which.
    pub fn checkpoint(&self, dir: &Path) -> Result<(), StoreError> {
        rocksdb::checkpoint::Checkpoint::new(&self.db)?.create_checkpoint(dir)?;
        Ok(())
    }

    /// Compact every column family fully: what a deleted or overwritten record held is given
    /// back to the filesystem (RocksDB reclaims it lazily otherwise).
    pub fn compact(&self) {
        let mut options = rocksdb::CompactOptions::default();
        // Rewrite the last level too, or the tombstones of deleted records stay there.
        options.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        for name in COLUMN_FAMILIES {
            self.db.compact_range_cf_opt(self.cf(name), None::<&[u8]>, None::<&[u8]>, &options);
        }
    }

    /// Bytes each column family holds in table files, by name (live data and any garbage not
    /// compacted away yet). Memtables are not counted (a hash-indexed one is mostly its empty
    /// buckets): [`Store::compact`] flushes them first.
    pub fn disk_usage(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut usage = Vec::with_capacity(COLUMN_FAMILIES.len());
        for name in COLUMN_FAMILIES {
            let bytes = self.db.property_int_value_cf(self.cf(name), "rocksdb.total-sst-files-size")?.unwrap_or(0);
            usage.push((name, bytes));
        }
        Ok(usage)
    }

    fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        // Every name used here is in COLUMN_FAMILIES, created at open.
        self.db.cf_handle(name).unwrap_or_else(|| panic!("column family {name} exists after open"))
    }

    /// Every iteration of a column family goes through here: in total order, which the
    /// [`POINT_LOOKUP_FAMILIES`] need (their memtables are hash tables; a scan that does not ask
    /// for total order may see only part of them).
    fn scan(&self, name: &str, mode: IteratorMode) -> rocksdb::DBIteratorWithThreadMode<'_, DB> {
        let mut options = rocksdb::ReadOptions::default();
        options.set_total_order_seek(true);
        self.db.iterator_cf_opt(self.cf(name), options, mode)
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut options = WriteOptions::default();
        options.set_sync(self.sync_writes);
        self.db.write_opt(batch, &options)?;
        Ok(())
    }

    /// Write a batch that makes `height` the latest version, keeping the seqlock protocol.
    fn write_version(&self, batch: WriteBatch, height: Height) -> Result<(), StoreError> {
        self.state_latest_version.store(WRITING, Ordering::SeqCst);
        let result = self.write(batch);
        match result {
            Ok(()) => {
                self.latest.store(height.0, Ordering::SeqCst);
                self.state_latest_version.store(height.0, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn get(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(cf), key)?)
    }

    fn decode<T: serde::Serialize + serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
        codec::decode_canonical(bytes, RECORD_BYTES_MAX).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
    }

    /// The last persisted height: 0 once genesis is written, `None` before.
    pub fn latest_height(&self) -> Result<Option<Height>, StoreError> {
        match self.latest.load(Ordering::SeqCst) {
            WRITING => Ok(None),
            h => Ok(Some(Height(h))),
        }
    }

    fn read_latest_height(&self) -> Result<Option<Height>, StoreError> {
        match self.get(CF_META, META_LATEST)? {
            None => Ok(None),
            Some(b) => {
                let arr: [u8; 8] = b.as_slice().try_into().map_err(|_| StoreError::Corrupt("latest height".into()))?;
                Ok(Some(Height(u64::from_be_bytes(arr))))
            }
        }
    }

    /// The suite read at open (or set by genesis); a store without genesis is ed25519's until
    /// [`Store::init_genesis`] says otherwise.
    fn read_suite(&self) -> Result<(), StoreError> {
        let Some(name) = self.get(CF_META, META_SUITE)? else {
            if self.get(CF_META, META_GENESIS)?.is_some() {
                let _ = self.suite.set(Suite::Ed25519Sha256);
            }
            return Ok(());
        };
        let suite = std::str::from_utf8(&name).ok().and_then(|name| name.parse().ok()).ok_or_else(|| {
            StoreError::Corrupt(format!("the stored suite {:?} is not one", String::from_utf8_lossy(&name)))
        })?;
        let _ = self.suite.set(suite);
        Ok(())
    }

    /// Write genesis state (version 0) unless already present; refuse a different genesis.
    pub fn init_genesis(&self, genesis: &Genesis) -> Result<(), StoreError> {
        let hash = genesis.hash();
        if let Some(stored) = self.get(CF_META, META_GENESIS)? {
            let stored = BlockHash::from_slice(&stored).ok_or_else(|| StoreError::Corrupt("genesis hash".into()))?;
            if stored != hash {
                return Err(StoreError::GenesisMismatch { stored, given: hash });
            }
            return Ok(());
        }
        if *self.suite.get_or_init(|| genesis.suite) != genesis.suite {
            return Err(StoreError::Corrupt(format!(
                "the store is of suite {} and has no genesis; the genesis given is of {}",
                self.suite(),
                genesis.suite
            )));
        }
        let (root, executed) =
            huxin_state::execute_genesis(self, genesis).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut batch = WriteBatch::default();
        self.put_tree_batch(&mut batch, &executed)?;
        batch.put_cf(self.cf(CF_META), META_GENESIS, hash.0);
        batch.put_cf(self.cf(CF_META), META_SUITE, genesis.suite.as_str());
        batch.put_cf(self.cf(CF_META), META_LATEST, height_key(Height(0)));
        batch.put_cf(self.cf(CF_META), META_TREE_WRITTEN, height_key(Height(0)));
        self.write_version(batch, Height(0))?;
        self.check_root(0, root)
    }

    pub fn genesis_hash(&self) -> Result<Option<BlockHash>, StoreError> {
        Ok(self.get(CF_META, META_GENESIS)?.and_then(|b| BlockHash::from_slice(&b)))
    }

    /// Up to `limit` index entries under `prefix`, in key order, strictly after `after` (a key
    /// returned earlier) or from the start; the flag says whether the prefix ended.
    pub fn index_scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<(Vec<IndexEntry>, bool), StoreError> {
        let start = match after {
            // The smallest key after `after`.
            Some(after) => [after, &[0]].concat(),
            None => prefix.to_vec(),
        };
        self.index_scan_from(prefix, &start, limit)
    }

    /// Like [`Store::index_scan`], from `start` inclusive.
    pub fn index_scan_from(
        &self,
        prefix: &[u8],
        start: &[u8],
        limit: usize,
    ) -> Result<(Vec<IndexEntry>, bool), StoreError> {
        let iter = self.scan(CF_INDEX, IteratorMode::From(start, Direction::Forward));
        let mut out = Vec::new();
        for item in iter {
            let (key, value) = item?;
            if !key.starts_with(prefix) {
                return Ok((out, true));
            }
            if out.len() == limit {
                return Ok((out, false));
            }
            out.push((key.to_vec(), value.to_vec()));
        }
        Ok((out, true))
    }

    /// Append entry `seq` of the audit log, synced to disk before returning. The caller
    /// serialises appends and chains the entries (`huxin_types::audit`).
    pub fn audit_append(&self, seq: u64, entry: &[u8]) -> Result<(), StoreError> {
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db.put_cf_opt(self.cf(CF_AUDIT), seq.to_be_bytes(), entry, &options)?;
        Ok(())
    }

    /// The last audit-log entry, if any.
    pub fn audit_last(&self) -> Result<Option<Vec<u8>>, StoreError> {
        match self.scan(CF_AUDIT, IteratorMode::End).next() {
            Some(item) => Ok(Some(item?.1.to_vec())),
            None => Ok(None),
        }
    }

    /// Up to `limit` audit-log entries with seq > `after`, in order.
    pub fn audit_scan(&self, after: u64, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let start = after.saturating_add(1).to_be_bytes();
        let iter = self.scan(CF_AUDIT, IteratorMode::From(&start, Direction::Forward));
        let mut out = Vec::new();
        for item in iter.take(limit) {
            out.push(item?.1.to_vec());
        }
        Ok(out)
    }

    pub fn block(&self, height: Height) -> Result<Option<Block>, StoreError> {
        self.get(CF_BLOCKS, &height_key(height))?
            .map(|b| Block::decode_stored(&b).map_err(|e| StoreError::Corrupt(format!("block {height}: {e}"))))
            .transpose()
    }

    pub fn block_bytes(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(CF_BLOCKS, &height_key(height))
    }

    /// Block `height`'s header, without decoding its transactions (every query reads the
    /// latest block's time, and a block holds up to thousands of them).
    pub fn header(&self, height: Height) -> Result<Option<BlockHeader>, StoreError> {
        // Pinned: the block's bytes are read where they are, not copied out.
        self.db
            .get_pinned_cf(self.cf(CF_BLOCKS), height_key(height))?
            .map(|b| {
                Block::decode_stored_header(&b)
                    .map_err(|e| StoreError::Corrupt(format!("block {height}'s header: {e}")))
            })
            .transpose()
    }

    pub fn height_of(&self, hash: &BlockHash) -> Result<Option<Height>, StoreError> {
        Ok(self
            .get(CF_BLOCK_HASHES, &hash.0)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(|a| Height(u64::from_be_bytes(a))))
    }

    pub fn certificate(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(CF_CERTIFICATES, &height_key(height))
    }

    pub fn receipts(&self, height: Height) -> Result<Option<Vec<Receipt>>, StoreError> {
        self.get(CF_RECEIPTS, &height_key(height))?.map(|b| Self::decode(&b, "receipts")).transpose()
    }

    pub fn tx_location(&self, hash: &TxHash) -> Result<Option<TxLocation>, StoreError> {
        self.get(CF_TX_INDEX, &hash.0)?.map(|b| Self::decode(&b, "tx location")).transpose()
    }

    /// The current value of a state key (at the latest persisted version).
    pub fn state_value(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(latest) = self.latest_height()? else { return Ok(None) };
        self.get_value_option(latest.0, huxin_state::key_hash(self.suite(), key))
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Keep an undecided proposal (a full block) so WAL replay after a crash can find it.
    pub fn put_proposal(
        &self,
        height: Height,
        round: u32,
        hash: &BlockHash,
        block_bytes: &[u8],
    ) -> Result<(), StoreError> {
        let mut key = Vec::with_capacity(44);
        key.extend_from_slice(&height_key(height));
        key.extend_from_slice(&round.to_be_bytes());
        key.extend_from_slice(&hash.0);
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_PROPOSALS), key, block_bytes);
        self.write(batch)
    }

    /// Undecided proposals at `height` (every round), as (round, hash, block bytes).
    pub fn proposals(&self, height: Height) -> Result<Vec<(u32, BlockHash, Vec<u8>)>, StoreError> {
        let prefix = height_key(height);
        let mut out = Vec::new();
        let iter = self.scan(CF_PROPOSALS, IteratorMode::From(&prefix, Direction::Forward));
        for item in iter {
            let (key, value) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            if key.len() != 44 {
                return Err(StoreError::Corrupt("proposal key".into()));
            }
            let round = u32::from_be_bytes([key[8], key[9], key[10], key[11]]);
            let hash = BlockHash::from_slice(&key[12..]).ok_or_else(|| StoreError::Corrupt("proposal hash".into()))?;
            out.push((round, hash, value.to_vec()));
        }
        Ok(out)
    }
}

impl StateReader for Store {
    fn suite(&self) -> Suite {
        self.suite.get().copied().unwrap_or_default()
    }
}

mod nodes;
mod persist;
mod reader;
mod values;
mod window;

#[cfg(test)]
mod tests;
