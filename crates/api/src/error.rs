//! JSON errors with stable codes.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use huxin_types::Rejection;

use crate::SubmitRefusal;

/// The body of every error answer.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code from [`ERROR_CODES`] or a transaction rejection code.
    pub code: String,
    /// What was expected and what came.
    pub message: String,
}

/// Every error code the API answers with, and what it means (besides the transaction rejection
/// codes of `huxin_types::RejectCode`, which `POST /v1/txs` and `/v1/txs/prepare` answer with
/// status 422).
pub const ERROR_CODES: &[(&str, &str)] = &[
    ("bad_json", "the request body is not the expected JSON"),
    ("bad_body", "the request body could not be read"),
    ("body_too_large", "the request body exceeds the limit"),
    ("tx_too_large", "the transaction exceeds its size limit"),
    ("malformed", "the payload is not a canonical transaction"),
    ("signer_mismatch", "the public key is not the payload's signer"),
    ("bad_path", "a path parameter is not valid"),
    ("bad_query", "a query parameter is not valid"),
    ("bad_header", "a header is not valid (e.g. Last-Event-ID)"),
    ("page_too_large", "limit exceeds the page size cap"),
    ("batch_too_large", "more transactions than a batch may hold"),
    ("too_many_rows", "the statistics asked for exceed the counters one request reads"),
    ("not_found", "nothing on the ledger answers the request"),
    ("duplicate", "the transaction is already pending"),
    ("nonce_taken", "another pending transaction holds the nonce"),
    ("no_block_yet", "no block is finalised yet, so there is nothing to prove against"),
    ("proof_too_large", "the answer reads more state keys than a proof carries"),
    ("unauthorized", "a signed request is unsigned, badly signed, stale, replayed or from an unknown key"),
    ("forbidden", "the signing key is not an active supervisor's (or, for a transaction, its signer's)"),
    ("grant_missing", "the signing member holds no grant in force from the subject for the scope the endpoint reads"),
    ("audit_unanchored", "this node does not anchor its audit log on the ledger, so it serves no audited query"),
    ("no_issuer", "this node signs no credentials (no member key to sign with)"),
    ("not_issuer", "the subject was attested by another centre, whose node signs its credential"),
    ("attestation_revoked", "the subject's attestation is revoked, so no credential is issued"),
    ("expert_not_exported", "experts' attestations are never exported as credentials"),
    ("method_not_allowed", "the endpoint does not take that method"),
    ("mempool_full", "the mempool is full; retry the same transaction after Retry-After seconds"),
    ("unavailable", "the node cannot take transactions now; retry after Retry-After seconds"),
    ("too_many_streams", "the node serves its maximum number of event streams; retry after Retry-After seconds"),
    ("internal", "a storage error; the answer is withheld rather than wrong"),
];

/// How long a client is told to wait (`Retry-After`, seconds) before it retries what the node
/// shed: a full mempool, a node not taking transactions, no event stream free.
pub const RETRY_AFTER_SECS: u64 = 1;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Sent as `Retry-After` (seconds): the request was shed, not refused; retry it unchanged.
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after_secs: None }
    }
    /// Shed load: the client retries the same request after [`RETRY_AFTER_SECS`].
    pub fn shed(code: &'static str, message: impl Into<String>) -> Self {
        Self { retry_after_secs: Some(RETRY_AFTER_SECS), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message) }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    pub fn rejected(r: Rejection) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, r.code.as_str(), r.reason)
    }
}

impl From<SubmitRefusal> for ApiError {
    fn from(r: SubmitRefusal) -> Self {
        match r {
            SubmitRefusal::Rejected(r) => ApiError::rejected(r),
            SubmitRefusal::Duplicate(h) => {
                ApiError::new(StatusCode::CONFLICT, "duplicate", format!("transaction {h} is already pending"))
            }
            SubmitRefusal::NonceTaken(m) => ApiError::new(StatusCode::CONFLICT, "nonce_taken", m),
            SubmitRefusal::Full(m) => ApiError::shed("mempool_full", m),
            SubmitRefusal::Unavailable(m) => ApiError::shed("unavailable", m),
            SubmitRefusal::Storage(m) => ApiError::internal(format!("storage error: {m}")),
        }
    }
}

impl From<huxin_contracts::StateError> for ApiError {
    fn from(e: huxin_contracts::StateError) -> Self {
        tracing::error!(error = %e, "state unreadable serving the API");
        ApiError::internal(format!("storage error: {e}"))
    }
}

impl From<huxin_store::StoreError> for ApiError {
    fn from(e: huxin_store::StoreError) -> Self {
        tracing::error!(error = %e, "store error serving the API");
        ApiError::internal(format!("storage error: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        match self.retry_after_secs {
            Some(secs) => (self.status, [(header::RETRY_AFTER, secs.to_string())], body).into_response(),
            None => (self.status, body).into_response(),
        }
    }
}
