//! Transactions: prepare (the canonical bytes to sign), submit (one or a batch), and their status;
//! and what the ledger knows of a signing key (its member and next nonce).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use huxin_contracts::registry;
use huxin_state::answers::{PrepareResponse, SignerView, SubmitResponse, TxStatusView};
use huxin_state::StateView;
use huxin_types::crypto::{signing_input, Domain, PublicKey, Signature};
use huxin_types::genesis::Role;
use huxin_types::limits::TX_BYTES_MAX;
use huxin_types::tx::Expiry;
use huxin_types::{codec, Action, Height, SignedTx, TxBody, TxHash};

use crate::public::{public_outcome, public_tx};
use crate::routes::{json_body, parse};
use crate::signed;
use crate::{ApiError, ApiState, BATCH_TXS_MAX};

/// Expiry given to a prepared transaction when the client names none: this many heights ahead.
pub const DEFAULT_EXPIRY_HEIGHTS: u64 = 10_000;

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct PrepareRequest {
    pub signer: PublicKey,
    /// Defaults to the signer's next nonce on the ledger (pending transactions not counted).
    pub nonce: Option<u64>,
    /// Defaults to [`DEFAULT_EXPIRY_HEIGHTS`] heights past the latest.
    pub expiry: Option<Expiry>,
    pub action: Action,
}

fn last_nonce(s: &ApiState, key: &PublicKey) -> Result<(Height, u64), ApiError> {
    let latest = s.store.latest_height()?.unwrap_or(Height(0));
    let view = StateView::new(s.store.as_ref(), latest.0);
    Ok((latest, registry::last_nonce(&view, key)?))
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
    huxin_state::check_stateless(&s.chain_id, &SignedTx { body: body.clone(), signature: Signature::ZERO })
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
    description = "One result per transaction, in order. When the node shed any (mempool_full, unavailable), the answer carries Retry-After: resubmit those unchanged after it.",
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
    let mut retry_after = None;
    let results: Vec<serde_json::Value> = req
        .txs
        .into_iter()
        .map(|item| match decode_submission(item).and_then(|tx| s.node.submit(tx).map_err(ApiError::from)) {
            Ok(hash) => serde_json::json!({ "tx_hash": hash, "status": "pending" }),
            Err(e) => {
                retry_after = retry_after.max(e.retry_after_secs);
                serde_json::json!({ "error": { "code": e.code, "message": e.message } })
            }
        })
        .collect();
    // Items the node shed (a full mempool) are retried unchanged, with their nonces, after this.
    let retry_after = retry_after.map(|secs| [(axum::http::header::RETRY_AFTER, secs.to_string())]);
    Ok((StatusCode::ACCEPTED, retry_after, Json(serde_json::json!({ "results": results }))))
}

#[utoipa::path(
    get,
    path = "/v1/txs/{hash}",
    summary = "A transaction's status",
    description = "pending, finalised (height, index, outcome) or dropped (reason). Credit actions are withheld from the public (kind, signer and nonce only, a rejection's code without its reason); a request signed (x-huxin-key, x-huxin-time, x-huxin-signature) by the transaction's signer or a supervisor reads it whole, and a supervisor's read is audited.",
    params(("hash" = String, Path, description = "transaction hash, hex", pattern = "^[0-9a-f]{64}$")),
    responses((status = 200, body = TxStatusView), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 401, description = "Badly signed, stale or replayed request (unauthorized)", body = crate::error::ErrorBody), (status = 403, description = "Signed by neither the transaction's signer nor a supervisor (forbidden)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn tx_status(
    State(s): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(hash): Path<String>,
) -> Result<Json<TxStatusView>, ApiError> {
    let hash: TxHash = parse("transaction hash", &hash)?;
    let reader = match signed::is_signed(&headers) {
        true => Some(signed::authenticate_member(&s, &method, &uri, &headers)?),
        false => None,
    };
    let mut view = TxStatusView {
        tx_hash: hash,
        status: String::new(),
        height: None,
        index: None,
        block_hash: None,
        outcome: None,
        reason: None,
        tx: None,
        withheld: None,
    };
    if let Some(loc) = s.store.tx_location(&hash)? {
        let block = s
            .store
            .block(loc.height)?
            .ok_or_else(|| ApiError::internal(format!("block {} is indexed but missing", loc.height)))?;
        let tx = block
            .txs
            .get(loc.index as usize)
            .ok_or_else(|| ApiError::internal(format!("transaction {hash} is indexed past its block's end")))?;
        let receipts = s.store.receipts(loc.height)?.unwrap_or_default();
        let outcome = receipts.get(loc.index as usize).map(|r| r.outcome.clone());
        view.status = "finalised".into();
        view.height = Some(loc.height.0);
        view.index = Some(loc.index);
        view.block_hash = Some(block.hash());
        match reader {
            None => {
                (view.tx, view.withheld) = public_tx(tx);
                view.outcome = outcome.map(|o| public_outcome(tx, o));
            }
            Some(reader) => {
                if reader.role != Role::Supervisor && reader.key != tx.body.signer {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        format!(
                            "transaction {hash} was signed by {}; only its signer or a supervisor reads it whole (unsigned, the public view)",
                            tx.body.signer
                        ),
                    ));
                }
                if reader.role == Role::Supervisor {
                    signed::log(&s, &reader, &method, &uri, 1)?;
                }
                view.tx = Some(tx.clone());
                view.outcome = outcome;
            }
        }
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

#[utoipa::path(
    get,
    path = "/v1/signers/{key}",
    summary = "A signing key's member",
    description = "Member, role, region, status, last and next nonce.",
    params(("key" = String, Path, description = "ed25519 public key, hex", pattern = "^[0-9a-f]{64}$")),
    responses((status = 200, body = SignerView), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn signer(State(s): State<ApiState>, Path(key): Path<String>) -> Result<Json<SignerView>, ApiError> {
    let key: PublicKey = parse("public key", &key)?;
    let latest = s.store.latest_height()?.unwrap_or(Height(0));
    let view = StateView::new(s.store.as_ref(), latest.0);
    let member = registry::signer_member(&view, &key).map_err(|e| match e {
        huxin_contracts::Error::Rejected(r) => ApiError::new(StatusCode::NOT_FOUND, r.code.as_str(), r.reason),
        huxin_contracts::Error::State(e) => ApiError::from(e),
    })?;
    let last = registry::last_nonce(&view, &key)?;
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
