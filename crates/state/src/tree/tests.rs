use std::collections::BTreeMap;

use jmt::mock::MockTreeStore;
use jmt::storage::TreeUpdateBatch;
use proptest::prelude::*;

use super::update::put_writes_in_parts;
use super::*;

/// Blocks of writes: keys drawn from a small space so later blocks overwrite earlier keys,
/// values of a few bytes.
fn blocks() -> impl Strategy<Value = Vec<BTreeMap<Vec<u8>, Option<Vec<u8>>>>> {
    let block = proptest::collection::btree_map(0u16..600, proptest::collection::vec(any::<u8>(), 0..8), 0..80)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_be_bytes().to_vec(), Some(v))).collect());
    proptest::collection::vec(block, 1..12)
}

fn suites() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::Ed25519Sha256), Just(Suite::Sm2Sm3)]
}

fn store(mock: &MockTreeStore, suite: Suite) -> InSuite<'_, MockTreeStore> {
    InSuite { reader: mock, suite }
}

/// The old way: every key put one at a time.
fn one_by_one(
    store: &InSuite<'_, MockTreeStore>,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    version: u64,
) -> (Hash32, TreeUpdateBatch) {
    fn put<H: SimpleHasher>(
        store: &InSuite<'_, MockTreeStore>,
        writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
        version: u64,
    ) -> (Hash32, TreeUpdateBatch) {
        let (root, batch) = JellyfishMerkleTree::<_, H>::new(store)
            .put_value_set(writes.iter().map(|(k, v)| (key_hash(store.suite, k), v.clone())), version)
            .expect("put");
        (Hash32(root.0), batch)
    }
    match store.suite {
        Suite::Ed25519Sha256 => put::<Sha256>(store, writes, version),
        Suite::Sm2Sm3 => put::<Sm3>(store, writes, version),
    }
}

proptest! {
    /// The batch update gives the same root and persists the same nodes, values and stale
    /// nodes as putting each key alone, block after block, in either suite; and every key
    /// proves against the batch-built root, and not in the other suite.
    #[test]
    fn batch_and_one_by_one_build_the_same_tree(blocks in blocks(), suite in suites()) {
        let (batch_mock, single_mock) = (MockTreeStore::default(), MockTreeStore::default());
        let (batch_store, single_store) = (store(&batch_mock, suite), store(&single_mock, suite));
        let other = match suite { Suite::Ed25519Sha256 => Suite::Sm2Sm3, Suite::Sm2Sm3 => Suite::Ed25519Sha256 };
        let mut latest: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for (version, writes) in blocks.iter().enumerate() {
            let version = version as u64;
            let (root, batch) = put_writes(&batch_store, writes, version).expect("batch");
            let (single_root, single) = one_by_one(&single_store, writes, version);
            prop_assert_eq!(root, single_root, "root at version {}", version);
            prop_assert_eq!(batch.node_batch.nodes(), single.node_batch.nodes());
            prop_assert_eq!(batch.node_batch.values(), single.node_batch.values());
            prop_assert_eq!(&batch.stale_node_index_batch, &single.stale_node_index_batch);
            batch_store.reader.write_tree_update_batch(batch).expect("write");
            single_store.reader.write_tree_update_batch(single).expect("write");
            prop_assert_eq!(root_hash(&batch_store, version).expect("a root"), root);
            for (k, v) in writes {
                latest.insert(k.clone(), v.clone().expect("upserts only"));
            }
            for (k, v) in &latest {
                let (value, proof) = get_with_proof(&batch_store, k, version).expect("a proof");
                prop_assert_eq!(value.as_ref(), Some(v));
                prop_assert_eq!(verify_proof(suite, &proof, &root, k, Some(v)), Ok(()));
                prop_assert!(verify_proof(other, &proof, &root, k, Some(v)).is_err());
            }
        }
    }
}

/// A deletion (and an empty block) takes the one-by-one path and still updates the tree.
#[test]
fn deletions_and_empty_blocks_update_the_tree() {
    for suite in [Suite::Ed25519Sha256, Suite::Sm2Sm3] {
        let mock = MockTreeStore::default();
        let store = store(&mock, suite);
        let first: BTreeMap<_, _> = [(b"a".to_vec(), Some(b"1".to_vec())), (b"b".to_vec(), Some(b"2".to_vec()))].into();
        let (root0, batch) = put_writes(&store, &first, 0).expect("put");
        store.reader.write_tree_update_batch(batch).expect("write");
        let (root1, batch) = put_writes(&store, &BTreeMap::new(), 1).expect("empty");
        assert_eq!(root1, root0, "an empty block keeps the root");
        store.reader.write_tree_update_batch(batch).expect("write");
        let delete: BTreeMap<_, _> = [(b"a".to_vec(), None)].into();
        let (root2, batch) = put_writes(&store, &delete, 2).expect("delete");
        assert_ne!(root2, root1);
        store.reader.write_tree_update_batch(batch).expect("write");
        let (value, proof) = get_with_proof(&store, b"a", 2).expect("read");
        assert_eq!(value, None);
        assert_eq!(verify_proof(suite, &proof, &root2, b"a", None), Ok(()), "{suite}: absence proven");
    }
}

/// The same writes give different roots in the two suites.
#[test]
fn the_suites_build_different_trees() {
    let writes: BTreeMap<_, _> = [(b"k".to_vec(), Some(b"v".to_vec()))].into();
    let mock = MockTreeStore::default();
    let (sha, _) = put_writes(&store(&mock, Suite::Ed25519Sha256), &writes, 0).expect("put");
    let (sm3, _) = put_writes(&store(&mock, Suite::Sm2Sm3), &writes, 0).expect("put");
    assert_ne!(sha, sm3);
}

proptest! {
    /// A Merkle update split into parts by the keys' first nibble is one batch: the same root,
    /// nodes, values, stale nodes and counts, block after block, in either suite, however many
    /// parts (a block whose keys all share a first nibble, or a tree of one key, is not split).
    #[test]
    fn a_split_update_is_one_batch(blocks in blocks(), suite in suites(), parts in 2usize..=16) {
        let (one_mock, split_mock) = (MockTreeStore::default(), MockTreeStore::default());
        let (one_store, split_store) = (store(&one_mock, suite), store(&split_mock, suite));
        for (version, writes) in blocks.iter().enumerate() {
            let version = version as u64;
            let (root, batch) = put_writes_in_parts(&one_store, writes, version, 1).expect("one batch");
            let (split_root, split) = put_writes_in_parts(&split_store, writes, version, parts).expect("split");
            prop_assert_eq!(split_root, root, "root at version {}", version);
            prop_assert_eq!(&split, &batch, "batch at version {}", version);
            one_store.reader.write_tree_update_batch(batch).expect("write");
            split_store.reader.write_tree_update_batch(split).expect("write");
        }
    }
}

/// A block's keys are cut where their first nibble changes, as evenly as that allows, and
/// never into more parts than asked or than there are nibbles.
#[test]
fn a_split_cuts_at_nibble_changes_into_even_parts() {
    let mut set: Vec<(KeyHash, Vec<u8>)> =
        (0u32..400).map(|i| (KeyHash::with::<Sha256>(i.to_be_bytes()), vec![])).collect();
    set.sort_unstable_by_key(|(k, _)| *k);
    let nibble = |i: usize| set[i].0 .0[0] >> 4;
    for parts in [2, 3, 4, 16, 40] {
        let cuts = super::update::cuts(&set, parts);
        assert_eq!(cuts[0], (0, 0), "the first part starts at the first key and owns nibble 0");
        assert!(cuts.len() >= 2 && cuts.len() <= parts.min(16), "{parts} parts: {cuts:?}");
        for window in cuts.windows(2) {
            let (start, first) = window[1];
            assert!(start > window[0].0);
            assert_eq!(first, nibble(start));
            assert_ne!(nibble(start), nibble(start - 1), "a cut falls between two nibbles");
        }
        if parts == 2 {
            let half = cuts[1].0 as f64 / set.len() as f64;
            assert!((0.35..0.65).contains(&half), "two parts of 400 uniform keys are near halves: {half}");
        }
    }
    let same_nibble: Vec<_> = set.iter().filter(|(k, _)| k.0[0] >> 4 == 3).cloned().collect();
    assert_eq!(super::update::cuts(&same_nibble, 4).len(), 1, "keys of one nibble are one part");
}
