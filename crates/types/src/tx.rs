//! Transactions: a body (what and by whom), signed by one member key.
//!
//! The transaction hash is SHA-256 over `huxin/v1/txhash ‖ canonical body bytes`; the signature
//! is over the same body bytes in the [`Domain::Tx`] domain. (signer, nonce) is unique per body,
//! so the hash identifies the transaction.

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError};
use crate::crypto::{Domain, PublicKey, SecretKey, Signature, SignatureError};
use crate::id::{ChainId, Hash32, Height, RegionCode, TimestampMs, TxHash};
use crate::identity::{AttestSubject, LiftBlacklist, ListOnBlacklist, RecognitionPolicy, RevokeAttestation, SubjectId};
use crate::limits::{TEXT_BYTES_MAX, TX_BYTES_MAX};

/// When a transaction stops being includable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// Includable in blocks up to and including this height.
    Height(Height),
    /// Includable in blocks whose time is at or before this instant.
    Time(TimestampMs),
}

impl Expiry {
    pub fn is_expired(&self, height: Height, time: TimestampMs) -> bool {
        match *self {
            Expiry::Height(h) => height > h,
            Expiry::Time(t) => time > t,
        }
    }
}

/// The unsigned part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxBody {
    pub chain_id: ChainId,
    /// The member key that signs this body.
    pub signer: PublicKey,
    /// Per-signer sequence number: the first transaction of a key uses 1.
    pub nonce: u64,
    pub expiry: Expiry,
    pub action: Action,
}

/// What a transaction asks the ledger to do. One variant family per contract domain; new
/// domains add variants at the end (the variant index is part of the canonical encoding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A trading centre anchors the SHA-256 of a deal document (全流程留痕).
    AnchorDocument(AnchorDocument),
    /// A trading centre attests a subject in its home region, or updates its own attestation.
    AttestSubject(AttestSubject),
    /// The home centre or a supervisor revokes an attestation.
    RevokeAttestation(RevokeAttestation),
    /// A centre of another region recognises an attestation (身份互认).
    RecogniseAttestation { subject: SubjectId },
    /// A centre withdraws its region's recognition.
    WithdrawRecognition { subject: SubjectId },
    /// A centre sets its region's recognition policy.
    SetRecognitionPolicy { policy: RecognitionPolicy },
    /// A supervisor (any scope) or a trading centre (its own region) blacklists a subject.
    ListOnBlacklist(ListOnBlacklist),
    /// Whoever may list in the entry's scope lifts the entry, with a reason.
    LiftBlacklist(LiftBlacklist),
}

impl Action {
    /// A stable name for logs, metrics and permission tables.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::AnchorDocument(_) => "anchor_document",
            Action::AttestSubject(_) => "attest_subject",
            Action::RevokeAttestation(_) => "revoke_attestation",
            Action::RecogniseAttestation { .. } => "recognise_attestation",
            Action::WithdrawRecognition { .. } => "withdraw_recognition",
            Action::SetRecognitionPolicy { .. } => "set_recognition_policy",
            Action::ListOnBlacklist(_) => "list_on_blacklist",
            Action::LiftBlacklist(_) => "lift_blacklist",
        }
    }

    /// Field-level checks that need no state (formats and bounds).
    pub fn check_fields(&self) -> Result<(), String> {
        match self {
            Action::AnchorDocument(a) => a.check_fields(),
            Action::AttestSubject(a) => a.check_fields(),
            Action::RevokeAttestation(r) => r.check_fields(),
            Action::RecogniseAttestation { subject } | Action::WithdrawRecognition { subject } => subject.check(),
            Action::SetRecognitionPolicy { .. } => Ok(()),
            Action::ListOnBlacklist(l) => l.check_fields(),
            Action::LiftBlacklist(l) => l.check_fields(),
        }
    }
}

/// The tender a deal document belongs to: region, project code, section (标段) code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TenderRef {
    pub region: RegionCode,
    pub project_code: String,
    pub section_code: String,
}

/// The stage of a trade a document belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStage {
    Announcement,
    TenderDocument,
    Clarification,
    Bid,
    OpeningRecord,
    EvaluationReport,
    CandidatePublicity,
    AwardNotice,
    Contract,
    Complaint,
    Exception,
    Archive,
}

/// Anchor a document's SHA-256 to a tender and stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorDocument {
    pub tender: TenderRef,
    pub stage: DealStage,
    /// SHA-256 of the document's bytes.
    pub document_hash: Hash32,
    /// A short human title, at most [`TEXT_BYTES_MAX`] bytes.
    pub title: String,
}

impl AnchorDocument {
    /// Field-level checks that need no state.
    pub fn check_fields(&self) -> Result<(), String> {
        for (name, value) in [
            ("tender.project_code", &self.tender.project_code),
            ("tender.section_code", &self.tender.section_code),
            ("title", &self.title),
        ] {
            if value.len() > TEXT_BYTES_MAX {
                return Err(format!("{name} is {} bytes; at most {TEXT_BYTES_MAX} are allowed", value.len()));
            }
        }
        if self.tender.project_code.is_empty() || self.tender.section_code.is_empty() {
            return Err("tender.project_code and tender.section_code must not be empty".into());
        }
        Ok(())
    }
}

impl TxBody {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }
    pub fn hash(&self) -> TxHash {
        TxHash(codec::hash_tagged(b"huxin/v1/txhash", &self.encode()).0)
    }
    pub fn sign(self, key: &SecretKey) -> SignedTx {
        let signature = key.sign(Domain::Tx, &self.encode());
        SignedTx { body: self, signature }
    }
}

/// A body with its signer's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTx {
    pub body: TxBody,
    pub signature: Signature,
}

impl SignedTx {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode_canonical(bytes, TX_BYTES_MAX)
    }
    pub fn hash(&self) -> TxHash {
        self.body.hash()
    }
    /// Check the signature against the body's signer.
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        self.body.signer.verify(Domain::Tx, &self.body.encode(), &self.signature)
    }
    /// Size of the canonical encoding.
    pub fn encoded_len(&self) -> usize {
        codec::encoded_len(self)
    }
}

impl Hash32 {
    pub fn of_document(bytes: &[u8]) -> Hash32 {
        codec::sha256(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_by_height_and_time() {
        assert!(!Expiry::Height(Height(5)).is_expired(Height(5), TimestampMs(0)));
        assert!(Expiry::Height(Height(5)).is_expired(Height(6), TimestampMs(0)));
        assert!(!Expiry::Time(TimestampMs(10)).is_expired(Height(99), TimestampMs(10)));
        assert!(Expiry::Time(TimestampMs(10)).is_expired(Height(1), TimestampMs(11)));
    }
}
