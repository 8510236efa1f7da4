use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, Version};
use proptest::prelude::*;
use sha2::Sha256;

use super::*;

/// An empty tree: the first version's nodes are all new.
struct Empty;

impl TreeReader for Empty {
    fn get_node_option(&self, _: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(None)
    }
    fn get_value_option(&self, _: Version, _: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        Ok(None)
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(None)
    }
}

/// The nodes of a tree of `keys` keys written at `version` (internal nodes of every width, with
/// leaf and internal children, and leaves).
fn tree(keys: u32, version: Version) -> Vec<(NodeKey, Node)> {
    let values = (0..keys).map(|i| (KeyHash::with::<Sha256>(i.to_be_bytes()), Some(i.to_le_bytes().to_vec())));
    let (_, batch) = JellyfishMerkleTree::<_, Sha256>::new(&Empty).put_value_set(values, version).unwrap();
    batch.node_batch.nodes().iter().map(|(k, n)| (k.clone(), n.clone())).collect()
}

#[test]
fn every_node_reads_back_as_written_and_internal_nodes_are_smaller() {
    let nodes = tree(3_000, 1_234_567);
    let (mut compact, mut borsh_bytes, mut internals) = (0, 0, 0);
    for (_, node) in &nodes {
        let bytes = encode(node);
        assert_eq!(&decode(&bytes).unwrap(), node);
        // Stores of earlier releases hold borsh: it still reads.
        let old = borsh::to_vec(node).unwrap();
        assert_eq!(&decode(&old).unwrap(), node);
        if let Node::Internal(_) = node {
            assert_eq!(bytes[0], COMPACT_INTERNAL);
            internals += 1;
            compact += bytes.len();
            borsh_bytes += old.len();
        } else {
            assert_eq!(bytes, old, "leaves are written as borsh has them");
        }
    }
    assert!(internals > 100, "{internals} internal nodes");
    assert!(compact * 100 < borsh_bytes * 80, "compact {compact} bytes against borsh {borsh_bytes}");
}

#[test]
fn a_full_node_takes_about_a_quarter_less() {
    let root = tree(3_000, 1_000_000).into_iter().find(|(k, _)| k.nibble_path().num_nibbles() == 0).unwrap().1;
    let Node::Internal(internal) = &root else { panic!("the root of 3 000 keys is internal") };
    assert_eq!(internal.children_sorted().count(), 16);
    let (compact, old) = (encode(&root).len(), borsh::to_vec(&root).unwrap().len());
    // 16 children of 32 + 3 + 2 bytes and 5 of header, against 16 of 50 and 17.
    assert_eq!(compact, 5 + 16 * (32 + 3 + 2));
    assert_eq!(old, 1 + 16 * 50 + 16);
}

#[test]
fn bytes_that_are_not_a_node_are_refused_not_a_panic() {
    let node = tree(3_000, 300).into_iter().map(|(_, n)| n).find(|n| matches!(n, Node::Internal(_))).unwrap();
    let bytes = encode(&node);
    for end in 0..bytes.len() {
        assert!(decode(&bytes[..end]).is_err(), "a node cut at {end} bytes decodes");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(decode(&longer), Err(NodeDecodeError::Trailing(1)));
    assert_eq!(decode(&[COMPACT_INTERNAL, 0, 0, 0, 0]), Err(NodeDecodeError::BadBitmaps));
    // A leaf bit outside the children.
    assert_eq!(decode(&[COMPACT_INTERNAL, 0, 1, 0, 2]), Err(NodeDecodeError::BadBitmaps));
    // One leaf child whose version runs past 64 bits.
    let mut overflow = vec![COMPACT_INTERNAL, 0, 1, 0, 1];
    overflow.extend_from_slice(&[7; 32]);
    overflow.extend_from_slice(&[0xff; 9]);
    overflow.push(0x02);
    assert_eq!(decode(&overflow), Err(NodeDecodeError::Overflow));
    // The largest version that fits reads back.
    let mut largest = vec![COMPACT_INTERNAL, 0, 1, 0, 1];
    largest.extend_from_slice(&[7; 32]);
    largest.extend_from_slice(&[0xff; 9]);
    largest.push(0x01);
    assert!(decode(&largest).is_ok());
}

proptest! {
    #[test]
    fn any_bytes_decode_or_fail_without_panicking(mut bytes in proptest::collection::vec(any::<u8>(), 0..700), compact: bool) {
        if compact && !bytes.is_empty() {
            bytes[0] = COMPACT_INTERNAL;
        }
        let _ = decode(&bytes);
        let _ = NodeKeys::VersionFirst.decode(&bytes);
    }

    #[test]
    fn version_first_keys_read_back_and_sort_by_version(a in 0u64..u64::MAX, b in 0u64..u64::MAX, keys in 1u32..40) {
        let first = tree(keys, a.min(b));
        let second = tree(keys, a.max(b));
        for (key, _) in first.iter().chain(&second) {
            let bytes = NodeKeys::VersionFirst.encode(key);
            prop_assert_eq!(&NodeKeys::VersionFirst.decode(&bytes).unwrap(), key);
            prop_assert_eq!(bytes.len(), 9 + key.nibble_path().num_nibbles().div_ceil(2));
            prop_assert_eq!(&NodeKeys::Borsh.decode(&NodeKeys::Borsh.encode(key)).unwrap(), key);
        }
        if a != b {
            let newest_of_first = first.iter().map(|(k, _)| NodeKeys::VersionFirst.encode(k)).max().unwrap();
            let oldest_of_second = second.iter().map(|(k, _)| NodeKeys::VersionFirst.encode(k)).min().unwrap();
            prop_assert!(newest_of_first < oldest_of_second);
        }
    }
}
