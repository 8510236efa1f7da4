//! Transactions: a body (what and by whom), signed by one member key.
//!
//! The transaction hash is SHA-256 over `huxin/v1/txhash ‖ canonical body bytes`; the signature
//! is over the same body bytes in the [`Domain::Tx`] domain. (signer, nonce) is unique per body,
//! so the hash identifies the transaction.

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError};
use crate::credit::{RecordCredit, RepairCredit, RevokeCredit};
use crate::crypto::{Domain, PublicKey, SecretKey, Signature, SignatureError};
use crate::governance::{Propose, Vote};
use crate::guarantee::{ClaimGuarantee, GuaranteeNote, IssueGuarantee, PayGuarantee};
use crate::id::Uscc;
use crate::id::{ChainId, Hash32, Height, RegionCode, TimestampMs, TxHash};
use crate::identity::{
    text, AttestSubject, LiftBlacklist, ListOnBlacklist, RecognitionPolicy, RevokeAttestation, SignedStatement,
    SubjectId,
};
use crate::limits::TX_BYTES_MAX;

/// When a transaction stops being includable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// A supervisor or trading centre records a credit fact (资信记录).
    RecordCredit(RecordCredit),
    /// The issuer or a supervisor repairs a negative record after its minimum window (信用修复).
    RepairCredit(RepairCredit),
    /// The issuer or a supervisor revokes an erroneous record.
    RevokeCredit(RevokeCredit),
    /// A guarantee provider issues an e-guarantee (电子保函).
    IssueGuarantee(IssueGuarantee),
    /// A trading centre records that it checked a guarantee.
    VerifyGuarantee(GuaranteeNote),
    /// The tender region's trading centre claims on a guarantee.
    ClaimGuarantee(ClaimGuarantee),
    /// The issuing provider pays a claim.
    PayGuarantee(PayGuarantee),
    /// The issuing provider or the tender region's centre releases a guarantee (注销).
    ReleaseGuarantee(GuaranteeNote),
    /// The issuing provider cancels a guarantee before anyone used it.
    CancelGuarantee(GuaranteeNote),
    /// A trading centre or supervisor proposes a governance change.
    Propose(Propose),
    /// A trading centre votes on a proposal.
    Vote(Vote),
    /// Any member relays a statement signed by a subject's bound key (数据确认与授权).
    SubjectStatement(SignedStatement),
    /// A node's audit-log running hash ([`crate::audit::AnchorAuditLog`]).
    AnchorAuditLog(crate::audit::AnchorAuditLog),
    /// An expert's home centre enrols it in the evaluation pool (专家库).
    EnrolExpert(crate::evaluation::EnrolExpert),
    /// The tender region's centre opens a remote cross-region evaluation (远程异地评标).
    OpenEvaluation(crate::evaluation::OpenEvaluation),
    /// A guest venue's centre commits to its draw secret.
    CommitDraw(crate::evaluation::CommitDraw),
    /// A venue's centre reveals its draw secret; the last reveal draws the experts.
    RevealDraw(crate::evaluation::RevealDraw),
    /// After the bid opening, the host reveals where each drawn expert sits (三盲).
    RevealSeats(crate::evaluation::RevealSeats),
    /// The host replaces a drawn expert who refused or was absent (a recorded redraw).
    ReplaceExpert(crate::evaluation::ReplaceExpert),
    /// A venue anchors its scoring sheets, or the host the report that closes the session.
    AnchorEvaluation(crate::evaluation::AnchorEvaluation),
}

impl Action {
    /// Every [`Action::kind`], in declaration order (a new variant adds its name here too).
    pub const KINDS: [&'static str; 28] = [
        "anchor_document",
        "attest_subject",
        "revoke_attestation",
        "recognise_attestation",
        "withdraw_recognition",
        "set_recognition_policy",
        "list_on_blacklist",
        "lift_blacklist",
        "record_credit",
        "repair_credit",
        "revoke_credit",
        "issue_guarantee",
        "verify_guarantee",
        "claim_guarantee",
        "pay_guarantee",
        "release_guarantee",
        "cancel_guarantee",
        "propose",
        "vote",
        "subject_statement",
        "anchor_audit_log",
        "enrol_expert",
        "open_evaluation",
        "commit_draw",
        "reveal_draw",
        "reveal_seats",
        "replace_expert",
        "anchor_evaluation",
    ];

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
            Action::RecordCredit(_) => "record_credit",
            Action::RepairCredit(_) => "repair_credit",
            Action::RevokeCredit(_) => "revoke_credit",
            Action::IssueGuarantee(_) => "issue_guarantee",
            Action::VerifyGuarantee(_) => "verify_guarantee",
            Action::ClaimGuarantee(_) => "claim_guarantee",
            Action::PayGuarantee(_) => "pay_guarantee",
            Action::ReleaseGuarantee(_) => "release_guarantee",
            Action::CancelGuarantee(_) => "cancel_guarantee",
            Action::Propose(_) => "propose",
            Action::Vote(_) => "vote",
            Action::SubjectStatement(_) => "subject_statement",
            Action::AnchorAuditLog(_) => "anchor_audit_log",
            Action::EnrolExpert(_) => "enrol_expert",
            Action::OpenEvaluation(_) => "open_evaluation",
            Action::CommitDraw(_) => "commit_draw",
            Action::RevealDraw(_) => "reveal_draw",
            Action::RevealSeats(_) => "reveal_seats",
            Action::ReplaceExpert(_) => "replace_expert",
            Action::AnchorEvaluation(_) => "anchor_evaluation",
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
            Action::RecordCredit(r) => r.check_fields(),
            Action::RepairCredit(r) => r.check_fields(),
            Action::RevokeCredit(r) => r.check_fields(),
            Action::IssueGuarantee(g) => g.check_fields(),
            Action::VerifyGuarantee(n) | Action::ReleaseGuarantee(n) | Action::CancelGuarantee(n) => n.check_fields(),
            Action::ClaimGuarantee(c) => c.check_fields(),
            Action::PayGuarantee(p) => p.check_fields(),
            Action::Propose(p) => p.check_fields(),
            Action::Vote(_) => Ok(()),
            Action::SubjectStatement(s) => s.check_fields(),
            Action::AnchorAuditLog(a) => a.check_fields(),
            Action::EnrolExpert(e) => e.check_fields(),
            Action::OpenEvaluation(o) => o.check_fields(),
            Action::ReplaceExpert(r) => r.check_fields(),
            Action::CommitDraw(_) | Action::RevealDraw(_) | Action::RevealSeats(_) | Action::AnchorEvaluation(_) => {
                Ok(())
            }
        }
    }
}

/// The tender a deal document belongs to: region, project code, section (标段) code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TenderRef {
    pub region: RegionCode,
    pub project_code: String,
    pub section_code: String,
}

impl TenderRef {
    pub fn check_fields(&self) -> Result<(), String> {
        text("tender.project_code", &self.project_code, true)?;
        text("tender.section_code", &self.section_code, true)
    }
}

impl std::fmt::Display for TenderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.region, self.project_code, self.section_code)
    }
}

/// The stage of a trade a document belongs to, in the order a trade moves through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// May come at any stage before the archive.
    Complaint,
    /// May come at any stage before the archive.
    Exception,
    /// The last anchor of a section: nothing more is accepted after it.
    Archive,
}

impl DealStage {
    /// Complaints and exceptions may come at any time before the archive.
    pub fn is_unordered(self) -> bool {
        matches!(self, DealStage::Complaint | DealStage::Exception)
    }
}

/// Most parties and experts one anchor may name.
pub const ANCHOR_PARTIES_MAX: usize = 64;

/// Anchor a document's SHA-256 to a tender and stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnchorDocument {
    pub tender: TenderRef,
    pub stage: DealStage,
    /// SHA-256 of the document's bytes.
    pub document_hash: Hash32,
    /// A short human title, at most [`crate::limits::TEXT_BYTES_MAX`] bytes.
    pub title: String,
    /// The unified deal code (统一交易标识码) of the trade.
    #[serde(default)]
    pub deal_code: String,
    /// The code of the trading platform the document came from (cross-platform bids).
    #[serde(default)]
    pub platform_code: String,
    /// The parties' USCCs; a bid names exactly its bidder.
    #[serde(default)]
    pub parties: Vec<Uscc>,
    /// Experts named by an evaluation report (salted ID hashes; may be attested in other regions).
    #[serde(default)]
    pub experts: Vec<Hash32>,
    /// The section's estimated price (最高投标限价 / 估算价) in fen, stated by an announcement.
    #[serde(default)]
    pub estimated_price_fen: Option<u64>,
}

impl AnchorDocument {
    /// A bare announcement of `tender`'s document `document_hash`: no title, codes, parties,
    /// experts or price.
    pub fn announcement(tender: TenderRef, document_hash: Hash32) -> Self {
        AnchorDocument {
            tender,
            stage: DealStage::Announcement,
            document_hash,
            title: String::new(),
            deal_code: String::new(),
            platform_code: String::new(),
            parties: Vec::new(),
            experts: Vec::new(),
            estimated_price_fen: None,
        }
    }

    /// Field-level checks that need no state.
    pub fn check_fields(&self) -> Result<(), String> {
        self.tender.check_fields()?;
        text("title", &self.title, false)?;
        text("deal_code", &self.deal_code, false)?;
        text("platform_code", &self.platform_code, false)?;
        if self.parties.len() > ANCHOR_PARTIES_MAX || self.experts.len() > ANCHOR_PARTIES_MAX {
            return Err(format!(
                "an anchor names at most {ANCHOR_PARTIES_MAX} parties and {ANCHOR_PARTIES_MAX} experts"
            ));
        }
        if self.stage == DealStage::Bid && self.parties.len() != 1 {
            return Err(format!("a bid anchor names exactly one party (the bidder), got {}", self.parties.len()));
        }
        if self.estimated_price_fen.is_some() && self.stage != DealStage::Announcement {
            return Err("only an announcement anchor states the estimated price".into());
        }
        if !self.experts.is_empty() && self.stage != DealStage::EvaluationReport {
            return Err("only an evaluation report anchor names experts".into());
        }
        Ok(())
    }
}

impl TxBody {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }
    pub fn hash(&self) -> TxHash {
        TxHash(self.signer.suite().hash_tagged(b"huxin/v1/txhash", &self.encode()).0)
    }
    pub fn sign(self, key: &SecretKey) -> SignedTx {
        let signature = key.sign(Domain::Tx, &self.encode());
        SignedTx { body: self, signature }
    }
}

/// A body with its signer's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// Fewest signatures a thread of [`verify_signatures`] is given: below this, spawning costs
/// more than it saves.
pub const SIGNATURES_PER_THREAD_MIN: usize = 32;

/// Most threads [`verify_signatures`] uses, whatever it is asked for.
pub const SIGNATURE_THREADS_MAX: usize = 64;

/// Whether each transaction's signature verifies, in order: the same answers as
/// [`SignedTx::verify_signature`], computed on up to `threads` threads (at most
/// [`SIGNATURE_THREADS_MAX`], and one per [`SIGNATURES_PER_THREAD_MIN`] signatures).
pub fn verify_signatures(txs: &[&SignedTx], threads: usize) -> Vec<bool> {
    let useful = txs.len().div_ceil(SIGNATURES_PER_THREAD_MIN).clamp(1, SIGNATURE_THREADS_MAX);
    let threads = threads.clamp(1, useful);
    if threads == 1 {
        return txs.iter().map(|tx| tx.verify_signature().is_ok()).collect();
    }
    let chunk = txs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = txs
            .chunks(chunk)
            .map(|part| {
                let handle =
                    scope.spawn(move || part.iter().map(|tx| tx.verify_signature().is_ok()).collect::<Vec<_>>());
                (part.len(), handle)
            })
            .collect();
        handles
            .into_iter()
            // A verifying thread does not panic; if one did, its transactions count as unverified
            // (and a caller checks them again, one by one).
            .flat_map(|(len, handle)| handle.join().unwrap_or_else(|_| vec![false; len]))
            .collect()
    })
}

impl Hash32 {
    pub fn of_document(bytes: &[u8]) -> Hash32 {
        codec::sha256(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Action::KINDS` names every variant, in order: serde's refusal of an unknown variant lists
    /// them all (its names are the variants in snake case, as `kind` gives them).
    #[test]
    fn kinds_name_every_action_variant() {
        let err = serde_json::from_str::<Action>(r#"{"no_such_kind":null}"#).unwrap_err().to_string();
        let listed: Vec<&str> = err
            .split_once("expected one of ")
            .map(|(_, rest)| rest)
            .unwrap_or_default()
            .split(", ")
            .map(|name| name.split('`').nth(1).unwrap_or_default())
            .collect();
        assert_eq!(listed, Action::KINDS, "{err}");
    }

    #[test]
    fn expiry_by_height_and_time() {
        assert!(!Expiry::Height(Height(5)).is_expired(Height(5), TimestampMs(0)));
        assert!(Expiry::Height(Height(5)).is_expired(Height(6), TimestampMs(0)));
        assert!(!Expiry::Time(TimestampMs(10)).is_expired(Height(99), TimestampMs(10)));
        assert!(Expiry::Time(TimestampMs(10)).is_expired(Height(1), TimestampMs(11)));
    }

    /// Parallel verification answers exactly what one-by-one verification does, in order, for
    /// any split into threads.
    #[test]
    fn signatures_verified_on_threads_match_one_by_one() {
        let chain = ChainId::new("huxin-test").unwrap();
        let key = crate::SecretKey::from_bytes([3; 32]);
        let txs: Vec<SignedTx> = (1..=200u64)
            .map(|nonce| {
                let body = TxBody {
                    chain_id: chain.clone(),
                    signer: key.public_key(),
                    nonce,
                    expiry: Expiry::Height(Height(10)),
                    action: Action::AnchorDocument(AnchorDocument::announcement(
                        TenderRef {
                            region: crate::RegionCode::new(330100).unwrap(),
                            project_code: "P".into(),
                            section_code: format!("S{nonce}"),
                        },
                        crate::Hash32([nonce as u8; 32]),
                    )),
                };
                let mut tx = body.sign(&key);
                if nonce % 7 == 0 {
                    tx.signature.0[5] ^= 1;
                }
                tx
            })
            .collect();
        let refs: Vec<&SignedTx> = txs.iter().collect();
        let expected: Vec<bool> = txs.iter().map(|tx| tx.verify_signature().is_ok()).collect();
        assert_eq!(expected.iter().filter(|ok| !**ok).count(), 28);
        for threads in [0, 1, 2, 3, 8, 500, usize::MAX] {
            assert_eq!(verify_signatures(&refs, threads), expected, "{threads} threads");
        }
        assert!(verify_signatures(&[], 4).is_empty());
    }
}
