//! Read endpoints over the latest finalised state: subjects (profile, eligibility, credit),
//! guarantees, documents, tenders, proposals, parameters and validators.
//!
//! Every answer says at which height it was read. Times default to the latest block's time, so
//! an answer depends only on the ledger, never on the serving node's clock.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use huxin_contracts::blacklist::{self, BlacklistEntry};
use huxin_contracts::credit::{self, Publication};
use huxin_contracts::governance::{self, ProposalRecord};
use huxin_contracts::guarantee::{self, GuaranteeState};
use huxin_contracts::registry;
use huxin_state::proof::{
    prove_entry, CertifiedHeader, ProvenEntry, StateProof, StoredCertificate, ValidatorChange, PROOF_ENTRIES_MAX,
    VALIDATOR_CHANGES_MAX,
};
use huxin_state::queries::{
    self, CreditHistoryView, CreditItem, DocumentView, EligibilityView, GuaranteeView, SubjectView, TenderView,
};
pub use huxin_state::queries::{Page, SignerTx, SubjectMatch, ValidatorsView};
use huxin_state::StateView;
use huxin_types::governance::Params;
use huxin_types::identity::SubjectId;
use huxin_types::tx::TenderRef;
use huxin_types::{Hash32, Height, RegionCode, TimestampMs};

use crate::routes::parse;
use crate::{ApiError, ApiState};

/// The latest finalised height and block time (genesis time before the first block).
/// A storage error met while reading `view` voids the answer (it would read as "absent").
fn checked<T>(view: &StateView<'_, huxin_store::Store>, answer: T) -> Result<T, ApiError> {
    match view.read_error() {
        Some(e) => {
            tracing::error!(error = %e, "state read failed serving the API");
            Err(ApiError::internal(format!("storage error: {e}")))
        }
        None => Ok(answer),
    }
}

pub(crate) fn latest(s: &ApiState) -> Result<(Height, TimestampMs), ApiError> {
    let height = s.store.latest_height()?.unwrap_or(Height(0));
    let time = match s.store.header(height)? {
        Some(h) if height.0 > 0 => h.time,
        _ => TimestampMs(0),
    };
    Ok((height, time))
}

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// Evaluate at this time (ms since the epoch); default: the latest block's time.
    pub time: Option<u64>,
    pub region: Option<String>,
    /// Attach a proof of the answer.
    #[serde(default)]
    pub proof: bool,
}

fn at(q: Result<Query<AtQuery>, QueryRejection>) -> Result<AtQuery, ApiError> {
    q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
}

/// With `?proof=true` a point answer carries a [`StateProof`] (see `huxin_state::proof`).
#[derive(Serialize, Debug, utoipa::ToSchema)]
pub struct Proven<T> {
    #[serde(flatten)]
    pub answer: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<StateProof>,
}

/// A view of the state at `height` that records what it reads when a proof is asked for.
fn view_at(s: &ApiState, height: Height, proof: bool) -> StateView<'_, huxin_store::Store> {
    if proof {
        StateView::recording(s.store.as_ref(), height.0)
    } else {
        StateView::new(s.store.as_ref(), height.0)
    }
}

fn certified(s: &ApiState, height: Height) -> Result<CertifiedHeader, ApiError> {
    let missing = || ApiError::internal(format!("block {height} or its certificate is missing from the store"));
    let header = s.store.header(height)?.ok_or_else(missing)?;
    let certificate = s.store.certificate(height)?.ok_or_else(missing)?;
    let certificate = StoredCertificate::decode(&certificate)
        .map_err(|e| ApiError::internal(format!("stored certificate of block {height}: {e}")))?;
    Ok(certificate.certify(header))
}

fn entry(s: &ApiState, version: Height, key: &[u8]) -> Result<ProvenEntry, ApiError> {
    prove_entry(s.store.as_ref(), version.0, key).map_err(|e| ApiError::internal(format!("proving a state key: {e}")))
}

/// The proof of everything `view` read, against the block at its height.
fn prove(s: &ApiState, view: &StateView<'_, huxin_store::Store>) -> Result<StateProof, ApiError> {
    use huxin_state::index::VALIDATOR_CHANGES;
    let height = Height(view.version());
    if height.0 == 0 {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "no_block_yet",
            "no block is finalised yet; proofs start at block 1",
        ));
    }
    let keys = view.read_keys();
    if keys.len() > PROOF_ENTRIES_MAX {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "proof_too_large",
            format!("the answer reads {} state keys; at most {PROOF_ENTRIES_MAX} can be proven", keys.len()),
        ));
    }
    let entries = keys.iter().map(|k| entry(s, height, k)).collect::<Result<Vec<_>, _>>()?;
    let (parent, parent_validators) = if height.0 >= 2 {
        let parent = Height(height.0 - 1);
        let header = s.store.header(parent)?.ok_or_else(|| ApiError::internal(format!("block {parent} is missing")))?;
        let entries = vec![
            entry(s, parent, &huxin_contracts::keys::validators())?,
            entry(s, parent, &huxin_contracts::keys::validators_next())?,
        ];
        (Some(header), entries)
    } else {
        (None, Vec::new())
    };
    let (changes, _) = s.store.index_scan(VALIDATOR_CHANGES, None, VALIDATOR_CHANGES_MAX + 1)?;
    let mut validator_changes = Vec::new();
    for (k, _) in changes {
        let change = Height(u64::from_be_bytes(
            k[VALIDATOR_CHANGES.len()..]
                .try_into()
                .map_err(|_| ApiError::internal("bad validator change index key"))?,
        ));
        if change >= height {
            break;
        }
        if validator_changes.len() == VALIDATOR_CHANGES_MAX {
            return Err(ApiError::internal(format!(
                "more than {VALIDATOR_CHANGES_MAX} validator changes; proofs need a checkpoint"
            )));
        }
        validator_changes.push(ValidatorChange {
            block: certified(s, change)?,
            next_validators: entry(s, change, &huxin_contracts::keys::validators_next())?,
        });
    }
    Ok(StateProof { block: certified(s, height)?, entries, parent, parent_validators, validator_changes })
}

/// The answer, checked for read errors, with its proof when asked for.
fn answer<T>(
    s: &ApiState,
    view: &StateView<'_, huxin_store::Store>,
    answer: T,
    proof: bool,
) -> Result<Json<Proven<T>>, ApiError> {
    let answer = checked(view, answer)?;
    let proof = if proof { Some(prove(s, view)?) } else { None };
    Ok(Json(Proven { answer, proof }))
}

#[utoipa::path(
    get,
    path = "/v1/subjects/{subject}",
    summary = "A subject's profile",
    description = "Attestation with recognising regions, blacklist entries, credit score with breakdown, active record count, grants. `proof=true` attaches a proof.",
    params(("subject" = String, Path, description = "USCC, `legacy:<code>` or `expert:<sha256 hex>`"), AtQuery),
    responses((status = 200, body = Proven<SubjectView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn subject(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<SubjectView>>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let q = at(q)?;
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::subject(&view, subject, height, time);
    answer(&s, &view, view_answer, q.proof)
}

#[utoipa::path(
    get,
    path = "/v1/subjects/{subject}/eligibility",
    summary = "Eligibility in a region",
    description = "Whether the subject may take part in a trade in `region` at `time`, with every reason.",
    params(("subject" = String, Path, description = "USCC, `legacy:<code>` or `expert:<sha256 hex>`"), AtQuery),
    responses((status = 200, body = Proven<EligibilityView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn eligibility(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<EligibilityView>>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let q = at(q)?;
    let region: RegionCode = parse(
        "region",
        q.region.as_deref().ok_or_else(|| ApiError::bad_request("bad_query", "give ?region=<6-digit code>"))?,
    )?;
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::eligibility(&view, subject, region, height, time);
    answer(&s, &view, view_answer, q.proof)
}

/// The public credit history (see [`queries::credit_history`]).
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject}/credit",
    summary = "Public credit history",
    description = "Records published at `time`, across all regions, in the order recorded. A proof covers every record.",
    params(("subject" = String, Path, description = "USCC, `legacy:<code>` or `expert:<sha256 hex>`"), AtQuery),
    responses((status = 200, body = Proven<CreditHistoryView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn credit_history(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<CreditHistoryView>>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let q = at(q)?;
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::credit_history(&view, subject, height, time);
    answer(&s, &view, view_answer, q.proof)
}

#[utoipa::path(
    get,
    path = "/v1/guarantees/{number}",
    summary = "Verify an e-guarantee",
    description = "The guarantee, its state in force and its history.",
    params(("number" = String, Path, description = "guarantee number"), AtQuery),
    responses((status = 200, body = Proven<GuaranteeView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn guarantee(
    State(s): State<ApiState>,
    Path(number): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<GuaranteeView>>, ApiError> {
    huxin_types::guarantee::check_number(&number).map_err(|e| ApiError::bad_request("bad_path", e))?;
    let q = at(q)?;
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = view_at(&s, height, q.proof);
    let view_answer = checked(&view, queries::guarantee(&view, &number, height, time))?
        .ok_or_else(|| ApiError::not_found(format!("no guarantee numbered {number} on the ledger")))?;
    answer(&s, &view, view_answer, q.proof)
}

#[utoipa::path(
    get,
    path = "/v1/documents/{hash}",
    summary = "Verify a document",
    description = "Every anchor of the SHA-256: who, when, which tender and stage (empty: never anchored).",
    params(("hash" = String, Path, description = "SHA-256, hex"), AtQuery),
    responses((status = 200, body = Proven<DocumentView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn document(
    State(s): State<ApiState>,
    Path(hash): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<DocumentView>>, ApiError> {
    let hash: Hash32 = parse("document hash", &hash)?;
    let q = at(q)?;
    let (height, _) = latest(&s)?;
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::document(&view, hash, height);
    answer(&s, &view, view_answer, q.proof)
}

#[utoipa::path(
    get,
    path = "/v1/tenders/{region}/{project}/{section}",
    summary = "A tender section's timeline",
    description = "Stages, publicity, archive and risk warnings.",
    params(("region" = u32, Path, description = "6-digit region code"), ("project" = String, Path, description = "project code"), ("section" = String, Path, description = "section code"), AtQuery),
    responses((status = 200, body = Proven<TenderView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn tender(
    State(s): State<ApiState>,
    Path((region, project, section)): Path<(String, String, String)>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<TenderView>>, ApiError> {
    let tender = TenderRef { region: parse("region", &region)?, project_code: project, section_code: section };
    tender.check_fields().map_err(|e| ApiError::bad_request("bad_path", e))?;
    let q = at(q)?;
    let (height, _) = latest(&s)?;
    let view = view_at(&s, height, q.proof);
    let view_answer = checked(&view, queries::tender(&view, &tender, height))?
        .ok_or_else(|| ApiError::not_found(format!("nothing is recorded for section {tender}")))?;
    answer(&s, &view, view_answer, q.proof)
}

#[utoipa::path(
    get,
    path = "/v1/proposals/{id}",
    summary = "A governance proposal",
    description = "With its votes and status.",
    params(("id" = String, Path, description = "proposal id (its transaction hash), hex")),
    responses((status = 200, body = ProposalRecord), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn proposal(State(s): State<ApiState>, Path(id): Path<String>) -> Result<Json<ProposalRecord>, ApiError> {
    let id: Hash32 = parse("proposal id", &id)?;
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let proposal = checked(&view, governance::proposal(&view, &id))?;
    proposal.map(Json).ok_or_else(|| ApiError::not_found(format!("no proposal {id}")))
}

#[utoipa::path(
    get,
    path = "/v1/params",
    summary = "Rule parameters in force",
    responses((status = 200, body = Params), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn params(State(s): State<ApiState>) -> Result<Json<Params>, ApiError> {
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let params = huxin_contracts::params::current(&view);
    checked(&view, Json(params))
}

#[utoipa::path(
    get,
    path = "/v1/validators",
    summary = "The validator set",
    description = "Current, and any scheduled change with its activation height.",
    responses((status = 200, body = ValidatorsView), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn validators(State(s): State<ApiState>) -> Result<Json<ValidatorsView>, ApiError> {
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    checked(
        &view,
        Json(ValidatorsView { height, current: registry::validators(&view), next: registry::next_validators(&view) }),
    )
}

/// Most index keys one list request reads before answering with what it found and a cursor.
pub const SCAN_KEYS_MAX: usize = 10_000;

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Hex cursor from an earlier page's `next_cursor`.
    pub cursor: Option<String>,
    /// Items per page: 1 to [`crate::PAGE_ITEMS_MAX`], default [`crate::PAGE_ITEMS_DEFAULT`].
    pub limit: Option<usize>,
    pub region: Option<String>,
    pub kind: Option<String>,
    pub severity: Option<String>,
    /// Decision dates (credit) from, inclusive, and to, exclusive (ms).
    pub from: Option<u64>,
    pub to: Option<u64>,
    /// Evaluate time-dependent status at this time (ms); default: the latest block's time.
    pub time: Option<u64>,
    pub provider: Option<String>,
    pub tender: Option<String>,
    pub applicant: Option<String>,
    /// Subjects whose attested name starts with this.
    pub name: Option<String>,
    pub status: Option<String>,
}

pub(crate) fn list_query(q: Result<Query<ListQuery>, QueryRejection>) -> Result<(ListQuery, usize), ApiError> {
    let q = q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let limit = q.limit.unwrap_or(crate::PAGE_ITEMS_DEFAULT);
    if limit == 0 {
        return Err(ApiError::bad_request("bad_query", "limit must be at least 1"));
    }
    if limit > crate::PAGE_ITEMS_MAX {
        return Err(ApiError::bad_request(
            "page_too_large",
            format!("limit is {limit}; at most {} items per page", crate::PAGE_ITEMS_MAX),
        ));
    }
    Ok((q, limit))
}

/// A snake_case enum value from a query parameter.
pub(crate) fn enum_param<T: serde::de::DeserializeOwned>(
    name: &str,
    value: &Option<String>,
) -> Result<Option<T>, ApiError> {
    value
        .as_ref()
        .map(|v| {
            serde_json::from_value(serde_json::Value::String(v.clone())).map_err(|_| {
                ApiError::bad_request("bad_query", format!("{name} {v:?} is not one of the allowed values"))
            })
        })
        .transpose()
}

/// Scan the index under `prefix` from `start` (or after the cursor), keeping what `keep` maps
/// to an item, until `limit` items or [`SCAN_KEYS_MAX`] keys; stop at keys ≥ `end`.
pub(crate) fn scan<T>(
    s: &ApiState,
    prefix: &[u8],
    start: Option<Vec<u8>>,
    end: Option<Vec<u8>>,
    cursor: &Option<String>,
    limit: usize,
    mut keep: impl FnMut(&[u8], &[u8]) -> Option<T>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let mut after = match cursor {
        Some(c) => {
            let key = hex::decode(c).map_err(|_| ApiError::bad_request("bad_query", "cursor is not hex"))?;
            if !key.starts_with(prefix) {
                return Err(ApiError::bad_request("bad_query", "cursor belongs to another list"));
            }
            Some(key)
        }
        None => None,
    };
    let mut first = start.filter(|_| after.is_none());
    let mut items = Vec::new();
    let mut scanned = 0;
    loop {
        let chunk = (limit - items.len()).max(64).min(SCAN_KEYS_MAX - scanned);
        let (entries, exhausted) = match first.take() {
            Some(start) => s.store.index_scan_from(prefix, &start, chunk)?,
            None => s.store.index_scan(prefix, after.as_deref(), chunk)?,
        };
        scanned += entries.len();
        for (key, value) in entries {
            if end.as_ref().is_some_and(|end| key >= *end) {
                return Ok((items, None));
            }
            if let Some(item) = keep(&key, &value) {
                items.push(item);
            }
            after = Some(key);
            if items.len() == limit {
                return Ok((items, after.map(hex::encode)));
            }
        }
        if exhausted {
            return Ok((items, None));
        }
        if scanned >= SCAN_KEYS_MAX {
            return Ok((items, after.map(hex::encode)));
        }
    }
}

/// Public credit records (active at the query time; repaired, revoked, expired or not yet
/// published ones are hidden), newest decisions last, filtered by region, kind, severity and a
/// decision-date range.
#[utoipa::path(
    get,
    path = "/v1/credit",
    summary = "Published credit records",
    description = "By the recording member's region, kind, severity and decision-date range; oldest decision first.",
    params(ListQuery),
    responses((status = 200, body = Page<CreditItem>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn credit_list(
    State(s): State<ApiState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<CreditItem>>, ApiError> {
    let (q, limit) = list_query(q)?;
    if q.status.is_some() {
        return Err(ApiError::bad_request(
            "bad_query",
            "the public list shows published records only; supervisors filter by status on /v1/supervisor/credit",
        ));
    }
    credit_page(&s, &q, limit, |p| p == Publication::Active).map(Json)
}

/// A page of credit records from the credit indexes (by region and decision date), filtered by
/// kind, severity and which publication statuses `show` admits at the query time.
pub(crate) fn credit_page(
    s: &ApiState,
    q: &ListQuery,
    limit: usize,
    show: impl Fn(Publication) -> bool,
) -> Result<Page<CreditItem>, ApiError> {
    use huxin_state::index::{key, CREDIT_ALL, CREDIT_BY_REGION};
    let kind: Option<huxin_types::credit::CreditKind> = enum_param("kind", &q.kind)?;
    let severity: Option<huxin_types::credit::Severity> = enum_param("severity", &q.severity)?;
    let region: Option<RegionCode> = q.region.as_deref().map(|r| parse("region", r)).transpose()?;
    let (height, latest_time) = latest(s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    let region_bytes = region.map(|r| r.get().to_be_bytes());
    let prefix = match &region_bytes {
        Some(r) => key(CREDIT_BY_REGION, &[r]),
        None => CREDIT_ALL.to_vec(),
    };
    let start = q.from.map(|from| key(&prefix, &[&from.to_be_bytes()]));
    let end = q.to.map(|to| key(&prefix, &[&to.to_be_bytes()]));
    let (items, next_cursor) = scan(s, &prefix, start, end, &q.cursor, limit, |k, _| {
        let id = Hash32(k[k.len() - 32..].try_into().ok()?);
        let record = credit::record(&view, &id)?;
        let publication = record.publication(time);
        let wanted = show(publication)
            && kind.is_none_or(|k| record.record.kind == k)
            && severity.is_none_or(|s| record.record.severity == s);
        wanted.then_some(CreditItem { publication, record })
    })?;
    checked(&view, Page { height, time, items, next_cursor })
}

/// Guarantees by provider (member id) or by tender (`region/project/section`), optionally only
/// those in a given current state.
#[utoipa::path(
    get,
    path = "/v1/guarantees",
    summary = "E-guarantees of a provider, a tender section or an applicant",
    description = "Give exactly one of provider, tender or applicant; optionally a status.",
    params(ListQuery),
    responses((status = 200, body = Page<GuaranteeView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn guarantee_list(
    State(s): State<ApiState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<GuaranteeView>>, ApiError> {
    use huxin_state::index::{key, GUARANTEES_BY_APPLICANT, GUARANTEES_BY_PROVIDER, GUARANTEES_BY_TENDER};
    let (q, limit) = list_query(q)?;
    let status: Option<GuaranteeState> = enum_param("status", &q.status)?;
    let prefix = match (&q.provider, &q.tender) {
        (None, None) if q.applicant.is_some() => {
            let applicant: huxin_types::Uscc = parse("applicant", q.applicant.as_deref().unwrap_or_default())?;
            key(GUARANTEES_BY_APPLICANT, &[applicant.as_str().as_bytes()])
        }
        (Some(p), None) if q.applicant.is_none() => {
            let member: huxin_types::MemberId = parse("provider", p)?;
            key(GUARANTEES_BY_PROVIDER, &[&member.0])
        }
        (None, Some(t)) if q.applicant.is_none() => {
            let mut parts = t.splitn(3, '/');
            let (Some(region), Some(project), Some(section)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(ApiError::bad_request("bad_query", "tender is region/project/section"));
            };
            let tender = TenderRef {
                region: parse("region", region)?,
                project_code: project.into(),
                section_code: section.into(),
            };
            key(GUARANTEES_BY_TENDER, &[&huxin_contracts::keys::tender_id(&tender).0])
        }
        _ => {
            return Err(ApiError::bad_request(
                "bad_query",
                "give exactly one of provider=<member id>, tender=<region/project/section> or applicant=<USCC>",
            ))
        }
    };
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    let (items, next_cursor) = scan(&s, &prefix, None, None, &q.cursor, limit, |k, _| {
        let number = std::str::from_utf8(&k[prefix.len() + 8..]).ok()?;
        let record = guarantee::guarantee(&view, number)?;
        let current_state = record.state_at(time);
        status.is_none_or(|st| st == current_state).then_some(GuaranteeView { current_state, height, time, record })
    })?;
    checked(&view, Json(Page { height, time, items, next_cursor }))
}

/// Blacklist entries in force at a time (default: the latest block's), optionally only those
/// covering a region; oldest start first.
#[utoipa::path(
    get,
    path = "/v1/blacklist",
    summary = "Blacklist entries in force",
    description = "At a time (default: the latest block's), optionally only those covering a region.",
    params(ListQuery),
    responses((status = 200, body = Page<BlacklistEntry>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn blacklist_list(
    State(s): State<ApiState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<BlacklistEntry>>, ApiError> {
    use huxin_state::index::BLACKLIST_ALL;
    let (q, limit) = list_query(q)?;
    let region: Option<RegionCode> = q.region.as_deref().map(|r| parse("region", r)).transpose()?;
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    // Entries that start after `time` cannot be in force then.
    let end = Some(huxin_state::index::key(BLACKLIST_ALL, &[&(time.0.saturating_add(1)).to_be_bytes()]));
    let (items, next_cursor) = scan(&s, BLACKLIST_ALL, None, end, &q.cursor, limit, |k, decision| {
        let subject: SubjectId = std::str::from_utf8(&k[BLACKLIST_ALL.len() + 48..]).ok()?.parse().ok()?;
        let entry = blacklist::entries(&view, &subject).into_iter().find(|e| e.decision_no.as_bytes() == decision)?;
        let in_force = entry.lifted.is_none() && entry.start <= time && entry.end.is_none_or(|e| time < e);
        let covers = region.is_none_or(|r| entry.scope.covers(r));
        (in_force && covers).then_some(entry)
    })?;
    checked(&view, Json(Page { height, time, items, next_cursor }))
}

/// Transactions a key signed, oldest first.
#[utoipa::path(
    get,
    path = "/v1/signers/{key}/txs",
    summary = "Transactions a key signed",
    description = "Oldest first, paged.",
    params(("key" = String, Path, description = "ed25519 public key, hex"), ListQuery),
    responses((status = 200, body = Page<SignerTx>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn signer_txs(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<SignerTx>>, ApiError> {
    use huxin_state::index::{key as index_key, TXS_BY_SIGNER};
    let signer: huxin_types::PublicKey = parse("public key", &key)?;
    let (q, limit) = list_query(q)?;
    let (height, time) = latest(&s)?;
    let prefix = index_key(TXS_BY_SIGNER, &[signer.as_bytes()]);
    let (items, next_cursor) = scan(&s, &prefix, None, None, &q.cursor, limit, |k, v| {
        let at = prefix.len();
        Some(SignerTx {
            tx_hash: huxin_types::TxHash(v.try_into().ok()?),
            height: Height(u64::from_be_bytes(k[at..at + 8].try_into().ok()?)),
            index: u32::from_be_bytes(k[at + 8..at + 12].try_into().ok()?),
        })
    })?;
    Ok(Json(Page { height, time, items, next_cursor }))
}

/// Every member on the ledger (trading centres, guarantee providers, supervisors), by id.
#[utoipa::path(
    get,
    path = "/v1/members",
    summary = "Every member",
    description = "Trading centres, guarantee providers and supervisors.",
    responses((status = 200, body = Vec<registry::MemberRecord>), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn members(State(s): State<ApiState>) -> Result<Json<Vec<registry::MemberRecord>>, ApiError> {
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let members = registry::member_ids(&view).iter().filter_map(|id| registry::member(&view, id)).collect();
    checked(&view, Json(members))
}

/// Attested subjects whose current name starts with `name`, in name order.
#[utoipa::path(
    get,
    path = "/v1/subjects",
    summary = "Find subjects by name",
    description = "Attested subjects whose current name starts with `name`.",
    params(ListQuery),
    responses((status = 200, body = Page<SubjectMatch>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn subject_search(
    State(s): State<ApiState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<SubjectMatch>>, ApiError> {
    use huxin_state::index::{key, SUBJECTS_BY_NAME};
    let (q, limit) = list_query(q)?;
    let name = q
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("bad_query", "give ?name=<the start of a name>"))?;
    if name.len() > 256 {
        return Err(ApiError::bad_request("bad_query", "name is at most 256 bytes"));
    }
    let (height, time) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let prefix = key(SUBJECTS_BY_NAME, &[name.as_bytes()]);
    let (items, next_cursor) = scan(&s, &prefix, None, None, &q.cursor, limit, |k, _| {
        let rest = &k[SUBJECTS_BY_NAME.len()..];
        let split = rest.iter().position(|b| *b == 0)?;
        let subject: SubjectId = std::str::from_utf8(&rest[split + 1..]).ok()?.parse().ok()?;
        let a = huxin_contracts::identity::attestation(&view, &subject)?;
        a.name.starts_with(name.as_str()).then_some(SubjectMatch {
            subject,
            revoked: !matches!(a.status, huxin_contracts::identity::AttestationStatus::Active),
            name: a.name,
            kind: a.kind,
            home_region: a.home_region,
        })
    })?;
    checked(&view, Json(Page { height, time, items, next_cursor }))
}

/// Deal documents that name the subject (a USCC) as a party, oldest first.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject}/deals",
    summary = "Deal documents naming a subject",
    description = "Anchors that list the USCC as a party, oldest first.",
    params(("subject" = String, Path, description = "USCC"), ListQuery),
    responses((status = 200, body = Page<huxin_contracts::deal::AnchorRecord>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn subject_deals(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<huxin_contracts::deal::AnchorRecord>>, ApiError> {
    use huxin_state::index::{key, ANCHORS_BY_PARTY};
    let party: huxin_types::Uscc = parse("subject (a USCC)", &subject)?;
    let (q, limit) = list_query(q)?;
    let (height, time) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let prefix = key(ANCHORS_BY_PARTY, &[party.as_str().as_bytes()]);
    let (items, next_cursor) = scan(&s, &prefix, None, None, &q.cursor, limit, |k, v| {
        let tx_hash = huxin_types::TxHash(k[k.len() - 32..].try_into().ok()?);
        let document = Hash32(v.try_into().ok()?);
        huxin_contracts::deal::anchors_of(&view, &document).into_iter().find(|a| a.tx_hash == tx_hash)
    })?;
    checked(&view, Json(Page { height, time, items, next_cursor }))
}
