//! Evaluation sessions (远程异地评标, see `huxin_contracts::evaluation`): the public view of a
//! session, with what its draw depends on, for anyone to recompute.

use axum::extract::{Path, State};
use axum::Json;

use huxin_contracts::evaluation;
pub use huxin_state::answers::EvaluationView;
use huxin_state::StateView;
use huxin_types::Hash32;

use crate::query::latest;
use crate::routes::parse;
use crate::{ApiError, ApiState};

#[utoipa::path(
    get,
    path = "/v1/evaluations/{id}",
    summary = "An evaluation session and its draw",
    description = "Venues with their commitments and revealed secrets, seats, status, seed, drawn experts (salted hashes), and the pool each specialty had when the session opened; the avoidance list is withheld (it names the bidders) and counted.",
    params(("id" = String, Path, description = "the session id (its opening transaction's hash), hex", pattern = "^[0-9a-f]{64}$")),
    responses((status = 200, body = EvaluationView), (status = 400, description = "Bad input (bad_path)", body = crate::error::ErrorBody), (status = 404, description = "No such session (not_found)", body = crate::error::ErrorBody), (status = 500, description = "Storage error (internal)", body = crate::error::ErrorBody))
)]
pub async fn session(State(s): State<ApiState>, Path(id): Path<String>) -> Result<Json<EvaluationView>, ApiError> {
    let id: Hash32 = parse("session id", &id)?;
    let (height, _) = latest(&s)?;
    let view = StateView::new(s.store.as_ref(), height.0);
    let mut session = evaluation::session(&view, &id)?
        .ok_or_else(|| ApiError::not_found(format!("no evaluation session {id} on the ledger")))?;
    let pools = evaluation::session_pool(&view, &id)?;
    let avoided_employers = std::mem::take(&mut session.avoid_employers).len();
    Ok(Json(EvaluationView { height, session, avoided_employers, pools }))
}
