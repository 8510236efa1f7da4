//! `GET /v1/blocks/{height}` and `/v1/blocks/latest`: a header, its hash and a page of its
//! transactions with their outcomes.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;

use huxin_state::answers::{BlockView, TxView};
use huxin_types::Height;

use crate::public::{public_outcome, public_tx};
use crate::routes::parse;
use crate::{ApiError, ApiState, PAGE_ITEMS_DEFAULT, PAGE_ITEMS_MAX};

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TxPage {
    /// First transaction of the block to list (default 0).
    pub tx_offset: Option<u32>,
    /// Transactions to list, at most 1000 (default 100).
    #[param(maximum = 1000)]
    pub tx_limit: Option<usize>,
}

fn block_view(s: &ApiState, height: Height, page: TxPage) -> Result<BlockView, ApiError> {
    let block = s.store.block(height)?.ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?;
    let receipts = s.store.receipts(height)?.unwrap_or_default();
    let limit = page.tx_limit.unwrap_or(PAGE_ITEMS_DEFAULT);
    if limit > PAGE_ITEMS_MAX {
        return Err(ApiError::bad_request("page_too_large", format!("tx_limit is {limit}; at most {PAGE_ITEMS_MAX}")));
    }
    let offset = page.tx_offset.unwrap_or(0) as usize;
    let txs = block
        .txs
        .iter()
        .enumerate()
        .skip(offset)
        .take(limit)
        .map(|(i, tx)| {
            let (full, withheld) = public_tx(tx);
            let outcome = receipts.get(i).map(|r| public_outcome(tx, r.outcome.clone()));
            TxView { hash: tx.hash(), tx: full, withheld, outcome }
        })
        .collect();
    Ok(BlockView {
        hash: block.hash(),
        header: block.header.clone(),
        tx_count: block.txs.len(),
        tx_offset: offset,
        txs,
    })
}

fn page(q: Result<Query<TxPage>, QueryRejection>) -> Result<TxPage, ApiError> {
    q.map(|Query(p)| p).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
}

#[utoipa::path(
    get,
    path = "/v1/blocks/{height}",
    summary = "A block",
    description = "Header, hash, and a page of its transactions with outcomes (credit actions withheld: kind, signer and nonce only).",
    params(("height" = u64, Path, description = "block height"), TxPage),
    responses((status = 200, body = BlockView), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn block(
    State(s): State<ApiState>,
    Path(height): Path<String>,
    q: Result<Query<TxPage>, QueryRejection>,
) -> Result<Json<BlockView>, ApiError> {
    let height: u64 = parse("height", &height)?;
    Ok(Json(block_view(&s, Height(height), page(q)?)?))
}

#[utoipa::path(
    get,
    path = "/v1/blocks/latest",
    summary = "The latest block",
    params(TxPage),
    responses((status = 200, body = BlockView), (status = 400, description = "Bad input (bad_path, bad_query, bad_json, …)", body = crate::error::ErrorBody), (status = 404, description = "Not on the ledger (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub(crate) async fn latest_block(
    State(s): State<ApiState>,
    q: Result<Query<TxPage>, QueryRejection>,
) -> Result<Json<BlockView>, ApiError> {
    let latest = s.store.latest_height()?.unwrap_or(Height(0));
    if latest.0 == 0 {
        return Err(ApiError::not_found("no block has been finalised yet"));
    }
    Ok(Json(block_view(&s, latest, page(q)?)?))
}
