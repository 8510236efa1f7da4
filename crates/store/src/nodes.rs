//! How Merkle nodes are laid out in `jmt_nodes`: their keys, and the bytes of an internal node.
//!
//! jmt's own encoding (borsh) is what stores of earlier releases hold. It has two costs this
//! store no longer pays on a new store:
//! - **keys**: borsh puts a node key's version first but little-endian, so consecutive versions
//!   land all over the key space: every table RocksDB flushes overlaps every older one, and each
//!   compaction rewrites them. [`NodeKeys::VersionFirst`] writes the version big-endian, then
//!   the nibble count (1 byte) and the packed nibbles: keys sort by version, a flushed table
//!   covers only recent versions, and a key is 9 + ⌈nibbles / 2⌉ bytes instead of 20 + that.
//!   The choice is the store's, made when it is created and recorded in its meta
//!   (`node_keys`); a store without the record keeps borsh keys for good.
//! - **internal nodes**: borsh writes sixteen child slots, each present child's version as 8
//!   bytes, its kind and leaf count as 9, and the node's child and leaf counts (16 more). The
//!   compact form (first byte [`COMPACT_INTERNAL`], which no borsh node starts with) writes two
//!   bitmaps (children, and which of them are leaves), then each child's hash, version (LEB128)
//!   and, for an internal child, its leaf count (LEB128): about 27 % fewer bytes for a full
//!   node. Every node is read in either form, so stores of both kinds write it.
//!
//! Leaves (two hashes) are written as borsh has them. Decoding is total: bytes that are not a
//! node in either form are a [`NodeDecodeError`], never a panic.

use jmt::storage::{Node, NodeKey};

/// First byte of a compactly encoded internal node (borsh's node tags are 0, 1 and 2).
pub(crate) const COMPACT_INTERNAL: u8 = 0x10;

/// The meta record naming the node keys' layout (absent: [`NodeKeys::Borsh`]).
pub(crate) const META_NODE_KEYS: &[u8] = b"node_keys";
/// Its value for [`NodeKeys::VersionFirst`].
pub(crate) const VERSION_FIRST: &[u8] = b"version-first";

/// How a store's node keys are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeKeys {
    /// jmt's borsh encoding (stores created before `node_keys` was recorded).
    Borsh,
    /// Version (8, big-endian), nibble count (1), packed nibbles: keys in version order.
    VersionFirst,
}

impl NodeKeys {
    /// The key of `key` in `jmt_nodes`.
    pub(crate) fn encode(self, key: &NodeKey) -> Vec<u8> {
        match self {
            NodeKeys::Borsh => borsh::to_vec(key).expect("borsh encodes a node key in memory"),
            NodeKeys::VersionFirst => {
                // The path packed as jmt packs it: two nibbles a byte, high half first, the low
                // half of an odd path's last byte zero.
                let path = key.nibble_path();
                let mut out = Vec::with_capacity(9 + path.num_nibbles().div_ceil(2));
                out.extend_from_slice(&key.version().to_be_bytes());
                out.push(path.num_nibbles() as u8);
                for (i, nibble) in path.nibbles().enumerate() {
                    let nibble = u8::from(nibble);
                    if i % 2 == 0 {
                        out.push(nibble << 4);
                    } else if let Some(last) = out.last_mut() {
                        *last |= nibble;
                    }
                }
                out
            }
        }
    }

    /// The node key a `jmt_nodes` key of this layout stands for.
    #[cfg(test)]
    pub(crate) fn decode(self, bytes: &[u8]) -> Result<NodeKey, NodeDecodeError> {
        match self {
            NodeKeys::Borsh => borsh::from_slice(bytes).map_err(|e| NodeDecodeError::Borsh(e.to_string())),
            NodeKeys::VersionFirst => {
                let (version, rest) = bytes.split_first_chunk::<8>().ok_or(NodeDecodeError::Truncated)?;
                let (&nibbles, path) = rest.split_first().ok_or(NodeDecodeError::Truncated)?;
                // Most nibbles a path has: a 256-bit key hash.
                const NIBBLES_MAX: usize = 64;
                let nibbles = usize::from(nibbles);
                if nibbles > NIBBLES_MAX || path.len() != nibbles.div_ceil(2) {
                    return Err(NodeDecodeError::BadPath);
                }
                let mut borsh = Vec::with_capacity(20 + path.len());
                borsh.extend_from_slice(&u64::from_be_bytes(*version).to_le_bytes());
                borsh.extend_from_slice(&(nibbles as u64).to_le_bytes());
                borsh.extend_from_slice(&(path.len() as u32).to_le_bytes());
                borsh.extend_from_slice(path);
                borsh::from_slice(&borsh).map_err(|e| NodeDecodeError::Borsh(e.to_string()))
            }
        }
    }
}

/// Why stored bytes are not a Merkle node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeDecodeError {
    #[error("the node ends early")]
    Truncated,
    #[error("the node has {0} bytes after its end")]
    Trailing(usize),
    #[error("an internal node with no children, or leaves that are not among its children")]
    BadBitmaps,
    #[error("a version or leaf count does not fit 64 bits")]
    Overflow,
    #[cfg(test)]
    #[error("a node key's path does not match its nibble count")]
    BadPath,
    #[error("borsh: {0}")]
    Borsh(String),
}

/// The bytes of `node` in `jmt_nodes`: an internal node compact, any other as borsh.
pub(crate) fn encode(node: &Node) -> Vec<u8> {
    let Node::Internal(internal) = node else {
        return borsh::to_vec(node).expect("borsh encodes a node in memory");
    };
    let (mut children, mut leaves) = (0u16, 0u16);
    for (nibble, child) in internal.children_sorted() {
        let bit = 1u16 << u8::from(nibble);
        children |= bit;
        if child.is_leaf() {
            leaves |= bit;
        }
    }
    let mut out = Vec::with_capacity(5 + 16 * 46);
    out.push(COMPACT_INTERNAL);
    out.extend_from_slice(&children.to_be_bytes());
    out.extend_from_slice(&leaves.to_be_bytes());
    for (_, child) in internal.children_sorted() {
        out.extend_from_slice(&child.hash);
        put_varint(&mut out, child.version);
        if !child.is_leaf() {
            put_varint(&mut out, child.leaf_count() as u64);
        }
    }
    out
}

/// The node stored as `bytes`, in either form.
pub(crate) fn decode(bytes: &[u8]) -> Result<Node, NodeDecodeError> {
    match bytes.split_first() {
        Some((&COMPACT_INTERNAL, rest)) => decode_compact(rest),
        _ => borsh::from_slice(bytes).map_err(|e| NodeDecodeError::Borsh(e.to_string())),
    }
}

/// A compact internal node, rebuilt as borsh's layout and decoded by jmt's own code (its node
/// types cannot be built outside the crate): `Node::Internal`, sixteen optional children (hash,
/// version, kind), the child count and the leaf count, each count 8 bytes little-endian.
fn decode_compact(bytes: &[u8]) -> Result<Node, NodeDecodeError> {
    let mut input = bytes;
    let children = u16::from_be_bytes(take::<2>(&mut input)?);
    let leaves = u16::from_be_bytes(take::<2>(&mut input)?);
    if children == 0 || leaves & !children != 0 {
        return Err(NodeDecodeError::BadBitmaps);
    }
    let mut borsh = Vec::with_capacity(1 + 16 * 50 + 16);
    borsh.push(1);
    let mut leaf_count = 0u64;
    for nibble in 0..16 {
        let bit = 1u16 << nibble;
        if children & bit == 0 {
            borsh.push(0);
            continue;
        }
        borsh.push(1);
        borsh.extend_from_slice(&take::<32>(&mut input)?);
        borsh.extend_from_slice(&varint(&mut input)?.to_le_bytes());
        let under = if leaves & bit != 0 {
            borsh.push(0);
            1
        } else {
            let count = varint(&mut input)?;
            borsh.push(1);
            borsh.extend_from_slice(&count.to_le_bytes());
            count
        };
        leaf_count = leaf_count.checked_add(under).ok_or(NodeDecodeError::Overflow)?;
    }
    if !input.is_empty() {
        return Err(NodeDecodeError::Trailing(input.len()));
    }
    borsh.extend_from_slice(&u64::from(children.count_ones()).to_le_bytes());
    borsh.extend_from_slice(&leaf_count.to_le_bytes());
    borsh::from_slice(&borsh).map_err(|e| NodeDecodeError::Borsh(e.to_string()))
}

fn take<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], NodeDecodeError> {
    let (head, rest) = input.split_first_chunk::<N>().ok_or(NodeDecodeError::Truncated)?;
    *input = rest;
    Ok(*head)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// An unsigned LEB128 of at most 64 bits (ten bytes, the last holding one bit).
fn varint(input: &mut &[u8]) -> Result<u64, NodeDecodeError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let [byte] = take::<1>(input)?;
        let bits = u64::from(byte & 0x7f);
        if shift == 63 && bits > 1 {
            return Err(NodeDecodeError::Overflow);
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(NodeDecodeError::Overflow)
}

#[cfg(test)]
mod tests;
