//! Collusion risk warnings (围标串标预警): raised automatically and deterministically while a
//! transaction applies, recorded per tender section. A warning never rejects the transaction
//! that raises it; supervisors act on it.

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::tx::TenderRef;
use huxin_types::{Hash32, Height, TimestampMs, TxHash, Uscc};

use crate::{keys, read_or_default, KvState, StateError, TxContext};

/// Most warnings kept per section (later ones are not recorded; the count still grows).
pub const SECTION_WARNINGS_MAX: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    /// Different bidders' bid anchors carry the same document hash.
    IdenticalBidDocument { document_hash: Hash32, bidders: Vec<Uscc> },
    /// Bid bonds of competing bidders had their premium paid by one payer.
    SameGuaranteePayer { payer: Uscc, applicants: Vec<Uscc> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RiskWarning {
    pub tender: TenderRef,
    pub kind: RiskKind,
    pub height: Height,
    pub time: TimestampMs,
    /// The transaction that raised it.
    pub tx_hash: TxHash,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SectionWarnings {
    /// Every warning raised, even past the cap.
    pub raised: u64,
    pub warnings: Vec<RiskWarning>,
}

pub fn warnings(state: &dyn KvState, tender: &TenderRef) -> Result<SectionWarnings, StateError> {
    read_or_default(state, &keys::risk(tender), "risk warnings")
}

pub fn raise(ctx: &TxContext, state: &mut dyn KvState, tender: &TenderRef, kind: RiskKind) -> Result<(), StateError> {
    let mut section = warnings(state, tender)?;
    section.raised += 1;
    if section.warnings.len() < SECTION_WARNINGS_MAX {
        section.warnings.push(RiskWarning {
            tender: tender.clone(),
            kind,
            height: ctx.height,
            time: ctx.time,
            tx_hash: ctx.tx_hash,
        });
    }
    state.put(keys::risk(tender), codec::encode(&section));
    Ok(())
}
