//! E-guarantees (电子保函).
//!
//! Lifecycle: issued → verified (a trading centre records that it checked it) → claimed (by the
//! tender region's trading centre, with reason and evidence, only while valid) → paid (by the
//! issuing provider, at most the claimed amount); or released (注销, by the provider or the
//! tender region's centre, after award or contract); or cancelled by the provider before anyone
//! verified it; or replaced by a later guarantee when bid opening was postponed. *Expired* is
//! derived: an issued or verified guarantee at or after its `valid_until`.
//!
//! Rules at issue:
//! - the number is unique on the ledger; validity end after start; the section is not archived;
//! - the applicant is eligible in the tender's region at the block time (attested, recognised,
//!   not blacklisted; see [`crate::blacklist::eligibility`]);
//! - at most one active bid bond per applicant and section (a replacement takes the old one's
//!   place);
//! - a bid bond is at most `bid_bond_max_permille` (default 20‰ = 2%) of the section's
//!   estimated price when its announcement anchor stated one (招标投标法实施条例 art. 26);
//! - bid bonds of different applicants in one section whose premium one payer paid raise a risk
//!   warning (see [`crate::risk`]).
//!
//! Every illegal transition is rejected with [`RejectCode::InvalidTransition`] naming the
//! current state.

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::genesis::Role;
use huxin_types::guarantee::{ClaimGuarantee, GuaranteeKind, GuaranteeNote, IssueGuarantee, PayGuarantee};
use huxin_types::identity::SubjectId;
use huxin_types::{Hash32, Height, MemberId, RegionCode, RejectCode, TimestampMs, TxHash};

use crate::deal;
use crate::risk::{self, RiskKind};
use crate::{blacklist, keys, params, read, rejection, Error, KvState, StateError, TxContext};

/// Most verifications one guarantee records.
pub const VERIFICATIONS_MAX: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuaranteeState {
    Issued,
    Verified,
    Claimed,
    Paid,
    Released,
    Cancelled,
    Replaced,
    /// Derived from time, never stored.
    Expired,
}

impl GuaranteeState {
    pub fn as_str(self) -> &'static str {
        match self {
            GuaranteeState::Issued => "issued",
            GuaranteeState::Verified => "verified",
            GuaranteeState::Claimed => "claimed",
            GuaranteeState::Paid => "paid",
            GuaranteeState::Released => "released",
            GuaranteeState::Cancelled => "cancelled",
            GuaranteeState::Replaced => "replaced",
            GuaranteeState::Expired => "expired",
        }
    }
}

/// One step in a guarantee's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GuaranteeEvent {
    pub state: GuaranteeState,
    pub by: MemberId,
    pub region: RegionCode,
    pub reason: String,
    pub amount_fen: Option<u64>,
    pub evidence_hash: Option<Hash32>,
    pub height: Height,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GuaranteeRecord {
    pub guarantee: IssueGuarantee,
    pub provider: MemberId,
    /// The stored state (see [`GuaranteeRecord::current_state`] and [`GuaranteeRecord::state_at`]
    /// for the one in force).
    pub state: GuaranteeState,
    /// The amount claimed, once claimed.
    pub claimed_fen: Option<u64>,
    /// The guarantee that replaced this one.
    pub replaced_by: Option<String>,
    /// Issue first, then every step, in order.
    pub history: Vec<GuaranteeEvent>,
}

impl GuaranteeRecord {
    /// The state now, at block time `time`: the stored state, except that an issued or verified
    /// guarantee expires at `valid_until`. Transitions are checked against this.
    pub fn current_state(&self, time: TimestampMs) -> GuaranteeState {
        match self.state {
            GuaranteeState::Issued | GuaranteeState::Verified if time >= self.guarantee.valid_until => {
                GuaranteeState::Expired
            }
            s => s,
        }
    }

    /// The state in force at any `time`, past or present (for queries): the state of the last
    /// step recorded at or before `time` (the issued state before the first step), and issued or
    /// verified guarantees expire at `valid_until`. At the latest block's time this is
    /// [`Self::current_state`].
    pub fn state_at(&self, time: TimestampMs) -> GuaranteeState {
        let recorded =
            self.history.iter().rev().find(|e| e.time <= time).or(self.history.first()).map_or(self.state, |e| e.state);
        match recorded {
            GuaranteeState::Issued | GuaranteeState::Verified if time >= self.guarantee.valid_until => {
                GuaranteeState::Expired
            }
            s => s,
        }
    }

    pub fn is_active(&self, time: TimestampMs) -> bool {
        matches!(self.current_state(time), GuaranteeState::Issued | GuaranteeState::Verified | GuaranteeState::Claimed)
    }
}

pub fn guarantee(state: &dyn KvState, number: &str) -> Result<Option<GuaranteeRecord>, StateError> {
    read(state, &keys::guarantee(number), "guarantee")
}

fn put(state: &mut dyn KvState, record: &GuaranteeRecord) {
    state.put(keys::guarantee(&record.guarantee.number), codec::encode(record));
}

fn event(ctx: &TxContext, state: GuaranteeState, reason: &str) -> GuaranteeEvent {
    GuaranteeEvent {
        state,
        by: ctx.member.id,
        region: ctx.member.region,
        reason: reason.to_owned(),
        amount_fen: None,
        evidence_hash: None,
        height: ctx.height,
        time: ctx.time,
        tx_hash: ctx.tx_hash,
    }
}

fn not_from(number: &str, current: GuaranteeState, step: &str) -> Error {
    rejection(RejectCode::InvalidTransition, format!("guarantee {number} is {}; it cannot be {step}", current.as_str()))
}

fn load(state: &dyn KvState, number: &str) -> Result<GuaranteeRecord, Error> {
    guarantee(state, number)?.ok_or_else(|| rejection(RejectCode::NotFound, format!("no guarantee numbered {number}")))
}

fn issuer_only(ctx: &TxContext, record: &GuaranteeRecord, step: &str) -> Result<(), Error> {
    if record.provider != ctx.member.id {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!(
                "guarantee {} was issued by member {}; only it may be {step} by a provider",
                record.guarantee.number, record.provider
            ),
        ));
    }
    Ok(())
}

pub fn issue(ctx: &TxContext, state: &mut dyn KvState, g: &IssueGuarantee) -> Result<(), Error> {
    g.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    if let Some(existing) = guarantee(state, &g.number)? {
        return Err(rejection(
            RejectCode::Conflict,
            format!("guarantee number {} is already on the ledger (height {})", g.number, existing.history[0].height),
        ));
    }
    // A refused transaction's writes are discarded, so an old-form section moved here stays as it was.
    let mut section = deal::section::section_to_change(state, &g.tender)?;
    deal::check_not_archived(&section)?;
    let applicant = SubjectId::Organisation(g.applicant.clone());
    let eligibility = blacklist::eligibility(state, &applicant, g.tender.region, ctx.time)?;
    if !eligibility.eligible {
        return Err(rejection(
            RejectCode::RuleViolated,
            format!(
                "applicant {} is not eligible in region {}: {}",
                g.applicant,
                g.tender.region,
                eligibility.reasons.join("; ")
            ),
        ));
    }

    let mut replaced = match &g.replaces {
        Some(number) => {
            let earlier = load(state, number)?;
            issuer_only(ctx, &earlier, "replaced")?;
            if earlier.guarantee.applicant != g.applicant
                || earlier.guarantee.tender != g.tender
                || earlier.guarantee.kind != g.kind
            {
                return Err(rejection(
                    RejectCode::RuleViolated,
                    format!(
                        "guarantee {number} is for another applicant, section or kind; a replacement keeps all three"
                    ),
                ));
            }
            let current = earlier.current_state(ctx.time);
            if !matches!(current, GuaranteeState::Issued | GuaranteeState::Verified | GuaranteeState::Expired) {
                return Err(not_from(number, current, "replaced"));
            }
            Some(earlier)
        }
        None => None,
    };

    if g.kind == GuaranteeKind::BidBond {
        if let Some(number) = read::<String>(state, &keys::bid_bond(&g.tender, &g.applicant), "bid bond index")? {
            let is_replaced = g.replaces.as_deref() == Some(number.as_str());
            if let Some(held) = guarantee(state, &number)?.filter(|h| h.is_active(ctx.time) && !is_replaced) {
                return Err(rejection(
                    RejectCode::Conflict,
                    format!(
                        "applicant {} already holds active bid bond {number} ({}) for section {}",
                        g.applicant,
                        held.current_state(ctx.time).as_str(),
                        g.tender
                    ),
                ));
            }
        }
        if let Some(price) = section.estimated_price_fen {
            let permille = params::current(state)?.bid_bond_max_permille;
            let cap = u128::from(price) * u128::from(permille) / 1000;
            if u128::from(g.amount_fen) > cap {
                return Err(rejection(
                    RejectCode::RuleViolated,
                    format!(
                        "a bid bond is at most {permille}‰ of the section's estimated price {price} fen, i.e. {cap} fen; got {} fen",
                        g.amount_fen
                    ),
                ));
            }
        }
        state.put(keys::bid_bond(&g.tender, &g.applicant), codec::encode(&g.number));

        let mut applicants: Vec<_> = deal::section::applicants_paid_by(state, &g.tender, &g.premium_payer)?
            .into_iter()
            .filter(|applicant| *applicant != g.applicant)
            .collect();
        if !applicants.is_empty() {
            applicants.push(g.applicant.clone());
            applicants.sort();
            applicants.dedup();
            risk::raise(
                ctx,
                state,
                &g.tender,
                RiskKind::SameGuaranteePayer { payer: g.premium_payer.clone(), applicants },
            )?;
        }
        if deal::section::add_bond_pair(state, &mut section, &g.premium_payer, &g.applicant)? {
            deal::section::put_section(state, &section);
        }
    }

    if let Some(earlier) = replaced.as_mut() {
        earlier.state = GuaranteeState::Replaced;
        earlier.replaced_by = Some(g.number.clone());
        earlier.history.push(event(ctx, GuaranteeState::Replaced, &format!("replaced by {}", g.number)));
        put(state, earlier);
    }
    let mut issued = event(ctx, GuaranteeState::Issued, "");
    issued.amount_fen = Some(g.amount_fen);
    issued.evidence_hash = Some(g.document_hash);
    put(
        state,
        &GuaranteeRecord {
            guarantee: g.clone(),
            provider: ctx.member.id,
            state: GuaranteeState::Issued,
            claimed_fen: None,
            replaced_by: None,
            history: vec![issued],
        },
    );
    Ok(())
}

pub fn verify(ctx: &TxContext, state: &mut dyn KvState, n: &GuaranteeNote) -> Result<(), Error> {
    n.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut record = load(state, &n.number)?;
    let current = record.current_state(ctx.time);
    if !matches!(current, GuaranteeState::Issued | GuaranteeState::Verified) {
        return Err(not_from(&n.number, current, "verified"));
    }
    let verifications = record.history.iter().filter(|e| e.state == GuaranteeState::Verified);
    if let Some(earlier) = verifications.clone().find(|e| e.by == ctx.member.id) {
        return Err(rejection(
            RejectCode::Conflict,
            format!("this centre already verified guarantee {} at height {}", n.number, earlier.height),
        ));
    }
    if verifications.count() >= VERIFICATIONS_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!("guarantee {} has {VERIFICATIONS_MAX} verifications, the most allowed", n.number),
        ));
    }
    record.state = GuaranteeState::Verified;
    record.history.push(event(ctx, GuaranteeState::Verified, &n.reason));
    put(state, &record);
    Ok(())
}

pub fn claim(ctx: &TxContext, state: &mut dyn KvState, c: &ClaimGuarantee) -> Result<(), Error> {
    c.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut record = load(state, &c.number)?;
    if ctx.member.region != record.guarantee.tender.region {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!(
                "only the trading centre of the tender's region {} claims on guarantee {}",
                record.guarantee.tender.region, c.number
            ),
        ));
    }
    let current = record.current_state(ctx.time);
    if !matches!(current, GuaranteeState::Issued | GuaranteeState::Verified) {
        return Err(not_from(&c.number, current, "claimed"));
    }
    if ctx.time < record.guarantee.valid_from {
        return Err(rejection(
            RejectCode::RuleViolated,
            format!(
                "guarantee {} is valid from {} ms; now is {} ms",
                c.number, record.guarantee.valid_from.0, ctx.time.0
            ),
        ));
    }
    if c.amount_fen > record.guarantee.amount_fen {
        return Err(rejection(
            RejectCode::RuleViolated,
            format!("claim of {} fen exceeds the guaranteed {} fen", c.amount_fen, record.guarantee.amount_fen),
        ));
    }
    record.state = GuaranteeState::Claimed;
    record.claimed_fen = Some(c.amount_fen);
    let mut e = event(ctx, GuaranteeState::Claimed, &c.reason);
    e.amount_fen = Some(c.amount_fen);
    e.evidence_hash = Some(c.evidence_hash);
    record.history.push(e);
    put(state, &record);
    Ok(())
}

pub fn pay(ctx: &TxContext, state: &mut dyn KvState, p: &PayGuarantee) -> Result<(), Error> {
    p.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut record = load(state, &p.number)?;
    issuer_only(ctx, &record, "paid")?;
    let current = record.current_state(ctx.time);
    if current != GuaranteeState::Claimed {
        return Err(not_from(&p.number, current, "paid"));
    }
    let claimed = record.claimed_fen.unwrap_or(0);
    if p.amount_fen > claimed {
        return Err(rejection(
            RejectCode::RuleViolated,
            format!("payment of {} fen exceeds the claimed {claimed} fen", p.amount_fen),
        ));
    }
    record.state = GuaranteeState::Paid;
    let mut e = event(ctx, GuaranteeState::Paid, "");
    e.amount_fen = Some(p.amount_fen);
    e.evidence_hash = Some(p.evidence_hash);
    record.history.push(e);
    put(state, &record);
    Ok(())
}

pub fn release(ctx: &TxContext, state: &mut dyn KvState, n: &GuaranteeNote) -> Result<(), Error> {
    n.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut record = load(state, &n.number)?;
    match ctx.member.role {
        Role::GuaranteeProvider => issuer_only(ctx, &record, "released")?,
        _ if ctx.member.region != record.guarantee.tender.region => {
            return Err(rejection(
                RejectCode::NotPermitted,
                format!(
                    "only the issuer or the centre of region {} releases guarantee {}",
                    record.guarantee.tender.region, n.number
                ),
            ))
        }
        _ => {}
    }
    let current = record.current_state(ctx.time);
    if !matches!(current, GuaranteeState::Issued | GuaranteeState::Verified | GuaranteeState::Expired) {
        return Err(not_from(&n.number, current, "released"));
    }
    record.state = GuaranteeState::Released;
    record.history.push(event(ctx, GuaranteeState::Released, &n.reason));
    put(state, &record);
    Ok(())
}

pub fn cancel(ctx: &TxContext, state: &mut dyn KvState, n: &GuaranteeNote) -> Result<(), Error> {
    n.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut record = load(state, &n.number)?;
    issuer_only(ctx, &record, "cancelled")?;
    let current = record.current_state(ctx.time);
    if current != GuaranteeState::Issued {
        return Err(not_from(&n.number, current, "cancelled"));
    }
    record.state = GuaranteeState::Cancelled;
    record.history.push(event(ctx, GuaranteeState::Cancelled, &n.reason));
    put(state, &record);
    Ok(())
}
