//! Receipts: the outcome of each transaction in a block. A rejected transaction stays in its
//! block with a [`Rejection`]: a stable code from a closed set and a message that names what was
//! expected and what came. Only the code is part of consensus (hashed into the receipts root);
//! the message is for people and may be reworded between releases.

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
    /// Whether a relaying peer is at fault for passing on a transaction refused with this code:
    /// no honest node admits a transaction with a bad signature, a foreign chain id, a malformed
    /// body or invalid fields, whatever the state. Every other code can follow from a state race
    /// (a nonce used meanwhile, a member suspended, an expiry passed).
    pub fn is_sender_fault(self) -> bool {
        matches!(
            self,
            RejectCode::BadSignature | RejectCode::WrongChain | RejectCode::Malformed | RejectCode::InvalidField
        )
    }

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
    /// The receipt's hash in the block's receipts root: the transaction hash and the outcome's
    /// stable code only. The human-readable `reason` is not hashed, so rewording a message (or
    /// renaming a Rust enum that reaches one) cannot fork validators running different builds.
    /// In the hash of the chain's `suite`.
    pub fn hash(&self, suite: crate::crypto::Suite) -> crate::id::Hash32 {
        let code = match &self.outcome {
            Outcome::Applied => "applied",
            Outcome::Rejected(rejection) => rejection.code.as_str(),
        };
        suite.hash_tagged(b"huxin/v1/receipt", &crate::codec::encode(&(self.tx_hash, code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(reason: &str) -> Receipt {
        Receipt { tx_hash: TxHash([7; 32]), outcome: Outcome::Rejected(Rejection::new(RejectCode::Conflict, reason)) }
    }

    /// Regression: the receipt hash covered the free-text reason, so a reworded message changed
    /// the receipts root and split validators of different builds.
    #[test]
    fn receipt_hash_covers_the_code_not_the_prose() {
        assert_eq!(
            rejected("credit record R-1 exists").hash(crate::crypto::Suite::Ed25519Sha256),
            rejected("record R-1 already exists").hash(crate::crypto::Suite::Ed25519Sha256)
        );
        let other_code = Receipt {
            tx_hash: TxHash([7; 32]),
            outcome: Outcome::Rejected(Rejection::new(RejectCode::NotFound, "credit record R-1 exists")),
        };
        assert_ne!(
            rejected("x").hash(crate::crypto::Suite::Ed25519Sha256),
            other_code.hash(crate::crypto::Suite::Ed25519Sha256)
        );
        let applied = Receipt { tx_hash: TxHash([7; 32]), outcome: Outcome::Applied };
        assert_ne!(
            rejected("x").hash(crate::crypto::Suite::Ed25519Sha256),
            applied.hash(crate::crypto::Suite::Ed25519Sha256)
        );
        let other_tx = Receipt { tx_hash: TxHash([8; 32]), outcome: Outcome::Applied };
        assert_ne!(
            applied.hash(crate::crypto::Suite::Ed25519Sha256),
            other_tx.hash(crate::crypto::Suite::Ed25519Sha256)
        );
    }
}
