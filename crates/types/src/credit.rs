//! Credit record payloads (资信共享): administrative penalties, dishonest conduct, commendations,
//! per-project evaluations and contract performance, with the fields of the public 双公示 practice.

use serde::{Deserialize, Serialize};

use crate::id::{Hash32, TimestampMs, Uscc};
use crate::identity::{text, SubjectId};
use crate::tx::TenderRef;

/// Longest statement of facts (违法事实) in a credit record.
pub const FACTS_BYTES_MAX: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CreditKind {
    /// Administrative penalty (行政处罚).
    AdministrativePenalty,
    /// Dishonest conduct (失信行为), e.g. collusive bidding (围标串标) or false documents.
    DishonestConduct,
    /// Commendation (表彰奖励).
    Commendation,
    /// Per-project evaluation of an agent or expert (一项目一评价), score 0–100.
    ProjectEvaluation,
    /// Contract performance (履约评价), score 0–100.
    ContractPerformance,
}

impl CreditKind {
    /// Penalties and dishonest conduct lower credit, have severity windows and may be repaired.
    pub fn is_negative(self) -> bool {
        matches!(self, CreditKind::AdministrativePenalty | CreditKind::DishonestConduct)
    }
    /// Evaluations and performance records carry a score 0–100.
    pub fn is_scored(self) -> bool {
        matches!(self, CreditKind::ProjectEvaluation | CreditKind::ContractPerformance)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 轻微
    Minor,
    /// 一般
    General,
    /// 严重
    Serious,
}

/// Record a credit fact about a subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordCredit {
    pub subject: SubjectId,
    pub kind: CreditKind,
    /// Decision number (决定书文号); unique per authority.
    pub decision_no: String,
    /// The deciding authority's name and USCC.
    pub authority: String,
    pub authority_uscc: Uscc,
    /// Facts (违法事实 / 表彰事由 / 评价说明).
    pub facts: String,
    /// Legal basis (处罚依据).
    pub legal_basis: String,
    /// Penalty type (处罚类别, e.g. 警告, 罚款); empty for non-penalties.
    pub penalty_type: String,
    /// Penalty content (处罚内容).
    pub penalty_content: String,
    /// Fine or confiscation in fen (分); 0 if none.
    pub amount_fen: u64,
    /// Decision date (处罚决定日期).
    pub decision_date: TimestampMs,
    /// SHA-256 of the evidence or decision document.
    pub evidence_hash: Hash32,
    pub severity: Severity,
    pub publication_start: TimestampMs,
    pub publication_end: TimestampMs,
    /// Evaluation or performance score 0–100 (only for scored kinds).
    pub score: Option<u8>,
    /// The tender the record concerns (required for scored kinds).
    pub tender: Option<TenderRef>,
}

impl RecordCredit {
    pub fn check_fields(&self) -> Result<(), String> {
        self.subject.check()?;
        text("decision_no", &self.decision_no, true)?;
        text("authority", &self.authority, true)?;
        if self.facts.len() > FACTS_BYTES_MAX {
            return Err(format!("facts is {} bytes; at most {FACTS_BYTES_MAX} are allowed", self.facts.len()));
        }
        if self.facts.trim().is_empty() {
            return Err("facts must not be empty".into());
        }
        text("legal_basis", &self.legal_basis, self.kind.is_negative())?;
        text("penalty_type", &self.penalty_type, self.kind == CreditKind::AdministrativePenalty)?;
        text("penalty_content", &self.penalty_content, self.kind == CreditKind::AdministrativePenalty)?;
        if self.publication_end <= self.publication_start {
            return Err(format!(
                "publication_end {} ms is not after publication_start {} ms",
                self.publication_end.0, self.publication_start.0
            ));
        }
        if self.publication_start < self.decision_date {
            return Err(format!(
                "publication_start {} ms is before the decision date {} ms",
                self.publication_start.0, self.decision_date.0
            ));
        }
        match (self.kind.is_scored(), self.score) {
            (true, None) => return Err(format!("a {:?} record needs a score 0–100", self.kind)),
            (true, Some(s)) if s > 100 => return Err(format!("score is {s}; 0 to 100 is allowed")),
            (false, Some(_)) => return Err(format!("a {:?} record carries no score", self.kind)),
            _ => {}
        }
        if self.kind.is_scored() && self.tender.is_none() {
            return Err(format!("a {:?} record names the tender it evaluates", self.kind));
        }
        if let Some(t) = &self.tender {
            t.check_fields()?;
        }
        Ok(())
    }

    /// The record's id in a chain of `suite`: see [`credit_record_id`].
    pub fn record_id(&self, suite: crate::crypto::Suite) -> Hash32 {
        credit_record_id(suite, &self.authority_uscc, &self.decision_no)
    }
}

/// A credit record's id: the suite's hash over the authority's USCC and its decision number, so
/// one decision is recorded once.
pub fn credit_record_id(suite: crate::crypto::Suite, authority: &Uscc, decision_no: &str) -> Hash32 {
    suite.hash_tagged(b"huxin/v1/credit-record", &crate::codec::encode(&(authority, decision_no)))
}

/// Credit repair (信用修复) of a negative record after its minimum publication window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RepairCredit {
    pub record_id: Hash32,
    pub reason: String,
    /// SHA-256 of the repair decision (e.g. 信用修复决定书).
    pub evidence_hash: Hash32,
}

/// Revocation of an erroneous record; the record stays in history, marked revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevokeCredit {
    pub record_id: Hash32,
    pub reason: String,
}

impl RepairCredit {
    pub fn check_fields(&self) -> Result<(), String> {
        text("reason", &self.reason, true)
    }
}

impl RevokeCredit {
    pub fn check_fields(&self) -> Result<(), String> {
        text("reason", &self.reason, true)
    }
}
