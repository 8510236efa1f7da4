//! Keys and domain-separated signatures, in two suites: ed25519 with SHA-256 ([`ed25519`], the
//! suite every chain uses today) and SM2 with SM3 ([`sm2`], the national standards GM/T
//! 0003-2012 and GM/T 0004-2012).
//!
//! Every signature is over `tag ‖ 0x00 ‖ message`, where the tag names what is signed
//! ([`Domain`]). A signature made for one domain never verifies in another. [`PublicKey`] and
//! [`SecretKey`] hold a key of either suite; a key's suite is in its length (32 bytes for ed25519,
//! 33 for a compressed SM2 point), so a value of one suite is never read as the other's
//! ([`keys`]).

use crate::id::IdError;

pub mod ed25519;
mod hash;
mod keys;
pub mod sm2;

pub use ed25519::{Ed25519PublicKey, Ed25519SecretKey, Signature};
pub use hash::MerkleSm3;
pub use keys::{PublicKey, SecretKey, Suite, SM2_SECRET_PREFIX};
pub use sm2::{sm3, Sm2PublicKey, Sm2SecretKey};

/// What a signature is for. The tag is part of the signed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// A transaction body.
    Tx,
    /// A consensus vote.
    Vote,
    /// A consensus proposal.
    Proposal,
    /// A streamed proposal part (the proposer's signature over the whole block).
    ProposalPart,
    /// A signed API query (supervisor access).
    Query,
    /// A statement a subject signs with its bound key (data confirmation and grants).
    SubjectStatement,
    /// A validator's proof that a libp2p peer id is its own (the consensus network's handshake).
    ValidatorProof,
}

impl Domain {
    pub fn tag(self) -> &'static [u8] {
        match self {
            Domain::Tx => b"huxin/v1/tx",
            Domain::Vote => b"huxin/v1/vote",
            Domain::Proposal => b"huxin/v1/proposal",
            Domain::ProposalPart => b"huxin/v1/proposal-part",
            Domain::Query => b"huxin/v1/query",
            Domain::SubjectStatement => b"huxin/v1/subject-statement",
            Domain::ValidatorProof => b"huxin/v1/validator-proof",
        }
    }
}

pub fn signing_input(domain: Domain, message: &[u8]) -> Vec<u8> {
    let tag = domain.tag();
    let mut input = Vec::with_capacity(tag.len() + 1 + message.len());
    input.extend_from_slice(tag);
    input.push(0);
    input.extend_from_slice(message);
    input
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("public key {0} is not a valid ed25519 point")]
    BadKey(Ed25519PublicKey),
    #[error("signature does not verify for key {0}")]
    Mismatch(Ed25519PublicKey),
    #[error("public key {0} is not a compressed point of the SM2 curve")]
    BadSm2Key(Sm2PublicKey),
    #[error("signature is not a valid SM2 signature for key {0}")]
    Sm2Mismatch(Sm2PublicKey),
}

/// Why a secret key's bytes make no key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    NotHex(#[from] IdError),
    #[error("an SM2 secret key must be a scalar in [1, n − 2] of the SM2 curve's order n")]
    Sm2SecretOutOfRange,
}

/// A secret key's 32 bytes from hex, surrounding whitespace ignored (key files end in a newline).
/// The error never repeats the input.
pub(crate) fn secret_from_hex(s: &str) -> Result<[u8; 32], IdError> {
    let bad = || IdError::BadHex { expected: 64, got: "<secret>".into() };
    let bytes = hex::decode(s.trim()).map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

/// Fill `buf` from the operating system's randomness (fresh keys).
pub(crate) fn getrandom_fill(buf: &mut [u8]) {
    // /dev/urandom is always present on the platforms we support.
    use std::io::Read;
    let mut f = std::fs::File::open("/dev/urandom").expect("open /dev/urandom");
    f.read_exact(buf).expect("read /dev/urandom");
}
