//! The router (every endpoint and the handler serving it) and the request helpers the handlers
//! share. The handlers live by job: [`crate::status`] (node status, metrics), [`crate::txs`]
//! (prepare, submit, status of transactions, signers), [`crate::blocks`], [`crate::query`] (the
//! ledger's records), [`crate::events`], [`crate::stats`] and [`crate::supervisor`].

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use crate::{query, ApiError, ApiState, BATCH_BODY_BYTES_MAX, BODY_BYTES_MAX};

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(crate::dashboard::index))
        .route("/assets/app.js", get(crate::dashboard::script))
        .route("/assets/workbench.js", get(crate::dashboard::workbench))
        .route("/assets/huxin-sdk.js", get(crate::dashboard::sdk))
        .route("/assets/app.css", get(crate::dashboard::style))
        .route("/v1/status", get(crate::status::status))
        .route("/v1/txs/prepare", post(crate::txs::prepare))
        .route("/v1/txs", post(crate::txs::submit))
        .route("/v1/txs/batch", post(crate::txs::submit_batch).layer(DefaultBodyLimit::max(BATCH_BODY_BYTES_MAX)))
        .route("/v1/txs/{hash}", get(crate::txs::tx_status))
        .route("/v1/blocks/latest", get(crate::blocks::latest_block))
        .route("/v1/blocks/{height}", get(crate::blocks::block))
        .route("/v1/signers/{key}", get(crate::txs::signer))
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
        .route("/v1/subjects/{subject}/credential", get(crate::credential::credential))
        .route("/v1/credentials/status/{subject}/revocation", get(crate::credential::revocation))
        .route("/v1/credentials/status/{subject}/recognitions/{regions}", get(crate::credential::recognitions))
        .route("/v1/guarantees/{number}", get(query::guarantee))
        .route("/v1/documents/{hash}", get(query::document))
        .route("/v1/tenders/{region}/{project}/{section}", get(query::tender))
        .route("/v1/proposals/{id}", get(query::proposal))
        .route("/v1/evaluations/{id}", get(crate::evaluation::session))
        .route("/v1/params", get(query::params))
        .route("/v1/validators", get(query::validators))
        .route("/v1/events", get(crate::events::events))
        .route("/v1/stats", get(crate::stats::stats))
        .route("/v1/audit/anchors/{member}", get(crate::supervisor::anchors))
        .route("/v1/supervisor/subjects/{subject}/credit", get(crate::supervisor::credit_history))
        .route("/v1/supervisor/audit", get(crate::supervisor::audit_log))
        .route("/v1/supervisor/credit", get(crate::supervisor::credit_list))
        .route("/v1/supervisor/rings", get(crate::rings::report))
        .route("/v1/supervisor/rings/events", get(crate::rings::events::events))
        .route("/v1/granted/subjects/{subject}/credit", get(crate::granted::credit_history))
        .route("/v1/granted/subjects/{subject}/guarantees", get(crate::granted::guarantees))
        .route("/v1/granted/subjects/{subject}/deals", get(crate::granted::deals))
        .route("/metrics", get(crate::status::metrics))
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

pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
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

pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body_bytes(body)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("bad_json", format!("request body is not the expected JSON: {e}")))
}

pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e| ApiError::bad_request("bad_path", format!("{what} {s:?} is invalid: {e}")))
}
