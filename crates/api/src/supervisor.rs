//! Audited supervisor access (查询留痕): full histories for signed supervisor requests, and the
//! node's append-only audit log of them.
//!
//! A request is accepted when its three headers (`huxin_types::audit`) carry a supervisor
//! member's key (any active member's, for reading its own withheld transactions on
//! `GET /v1/txs/{hash}`, see [`crate::public`]), a time within [`QUERY_SIGNATURE_WINDOW_MS`] of this node's clock, and a valid
//! signature over method, path, query and time that was not used before. Anything else is 401
//! (403 for a key that is not an active supervisor's) with the reason.
//!
//! Every accepted request is appended to the audit log (synced to disk) *before* its answer
//! leaves the node: a query that cannot be logged is not answered. The node anchors the log's
//! running hash on the ledger (see `huxin start`), and supervisors list the log here.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Json;
use serde::Deserialize;

use huxin_contracts::audit::AuditAnchor;
use huxin_contracts::credit::Publication;
use huxin_contracts::registry;
pub use huxin_state::answers::{AuditPage, FullCreditView};
use huxin_state::queries::CreditItem;
use huxin_state::StateView;
use huxin_store::Store;
use huxin_types::audit::{
    check_signed_query, AuditEntry, QueryAudience, QueryHeaderError, SignedQuery, HEADER_KEY, HEADER_SIGNATURE,
    HEADER_TIME, QUERY_SIGNATURE_WINDOW_MS,
};
use huxin_types::crypto::{PublicKey, Signature};
use huxin_types::genesis::Role;
use huxin_types::identity::SubjectId;
use huxin_types::{codec, Hash32, Height, MemberId, TimestampMs};

use crate::routes::parse;
use crate::{ApiError, ApiState};

/// Signatures remembered to refuse replays (those older than the window are forgotten first).
pub const REPLAY_CACHE_MAX: usize = 100_000;
/// Most audit entries in one page.
pub const AUDIT_PAGE_MAX: usize = 1000;

/// Signatures seen recently: in arrival order (to forget the oldest) and as a set (to look up).
type SeenSignatures = (VecDeque<(u64, Signature)>, BTreeSet<Signature>);

/// The node's audit log: the head (last seq and hash) and the signatures seen in the window.
pub struct AuditLog {
    store: std::sync::Arc<Store>,
    head: Mutex<(u64, Hash32)>,
    seen: Mutex<SeenSignatures>,
    /// The member whose key anchors this log on the ledger, if the node anchors.
    pub anchor_member: Option<MemberId>,
    /// Serve supervisor queries even though the log is not anchored (an operator's explicit
    /// choice: `[audit] allow_unanchored`).
    pub unanchored_allowed: bool,
}

impl AuditLog {
    /// Resume the log from the store.
    pub fn open(
        store: std::sync::Arc<Store>,
        anchor_member: Option<MemberId>,
        unanchored_allowed: bool,
    ) -> Result<Self, ApiError> {
        let head = match store.audit_last()? {
            Some(bytes) => {
                let e: AuditEntry = codec::decode_stored(&bytes, usize::MAX)
                    .map_err(|e| ApiError::internal(format!("last audit entry does not decode: {e}")))?;
                (e.seq, e.hash)
            }
            None => (0, Hash32::ZERO),
        };
        Ok(AuditLog {
            store,
            head: Mutex::new(head),
            seen: Mutex::new((VecDeque::new(), BTreeSet::new())),
            anchor_member,
            unanchored_allowed,
        })
    }

    /// The last entry's seq and hash.
    pub fn head(&self) -> (u64, Hash32) {
        self.head.lock().map(|h| *h).unwrap_or((0, Hash32::ZERO))
    }

    /// Remember a signature; false if it was seen within the window (a replay).
    fn first_use(&self, now: u64, signature: Signature) -> Result<bool, ApiError> {
        let mut guard = self.seen.lock().map_err(|_| ApiError::internal("replay cache poisoned"))?;
        let (order, set) = &mut *guard;
        while let Some((t, s)) = order.front().copied() {
            if t.saturating_add(2 * QUERY_SIGNATURE_WINDOW_MS) >= now && order.len() < REPLAY_CACHE_MAX {
                break;
            }
            order.pop_front();
            set.remove(&s);
        }
        if !set.insert(signature) {
            return Ok(false);
        }
        order.push_back((now, signature));
        Ok(true)
    }

    /// Append an entry for an answered request.
    fn append(
        &self,
        who: &SignedReader,
        method: &str,
        target: &str,
        status: u16,
        result_count: u64,
    ) -> Result<(), ApiError> {
        let mut head = self.head.lock().map_err(|_| ApiError::internal("audit log poisoned"))?;
        let mut entry = AuditEntry {
            seq: head.0 + 1,
            time: TimestampMs(now_ms()),
            supervisor_key: who.key,
            member: who.member,
            method: method.into(),
            target: target.into(),
            status,
            result_count,
            signed_time: who.signed_time,
            signature: who.signature,
            prev_hash: head.1,
            hash: Hash32::ZERO,
        };
        entry.hash = entry.compute_hash();
        self.store.audit_append(entry.seq, &codec::encode(&entry))?;
        *head = (entry.seq, entry.hash);
        Ok(())
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A member that signed a request, with what it signed.
pub struct SignedReader {
    pub key: PublicKey,
    pub member: MemberId,
    pub role: Role,
    pub signed_time: TimestampMs,
    pub signature: Signature,
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// True when the request carries a signature key header (it asks to be read as signed).
pub fn is_signed(headers: &HeaderMap) -> bool {
    headers.contains_key(HEADER_KEY)
}

/// Check a signed request by any active member (see the module docs); the signature is
/// remembered, so it serves once.
pub fn authenticate_member(
    s: &ApiState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<SignedReader, ApiError> {
    let audience = QueryAudience { chain_id: s.chain_id.clone(), node_key: s.node_key };
    let raw = |name: &str| headers.get(name).map(|v| v.as_bytes());
    let SignedQuery { key, time, signature } = check_signed_query(
        &audience,
        method.as_str(),
        uri.path(),
        uri.query().unwrap_or(""),
        [raw(HEADER_KEY), raw(HEADER_TIME), raw(HEADER_SIGNATURE)],
    )
    .map_err(|e| match e {
        QueryHeaderError::TargetTooLong(_) => ApiError::bad_request("bad_query", e.to_string()),
        e => unauthorized(e.to_string()),
    })?;
    let (now, time) = (now_ms(), time.0);
    if time < s.started_ms {
        return Err(unauthorized(format!(
            "the signed time {time} is before this node started ({}): a request signed before a restart could be a replay; sign it afresh",
            s.started_ms
        )));
    }
    if time.abs_diff(now) > QUERY_SIGNATURE_WINDOW_MS {
        return Err(unauthorized(format!(
            "the signed time {time} is {} ms from this node's clock {now}; at most {QUERY_SIGNATURE_WINDOW_MS} ms",
            time.abs_diff(now)
        )));
    }
    let height = s.store.latest_height()?.unwrap_or(Height(0));
    let view = StateView::new(s.store.as_ref(), height.0);
    let member = registry::signer_member(&view, &key).map_err(|e| match e {
        huxin_contracts::Error::Rejected(r) => unauthorized(r.reason),
        huxin_contracts::Error::State(e) => ApiError::from(e),
    })?;
    if !s.audit.first_use(now, signature)? {
        return Err(unauthorized("this signature was used before: sign each request afresh (replay refused)"));
    }
    Ok(SignedReader { key, member: member.id, role: member.role, signed_time: TimestampMs(time), signature })
}

/// Check a signed supervisor request (see the module docs): 403 for another member's key.
pub fn authenticate(s: &ApiState, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<SignedReader, ApiError> {
    if s.audit.anchor_member.is_none() && !s.audit.unanchored_allowed {
        // An unanchored log can be rewritten whole by the node's operator: by default such a
        // node serves no supervisor query.
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_unanchored",
            "this node does not anchor its audit log on the ledger ([audit] anchor_key is unset, or its key is not a member's at startup), so it serves no supervisor query; set anchor_key, or allow_unanchored = true to serve them unanchored",
        ));
    }
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

/// Log a supervisor's answered request in the node's audit log (before the answer leaves).
pub fn log(s: &ApiState, who: &SignedReader, method: &Method, uri: &Uri, result_count: u64) -> Result<(), ApiError> {
    s.audit.append(who, method.as_str(), &target(uri), 200, result_count)
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
    let (height, latest_time) = crate::query::latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    let records: Vec<CreditItem> = huxin_contracts::credit::history(&view, &subject)?
        .into_iter()
        .map(|record| CreditItem { publication: record.publication(time), record })
        .collect();
    let hidden = records.iter().filter(|r| r.publication != Publication::Active).count();
    s.audit.append(&who, method.as_str(), &target(&uri), 200, records.len() as u64)?;
    Ok(Json(FullCreditView { subject, height, time, hidden, records }))
}

fn target(uri: &Uri) -> String {
    uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
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
    s.audit.append(&who, method.as_str(), &target(&uri), 200, entries.len() as u64)?;
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
    s.audit.append(&who, method.as_str(), &target(&uri), 200, page.items.len() as u64)?;
    Ok(Json(page))
}
