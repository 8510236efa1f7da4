//! `GET /v1/stats`: monthly counts per region (see `huxin_state::stats` for the metrics), as
//! JSON or CSV.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

pub use huxin_state::answers::{StatsRow, StatsView};
use huxin_state::stats::{self, NATIONAL, STATS};
use huxin_types::{Height, RegionCode};

use crate::routes::parse;
use crate::{ApiError, ApiState};

/// Most counters one statistics request reads (before the region and metric filters); narrow
/// the months beyond that.
pub const STATS_KEYS_MAX: usize = 20_000;

fn too_many() -> ApiError {
    ApiError::bad_request(
        "too_many_rows",
        format!("the months asked for hold more than {STATS_KEYS_MAX} counters; narrow them (from, to)"),
    )
}

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// First month, `YYYYMM` (default: all).
    #[param(value_type = Option<String>, pattern = "^(19|[2-9][0-9])[0-9]{2}(0[1-9]|1[0-2])$")]
    pub from: Option<u32>,
    /// Last month, `YYYYMM`, inclusive (default: all).
    #[param(value_type = Option<String>, pattern = "^(19|[2-9][0-9])[0-9]{2}(0[1-9]|1[0-2])$")]
    pub to: Option<u32>,
    /// A 6-digit region code, or `national`.
    #[param(pattern = "^(national|(1[1-9]|[2-7][0-9]|8[0-2])[0-9]{4})$")]
    pub region: Option<String>,
    /// Only metrics starting with this (e.g. `anchors.`).
    pub metric: Option<String>,
    /// `json` (default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

fn month_param(name: &str, value: Option<u32>) -> Result<Option<u32>, ApiError> {
    match value {
        Some(m) if !(190001..=999912).contains(&m) || !(1..=12).contains(&(m % 100)) => {
            Err(ApiError::bad_request("bad_query", format!("{name} is YYYYMM (e.g. 202611), got {m}")))
        }
        other => Ok(other),
    }
}

#[utoipa::path(
    get,
    path = "/v1/stats",
    summary = "Monthly statistics per region",
    description = "Counts of anchors by stage, guarantees issued/claimed/paid, penalties by severity and blacklist entries, as JSON or CSV.",
    params(StatsQuery),
    responses((status = 200, description = "JSON (the default), or with `format=csv` CSV: month,region,metric,count", content((StatsView = "application/json"), (String = "text/csv"))), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn stats(
    State(s): State<ApiState>,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let from = month_param("from", q.from)?.unwrap_or(0);
    let to = month_param("to", q.to)?.unwrap_or(u32::MAX - 1);
    let region = match q.region.as_deref() {
        None => None,
        Some("national") => Some(NATIONAL),
        Some(r) => Some(parse::<RegionCode>("region", r)?.get()),
    };
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(ApiError::bad_request("bad_query", format!("format is json or csv, got {other:?}"))),
    };
    let height = s.store.latest_height()?.unwrap_or(Height(0));
    let start = [STATS, &from.to_be_bytes()].concat();
    let end = [STATS, &(to.saturating_add(1)).to_be_bytes()].concat();
    let (entries, exhausted) = s.store.index_scan_from(STATS, &start, STATS_KEYS_MAX)?;
    let complete = exhausted || entries.last().is_some_and(|(k, _)| *k >= end);
    if !complete {
        return Err(too_many());
    }
    let mut rows = Vec::new();
    for (key, value) in entries.into_iter().take_while(|(k, _)| *k < end) {
        let Some((month, r, metric)) = stats::parse_key(&key) else { continue };
        if region.is_some_and(|want| want != r) || q.metric.as_deref().is_some_and(|m| !metric.starts_with(m)) {
            continue;
        }
        let count = value.as_slice().try_into().map(u64::from_be_bytes).unwrap_or(0);
        rows.push(StatsRow {
            month: format!("{}-{:02}", month / 100, month % 100),
            region: if r == NATIONAL { "national".into() } else { format!("{r:06}") },
            metric: metric.to_owned(),
            count,
        });
    }
    if csv {
        let mut text = String::from("month,region,metric,count\n");
        for r in &rows {
            text.push_str(&format!("{},{},{},{}\n", r.month, r.region, r.metric, r.count));
        }
        Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
    } else {
        Ok(Json(StatsView { height, rows }).into_response())
    }
}
