//! Read endpoints over the latest finalised state: subjects (profile, eligibility, credit),
//! guarantees, documents, tenders, proposals, parameters and validators.
//!
//! Every answer says at which height it was read. Times default to the latest block's time, so
//! an answer depends only on the ledger, never on the serving node's clock.
//!
//! One module per job: [`subjects`], [`credit_list`] and [`ledger`] hold the handlers by resource,
//! [`paging`] the list query and index scan, [`proof`] the proof assembly; this module the
//! shared query parameters and answer envelope.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use huxin_contracts::blacklist::{self, BlacklistEntry};
use huxin_contracts::credit;
use huxin_contracts::governance::{self, ProposalRecord};
use huxin_contracts::guarantee::{self, GuaranteeState};
use huxin_contracts::registry;
pub use huxin_state::answers::{Page, SignerTx, SubjectMatch, ValidatorsView};
use huxin_state::proof::{
    prove_entry, CertifiedHeader, ProvenEntry, StateProof, StoredCertificate, ValidatorChange, PROOF_ENTRIES_MAX,
    VALIDATOR_CHANGES_MAX,
};
use huxin_state::queries::{
    self, CreditHistoryView, CreditItem, DocumentView, EligibilityView, GuaranteeView, SubjectView, TenderView,
};
use huxin_state::StateView;
use huxin_types::governance::Params;
use huxin_types::identity::SubjectId;
use huxin_types::tx::TenderRef;
use huxin_types::{Hash32, Height, RegionCode, TimestampMs};

use crate::routes::parse;
use crate::{ApiError, ApiState};

mod credit_list;
mod ledger;
mod paging;
mod proof;
mod subjects;

pub use credit_list::*;
pub use ledger::*;
pub use paging::*;
pub(crate) use proof::*;
pub use subjects::*;

/// A storage error met while reading `view` voids the answer. Point answers propagate their read
/// errors; a page's items are read inside a scan that skips what it cannot show, so a page ends
/// with this check (the view keeps its first read error).
fn checked<T>(view: &StateView<'_, huxin_store::Store>, answer: T) -> Result<T, ApiError> {
    match view.read_error() {
        Some(e) => {
            tracing::error!(error = %e, "state read failed serving the API");
            Err(ApiError::internal(format!("storage error: {e}")))
        }
        None => Ok(answer),
    }
}

/// The time a public credit answer is read at: the latest block's, or an earlier one the caller
/// asks for. A later one is refused: the public view never looks ahead (it would show records
/// not yet published).
pub(crate) fn public_time(asked: Option<u64>, latest_time: TimestampMs) -> Result<TimestampMs, ApiError> {
    match asked {
        Some(t) if t > latest_time.0 => Err(ApiError::bad_request(
            "bad_query",
            format!(
                "time {t} ms is after the latest block's {} ms; the public credit view does not look ahead (supervisors read full histories on /v1/supervisor/)",
                latest_time.0
            ),
        )),
        Some(t) => Ok(TimestampMs(t)),
        None => Ok(latest_time),
    }
}

/// The latest finalised height and block time (genesis time before the first block).
pub(crate) fn latest(s: &ApiState) -> Result<(Height, TimestampMs), ApiError> {
    let height = s.store.latest_height()?.unwrap_or(Height(0));
    let time = match s.store.header(height)? {
        Some(h) if height.0 > 0 => h.time,
        _ => TimestampMs(0),
    };
    Ok((height, time))
}

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// Evaluate at this time (ms since the epoch); default: the latest block's time.
    pub time: Option<u64>,
    pub region: Option<String>,
    /// Attach a proof of the answer.
    #[serde(default)]
    pub proof: bool,
}

fn at(q: Result<Query<AtQuery>, QueryRejection>) -> Result<AtQuery, ApiError> {
    q.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
}

/// With `?proof=true` a point answer carries a [`StateProof`] (see `huxin_state::proof`).
#[derive(Serialize, Debug, utoipa::ToSchema)]
pub struct Proven<T> {
    #[serde(flatten)]
    pub answer: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<StateProof>,
}

/// A view of the state at `height` that records what it reads when a proof is asked for.
fn view_at(s: &ApiState, height: Height, proof: bool) -> StateView<'_, huxin_store::Store> {
    if proof {
        StateView::recording(s.store.as_ref(), height.0)
    } else {
        StateView::new(s.store.as_ref(), height.0)
    }
}
