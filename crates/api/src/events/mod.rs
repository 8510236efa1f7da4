//! `GET /v1/events`: server-sent events for finalised, applied transactions — anchors,
//! attestations, credit records, blacklist entries, guarantee steps, governance — with filters
//! and resumption. A credit action's event says its kind and hash only (no action, no subjects:
//! see [`crate::public`]).
//!
//! Each event's SSE id is `height:index`; a client resumes with `Last-Event-ID` (or
//! `from_height`) and gets every later event, replayed from the store, then live ones. Each
//! client has its own producer task and a buffer of [`EventLimits::events_buffer`] events; a
//! client that leaves it full for [`EventLimits::events_slow_client_ms`] is dropped (it may
//! reconnect and resume; `huxin_event_clients_dropped_total` counts them). The node never waits
//! for a client: producers only read the store, on tokio's blocking pool (never on the runtime
//! that also runs consensus), yielding between blocks. A node serves at most
//! [`EVENTS_CLIENTS_MAX`] streams, and at most [`EventLimits::events_streams_per_address`] to one
//! client address.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Extension;
use tokio::sync::mpsc;

use huxin_contracts::{guarantee, registry};
use huxin_state::StateView;
use huxin_types::identity::{BlacklistScope, SubjectId};
use huxin_types::{Action, Height, Outcome, RegionCode};

/// Counters the node's `/metrics` reports.
pub mod metrics {
    use std::sync::atomic::AtomicU64;
    /// Event streams dropped because their client did not keep up.
    pub static EVENT_CLIENTS_DROPPED: AtomicU64 = AtomicU64::new(0);
}
use crate::{ApiError, ApiState};

mod filter;

pub(crate) use filter::list_schemas;
use filter::Filter;
pub use filter::{EventsQuery, EVENTS_FILTER_VALUES_MAX};
pub use huxin_state::answers::Event;

/// Events buffered per client before it counts as slow (default of [`EventLimits::buffer`]).
pub const EVENTS_BUFFER_MAX: usize = 1024;
/// How long a client may leave its buffer full before it is dropped (default of
/// [`EventLimits::slow_client_ms`]).
pub const EVENTS_SLOW_CLIENT_MS: u64 = 5_000;

/// Per-client limits of event streams (`[api]` in a node's `config.toml`).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct EventLimits {
    /// Events buffered per client, 1 to 65 536.
    #[serde(default = "default_buffer")]
    pub events_buffer: usize,
    /// How long a client may leave its buffer full before it is dropped, ms.
    #[serde(default = "default_slow")]
    pub events_slow_client_ms: u64,
    /// Event streams served at once to one client IP address, 1 to [`EVENTS_CLIENTS_MAX`]
    /// (behind a reverse proxy every client shares the proxy's address: raise it there).
    #[serde(default = "default_per_address")]
    pub events_streams_per_address: usize,
}

fn default_buffer() -> usize {
    EVENTS_BUFFER_MAX
}
fn default_slow() -> u64 {
    EVENTS_SLOW_CLIENT_MS
}
fn default_per_address() -> usize {
    EVENTS_PER_ADDRESS_MAX
}

/// Event streams per client address (default of [`EventLimits::events_streams_per_address`]).
pub const EVENTS_PER_ADDRESS_MAX: usize = 16;

impl Default for EventLimits {
    fn default() -> Self {
        EventLimits {
            events_buffer: EVENTS_BUFFER_MAX,
            events_slow_client_ms: EVENTS_SLOW_CLIENT_MS,
            events_streams_per_address: EVENTS_PER_ADDRESS_MAX,
        }
    }
}

impl EventLimits {
    /// The limits, or why they are out of range.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=65_536).contains(&self.events_buffer) {
            return Err(format!("events_buffer is 1 to 65536, got {}", self.events_buffer));
        }
        if !(1..=600_000).contains(&self.events_slow_client_ms) {
            return Err(format!("events_slow_client_ms is 1 to 600000, got {}", self.events_slow_client_ms));
        }
        if !(1..=EVENTS_CLIENTS_MAX).contains(&self.events_streams_per_address) {
            return Err(format!(
                "events_streams_per_address is 1 to {EVENTS_CLIENTS_MAX}, got {}",
                self.events_streams_per_address
            ));
        }
        Ok(())
    }
}

/// Most event streams served at once by one node.
pub const EVENTS_CLIENTS_MAX: usize = 256;

/// What an applied transaction's event says, reading state for what the action only names.
fn describe(
    view: &StateView<'_, huxin_store::Store>,
    signer_region: Option<RegionCode>,
    action: &Action,
) -> (Vec<RegionCode>, bool, Vec<SubjectId>) {
    let mut regions: Vec<RegionCode> = signer_region.into_iter().collect();
    let mut national = false;
    let mut subjects = Vec::new();
    let by_number = |number: &str, regions: &mut Vec<RegionCode>, subjects: &mut Vec<SubjectId>| {
        // A read error is kept by the view and voids the block's events (see `block_events`).
        if let Ok(Some(g)) = guarantee::guarantee(view, number) {
            regions.push(g.guarantee.tender.region);
            subjects.push(SubjectId::Organisation(g.guarantee.applicant));
        }
    };
    match action {
        Action::AnchorDocument(a) => {
            regions.push(a.tender.region);
            subjects.extend(a.parties.iter().cloned().map(SubjectId::Organisation));
            subjects.extend(a.experts.iter().copied().map(SubjectId::Expert));
        }
        Action::AttestSubject(a) => subjects.push(a.subject.clone()),
        Action::RevokeAttestation(r) => subjects.push(r.subject.clone()),
        Action::RecogniseAttestation { subject } | Action::WithdrawRecognition { subject } => {
            subjects.push(subject.clone())
        }
        Action::ListOnBlacklist(l) => {
            subjects.push(l.subject.clone());
            match &l.scope {
                BlacklistScope::National => national = true,
                BlacklistScope::Regions(r) => regions.extend(r.iter().copied()),
            }
        }
        Action::LiftBlacklist(l) => subjects.push(l.subject.clone()),
        // Withheld from the public view (see crate::public).
        Action::RecordCredit(_) | Action::RepairCredit(_) | Action::RevokeCredit(_) => {}
        Action::IssueGuarantee(g) => {
            regions.push(g.tender.region);
            subjects.push(SubjectId::Organisation(g.applicant.clone()));
        }
        Action::VerifyGuarantee(n) | Action::ReleaseGuarantee(n) | Action::CancelGuarantee(n) => {
            by_number(&n.number, &mut regions, &mut subjects)
        }
        Action::ClaimGuarantee(c) => by_number(&c.number, &mut regions, &mut subjects),
        Action::PayGuarantee(p) => by_number(&p.number, &mut regions, &mut subjects),
        Action::SubjectStatement(s) => subjects.push(s.statement.subject.clone()),
        // Withheld from the public view (an expert's employer; the bidders to avoid).
        Action::EnrolExpert(_) | Action::OpenEvaluation(_) => {}
        Action::SetRecognitionPolicy { .. }
        | Action::Propose(_)
        | Action::Vote(_)
        | Action::AnchorAuditLog(_)
        | Action::CommitDraw(_)
        | Action::RevealDraw(_)
        | Action::RevealSeats(_)
        | Action::ReplaceExpert(_)
        | Action::AnchorEvaluation(_) => {}
    }
    regions.sort();
    regions.dedup();
    subjects.sort();
    subjects.dedup();
    (regions, national, subjects)
}

/// Every applied transaction of block `height` as an event, in block order.
fn block_events(s: &ApiState, height: Height) -> Result<Vec<Event>, String> {
    let block = s.store.block(height).map_err(|e| e.to_string())?;
    let receipts = s.store.receipts(height).map_err(|e| e.to_string())?;
    let (Some(block), Some(receipts)) = (block, receipts) else {
        return Ok(Vec::new());
    };
    let view = StateView::new(s.store.as_ref(), height.0);
    let mut events = Vec::new();
    for (index, (tx, receipt)) in block.txs.iter().zip(&receipts).enumerate() {
        if !matches!(receipt.outcome, Outcome::Applied) {
            continue;
        }
        let signer_region = registry::signer_member(&view, &tx.body.signer).ok().map(|m| m.region);
        let withheld = crate::public::is_withheld(&tx.body.action);
        let (regions, national, subjects) = describe(&view, signer_region, &tx.body.action);
        events.push(Event {
            height,
            index: index as u32,
            time: block.header.time,
            tx_hash: tx.hash(),
            kind: tx.body.action.kind().to_owned(),
            regions,
            national,
            subjects,
            action: (!withheld).then(|| tx.body.action.clone()),
        });
    }
    match view.read_error() {
        Some(e) => Err(e.to_string()),
        None => Ok(events),
    }
}

/// Open event streams per client address.
pub type StreamsByAddress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// One stream's place in its client address's quota, given back when the stream ends.
struct AddressSlot {
    table: StreamsByAddress,
    address: IpAddr,
}

impl AddressSlot {
    fn take(table: &StreamsByAddress, address: IpAddr, max: usize) -> Option<AddressSlot> {
        let mut open = table.lock().ok()?;
        let count = open.entry(address).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(AddressSlot { table: table.clone(), address })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.table.lock() {
            if let Some(count) = open.get_mut(&self.address) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    open.remove(&self.address);
                }
            }
        }
    }
}

/// A stream's place among the node's streams and its client address's, given back when the
/// stream ends. Every server-sent event stream takes one (`/v1/events`, the ring events).
pub(crate) struct StreamPermit {
    _node: tokio::sync::OwnedSemaphorePermit,
    _address: Option<AddressSlot>,
}

impl StreamPermit {
    /// A place for a new stream, or `too_many_streams` (with Retry-After). Without a peer address
    /// (a router driven in-process) the node-wide limit alone applies.
    pub(crate) fn take(
        s: &ApiState,
        client: Option<Extension<ConnectInfo<SocketAddr>>>,
    ) -> Result<StreamPermit, ApiError> {
        let address = match client {
            Some(Extension(ConnectInfo(peer))) => {
                let per_address = s.event_limits.events_streams_per_address;
                Some(AddressSlot::take(&s.events_by_address, peer.ip(), per_address).ok_or_else(|| {
                    ApiError::shed(
                        "too_many_streams",
                        format!("this node serves at most {per_address} event streams to one address ({})", peer.ip()),
                    )
                })?)
            }
            None => None,
        };
        let node = s.events_clients.clone().try_acquire_owned().map_err(|_| {
            ApiError::shed("too_many_streams", format!("this node serves at most {EVENTS_CLIENTS_MAX} event streams"))
        })?;
        Ok(StreamPermit { _node: node, _address: address })
    }
}

/// Parse `Last-Event-ID: height:index` into the position to resume after.
fn last_event_id(headers: &HeaderMap) -> Result<Option<(u64, u32)>, ApiError> {
    let Some(value) = headers.get("last-event-id") else { return Ok(None) };
    let bad = || ApiError::bad_request("bad_header", "Last-Event-ID must be height:index");
    let text = value.to_str().map_err(|_| bad())?;
    let (h, i) = text.split_once(':').ok_or_else(bad)?;
    Ok(Some((h.parse().map_err(|_| bad())?, i.parse().map_err(|_| bad())?)))
}

#[utoipa::path(
    get,
    path = "/v1/events",
    summary = "Server-sent events",
    description = "One event per applied transaction (id `height:index`, event name = kind, data = Event), filtered; replayed from `from_height` or after `Last-Event-ID`, then live.",
    params(EventsQuery),
    responses((status = 200, description = "An SSE stream of Event", content_type = "text/event-stream", body = Event), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 503, description = "Mempool full, node unavailable or too many streams", body = crate::error::ErrorBody))
)]
pub async fn events(
    State(s): State<ApiState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Sse<impl futures::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let q = q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let filter = Filter::parse(&q)?;
    let latest = s.store.latest_height()?.unwrap_or(Height(0)).0;
    // Resume after the last event seen, or from a height, or with the next block.
    let (mut next, mut skip_through) = match (last_event_id(&headers)?, q.from_height) {
        (Some((h, i)), _) => (h.max(1), Some((h, i))),
        (None, Some(h)) => (h.max(1), None),
        (None, None) => (latest + 1, None),
    };
    let limits = s.event_limits;
    let permit = StreamPermit::take(&s, client)?;

    let (tx, rx) = mpsc::channel::<Event>(limits.events_buffer.max(1));
    let mut heights = s.heights.clone();
    tokio::spawn(async move {
        let _permit = permit;
        loop {
            let tip = *heights.borrow_and_update();
            while next <= tip {
                if tx.is_closed() {
                    return;
                }
                // Store reads block: run them off the async runtime, which also runs consensus.
                let state = s.clone();
                let read = tokio::task::spawn_blocking(move || block_events(&state, Height(next))).await;
                let events = match read {
                    Ok(Ok(events)) => events,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, height = next, "event stream ended by a store error");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, height = next, "event stream ended: its store read failed");
                        return;
                    }
                };
                for event in events {
                    if skip_through.is_some_and(|(h, i)| (event.height.0, event.index) <= (h, i))
                        || !filter.admits(&event)
                    {
                        continue;
                    }
                    match tx.send_timeout(event, Duration::from_millis(limits.events_slow_client_ms)).await {
                        Ok(()) => {}
                        Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                            tracing::info!("slow event client dropped");
                            metrics::EVENT_CLIENTS_DROPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return;
                        }
                        Err(mpsc::error::SendTimeoutError::Closed(_)) => return,
                    }
                }
                next += 1;
            }
            skip_through = None;
            tokio::select! {
                changed = heights.changed() => if changed.is_err() { return },
                _ = tx.closed() => return,
            }
        }
    });

    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        let sse = SseEvent::default()
            .id(format!("{}:{}", event.height.0, event.index))
            .event(event.kind.clone())
            .json_data(&event)
            .unwrap_or_else(|_| SseEvent::default().comment("unencodable event"));
        Some((Ok(sse), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
