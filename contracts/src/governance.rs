//! Governance: proposals to change membership, keys, the validator set and rule parameters.
//!
//! Rules:
//! - a trading centre or supervisor proposes; the proposal's id is the proposing transaction's
//!   hash; a proposing trading centre's proposal counts as its yes vote;
//! - active trading centres vote once each; a proposal passes when its yes votes from active
//!   trading centres reach two thirds of the active trading centres (rounded up), and is
//!   rejected once that can no longer happen;
//! - a proposal expires `proposal_ttl_days` (default 7) after it was made; votes after that are
//!   refused, naming the expiry;
//! - a passing proposal executes at once, exactly once, in the transaction of the deciding vote.
//!   If its action no longer fits the ledger (say the member was removed meanwhile), it is marked
//!   failed with the reason and changes nothing;
//! - membership changes act on the next transaction: a suspended or removed member's keys sign
//!   nothing from the next block on (later transactions in the same block are refused too);
//! - validator-set changes are in force from two heights after the executing block, so the set
//!   of every height is known from the state of a block already decided; the fault threshold
//!   follows the new set (Malachite derives it from the voting power).

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::crypto::PublicKey;
use huxin_types::genesis::Role;
use huxin_types::governance::{ProposalAction, Propose, Vote};
use huxin_types::{Hash32, Height, MemberId, RejectCode, TimestampMs};

use crate::registry::{self, MemberRecord, MemberStatus, ValidatorRecord};
use crate::{keys, params, read, rejection, Error, KvState, StateError, TxContext};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Open,
    /// Passed and executed at this height.
    Executed {
        height: Height,
    },
    /// Passed, but its action no longer fitted the ledger.
    Failed {
        height: Height,
        reason: String,
    },
    /// Can no longer reach two thirds.
    Rejected {
        height: Height,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProposalRecord {
    pub id: Hash32,
    pub proposal: Propose,
    pub proposer: MemberId,
    pub height: Height,
    pub time: TimestampMs,
    pub expires_at: TimestampMs,
    /// (voter, approve), sorted by voter.
    pub votes: Vec<(MemberId, bool)>,
    pub status: ProposalStatus,
}

impl ProposalRecord {
    pub fn is_expired(&self, time: TimestampMs) -> bool {
        self.status == ProposalStatus::Open && time >= self.expires_at
    }
}

pub fn proposal(state: &dyn KvState, id: &Hash32) -> Result<Option<ProposalRecord>, StateError> {
    read(state, &keys::proposal(id), "proposal")
}

fn active_trading_centres(state: &dyn KvState) -> Result<Vec<MemberId>, StateError> {
    let mut active = Vec::new();
    for id in registry::member_ids(state)? {
        if registry::member(state, &id)?
            .is_some_and(|m| m.role == Role::TradingCentre && m.status == MemberStatus::Active)
        {
            active.push(id);
        }
    }
    Ok(active)
}

/// Yes votes needed: two thirds of `active`, rounded up.
pub fn threshold(active: usize) -> usize {
    (2 * active).div_ceil(3)
}

fn member_of(state: &dyn KvState, id: &MemberId) -> Result<MemberRecord, Error> {
    registry::member(state, id)?.ok_or_else(|| refused(format!("no member {id}")))
}

fn key_owner(state: &dyn KvState, key: &huxin_types::PublicKey) -> Result<Option<MemberId>, StateError> {
    read(state, &keys::signer(key), "signer")
}

/// Why a proposal's action does not fit the ledger (`rule_violated` when proposed; the reason of a
/// failed proposal when executed).
fn refused(reason: String) -> Error {
    rejection(RejectCode::RuleViolated, reason)
}

/// Make `public_key` a validator of `member` with `power` (or change its power) from two heights
/// on, if `execute`; refused unless the member is an active trading centre and the key is no
/// other member's validator.
fn set_validator(
    ctx: &TxContext,
    state: &mut dyn KvState,
    member: MemberId,
    public_key: PublicKey,
    power: u64,
    execute: bool,
) -> Result<(), Error> {
    let record = member_of(state, &member)?;
    if record.role != Role::TradingCentre || record.status != MemberStatus::Active {
        return Err(refused(format!("member {member} is not an active trading centre; only those run validators")));
    }
    let in_force = registry::validators_at(state, Height(ctx.height.0 + 2))?;
    if in_force.iter().any(|v| v.public_key == public_key && v.member != member) {
        return Err(refused(format!("validator key {public_key} belongs to another member's validator")));
    }
    if execute {
        registry::schedule_validators(state, ctx.height, |set| {
            match set.iter_mut().find(|v| v.public_key == public_key) {
                Some(v) => v.power = power,
                None => set.push(ValidatorRecord { member, public_key, power }),
            }
        })?;
    }
    Ok(())
}

/// Check that `action` fits the ledger now, and if `execute`, carry it out.
fn run(ctx: &TxContext, state: &mut dyn KvState, action: &ProposalAction, execute: bool) -> Result<(), Error> {
    match action {
        ProposalAction::AddMember(m) => {
            let id = MemberId::from_key(&m.keys[0]);
            if registry::member(state, &id)?.is_some() {
                return Err(refused(format!("member {id} already exists")));
            }
            for key in &m.keys {
                registry::expect_suite(state, key, "add_member.keys")?;
                if key_owner(state, key)?.is_some() {
                    return Err(refused(format!("key {key} is already registered to a member")));
                }
            }
            let mut sorted = m.keys.clone();
            sorted.sort();
            if sorted.windows(2).any(|w| w[0] == w[1]) {
                return Err(refused("the new member's keys repeat".into()));
            }
            if execute {
                for (key, value) in registry::new_member_writes(id, &m.name, m.role, m.region, &m.uscc, &m.keys) {
                    state.put(key, value);
                }
                let mut ids = registry::member_ids(state)?;
                if let Err(at) = ids.binary_search(&id) {
                    ids.insert(at, id);
                }
                state.put(keys::members(), codec::encode(&ids));
            }
        }
        ProposalAction::SuspendMember { member } | ProposalAction::RemoveMember { member } => {
            let mut record = member_of(state, member)?;
            let target = if matches!(action, ProposalAction::SuspendMember { .. }) {
                if record.status != MemberStatus::Active {
                    return Err(refused(format!(
                        "member {member} is {:?}; only an active member is suspended",
                        record.status
                    )));
                }
                MemberStatus::Suspended
            } else {
                if record.status == MemberStatus::Removed {
                    return Err(refused(format!("member {member} is already removed")));
                }
                MemberStatus::Removed
            };
            // Its validators leave with it, two heights later like any validator change; a
            // reinstated member is voted a validator again with SetValidator.
            let in_force = registry::validators_at(state, Height(ctx.height.0 + 2))?;
            let runs_validators = in_force.iter().any(|v| v.member == *member);
            if runs_validators && in_force.iter().all(|v| v.member == *member) {
                return Err(refused(format!(
                    "member {member} runs every validator; suspending or removing it would halt the chain"
                )));
            }
            if execute {
                record.status = target;
                registry::put_member(state, &record);
                if runs_validators {
                    let member = *member;
                    registry::schedule_validators(state, ctx.height, |set| set.retain(|v| v.member != member))?;
                }
            }
        }
        ProposalAction::ReinstateMember { member } => {
            let mut record = member_of(state, member)?;
            if record.status != MemberStatus::Suspended {
                return Err(refused(format!(
                    "member {member} is {:?}; only a suspended member is reinstated",
                    record.status
                )));
            }
            if execute {
                record.status = MemberStatus::Active;
                registry::put_member(state, &record);
            }
        }
        ProposalAction::RotateKey { member, old, new } => {
            let mut record = member_of(state, member)?;
            let Some(at) = record.keys.iter().position(|k| k == old) else {
                return Err(refused(format!("key {old} is not one of member {member}'s keys")));
            };
            registry::expect_suite(state, new, "rotate_key.new")?;
            if key_owner(state, new)?.is_some() {
                return Err(refused(format!("key {new} is already registered to a member")));
            }
            if execute {
                record.keys[at] = *new;
                registry::put_member(state, &record);
                // The old key stays mapped to the member (so no one else can register it), but
                // `signer_member` refuses it because the member no longer lists it.
                state.put(keys::signer(new), codec::encode(member));
            }
        }
        ProposalAction::SetValidator { member, public_key, power } => {
            registry::expect_consensus_key(state, public_key, "set_validator.public_key")?;
            set_validator(ctx, state, *member, *public_key, *power, execute)?;
        }
        ProposalAction::SetValidatorWithNodeKey { member, public_key, node_key, power } => {
            registry::expect_suite(state, public_key, "set_validator_with_node_key.public_key")?;
            if public_key.ed25519().is_some() {
                return Err(rejection(
                    RejectCode::InvalidField,
                    format!("validator key {public_key} is ed25519, its own node key: use set_validator"),
                ));
            }
            if node_key.ed25519().is_none() {
                return Err(rejection(
                    RejectCode::InvalidField,
                    format!(
                        "node_key {node_key} is an {} key; a node key (libp2p identity) is ed25519",
                        node_key.suite()
                    ),
                ));
            }
            // One node, one validator: the node key must not be another validator's identity.
            for v in registry::validators_at(state, Height(ctx.height.0 + 2))? {
                if v.public_key != *public_key && registry::validator_node_key(state, &v.public_key)? == Some(*node_key)
                {
                    return Err(refused(format!("node key {node_key} is validator {}'s node key", v.public_key)));
                }
            }
            set_validator(ctx, state, *member, *public_key, *power, execute)?;
            if execute {
                state.put(keys::validator_node(public_key), codec::encode(node_key));
            }
        }
        ProposalAction::RemoveValidator { public_key } => {
            let in_force = registry::validators_at(state, Height(ctx.height.0 + 2))?;
            if !in_force.iter().any(|v| v.public_key == *public_key) {
                return Err(refused(format!("{public_key} is not a validator")));
            }
            if in_force.len() == 1 {
                return Err(refused("the last validator cannot be removed".into()));
            }
            if execute {
                let public_key = *public_key;
                registry::schedule_validators(state, ctx.height, |set| set.retain(|v| v.public_key != public_key))?;
            }
        }
        ProposalAction::SetParams(p) => {
            if execute {
                params::set(state, p);
            }
        }
        ProposalAction::SetRingParams(p) => {
            if execute {
                params::ring_set(state, p);
            }
        }
    }
    Ok(())
}

pub fn propose(ctx: &TxContext, state: &mut dyn KvState, p: &Propose) -> Result<(), Error> {
    p.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    run(ctx, state, &p.action, false)?;
    let id = Hash32(ctx.tx_hash.0);
    let ttl = params::current(state)?.proposal_ttl_ms();
    let mut record = ProposalRecord {
        id,
        proposal: p.clone(),
        proposer: ctx.member.id,
        height: ctx.height,
        time: ctx.time,
        expires_at: TimestampMs(ctx.time.0.saturating_add(ttl)),
        votes: Vec::new(),
        status: ProposalStatus::Open,
    };
    if ctx.member.role == Role::TradingCentre {
        record.votes.push((ctx.member.id, true));
    }
    tally(ctx, state, &mut record)?;
    state.put(keys::proposal(&id), codec::encode(&record));
    Ok(())
}

pub fn vote(ctx: &TxContext, state: &mut dyn KvState, v: &Vote) -> Result<(), Error> {
    let mut record = proposal(state, &v.proposal)?
        .ok_or_else(|| rejection(RejectCode::NotFound, format!("no proposal {}", v.proposal)))?;
    if record.status != ProposalStatus::Open {
        return Err(rejection(
            RejectCode::InvalidTransition,
            format!("proposal {} is {:?}; votes are taken only while it is open", v.proposal, record.status),
        ));
    }
    if record.is_expired(ctx.time) {
        return Err(rejection(
            RejectCode::InvalidTransition,
            format!("proposal {} expired at {} ms; now is {} ms", v.proposal, record.expires_at.0, ctx.time.0),
        ));
    }
    match record.votes.binary_search_by_key(&ctx.member.id, |(voter, _)| *voter) {
        Ok(_) => {
            return Err(rejection(
                RejectCode::Conflict,
                format!("member {} already voted on proposal {}", ctx.member.id, v.proposal),
            ))
        }
        Err(at) => record.votes.insert(at, (ctx.member.id, v.approve)),
    }
    tally(ctx, state, &mut record)?;
    state.put(keys::proposal(&v.proposal), codec::encode(&record));
    Ok(())
}

/// Count the votes of active trading centres; execute or reject when decided.
fn tally(ctx: &TxContext, state: &mut dyn KvState, record: &mut ProposalRecord) -> Result<(), StateError> {
    let active = active_trading_centres(state)?;
    let needed = threshold(active.len());
    let counted = record.votes.iter().filter(|(voter, _)| active.binary_search(voter).is_ok());
    let yes = counted.clone().filter(|(_, approve)| *approve).count();
    let no = counted.filter(|(_, approve)| !*approve).count();
    if yes >= needed && needed > 0 {
        record.status = match run(ctx, state, &record.proposal.action, true) {
            Ok(()) => ProposalStatus::Executed { height: ctx.height },
            Err(Error::Rejected(r)) => ProposalStatus::Failed { height: ctx.height, reason: r.reason },
            Err(Error::State(e)) => return Err(e),
        };
    } else if no > active.len() - needed {
        record.status = ProposalStatus::Rejected { height: ctx.height };
    }
    Ok(())
}
