//! Read endpoints over the latest finalised state: subjects (profile, eligibility, credit),
//! guarantees, documents, tenders, proposals, parameters and validators.
//!
//! Every answer says at which height it was read. Times default to the latest block's time, so
//! an answer depends only on the ledger, never on the serving node's clock.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use huxin_contracts::blacklist::{self, BlacklistEntry, Eligibility};
use huxin_contracts::credit::{self, CreditRecord, Publication, Score};
use huxin_contracts::deal::{self, AnchorRecord, TenderRecord};
use huxin_contracts::governance::{self, ProposalRecord};
use huxin_contracts::guarantee::{self, GuaranteeRecord, GuaranteeState};
use huxin_contracts::identity::{self, AttestationRecord, GrantRecord};
use huxin_contracts::registry::{self, NextValidators, ValidatorRecord};
use huxin_contracts::risk::{self, SectionWarnings};
use huxin_state::StateView;
use huxin_types::governance::Params;
use huxin_types::identity::SubjectId;
use huxin_types::tx::TenderRef;
use huxin_types::{Hash32, Height, RegionCode, TimestampMs};

use crate::routes::parse;
use crate::{ApiError, ApiState};

/// The latest finalised height and block time (genesis time before the first block).
fn latest(s: &ApiState) -> Result<(Height, TimestampMs), ApiError> {
    let height = s.store.latest_height()?.unwrap_or(Height(0));
    let time = match s.store.header(height)? {
        Some(h) if height.0 > 0 => h.time,
        _ => TimestampMs(0),
    };
    Ok((height, time))
}

#[derive(Deserialize, Debug, Default)]
pub struct AtQuery {
    /// Evaluate at this time (ms since the epoch); default: the latest block's time.
    pub time: Option<u64>,
    pub region: Option<String>,
}

fn at(q: Result<Query<AtQuery>, QueryRejection>) -> Result<AtQuery, ApiError> {
    q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct SubjectView {
    pub subject: SubjectId,
    pub height: Height,
    pub time: TimestampMs,
    pub attestation: Option<AttestationRecord>,
    pub blacklist: Vec<BlacklistEntry>,
    pub score: Score,
    pub credit_records: usize,
    pub grants: Vec<GrantRecord>,
}

pub async fn subject(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<SubjectView>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let (height, latest_time) = latest(&s)?;
    let time = at(q)?.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    Ok(Json(SubjectView {
        attestation: identity::attestation(&view, &subject),
        blacklist: blacklist::entries(&view, &subject),
        score: credit::score(&view, &subject, time),
        credit_records: credit::record_ids(&view, &subject).len(),
        grants: identity::grants(&view, &subject),
        subject,
        height,
        time,
    }))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct EligibilityView {
    pub subject: SubjectId,
    pub region: RegionCode,
    pub height: Height,
    pub time: TimestampMs,
    #[serde(flatten)]
    pub eligibility: Eligibility,
}

pub async fn eligibility(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<EligibilityView>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let q = at(q)?;
    let region: RegionCode = parse(
        "region",
        q.region.as_deref().ok_or_else(|| ApiError::bad_request("bad_query", "give ?region=<6-digit code>"))?,
    )?;
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    let eligibility = blacklist::eligibility(&view, &subject, region, time);
    Ok(Json(EligibilityView { subject, region, height, time, eligibility }))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct CreditItem {
    pub publication: Publication,
    #[serde(flatten)]
    pub record: CreditRecord,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct CreditHistoryView {
    pub subject: SubjectId,
    pub height: Height,
    pub time: TimestampMs,
    pub records: Vec<CreditItem>,
}

pub async fn credit_history(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<CreditHistoryView>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let (height, latest_time) = latest(&s)?;
    let time = at(q)?.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    let records = credit::history(&view, &subject)
        .into_iter()
        .map(|record| CreditItem { publication: record.publication(time), record })
        .collect();
    Ok(Json(CreditHistoryView { subject, height, time, records }))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct GuaranteeView {
    /// The state in force at `time` (expired is derived from validity).
    pub current_state: GuaranteeState,
    pub height: Height,
    pub time: TimestampMs,
    #[serde(flatten)]
    pub record: GuaranteeRecord,
}

pub async fn guarantee(
    State(s): State<ApiState>,
    Path(number): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<GuaranteeView>, ApiError> {
    huxin_types::guarantee::check_number(&number).map_err(|e| ApiError::bad_request("bad_path", e))?;
    let (height, latest_time) = latest(&s)?;
    let time = at(q)?.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    let record = guarantee::guarantee(&view, &number)
        .ok_or_else(|| ApiError::not_found(format!("no guarantee numbered {number} on the ledger")))?;
    Ok(Json(GuaranteeView { current_state: record.state_at(time), height, time, record }))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct DocumentView {
    pub document_hash: Hash32,
    pub height: Height,
    /// Every anchor of the document (empty: never anchored).
    pub anchors: Vec<AnchorRecord>,
}

pub async fn document(State(s): State<ApiState>, Path(hash): Path<String>) -> Result<Json<DocumentView>, ApiError> {
    let hash: Hash32 = parse("document hash", &hash)?;
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    Ok(Json(DocumentView { document_hash: hash, height, anchors: deal::anchors_of(&view, &hash) }))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TenderView {
    pub height: Height,
    pub tender: TenderRecord,
    pub risk: SectionWarnings,
}

pub async fn tender(
    State(s): State<ApiState>,
    Path((region, project, section)): Path<(String, String, String)>,
) -> Result<Json<TenderView>, ApiError> {
    let tender = TenderRef { region: parse("region", &region)?, project_code: project, section_code: section };
    tender.check_fields().map_err(|e| ApiError::bad_request("bad_path", e))?;
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let record = deal::tender(&view, &tender)
        .ok_or_else(|| ApiError::not_found(format!("nothing is recorded for section {tender}")))?;
    Ok(Json(TenderView { height, risk: risk::warnings(&view, &tender), tender: record }))
}

pub async fn proposal(State(s): State<ApiState>, Path(id): Path<String>) -> Result<Json<ProposalRecord>, ApiError> {
    let id: Hash32 = parse("proposal id", &id)?;
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    governance::proposal(&view, &id).map(Json).ok_or_else(|| ApiError::not_found(format!("no proposal {id}")))
}

pub async fn params(State(s): State<ApiState>) -> Result<Json<Params>, ApiError> {
    let (height, _) = latest(&s)?;
    Ok(Json(huxin_contracts::params::current(&StateView::new(s.store.as_ref(), height.0))))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ValidatorsView {
    pub height: Height,
    pub current: Vec<ValidatorRecord>,
    /// A scheduled change, in force from its activation height.
    pub next: Option<NextValidators>,
}

pub async fn validators(State(s): State<ApiState>) -> Result<Json<ValidatorsView>, ApiError> {
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    Ok(Json(ValidatorsView { height, current: registry::validators(&view), next: registry::next_validators(&view) }))
}
