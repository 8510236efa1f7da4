//! Subjects: profile, eligibility, public credit history, name search and deals.

use super::*;

/// Longest name prefix `/v1/subjects?name=` takes, in characters: an attested name is at most
/// [`huxin_types::limits::TEXT_BYTES_MAX`] bytes, so no longer prefix can match one.
pub const SUBJECT_NAME_QUERY_CHARS_MAX: usize = huxin_types::limits::TEXT_BYTES_MAX;

#[utoipa::path(
    get,
    path = "/v1/subjects/{subject}",
    summary = "A subject's profile",
    description = "Attestation with recognising regions, blacklist entries, credit score with breakdown, active record count, grants. `proof=true` attaches a proof.",
    params(("subject" = String, Path, description = "USCC, `legacy:<code>` or `expert:<sha256 hex>`", pattern = "^([0-9A-HJ-NP-RTUWXY]{18}|legacy:[0-9A-Z]{15,18}|expert:[0-9a-f]{64})$"), AtQuery),
    responses((status = 200, body = Proven<SubjectView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn subject(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<SubjectView>>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let q = at(q)?;
    let (height, latest_time) = latest(&s)?;
    let time = public_time(q.time, latest_time)?;
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::subject(&view, subject, height, time)?;
    answer(&s, &view, view_answer, q.proof)
}

#[utoipa::path(
    get,
    path = "/v1/subjects/{subject}/eligibility",
    summary = "Eligibility in a region",
    description = "Whether the subject may take part in a trade in `region` at `time`, with every reason.",
    params(("subject" = String, Path, description = "USCC, `legacy:<code>` or `expert:<sha256 hex>`", pattern = "^([0-9A-HJ-NP-RTUWXY]{18}|legacy:[0-9A-Z]{15,18}|expert:[0-9a-f]{64})$"), AtQuery),
    responses((status = 200, body = Proven<EligibilityView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn eligibility(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<EligibilityView>>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let q = at(q)?;
    let region: RegionCode = parse(
        "region",
        q.region.as_deref().ok_or_else(|| ApiError::bad_request("bad_query", "give ?region=<6-digit code>"))?,
    )?;
    let (height, latest_time) = latest(&s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::eligibility(&view, subject, region, height, time)?;
    answer(&s, &view, view_answer, q.proof)
}

/// The public credit history (see [`queries::credit_history`]).
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject}/credit",
    summary = "Public credit history",
    description = "Records published at `time`, across all regions, in the order recorded. A proof covers every record.",
    params(("subject" = String, Path, description = "USCC, `legacy:<code>` or `expert:<sha256 hex>`", pattern = "^([0-9A-HJ-NP-RTUWXY]{18}|legacy:[0-9A-Z]{15,18}|expert:[0-9a-f]{64})$"), AtQuery),
    responses((status = 200, body = Proven<CreditHistoryView>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 409, description = "Conflict (duplicate, nonce_taken, no_block_yet)", body = crate::error::ErrorBody), (status = 413, description = "Too large (body_too_large, tx_too_large, proof_too_large)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn credit_history(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<Proven<CreditHistoryView>>, ApiError> {
    let subject: SubjectId = parse("subject", &subject)?;
    let q = at(q)?;
    let (height, latest_time) = latest(&s)?;
    let time = public_time(q.time, latest_time)?;
    let view = view_at(&s, height, q.proof);
    let view_answer = queries::credit_history(&view, subject, height, time)?;
    answer(&s, &view, view_answer, q.proof)
}

/// Attested subjects whose current name starts with `name`, in name order.
#[utoipa::path(
    get,
    path = "/v1/subjects",
    summary = "Find subjects by name",
    description = "Attested subjects whose current name starts with `name`.",
    params(ListQuery),
    responses((status = 200, body = Page<SubjectMatch>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn subject_search(
    State(s): State<ApiState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<SubjectMatch>>, ApiError> {
    use huxin_state::index::{key, SUBJECTS_BY_NAME};
    let (q, limit) = list_query(q)?;
    let name = q
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("bad_query", "give ?name=<the start of a name>"))?;
    let chars = name.chars().count();
    if chars > SUBJECT_NAME_QUERY_CHARS_MAX {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("name is {chars} characters; at most {SUBJECT_NAME_QUERY_CHARS_MAX}"),
        ));
    }
    let (height, time) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let prefix = key(SUBJECTS_BY_NAME, &[name.as_bytes()]);
    let (items, next_cursor) = scan(&s, &prefix, None, None, &q.cursor, limit, |k, _| {
        let rest = &k[SUBJECTS_BY_NAME.len()..];
        let split = rest.iter().position(|b| *b == 0)?;
        let subject: SubjectId = std::str::from_utf8(&rest[split + 1..]).ok()?.parse().ok()?;
        let a = huxin_contracts::identity::attestation(&view, &subject).ok()??;
        a.name.starts_with(name.as_str()).then_some(SubjectMatch {
            subject,
            revoked: !matches!(a.status, huxin_contracts::identity::AttestationStatus::Active),
            name: a.name,
            kind: a.kind,
            home_region: a.home_region,
        })
    })?;
    checked(&view, Json(Page { height, time, items, next_cursor }))
}

/// Deal documents that name the subject (a USCC) as a party, oldest first.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject}/deals",
    summary = "Deal documents naming a subject",
    description = "Anchors that list the USCC as a party, oldest first.",
    params(("subject" = String, Path, description = "USCC", pattern = "^[0-9A-HJ-NP-RTUWXY]{18}$"), ListQuery),
    responses((status = 200, body = Page<huxin_contracts::deal::AnchorRecord>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn subject_deals(
    State(s): State<ApiState>,
    Path(subject): Path<String>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<huxin_contracts::deal::AnchorRecord>>, ApiError> {
    let party: huxin_types::Uscc = parse("subject (a USCC)", &subject)?;
    let (q, limit) = list_query(q)?;
    deal_page(&s, &party, &q, limit).map(Json)
}

/// A page of the anchors that name `party`, oldest first.
pub(crate) fn deal_page(
    s: &ApiState,
    party: &huxin_types::Uscc,
    q: &ListQuery,
    limit: usize,
) -> Result<Page<huxin_contracts::deal::AnchorRecord>, ApiError> {
    use huxin_state::index::{key, ANCHORS_BY_PARTY};
    let (height, time) = latest(s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let prefix = key(ANCHORS_BY_PARTY, &[party.as_str().as_bytes()]);
    let (items, next_cursor) = scan(s, &prefix, None, None, &q.cursor, limit, |k, v| {
        let tx_hash = huxin_types::TxHash(k[k.len() - 32..].try_into().ok()?);
        let document = Hash32(v.try_into().ok()?);
        huxin_contracts::deal::anchors_of(&view, &document).ok()?.into_iter().find(|a| a.tx_hash == tx_hash)
    })?;
    checked(&view, Page { height, time, items, next_cursor })
}
