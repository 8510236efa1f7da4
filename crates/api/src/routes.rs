//! Route handlers and their JSON shapes.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use huxin_contracts::registry;
use huxin_state::StateView;
use huxin_types::crypto::{signing_input, Domain, PublicKey, Signature};
use huxin_types::genesis::Role;
use huxin_types::limits::TX_BYTES_MAX;
use huxin_types::tx::Expiry;
use huxin_types::{
    codec, Action, BlockHash, BlockHeader, ChainId, Hash32, Height, MemberId, Outcome, Rejection, SignedTx, TxBody,
    TxHash,
};

use crate::{
    query, ApiError, ApiState, BATCH_BODY_BYTES_MAX, BATCH_TXS_MAX, BODY_BYTES_MAX, PAGE_ITEMS_DEFAULT, PAGE_ITEMS_MAX,
};

/// Expiry given to a prepared transaction when the client names none: this many heights ahead.
pub const DEFAULT_EXPIRY_HEIGHTS: u64 = 10_000;

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(crate::dashboard::index))
        .route("/assets/app.js", get(crate::dashboard::script))
        .route("/assets/app.css", get(crate::dashboard::style))
        .route("/v1/status", get(status))
        .route("/v1/txs/prepare", post(prepare))
        .route("/v1/txs", post(submit))
        .route("/v1/txs/batch", post(submit_batch).layer(DefaultBodyLimit::max(BATCH_BODY_BYTES_MAX)))
        .route("/v1/txs/{hash}", get(tx_status))
        .route("/v1/blocks/latest", get(latest_block))
        .route("/v1/blocks/{height}", get(block))
        .route("/v1/signers/{key}", get(signer))
        .route("/v1/signers/{key}/txs", get(query::signer_txs))
        .route("/v1/credit", get(query::credit_list))
        .route("/v1/guarantees", get(query::guarantee_list))
        .route("/v1/blacklist", get(query::blacklist_list))
        .route("/v1/members", get(query::members))
        .route("/v1/subjects", get(query::subject_search))
        .route("/v1/subjects/{subject}/deals", get(query::subject_deals))
        .route("/v1/subjects/{subject}", get(query::subject))
        .route("/v1/subjects/{subject}/eligibility", get(query::eligibility))
        .route("/v1/subjects/{subject}/credit", get(query::credit_history))
        .route("/v1/guarantees/{number}", get(query::guarantee))
        .route("/v1/documents/{hash}", get(query::document))
        .route("/v1/tenders/{region}/{project}/{section}", get(query::tender))
        .route("/v1/proposals/{id}", get(query::proposal))
        .route("/v1/params", get(query::params))
        .route("/v1/validators", get(query::validators))
        .route("/v1/events", get(crate::events::events))
        .route("/v1/stats", get(crate::stats::stats))
        .route("/v1/audit/anchors/{member}", get(crate::supervisor::anchors))
        .route("/v1/supervisor/subjects/{subject}/credit", get(crate::supervisor::credit_history))
        .route("/v1/supervisor/audit", get(crate::supervisor::audit_log))
        .route("/v1/supervisor/credit", get(crate::supervisor::credit_list))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(crate::openapi::json))
        .fallback(|| async { ApiError::not_found("no such endpoint; see README.md for the API") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method; see README.md",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(state)
        .merge(swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
            uri_prefix: "/docs",
            api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
            title: Some("Huxin API"),
        }))
}

fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("request body exceeds {BODY_BYTES_MAX} bytes"),
            )
        } else {
            ApiError::bad_request("bad_body", e.body_text())
        }
    })
}

fn json_body<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body_bytes(body)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("bad_json", format!("request body is not the expected JSON: {e}")))
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct StatusView {
    pub chain_id: ChainId,
    pub genesis_hash: Option<BlockHash>,
    pub moniker: String,
    /// This node's consensus key: a signed supervisor query names it, with the chain id.
    pub node_key: PublicKey,
    pub latest_height: u64,
    pub latest_block_hash: Option<BlockHash>,
    pub latest_block_time_ms: Option<u64>,
    pub state_root: Option<Hash32>,
    pub round: i64,
    /// Connected transaction-gossip peers.
    pub peers: i64,
    /// Connected consensus peers (validators that passed the validator-proof handshake, or are
    /// still passing it).
    #[serde(default)]
    pub consensus_peers: i64,
    pub mempool_txs: usize,
    pub mempool_bytes: usize,
    /// Equivocation evidence seen since the node started (at most 256, oldest first).
    #[serde(default)]
    pub equivocations: Vec<crate::EquivocationView>,
}

#[utoipa::path(
    get,
    path = "/v1/status",
    summary = "Node status",
    description = "Chain, latest height, block hash and time, state root, round, peers, mempool, and the equivocation evidence seen since the node started.",
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

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct PrepareRequest {
    pub signer: PublicKey,
    /// Defaults to the signer's next nonce on the ledger (pending transactions not counted).
    pub nonce: Option<u64>,
    /// Defaults to [`DEFAULT_EXPIRY_HEIGHTS`] heights past the latest.
    pub expiry: Option<Expiry>,
    pub action: Action,
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct PrepareResponse {
    pub chain_id: ChainId,
    pub tx_hash: TxHash,
    pub nonce: u64,
    pub expiry: Expiry,
    /// Canonical body bytes (hex): submit these as `payload`.
    pub payload: String,
    /// The exact bytes to sign with ed25519 (hex): the domain tag `huxin/v1/tx`, a zero byte,
    /// then the payload.
    pub sign_bytes: String,
}

fn last_nonce(s: &ApiState, key: &PublicKey) -> Result<(Height, u64), ApiError> {
    let latest = s.store.latest_height()?.unwrap_or(Height(0));
    let view = StateView::new(s.store.as_ref(), latest.0);
    Ok((latest, registry::last_nonce(&view, key)))
}

#[utoipa::path(
    post,
    path = "/v1/txs/prepare",
    summary = "Prepare a transaction",
    description = "The canonical bytes to sign for any action, with the next nonce and an expiry filled in.",
    request_body = PrepareRequest,
    responses((status = 200, body = PrepareResponse), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 422, description = "Refused by the admission rules (a transaction rejection code)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn prepare(
    State(s): State<ApiState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PrepareResponse>, ApiError> {
    let req: PrepareRequest = json_body(body)?;
    let (latest, last) = last_nonce(&s, &req.signer)?;
    let body = TxBody {
        chain_id: s.chain_id.clone(),
        signer: req.signer,
        nonce: req.nonce.unwrap_or(last + 1),
        expiry: req.expiry.unwrap_or(Expiry::Height(Height(latest.0 + DEFAULT_EXPIRY_HEIGHTS))),
        action: req.action,
    };
    huxin_state::check_stateless(&s.chain_id, &SignedTx { body: body.clone(), signature: Signature::ZERO }, false)
        .map_err(ApiError::rejected)?;
    let payload = body.encode();
    Ok(Json(PrepareResponse {
        chain_id: body.chain_id.clone(),
        tx_hash: body.hash(),
        nonce: body.nonce,
        expiry: body.expiry,
        sign_bytes: hex::encode(signing_input(Domain::Tx, &payload)),
        payload: hex::encode(payload),
    }))
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct SubmitRequest {
    /// Canonical body bytes, hex.
    pub payload: String,
    pub public_key: PublicKey,
    pub signature: Signature,
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct SubmitResponse {
    pub tx_hash: TxHash,
    pub status: String,
}

fn decode_submission(req: SubmitRequest) -> Result<SignedTx, ApiError> {
    if req.payload.len() > TX_BYTES_MAX * 2 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "tx_too_large",
            format!("payload is {} bytes; at most {TX_BYTES_MAX} are allowed", req.payload.len() / 2),
        ));
    }
    let bytes = hex::decode(&req.payload)
        .map_err(|e| ApiError::bad_request("malformed", format!("payload is not hex: {e}")))?;
    let body: TxBody = codec::decode_canonical(&bytes, TX_BYTES_MAX)
        .map_err(|e| ApiError::bad_request("malformed", format!("payload is not a canonical transaction body: {e}")))?;
    if body.signer != req.public_key {
        return Err(ApiError::bad_request(
            "signer_mismatch",
            format!("public_key {} is not the payload's signer {}", req.public_key, body.signer),
        ));
    }
    Ok(SignedTx { body, signature: req.signature })
}

#[utoipa::path(
    post,
    path = "/v1/txs",
    summary = "Submit a signed transaction",
    description = "Checked statelessly and put in the mempool; 202 with its hash.",
    request_body = SubmitRequest,
    responses((status = 202, body = SubmitResponse), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 422, description = "Refused by the admission rules (a transaction rejection code)", body = crate::error::ErrorBody), (status = 503, description = "Mempool full, node unavailable or too many streams", body = crate::error::ErrorBody))
)]
pub(crate) async fn submit(
    State(s): State<ApiState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let req: SubmitRequest = json_body(body)?;
    let tx = decode_submission(req)?;
    let hash = s.node.submit(tx)?;
    Ok((StatusCode::ACCEPTED, Json(SubmitResponse { tx_hash: hash, status: "pending".into() })))
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct BatchResponse {
    /// One per submitted transaction, in order.
    pub results: Vec<BatchItem>,
}

/// A batch item's result: its hash and `pending`, or the error that refused it.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct BatchItem {
    pub tx_hash: Option<TxHash>,
    pub status: Option<String>,
    pub error: Option<serde_json::Value>,
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct BatchRequest {
    pub txs: Vec<SubmitRequest>,
}

/// Submit up to [`BATCH_TXS_MAX`] transactions; each gets its own result, in order.
#[utoipa::path(
    post,
    path = "/v1/txs/batch",
    summary = "Submit up to 1000 signed transactions",
    description = "One result per transaction, in order.",
    request_body = BatchRequest,
    responses((status = 202, body = BatchResponse), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody))
)]
pub(crate) async fn submit_batch(
    State(s): State<ApiState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let req: BatchRequest = json_body(body)?;
    if req.txs.len() > BATCH_TXS_MAX {
        return Err(ApiError::bad_request(
            "batch_too_large",
            format!("batch has {} transactions; at most {BATCH_TXS_MAX} are accepted", req.txs.len()),
        ));
    }
    let results: Vec<serde_json::Value> = req
        .txs
        .into_iter()
        .map(|item| match decode_submission(item).and_then(|tx| s.node.submit(tx).map_err(ApiError::from)) {
            Ok(hash) => serde_json::json!({ "tx_hash": hash, "status": "pending" }),
            Err(e) => serde_json::json!({ "error": { "code": e.code, "message": e.message } }),
        })
        .collect();
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "results": results }))))
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct TxStatusView {
    pub tx_hash: TxHash,
    /// `pending`, `finalised` (see `outcome`) or `dropped` (see `reason`).
    pub status: String,
    pub height: Option<u64>,
    pub index: Option<u32>,
    pub block_hash: Option<BlockHash>,
    pub outcome: Option<Outcome>,
    pub reason: Option<Rejection>,
    pub tx: Option<SignedTx>,
}

pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e| ApiError::bad_request("bad_path", format!("{what} {s:?} is invalid: {e}")))
}

#[utoipa::path(
    get,
    path = "/v1/txs/{hash}",
    summary = "A transaction's status",
    description = "pending, finalised (height, index, outcome) or dropped (reason).",
    params(("hash" = String, Path, description = "transaction hash, hex")),
    responses((status = 200, body = TxStatusView), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn tx_status(
    State(s): State<ApiState>,
    Path(hash): Path<String>,
) -> Result<Json<TxStatusView>, ApiError> {
    let hash: TxHash = parse("transaction hash", &hash)?;
    let mut view = TxStatusView {
        tx_hash: hash,
        status: String::new(),
        height: None,
        index: None,
        block_hash: None,
        outcome: None,
        reason: None,
        tx: None,
    };
    if let Some(loc) = s.store.tx_location(&hash)? {
        let block = s
            .store
            .block(loc.height)?
            .ok_or_else(|| ApiError::internal(format!("block {} is indexed but missing", loc.height)))?;
        let receipts = s.store.receipts(loc.height)?.unwrap_or_default();
        view.status = "finalised".into();
        view.height = Some(loc.height.0);
        view.index = Some(loc.index);
        view.block_hash = Some(block.hash());
        view.outcome = receipts.get(loc.index as usize).map(|r| r.outcome.clone());
        view.tx = block.txs.get(loc.index as usize).cloned();
        return Ok(Json(view));
    }
    if s.node.is_pending(&hash) {
        view.status = "pending".into();
        return Ok(Json(view));
    }
    if let Some(reason) = s.node.dropped(&hash) {
        view.status = "dropped".into();
        view.reason = Some(reason);
        return Ok(Json(view));
    }
    Err(ApiError::not_found(format!("transaction {hash} is neither pending nor finalised on this node")))
}

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TxPage {
    /// First transaction of the block to list (default 0).
    pub tx_offset: Option<usize>,
    /// Transactions to list, at most 1000 (default 100).
    pub tx_limit: Option<usize>,
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct TxView {
    pub hash: TxHash,
    pub tx: SignedTx,
    pub outcome: Option<Outcome>,
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct BlockView {
    pub hash: BlockHash,
    pub header: BlockHeader,
    pub tx_count: usize,
    pub tx_offset: usize,
    pub txs: Vec<TxView>,
}

fn block_view(s: &ApiState, height: Height, page: TxPage) -> Result<BlockView, ApiError> {
    let block = s.store.block(height)?.ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?;
    let receipts = s.store.receipts(height)?.unwrap_or_default();
    let limit = page.tx_limit.unwrap_or(PAGE_ITEMS_DEFAULT);
    if limit > PAGE_ITEMS_MAX {
        return Err(ApiError::bad_request("page_too_large", format!("tx_limit is {limit}; at most {PAGE_ITEMS_MAX}")));
    }
    let offset = page.tx_offset.unwrap_or(0);
    let txs = block
        .txs
        .iter()
        .enumerate()
        .skip(offset)
        .take(limit)
        .map(|(i, tx)| TxView { hash: tx.hash(), tx: tx.clone(), outcome: receipts.get(i).map(|r| r.outcome.clone()) })
        .collect();
    Ok(BlockView {
        hash: block.hash(),
        header: block.header.clone(),
        tx_count: block.txs.len(),
        tx_offset: offset,
        txs,
    })
}

fn page(q: Result<Query<TxPage>, QueryRejection>) -> Result<TxPage, ApiError> {
    q.map(|Query(p)| p).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
}

#[utoipa::path(
    get,
    path = "/v1/blocks/{height}",
    summary = "A block",
    description = "Header, hash, and a page of its transactions with outcomes.",
    params(("height" = u64, Path, description = "block height"), TxPage),
    responses((status = 200, body = BlockView), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn block(
    State(s): State<ApiState>,
    Path(height): Path<String>,
    q: Result<Query<TxPage>, QueryRejection>,
) -> Result<Json<BlockView>, ApiError> {
    let height: u64 = parse("height", &height)?;
    Ok(Json(block_view(&s, Height(height), page(q)?)?))
}

#[utoipa::path(
    get,
    path = "/v1/blocks/latest",
    summary = "The latest block",
    params(TxPage),
    responses((status = 200, body = BlockView), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn latest_block(
    State(s): State<ApiState>,
    q: Result<Query<TxPage>, QueryRejection>,
) -> Result<Json<BlockView>, ApiError> {
    let latest = s.store.latest_height()?.unwrap_or(Height(0));
    if latest.0 == 0 {
        return Err(ApiError::not_found("no block has been finalised yet"));
    }
    Ok(Json(block_view(&s, latest, page(q)?)?))
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct SignerView {
    pub public_key: PublicKey,
    pub member_id: MemberId,
    pub member_name: String,
    pub role: Role,
    pub region: String,
    pub member_status: String,
    pub last_nonce: u64,
    pub next_nonce: u64,
}

#[utoipa::path(
    get,
    path = "/v1/signers/{key}",
    summary = "A signing key's member",
    description = "Member, role, region, status, last and next nonce.",
    params(("key" = String, Path, description = "ed25519 public key, hex")),
    responses((status = 200, body = SignerView), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn signer(State(s): State<ApiState>, Path(key): Path<String>) -> Result<Json<SignerView>, ApiError> {
    let key: PublicKey = parse("public key", &key)?;
    let latest = s.store.latest_height()?.unwrap_or(Height(0));
    let view = StateView::new(s.store.as_ref(), latest.0);
    let member = registry::signer_member(&view, &key)
        .map_err(|r| ApiError::new(StatusCode::NOT_FOUND, r.code.as_str(), r.reason))?;
    let last = registry::last_nonce(&view, &key);
    Ok(Json(SignerView {
        public_key: key,
        member_id: member.id,
        member_name: member.name,
        role: member.role,
        region: member.region.to_string(),
        member_status: format!("{:?}", member.status).to_lowercase(),
        last_nonce: last,
        next_nonce: last + 1,
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
