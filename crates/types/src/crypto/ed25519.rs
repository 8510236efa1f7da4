//! ed25519 keys and signatures (the `ed25519-sha256` suite): `verify_strict`, which refuses
//! small-order keys and non-canonical signatures.
//!
//! Decompressing a public key costs about a sixth of a verification, and a federation signs with
//! a few hundred keys, so the keys that verified a signature are kept decompressed
//! ([`VERIFYING_KEYS_CACHED_MAX`]). The cache changes how fast, never what, a signature verifies.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{LazyLock, RwLock};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{getrandom_fill, secret_from_hex, signing_input, Domain, SignatureError};
use crate::id::{fixed_bytes, IdError};

fixed_bytes!(
    /// An ed25519 public key (on a chain, wrapped in [`super::PublicKey`], which says its suite).
    Ed25519PublicKey, 32
);
fixed_bytes!(
    /// A signature, 64 bytes in either suite: ed25519's `R ‖ S`, or SM2's `r ‖ s` (big-endian).
    Signature, 64
);

/// Most decompressed keys kept for verification; past this the cache starts over (so a flood of
/// fresh keys costs what it did without one, and the memory stays bounded: about 0.6 MiB).
pub const VERIFYING_KEYS_CACHED_MAX: usize = 4_096;

/// Keys that verified a signature, decompressed.
static VERIFYING_KEYS: LazyLock<RwLock<HashMap<[u8; 32], VerifyingKey>>> = LazyLock::new(Default::default);

impl Ed25519PublicKey {
    /// Verify a W3C Data Integrity proof's signature (`eddsa-jcs-2022`): over the proof's 64-byte
    /// hash data, with no domain tag (see [`crate::vc`]).
    pub fn verify_data_integrity(&self, hash_data: &[u8; 64], signature: &Signature) -> Result<(), SignatureError> {
        self.verify_raw(hash_data, signature)
    }

    /// Verify `signature` over `message` in `domain`.
    pub fn verify(&self, domain: Domain, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        self.verify_raw(&signing_input(domain, message), signature)
    }

    fn verify_raw(&self, signed: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        let cached = VERIFYING_KEYS.read().ok().and_then(|keys| keys.get(&self.0).copied());
        let key = match cached {
            Some(key) => key,
            None => VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::BadKey(*self))?,
        };
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(signed, &sig).map_err(|_| SignatureError::Mismatch(*self))?;
        if cached.is_none() {
            if let Ok(mut keys) = VERIFYING_KEYS.write() {
                if keys.len() >= VERIFYING_KEYS_CACHED_MAX {
                    keys.clear();
                }
                keys.insert(self.0, key);
            }
        }
        Ok(())
    }
}

/// How many decompressed keys are kept now.
#[cfg(test)]
fn verifying_keys_cached() -> usize {
    VERIFYING_KEYS.read().map(|keys| keys.len()).unwrap_or(0)
}

/// An ed25519 secret key. Its Debug output never shows the secret.
#[derive(Clone)]
pub struct Ed25519SecretKey(SigningKey);

impl Ed25519SecretKey {
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
    pub fn public_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.0.verifying_key().to_bytes())
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
        secret_from_hex(s).map(Self::from_bytes)
    }
}

impl fmt::Debug for Ed25519SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519SecretKey(public={})", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verifying with a cached key answers as without: a good signature, a bad one, a key that
    /// is no point; only keys that verified are kept, and never more than the bound.
    #[test]
    fn the_key_cache_changes_no_verdict_and_stays_bounded() {
        let key = Ed25519SecretKey::from_bytes([11u8; 32]);
        let public = key.public_key();
        let sig = key.sign(Domain::Tx, b"m");
        for _ in 0..2 {
            assert_eq!(public.verify(Domain::Tx, b"m", &sig), Ok(()));
            assert_eq!(public.verify(Domain::Tx, b"n", &sig), Err(SignatureError::Mismatch(public)));
            assert_eq!(public.verify_data_integrity(&[0; 64], &sig), Err(SignatureError::Mismatch(public)));
        }
        // A y-coordinate with no curve point: refused every time, never cached.
        let not_a_point = (0u8..=255)
            .map(|b| Ed25519PublicKey([b; 32]))
            .find(|k| VerifyingKey::from_bytes(&k.0).is_err())
            .expect("some byte pattern is not a point");
        for _ in 0..2 {
            assert_eq!(not_a_point.verify(Domain::Tx, b"m", &sig), Err(SignatureError::BadKey(not_a_point)));
        }
        for i in 0..VERIFYING_KEYS_CACHED_MAX as u32 + 10 {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_be_bytes());
            let k = Ed25519SecretKey::from_bytes(seed);
            assert_eq!(k.public_key().verify(Domain::Tx, b"x", &k.sign(Domain::Tx, b"x")), Ok(()));
            assert!(verifying_keys_cached() <= VERIFYING_KEYS_CACHED_MAX);
        }
        assert_eq!(public.verify(Domain::Tx, b"m", &sig), Ok(()));
    }

    #[test]
    fn signatures_are_domain_separated() {
        let key = Ed25519SecretKey::from_bytes([7u8; 32]);
        let sig = key.sign(Domain::Tx, b"hello");
        assert!(key.public_key().verify(Domain::Tx, b"hello", &sig).is_ok());
        assert!(key.public_key().verify(Domain::Query, b"hello", &sig).is_err());
        assert!(key.public_key().verify(Domain::Tx, b"hellp", &sig).is_err());
    }
}
