//! Audited supervisor access (查询留痕): full credit histories and lists with hidden records, and
//! this node's audit log, for signed requests (see [`crate::signed`]) by an active supervisor's
//! key (403 for another member's); and the audit-log anchors on the ledger, for anyone.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Json;
use serde::Deserialize;

use huxin_contracts::audit::AuditAnchor;
use huxin_contracts::credit::Publication;
pub use huxin_state::answers::{AuditPage, FullCreditView};
use huxin_state::queries::CreditItem;
use huxin_state::StateView;
use huxin_types::audit::AuditEntry;
use huxin_types::genesis::Role;
use huxin_types::identity::SubjectId;
use huxin_types::{codec, MemberId, TimestampMs};

use crate::routes::parse;
use crate::signed::{authenticate_member, require_anchored_log, SignedReader};
use crate::{ApiError, ApiState};

/// Most audit entries in one page.
pub const AUDIT_PAGE_MAX: usize = 1000;

/// Check a signed supervisor request: the log is anchored, the signature good, the key an active
/// supervisor's (403 for another member's).
pub fn authenticate(s: &ApiState, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<SignedReader, ApiError> {
    require_anchored_log(s)?;
    let reader = authenticate_member(s, method, uri, headers)?;
    if reader.role != Role::Supervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("member {} is a {}; only supervisors may use this endpoint", reader.member, reader.role.as_str()),
        ));
    }
    Ok(reader)
}

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeQuery {
    pub time: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/v1/supervisor/subjects/{subject}/credit",
    operation_id = "supervisor_credit_history",
    summary = "Full credit history (signed, supervisors only, audited)",
    description = "Every record, hidden ones marked. Sign with x-huxin-key, x-huxin-time and x-huxin-signature.",
    params(("subject" = String, Path, description = "USCC, `legacy:<code>` or `expert:<sha256 hex>`", pattern = "^([0-9A-HJ-NP-RTUWXY]{18}|legacy:[0-9A-Z]{15,18}|expert:[0-9a-f]{64})$"), TimeQuery),
    responses((status = 200, body = FullCreditView), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 401, description = "Unsigned, badly signed, stale or replayed request (unauthorized)", body = crate::error::ErrorBody), (status = 403, description = "The key is not an active supervisor's (forbidden)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn credit_history(
    State(s): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(subject): Path<String>,
    q: Result<Query<TimeQuery>, QueryRejection>,
) -> Result<Json<FullCreditView>, ApiError> {
    let who = authenticate(&s, &method, &uri, &headers)?;
    let subject: SubjectId = parse("subject", &subject)?;
    let q = q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let full = full_credit(&s, subject, q.time)?;
    crate::signed::log(&s, &who, &method, &uri, full.records.len() as u64)?;
    Ok(Json(full))
}

/// A subject's whole credit history at `time` (default: the latest block's), hidden records
/// marked: what supervisors and holders of the subject's grant read.
pub(crate) fn full_credit(s: &ApiState, subject: SubjectId, time: Option<u64>) -> Result<FullCreditView, ApiError> {
    let (height, latest_time) = crate::query::latest(s)?;
    let time = time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    let records: Vec<CreditItem> = huxin_contracts::credit::history(&view, &subject)?
        .into_iter()
        .map(|record| CreditItem { publication: record.publication(time), record })
        .collect();
    let hidden = records.iter().filter(|r| r.publication != Publication::Active).count();
    Ok(FullCreditView { subject, height, time, hidden, records })
}

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries after this seq (default 0: from the first).
    pub after: Option<u64>,
    pub limit: Option<usize>,
}

/// The node's audit log, oldest first (this request is logged after it is read).
#[utoipa::path(
    get,
    path = "/v1/supervisor/audit",
    summary = "This node's audit log (signed, supervisors only, audited)",
    description = "Oldest first, with the head and the member that anchors it.",
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 401, description = "Unsigned, badly signed, stale or replayed request (unauthorized)", body = crate::error::ErrorBody), (status = 403, description = "The key is not an active supervisor's (forbidden)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn audit_log(
    State(s): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let who = authenticate(&s, &method, &uri, &headers)?;
    let q = q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let limit = q.limit.unwrap_or(AUDIT_PAGE_MAX);
    if limit == 0 || limit > AUDIT_PAGE_MAX {
        return Err(ApiError::bad_request("bad_query", format!("limit is 1 to {AUDIT_PAGE_MAX}")));
    }
    let (head_seq, head_hash) = s.audit.head();
    let entries = s
        .store
        .audit_scan(q.after.unwrap_or(0), limit)?
        .iter()
        .map(|b| codec::decode_stored::<AuditEntry>(b, usize::MAX))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal(format!("an audit entry does not decode: {e}")))?;
    let next_after = entries.last().map(|e| e.seq).filter(|last| *last < head_seq);
    crate::signed::log(&s, &who, &method, &uri, entries.len() as u64)?;
    Ok(Json(AuditPage { anchor_member: s.audit.anchor_member, head_seq, head_hash, entries, next_after }))
}

/// A member's audit-log anchors on the ledger, oldest first (public).
#[utoipa::path(
    get,
    path = "/v1/audit/anchors/{member}",
    summary = "Audit-log anchors of a member",
    description = "On the ledger, oldest first.",
    params(("member" = String, Path, description = "member id, hex", pattern = "^[0-9a-f]{40}$"), crate::query::ListQuery),
    responses((status = 200, body = crate::query::Page<AuditAnchor>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn anchors(
    State(s): State<ApiState>,
    Path(member): Path<String>,
    q: Result<Query<crate::query::ListQuery>, QueryRejection>,
) -> Result<Json<crate::query::Page<AuditAnchor>>, ApiError> {
    use huxin_state::index::{key, AUDIT_ANCHORS};
    let member: MemberId = parse("member id", &member)?;
    let (q, limit) = crate::query::list_query(q)?;
    let (height, time) = crate::query::latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let prefix = key(AUDIT_ANCHORS, &[&member.0]);
    let (items, next_cursor) = crate::query::scan(&s, &prefix, None, None, &q.cursor, limit, |k, _| {
        let seq = u64::from_be_bytes(k[prefix.len()..].try_into().ok()?);
        let bytes = huxin_contracts::KvState::get(&view, &huxin_contracts::keys::audit_anchor(&member, seq)).ok()??;
        codec::decode_stored(&bytes, usize::MAX).ok()
    })?;
    if let Some(e) = view.read_error() {
        return Err(ApiError::internal(format!("storage error: {e}")));
    }
    Ok(Json(crate::query::Page { height, time, items, next_cursor }))
}

#[utoipa::path(
    get,
    path = "/v1/supervisor/credit",
    operation_id = "supervisor_credit_list",
    summary = "Credit records in any publication status (signed, supervisors only, audited)",
    description = "The credit list with hidden records: `status` is pending, active, expired, repaired or revoked (default: all); region, kind, severity, from, to, time, limit and cursor as on /v1/credit.",
    params(crate::query::ListQuery),
    responses((status = 200, body = crate::query::Page<CreditItem>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 401, description = "Unsigned, badly signed, stale or replayed request (unauthorized)", body = crate::error::ErrorBody), (status = 403, description = "The key is not an active supervisor's (forbidden)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn credit_list(
    State(s): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    q: Result<Query<crate::query::ListQuery>, QueryRejection>,
) -> Result<Json<crate::query::Page<CreditItem>>, ApiError> {
    let who = authenticate(&s, &method, &uri, &headers)?;
    let (q, limit) = crate::query::list_query(q)?;
    let status: Option<Publication> = crate::query::enum_param("status", &q.status)?;
    let page = crate::query::credit_page(&s, &q, limit, |record, time| {
        status.is_none_or(|want| record.publication(time) == want)
    })?;
    crate::signed::log(&s, &who, &method, &uri, page.items.len() as u64)?;
    Ok(Json(page))
}
