//! Identity attestation payloads (身份认证与互认): who a market entity is, as a trading centre
//! attests it, and the transactions that recognise such attestations in other regions.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::id::{ChainId, Hash32, TimestampMs, Uscc};
use crate::limits::TEXT_BYTES_MAX;

/// Most qualifications one attestation lists.
pub const QUALIFICATIONS_MAX: usize = 32;

/// A market entity on the ledger.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectId {
    /// An organisation by its Unified Social Credit Code (check character verified).
    Organisation(Uscc),
    /// An organisation by a pilot-era code that predates GB 32100-2015 (15 to 18 characters of
    /// `0-9A-Z`, no check character). Accepted only when explicitly marked, and flagged
    /// wherever it shows.
    LegacyOrganisation(String),
    /// An evaluation expert (评标专家) by a salted SHA-256 of the ID number; never the number.
    Expert(Hash32),
}

impl SubjectId {
    /// The key under which the subject's records are stored.
    pub fn key(&self) -> String {
        match self {
            SubjectId::Organisation(u) => format!("org:{u}"),
            SubjectId::LegacyOrganisation(c) => format!("legacy:{c}"),
            SubjectId::Expert(h) => format!("expert:{h}"),
        }
    }

    pub fn is_legacy(&self) -> bool {
        matches!(self, SubjectId::LegacyOrganisation(_))
    }

    pub fn check(&self) -> Result<(), String> {
        if let SubjectId::LegacyOrganisation(code) = self {
            let ok =
                (15..=18).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
            if !ok {
                return Err(format!(
                    "legacy code must be 15 to 18 characters of 0-9A-Z, got {:?}",
                    code.chars().take(40).collect::<String>()
                ));
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for SubjectId {
    type Err = String;

    /// Parse `91330100…` (a USCC), `org:<uscc>`, `legacy:<code>` or `expert:<hex sha-256>`.
    fn from_str(s: &str) -> Result<Self, String> {
        let subject = if let Some(code) = s.strip_prefix("legacy:") {
            SubjectId::LegacyOrganisation(code.to_owned())
        } else if let Some(hash) = s.strip_prefix("expert:") {
            SubjectId::Expert(hash.parse().map_err(|e| format!("expert id: {e}"))?)
        } else {
            let code = s.strip_prefix("org:").unwrap_or(s);
            SubjectId::Organisation(Uscc::parse(code).map_err(|e| e.to_string())?)
        };
        subject.check()?;
        Ok(subject)
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// What kind of market entity a subject is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// Supplier or bidder (供应商 / 投标人).
    Supplier,
    /// Procurement agent (代理机构).
    Agent,
    /// Purchaser or tenderer (采购人 / 招标人).
    Purchaser,
    /// Evaluation expert (评标专家).
    Expert,
}

/// One qualification (资质) of a subject, with the hash of its certificate scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Qualification {
    pub kind: String,
    pub certificate_no: String,
    pub issuer: String,
    pub valid_from: TimestampMs,
    pub valid_until: TimestampMs,
    pub document_hash: Hash32,
}

/// A trading centre attests a subject in its own (home) region, or updates its attestation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttestSubject {
    pub subject: SubjectId,
    pub kind: SubjectKind,
    pub name: String,
    pub qualifications: Vec<Qualification>,
    /// The subject's own ed25519 key, for data confirmations and access grants it signs later.
    pub bound_key: Option<PublicKey>,
    /// When the attestation lapses (None: until revoked).
    pub valid_until: Option<TimestampMs>,
    /// Proof that whoever holds `bound_key`'s secret agreed to bind it to this subject on this
    /// chain: its signature over [`key_binding_message`] ([`prove_key_binding`] makes one).
    /// Required with a bound key, so no centre can bind a key it merely knows the public half of.
    #[serde(default)]
    pub bound_key_proof: Option<crate::crypto::Signature>,
}

/// What a subject's key signs to be bound to it (domain [`crate::crypto::Domain::SubjectStatement`]).
pub fn key_binding_message(chain_id: &ChainId, subject: &SubjectId, key: &PublicKey) -> Vec<u8> {
    crate::codec::encode(&("huxin/v1/bind-key", chain_id, subject, key))
}

/// The proof of possession a subject gives its home centre for [`AttestSubject::bound_key_proof`].
pub fn prove_key_binding(
    chain_id: &ChainId,
    subject: &SubjectId,
    key: &crate::crypto::SecretKey,
) -> crate::crypto::Signature {
    key.sign(crate::crypto::Domain::SubjectStatement, &key_binding_message(chain_id, subject, &key.public_key()))
}

/// Check a free-text field: at most [`TEXT_BYTES_MAX`] bytes, and not blank when required.
pub fn text(name: &str, value: &str, required: bool) -> Result<(), String> {
    if value.len() > TEXT_BYTES_MAX {
        return Err(format!("{name} is {} bytes; at most {TEXT_BYTES_MAX} are allowed", value.len()));
    }
    if required && value.trim().is_empty() {
        return Err(format!("{name} must not be empty"));
    }
    Ok(())
}

impl AttestSubject {
    pub fn check_fields(&self) -> Result<(), String> {
        self.subject.check()?;
        text("name", &self.name, true)?;
        let expert_id = matches!(self.subject, SubjectId::Expert(_));
        if expert_id != (self.kind == SubjectKind::Expert) {
            return Err(format!("a subject of kind {:?} cannot be identified as {}", self.kind, self.subject));
        }
        if self.qualifications.len() > QUALIFICATIONS_MAX {
            return Err(format!(
                "{} qualifications; at most {QUALIFICATIONS_MAX} are allowed",
                self.qualifications.len()
            ));
        }
        for (i, q) in self.qualifications.iter().enumerate() {
            text(&format!("qualifications[{i}].kind"), &q.kind, true)?;
            text(&format!("qualifications[{i}].certificate_no"), &q.certificate_no, true)?;
            text(&format!("qualifications[{i}].issuer"), &q.issuer, true)?;
            if q.valid_until <= q.valid_from {
                return Err(format!(
                    "qualifications[{i}] is valid until {} ms, which is not after its start {} ms",
                    q.valid_until.0, q.valid_from.0
                ));
            }
        }
        Ok(())
    }
}

/// Revoke an attestation (its home centre, or a supervisor).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevokeAttestation {
    pub subject: SubjectId,
    pub reason: String,
}

impl RevokeAttestation {
    pub fn check_fields(&self) -> Result<(), String> {
        self.subject.check()?;
        text("reason", &self.reason, true)
    }
}

/// Whether a region accepts other regions' attestations without recognising each one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecognitionPolicy {
    /// Every member centre's attestation counts here (the default; 一地入驻、全省共用).
    Automatic,
    /// Only attestations this region has recognised explicitly count here.
    Explicit,
}

/// Where a blacklist entry bars a subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlacklistScope {
    /// Every region.
    National,
    /// The listed regions only (sorted, no duplicates, 1 to [`SCOPE_REGIONS_MAX`]).
    Regions(Vec<crate::id::RegionCode>),
}

/// Most regions one blacklist entry may name.
pub const SCOPE_REGIONS_MAX: usize = 64;

impl BlacklistScope {
    pub fn covers(&self, region: crate::id::RegionCode) -> bool {
        match self {
            BlacklistScope::National => true,
            BlacklistScope::Regions(regions) => regions.binary_search(&region).is_ok(),
        }
    }
}

/// Put a subject on the blacklist (失信名单).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListOnBlacklist {
    pub subject: SubjectId,
    pub scope: BlacklistScope,
    pub reason: String,
    pub legal_basis: String,
    /// Decision number (决定书文号); unique per subject.
    pub decision_no: String,
    pub start: TimestampMs,
    /// None: indefinite, until lifted.
    pub end: Option<TimestampMs>,
}

impl ListOnBlacklist {
    pub fn check_fields(&self) -> Result<(), String> {
        self.subject.check()?;
        text("reason", &self.reason, true)?;
        text("legal_basis", &self.legal_basis, true)?;
        text("decision_no", &self.decision_no, true)?;
        if let BlacklistScope::Regions(regions) = &self.scope {
            if regions.is_empty() || regions.len() > SCOPE_REGIONS_MAX {
                return Err(format!("scope names {} regions; 1 to {SCOPE_REGIONS_MAX} are allowed", regions.len()));
            }
            if regions.windows(2).any(|w| w[0] >= w[1]) {
                return Err("scope regions must be sorted and distinct".into());
            }
        }
        if let Some(end) = self.end {
            if end <= self.start {
                return Err(format!("end {} ms is not after start {} ms", end.0, self.start.0));
            }
        }
        Ok(())
    }
}

/// Lift a blacklist entry early, with a reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LiftBlacklist {
    pub subject: SubjectId,
    pub decision_no: String,
    pub reason: String,
}

impl LiftBlacklist {
    pub fn check_fields(&self) -> Result<(), String> {
        self.subject.check()?;
        text("decision_no", &self.decision_no, true)?;
        text("reason", &self.reason, true)
    }
}

/// What part of its data a subject lets a member read (数据授权).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantScope {
    Profile,
    CreditHistory,
    Guarantees,
    Deals,
    All,
}

/// What a subject's bound key signs (数据确认与授权).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Statement {
    /// The subject confirms a document (its bid, a record about it) as its own and accurate.
    Confirm { document_hash: Hash32 },
    /// The subject lets a member read part of its data until `expires_at`.
    Grant { grantee: crate::id::MemberId, scope: GrantScope, expires_at: TimestampMs },
    /// The subject withdraws every grant to a member.
    RevokeGrant { grantee: crate::id::MemberId },
}

/// A statement by a subject, signed by the key its home centre bound in the attestation. Any
/// member may relay it to the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubjectStatement {
    /// The network the statement is meant for: a statement signed for one chain is refused on
    /// every other.
    pub chain_id: ChainId,
    pub subject: SubjectId,
    pub statement: Statement,
    /// When the subject signed; must lie within a day of the block's time.
    pub signed_at: TimestampMs,
}

impl SubjectStatement {
    pub fn sign(self, key: &crate::crypto::SecretKey) -> SignedStatement {
        let signature = key.sign(crate::crypto::Domain::SubjectStatement, &crate::codec::encode(&self));
        SignedStatement { statement: self, signature }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedStatement {
    pub statement: SubjectStatement,
    pub signature: crate::crypto::Signature,
}

impl SignedStatement {
    pub fn check_fields(&self) -> Result<(), String> {
        self.statement.subject.check()
    }

    /// Check the signature against `key` (the subject's bound key).
    pub fn verify(&self, key: &PublicKey) -> Result<(), crate::crypto::SignatureError> {
        key.verify(crate::crypto::Domain::SubjectStatement, &crate::codec::encode(&self.statement), &self.signature)
    }

    /// Identifies the statement (a statement is recorded once), in a chain of `suite`.
    pub fn hash(&self, suite: crate::crypto::Suite) -> Hash32 {
        suite.hash_tagged(b"huxin/v1/subject-statement", &crate::codec::encode(&self.statement))
    }
}
