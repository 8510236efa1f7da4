//! Authorised reuse of a subject's records (数据授权): a member — a trading platform, a guarantee
//! provider — that holds a grant in force from the subject reads the subject's detailed records
//! through signed requests (see [`crate::signed`]). Each answered read is logged in this node's
//! audit log exactly like a supervisor's, so the audit shows every use of a grant.
//!
//! A grant is a `subject_statement` the subject signs with its bound key (`Statement::Grant`:
//! grantee, scope, expiry; `Statement::RevokeGrant` withdraws it) and is in force while the
//! latest block's time is before its expiry. The scopes and what each opens:
//!
//! | endpoint | scope (or `all`) | what it adds to the public view |
//! | --- | --- | --- |
//! | `/v1/granted/subjects/{s}/credit` | `credit_history` | every credit record, the hidden ones (pending, expired, repaired, revoked) marked |
//! | `/v1/granted/subjects/{s}/guarantees` | `guarantees` | the subject's guarantees as applicant, in one audited read |
//! | `/v1/granted/subjects/{s}/deals` | `deals` | the deal documents naming the subject, in one audited read |
//!
//! Without a grant in force the answer is `403 grant_missing`, naming the member, the subject and
//! the scope it lacks (and, if it had one, when it expired); the public views stay open to all.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Json;

use huxin_contracts::deal::AnchorRecord;
use huxin_contracts::guarantee::GuaranteeState;
use huxin_contracts::identity;
pub use huxin_state::answers::FullCreditView;
use huxin_state::queries::GuaranteeView;
use huxin_state::StateView;
use huxin_types::identity::{GrantScope, SubjectId};
use huxin_types::Uscc;

use crate::query::{enum_param, latest, list_query, ListQuery, Page};
use crate::routes::parse;
use crate::signed::{authenticate_member, require_anchored_log, SignedReader};
use crate::supervisor::TimeQuery;
use crate::{ApiError, ApiState};

fn scope_name(scope: GrantScope) -> &'static str {
    match scope {
        GrantScope::Profile => "profile",
        GrantScope::CreditHistory => "credit_history",
        GrantScope::Guarantees => "guarantees",
        GrantScope::Deals => "deals",
        GrantScope::All => "all",
    }
}

/// Check a signed request by a member holding `subject`'s grant for `scope`, in force at the
/// latest block's time; 403 `grant_missing` otherwise.
fn authorise(
    s: &ApiState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    subject: &SubjectId,
    path_subject: &str,
    scope: GrantScope,
) -> Result<SignedReader, ApiError> {
    require_anchored_log(s)?;
    let reader = authenticate_member(s, method, uri, headers)?;
    let (height, time) = latest(s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let grants = identity::grants(&view, subject)?;
    if identity::grant_in_force(&grants, &reader.member, scope, time).is_some() {
        return Ok(reader);
    }
    let expired = grants
        .iter()
        .filter(|g| g.grantee == reader.member && (g.scope == scope || g.scope == GrantScope::All))
        .map(|g| g.expires_at.0)
        .max()
        .map(|at| format!(" (its last one expired at {at} ms)"))
        .unwrap_or_default();
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "grant_missing",
        format!(
            "member {} holds no grant from {path_subject} for scope {} (or all) in force at the latest block's time {} ms{expired}; \
             the subject grants one with a subject_statement signed by its bound key; the public view stays open at /v1/subjects/{path_subject}",
            reader.member,
            scope_name(scope),
            time.0
        ),
    ))
}

/// A subject's whole credit history, hidden records marked, for a holder of its
/// `credit_history` grant.
#[utoipa::path(
    get,
    path = "/v1/granted/subjects/{subject}/credit",
    operation_id = "granted_credit_history",
    summary = "Full credit history by the subject's grant (signed, audited)",
    description = "Every record, hidden ones marked, for a member holding the subject's `credit_history` (or `all`) grant in force. Sign with x-huxin-key, x-huxin-time and x-huxin-signature.",
    params(("subject" = String, Path, description = "USCC, `legacy:<code>` or `expert:<sha256 hex>`", pattern = "^([0-9A-HJ-NP-RTUWXY]{18}|legacy:[0-9A-Z]{15,18}|expert:[0-9a-f]{64})$"), TimeQuery),
    responses((status = 200, body = FullCreditView), (status = 400, description = "Bad input (bad_path, bad_query)", body = crate::error::ErrorBody), (status = 401, description = "Unsigned, badly signed, stale or replayed request (unauthorized)", body = crate::error::ErrorBody), (status = 403, description = "No grant in force for this member and scope (grant_missing)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody), (status = 503, description = "This node's audit log is not anchored (audit_unanchored)", body = crate::error::ErrorBody))
)]
pub async fn credit_history(
    State(s): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(path_subject): Path<String>,
    q: Result<Query<TimeQuery>, QueryRejection>,
) -> Result<Json<FullCreditView>, ApiError> {
    let subject: SubjectId = parse("subject", &path_subject)?;
    let q = q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let who = authorise(&s, &method, &uri, &headers, &subject, &path_subject, GrantScope::CreditHistory)?;
    let full = crate::supervisor::full_credit(&s, subject, q.time)?;
    crate::signed::log(&s, &who, &method, &uri, full.records.len() as u64)?;
    Ok(Json(full))
}

/// The guarantees a subject applied for, for a holder of its `guarantees` grant.
#[utoipa::path(
    get,
    path = "/v1/granted/subjects/{subject}/guarantees",
    operation_id = "granted_guarantees",
    summary = "A subject's guarantees by its grant (signed, audited)",
    description = "The guarantees the subject (a USCC) applied for, oldest first, optionally only those in `status` at `time`, for a member holding the subject's `guarantees` (or `all`) grant in force.",
    params(("subject" = String, Path, description = "USCC", pattern = "^[0-9A-HJ-NP-RTUWXY]{18}$"), ListQuery),
    responses((status = 200, body = Page<GuaranteeView>), (status = 400, description = "Bad input (bad_path, bad_query, page_too_large)", body = crate::error::ErrorBody), (status = 401, description = "Unsigned, badly signed, stale or replayed request (unauthorized)", body = crate::error::ErrorBody), (status = 403, description = "No grant in force for this member and scope (grant_missing)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody), (status = 503, description = "This node's audit log is not anchored (audit_unanchored)", body = crate::error::ErrorBody))
)]
pub async fn guarantees(
    State(s): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(subject): Path<String>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<GuaranteeView>>, ApiError> {
    use huxin_state::index::{key, GUARANTEES_BY_APPLICANT};
    let applicant: Uscc = parse("subject (a USCC)", &subject)?;
    let (q, limit) = list_query(q)?;
    let status: Option<GuaranteeState> = enum_param("status", &q.status)?;
    let who = authorise(
        &s,
        &method,
        &uri,
        &headers,
        &SubjectId::Organisation(applicant.clone()),
        &subject,
        GrantScope::Guarantees,
    )?;
    let prefix = key(GUARANTEES_BY_APPLICANT, &[applicant.as_str().as_bytes()]);
    let page = crate::query::guarantee_page(&s, &prefix, &q, limit, status)?;
    crate::signed::log(&s, &who, &method, &uri, page.items.len() as u64)?;
    Ok(Json(page))
}

/// The deal documents naming a subject, for a holder of its `deals` grant.
#[utoipa::path(
    get,
    path = "/v1/granted/subjects/{subject}/deals",
    operation_id = "granted_deals",
    summary = "Deal documents naming a subject by its grant (signed, audited)",
    description = "Anchors that list the subject (a USCC) as a party, oldest first, for a member holding the subject's `deals` (or `all`) grant in force.",
    params(("subject" = String, Path, description = "USCC", pattern = "^[0-9A-HJ-NP-RTUWXY]{18}$"), ListQuery),
    responses((status = 200, body = Page<AnchorRecord>), (status = 400, description = "Bad input (bad_path, bad_query, page_too_large)", body = crate::error::ErrorBody), (status = 401, description = "Unsigned, badly signed, stale or replayed request (unauthorized)", body = crate::error::ErrorBody), (status = 403, description = "No grant in force for this member and scope (grant_missing)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody), (status = 503, description = "This node's audit log is not anchored (audit_unanchored)", body = crate::error::ErrorBody))
)]
pub async fn deals(
    State(s): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(subject): Path<String>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<AnchorRecord>>, ApiError> {
    let party: Uscc = parse("subject (a USCC)", &subject)?;
    let (q, limit) = list_query(q)?;
    let who =
        authorise(&s, &method, &uri, &headers, &SubjectId::Organisation(party.clone()), &subject, GrantScope::Deals)?;
    let page = crate::query::deal_page(&s, &party, &q, limit)?;
    crate::signed::log(&s, &who, &method, &uri, page.items.len() as u64)?;
    Ok(Json(page))
}
