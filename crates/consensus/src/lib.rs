//! Malachite 0.8 (Tendermint BFT, `arc-malachitebft-*`) glue: our `Context`, its borsh codec,
//! ed25519 signer and verifier (in `huxin-wire`, re-exported), proposal streaming, the host loop that executes blocks before
//! voting and persists decided ones, the validator set as consensus reads it, the consensus peer
//! list that follows the ledger, the transaction ingress, and the transaction gossip swarm.
//!
//! Invariants:
//! - consensus decides on block hashes; the blocks travel as signed proposal parts, and each
//!   stream is verified against the validator set of its own height before it is executed;
//! - a proposal is executed before this validator votes for it; a wrong root or an inadmissible
//!   transaction makes it invalid (vote nil);
//! - a decided block is persisted in one atomic batch before the next height starts;
//! - peers: the consensus network admits only configured persistent peers whose validator proof
//!   (signed, bound to the chain id) names a key the ledger lists as a validator, and the list
//!   follows governance ([`peers`]); proposal parts are accepted only from the round's proposer;
//!   transaction gossip refuses connections from any key that is not a validator's and forwards
//!   only what this node validated.
//!
//! Errors: the host loop returns an error when the node must stop (storage failure, or the
//! engine's channel closing); everything from peers is logged and dropped, never a panic.

pub mod byzantine;
pub mod clock;
pub mod engine;
pub mod gossip;
pub mod host;
pub mod ingress;
pub mod peers;
pub mod status;
pub mod streaming;
pub mod validators;

pub use engine::{engine_stopped, protocol_names, EngineConfig, EngineNode, EngineNodeHandle};
pub use host::{Finalised, HostConfig};
/// The context and codec live in `huxin-wire` (pure, so fuzz targets link them).
pub use huxin_wire::{codec, context};
pub use ingress::{Ingress, Origin, SubmitError};
pub use malachitebft_core_types::LinearTimeouts;
pub use status::{Metrics, NodeStatus};
