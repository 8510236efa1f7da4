//! The collusion-ring report for supervisors (围标串标分析), paged here and as server-sent events
//! in [`events`]: `huxin_state::rings` run over the
//! ledger's bids, award notices and bid-bond premiums in a height range, with the governed
//! thresholds in force; a signed supervisor request (see [`crate::signed`]), audited, paged.
//!
//! A page's cursor keeps the height the first page was read at, so the pages of one report agree
//! even while blocks are added. The analysis takes at most [`RING_INDEX_ENTRIES_MAX`] anchor
//! parties in its range; a larger range is refused with `too_many_rows`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use serde::Deserialize;

pub use huxin_state::answers::RingReport;
use huxin_state::index::ANCHORS_BY_PARTY;
use huxin_state::rings::{self, Finding, FINDING_KINDS};
use huxin_state::StateView;
use huxin_types::{Height, Uscc};

use crate::query::latest;
use crate::signed::log;
use crate::supervisor::authenticate;
use crate::{ApiError, ApiState};

pub mod events;

/// Most index entries (one per anchor party) in the range one report analyses.
pub const RING_INDEX_ENTRIES_MAX: usize = 200_000;
/// Most index entries one report scans to find them (the index is ordered by party, not height).
pub const RING_SCAN_KEYS_MAX: usize = 5_000_000;
/// Findings per page: default and most.
pub const RING_PAGE_DEFAULT: usize = 20;
pub const RING_PAGE_MAX: usize = 200;

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RingQuery {
    /// Read bids and award notices anchored from this height (default 1)…
    pub from_height: Option<u64>,
    /// …to this one, inclusive (default: the latest).
    pub to_height: Option<u64>,
    /// Only findings of this kind.
    #[param(value_type = Option<String>, pattern = "^(bidding_ring|win_rotation|shared_premium_payer|identical_bid_documents)$")]
    pub kind: Option<String>,
    /// Only findings naming this subject (a USCC).
    #[param(value_type = Option<String>, pattern = "^[0-9A-HJ-NP-RTUWXY]{18}$")]
    pub subject: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
    /// From an earlier page's `next_cursor`.
    #[param(value_type = Option<String>, pattern = "^[0-9a-f]{24}$")]
    pub cursor: Option<String>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("bad_query", message)
}

/// A cursor: the report's height and the offset of the next finding.
fn parse_cursor(cursor: &str) -> Result<(u64, usize), ApiError> {
    let bytes = hex::decode(cursor).map_err(|_| bad("cursor is not hex"))?;
    let bytes: [u8; 12] = bytes.try_into().map_err(|_| bad("cursor is not a ring report's cursor"))?;
    let (height, offset) = bytes.split_at(8);
    Ok((
        u64::from_be_bytes(height.try_into().unwrap_or_default()),
        u32::from_be_bytes(offset.try_into().unwrap_or_default()) as usize,
    ))
}

fn cursor(height: u64, offset: usize) -> String {
    hex::encode([height.to_be_bytes().as_slice(), &(offset as u32).to_be_bytes()].concat())
}

#[utoipa::path(
    get,
    path = "/v1/supervisor/rings",
    operation_id = "supervisor_rings",
    summary = "Collusion-ring report (signed, supervisors only, audited)",
    description = "Bidding rings, win rotation, shared premium payers and identical bid documents found in the bids and award notices anchored from `from_height` to `to_height`, with the governed thresholds in force and the evidence of each finding (sections, documents, heights, times). Paged; a cursor keeps the report's height.",
    params(RingQuery),
    responses((status = 200, body = RingReport), (status = 400, description = "Bad input (bad_query, too_many_rows)", body = crate::error::ErrorBody), (status = 401, description = "Unsigned, badly signed, stale or replayed request (unauthorized)", body = crate::error::ErrorBody), (status = 403, description = "The key is not an active supervisor's (forbidden)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody), (status = 503, description = "This node's audit log is not anchored (audit_unanchored)", body = crate::error::ErrorBody))
)]
pub async fn report(
    State(s): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    q: Result<Query<RingQuery>, QueryRejection>,
) -> Result<Json<RingReport>, ApiError> {
    let who = authenticate(&s, &method, &uri, &headers)?;
    let q = q.map(|Query(q)| q).map_err(|e| bad(e.body_text()))?;
    let limit = q.limit.unwrap_or(RING_PAGE_DEFAULT);
    if limit == 0 || limit > RING_PAGE_MAX {
        return Err(bad(format!("limit is 1 to {RING_PAGE_MAX}")));
    }
    let filter = Filter::parse(q.kind.as_deref(), q.subject.as_deref())?;
    let (latest_height, _) = latest(&s)?;
    let (height, offset) = match q.cursor.as_deref() {
        Some(c) => parse_cursor(c)?,
        None => (latest_height.0, 0),
    };
    if height > latest_height.0 {
        return Err(bad(format!("the cursor's height {height} is past the latest {}", latest_height.0)));
    }
    let from = q.from_height.unwrap_or(1);
    let to = q.to_height.unwrap_or(height).min(height);
    if from > to {
        return Err(bad(format!("from_height {from} is after to_height {to}")));
    }
    let store = s.store.clone();
    let analysed = tokio::task::spawn_blocking(move || analyse(&store, height, from, to))
        .await
        .map_err(|e| ApiError::internal(format!("the ring analysis stopped: {e}")))??;
    let (sections, bids, sections_too_large, params, findings) = analysed;
    let matching: Vec<Finding> = findings.into_iter().filter(|f| filter.admits(f)).collect();
    let findings_total = matching.len();
    let page: Vec<Finding> = matching.into_iter().skip(offset).take(limit).collect();
    let next_cursor = (offset + page.len() < findings_total).then(|| cursor(height, offset + page.len()));
    log(&s, &who, &method, &uri, page.len() as u64)?;
    Ok(Json(RingReport {
        height: Height(height),
        from_height: from,
        to_height: to,
        params,
        sections,
        bids,
        sections_too_large,
        findings_total,
        findings: page,
        next_cursor,
    }))
}

/// The findings a request asks for: of one kind, naming one subject (as a member, applicant,
/// bidder or payer).
pub(crate) struct Filter {
    kind: Option<String>,
    subject: Option<Uscc>,
}

impl Filter {
    pub(crate) fn parse(kind: Option<&str>, subject: Option<&str>) -> Result<Filter, ApiError> {
        if let Some(kind) = kind.filter(|k| !FINDING_KINDS.contains(k)) {
            return Err(bad(format!("kind {kind:?} is none of {}", FINDING_KINDS.join(", "))));
        }
        let subject =
            subject.map(|u| u.parse().map_err(|e| bad(format!("subject {u:?} is not a USCC: {e}")))).transpose()?;
        Ok(Filter { kind: kind.map(str::to_owned), subject })
    }

    pub(crate) fn admits(&self, f: &Finding) -> bool {
        self.kind.as_deref().is_none_or(|k| f.kind() == k)
            && self.subject.as_ref().is_none_or(|u| {
                f.subjects().contains(u) || matches!(f, Finding::SharedPremiumPayer { payer, .. } if payer == u)
            })
    }
}

type Analysed = (usize, usize, usize, huxin_types::governance::RingParams, Vec<Finding>);

/// Read the index and the state at `height` and run the analysis.
fn analyse(store: &huxin_store::Store, height: u64, from: u64, to: u64) -> Result<Analysed, ApiError> {
    let entries = in_range(store, from, to)?;
    let view = StateView::new(store, height);
    let params = huxin_contracts::params::ring_current(&view)?;
    let facts = rings::gather(&view, &entries, from, to)?;
    if let Some(e) = view.read_error() {
        return Err(ApiError::internal(format!("storage error: {e}")));
    }
    let analysis =
        rings::analyse(&facts, &params).map_err(|e| ApiError::bad_request("too_many_rows", e.to_string()))?;
    Ok((analysis.sections, analysis.bids, analysis.sections_too_large, params, analysis.findings))
}

/// The anchor-party index entries of heights `from..=to`. The index is ordered by party, so the
/// whole of it is read (at most [`RING_SCAN_KEYS_MAX`] keys); at most [`RING_INDEX_ENTRIES_MAX`]
/// of them may fall in the range.
fn in_range(store: &huxin_store::Store, from: u64, to: u64) -> Result<huxin_state::index::Entries, ApiError> {
    let height_of = |key: &[u8]| {
        key.get(ANCHORS_BY_PARTY.len() + 18..ANCHORS_BY_PARTY.len() + 26)
            .and_then(|h| h.try_into().ok())
            .map(u64::from_be_bytes)
    };
    let (mut kept, mut scanned, mut after) = (Vec::new(), 0, None::<Vec<u8>>);
    loop {
        let (chunk, exhausted) = store.index_scan(ANCHORS_BY_PARTY, after.as_deref(), 10_000)?;
        scanned += chunk.len();
        after = chunk.last().map(|(k, _)| k.clone());
        kept.extend(chunk.into_iter().filter(|(k, _)| height_of(k).is_some_and(|h| (from..=to).contains(&h))));
        if kept.len() > RING_INDEX_ENTRIES_MAX {
            return Err(ApiError::bad_request(
                "too_many_rows",
                format!(
                    "heights {from} to {to} hold more than {RING_INDEX_ENTRIES_MAX} anchor parties; ask for a shorter range (from_height, to_height)"
                ),
            ));
        }
        if exhausted {
            return Ok(kept);
        }
        if scanned >= RING_SCAN_KEYS_MAX {
            return Err(ApiError::bad_request(
                "too_many_rows",
                format!(
                    "the anchor-party index holds more than {RING_SCAN_KEYS_MAX} entries, more than one report reads"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_a_foreign_one_is_refused() {
        assert_eq!(parse_cursor(&cursor(412, 40)).ok(), Some((412, 40)));
        assert!(parse_cursor("zz").is_err());
        assert!(parse_cursor(&hex::encode([0u8; 40])).is_err(), "another list's cursor");
    }
}
