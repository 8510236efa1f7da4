//! Receipts: the outcome of each transaction in a block. A rejected transaction stays in its
//! block with a [`Rejection`]: a stable code from a closed set and a message that names what was
//! expected and what came. Both are part of consensus (they are hashed into the receipts root).

use serde::{Deserialize, Serialize};

use crate::id::TxHash;

/// Stable rejection codes. Never renumber: the code is in every receipt ever written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// Signer's key is not registered to any member.
    UnknownSigner,
    /// Signer's member is suspended or removed.
    SignerInactive,
    /// The member's role may not send this kind of transaction.
    NotPermitted,
    /// Nonce is not the signer's next one.
    BadNonce,
    /// Transaction expired before this block.
    Expired,
    /// A field fails its format or bounds.
    InvalidField,
    /// The action conflicts with ledger state (e.g. duplicate, wrong lifecycle state).
    Conflict,
    /// The referenced object does not exist.
    NotFound,
    /// The chain id is not this network's.
    WrongChain,
    /// The signature does not verify.
    BadSignature,
    /// The transaction is larger than allowed, or malformed.
    Malformed,
    /// The object's current lifecycle state does not allow this step (the reason names it).
    InvalidTransition,
    /// A business rule refuses the action (publication windows, the 2% bid bond cap, stage order…).
    RuleViolated,
}

impl RejectCode {
    /// The stable snake_case name (also the JSON spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::UnknownSigner => "unknown_signer",
            RejectCode::SignerInactive => "signer_inactive",
            RejectCode::NotPermitted => "not_permitted",
            RejectCode::BadNonce => "bad_nonce",
            RejectCode::Expired => "expired",
            RejectCode::InvalidField => "invalid_field",
            RejectCode::Conflict => "conflict",
            RejectCode::NotFound => "not_found",
            RejectCode::WrongChain => "wrong_chain",
            RejectCode::BadSignature => "bad_signature",
            RejectCode::Malformed => "malformed",
            RejectCode::InvalidTransition => "invalid_transition",
            RejectCode::RuleViolated => "rule_violated",
        }
    }
}

/// Why a transaction was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, utoipa::ToSchema)]
#[error("{}: {reason}", code.as_str())]
pub struct Rejection {
    pub code: RejectCode,
    pub reason: String,
}

impl Rejection {
    pub fn new(code: RejectCode, reason: impl Into<String>) -> Self {
        Self { code, reason: reason.into() }
    }
}

/// What happened to a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    Rejected(Rejection),
}

/// One transaction's receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    pub tx_hash: TxHash,
    pub outcome: Outcome,
}

impl Receipt {
    pub fn hash(&self) -> crate::id::Hash32 {
        crate::codec::hash_tagged(b"huxin/v1/receipt", &crate::codec::encode(self))
    }
}
