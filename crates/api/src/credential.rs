//! Attestations as W3C Verifiable Credentials 2.0 (see `huxin_state::credential`): a subject's
//! credential, signed by the trading centre that attested it, and the two Bitstring Status Lists
//! its entries point at. A node signs for its own member only — with the member key it anchors
//! its audit log with (`[audit] anchor_key`) — so a subject's credential comes from its attesting
//! centre's node; any other node answers `409 not_issuer` naming that centre.
//!
//! Typed refusals: an unknown subject is `404 not_found`, a revoked attestation
//! `409 attestation_revoked` (its status list says so to holders of an earlier credential), an
//! expert `422 expert_not_exported` (experts are never exported: their records carry personal
//! data, and even the salted hash stays on the ledger).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use huxin_contracts::identity::{self, AttestationRecord};
use huxin_state::credential;
use huxin_state::StateView;
use huxin_types::identity::SubjectId;
use huxin_types::vc::{self, iso_time};
use huxin_types::{MemberId, RegionCode, SecretKey};

use crate::query::latest;
use crate::routes::parse;
use crate::{ApiError, ApiState};

/// What a node signs credentials with: its member's key, and the address holders reach it at.
pub struct Issuer {
    pub key: SecretKey,
    pub member: MemberId,
    /// The node's public API address, without a trailing slash (`[credentials] public_url`).
    pub base_url: String,
}

/// Most regions a recognition status list's path names.
pub const STATUS_REGIONS_MAX: usize = 64;

fn issuer(s: &ApiState) -> Result<&Arc<Issuer>, ApiError> {
    s.issuer.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_issuer",
            "this node signs no credentials: its [audit] anchor_key is unset or not a member's key",
        )
    })
}

/// The attestation of `subject`, attested by this node's member.
fn own_attestation(s: &ApiState, issuer: &Issuer, subject: &SubjectId) -> Result<AttestationRecord, ApiError> {
    if matches!(subject, SubjectId::Expert(_)) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "expert_not_exported",
            "experts' attestations are never exported as credentials: they stay on the ledger as salted hashes",
        ));
    }
    let (height, _) = latest(s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let record = identity::attestation(&view, subject)?
        .ok_or_else(|| ApiError::not_found(format!("{subject} is not attested on the ledger")))?;
    if record.attested_by != issuer.member {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_issuer",
            format!(
                "{subject} was attested by member {}; this node signs for member {} only: ask the attesting centre's node",
                record.attested_by, issuer.member
            ),
        ));
    }
    Ok(record)
}

#[utoipa::path(
    get,
    path = "/v1/subjects/{subject}/credential",
    summary = "A subject's attestation as a W3C Verifiable Credential",
    description = "VC 2.0 JSON with an eddsa-jcs-2022 Data Integrity proof by the attesting centre's did:key, and two Bitstring Status List entries (revocation; withdrawal of the recognitions it names). Served by the attesting centre's node.",
    params(("subject" = String, Path, description = "USCC or `legacy:<code>`", pattern = "^([0-9A-HJ-NP-RTUWXY]{18}|legacy:[0-9A-Z]{15,18}|expert:[0-9a-f]{64})$")),
    responses((status = 200, description = "The credential", body = Object), (status = 400, description = "Bad input (bad_path)", body = crate::error::ErrorBody), (status = 404, description = "Not attested (not_found)", body = crate::error::ErrorBody), (status = 409, description = "Revoked, or attested by another centre (attestation_revoked, not_issuer)", body = crate::error::ErrorBody), (status = 422, description = "An expert (expert_not_exported)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody), (status = 503, description = "This node signs no credentials (no_issuer)", body = crate::error::ErrorBody))
)]
pub async fn credential(State(s): State<ApiState>, Path(subject): Path<String>) -> Result<Json<Value>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let issuer = issuer(&s)?;
    let record = own_attestation(&s, issuer, &subject)?;
    if credential::revoked(&record) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "attestation_revoked",
            format!("{subject}'s attestation is revoked; its credentials' revocation status is set"),
        ));
    }
    let document = credential::unsigned(&record, &issuer.key.public_key(), &s.chain_id, &issuer.base_url);
    let signed = vc::sign(&document, &issuer.key, &iso_time(record.updated.0))
        .map_err(|e| ApiError::internal(format!("signing the credential: {e}")))?;
    Ok(Json(signed))
}

/// The signed status list credential at `url` with bit 0 `on`.
fn status_list(s: &ApiState, issuer: &Issuer, url: String, purpose: &str, on: bool) -> Result<Json<Value>, ApiError> {
    let (_, time) = latest(s)?;
    let list = credential::status_list(&url, purpose, on, &issuer.key.public_key(), time.0);
    vc::sign(&list, &issuer.key, &iso_time(time.0))
        .map(Json)
        .map_err(|e| ApiError::internal(format!("signing the status list: {e}")))
}

#[utoipa::path(
    get,
    path = "/v1/credentials/status/{subject}/revocation",
    summary = "A credential's revocation status list",
    description = "A BitstringStatusListCredential (statusPurpose revocation) whose bit 0 is on once the subject's attestation is revoked; signed by the attesting centre.",
    params(("subject" = String, Path, description = "USCC or `legacy:<code>`", pattern = "^([0-9A-HJ-NP-RTUWXY]{18}|legacy:[0-9A-Z]{15,18}|expert:[0-9a-f]{64})$")),
    responses((status = 200, description = "The status list credential", body = Object), (status = 400, description = "Bad input (bad_path)", body = crate::error::ErrorBody), (status = 404, description = "Not attested (not_found)", body = crate::error::ErrorBody), (status = 409, description = "Attested by another centre (not_issuer)", body = crate::error::ErrorBody), (status = 422, description = "An expert (expert_not_exported)", body = crate::error::ErrorBody), (status = 503, description = "This node signs no credentials (no_issuer)", body = crate::error::ErrorBody))
)]
pub async fn revocation(State(s): State<ApiState>, Path(subject): Path<String>) -> Result<Json<Value>, ApiError> {
    let parsed: SubjectId = parse("subject", &subject)?;
    let issuer = issuer(&s)?;
    let record = own_attestation(&s, issuer, &parsed)?;
    let url = format!("{}/v1/credentials/status/{subject}/revocation", issuer.base_url);
    status_list(&s, issuer, url, "revocation", credential::revoked(&record))
}

#[utoipa::path(
    get,
    path = "/v1/credentials/status/{subject}/recognitions/{regions}",
    summary = "A credential's recognition status list",
    description = "A BitstringStatusListCredential (statusPurpose suspension) whose bit 0 is on while any of `regions` (comma-separated, as the credential names them; `none` for none) does not recognise the subject's attestation.",
    params(("subject" = String, Path, description = "USCC or `legacy:<code>`", pattern = "^([0-9A-HJ-NP-RTUWXY]{18}|legacy:[0-9A-Z]{15,18}|expert:[0-9a-f]{64})$"), ("regions" = String, Path, description = "comma-separated region codes, or `none`", pattern = "^(none|(1[1-9]|[2-7][0-9]|8[0-2])[0-9]{4}(,(1[1-9]|[2-7][0-9]|8[0-2])[0-9]{4}){0,63})$")),
    responses((status = 200, description = "The status list credential", body = Object), (status = 400, description = "Bad input (bad_path)", body = crate::error::ErrorBody), (status = 404, description = "Not attested (not_found)", body = crate::error::ErrorBody), (status = 409, description = "Attested by another centre (not_issuer)", body = crate::error::ErrorBody), (status = 422, description = "An expert (expert_not_exported)", body = crate::error::ErrorBody), (status = 503, description = "This node signs no credentials (no_issuer)", body = crate::error::ErrorBody))
)]
pub async fn recognitions(
    State(s): State<ApiState>,
    Path((subject, regions)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let parsed: SubjectId = parse("subject", &subject)?;
    let named: Vec<RegionCode> = match regions.as_str() {
        "none" => vec![],
        list => list.split(',').map(|r| parse("region", r)).collect::<Result<_, _>>()?,
    };
    if named.len() > STATUS_REGIONS_MAX {
        return Err(ApiError::bad_request("bad_path", format!("at most {STATUS_REGIONS_MAX} regions")));
    }
    let issuer = issuer(&s)?;
    let record = own_attestation(&s, issuer, &parsed)?;
    let url = format!("{}/v1/credentials/status/{subject}/recognitions/{regions}", issuer.base_url);
    status_list(&s, issuer, url, "suspension", credential::recognition_withdrawn(&record, &named))
}
