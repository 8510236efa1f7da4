//! Huxin's shared vocabulary: identifiers, transactions, blocks, genesis, and the one canonical
//! byte form of everything that is signed or hashed.
//!
//! Invariants:
//! - every signed or hashed type has exactly one byte form, produced by [`codec::encode`]
//!   (bincode 2, standard configuration) and accepted back only by [`codec::decode_canonical`],
//!   which refuses oversized input, trailing bytes and any non-canonical spelling;
//! - every signature is over a domain tag followed by those bytes ([`crypto::Domain`]);
//! - hashes are SHA-256.
//!
//! Errors: decoding and validation return [`codec::DecodeError`] and [`id::IdError`]; the closed
//! set of transaction rejection codes that end up in receipts is [`receipt::RejectCode`].
//!
//! This crate does no I/O and reads no clock.

pub mod audit;
pub mod block;
pub mod codec;
pub mod credit;
pub mod crypto;
pub mod evaluation;
pub mod genesis;
pub mod governance;
pub mod guarantee;
pub mod id;
pub mod identity;
pub mod limits;
pub mod receipt;
pub mod tx;
pub mod vc;

/// The ledger protocol this build speaks: the byte forms of blocks and transactions, the state
/// transition rules and what consensus hashes. Nodes of different protocol versions cannot agree
/// on a block, so they refuse each other's connections; a change bumps it and needs a coordinated
/// halt height (README: upgrades). A release that changes none of these keeps it, and centres
/// upgrade one node at a time.
///
/// - 2: a tender section's record keeps only its newest timeline entries, older ones in pages,
///   and its bid bond pairs one per key (`huxin_contracts::deal::section`); a section stored by
///   version 1 still reads, and moves at its next write.
/// - 3: a specialty's expert pool is kept in pages with each member's place, not one sorted list
///   (`huxin_contracts::evaluation::pool`), and a subject's complete and public credit lists are
///   paged lists (`huxin_contracts::paged`), not one value each; what version 2 stored still
///   reads, and moves at its next change.
pub const PROTOCOL_VERSION: u32 = 3;

pub use block::{Block, BlockHeader};
pub use crypto::{PublicKey, SecretKey, Signature};
pub use genesis::Genesis;
pub use id::{BlockHash, ChainId, Hash32, Height, MemberId, RegionCode, TimestampMs, TxHash, Uscc};
pub use receipt::{Outcome, Receipt, RejectCode, Rejection};
pub use tx::{Action, SignedTx, TxBody};
