//! JSON errors with stable codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use huxin_types::Rejection;

use crate::SubmitRefusal;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
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
            SubmitRefusal::Full(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "mempool_full", m),
            SubmitRefusal::Unavailable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
        }
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
        (self.status, Json(json!({ "error": { "code": self.code, "message": self.message } }))).into_response()
    }
}
