//! The blacklist ("一处失信，处处受罚") and bidding eligibility.
//!
//! Rules:
//! - a supervisor lists a subject with any scope (national, or a set of regions); a trading centre
//!   only within its own region (scope exactly its region);
//! - an entry carries reason, legal basis, decision number (unique per lister and subject: an
//!   authority numbers its own decisions, so nobody can squat another's number), start and end
//!   (or indefinite); an entry must end after the block that lists it;
//! - caps count only *live* entries (not lifted, not ended), per lister: at most
//!   [`LISTER_LIVE_ENTRIES_MAX`] per lister and subject, so no member can use up a subject's room
//!   and make it immune to everyone else's discipline; of the dead entries the latest
//!   [`SUBJECT_DEAD_ENTRIES_MAX`] stay in state (older ones remain in their blocks);
//! - an entry is lifted early, with a reason, by a supervisor, or by a member of the lister's role
//!   for an entry scoped to its own region alone (a trading centre never lifts a supervisor's
//!   entry); a lifted entry stays on the ledger, marked lifted;
//! - eligibility of subject S in region R at time T: attested and counted in R (see
//!   [`crate::identity::recognised_in`]), and no unlifted entry covering R with start ≤ T < end.
//!   The answer lists every reason it is not.

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::genesis::Role;
use huxin_types::identity::{BlacklistScope, LiftBlacklist, ListOnBlacklist, SubjectId};
use huxin_types::{Height, MemberId, RegionCode, RejectCode, TimestampMs, TxHash};

use crate::{identity, keys, read_or_default, rejection, Error, KvState, StateError, TxContext};

/// Most live (not lifted, not ended) entries one lister may hold on one subject.
pub const LISTER_LIVE_ENTRIES_MAX: usize = 32;
/// Most dead (lifted or ended) entries kept in a subject's state; the oldest leave first.
pub const SUBJECT_DEAD_ENTRIES_MAX: usize = 256;

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

    /// Not lifted and not ended at `time` (it may not have started yet).
    pub fn live(&self, time: TimestampMs) -> bool {
        self.lifted.is_none() && self.end.is_none_or(|end| time < end)
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

pub fn entries(state: &dyn KvState, subject: &SubjectId) -> Result<Vec<BlacklistEntry>, StateError> {
    read_or_default(state, &keys::blacklist(subject), "blacklist entries")
}

fn own_region_only(ctx: &TxContext, scope: &BlacklistScope) -> bool {
    matches!(scope, BlacklistScope::Regions(r) if r.as_slice() == [ctx.member.region])
}

pub fn list(ctx: &TxContext, state: &mut dyn KvState, l: &ListOnBlacklist) -> Result<(), Error> {
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
    if let Some(end) = l.end.filter(|end| *end <= ctx.time) {
        return Err(rejection(
            RejectCode::InvalidField,
            format!(
                "entry would end at {} ms, not after the block time {} ms: it would bar nothing",
                end.0, ctx.time.0
            ),
        ));
    }
    let mut list = entries(state, &l.subject)?;
    let own = |e: &&BlacklistEntry| e.listed_by == ctx.member.id;
    if let Some(e) = list.iter().filter(own).find(|e| e.decision_no == l.decision_no) {
        return Err(rejection(
            RejectCode::Conflict,
            format!("your decision {} already lists {} (height {})", l.decision_no, l.subject, e.height),
        ));
    }
    let live = list.iter().filter(own).filter(|e| e.live(ctx.time)).count();
    if live >= LISTER_LIVE_ENTRIES_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!(
                "you already hold {live} live blacklist entries on {}, the most one member may; lift or let one end first",
                l.subject
            ),
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
    forget_oldest_dead(&mut list, ctx.time);
    state.put(keys::blacklist(&l.subject), codec::encode(&list));
    Ok(())
}

/// Keep at most [`SUBJECT_DEAD_ENTRIES_MAX`] dead entries, dropping the oldest.
fn forget_oldest_dead(list: &mut Vec<BlacklistEntry>, time: TimestampMs) {
    let mut excess = list.iter().filter(|e| !e.live(time)).count().saturating_sub(SUBJECT_DEAD_ENTRIES_MAX);
    list.retain(|e| {
        let drop = excess > 0 && !e.live(time);
        excess -= usize::from(drop);
        !drop
    });
}

pub fn lift(ctx: &TxContext, state: &mut dyn KvState, l: &LiftBlacklist) -> Result<(), Error> {
    l.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut list = entries(state, &l.subject)?;
    // The sender's own entry with that number, else the only entry with it.
    let matching: Vec<usize> = (0..list.len()).filter(|&i| list[i].decision_no == l.decision_no).collect();
    let index = match matching.iter().copied().find(|&i| list[i].listed_by == ctx.member.id) {
        Some(i) => i,
        None => match matching.as_slice() {
            [] => {
                return Err(rejection(
                    RejectCode::NotFound,
                    format!("{} has no blacklist entry with decision {}", l.subject, l.decision_no),
                ))
            }
            [i] => *i,
            several => {
                return Err(rejection(
                    RejectCode::Conflict,
                    format!(
                        "{} entries on {} carry decision {} (listed by different members); only a lister can say which it lifts",
                        several.len(),
                        l.subject,
                        l.decision_no
                    ),
                ))
            }
        },
    };
    let entry = &mut list[index];
    if let Some(lifted) = &entry.lifted {
        return Err(rejection(
            RejectCode::Conflict,
            format!("entry {} was already lifted at height {}", l.decision_no, lifted.height),
        ));
    }
    if ctx.member.role != Role::Supervisor {
        if entry.listed_by_role != ctx.member.role {
            return Err(rejection(
                RejectCode::NotPermitted,
                format!(
                    "entry {} was listed by a {}; only a supervisor or a member of that role may lift it",
                    l.decision_no,
                    entry.listed_by_role.as_str()
                ),
            ));
        }
        if !own_region_only(ctx, &entry.scope) {
            return Err(rejection(
                RejectCode::NotPermitted,
                format!(
                    "entry {} is not scoped to region {} alone; only a supervisor may lift it",
                    l.decision_no, ctx.member.region
                ),
            ));
        }
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

pub fn eligibility(
    state: &dyn KvState,
    subject: &SubjectId,
    region: RegionCode,
    time: TimestampMs,
) -> Result<Eligibility, StateError> {
    let mut reasons = identity::recognition_refusals(state, subject, region, time)?;
    reasons.extend(entries(state, subject)?.iter().filter(|e| e.bars(region, time)).map(|e| e.describe()));
    Ok(Eligibility { eligible: reasons.is_empty(), reasons })
}
