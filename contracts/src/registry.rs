//! The membership registry: who may sign, in which role and region, and with which keys; the
//! validator set; per-key nonces.
//!
//! Rules:
//! - genesis lists the first members; a member's id comes from its first key;
//! - only a key registered to an *active* member may sign (a suspended or removed member signs
//!   nothing from the next block on);
//! - each key's nonces run 1, 2, 3, …; a transaction must carry exactly the next one. A
//!   transaction consumes its nonce whether its action is applied or rejected, so a rejected
//!   transaction can never be replayed.

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::crypto::{PublicKey, Suite};
use huxin_types::genesis::{Genesis, Role};
use huxin_types::{Height, MemberId, RegionCode, RejectCode, Rejection, Uscc};

use crate::{keys, read, read_or_default, rejection, Error, KvState, StateError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Active,
    Suspended,
    Removed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberRecord {
    pub id: MemberId,
    pub name: String,
    pub role: Role,
    pub region: RegionCode,
    pub uscc: Uscc,
    pub status: MemberStatus,
    pub keys: Vec<PublicKey>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ValidatorRecord {
    pub member: MemberId,
    pub public_key: PublicKey,
    pub power: u64,
}

/// The writes that register an active member: its record, and each key's signer entry. Genesis
/// and governance's `add_member` both use them (the member list is kept by each caller).
pub fn new_member_writes(
    id: MemberId,
    name: &str,
    role: huxin_types::genesis::Role,
    region: huxin_types::RegionCode,
    uscc: &huxin_types::Uscc,
    member_keys: &[PublicKey],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let record = MemberRecord {
        id,
        name: name.to_owned(),
        role,
        region,
        uscc: uscc.clone(),
        status: MemberStatus::Active,
        keys: member_keys.to_vec(),
    };
    let mut writes = vec![(keys::member(&id), codec::encode(&record))];
    writes.extend(member_keys.iter().map(|key| (keys::signer(key), codec::encode(&id))));
    writes
}

/// The state writes that create the genesis ledger, in key order.
pub fn genesis_writes(genesis: &Genesis) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut writes = Vec::new();
    for m in &genesis.members {
        let Some(id) = m.id() else { continue };
        writes.extend(new_member_writes(id, &m.name, m.role, m.region, &m.uscc, &m.keys));
    }
    let validators: Vec<ValidatorRecord> = genesis
        .validators
        .iter()
        .filter_map(|v| {
            let member = genesis.members.iter().find(|m| m.name == v.member)?.id()?;
            Some(ValidatorRecord { member, public_key: v.public_key, power: v.power })
        })
        .collect();
    writes.push((keys::validators(), codec::encode(&validators)));
    let mut ids: Vec<MemberId> = genesis.members.iter().filter_map(|m| m.id()).collect();
    ids.sort();
    ids.dedup();
    writes.push((keys::members(), codec::encode(&ids)));
    if genesis.suite != Suite::Ed25519Sha256 {
        writes.push((keys::suite(), codec::encode(&genesis.suite)));
    }
    for v in &genesis.validators {
        if let Some(node_key) = v.node_key {
            writes.push((keys::validator_node(&v.public_key), codec::encode(&node_key)));
        }
    }
    writes.sort();
    writes
}

/// The chain's suite, as genesis set it.
pub fn suite(state: &dyn KvState) -> Result<Suite, StateError> {
    read_or_default(state, &keys::suite(), "suite")
}

/// Refuse a key of another suite than the chain's, in `field` of the transaction (`invalid_field`).
pub fn expect_suite(state: &dyn KvState, key: &PublicKey, field: &str) -> Result<(), Error> {
    let suite = suite(state)?;
    if key.suite() != suite {
        return Err(rejection(
            RejectCode::InvalidField,
            format!("{field}: key {key} is an {} key; this chain's suite is {suite}", key.suite()),
        ));
    }
    Ok(())
}

/// Refuse a key `set_validator` cannot make a validator (`invalid_field`): one of another suite
/// than the chain's, or one that is not ed25519 (its node key comes with it, by
/// `set_validator_with_node_key`).
pub fn expect_consensus_key(state: &dyn KvState, key: &PublicKey, field: &str) -> Result<(), Error> {
    expect_suite(state, key, field)?;
    if key.ed25519().is_none() {
        return Err(rejection(
            RejectCode::InvalidField,
            format!(
                "{field}: key {key} is an {} key; a validator with an SM2 key is set with its node key (set_validator_with_node_key)",
                key.suite()
            ),
        ));
    }
    Ok(())
}

/// The ed25519 node key (network identity) of the validator with `consensus_key`: the key
/// itself when it is ed25519, else the one genesis named beside it.
pub fn validator_node_key(state: &dyn KvState, consensus_key: &PublicKey) -> Result<Option<PublicKey>, StateError> {
    if consensus_key.ed25519().is_some() {
        return Ok(Some(*consensus_key));
    }
    read(state, &keys::validator_node(consensus_key), "validator node key")
}

pub fn member(state: &dyn KvState, id: &MemberId) -> Result<Option<MemberRecord>, StateError> {
    read(state, &keys::member(id), "member")
}

/// Every member id ever registered, sorted.
pub fn member_ids(state: &dyn KvState) -> Result<Vec<MemberId>, StateError> {
    read_or_default(state, &keys::members(), "member list")
}

/// The member whose organisation has this USCC, if any (members are few: a scan).
pub fn member_by_uscc(state: &dyn KvState, uscc: &Uscc) -> Result<Option<MemberRecord>, StateError> {
    for id in member_ids(state)? {
        if let Some(m) = member(state, &id)?.filter(|m| &m.uscc == uscc) {
            return Ok(Some(m));
        }
    }
    Ok(None)
}

pub fn put_member(state: &mut dyn KvState, record: &MemberRecord) {
    state.put(keys::member(&record.id), codec::encode(record));
}

/// The validator set stored as current (see [`validators_at`] for the one in force at a height).
pub fn validators(state: &dyn KvState) -> Result<Vec<ValidatorRecord>, StateError> {
    read_or_default(state, &keys::validators(), "validator set")
}

/// A validator set that takes over from `activation` on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NextValidators {
    pub activation: Height,
    pub validators: Vec<ValidatorRecord>,
}

pub fn next_validators(state: &dyn KvState) -> Result<Option<NextValidators>, StateError> {
    read(state, &keys::validators_next(), "next validator set")
}

/// Which of the current and the scheduled set is in force at `height`.
pub fn select_validators(
    current: Vec<ValidatorRecord>,
    next: Option<NextValidators>,
    height: Height,
) -> Vec<ValidatorRecord> {
    match next {
        Some(n) if n.activation <= height => n.validators,
        _ => current,
    }
}

/// The validator set in force at `height`, from state after any earlier block (a change made at
/// height h is in force from h + 2, so state after h already knows the set of h + 2).
pub fn validators_at(state: &dyn KvState, height: Height) -> Result<Vec<ValidatorRecord>, StateError> {
    Ok(select_validators(validators(state)?, next_validators(state)?, height))
}

/// Schedule `set` for `ctx.height + 2`, folding an earlier schedule that is due by then into the
/// current set.
pub fn schedule_validators(
    state: &mut dyn KvState,
    at: Height,
    change: impl FnOnce(&mut Vec<ValidatorRecord>),
) -> Result<(), StateError> {
    let mut current = validators(state)?;
    let mut next = next_validators(state)?;
    if let Some(n) = next.take_if(|n| n.activation.0 <= at.0 + 1) {
        current = n.validators;
    }
    let mut set = next.map_or_else(|| current.clone(), |n| n.validators);
    change(&mut set);
    state.put(keys::validators(), codec::encode(&current));
    state
        .put(keys::validators_next(), codec::encode(&NextValidators { activation: Height(at.0 + 2), validators: set }));
    Ok(())
}

/// The active member that owns `key`, or why there is none.
pub fn signer_member(state: &dyn KvState, key: &PublicKey) -> Result<MemberRecord, Error> {
    let id: MemberId = read(state, &keys::signer(key), "signer")?
        .ok_or_else(|| rejection(RejectCode::UnknownSigner, format!("key {key} is not registered to any member")))?;
    let record = member(state, &id)?.ok_or_else(|| {
        rejection(RejectCode::UnknownSigner, format!("key {key} names member {id}, which does not exist"))
    })?;
    if !record.keys.contains(key) {
        return Err(rejection(
            RejectCode::SignerInactive,
            format!("key {key} was rotated out of member {} ({}); it signs nothing", record.name, record.id),
        ));
    }
    if record.status != MemberStatus::Active {
        return Err(rejection(
            RejectCode::SignerInactive,
            format!("member {} ({}) is {:?}; only active members may sign", record.name, record.id, record.status),
        ));
    }
    Ok(record)
}

/// The last nonce `key` used (0 if none).
pub fn last_nonce(state: &dyn KvState, key: &PublicKey) -> Result<u64, StateError> {
    Ok(read(state, &keys::nonce(key), "nonce")?.unwrap_or(0))
}

/// Check that `nonce` is the next one for `key`.
pub fn check_nonce(state: &dyn KvState, key: &PublicKey, nonce: u64) -> Result<(), Error> {
    Ok(expect_next_nonce(key, last_nonce(state, key)?, nonce)?)
}

/// Check that `nonce` follows `last`, the key's last used nonce.
pub fn expect_next_nonce(key: &PublicKey, last: u64, nonce: u64) -> Result<(), Rejection> {
    if nonce != last.saturating_add(1) {
        return Err(Rejection::new(
            RejectCode::BadNonce,
            format!("key {key} expects nonce {}, got {nonce}", last.saturating_add(1)),
        ));
    }
    Ok(())
}

pub fn consume_nonce(state: &mut dyn KvState, key: &PublicKey, nonce: u64) {
    state.put(keys::nonce(key), codec::encode(&nonce));
}
