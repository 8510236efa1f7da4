//! Signed reads (查询留痕): a member signs a request with three headers
//! (`huxin_types::audit`): its key, a time within [`QUERY_SIGNATURE_WINDOW_MS`] of this node's
//! clock, and a signature over method, path, query and time that was not used before. Anything
//! else is 401 with the reason. Who may read what is decided by the endpoint:
//! [`crate::supervisor`] (supervisors' full histories), [`crate::granted`] (a platform reading a
//! subject's records by the subject's grant), [`crate::txs`] (a member's own withheld
//! transactions).
//!
//! Every answered signed read is appended to this node's audit log (synced to disk) *before* its
//! answer leaves the node: a query that cannot be logged is not answered. The node anchors the
//! log's running hash on the ledger (see `huxin start`), and supervisors list the log.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;

use axum::http::{HeaderMap, Method, StatusCode, Uri};

use huxin_contracts::registry;
use huxin_state::StateView;
use huxin_store::Store;
use huxin_types::audit::{
    check_signed_query, AuditEntry, QueryAudience, QueryHeaderError, SignedQuery, HEADER_KEY, HEADER_SIGNATURE,
    HEADER_TIME, QUERY_SIGNATURE_WINDOW_MS,
};
use huxin_types::crypto::{PublicKey, Signature};
use huxin_types::genesis::Role;
use huxin_types::{codec, Hash32, Height, MemberId, TimestampMs};

use crate::{ApiError, ApiState};

/// Signatures remembered to refuse replays (those older than the window are forgotten first).
pub const REPLAY_CACHE_MAX: usize = 100_000;
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
    pub(crate) fn append(
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

/// Refuse every audited read when this node's audit log is not anchored on the ledger (an
/// unanchored log can be rewritten whole by the node's operator), unless its operator allowed it.
pub fn require_anchored_log(s: &ApiState) -> Result<(), ApiError> {
    if s.audit.anchor_member.is_none() && !s.audit.unanchored_allowed {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_unanchored",
            "this node does not anchor its audit log on the ledger ([audit] anchor_key is unset, or its key is not a member's at startup), so it serves no audited query; set anchor_key, or allow_unanchored = true to serve them unanchored",
        ));
    }
    Ok(())
}

/// Log a signed request's answer in the node's audit log (before the answer leaves).
pub fn log(s: &ApiState, who: &SignedReader, method: &Method, uri: &Uri, result_count: u64) -> Result<(), ApiError> {
    s.audit.append(who, method.as_str(), &target(uri), 200, result_count)
}

/// The path and query a request was made to, as the audit log records it.
pub(crate) fn target(uri: &Uri) -> String {
    uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
}
