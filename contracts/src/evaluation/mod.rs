//! Remote cross-region evaluation (远程异地评标) with a verifiable expert draw. Rules:
//!
//! - **Enrol** (`enrol_expert`): an attested, active expert enters the pool (专家库) through the
//!   centre of its home region, with its specialties and employer; enrolling again replaces them.
//!   At most [`POOL_PER_SPECIALTY_MAX`] experts per specialty.
//! - **Open** (`open_evaluation`): the tender region's centre (the host), for an announced
//!   section, names the guest venues (regions with an active trading centre), the seats per
//!   specialty, the avoidance rules and the SHA-256 of its secret. The pool is fixed *now*: for
//!   each specialty, the enrolled experts whose attestation is active, who are not from the
//!   tender's region when the session says so, and whose employer is not avoided; each specialty
//!   must have at least as many as it seats. The session's id is the transaction's hash.
//! - **Commit** (`commit_draw`): each guest's centre commits to its secret, once, before any
//!   reveal.
//! - **Reveal** (`reveal_draw`): once every venue has committed, each venue's centre reveals its
//!   secret, which must hash to its commitment. The last reveal draws
//!   ([`huxin_types::evaluation::draw`]) with the seed of every secret, from the pool fixed at
//!   opening: no expert twice.
//!
//! So no centre can steer the draw: the pool is fixed before any secret is shown, every secret is
//! fixed before any is shown, and one honest venue's secret makes the seed unpredictable. The
//! last venue to reveal can only refuse to reveal, which stalls the session in plain sight on the
//! ledger; it cannot choose the outcome.
//! - **Seats** (`reveal_seats`): after the section's opening record, the host reveals the seat
//!   secret it committed to when opening; the sitting experts are placed at the venues
//!   ([`huxin_types::evaluation::seat`]). Until then nobody but the host knows who sits where
//!   (三盲), and the host fixed the secret before the draw's seed existed.
//! - **Replacement** (`replace_expert`): the host replaces a sitting expert who refused, was
//!   absent or has a conflict, with the reason; the next pick among the specialty's pool members
//!   never drawn in this session takes the seat (none left: recorded as such).
//! - **Documents** (`anchor_evaluation`): each venue anchors its scoring sheets; the host
//!   anchors the report once every venue has, which closes the session.

use serde::{Deserialize, Serialize};

use huxin_types::evaluation::{
    commitment_of, draw, draw_seed, replacement, seat, AnchorEvaluation, CommitDraw, EnrolExpert, EvaluationDocument,
    OpenEvaluation, ReplaceExpert, ReplaceReason, RevealDraw, RevealSeats, Seats,
};
use huxin_types::genesis::Role;
use huxin_types::identity::SubjectId;
use huxin_types::tx::DealStage;
use huxin_types::tx::TenderRef;
use huxin_types::{codec, Hash32, Height, MemberId, RegionCode, RejectCode, TimestampMs, Uscc};

use crate::identity::{attestation, AttestationStatus};
use crate::registry::{member, member_ids, MemberStatus};
use crate::{read, read_or_default, rejection, Error, KvState, StateError, TxContext};

mod pool;
pub use pool::pool;
use pool::Pool;

/// Most experts enrolled per specialty.
pub const POOL_PER_SPECIALTY_MAX: usize = 4096;

/// An expert in the pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PoolEntry {
    pub expert: Hash32,
    pub specialties: Vec<String>,
    pub employer: Uscc,
    pub home_region: RegionCode,
    pub enrolled_height: Height,
}

/// One venue's part in the draw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Venue {
    pub region: RegionCode,
    pub centre: MemberId,
    pub commitment: Option<Hash32>,
    pub secret: Option<Hash32>,
}

/// A drawn seat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DrawnSeat {
    pub specialty: String,
    pub expert: Hash32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Venues commit, then reveal.
    Open,
    /// The experts are drawn; seats, replacements and the venues' documents follow.
    Drawn { height: Height, time: TimestampMs },
    /// The report is anchored: nothing more is taken.
    Closed { height: Height, time: TimestampMs },
}

/// A drawn expert replaced, and by whom (None: the pool had nobody left).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Replacement {
    pub expert: Hash32,
    pub specialty: String,
    pub reason: ReplaceReason,
    pub note: String,
    pub replaced_by: Option<Hash32>,
    pub height: Height,
}

/// Where a drawn expert sits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeatAt {
    pub expert: Hash32,
    pub region: RegionCode,
}

/// A document a venue anchored for the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionDocument {
    pub region: RegionCode,
    pub kind: EvaluationDocument,
    pub document_hash: Hash32,
    pub height: Height,
    pub time: TimestampMs,
}

/// An evaluation session, as stored and served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvaluationSession {
    pub id: Hash32,
    pub tender: TenderRef,
    /// The host first, then the guests in order.
    pub venues: Vec<Venue>,
    pub seats: Vec<Seats>,
    pub avoid_tender_region: bool,
    pub avoid_employers: Vec<Uscc>,
    pub opened_height: Height,
    pub opened_time: TimestampMs,
    pub status: SessionStatus,
    /// Set by the draw: SHA-256 of every venue's secret (see [`draw_seed`]).
    pub seed: Option<Hash32>,
    pub drawn: Vec<DrawnSeat>,
    /// Seats the draw could not fill: an expert eligible for two specialties is drawn once, so
    /// overlapping pools can run short. Empty when every seat is filled.
    pub unfilled: Vec<Seats>,
    /// The host's commitment to its seat secret, and the secret once revealed (after the bid
    /// opening).
    pub seat_commitment: Hash32,
    pub seat_secret: Option<Hash32>,
    /// How many replacements came before the seats were revealed (the seating placed the experts
    /// sitting then; later replacements take the seat of whom they replace).
    pub replaced_before_seating: u32,
    /// Where each expert sits, once the seat secret is revealed.
    pub seating: Vec<SeatAt>,
    pub replacements: Vec<Replacement>,
    pub documents: Vec<SessionDocument>,
}

/// Most replacements in one session, and most documents one venue anchors for it.
pub const SESSION_REPLACEMENTS_MAX: usize = 64;
pub const VENUE_DOCUMENTS_MAX: usize = 64;

impl EvaluationSession {
    /// The experts sitting now: the drawn ones, replacements in place of whom they replaced.
    pub fn sitting(&self) -> Vec<DrawnSeat> {
        self.sitting_after(self.replacements.len())
    }

    /// The experts sitting after the first `n` replacements: the drawn ones not replaced, then
    /// the replacements, in order.
    pub fn sitting_after(&self, n: usize) -> Vec<DrawnSeat> {
        let done = &self.replacements[..n.min(self.replacements.len())];
        self.drawn
            .iter()
            .filter(|d| !done.iter().any(|r| r.expert == d.expert))
            .cloned()
            .chain(
                done.iter()
                    .filter_map(|r| r.replaced_by.map(|e| DrawnSeat { specialty: r.specialty.clone(), expert: e })),
            )
            .filter(|d| !done.iter().any(|r| r.expert == d.expert))
            .collect()
    }
}

/// The pool each specialty had when the session opened (sorted experts), in seat order.
pub type SessionPool = Vec<Vec<Hash32>>;

fn entry_key(expert: &Hash32) -> Vec<u8> {
    format!("expert_pool_entry/{expert}").into_bytes()
}
fn session_key(id: &Hash32) -> Vec<u8> {
    format!("evaluation/{id}").into_bytes()
}
fn session_pool_key(id: &Hash32) -> Vec<u8> {
    format!("evaluation_pool/{id}").into_bytes()
}

pub fn pool_entry(state: &dyn KvState, expert: &Hash32) -> Result<Option<PoolEntry>, StateError> {
    read(state, &entry_key(expert), "expert pool entry")
}

pub fn session(state: &dyn KvState, id: &Hash32) -> Result<Option<EvaluationSession>, StateError> {
    read(state, &session_key(id), "evaluation session")
}

pub fn session_pool(state: &dyn KvState, id: &Hash32) -> Result<SessionPool, StateError> {
    read_or_default(state, &session_pool_key(id), "evaluation pool")
}

/// The active trading centre of `region`, if any.
fn centre_of(state: &dyn KvState, region: RegionCode) -> Result<Option<MemberId>, StateError> {
    for id in member_ids(state)? {
        if let Some(m) = member(state, &id)?
            .filter(|m| m.role == Role::TradingCentre && m.region == region && m.status == MemberStatus::Active)
        {
            return Ok(Some(m.id));
        }
    }
    Ok(None)
}

pub fn enrol(ctx: &TxContext, state: &mut dyn KvState, e: &EnrolExpert) -> Result<(), Error> {
    e.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let subject = SubjectId::Expert(e.expert);
    let record = attestation(state, &subject)?
        .ok_or_else(|| rejection(RejectCode::NotFound, format!("{subject} is not attested")))?;
    if !matches!(record.status, AttestationStatus::Active) {
        return Err(rejection(RejectCode::RuleViolated, format!("{subject}'s attestation is revoked")));
    }
    if record.home_region != ctx.member.region {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!("{subject} is attested in region {}; only its home centre enrols it", record.home_region),
        ));
    }
    let previous = pool_entry(state, &e.expert)?;
    for specialty in previous.iter().flat_map(|p| &p.specialties).filter(|s| !e.specialties.contains(s)) {
        Pool::to_change(state, specialty)?.remove(state, &e.expert)?;
    }
    for specialty in &e.specialties {
        let mut pool = Pool::to_change(state, specialty)?;
        if !pool.contains(state, &e.expert)? {
            if pool.size() >= POOL_PER_SPECIALTY_MAX {
                return Err(rejection(
                    RejectCode::Conflict,
                    format!("the pool for {specialty:?} holds {POOL_PER_SPECIALTY_MAX} experts, its most"),
                ));
            }
            pool.push(state, e.expert);
        }
    }
    let entry = PoolEntry {
        expert: e.expert,
        specialties: e.specialties.clone(),
        employer: e.employer.clone(),
        home_region: record.home_region,
        enrolled_height: ctx.height,
    };
    state.put(entry_key(&e.expert), codec::encode(&entry));
    Ok(())
}

pub fn open(ctx: &TxContext, state: &mut dyn KvState, o: &OpenEvaluation) -> Result<(), Error> {
    o.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    if ctx.member.region != o.tender.region {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!("only the centre of the tender's region {} opens its evaluation", o.tender.region),
        ));
    }
    if crate::deal::section(state, &o.tender)?.is_none() {
        return Err(rejection(RejectCode::NotFound, format!("section {} has no anchor on the ledger", o.tender)));
    }
    let mut venues =
        vec![Venue { region: o.tender.region, centre: ctx.member.id, commitment: Some(o.commitment), secret: None }];
    for region in &o.guests {
        let centre = centre_of(state, *region)?
            .ok_or_else(|| rejection(RejectCode::NotFound, format!("region {region} has no active trading centre")))?;
        venues.push(Venue { region: *region, centre, commitment: None, secret: None });
    }
    // The pool is fixed now, before any secret is shown.
    let mut pools: SessionPool = Vec::new();
    for seat in &o.seats {
        let mut eligible = Vec::new();
        for expert in pool(state, &seat.specialty)? {
            let Some(entry) = pool_entry(state, &expert)? else { continue };
            let active = attestation(state, &SubjectId::Expert(expert))?
                .is_some_and(|a| matches!(a.status, AttestationStatus::Active));
            let local = o.avoid_tender_region && entry.home_region == o.tender.region;
            if active && !local && o.avoid_employers.binary_search(&entry.employer).is_err() {
                eligible.push(expert);
            }
        }
        if eligible.len() < seat.count as usize {
            return Err(rejection(
                RejectCode::RuleViolated,
                format!(
                    "only {} eligible experts in {:?} after avoidance; the session seats {}",
                    eligible.len(),
                    seat.specialty,
                    seat.count
                ),
            ));
        }
        pools.push(eligible);
    }
    let id = Hash32(ctx.tx_hash.0);
    let session = EvaluationSession {
        id,
        tender: o.tender.clone(),
        venues,
        seats: o.seats.clone(),
        avoid_tender_region: o.avoid_tender_region,
        avoid_employers: o.avoid_employers.clone(),
        opened_height: ctx.height,
        opened_time: ctx.time,
        status: SessionStatus::Open,
        seed: None,
        drawn: Vec::new(),
        unfilled: Vec::new(),
        seat_commitment: o.seat_commitment,
        seat_secret: None,
        replaced_before_seating: 0,
        seating: Vec::new(),
        replacements: Vec::new(),
        documents: Vec::new(),
    };
    state.put(session_pool_key(&id), codec::encode(&pools));
    state.put(session_key(&id), codec::encode(&session));
    Ok(())
}

/// The open session `id` and the signer's venue in it.
fn venue_of(ctx: &TxContext, state: &dyn KvState, id: &Hash32) -> Result<(EvaluationSession, usize), Error> {
    let (s, venue) = any_venue_of(ctx, state, id)?;
    if !matches!(s.status, SessionStatus::Open) {
        return Err(rejection(RejectCode::InvalidTransition, format!("session {id} has drawn its experts already")));
    }
    Ok((s, venue))
}

/// The session `id` and the signer's venue in it, whatever its status.
fn any_venue_of(ctx: &TxContext, state: &dyn KvState, id: &Hash32) -> Result<(EvaluationSession, usize), Error> {
    let s =
        session(state, id)?.ok_or_else(|| rejection(RejectCode::NotFound, format!("no evaluation session {id}")))?;
    let venue = s.venues.iter().position(|v| v.centre == ctx.member.id).ok_or_else(|| {
        rejection(RejectCode::NotPermitted, format!("member {} is no venue's centre in session {id}", ctx.member.id))
    })?;
    Ok((s, venue))
}

/// The drawn (not closed) session `id`, the signer being its host.
fn hosted_drawn(ctx: &TxContext, state: &dyn KvState, id: &Hash32) -> Result<EvaluationSession, Error> {
    let (s, venue) = any_venue_of(ctx, state, id)?;
    if venue != 0 {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!("only session {id}'s host (region {}) does this", s.venues[0].region),
        ));
    }
    match s.status {
        SessionStatus::Drawn { .. } => Ok(s),
        SessionStatus::Open => Err(rejection(RejectCode::InvalidTransition, format!("session {id} has not drawn yet"))),
        SessionStatus::Closed { .. } => {
            Err(rejection(RejectCode::InvalidTransition, format!("session {id} is closed")))
        }
    }
}

/// After the section's bid opening, the host reveals the seat secret: the experts sitting now
/// are placed at the venues.
pub fn reveal_seats(ctx: &TxContext, state: &mut dyn KvState, r: &RevealSeats) -> Result<(), Error> {
    let mut s = hosted_drawn(ctx, state, &r.session)?;
    if s.seat_secret.is_some() {
        return Err(rejection(RejectCode::Conflict, "the seats are revealed already"));
    }
    let opened = crate::deal::section(state, &s.tender)?.is_some_and(|t| t.has_stage(DealStage::OpeningRecord));
    if !opened {
        return Err(rejection(
            RejectCode::InvalidTransition,
            format!("section {} has no opening record yet: seats stay blind until the bids are opened", s.tender),
        ));
    }
    if commitment_of(ctx.suite(), &r.secret) != s.seat_commitment {
        return Err(rejection(RejectCode::RuleViolated, "this secret does not hash to the session's seat commitment"));
    }
    let seed = s.seed.unwrap_or(Hash32::ZERO);
    let experts: Vec<Hash32> = s.sitting().into_iter().map(|d| d.expert).collect();
    let venues: Vec<RegionCode> = s.venues.iter().map(|v| v.region).collect();
    s.seating = seat(ctx.suite(), &r.secret, &seed, &experts, &venues)
        .into_iter()
        .map(|(expert, region)| SeatAt { expert, region })
        .collect();
    s.seat_secret = Some(r.secret);
    s.replaced_before_seating = s.replacements.len() as u32;
    state.put(session_key(&r.session), codec::encode(&s));
    Ok(())
}

/// The host replaces a sitting expert: the next replacement pick among the specialty's pool
/// members never drawn in this session takes the seat.
pub fn replace(ctx: &TxContext, state: &mut dyn KvState, r: &ReplaceExpert) -> Result<(), Error> {
    r.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut s = hosted_drawn(ctx, state, &r.session)?;
    let Some(sitting) = s.sitting().into_iter().find(|d| d.expert == r.expert) else {
        return Err(rejection(
            RejectCode::NotFound,
            format!("expert:{} does not sit in session {}", r.expert, r.session),
        ));
    };
    if s.replacements.len() >= SESSION_REPLACEMENTS_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!("a session replaces at most {SESSION_REPLACEMENTS_MAX} experts"),
        ));
    }
    let pools = session_pool(state, &s.id)?;
    let pool = s
        .seats
        .iter()
        .position(|seat| seat.specialty == sitting.specialty)
        .and_then(|i| pools.get(i))
        .cloned()
        .unwrap_or_default();
    let ever_drawn =
        |e: &Hash32| s.drawn.iter().any(|d| d.expert == *e) || s.replacements.iter().any(|x| x.replaced_by == Some(*e));
    let candidates: Vec<Hash32> = pool.into_iter().filter(|e| !ever_drawn(e)).collect();
    let replaced_by =
        replacement(ctx.suite(), &s.seed.unwrap_or(Hash32::ZERO), s.replacements.len() as u32, &candidates);
    match replaced_by {
        Some(new) => s.seating.iter_mut().filter(|x| x.expert == r.expert).for_each(|x| x.expert = new),
        // Nobody left: the seat stays empty.
        None => s.seating.retain(|x| x.expert != r.expert),
    }
    s.replacements.push(Replacement {
        expert: r.expert,
        specialty: sitting.specialty,
        reason: r.reason,
        note: r.note.clone(),
        replaced_by,
        height: ctx.height,
    });
    state.put(session_key(&r.session), codec::encode(&s));
    Ok(())
}

/// A venue anchors its scoring sheets; the host anchors the report once every venue has anchored
/// sheets, which closes the session.
pub fn anchor_document(ctx: &TxContext, state: &mut dyn KvState, a: &AnchorEvaluation) -> Result<(), Error> {
    let (mut s, venue) = any_venue_of(ctx, state, &a.session)?;
    match s.status {
        SessionStatus::Drawn { .. } => {}
        SessionStatus::Open => {
            return Err(rejection(RejectCode::InvalidTransition, format!("session {} has not drawn yet", a.session)))
        }
        SessionStatus::Closed { .. } => {
            return Err(rejection(RejectCode::InvalidTransition, format!("session {} is closed", a.session)))
        }
    }
    let region = s.venues[venue].region;
    if s.documents.iter().filter(|d| d.region == region).count() >= VENUE_DOCUMENTS_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!("a venue anchors at most {VENUE_DOCUMENTS_MAX} documents"),
        ));
    }
    if s.documents.iter().any(|d| d.document_hash == a.document_hash) {
        return Err(rejection(RejectCode::Conflict, format!("document {} is anchored already", a.document_hash)));
    }
    if a.kind == EvaluationDocument::Report {
        if venue != 0 {
            return Err(rejection(RejectCode::NotPermitted, "only the host anchors the evaluation report"));
        }
        let missing: Vec<String> = s
            .venues
            .iter()
            .filter(|v| !s.documents.iter().any(|d| d.region == v.region && d.kind == EvaluationDocument::ScoringSheet))
            .map(|v| v.region.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(rejection(
                RejectCode::InvalidTransition,
                format!(
                    "venues {} have anchored no scoring sheet: the report closes the session after every venue's",
                    missing.join(", ")
                ),
            ));
        }
        s.status = SessionStatus::Closed { height: ctx.height, time: ctx.time };
    }
    s.documents.push(SessionDocument {
        region,
        kind: a.kind,
        document_hash: a.document_hash,
        height: ctx.height,
        time: ctx.time,
    });
    state.put(session_key(&a.session), codec::encode(&s));
    Ok(())
}

pub fn commit(ctx: &TxContext, state: &mut dyn KvState, c: &CommitDraw) -> Result<(), Error> {
    let (mut s, venue) = venue_of(ctx, state, &c.session)?;
    if s.venues.iter().any(|v| v.secret.is_some()) {
        return Err(rejection(
            RejectCode::InvalidTransition,
            "a venue has revealed its secret: commitments are closed",
        ));
    }
    if s.venues[venue].commitment.is_some() {
        return Err(rejection(
            RejectCode::Conflict,
            format!("region {}'s commitment is recorded already; it cannot change", s.venues[venue].region),
        ));
    }
    s.venues[venue].commitment = Some(c.commitment);
    state.put(session_key(&c.session), codec::encode(&s));
    Ok(())
}

pub fn reveal(ctx: &TxContext, state: &mut dyn KvState, r: &RevealDraw) -> Result<(), Error> {
    let (mut s, venue) = venue_of(ctx, state, &r.session)?;
    if let Some(waiting) = s.venues.iter().find(|v| v.commitment.is_none()) {
        return Err(rejection(
            RejectCode::InvalidTransition,
            format!(
                "region {} has not committed yet: secrets are revealed once every venue has committed",
                waiting.region
            ),
        ));
    }
    let v = &mut s.venues[venue];
    if v.secret.is_some() {
        return Err(rejection(RejectCode::Conflict, format!("region {} has revealed already", v.region)));
    }
    if Some(commitment_of(ctx.suite(), &r.secret)) != v.commitment {
        return Err(rejection(
            RejectCode::RuleViolated,
            format!("this secret does not hash to region {}'s commitment", v.region),
        ));
    }
    v.secret = Some(r.secret);
    let secrets: Option<Vec<Hash32>> = s.venues.iter().map(|v| v.secret).collect();
    if let Some(secrets) = secrets {
        let seed = draw_seed(ctx.suite(), &s.id, &secrets);
        let pools = session_pool(state, &s.id)?;
        s.drawn = draw(ctx.suite(), &seed, &s.seats, &pools)
            .into_iter()
            .map(|(specialty, expert)| DrawnSeat { specialty, expert })
            .collect();
        s.unfilled = s
            .seats
            .iter()
            .filter_map(|seat| {
                let filled = s.drawn.iter().filter(|d| d.specialty == seat.specialty).count() as u32;
                (filled < seat.count).then(|| Seats { specialty: seat.specialty.clone(), count: seat.count - filled })
            })
            .collect();
        s.seed = Some(seed);
        s.status = SessionStatus::Drawn { height: ctx.height, time: ctx.time };
    }
    state.put(session_key(&r.session), codec::encode(&s));
    Ok(())
}
