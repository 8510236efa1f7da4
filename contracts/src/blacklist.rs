//! The blacklist ("一处失信，处处受罚") and bidding eligibility.
//!
//! Rules:
//! - a supervisor lists a subject with any scope (national, or a set of regions); a trading centre
//!   only within its own region (scope exactly its region);
//! - an entry carries reason, legal basis, decision number (unique per subject), start and end
//!   (or indefinite); at most [`SUBJECT_ENTRIES_MAX`] entries per subject;
//! - an entry is lifted early, with a reason, by a supervisor, or by a trading centre for an entry
//!   scoped to its own region; a lifted entry stays on the ledger, marked lifted;
//! - eligibility of subject S in region R at time T: attested and counted in R (see
//!   [`crate::identity::recognised_in`]), and no unlifted entry covering R with start ≤ T < end.
//!   The answer lists every reason it is not.

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::genesis::Role;
use huxin_types::identity::{BlacklistScope, LiftBlacklist, ListOnBlacklist, SubjectId};
use huxin_types::{Height, MemberId, RegionCode, RejectCode, Rejection, TimestampMs, TxHash};

use crate::{decode_record, identity, keys, rejection, KvState, TxContext};

/// Most blacklist entries one subject may carry.
pub const SUBJECT_ENTRIES_MAX: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Lifted {
    pub by: MemberId,
    pub reason: String,
    pub time: TimestampMs,
    pub height: Height,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlacklistEntry {
    pub subject: SubjectId,
    pub scope: BlacklistScope,
    pub reason: String,
    pub legal_basis: String,
    pub decision_no: String,
    pub start: TimestampMs,
    pub end: Option<TimestampMs>,
    pub listed_by: MemberId,
    pub listed_by_role: Role,
    pub height: Height,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
    pub lifted: Option<Lifted>,
}

impl BlacklistEntry {
    /// In force in `region` at `time`.
    pub fn bars(&self, region: RegionCode, time: TimestampMs) -> bool {
        self.lifted.is_none()
            && self.start <= time
            && self.end.is_none_or(|end| time < end)
            && self.scope.covers(region)
    }

    fn describe(&self) -> String {
        let until = self.end.map_or("indefinitely".to_owned(), |e| format!("until {} ms", e.0));
        let scope = match &self.scope {
            BlacklistScope::National => "nationally".to_owned(),
            BlacklistScope::Regions(r) => {
                format!("in regions {}", r.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", "))
            }
        };
        format!(
            "blacklisted {scope} from {} ms {until} by decision {} ({})",
            self.start.0, self.decision_no, self.reason
        )
    }
}

pub fn entries(state: &dyn KvState, subject: &SubjectId) -> Vec<BlacklistEntry> {
    state.get(&keys::blacklist(subject)).map(|b| decode_record(&b, "blacklist entries")).unwrap_or_default()
}

fn own_region_only(ctx: &TxContext, scope: &BlacklistScope) -> bool {
    matches!(scope, BlacklistScope::Regions(r) if r.as_slice() == [ctx.member.region])
}

pub fn list(ctx: &TxContext, state: &mut dyn KvState, l: &ListOnBlacklist) -> Result<(), Rejection> {
    l.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    if ctx.member.role == Role::TradingCentre && !own_region_only(ctx, &l.scope) {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!(
                "a trading centre may list only within its own region; scope must be exactly [{}]",
                ctx.member.region
            ),
        ));
    }
    let mut list = entries(state, &l.subject);
    if let Some(e) = list.iter().find(|e| e.decision_no == l.decision_no) {
        return Err(rejection(
            RejectCode::Conflict,
            format!("decision {} already lists {} (height {})", l.decision_no, l.subject, e.height),
        ));
    }
    if list.len() >= SUBJECT_ENTRIES_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!("{} already has {SUBJECT_ENTRIES_MAX} blacklist entries, the most allowed", l.subject),
        ));
    }
    list.push(BlacklistEntry {
        subject: l.subject.clone(),
        scope: l.scope.clone(),
        reason: l.reason.clone(),
        legal_basis: l.legal_basis.clone(),
        decision_no: l.decision_no.clone(),
        start: l.start,
        end: l.end,
        listed_by: ctx.member.id,
        listed_by_role: ctx.member.role,
        height: ctx.height,
        time: ctx.time,
        tx_hash: ctx.tx_hash,
        lifted: None,
    });
    state.put(keys::blacklist(&l.subject), codec::encode(&list));
    Ok(())
}

pub fn lift(ctx: &TxContext, state: &mut dyn KvState, l: &LiftBlacklist) -> Result<(), Rejection> {
    l.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut list = entries(state, &l.subject);
    let entry = list.iter_mut().find(|e| e.decision_no == l.decision_no).ok_or_else(|| {
        rejection(RejectCode::NotFound, format!("{} has no blacklist entry with decision {}", l.subject, l.decision_no))
    })?;
    if let Some(lifted) = &entry.lifted {
        return Err(rejection(
            RejectCode::Conflict,
            format!("entry {} was already lifted at height {}", l.decision_no, lifted.height),
        ));
    }
    if ctx.member.role == Role::TradingCentre && !own_region_only(ctx, &entry.scope) {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!(
                "entry {} is not scoped to region {} alone; only a supervisor may lift it",
                l.decision_no, ctx.member.region
            ),
        ));
    }
    entry.lifted = Some(Lifted { by: ctx.member.id, reason: l.reason.clone(), time: ctx.time, height: ctx.height });
    state.put(keys::blacklist(&l.subject), codec::encode(&list));
    Ok(())
}

/// May `subject` take part in a trade in `region` at `time`?
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Eligibility {
    pub eligible: bool,
    /// Every reason it may not (empty when eligible).
    pub reasons: Vec<String>,
}

pub fn eligibility(state: &dyn KvState, subject: &SubjectId, region: RegionCode, time: TimestampMs) -> Eligibility {
    let mut reasons = identity::recognised_in(state, subject, region, time).err().unwrap_or_default();
    reasons.extend(entries(state, subject).iter().filter(|e| e.bars(region, time)).map(|e| e.describe()));
    Eligibility { eligible: reasons.is_empty(), reasons }
}
