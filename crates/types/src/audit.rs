//! Audited supervisor access (查询留痕): the signed query a supervisor sends, the entries of a
//! node's append-only audit log, and the transaction that anchors the log's running hash.
//!
//! A signed query is an HTTP request with three headers: [`HEADER_KEY`] (the supervisor's
//! member key), [`HEADER_TIME`] (Unix ms) and [`HEADER_SIGNATURE`], an ed25519 signature in
//! [`Domain::Query`] over [`query_message`], which names the chain and the serving node
//! ([`QueryAudience`]). Nodes accept it within [`QUERY_SIGNATURE_WINDOW_MS`] of their clock, once,
//! and not if it was signed before the node started (its replay cache starts empty).
//!
//! Each entry's hash chains the previous one ([`AuditEntry::compute_hash`]), so editing, removing
//! or reordering an entry changes every later hash; the node anchors its latest hash on the
//! ledger ([`AnchorAuditLog`]), so a rewritten log no longer matches what was anchored.

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::crypto::{Domain, PublicKey, SecretKey, Signature};
use crate::id::{ChainId, Hash32, MemberId, TimestampMs};

pub const HEADER_KEY: &str = "x-huxin-key";
pub const HEADER_TIME: &str = "x-huxin-time";
pub const HEADER_SIGNATURE: &str = "x-huxin-signature";
/// How far a signed query's time may be from the serving node's clock, either way.
pub const QUERY_SIGNATURE_WINDOW_MS: u64 = 60_000;
/// Longest path-and-query a supervisor may sign.
pub const QUERY_TARGET_BYTES_MAX: usize = 2048;

/// Who a signed query is for: the chain, and the node that serves it (its node key, as
/// `/v1/status` gives it). A request captured on its way to one node replays on no other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryAudience {
    pub chain_id: ChainId,
    pub node_key: PublicKey,
}

/// The bytes a supervisor signs: `chain id ‖ \n ‖ node key (hex) ‖ \n ‖ method ‖ \n ‖ path ‖ \n ‖
/// query ‖ \n ‖ time (decimal)`. The query is the raw query string without `?` (empty when there
/// is none).
pub fn query_message(audience: &QueryAudience, method: &str, path: &str, query: &str, time: TimestampMs) -> Vec<u8> {
    format!("{}\n{}\n{method}\n{path}\n{query}\n{}", audience.chain_id, audience.node_key, time.0).into_bytes()
}

/// Sign a query: the values of the three headers.
pub fn sign_query(
    key: &SecretKey,
    audience: &QueryAudience,
    method: &str,
    path: &str,
    query: &str,
    time: TimestampMs,
) -> [(String, String); 3] {
    let signature = key.sign(Domain::Query, &query_message(audience, method, path, query, time));
    [
        (HEADER_KEY.into(), key.public_key().to_string()),
        (HEADER_TIME.into(), time.0.to_string()),
        (HEADER_SIGNATURE.into(), signature.to_string()),
    ]
}

/// A signed query's three headers, parsed, and its signature checked for one node
/// ([`check_signed_query`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedQuery {
    pub key: PublicKey,
    pub time: TimestampMs,
    pub signature: Signature,
}

/// Why a signed query's headers are refused (before the clock, replay and membership checks,
/// which the serving node makes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryHeaderError {
    #[error("missing header {0}: this query must be signed")]
    Missing(&'static str),
    #[error("header {0} is not text")]
    NotText(&'static str),
    #[error("{HEADER_KEY} is not a public key: {0}")]
    BadKey(String),
    #[error("{HEADER_TIME} is not a time in ms")]
    BadTime,
    #[error("{HEADER_SIGNATURE} is not a signature: {0}")]
    BadSignature(String),
    #[error("the request target is {0} bytes; at most {QUERY_TARGET_BYTES_MAX}")]
    TargetTooLong(usize),
    #[error("the signature does not verify for key {key} over {message:?}")]
    DoesNotVerify { key: PublicKey, message: String },
}

/// Parse a signed query's headers (each as raw bytes, `None` when absent) and check its
/// signature over `method`, `path` and `query` for `audience`. Total: any bytes give a value
/// or a typed error.
pub fn check_signed_query(
    audience: &QueryAudience,
    method: &str,
    path: &str,
    query: &str,
    headers: [Option<&[u8]>; 3],
) -> Result<SignedQuery, QueryHeaderError> {
    fn text<'a>(value: Option<&'a [u8]>, name: &'static str) -> Result<&'a str, QueryHeaderError> {
        let value = value.ok_or(QueryHeaderError::Missing(name))?;
        std::str::from_utf8(value).map_err(|_| QueryHeaderError::NotText(name))
    }
    let [key, time, signature] = headers;
    let key: PublicKey = text(key, HEADER_KEY)?.parse().map_err(|e| QueryHeaderError::BadKey(format!("{e}")))?;
    let time: u64 = text(time, HEADER_TIME)?.parse().map_err(|_| QueryHeaderError::BadTime)?;
    let signature: Signature =
        text(signature, HEADER_SIGNATURE)?.parse().map_err(|e| QueryHeaderError::BadSignature(format!("{e}")))?;
    let target = path.len() + query.len() + usize::from(!query.is_empty());
    if target > QUERY_TARGET_BYTES_MAX {
        return Err(QueryHeaderError::TargetTooLong(target));
    }
    let time = TimestampMs(time);
    let message = query_message(audience, method, path, query, time);
    key.verify(Domain::Query, &message, &signature).map_err(|_| QueryHeaderError::DoesNotVerify {
        key,
        message: String::from_utf8_lossy(&message).into_owned(),
    })?;
    Ok(SignedQuery { key, time, signature })
}

/// One audited request, as the serving node recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// 1, 2, 3, … with no gaps.
    pub seq: u64,
    /// The serving node's clock when it answered.
    pub time: TimestampMs,
    pub supervisor_key: PublicKey,
    pub member: MemberId,
    pub method: String,
    /// Path and query as requested.
    pub target: String,
    pub status: u16,
    /// Items in the answer (records, entries).
    pub result_count: u64,
    /// The time the supervisor signed, and its signature over the request: an entry nobody
    /// signed cannot be made up by whoever runs the node.
    pub signed_time: TimestampMs,
    pub signature: Signature,
    /// The previous entry's hash (zero for the first).
    pub prev_hash: Hash32,
    pub hash: Hash32,
}

impl AuditEntry {
    /// The hash (in the supervisor key's suite: SHA-256 or SM3) of `huxin/v1/audit` ‖ canonical
    /// bytes of every field but `hash`.
    pub fn compute_hash(&self) -> Hash32 {
        let fields = (
            self.seq,
            self.time,
            self.supervisor_key,
            self.member,
            &self.method,
            &self.target,
            self.status,
            self.result_count,
            self.signed_time,
            self.signature,
            self.prev_hash,
        );
        self.supervisor_key.suite().hash_tagged(b"huxin/v1/audit", &codec::encode(&fields))
    }

    /// Whether the supervisor's signature over this entry's request verifies, for the node
    /// (and chain) that logged it.
    pub fn is_signed(&self, audience: &QueryAudience) -> bool {
        let (path, query) = self.target.split_once('?').unwrap_or((&self.target, ""));
        let message = query_message(audience, &self.method, path, query, self.signed_time);
        self.supervisor_key.verify(Domain::Query, &message, &self.signature).is_ok()
    }
}

/// The log a node keeps of `reads` that `supervisor` signed for `audience`: each a GET of a
/// target (path, then `?` and the query, if any), signed at its first time and answered at its
/// second, with status 200 and as many results as its sequence number. The golden vectors' logs
/// and the tests' are made this way.
pub fn log_of_signed_reads(
    audience: &QueryAudience,
    supervisor: &SecretKey,
    reads: &[(&str, TimestampMs, TimestampMs)],
) -> Vec<AuditEntry> {
    let mut out: Vec<AuditEntry> = Vec::with_capacity(reads.len());
    for (seq, (target, signed_time, time)) in (1u64..).zip(reads) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let message = query_message(audience, "GET", path, query, *signed_time);
        let mut entry = AuditEntry {
            seq,
            time: *time,
            supervisor_key: supervisor.public_key(),
            member: MemberId::from_key(&supervisor.public_key()),
            method: "GET".into(),
            target: (*target).to_owned(),
            status: 200,
            result_count: seq,
            signed_time: *signed_time,
            signature: supervisor.sign(Domain::Query, &message),
            prev_hash: out.last().map_or(Hash32::ZERO, |e| e.hash),
            hash: Hash32::ZERO,
        };
        entry.hash = entry.compute_hash();
        out.push(entry);
    }
    out
}

/// Why an audit log does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditLogError {
    #[error("entry {seq} follows entry {prev}: an entry is missing or out of order")]
    Gap { prev: u64, seq: u64 },
    #[error("entry {seq} does not chain to the entry before it")]
    BrokenChain { seq: u64 },
    #[error("entry {seq}'s hash does not match its contents: it was edited")]
    Edited { seq: u64 },
    #[error("entry {seq} carries no valid supervisor signature for this node: it was made up")]
    Unsigned { seq: u64 },
    #[error("the ledger anchors hash {anchored} at entry {seq}; the log has {found}")]
    AnchorMismatch { seq: u64, anchored: Hash32, found: String },
}

/// Check a log from its first entry: sequence, chain, every hash and every supervisor
/// signature (for `audience`, the node that keeps the log); then that the entry at each
/// anchored sequence number has the anchored hash. Gives the number of anchors matched.
pub fn check_log(
    entries: &[AuditEntry],
    anchors: &[(u64, Hash32)],
    audience: &QueryAudience,
) -> Result<usize, AuditLogError> {
    let mut prev = (0u64, Hash32::ZERO);
    for e in entries {
        if e.seq != prev.0 + 1 {
            return Err(AuditLogError::Gap { prev: prev.0, seq: e.seq });
        }
        if e.prev_hash != prev.1 {
            return Err(AuditLogError::BrokenChain { seq: e.seq });
        }
        if e.compute_hash() != e.hash {
            return Err(AuditLogError::Edited { seq: e.seq });
        }
        if !e.is_signed(audience) {
            return Err(AuditLogError::Unsigned { seq: e.seq });
        }
        prev = (e.seq, e.hash);
    }
    for (seq, anchored) in anchors {
        let found = entries.get((*seq as usize).wrapping_sub(1)).filter(|e| e.seq == *seq);
        if found.map(|e| e.hash) != Some(*anchored) {
            return Err(AuditLogError::AnchorMismatch {
                seq: *seq,
                anchored: *anchored,
                found: found.map_or_else(|| "no such entry".into(), |e| e.hash.to_string()),
            });
        }
    }
    Ok(anchors.len())
}

/// Anchor a node's audit log: its running hash after entry `seq`. Sent by the member that runs
/// the node, with strictly increasing `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnchorAuditLog {
    pub seq: u64,
    pub head: Hash32,
}

impl AnchorAuditLog {
    pub fn check_fields(&self) -> Result<(), String> {
        if self.seq == 0 {
            return Err("seq starts at 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audience() -> QueryAudience {
        QueryAudience {
            chain_id: ChainId::new("huxin-test").unwrap(),
            node_key: PublicKey::Ed25519(crate::crypto::Ed25519PublicKey([7; 32])),
        }
    }

    fn log(n: u64) -> Vec<AuditEntry> {
        let targets: Vec<String> = (1..=n).map(|seq| format!("/v1/supervisor/subjects/{seq}/credit")).collect();
        let reads: Vec<_> = (1..=n)
            .zip(&targets)
            .map(|(seq, target)| (target.as_str(), TimestampMs(seq * 1000 - 10), TimestampMs(seq * 1000)))
            .collect();
        log_of_signed_reads(&audience(), &SecretKey::from_bytes([1; 32]), &reads)
    }

    #[test]
    fn signed_query_headers_parse_and_verify_or_give_a_typed_error() {
        let key = SecretKey::from_bytes([1; 32]);
        let path = "/v1/supervisor/audit";
        let signed = sign_query(&key, &audience(), "GET", path, "after=3", TimestampMs(1_000));
        let [k, t, sig] = signed.map(|(_, v)| v);
        let bytes = |v: &String| Some(v.as_bytes().to_vec());
        let (k, t, sig) = (bytes(&k), bytes(&t), bytes(&sig));
        fn headers<'a>(
            k: &'a Option<Vec<u8>>,
            t: &'a Option<Vec<u8>>,
            s: &'a Option<Vec<u8>>,
        ) -> [Option<&'a [u8]>; 3] {
            [k.as_deref(), t.as_deref(), s.as_deref()]
        }
        let ok = check_signed_query(&audience(), "GET", path, "after=3", headers(&k, &t, &sig)).unwrap();
        assert_eq!((ok.key, ok.time), (key.public_key(), TimestampMs(1_000)));
        let check = |method: &str, query: &str, h| check_signed_query(&audience(), method, path, query, h);
        assert!(matches!(check("GET", "after=4", headers(&k, &t, &sig)), Err(QueryHeaderError::DoesNotVerify { .. })));
        assert!(matches!(check("POST", "after=3", headers(&k, &t, &sig)), Err(QueryHeaderError::DoesNotVerify { .. })));
        assert_eq!(check("GET", "", headers(&None, &t, &sig)), Err(QueryHeaderError::Missing(HEADER_KEY)));
        let not_text = Some(vec![0xff, 0xfe]);
        assert_eq!(check("GET", "", headers(&k, &not_text, &sig)), Err(QueryHeaderError::NotText(HEADER_TIME)));
        let minus = Some(b"-1".to_vec());
        assert_eq!(check("GET", "", headers(&k, &minus, &sig)), Err(QueryHeaderError::BadTime));
        let short = Some(b"zz".to_vec());
        assert!(matches!(check("GET", "", headers(&short, &t, &sig)), Err(QueryHeaderError::BadKey(_))));
        assert!(matches!(check("GET", "", headers(&k, &t, &short)), Err(QueryHeaderError::BadSignature(_))));
        let long = "q".repeat(QUERY_TARGET_BYTES_MAX);
        assert!(matches!(check("GET", &long, headers(&k, &t, &sig)), Err(QueryHeaderError::TargetTooLong(_))));
    }

    #[test]
    fn an_honest_log_checks_against_its_anchors() {
        let l = log(5);
        assert_eq!(check_log(&l, &[(2, l[1].hash), (5, l[4].hash)], &audience()), Ok(2));
    }

    #[test]
    fn edits_removals_and_rewrites_are_caught() {
        let l = log(5);
        let mut edited = l.clone();
        edited[2].result_count = 0;
        assert_eq!(check_log(&edited, &[], &audience()), Err(AuditLogError::Edited { seq: 3 }));
        let mut removed = l.clone();
        removed.remove(2);
        assert_eq!(check_log(&removed, &[], &audience()), Err(AuditLogError::Gap { prev: 2, seq: 4 }));
        // Rewriting an entry and re-hashing everything after it keeps the chain but not the anchor.
        let mut rewritten = l.clone();
        rewritten[2].result_count = 0;
        for i in 2..5 {
            rewritten[i].prev_hash = if i == 0 { Hash32::ZERO } else { rewritten[i - 1].hash };
            rewritten[i].hash = rewritten[i].compute_hash();
        }
        assert!(check_log(&rewritten, &[], &audience()).is_ok());
        let e = check_log(&rewritten, &[(4, l[3].hash)], &audience()).unwrap_err();
        assert!(matches!(e, AuditLogError::AnchorMismatch { seq: 4, .. }), "{e}");
        // Truncating the log below an anchor is caught too.
        let e = check_log(&l[..3], &[(4, l[3].hash)], &audience()).unwrap_err();
        assert!(e.to_string().contains("no such entry"), "{e}");
    }

    /// Regression: entries kept no signature, so whoever runs the node could append made-up
    /// queries (and re-hash) and the log still checked out.
    #[test]
    fn made_up_entries_and_other_nodes_entries_are_caught() {
        let l = log(3);
        let mut made_up = l.clone();
        made_up[2].target = "/v1/supervisor/subjects/99/credit".into();
        made_up[2].hash = made_up[2].compute_hash();
        assert_eq!(check_log(&made_up, &[], &audience()), Err(AuditLogError::Unsigned { seq: 3 }));
        let other_node =
            QueryAudience { node_key: PublicKey::Ed25519(crate::crypto::Ed25519PublicKey([8; 32])), ..audience() };
        assert_eq!(check_log(&l, &[], &other_node), Err(AuditLogError::Unsigned { seq: 1 }));
    }
}
