//! `GET /v1/supervisor/rings/events`: the collusion-ring findings as server-sent events, for a
//! supervisor's alerting. On connect the stream sends every finding in force (over `from_height`
//! to the latest block), then, as blocks are added, each finding that is new or has changed
//! (more members, more evidence). The analysis reruns at most every [`RING_EVENTS_INTERVAL_MS`],
//! on the blocking pool, and only when the height has moved. The request is signed and audited
//! like the report (one audit entry per stream), and takes a place among the node's event
//! streams (`too_many_streams` when they are all taken).
//!
//! Each event's id is `height:n` (the height analysed, the finding's place in that analysis;
//! withdrawals count on after the findings), its name the finding's kind, its data a
//! [`RingEvent`]. A finding sent earlier that no longer stands (governance raised a threshold,
//! or the evidence now makes it another finding) is withdrawn: an event with its key and a null
//! finding. A reconnecting client gets the findings in force again: findings are a state of the
//! ledger, not a log, and the stream keeps the client's copy of that state exact.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Extension;
use tokio::sync::mpsc;

pub use huxin_state::answers::RingEvent;
use huxin_state::rings::Finding;
use huxin_types::{Height, Uscc};

use crate::events::StreamPermit;
use crate::signed::log;
use crate::supervisor::authenticate;
use crate::{ApiError, ApiState};

/// Shortest time between two analyses of one stream.
pub const RING_EVENTS_INTERVAL_MS: u64 = 2_000;
/// Findings buffered for a client before it counts as slow and is dropped.
pub const RING_EVENTS_BUFFER: usize = 256;

#[derive(serde::Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RingEventsQuery {
    /// Read bids and award notices anchored from this height (default 1).
    pub from_height: Option<u64>,
    /// Only findings of this kind.
    #[param(value_type = Option<String>, pattern = "^(bidding_ring|win_rotation|shared_premium_payer|identical_bid_documents)$")]
    pub kind: Option<String>,
    /// Only findings naming this subject (a USCC).
    #[param(value_type = Option<String>, pattern = "^[0-9A-HJ-NP-RTUWXY]{18}$")]
    pub subject: Option<String>,
}

/// What identifies a finding across analyses: its kind and who or what it is about.
fn identity(f: &Finding) -> String {
    match f {
        Finding::BiddingRing { members, .. } | Finding::WinRotation { members, .. } => {
            format!("{}:{}", f.kind(), members.first().map(Uscc::as_str).unwrap_or_default())
        }
        Finding::SharedPremiumPayer { payer, .. } => format!("{}:{payer}", f.kind()),
        Finding::IdenticalBidDocuments { document_hash, .. } => format!("{}:{document_hash}", f.kind()),
    }
}

/// What to send a client: a finding new or changed (its place in the analysis), or withdrawn.
#[derive(Debug)]
struct Change {
    n: usize,
    key: String,
    kind: &'static str,
    finding: Option<Finding>,
}

/// The findings of `now` that `sent` has not seen as they are now, then those `sent` has that no
/// longer stand (numbered on after `now`); `sent` is updated.
fn changed(sent: &mut BTreeMap<String, (&'static str, String)>, now: Vec<Finding>) -> Vec<Change> {
    let mut out = Vec::new();
    let count = now.len();
    let mut standing = std::collections::BTreeSet::new();
    for (n, f) in now.into_iter().enumerate() {
        let json = serde_json::to_string(&f).unwrap_or_default();
        let key = identity(&f);
        standing.insert(key.clone());
        if sent.insert(key.clone(), (f.kind(), json.clone())).map(|(_, j)| j).as_ref() != Some(&json) {
            out.push(Change { n, key, kind: f.kind(), finding: Some(f) });
        }
    }
    let gone: Vec<String> = sent.keys().filter(|k| !standing.contains(*k)).cloned().collect();
    for (i, key) in gone.into_iter().enumerate() {
        if let Some((kind, _)) = sent.remove(&key) {
            out.push(Change { n: count + i, key, kind, finding: None });
        }
    }
    out
}

#[utoipa::path(
    get,
    path = "/v1/supervisor/rings/events",
    operation_id = "supervisor_ring_events",
    summary = "Collusion-ring findings as server-sent events (signed, supervisors only, audited)",
    description = "Every finding in force on connect, then each new or changed one as blocks are added, and each one sent that no longer stands (its key, finding null) (id `height:n`, event name = kind, data = RingEvent). The analysis reruns at most every 2 s.",
    params(RingEventsQuery),
    responses((status = 200, description = "An SSE stream of RingEvent", content_type = "text/event-stream", body = RingEvent), (status = 400, description = "Bad input (bad_query)", body = crate::error::ErrorBody), (status = 401, description = "Unsigned, badly signed, stale or replayed request (unauthorized)", body = crate::error::ErrorBody), (status = 403, description = "The key is not an active supervisor's (forbidden)", body = crate::error::ErrorBody), (status = 503, description = "Too many streams, or this node's audit log is not anchored (too_many_streams, audit_unanchored)", body = crate::error::ErrorBody))
)]
pub async fn events(
    State(s): State<ApiState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    q: Result<Query<RingEventsQuery>, QueryRejection>,
) -> Result<Sse<impl futures::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let who = authenticate(&s, &method, &uri, &headers)?;
    let q = q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let filter = super::Filter::parse(q.kind.as_deref(), q.subject.as_deref())?;
    let from = q.from_height.unwrap_or(1);
    let permit = StreamPermit::take(&s, client)?;
    log(&s, &who, &method, &uri, 0)?;

    let (tx, rx) = mpsc::channel::<(u64, Change)>(RING_EVENTS_BUFFER);
    let mut heights = s.heights.clone();
    let slow = Duration::from_millis(s.event_limits.events_slow_client_ms);
    tokio::spawn(async move {
        let _permit = permit;
        let mut sent = BTreeMap::new();
        let mut analysed = None;
        loop {
            let tip = *heights.borrow_and_update();
            if analysed != Some(tip) && tip >= from {
                let store = s.store.clone();
                let run = tokio::task::spawn_blocking(move || super::analyse(&store, tip, from, tip)).await;
                let findings = match run {
                    Ok(Ok((.., findings))) => findings,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e.message, "ring event stream ended: the analysis failed");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "ring event stream ended: the analysis stopped");
                        return;
                    }
                };
                analysed = Some(tip);
                let wanted = findings.into_iter().filter(|f| filter.admits(f)).collect();
                for change in changed(&mut sent, wanted) {
                    if tx.send_timeout((tip, change), slow).await.is_err() {
                        return; // gone, or too slow to keep
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(RING_EVENTS_INTERVAL_MS)) => {}
                _ = tx.closed() => return,
            }
            tokio::select! {
                changed = heights.changed() => if changed.is_err() { return },
                _ = tx.closed() => return,
            }
        }
    });

    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let (height, Change { n, key, kind, finding }) = rx.recv().await?;
        let sse = SseEvent::default()
            .id(format!("{height}:{n}"))
            .event(kind)
            .json_data(RingEvent { height: Height(height), key, finding })
            .unwrap_or_else(|_| SseEvent::default().comment("unencodable event"));
        Some((Ok(sse), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use huxin_types::Hash32;

    fn ring(members: &[u32], sections: usize) -> Finding {
        Finding::BiddingRing {
            members: members.iter().map(|m| Uscc::with_check(&format!("91330100MA{m:07}")).expect("a code")).collect(),
            sections: vec![],
            sections_total: sections,
        }
    }

    /// A finding is sent once while it stays the same, again when it grows, and a new one is
    /// sent; one that no longer stands is withdrawn once, numbered after the findings.
    #[test]
    fn only_new_changed_or_withdrawn_findings_are_sent() {
        let mut sent = BTreeMap::new();
        let doc = Finding::IdenticalBidDocuments { document_hash: Hash32::ZERO, bidders: vec![], bids: vec![] };
        assert_eq!(changed(&mut sent, vec![ring(&[1, 2, 3], 3), doc.clone()]).len(), 2);
        assert!(changed(&mut sent, vec![ring(&[1, 2, 3], 3), doc.clone()]).is_empty());
        let grown = changed(&mut sent, vec![ring(&[1, 2, 3], 4), doc.clone(), ring(&[7, 8, 9], 3)]);
        assert_eq!(grown.iter().map(|c| c.n).collect::<Vec<_>>(), [0, 2]);
        assert!(grown.iter().all(|c| c.finding.is_some()));

        let withdrawn = changed(&mut sent, vec![doc.clone()]);
        let seen: Vec<_> = withdrawn.iter().map(|c| (c.n, c.kind, c.key.as_str(), c.finding.is_none())).collect();
        assert_eq!(
            seen,
            [
                (1, "bidding_ring", "bidding_ring:91330100MA0000001F", true),
                (2, "bidding_ring", "bidding_ring:91330100MA00000072", true)
            ]
        );
        assert!(changed(&mut sent, vec![doc.clone()]).is_empty(), "withdrawn once");
        assert_eq!(changed(&mut sent, vec![ring(&[1, 2, 3], 4), doc]).len(), 1, "and found again if it comes back");
    }
}
