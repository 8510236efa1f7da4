//! Deal anchors (全流程留痕): a trading centre records the SHA-256 of a deal document with its
//! tender section, stage, deal code, platform and parties, so anyone can later prove the document
//! unaltered, who anchored it and when.
//!
//! Rules:
//! - only trading centres anchor, and only for tenders of their own region, except bids: a bid
//!   may come from another region's platform (cross-platform trading, 跨平台交易);
//! - stages move forward only (the same stage may repeat: many bids, several clarifications);
//!   complaints and exceptions may come at any stage;
//! - bids come only after the section's announcement and never move its stage (a bid from
//!   another region cannot block the home centre's next step); at most
//!   [`SECTION_REGION_BIDS_MAX`] bids per anchoring region and [`SECTION_BIDS_MAX`] in all, so
//!   bids cannot fill a section's timeline;
//! - an award notice needs a candidate publicity anchored at least `candidate_publicity_days`
//!   (default 3) days earlier;
//! - after the archive anchor nothing more is accepted for that section (归档后内容不得修改);
//! - an evaluation report may name experts attested in any region (remote evaluation, 远程异地评标),
//!   but each must be attested and not revoked;
//! - the same document is anchored at most once per section and stage, except that identical bid
//!   documents from *different* bidders are accepted and raise a risk warning (围标串标预警);
//! - at most [`DOCUMENT_ANCHORS_MAX`] anchors per document hash and [`SECTION_ANCHORS_MAX`] per
//!   section.
//!
//! How a section is stored (a record of bounded size, older timeline entries in pages): [`section`].

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::identity::SubjectId;
use huxin_types::tx::{AnchorDocument, DealStage, TenderRef};
use huxin_types::{Hash32, Height, MemberId, RegionCode, RejectCode, TimestampMs, TxHash, Uscc};

use crate::identity::{self, AttestationStatus};
use crate::risk::{self, RiskKind};
use crate::{keys, params, read_or_default, rejection, Error, KvState, StateError, TxContext};

pub mod section;
pub use section::{section, tender, SectionRecord};

/// Most anchors one document hash may carry.
pub const DOCUMENT_ANCHORS_MAX: usize = 64;
/// Most anchors one tender section may carry (its timeline).
pub const SECTION_ANCHORS_MAX: usize = 2048;
/// Most bids one section accepts in all (the rest of its timeline stays for the home centre).
pub const SECTION_BIDS_MAX: usize = 1024;
/// Most bids one region's centre may anchor for one section.
pub const SECTION_REGION_BIDS_MAX: usize = 256;
/// Most bid bond payers one section keeps for the same-payer check.
pub const SECTION_PAYERS_MAX: usize = 1024;

/// One anchor of a document, as stored and served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnchorRecord {
    pub document_hash: Hash32,
    pub tender: TenderRef,
    pub stage: DealStage,
    pub title: String,
    pub deal_code: String,
    pub platform_code: String,
    pub parties: Vec<Uscc>,
    pub experts: Vec<Hash32>,
    pub anchored_by: MemberId,
    pub anchored_by_region: RegionCode,
    pub height: Height,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
}

/// One line of a section's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub stage: DealStage,
    pub document_hash: Hash32,
    pub anchored_by_region: RegionCode,
    pub parties: Vec<Uscc>,
    pub height: Height,
    pub time: TimestampMs,
}

// Served by `GET /v1/tenders/…`, assembled by [`tender`] from the section's record, timeline
// entries and bid bond pairs (protocol version 1 stored it as one value). Its doc line below is
// the OpenAPI schema's description, which the SDKs carry.
/// A tender section's progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TenderRecord {
    pub tender: TenderRef,
    /// The furthest ordered stage anchored so far.
    pub last_stage: Option<DealStage>,
    /// When the first candidate publicity was anchored.
    pub candidate_publicity_at: Option<TimestampMs>,
    /// The estimated price the announcement stated (caps bid bonds at 2%).
    pub estimated_price_fen: Option<u64>,
    /// Height and time of the archive anchor; nothing is accepted after it.
    pub archived: Option<(Height, TimestampMs)>,
    pub timeline: Vec<TimelineEntry>,
    /// (premium payer, applicant) of every bid bond issued for the section, sorted.
    pub bid_bond_payers: Vec<(Uscc, Uscc)>,
}

pub fn anchors_of(state: &dyn KvState, hash: &Hash32) -> Result<Vec<AnchorRecord>, StateError> {
    read_or_default(state, &keys::document(hash), "document anchors")
}

/// Refuse anything for an archived section.
pub fn check_not_archived(record: &SectionRecord) -> Result<(), Error> {
    match record.archived {
        Some((height, _)) => Err(rejection(
            RejectCode::InvalidTransition,
            format!("section {} was archived at height {height}; nothing more is accepted for it", record.tender),
        )),
        None => Ok(()),
    }
}

fn check_stage(ctx: &TxContext, state: &dyn KvState, record: &SectionRecord, a: &AnchorDocument) -> Result<(), Error> {
    check_not_archived(record)?;
    if a.stage.is_unordered() {
        return Ok(());
    }
    if let Some(last) = record.last_stage {
        if a.stage < last {
            return Err(rejection(
                RejectCode::RuleViolated,
                format!("section {} is at stage {last:?}; stages move forward only, got {:?}", a.tender, a.stage),
            ));
        }
    }
    if a.stage == DealStage::AwardNotice {
        let days = params::current(state)?.candidate_publicity_days;
        let Some(start) = record.candidate_publicity_at else {
            return Err(rejection(
                RejectCode::RuleViolated,
                format!(
                    "an award notice needs a candidate publicity of at least {days} days first; section {} has none",
                    a.tender
                ),
            ));
        };
        let earliest = start.0.saturating_add(params::current(state)?.candidate_publicity_ms());
        if ctx.time.0 < earliest {
            return Err(rejection(
                RejectCode::RuleViolated,
                format!(
                    "candidate publicity began at {} ms and lasts at least {days} days; the award notice may come from {earliest} ms, now is {} ms",
                    start.0, ctx.time.0
                ),
            ));
        }
    }
    Ok(())
}

/// A bid needs the section's announcement first, and room among the section's bids.
fn check_bid_room(ctx: &TxContext, record: &SectionRecord) -> Result<(), Error> {
    if !record.has_stage(DealStage::Announcement) {
        return Err(rejection(
            RejectCode::RuleViolated,
            format!("section {} has no announcement yet; bids come after it", record.tender),
        ));
    }
    let (all, from_region) = record.bids(ctx.member.region);
    if all as usize >= SECTION_BIDS_MAX || from_region as usize >= SECTION_REGION_BIDS_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!(
                "section {} has {all} bids ({from_region} from region {}); at most {SECTION_BIDS_MAX} in all and {SECTION_REGION_BIDS_MAX} per region",
                record.tender, ctx.member.region
            ),
        ));
    }
    Ok(())
}

fn check_experts(state: &dyn KvState, experts: &[Hash32]) -> Result<(), Error> {
    for e in experts {
        let subject = SubjectId::Expert(*e);
        match identity::attestation(state, &subject)? {
            Some(a) if matches!(a.status, AttestationStatus::Active) => {}
            Some(_) => {
                return Err(rejection(RejectCode::RuleViolated, format!("expert {subject}'s attestation is revoked")))
            }
            None => {
                return Err(rejection(RejectCode::NotFound, format!("expert {subject} is not attested in any region")))
            }
        }
    }
    Ok(())
}

pub fn anchor(ctx: &TxContext, state: &mut dyn KvState, a: &AnchorDocument) -> Result<(), Error> {
    a.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    if a.stage != DealStage::Bid && a.tender.region != ctx.member.region {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!(
                "a trading centre of region {} anchors {:?} documents only for its own tenders (this one is in {}); only bids may come from another region's platform",
                ctx.member.region, a.stage, a.tender.region
            ),
        ));
    }
    // A refused anchor's writes are discarded, so an old-form section moved here stays as it was.
    let mut record = section::section_to_change(state, &a.tender)?;
    check_stage(ctx, state, &record, a)?;
    check_experts(state, &a.experts)?;
    if a.stage == DealStage::Bid {
        check_bid_room(ctx, &record)?;
    }
    if record.anchors() >= SECTION_ANCHORS_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!("section {} already has {SECTION_ANCHORS_MAX} anchors, the most allowed", a.tender),
        ));
    }
    let mut anchors = anchors_of(state, &a.document_hash)?;
    let same_slot: Vec<&AnchorRecord> = anchors.iter().filter(|r| r.tender == a.tender && r.stage == a.stage).collect();
    let mut other_bidders = Vec::new();
    for existing in &same_slot {
        if a.stage == DealStage::Bid && existing.parties != a.parties {
            other_bidders.extend(existing.parties.iter().cloned());
            continue;
        }
        return Err(rejection(
            RejectCode::Conflict,
            format!(
                "document {} is already anchored to section {} at stage {:?} (height {}, tx {})",
                a.document_hash, a.tender, a.stage, existing.height, existing.tx_hash
            ),
        ));
    }
    if anchors.len() >= DOCUMENT_ANCHORS_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!("document {} already has {DOCUMENT_ANCHORS_MAX} anchors, the most allowed", a.document_hash),
        ));
    }
    if !other_bidders.is_empty() {
        let mut bidders = other_bidders;
        bidders.extend(a.parties.iter().cloned());
        bidders.sort();
        bidders.dedup();
        risk::raise(ctx, state, &a.tender, RiskKind::IdenticalBidDocument { document_hash: a.document_hash, bidders })?;
    }

    if !a.stage.is_unordered() && a.stage != DealStage::Bid {
        record.last_stage = Some(a.stage);
    }
    match a.stage {
        DealStage::Announcement => {
            if let Some(price) = a.estimated_price_fen {
                record.estimated_price_fen = Some(price);
            }
        }
        DealStage::CandidatePublicity if record.candidate_publicity_at.is_none() => {
            record.candidate_publicity_at = Some(ctx.time);
        }
        DealStage::Archive => record.archived = Some((ctx.height, ctx.time)),
        _ => {}
    }
    let entry = TimelineEntry {
        stage: a.stage,
        document_hash: a.document_hash,
        anchored_by_region: ctx.member.region,
        parties: a.parties.clone(),
        height: ctx.height,
        time: ctx.time,
    };
    section::push_entry(state, &mut record, entry);
    section::put_section(state, &record);

    anchors.push(AnchorRecord {
        document_hash: a.document_hash,
        tender: a.tender.clone(),
        stage: a.stage,
        title: a.title.clone(),
        deal_code: a.deal_code.clone(),
        platform_code: a.platform_code.clone(),
        parties: a.parties.clone(),
        experts: a.experts.clone(),
        anchored_by: ctx.member.id,
        anchored_by_region: ctx.member.region,
        height: ctx.height,
        time: ctx.time,
        tx_hash: ctx.tx_hash,
    });
    state.put(keys::document(&a.document_hash), codec::encode(&anchors));
    Ok(())
}
