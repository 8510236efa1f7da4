//! Paged lists over the secondary indexes: the list query, its cursor and the bounded scan.

use super::*;

/// Most index keys one list request reads before answering with what it found and a cursor.
pub const SCAN_KEYS_MAX: usize = 10_000;

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Hex cursor from an earlier page's `next_cursor` of the same list (another list's is refused).
    pub cursor: Option<String>,
    /// Items per page: 1 to [`crate::PAGE_ITEMS_MAX`], default [`crate::PAGE_ITEMS_DEFAULT`].
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    pub region: Option<String>,
    pub kind: Option<String>,
    pub severity: Option<String>,
    /// Decision dates (credit) from, inclusive, and to, exclusive (ms).
    pub from: Option<u64>,
    pub to: Option<u64>,
    /// Evaluate time-dependent status at this time (ms); default: the latest block's time.
    pub time: Option<u64>,
    pub provider: Option<String>,
    pub tender: Option<String>,
    pub applicant: Option<String>,
    /// Subjects whose attested name starts with this.
    pub name: Option<String>,
    pub status: Option<String>,
}

pub(crate) fn list_query(q: Result<Query<ListQuery>, QueryRejection>) -> Result<(ListQuery, usize), ApiError> {
    let q = q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let limit = q.limit.unwrap_or(crate::PAGE_ITEMS_DEFAULT);
    if limit == 0 {
        return Err(ApiError::bad_request("bad_query", "limit must be at least 1"));
    }
    if limit > crate::PAGE_ITEMS_MAX {
        return Err(ApiError::bad_request(
            "page_too_large",
            format!("limit is {limit}; at most {} items per page", crate::PAGE_ITEMS_MAX),
        ));
    }
    Ok((q, limit))
}

/// A snake_case enum value from a query parameter.
pub(crate) fn enum_param<T: serde::de::DeserializeOwned>(
    name: &str,
    value: &Option<String>,
) -> Result<Option<T>, ApiError> {
    value
        .as_ref()
        .map(|v| {
            serde_json::from_value(serde_json::Value::String(v.clone())).map_err(|_| {
                ApiError::bad_request("bad_query", format!("{name} {v:?} is not one of the allowed values"))
            })
        })
        .transpose()
}

/// Scan the index under `prefix` from `start` (or after the cursor), keeping what `keep` maps
/// to an item, until `limit` items or [`SCAN_KEYS_MAX`] keys; stop at keys ≥ `end`.
pub(crate) fn scan<T>(
    s: &ApiState,
    prefix: &[u8],
    start: Option<Vec<u8>>,
    end: Option<Vec<u8>>,
    cursor: &Option<String>,
    limit: usize,
    mut keep: impl FnMut(&[u8], &[u8]) -> Option<T>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let mut after = match cursor {
        Some(c) => {
            let key = hex::decode(c).map_err(|_| ApiError::bad_request("bad_query", "cursor is not hex"))?;
            if !key.starts_with(prefix) {
                return Err(ApiError::bad_request("bad_query", "cursor belongs to another list"));
            }
            Some(key)
        }
        None => None,
    };
    let mut first = start.filter(|_| after.is_none());
    let mut items = Vec::new();
    let mut scanned = 0;
    loop {
        let chunk = (limit - items.len()).max(64).min(SCAN_KEYS_MAX - scanned);
        let (entries, exhausted) = match first.take() {
            Some(start) => s.store.index_scan_from(prefix, &start, chunk)?,
            None => s.store.index_scan(prefix, after.as_deref(), chunk)?,
        };
        scanned += entries.len();
        for (key, value) in entries {
            if end.as_ref().is_some_and(|end| key >= *end) {
                return Ok((items, None));
            }
            if let Some(item) = keep(&key, &value) {
                items.push(item);
            }
            after = Some(key);
            if items.len() == limit {
                return Ok((items, after.map(hex::encode)));
            }
        }
        if exhausted {
            return Ok((items, None));
        }
        if scanned >= SCAN_KEYS_MAX {
            return Ok((items, after.map(hex::encode)));
        }
    }
}
