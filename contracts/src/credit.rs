//! Credit records (资信共享), credit repair (信用修复) and the credit score.
//!
//! Rules:
//! - a supervisor records any kind; a trading centre records every kind except administrative
//!   penalties (those are decided by administrative authorities, 行政监督部门);
//! - a record's id is SHA-256 over the authority's USCC and decision number: one decision is
//!   recorded once; when the authority is itself a member, only that member may record under its
//!   USCC, so nobody can squat a supervisor's coming decision numbers;
//! - each member records at most [`RECORDER_RECORDS_MAX`] records per subject (revoked ones
//!   included: the history stays complete), so no member can use up a subject's room and make it
//!   immune to the others; the records are listed in the order recorded (a [`crate::paged`]
//!   list: one head, pages written once) so the history can be proven complete;
//! - the subject need not be attested (an authority may record before the subject registers);
//! - publication window (end − start) of a negative record (penalty, dishonest conduct) lies
//!   within its severity's window (rule parameters; defaults minor ≤ 3 months, general 3–12
//!   months, serious 12–36 months, months counted as 30 days: 90/365/1095 days); other kinds
//!   are published at most `other_window_max_days`;
//! - repair: only negative records, by the member that recorded it or a supervisor, only once the
//!   severity's minimum window has passed since publication start; revocation of an erroneous
//!   record: by the same members, any time. Either keeps the record in history, marked;
//! - a record is *active* at T when not repaired or revoked and publication_start ≤ T < end;
//! - beside the complete list, the subject's *public list* holds the id and publication window of
//!   each record never repaired or revoked ([`PublicEntry`]); a repair or revocation takes the
//!   record off it. Public answers (history, score) read that list and only the records published
//!   at their time, so a proof of a public answer never carries the content of a pending,
//!   expired, repaired or revoked record: only the windows of unwithdrawn ones.

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::credit::{CreditKind, RecordCredit, RepairCredit, RevokeCredit, Severity};
use huxin_types::genesis::Role;
use huxin_types::governance::{Params, Window};
use huxin_types::identity::SubjectId;
use huxin_types::{Hash32, Height, MemberId, RegionCode, RejectCode, TimestampMs, TxHash};

use crate::{keys, paged, params, read, read_or_default, registry, rejection, Error, KvState, StateError, TxContext};

/// Most credit records one member may record about one subject.
pub const RECORDER_RECORDS_MAX: u32 = 256;

const COMPLETE_LIST: &str = "credit list";
const PUBLIC_LIST: &str = "public credit list";

/// A later mark on a record: repaired or revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Mark {
    pub by: MemberId,
    pub reason: String,
    pub evidence_hash: Option<Hash32>,
    pub height: Height,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreditRecord {
    pub id: Hash32,
    pub record: RecordCredit,
    pub recorded_by: MemberId,
    pub recorded_by_role: Role,
    /// The recording member's region: where the record comes from.
    pub region: RegionCode,
    pub height: Height,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
    pub repaired: Option<Mark>,
    pub revoked: Option<Mark>,
}

/// Where a record stands at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Publication {
    /// Publication has not started yet.
    Pending,
    Active,
    /// Past its publication end.
    Expired,
    Repaired,
    Revoked,
}

impl CreditRecord {
    /// Where the record stands at `time` (a repair or revocation counts from its own time on).
    pub fn publication(&self, time: TimestampMs) -> Publication {
        let marked = |m: &Option<Mark>| m.as_ref().is_some_and(|m| m.time <= time);
        if marked(&self.revoked) {
            Publication::Revoked
        } else if marked(&self.repaired) {
            Publication::Repaired
        } else if time < self.record.publication_start {
            Publication::Pending
        } else if time >= self.record.publication_end {
            Publication::Expired
        } else {
            Publication::Active
        }
    }

    pub fn is_active(&self, time: TimestampMs) -> bool {
        self.publication(time) == Publication::Active
    }

    /// Shown to the public at `time`: published then, and never repaired or revoked. A repair or
    /// revocation withdraws the record from publication for good, its past included, so no
    /// choice of `time` shows it again.
    pub fn is_public(&self, time: TimestampMs) -> bool {
        self.repaired.is_none() && self.revoked.is_none() && self.is_active(time)
    }
}

/// A record on the subject's public list: enough to tell whether it is published at a time
/// without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicEntry {
    pub id: Hash32,
    pub publication_start: TimestampMs,
    pub publication_end: TimestampMs,
}

impl PublicEntry {
    fn is_published(&self, time: TimestampMs) -> bool {
        self.publication_start <= time && time < self.publication_end
    }
}

fn public_list(state: &dyn KvState, subject: &SubjectId) -> Result<Vec<PublicEntry>, StateError> {
    match paged::head(state, &keys::credit_published(subject), PUBLIC_LIST)? {
        Some(head) => paged::entries(state, &keys::credit_published(subject), head, PUBLIC_LIST),
        None => read_or_default(state, &keys::credit_public(subject), "public credit list (protocol 2)"),
    }
}

/// The subject's public list's head for a change, moving a list protocol version 2 stored first
/// (its entries numbered in their order).
fn public_to_change(state: &mut dyn KvState, subject: &SubjectId) -> Result<paged::Head<PublicEntry>, StateError> {
    let key = keys::credit_published(subject);
    if let Some(head) = paged::head(state, &key, PUBLIC_LIST)? {
        return Ok(head);
    }
    let old: Vec<PublicEntry> =
        read_or_default(state, &keys::credit_public(subject), "public credit list (protocol 2)")?;
    if old.is_empty() {
        return Ok(paged::Head::default());
    }
    for (ordinal, entry) in old.iter().enumerate() {
        state.put(keys::credit_published_at(&entry.id), codec::encode(&u32::try_from(ordinal).unwrap_or(u32::MAX)));
    }
    state.delete(keys::credit_public(subject));
    Ok(paged::from_whole(state, &key, old))
}

/// The subject's complete list's head for a change, moving a list protocol version 2 stored first.
fn ids_to_change(state: &mut dyn KvState, subject: &SubjectId) -> Result<paged::Head<Hash32>, StateError> {
    let key = keys::credit_ids(subject);
    if let Some(head) = paged::head(state, &key, COMPLETE_LIST)? {
        return Ok(head);
    }
    let old: Vec<Hash32> = read_or_default(state, &keys::credit_list(subject), "credit list (protocol 2)")?;
    if old.is_empty() {
        return Ok(paged::Head::default());
    }
    state.delete(keys::credit_list(subject));
    Ok(paged::from_whole(state, &key, old))
}

/// Take `id` off its subject's public list (a repair or revocation).
fn withdraw(state: &mut dyn KvState, subject: &SubjectId, id: &Hash32) -> Result<(), StateError> {
    let mut head = public_to_change(state, subject)?;
    let Some(ordinal) = read::<u32>(state, &keys::credit_published_at(id), "public credit list place")? else {
        return Ok(());
    };
    if !paged::remove(state, &keys::credit_published(subject), &mut head, ordinal, |e| e.id == *id, PUBLIC_LIST)? {
        return Err(StateError::Corrupt {
            what: PUBLIC_LIST,
            detail: format!("record {id} has place {ordinal} on the public list of {subject}, which does not hold it"),
        });
    }
    state.delete(keys::credit_published_at(id));
    Ok(())
}

/// The records about `subject` public at `time` (see [`CreditRecord::is_public`]), in the order
/// recorded. Reads the public list and the published records only: the state a proof of this
/// answer carries holds no hidden record.
pub fn public_records(
    state: &dyn KvState,
    subject: &SubjectId,
    time: TimestampMs,
) -> Result<Vec<CreditRecord>, StateError> {
    let mut public = Vec::new();
    for entry in public_list(state, subject)?.iter().filter(|e| e.is_published(time)) {
        public.extend(record(state, &entry.id)?.filter(|r| r.is_public(time)));
    }
    Ok(public)
}

pub fn window(params: &Params, severity: Severity) -> Window {
    match severity {
        Severity::Minor => params.minor_window,
        Severity::General => params.general_window,
        Severity::Serious => params.serious_window,
    }
}

pub fn record(state: &dyn KvState, id: &Hash32) -> Result<Option<CreditRecord>, StateError> {
    read(state, &keys::credit_record(id), "credit record")
}

/// Every record id about `subject`, in the order recorded.
pub fn record_ids(state: &dyn KvState, subject: &SubjectId) -> Result<Vec<Hash32>, StateError> {
    match paged::head(state, &keys::credit_ids(subject), COMPLETE_LIST)? {
        Some(head) => paged::entries(state, &keys::credit_ids(subject), head, COMPLETE_LIST),
        None => read_or_default(state, &keys::credit_list(subject), "credit list (protocol 2)"),
    }
}

/// Every record about `subject`, in the order recorded.
pub fn history(state: &dyn KvState, subject: &SubjectId) -> Result<Vec<CreditRecord>, StateError> {
    let mut records = Vec::new();
    for id in record_ids(state, subject)? {
        records.extend(record(state, &id)?);
    }
    Ok(records)
}

pub fn record_credit(ctx: &TxContext, state: &mut dyn KvState, r: &RecordCredit) -> Result<(), Error> {
    r.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    if r.kind == CreditKind::AdministrativePenalty && ctx.member.role != Role::Supervisor {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!("a {} may not record an administrative penalty; only a supervisor may", ctx.member.role.as_str()),
        ));
    }
    let params = params::current(state)?;
    let length = r.publication_end.0 - r.publication_start.0;
    let (min, max, what) = if r.kind.is_negative() {
        let w = window(&params, r.severity);
        (w.min_ms(), w.max_ms(), format!("a {:?} {:?} record", r.severity, r.kind))
    } else {
        (0, u64::from(params.other_window_max_days) * 86_400_000, format!("a {:?} record", r.kind))
    };
    if length < min || length > max {
        return Err(rejection(
            RejectCode::RuleViolated,
            format!(
                "{what} is published for {} to {} days; this one for {length} ms ({} whole days)",
                min / 86_400_000,
                max / 86_400_000,
                length / 86_400_000
            ),
        ));
    }
    let id = r.record_id(ctx.suite());
    if let Some(existing) = record(state, &id)? {
        return Err(rejection(
            RejectCode::Conflict,
            format!(
                "decision {} of {} is already recorded as {id} (height {})",
                r.decision_no, r.authority_uscc, existing.height
            ),
        ));
    }
    if let Some(authority) = registry::member_by_uscc(state, &r.authority_uscc)? {
        if authority.id != ctx.member.id {
            return Err(rejection(
                RejectCode::NotPermitted,
                format!(
                    "{} is the USCC of member {} ({}); only it may record its decisions",
                    r.authority_uscc, authority.name, authority.id
                ),
            ));
        }
    }
    let count_key = keys::credit_count(&r.subject, &ctx.member.id);
    let recorded: u32 = read(state, &count_key, "credit record count")?.unwrap_or(0);
    if recorded >= RECORDER_RECORDS_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!("you have recorded {recorded} credit records about {}, the most one member may", r.subject),
        ));
    }
    state.put(count_key, codec::encode(&(recorded + 1)));
    let stored = CreditRecord {
        id,
        record: r.clone(),
        recorded_by: ctx.member.id,
        recorded_by_role: ctx.member.role,
        region: ctx.member.region,
        height: ctx.height,
        time: ctx.time,
        tx_hash: ctx.tx_hash,
        repaired: None,
        revoked: None,
    };
    state.put(keys::credit_record(&id), codec::encode(&stored));
    let mut ids = ids_to_change(state, &r.subject)?;
    paged::push(state, &keys::credit_ids(&r.subject), &mut ids, id);
    let mut public = public_to_change(state, &r.subject)?;
    let entry = PublicEntry { id, publication_start: r.publication_start, publication_end: r.publication_end };
    let ordinal = paged::push(state, &keys::credit_published(&r.subject), &mut public, entry);
    state.put(keys::credit_published_at(&id), codec::encode(&ordinal));
    Ok(())
}

/// The record `id`, checked to be markable by the signer and not yet marked.
fn markable(ctx: &TxContext, state: &dyn KvState, id: &Hash32) -> Result<CreditRecord, Error> {
    let stored = record(state, id)?.ok_or_else(|| rejection(RejectCode::NotFound, format!("no credit record {id}")))?;
    if ctx.member.role != Role::Supervisor && stored.recorded_by != ctx.member.id {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!("record {id} was recorded by member {}; only it or a supervisor may change it", stored.recorded_by),
        ));
    }
    if let Some(m) = &stored.revoked {
        return Err(rejection(RejectCode::InvalidTransition, format!("record {id} is revoked (height {})", m.height)));
    }
    if let Some(m) = &stored.repaired {
        return Err(rejection(RejectCode::InvalidTransition, format!("record {id} is repaired (height {})", m.height)));
    }
    Ok(stored)
}

fn mark(ctx: &TxContext, reason: &str, evidence_hash: Option<Hash32>) -> Mark {
    Mark {
        by: ctx.member.id,
        reason: reason.to_owned(),
        evidence_hash,
        height: ctx.height,
        time: ctx.time,
        tx_hash: ctx.tx_hash,
    }
}

pub fn repair(ctx: &TxContext, state: &mut dyn KvState, r: &RepairCredit) -> Result<(), Error> {
    r.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut stored = markable(ctx, state, &r.record_id)?;
    if !stored.record.kind.is_negative() {
        return Err(rejection(
            RejectCode::InvalidTransition,
            format!(
                "record {} is a {:?}; only penalties and dishonest conduct are repaired",
                r.record_id, stored.record.kind
            ),
        ));
    }
    let min = window(&params::current(state)?, stored.record.severity).min_ms();
    let earliest = stored.record.publication_start.0.saturating_add(min);
    if ctx.time.0 < earliest {
        return Err(rejection(
            RejectCode::RuleViolated,
            format!(
                "a {:?} record may be repaired only after its minimum publication of {} days, from {earliest} ms; now is {} ms",
                stored.record.severity,
                min / 86_400_000,
                ctx.time.0
            ),
        ));
    }
    stored.repaired = Some(mark(ctx, &r.reason, Some(r.evidence_hash)));
    state.put(keys::credit_record(&r.record_id), codec::encode(&stored));
    withdraw(state, &stored.record.subject, &r.record_id)?;
    Ok(())
}

pub fn revoke(ctx: &TxContext, state: &mut dyn KvState, r: &RevokeCredit) -> Result<(), Error> {
    r.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut stored = markable(ctx, state, &r.record_id)?;
    stored.revoked = Some(mark(ctx, &r.reason, None));
    state.put(keys::credit_record(&r.record_id), codec::encode(&stored));
    withdraw(state, &stored.record.subject, &r.record_id)?;
    Ok(())
}

/// One line of a score's breakdown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoreItem {
    pub record_id: Option<Hash32>,
    pub what: String,
    pub points: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Score {
    /// 0 to 100.
    pub score: u32,
    pub items: Vec<ScoreItem>,
}

/// The subject's credit score at `time` from the records public then (see
/// [`CreditRecord::is_public`]), with every contribution.
///
/// score = base − Σ severity points of active negative records
///       + min(commendation cap, Σ commendation points)
///       + ⌊(average active evaluation/performance score − pivot) / divisor⌋, clamped to 0–100.
pub fn score(state: &dyn KvState, subject: &SubjectId, time: TimestampMs) -> Result<Score, StateError> {
    score_of(state, &public_records(state, subject, time)?)
}

/// The score of `public`, the subject's records public at the time (as [`public_records`] gives
/// them), under the rule parameters in `state`.
pub fn score_of(state: &dyn KvState, public: &[CreditRecord]) -> Result<Score, StateError> {
    let p = params::current(state)?.score;
    let mut items = vec![ScoreItem { record_id: None, what: "base".into(), points: i64::from(p.base) }];
    let mut commendations: i64 = 0;
    let (mut eval_sum, mut eval_count) = (0i64, 0i64);
    for r in public {
        let kind = r.record.kind;
        if kind.is_negative() {
            let points = match r.record.severity {
                Severity::Minor => p.minor_points,
                Severity::General => p.general_points,
                Severity::Serious => p.serious_points,
            };
            items.push(ScoreItem {
                record_id: Some(r.id),
                what: format!("{:?} {:?} ({})", r.record.severity, kind, r.record.decision_no),
                points: -i64::from(points),
            });
        } else if kind == CreditKind::Commendation {
            let room = i64::from(p.commendation_cap) - commendations;
            let points = i64::from(p.commendation_points).min(room).max(0);
            commendations += points;
            items.push(ScoreItem {
                record_id: Some(r.id),
                what: format!("commendation ({})", r.record.decision_no),
                points,
            });
        } else if let Some(s) = r.record.score {
            eval_sum += i64::from(s);
            eval_count += 1;
        }
    }
    if eval_count > 0 {
        let delta = (eval_sum - i64::from(p.evaluation_pivot) * eval_count)
            .div_euclid(eval_count * i64::from(p.evaluation_divisor.max(1)));
        items.push(ScoreItem {
            record_id: None,
            what: format!("{eval_count} evaluation(s), average {}", eval_sum / eval_count),
            points: delta,
        });
    }
    let total: i64 = items.iter().map(|i| i.points).sum();
    Ok(Score { score: total.clamp(0, 100) as u32, items })
}
