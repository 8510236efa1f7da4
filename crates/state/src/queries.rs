//! The answers of the point queries, computed from any state: the node computes them from its
//! store; a reader recomputes them from a proof's entries ([`crate::proof::Verified`]) to check
//! the node's answer ([`verify_answer`]). Pure: the height and time are inputs.

use serde::{Deserialize, Serialize};

use huxin_contracts::blacklist::{self, BlacklistEntry, Eligibility};
use huxin_contracts::credit::{self, CreditRecord, Publication, Score};
use huxin_contracts::deal::{self, AnchorRecord, TenderRecord};
use huxin_contracts::guarantee::{self, GuaranteeRecord, GuaranteeState};
use huxin_contracts::identity::{self, AttestationRecord, GrantRecord};
use huxin_contracts::risk::{self, SectionWarnings};
use huxin_contracts::{KvState, StateError};
use huxin_types::genesis::Genesis;
use huxin_types::identity::SubjectId;
use huxin_types::tx::TenderRef;
use huxin_types::{Hash32, Height, RegionCode, TimestampMs};

use crate::proof::{self, ProofError, StateProof, Verified};

/// What a path segment may hold unescaped: RFC 3986's unreserved characters, and `:` and `@`
/// (so `org:…`, `legacy:…` and `expert:…` subjects read as before).
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b':').remove(b'@');

/// `value` as one URL path segment: everything but unreserved characters percent-encoded, so a
/// guarantee number such as `BOC/2026/1` stays one segment (`BOC%2F2026%2F1`).
pub fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct SubjectView {
    pub subject: SubjectId,
    pub height: Height,
    pub time: TimestampMs,
    pub attestation: Option<AttestationRecord>,
    pub blacklist: Vec<BlacklistEntry>,
    pub score: Score,
    /// Credit records published now (repaired, revoked and expired ones are not counted).
    pub active_credit_records: usize,
    pub grants: Vec<GrantRecord>,
}

pub fn subject(
    state: &dyn KvState,
    subject: SubjectId,
    height: Height,
    time: TimestampMs,
) -> Result<SubjectView, StateError> {
    let public = credit::public_records(state, &subject, time)?;
    Ok(SubjectView {
        attestation: identity::attestation(state, &subject)?,
        blacklist: blacklist::entries(state, &subject)?,
        score: credit::score_of(state, &public)?,
        active_credit_records: public.len(),
        grants: identity::grants(state, &subject)?,
        subject,
        height,
        time,
    })
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct EligibilityView {
    pub subject: SubjectId,
    pub region: RegionCode,
    pub height: Height,
    pub time: TimestampMs,
    #[serde(flatten)]
    pub eligibility: Eligibility,
}

pub fn eligibility(
    state: &dyn KvState,
    subject: SubjectId,
    region: RegionCode,
    height: Height,
    time: TimestampMs,
) -> Result<EligibilityView, StateError> {
    let eligibility = blacklist::eligibility(state, &subject, region, time)?;
    Ok(EligibilityView { subject, region, height, time, eligibility })
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct CreditItem {
    pub publication: Publication,
    #[serde(flatten)]
    pub record: CreditRecord,
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct CreditHistoryView {
    pub subject: SubjectId,
    pub height: Height,
    pub time: TimestampMs,
    pub records: Vec<CreditItem>,
}

/// The public credit history: only records public at `time` (see
/// [`credit::CreditRecord::is_public`]: expired, not yet published, and ever repaired or revoked
/// ones are hidden). The subject's public list is in state, so a proof of this answer covers
/// every published record (none can be left out) and carries no hidden one's content.
pub fn credit_history(
    state: &dyn KvState,
    subject: SubjectId,
    height: Height,
    time: TimestampMs,
) -> Result<CreditHistoryView, StateError> {
    let records = credit::public_records(state, &subject, time)?
        .into_iter()
        .map(|record| CreditItem { publication: record.publication(time), record })
        .collect();
    Ok(CreditHistoryView { subject, height, time, records })
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct GuaranteeView {
    /// The state in force at `time` (expired is derived from validity).
    pub current_state: GuaranteeState,
    pub height: Height,
    pub time: TimestampMs,
    #[serde(flatten)]
    pub record: GuaranteeRecord,
}

pub fn guarantee(
    state: &dyn KvState,
    number: &str,
    height: Height,
    time: TimestampMs,
) -> Result<Option<GuaranteeView>, StateError> {
    let view = guarantee::guarantee(state, number)?.map(|record| GuaranteeView {
        current_state: record.state_at(time),
        height,
        time,
        record,
    });
    Ok(view)
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct DocumentView {
    pub document_hash: Hash32,
    pub height: Height,
    /// Every anchor of the document (empty: never anchored).
    pub anchors: Vec<AnchorRecord>,
}

pub fn document(state: &dyn KvState, hash: Hash32, height: Height) -> Result<DocumentView, StateError> {
    Ok(DocumentView { anchors: deal::anchors_of(state, &hash)?, document_hash: hash, height })
}

#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct TenderView {
    pub height: Height,
    pub tender: TenderRecord,
    pub risk: SectionWarnings,
}

pub fn tender(state: &dyn KvState, tender: &TenderRef, height: Height) -> Result<Option<TenderView>, StateError> {
    let Some(record) = deal::tender(state, tender)? else { return Ok(None) };
    Ok(Some(TenderView { height, risk: risk::warnings(state, tender)?, tender: record }))
}

/// A point query whose answer can be proven.
#[derive(Clone, Debug)]
pub enum ProvableQuery {
    Subject(SubjectId),
    Eligibility(SubjectId, RegionCode),
    Credit(SubjectId),
    Guarantee(String),
    Document(Hash32),
    Tender(TenderRef),
}

impl ProvableQuery {
    /// The API path of the query (without `proof=true`).
    pub fn path(&self) -> String {
        match self {
            ProvableQuery::Subject(s) => format!("/v1/subjects/{}", segment(&s.key())),
            ProvableQuery::Eligibility(s, r) => format!("/v1/subjects/{}/eligibility?region={r}", segment(&s.key())),
            ProvableQuery::Credit(s) => format!("/v1/subjects/{}/credit", segment(&s.key())),
            ProvableQuery::Guarantee(n) => format!("/v1/guarantees/{}", segment(n)),
            ProvableQuery::Document(h) => format!("/v1/documents/{h}"),
            ProvableQuery::Tender(t) => {
                format!("/v1/tenders/{}/{}/{}", t.region, segment(&t.project_code), segment(&t.section_code))
            }
        }
    }

    /// The answer computed from `state` at `height` and `time`; `None` where the node answers 404.
    pub fn answer(
        &self,
        state: &dyn KvState,
        height: Height,
        time: TimestampMs,
    ) -> Result<Option<serde_json::Value>, StateError> {
        fn json<T: Serialize>(value: Option<T>) -> Option<serde_json::Value> {
            value.and_then(|v| serde_json::to_value(v).ok())
        }
        Ok(match self {
            ProvableQuery::Subject(s) => json(Some(subject(state, s.clone(), height, time)?)),
            ProvableQuery::Eligibility(s, r) => json(Some(eligibility(state, s.clone(), *r, height, time)?)),
            ProvableQuery::Credit(s) => json(Some(credit_history(state, s.clone(), height, time)?)),
            ProvableQuery::Guarantee(n) => json(guarantee(state, n, height, time)?),
            ProvableQuery::Document(h) => json(Some(document(state, *h, height)?)),
            ProvableQuery::Tender(t) => json(tender(state, t, height)?),
        })
    }
}

/// What a checked answer establishes.
#[derive(Debug)]
pub struct VerifiedAnswer {
    pub verified: Verified,
    /// The answer without its proof.
    pub answer: serde_json::Value,
}

/// Check a node's JSON answer to `query` (with its `proof` field) against `genesis`: the proof
/// holds, and recomputing the answer from the proven state gives exactly the answer.
pub fn verify_answer(
    query: &ProvableQuery,
    answer: &serde_json::Value,
    genesis: &Genesis,
) -> Result<VerifiedAnswer, ProofError> {
    let mut answer = answer.clone();
    let proof_json = answer
        .as_object_mut()
        .and_then(|o| o.remove("proof"))
        .ok_or_else(|| ProofError::Malformed("the answer carries no proof (ask with proof=true)".into()))?;
    let proof: StateProof = serde_json::from_value(proof_json)
        .map_err(|e| ProofError::Malformed(format!("the proof is not the expected JSON: {e}")))?;
    let verified = proof::verify(&proof, genesis)?;
    let height = answer.get("height").and_then(|h| h.as_u64()).map(Height);
    if height != Some(verified.height) {
        return Err(ProofError::AnswerMismatch(format!(
            "the answer is for height {height:?}, the proof for {}",
            verified.height
        )));
    }
    // Time-dependent answers say which time they were evaluated at, and it must be the proven
    // block's: a genuine proof of an answer "as of" an earlier time (before a blacklist entry
    // began, say) vouches for nothing about now.
    let time = match answer.get("time") {
        None => verified.time,
        Some(t) => {
            let t =
                t.as_u64().ok_or_else(|| ProofError::Malformed(format!("the answer's time {t} is not a number")))?;
            if t != verified.time.0 {
                return Err(ProofError::AnswerMismatch(format!(
                    "the answer is evaluated at time {t} ms, the proven block {} at {} ms: only an answer as of its proof's block is vouched for",
                    verified.height, verified.time.0
                )));
            }
            TimestampMs(t)
        }
    };
    // A read the proof does not cover fails (and is remembered); a proven record that does not
    // decode is a corrupt-state error, not a crash.
    let recomputed = query.answer(&verified, verified.height, time);
    if let Some(key) = verified.uncovered() {
        return Err(ProofError::NotCovered(hex::encode(key)));
    }
    let recomputed =
        recomputed.map_err(|e| ProofError::Malformed(format!("the proven state does not answer: {e}")))?.ok_or_else(
            || ProofError::AnswerMismatch("the proven state has no such record, the answer has one".into()),
        )?;
    if recomputed != answer {
        return Err(ProofError::AnswerMismatch(first_difference(&recomputed, &answer, String::new())));
    }
    Ok(VerifiedAnswer { verified, answer })
}

/// Where two JSON values first differ, as a path.
fn first_difference(proven: &serde_json::Value, answered: &serde_json::Value, path: String) -> String {
    use serde_json::Value;
    match (proven, answered) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) if v != w => return first_difference(v, w, format!("{path}/{k}")),
                    None => return format!("{path}/{k} is missing from the answer"),
                    _ => {}
                }
            }
            match b.keys().find(|k| !a.contains_key(*k)) {
                Some(k) => format!("{path}/{k} is not in the proven state"),
                None => format!("{path} differs"),
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() != b.len() => {
            format!("{path} has {} items in the proven state, {} in the answer", a.len(), b.len())
        }
        (Value::Array(a), Value::Array(b)) => a
            .iter()
            .zip(b)
            .enumerate()
            .find(|(_, (v, w))| v != w)
            .map_or_else(|| format!("{path} differs"), |(i, (v, w))| first_difference(v, w, format!("{path}/{i}"))),
        _ => format!("{path} is {proven} in the proven state, {answered} in the answer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_segment_escapes_a_slash_and_keeps_unreserved_characters() {
        assert_eq!(segment("BOC/2026/1"), "BOC%2F2026%2F1");
        assert_eq!(segment("NB-2026_01.a~"), "NB-2026_01.a~");
        assert_eq!(segment("legacy:33010019900101X"), "legacy:33010019900101X");
        assert_eq!(segment("标段 1?#%"), "%E6%A0%87%E6%AE%B5%201%3F%23%25");
        let q = ProvableQuery::Guarantee("BOC/2026/1".into());
        assert_eq!(q.path(), "/v1/guarantees/BOC%2F2026%2F1");
    }
}
