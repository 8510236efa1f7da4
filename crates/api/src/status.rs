//! `GET /v1/status` (the node's chain, height, peers, mempool and equivocation evidence) and
//! `GET /metrics` (Prometheus).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use huxin_state::answers::StatusView;
use huxin_types::Height;

use crate::{ApiError, ApiState};

#[utoipa::path(
    get,
    path = "/v1/status",
    summary = "Node status",
    description = "Chain, software and protocol versions, latest height, block hash and time, state root, round, peers, mempool, and the equivocation evidence seen since the node started.",
    responses((status = 200, body = StatusView), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn status(State(s): State<ApiState>) -> Result<Json<StatusView>, ApiError> {
    let latest = s.store.latest_height()?.unwrap_or(Height(0));
    let header = if latest.0 > 0 { s.store.header(latest)? } else { None };
    let live = s.node.live();
    Ok(Json(StatusView {
        chain_id: s.chain_id.clone(),
        genesis_hash: s.store.genesis_hash()?,
        moniker: live.moniker,
        software_version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol_version: live.protocol_version,
        suite: huxin_state::StateReader::suite(&*s.store),
        node_key: s.node_key,
        latest_height: latest.0,
        latest_block_hash: header.as_ref().map(|h| h.hash()),
        latest_block_time_ms: header.as_ref().map(|h| h.time.0),
        state_root: header.as_ref().map(|h| h.state_root),
        round: live.round,
        peers: live.peers,
        consensus_peers: live.consensus_peers,
        mempool_txs: live.mempool_txs,
        mempool_bytes: live.mempool_bytes,
        equivocations: live.equivocations,
    }))
}

#[utoipa::path(
    get,
    path = "/metrics",
    summary = "Prometheus metrics",
    description = "Text exposition format.",
    responses((status = 200, description = "Prometheus text", content_type = "text/plain"))
)]
pub(crate) async fn metrics(State(s): State<ApiState>) -> impl IntoResponse {
    let mut text = s.node.metrics_text();
    // OpenMetrics text ends with `# EOF`: the API's own counters go before it.
    let eof = text.ends_with("# EOF\n");
    if eof {
        text.truncate(text.len() - "# EOF\n".len());
    }
    let dropped = crate::events::metrics::EVENT_CLIENTS_DROPPED.load(std::sync::atomic::Ordering::Relaxed);
    text.push_str(&format!(
        "# HELP huxin_event_clients_dropped_total Event streams dropped because their client did not keep up.\n\
         # TYPE huxin_event_clients_dropped_total counter\nhuxin_event_clients_dropped_total {dropped}\n"
    ));
    if eof {
        text.push_str("# EOF\n");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
