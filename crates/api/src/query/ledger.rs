//! Guarantees, documents, tenders, proposals, parameters, validators, members and the lists by
//! provider, tender, blacklist start and signer.

use super::*;

#[utoipa::path(
    get,
    path = "/v1/guarantees/{number}",
    summary = "Verify an e-guarantee",
    description = "The guarantee, its state in force and its history.",
    params(("number" = String, Path, description = "guarantee number", pattern = "^[0-9A-Za-z_/-]{1,64}$"), AtQuery),
    responses((status = 200, body = Proven<GuaranteeView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn guarantee(
    State(s): State<ApiState>,
    Path(number): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<GuaranteeView>>, ApiError> {
    huxin_types::guarantee::check_number(&number).map_err(|e| ApiError::bad_request("bad_path", e))?;
    let q = at(q)?;
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::guarantee(&view, &number, height, time)?
        .ok_or_else(|| ApiError::not_found(format!("no guarantee numbered {number} on the ledger")))?;
    answer(&s, &view, view_answer, q.proof)
}

#[utoipa::path(
    get,
    path = "/v1/documents/{hash}",
    summary = "Verify a document",
    description = "Every anchor of the SHA-256: who, when, which tender and stage (empty: never anchored).",
    params(("hash" = String, Path, description = "SHA-256, hex", pattern = "^[0-9a-f]{64}$"), AtQuery),
    responses((status = 200, body = Proven<DocumentView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn document(
    State(s): State<ApiState>,
    Path(hash): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<DocumentView>>, ApiError> {
    let hash: Hash32 = parse("document hash", &hash)?;
    let q = at(q)?;
    let (height, _) = latest(&s)?;
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::document(&view, hash, height)?;
    answer(&s, &view, view_answer, q.proof)
}

#[utoipa::path(
    get,
    path = "/v1/tenders/{region}/{project}/{section}",
    summary = "A tender section's timeline",
    description = "Stages, publicity, archive and risk warnings.",
    params(("region" = u32, Path, description = "6-digit region code (GB/T 2260)", minimum = 110000, maximum = 829999), ("project" = String, Path, description = "project code", pattern = "\\S", max_length = 64), ("section" = String, Path, description = "section code", pattern = "\\S", max_length = 64), AtQuery),
    responses((status = 200, body = Proven<TenderView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn tender(
    State(s): State<ApiState>,
    Path((region, project, section)): Path<(String, String, String)>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<TenderView>>, ApiError> {
    let tender = TenderRef { region: parse("region", &region)?, project_code: project, section_code: section };
    tender.check_fields().map_err(|e| ApiError::bad_request("bad_path", e))?;
    let q = at(q)?;
    let (height, _) = latest(&s)?;
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::tender(&view, &tender, height)?
        .ok_or_else(|| ApiError::not_found(format!("nothing is recorded for section {tender}")))?;
    answer(&s, &view, view_answer, q.proof)
}

#[utoipa::path(
    get,
    path = "/v1/proposals/{id}",
    summary = "A governance proposal",
    description = "With its votes and status.",
    params(("id" = String, Path, description = "proposal id (its transaction hash), hex", pattern = "^[0-9a-f]{64}$")),
    responses((status = 200, body = ProposalRecord), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn proposal(State(s): State<ApiState>, Path(id): Path<String>) -> Result<Json<ProposalRecord>, ApiError> {
    let id: Hash32 = parse("proposal id", &id)?;
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let proposal = governance::proposal(&view, &id)?;
    proposal.map(Json).ok_or_else(|| ApiError::not_found(format!("no proposal {id}")))
}

#[utoipa::path(
    get,
    path = "/v1/params",
    summary = "Rule parameters in force",
    responses((status = 200, body = Params), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn params(State(s): State<ApiState>) -> Result<Json<Params>, ApiError> {
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    Ok(Json(huxin_contracts::params::current(&view)?))
}

#[utoipa::path(
    get,
    path = "/v1/validators",
    summary = "The validator set",
    description = "The set in force for the next block, and the last scheduled change with its activation height (already in force once the activation is at most the next height).",
    responses((status = 200, body = ValidatorsView), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn validators(State(s): State<ApiState>) -> Result<Json<ValidatorsView>, ApiError> {
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    // The stored "current" set is folded with the schedule only at the next change: report the
    // set actually in force (a regression: a set that had taken over still showed as pending).
    let current = registry::validators_at(&view, Height(height.0 + 1))?;
    Ok(Json(ValidatorsView { height, current, next: registry::next_validators(&view)? }))
}

/// Guarantees by provider (member id) or by tender (`region/project/section`), optionally only
/// those in a given current state.
#[utoipa::path(
    get,
    path = "/v1/guarantees",
    summary = "E-guarantees of a provider, a tender section or an applicant",
    description = "Give exactly one of provider, tender or applicant; optionally a status.",
    params(ListQuery),
    responses((status = 200, body = Page<GuaranteeView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn guarantee_list(
    State(s): State<ApiState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<GuaranteeView>>, ApiError> {
    use huxin_state::index::{key, GUARANTEES_BY_APPLICANT, GUARANTEES_BY_PROVIDER, GUARANTEES_BY_TENDER};
    let (q, limit) = list_query(q)?;
    let status: Option<GuaranteeState> = enum_param("status", &q.status)?;
    let prefix = match (&q.provider, &q.tender) {
        (None, None) if q.applicant.is_some() => {
            let applicant: huxin_types::Uscc = parse("applicant", q.applicant.as_deref().unwrap_or_default())?;
            key(GUARANTEES_BY_APPLICANT, &[applicant.as_str().as_bytes()])
        }
        (Some(p), None) if q.applicant.is_none() => {
            let member: huxin_types::MemberId = parse("provider", p)?;
            key(GUARANTEES_BY_PROVIDER, &[&member.0])
        }
        (None, Some(t)) if q.applicant.is_none() => {
            let mut parts = t.splitn(3, '/');
            let (Some(region), Some(project), Some(section)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(ApiError::bad_request("bad_query", "tender is region/project/section"));
            };
            let tender = TenderRef {
                region: parse("region", region)?,
                project_code: project.into(),
                section_code: section.into(),
            };
            key(GUARANTEES_BY_TENDER, &[&huxin_contracts::keys::tender_id(&tender).0])
        }
        _ => {
            return Err(ApiError::bad_request(
                "bad_query",
                "give exactly one of provider=<member id>, tender=<region/project/section> or applicant=<USCC>",
            ))
        }
    };
    guarantee_page(&s, &prefix, &q, limit, status).map(Json)
}

/// A page of the guarantees an index lists under `prefix` (by provider, tender or applicant),
/// with their state at `q.time` (default: the latest block's), optionally only those in `status`.
pub(crate) fn guarantee_page(
    s: &ApiState,
    prefix: &[u8],
    q: &ListQuery,
    limit: usize,
    status: Option<GuaranteeState>,
) -> Result<Page<GuaranteeView>, ApiError> {
    let (height, latest_time) = latest(s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    let (items, next_cursor) = scan(s, prefix, None, None, &q.cursor, limit, |k, _| {
        let number = std::str::from_utf8(&k[prefix.len() + 8..]).ok()?;
        let record = guarantee::guarantee(&view, number).ok()??;
        let current_state = record.state_at(time);
        status.is_none_or(|st| st == current_state).then_some(GuaranteeView { current_state, height, time, record })
    })?;
    checked(&view, Page { height, time, items, next_cursor })
}

/// Blacklist entries in force at a time (default: the latest block's), optionally only those
/// covering a region; oldest start first.
#[utoipa::path(
    get,
    path = "/v1/blacklist",
    summary = "Blacklist entries in force",
    description = "At a time (default: the latest block's), optionally only those covering a region.",
    params(ListQuery),
    responses((status = 200, body = Page<BlacklistEntry>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn blacklist_list(
    State(s): State<ApiState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<BlacklistEntry>>, ApiError> {
    use huxin_state::index::BLACKLIST_ALL;
    let (q, limit) = list_query(q)?;
    let region: Option<RegionCode> = q.region.as_deref().map(|r| parse("region", r)).transpose()?;
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    // Entries that start after `time` cannot be in force then.
    let end = Some(huxin_state::index::key(BLACKLIST_ALL, &[&(time.0.saturating_add(1)).to_be_bytes()]));
    let (items, next_cursor) = scan(&s, BLACKLIST_ALL, None, end, &q.cursor, limit, |k, decision| {
        // Key: prefix ‖ start (8) ‖ height listed (8) ‖ SHA-256 of the decision number ‖ subject.
        // Two listers may use one decision number; the height tells their entries apart.
        let at = BLACKLIST_ALL.len();
        let listed = u64::from_be_bytes(k.get(at + 8..at + 16)?.try_into().ok()?);
        let subject: SubjectId = std::str::from_utf8(k.get(at + 48..)?).ok()?.parse().ok()?;
        let entry = blacklist::entries(&view, &subject)
            .ok()?
            .into_iter()
            .find(|e| e.decision_no.as_bytes() == decision && e.height.0 == listed)?;
        let in_force = entry.lifted.is_none() && entry.start <= time && entry.end.is_none_or(|e| time < e);
        let covers = region.is_none_or(|r| entry.scope.covers(r));
        (in_force && covers).then_some(entry)
    })?;
    checked(&view, Json(Page { height, time, items, next_cursor }))
}

/// Transactions a key signed, oldest first.
#[utoipa::path(
    get,
    path = "/v1/signers/{key}/txs",
    summary = "Transactions a key signed",
    description = "Oldest first, paged.",
    params(("key" = String, Path, description = "ed25519 public key, hex", pattern = "^[0-9a-f]{64}$"), ListQuery),
    responses((status = 200, body = Page<SignerTx>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn signer_txs(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<SignerTx>>, ApiError> {
    use huxin_state::index::{key as index_key, TXS_BY_SIGNER};
    let signer: huxin_types::PublicKey = parse("public key", &key)?;
    let (q, limit) = list_query(q)?;
    let (height, time) = latest(&s)?;
    let prefix = index_key(TXS_BY_SIGNER, &[signer.as_bytes()]);
    let (items, next_cursor) = scan(&s, &prefix, None, None, &q.cursor, limit, |k, v| {
        let at = prefix.len();
        Some(SignerTx {
            tx_hash: huxin_types::TxHash(v.try_into().ok()?),
            height: Height(u64::from_be_bytes(k[at..at + 8].try_into().ok()?)),
            index: u32::from_be_bytes(k[at + 8..at + 12].try_into().ok()?),
        })
    })?;
    Ok(Json(Page { height, time, items, next_cursor }))
}

/// Every member on the ledger (trading centres, guarantee providers, supervisors), by id.
#[utoipa::path(
    get,
    path = "/v1/members",
    summary = "Every member",
    description = "Trading centres, guarantee providers and supervisors.",
    responses((status = 200, body = Vec<registry::MemberRecord>), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn members(State(s): State<ApiState>) -> Result<Json<Vec<registry::MemberRecord>>, ApiError> {
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let mut members = Vec::new();
    for id in registry::member_ids(&view)? {
        members.extend(registry::member(&view, &id)?);
    }
    Ok(Json(members))
}
