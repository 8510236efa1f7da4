//! Deal anchors (全流程留痕): a trading centre records the SHA-256 of a deal document with its
//! tender and stage, so anyone can later prove the document unaltered, who anchored it and when.
//!
//! Rules (this slice): only trading centres anchor; fields are bounded; the same document may be
//! anchored to several tenders or stages, but not twice to the same tender and stage; at most
//! [`DOCUMENT_ANCHORS_MAX`] anchors per document hash. Stage ordering, publicity windows and the
//! archive lock are the domain issue's to add here.

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::tx::{AnchorDocument, DealStage, TenderRef};
use huxin_types::{Hash32, Height, MemberId, RegionCode, RejectCode, Rejection, TimestampMs, TxHash};

use crate::{decode_record, keys, rejection, KvState, TxContext};

/// Most anchors one document hash may carry.
pub const DOCUMENT_ANCHORS_MAX: usize = 64;

/// One anchor of a document, as stored and served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorRecord {
    pub document_hash: Hash32,
    pub tender: TenderRef,
    pub stage: DealStage,
    pub title: String,
    pub anchored_by: MemberId,
    pub anchored_by_region: RegionCode,
    pub height: Height,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
}

pub fn anchors_of(state: &dyn KvState, hash: &Hash32) -> Vec<AnchorRecord> {
    state.get(&keys::document(hash)).map(|b| decode_record(&b, "document anchors")).unwrap_or_default()
}

pub fn anchor(ctx: &TxContext, state: &mut dyn KvState, a: &AnchorDocument) -> Result<(), Rejection> {
    a.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut anchors = anchors_of(state, &a.document_hash);
    if let Some(existing) = anchors.iter().find(|r| r.tender == a.tender && r.stage == a.stage) {
        return Err(rejection(
            RejectCode::Conflict,
            format!(
                "document {} is already anchored to tender {}/{}/{} at stage {:?} (height {}, tx {})",
                a.document_hash,
                a.tender.region,
                a.tender.project_code,
                a.tender.section_code,
                a.stage,
                existing.height,
                existing.tx_hash
            ),
        ));
    }
    if anchors.len() >= DOCUMENT_ANCHORS_MAX {
        return Err(rejection(
            RejectCode::Conflict,
            format!("document {} already has {DOCUMENT_ANCHORS_MAX} anchors, the most allowed", a.document_hash),
        ));
    }
    anchors.push(AnchorRecord {
        document_hash: a.document_hash,
        tender: a.tender.clone(),
        stage: a.stage,
        title: a.title.clone(),
        anchored_by: ctx.member.id,
        anchored_by_region: ctx.member.region,
        height: ctx.height,
        time: ctx.time,
        tx_hash: ctx.tx_hash,
    });
    state.put(keys::document(&a.document_hash), codec::encode(&anchors));
    Ok(())
}
