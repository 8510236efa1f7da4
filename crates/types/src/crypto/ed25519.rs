//! ed25519 keys and signatures (the `ed25519-sha256` suite): `verify_strict`, which refuses
//! small-order keys and non-canonical signatures.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{getrandom_fill, signing_input, Domain, SignatureError};
use crate::id::{fixed_bytes, IdError};

fixed_bytes!(
    /// An ed25519 public key.
    PublicKey, 32
);
fixed_bytes!(
    /// A signature, 64 bytes in either suite: ed25519's `R ‖ S`, or SM2's `r ‖ s` (big-endian).
    Signature, 64
);

impl PublicKey {
    /// Verify a W3C Data Integrity proof's signature (`eddsa-jcs-2022`): over the proof's 64-byte
    /// hash data, with no domain tag (see [`crate::vc`]).
    pub fn verify_data_integrity(&self, hash_data: &[u8; 64], signature: &Signature) -> Result<(), SignatureError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::BadKey(*self))?;
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(hash_data, &sig).map_err(|_| SignatureError::Mismatch(*self))
    }

    /// Verify `signature` over `message` in `domain`.
    pub fn verify(&self, domain: Domain, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::BadKey(*self))?;
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(&signing_input(domain, message), &sig).map_err(|_| SignatureError::Mismatch(*self))
    }
}

/// An ed25519 secret key. Its Debug output never shows the secret.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&bytes))
    }
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        getrandom_fill(&mut seed);
        Self::from_bytes(seed)
    }
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }
    /// Sign a W3C Data Integrity proof (`eddsa-jcs-2022`): the 64 bytes of its hash data — two
    /// SHA-256 digests — with no domain tag. No Huxin message can collide with it: every one
    /// starts with its domain's tag, which a digest pair would have to reproduce (see [`crate::vc`]).
    pub fn sign_data_integrity(&self, hash_data: &[u8; 64]) -> Signature {
        Signature(self.0.sign(hash_data).to_bytes())
    }

    pub fn sign(&self, domain: Domain, message: &[u8]) -> Signature {
        Signature(self.0.sign(&signing_input(domain, message)).to_bytes())
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }
    pub fn from_hex(s: &str) -> Result<Self, IdError> {
        let bad = || IdError::BadHex { expected: 64, got: "<secret>".into() };
        let bytes = hex::decode(s.trim()).map_err(|_| bad())?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        Ok(Self::from_bytes(arr))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public={})", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_domain_separated() {
        let key = SecretKey::from_bytes([7u8; 32]);
        let sig = key.sign(Domain::Tx, b"hello");
        assert!(key.public_key().verify(Domain::Tx, b"hello", &sig).is_ok());
        assert!(key.public_key().verify(Domain::Query, b"hello", &sig).is_err());
        assert!(key.public_key().verify(Domain::Tx, b"hellp", &sig).is_err());
    }
}
