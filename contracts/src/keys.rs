//! The state key layout. Every key starts with a one-word namespace and a slash; the rest is
//! fixed-width or hex so that keys sort in a meaningful order.

use huxin_types::crypto::PublicKey;
use huxin_types::identity::SubjectId;
use huxin_types::{Hash32, MemberId, RegionCode};

pub fn member(id: &MemberId) -> Vec<u8> {
    format!("member/{id}").into_bytes()
}

/// Which member a signing key belongs to.
pub fn signer(key: &PublicKey) -> Vec<u8> {
    format!("signer/{key}").into_bytes()
}

/// The last nonce a signing key used.
pub fn nonce(key: &PublicKey) -> Vec<u8> {
    format!("nonce/{key}").into_bytes()
}

/// The validator set in force.
pub fn validators() -> Vec<u8> {
    b"validators".to_vec()
}

/// Every anchor of one document hash.
pub fn document(hash: &Hash32) -> Vec<u8> {
    format!("document/{hash}").into_bytes()
}

/// A subject's attestation (with its recognitions).
pub fn attestation(subject: &SubjectId) -> Vec<u8> {
    format!("attestation/{}", subject.key()).into_bytes()
}

/// A region's recognition policy.
pub fn recognition_policy(region: RegionCode) -> Vec<u8> {
    format!("recognition_policy/{region}").into_bytes()
}

/// A subject's blacklist entries.
pub fn blacklist(subject: &SubjectId) -> Vec<u8> {
    format!("blacklist/{}", subject.key()).into_bytes()
}
