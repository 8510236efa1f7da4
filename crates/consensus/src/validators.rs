//! The validator set as consensus sees it, read from persisted state: the set in force at a
//! height, and every key the ledger currently knows as a validator (for the consensus network's
//! validator-proof handshake and the gossip allow-list).
//!
//! Reads are fallible: a storage error is returned, never taken for "no validators".

use std::collections::BTreeSet;

use eyre::eyre;

use huxin_contracts::registry::{self, NextValidators, ValidatorRecord};
use huxin_store::Store;

use crate::context::{Height, PublicKey, Validator, ValidatorSet};

/// The current and scheduled validator records in the state at `version`.
fn records_at_version(store: &Store, version: u64) -> eyre::Result<(Vec<ValidatorRecord>, Option<NextValidators>)> {
    let view = huxin_state::StateView::new(store, version);
    let unreadable = |e: huxin_contracts::StateError| eyre!("reading the validator set at version {version}: {e}");
    let current = registry::validators(&view).map_err(unreadable)?;
    if current.is_empty() {
        return Err(eyre!("no validator set at version {version}"));
    }
    let next = registry::next_validators(&view).map_err(unreadable)?;
    Ok((current, next))
}

fn latest(store: &Store) -> eyre::Result<huxin_types::Height> {
    store.latest_height()?.ok_or_else(|| eyre!("store has no genesis"))
}

/// The validator set in force at `height`, read from the state after block `height - 1`, or after
/// the latest block if that one is not persisted yet. Governance schedules a change two heights
/// after the block that makes it, so the latest state already knows the set of the height after
/// next.
pub fn validator_set(store: &Store, height: Height) -> eyre::Result<ValidatorSet> {
    let version = height.0.saturating_sub(1).min(latest(store)?.0);
    let (current, next) = records_at_version(store, version)?;
    let records = huxin_contracts::registry::select_validators(current, next, huxin_types::Height(height.0));
    Ok(ValidatorSet::new(records.iter().map(|r| Validator::new(PublicKey(r.public_key), r.power)).collect()))
}

/// Every consensus key that is a validator at the next height or in the scheduled set (read at
/// the latest height). A set whose activation has passed replaces the one it was scheduled over,
/// even while the state still keeps the old one as "current".
pub fn known_validator_keys(store: &Store) -> eyre::Result<BTreeSet<huxin_types::PublicKey>> {
    let latest = latest(store)?;
    let (current, next) = records_at_version(store, latest.0)?;
    let scheduled: Vec<ValidatorRecord> = next.as_ref().map(|n| n.validators.clone()).unwrap_or_default();
    let in_force = huxin_contracts::registry::select_validators(current, next, huxin_types::Height(latest.0 + 1));
    Ok(in_force.iter().chain(scheduled.iter()).map(|r| r.public_key).collect())
}

/// The libp2p peer id of the validator with `consensus_key`: derived from the key when it is
/// ed25519, else from the node key genesis named beside it (read at the latest height). `None`
/// if there is none or it cannot be read.
pub fn peer_of(store: &Store, consensus_key: &huxin_types::PublicKey) -> Option<libp2p::PeerId> {
    let node_key = match consensus_key.ed25519() {
        Some(_) => *consensus_key,
        None => {
            let latest = store.latest_height().ok()??;
            let view = huxin_state::StateView::new(store, latest.0);
            huxin_contracts::registry::validator_node_key(&view, consensus_key).ok()??
        }
    };
    crate::gossip::peer_id_of(&node_key.ed25519()?.0)
}
