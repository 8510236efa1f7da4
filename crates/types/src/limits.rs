//! Protocol-wide bounds. Each is part of consensus: changing one is a format change.
//! Units come last in the name.

/// Largest encoded signed transaction.
pub const TX_BYTES_MAX: usize = 16 * 1024;
/// Most transactions in one block.
pub const BLOCK_TXS_MAX: usize = 10_000;
/// Largest encoded block (must stay below Malachite's 10 MiB sync response limit).
pub const BLOCK_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Longest chain id.
pub const CHAIN_ID_BYTES_MAX: usize = 64;
/// Longest free-text field inside a transaction (titles, references).
pub const TEXT_BYTES_MAX: usize = 256;
/// Longest genesis file.
pub const GENESIS_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Most keys a member may hold.
pub const MEMBER_KEYS_MAX: usize = 256;
/// How far ahead of a block's time a time-based expiry may lie.
pub const TX_EXPIRY_HORIZON_MS: u64 = 24 * 60 * 60 * 1000;
/// How far ahead of a block's height a height-based expiry may lie.
pub const TX_EXPIRY_HORIZON_HEIGHTS: u64 = 100_000;
