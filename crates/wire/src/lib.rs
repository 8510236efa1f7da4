//! What Huxin's validators say to each other, as types and bytes: the Malachite [`context`]
//! (heights, values, proposal parts, votes, validator sets, the ed25519 signer and verifier) and
//! the [`codec`] of every consensus, sync and WAL message. Pure: no storage and no network, so
//! the fuzz targets link it without building RocksDB. `huxin-consensus` re-exports both.

pub mod codec;
pub mod context;
