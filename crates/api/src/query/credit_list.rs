//! The public list of published credit records (and the page builder supervisors share).

use super::*;

/// Public credit records (public at the query time, which may not be after the latest block:
/// ever repaired or revoked, expired and not yet published ones are hidden), newest decisions last, filtered by region, kind, severity and a
/// decision-date range.
#[utoipa::path(
    get,
    path = "/v1/credit",
    summary = "Published credit records",
    description = "By the recording member's region, kind, severity and decision-date range; oldest decision first.",
    params(ListQuery),
    responses((status = 200, body = Page<CreditItem>), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn credit_list(
    State(s): State<ApiState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<CreditItem>>, ApiError> {
    let (q, limit) = list_query(q)?;
    if q.status.is_some() {
        return Err(ApiError::bad_request(
            "bad_query",
            "the public list shows published records only; supervisors filter by status on /v1/supervisor/credit",
        ));
    }
    public_time(q.time, latest(&s)?.1)?;
    credit_page(&s, &q, limit, |record, time| record.is_public(time)).map(Json)
}

/// A page of credit records from the credit indexes (by region and decision date), filtered by
/// kind, severity and which records `show` admits at the query time.
pub(crate) fn credit_page(
    s: &ApiState,
    q: &ListQuery,
    limit: usize,
    show: impl Fn(&credit::CreditRecord, TimestampMs) -> bool,
) -> Result<Page<CreditItem>, ApiError> {
    use huxin_state::index::{key, CREDIT_ALL, CREDIT_BY_REGION};
    let kind: Option<huxin_types::credit::CreditKind> = enum_param("kind", &q.kind)?;
    let severity: Option<huxin_types::credit::Severity> = enum_param("severity", &q.severity)?;
    let region: Option<RegionCode> = q.region.as_deref().map(|r| parse("region", r)).transpose()?;
    let (height, latest_time) = latest(s)?;
    let time = q.time.map_or(latest_time, TimestampMs);
    let view = StateView::new(s.store.as_ref(), height.0);
    let region_bytes = region.map(|r| r.get().to_be_bytes());
    let prefix = match &region_bytes {
        Some(r) => key(CREDIT_BY_REGION, &[r]),
        None => CREDIT_ALL.to_vec(),
    };
    let start = q.from.map(|from| key(&prefix, &[&from.to_be_bytes()]));
    let end = q.to.map(|to| key(&prefix, &[&to.to_be_bytes()]));
    let (items, next_cursor) = scan(s, &prefix, start, end, &q.cursor, limit, |k, _| {
        let id = Hash32(k[k.len() - 32..].try_into().ok()?);
        let record = credit::record(&view, &id).ok()??;
        let publication = record.publication(time);
        let wanted = show(&record, time)
            && kind.is_none_or(|k| record.record.kind == k)
            && severity.is_none_or(|s| record.record.severity == s);
        wanted.then_some(CreditItem { publication, record })
    })?;
    checked(&view, Page { height, time, items, next_cursor })
}
