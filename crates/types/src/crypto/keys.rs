//! Keys that carry their suite: a chain's genesis names one suite ([`Suite`]), and every key on
//! it is of that suite.
//!
//! Encodings say which suite a key is of by its length alone, so no value of one suite is read
//! as the other's: an ed25519 key is 32 bytes (64 hex digits), an SM2 key is a compressed point
//! of 33 bytes (66 hex digits, starting `02` or `03`). An ed25519 key encodes exactly as it did
//! before SM2 keys existed, so ed25519 chains keep their hashes. A secret key file holds 64 hex
//! digits for ed25519, `sm2:` and 64 hex digits for SM2 (both are 32-byte scalars or seeds, so
//! the prefix is what tells them apart).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ed25519::{Ed25519PublicKey, Ed25519SecretKey};
use super::sm2::{Sm2PublicKey, Sm2SecretKey};
use super::{Domain, KeyError, Signature, SignatureError};
use crate::id::IdError;

/// The signature and hash algorithms a chain uses, fixed at genesis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Suite {
    /// ed25519 signatures (`verify_strict`) and SHA-256.
    #[default]
    #[serde(rename = "ed25519-sha256")]
    Ed25519Sha256,
    /// SM2 signatures (GM/T 0003-2012, default user id) and SM3 (GM/T 0004-2012).
    #[serde(rename = "sm2-sm3")]
    Sm2Sm3,
}

impl Suite {
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Ed25519Sha256 => "ed25519-sha256",
            Suite::Sm2Sm3 => "sm2-sm3",
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Suite {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ed25519-sha256" => Ok(Suite::Ed25519Sha256),
            "sm2-sm3" => Ok(Suite::Sm2Sm3),
            other => Err(format!("unknown suite {other:?}: ed25519-sha256 or sm2-sm3")),
        }
    }
}

/// A public key of either suite.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PublicKey {
    Ed25519(Ed25519PublicKey),
    Sm2(Sm2PublicKey),
}

impl PublicKey {
    pub fn suite(&self) -> Suite {
        match self {
            PublicKey::Ed25519(_) => Suite::Ed25519Sha256,
            PublicKey::Sm2(_) => Suite::Sm2Sm3,
        }
    }

    /// The key's encoded bytes: 32 for ed25519, 33 for SM2.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            PublicKey::Ed25519(k) => k.as_bytes(),
            PublicKey::Sm2(k) => k.as_bytes(),
        }
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }

    /// A key from its encoded bytes; the length says the suite.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        match bytes.len() {
            Ed25519PublicKey::LEN => Ed25519PublicKey::from_slice(bytes).map(PublicKey::Ed25519),
            // A compressed point starts 02 or 03; whether it is on the curve is checked when it verifies.
            Sm2PublicKey::LEN if matches!(bytes[0], 2 | 3) => Sm2PublicKey::from_slice(bytes).map(PublicKey::Sm2),
            _ => None,
        }
    }

    /// The ed25519 key, if this is one.
    pub fn ed25519(&self) -> Option<&Ed25519PublicKey> {
        match self {
            PublicKey::Ed25519(k) => Some(k),
            PublicKey::Sm2(_) => None,
        }
    }

    /// Verify `signature` over `message` in `domain`, in this key's suite.
    pub fn verify(&self, domain: Domain, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        match self {
            PublicKey::Ed25519(k) => k.verify(domain, message, signature),
            PublicKey::Sm2(k) => k.verify(domain, message, signature),
        }
    }
}

impl From<Ed25519PublicKey> for PublicKey {
    fn from(k: Ed25519PublicKey) -> Self {
        PublicKey::Ed25519(k)
    }
}

impl From<Sm2PublicKey> for PublicKey {
    fn from(k: Sm2PublicKey) -> Self {
        PublicKey::Sm2(k)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}:{})", self.suite(), self.to_hex())
    }
}

impl FromStr for PublicKey {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let bad = || IdError::BadHex {
            expected: if s.len() > 2 * Ed25519PublicKey::LEN {
                2 * Sm2PublicKey::LEN
            } else {
                2 * Ed25519PublicKey::LEN
            },
            got: s.chars().take(80).collect(),
        };
        let bytes = hex::decode(s).map_err(|_| bad())?;
        Self::from_slice(&bytes).ok_or_else(bad)
    }
}

/// In JSON: lowercase hex, 64 digits for ed25519 or 66 for SM2.
impl utoipa::PartialSchema for PublicKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^(0[23])?[0-9a-f]{64}$"))
            .description(Some("A public key, hex: 32 bytes for ed25519, 33 (a compressed point) for SM2"))
            .into()
    }
}
impl utoipa::ToSchema for PublicKey {}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_hex())
        } else {
            serializer.serialize_bytes(self.as_bytes())
        }
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let s = String::deserialize(deserializer)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = PublicKey;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a public key: 32 bytes (ed25519) or 33 (SM2)")
                }
                fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<PublicKey, E> {
                    PublicKey::from_slice(v).ok_or_else(|| E::invalid_length(v.len(), &self))
                }
                fn visit_borrowed_bytes<E: serde::de::Error>(self, v: &'de [u8]) -> Result<PublicKey, E> {
                    self.visit_bytes(v)
                }
                fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<PublicKey, E> {
                    self.visit_bytes(&v)
                }
            }
            deserializer.deserialize_bytes(V)
        }
    }
}

/// A secret key of either suite. Its Debug output never shows the secret.
#[derive(Clone)]
pub enum SecretKey {
    Ed25519(Ed25519SecretKey),
    Sm2(Sm2SecretKey),
}

/// How an SM2 secret key's hex is marked in key files and on the command line.
pub const SM2_SECRET_PREFIX: &str = "sm2:";

impl SecretKey {
    /// An ed25519 key from its 32-byte seed.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SecretKey::Ed25519(Ed25519SecretKey::from_bytes(bytes))
    }

    /// A key of `suite` from 32 bytes: an ed25519 seed, or an SM2 scalar in [1, n − 2].
    pub fn from_bytes_in(suite: Suite, bytes: [u8; 32]) -> Result<Self, KeyError> {
        Ok(match suite {
            Suite::Ed25519Sha256 => Self::from_bytes(bytes),
            Suite::Sm2Sm3 => SecretKey::Sm2(Sm2SecretKey::from_bytes(bytes)?),
        })
    }

    /// A key of `suite` derived from `seed` (tests, devnets and benchmarks, where keys must be
    /// reproducible): an SM2 scalar out of range is hashed again until one is in range.
    pub fn derive_in(suite: Suite, seed: [u8; 32]) -> Self {
        let mut bytes = seed;
        loop {
            if let Ok(key) = Self::from_bytes_in(suite, bytes) {
                return key;
            }
            bytes = crate::codec::sha256(&bytes).0;
        }
    }

    /// A fresh ed25519 key from the operating system's randomness.
    pub fn generate() -> Self {
        SecretKey::Ed25519(Ed25519SecretKey::generate())
    }

    /// A fresh key of `suite`.
    pub fn generate_in(suite: Suite) -> Self {
        match suite {
            Suite::Ed25519Sha256 => Self::generate(),
            Suite::Sm2Sm3 => SecretKey::Sm2(Sm2SecretKey::generate()),
        }
    }

    pub fn suite(&self) -> Suite {
        match self {
            SecretKey::Ed25519(_) => Suite::Ed25519Sha256,
            SecretKey::Sm2(_) => Suite::Sm2Sm3,
        }
    }

    /// The secret's 32 bytes (an ed25519 seed or an SM2 scalar; [`SecretKey::suite`] says which).
    pub fn to_bytes(&self) -> [u8; 32] {
        match self {
            SecretKey::Ed25519(k) => k.to_bytes(),
            SecretKey::Sm2(k) => k.to_bytes(),
        }
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            SecretKey::Ed25519(k) => PublicKey::Ed25519(k.public_key()),
            SecretKey::Sm2(k) => PublicKey::Sm2(k.public_key()),
        }
    }

    pub fn sign(&self, domain: Domain, message: &[u8]) -> Signature {
        match self {
            SecretKey::Ed25519(k) => k.sign(domain, message),
            SecretKey::Sm2(k) => k.sign(domain, message),
        }
    }

    /// The ed25519 key, if this is one.
    pub fn ed25519(&self) -> Option<&Ed25519SecretKey> {
        match self {
            SecretKey::Ed25519(k) => Some(k),
            SecretKey::Sm2(_) => None,
        }
    }

    /// As in a key file: 64 hex digits for ed25519, `sm2:` and 64 hex digits for SM2.
    pub fn to_hex(&self) -> String {
        match self {
            SecretKey::Ed25519(k) => k.to_hex(),
            SecretKey::Sm2(k) => format!("{SM2_SECRET_PREFIX}{}", k.to_hex()),
        }
    }

    /// From [`SecretKey::to_hex`]'s form; surrounding whitespace ignored. Errors never repeat
    /// the input.
    pub fn from_hex(s: &str) -> Result<Self, KeyError> {
        match s.trim().strip_prefix(SM2_SECRET_PREFIX) {
            Some(rest) => Ok(SecretKey::Sm2(Sm2SecretKey::from_hex(rest)?)),
            None => Ok(SecretKey::Ed25519(Ed25519SecretKey::from_hex(s)?)),
        }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public={:?})", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Either suite's key signs and verifies through the common type; its encodings say its
    /// suite by length, and an ed25519 key encodes as it did before (length-prefixed bytes).
    #[test]
    fn keys_of_both_suites_round_trip_and_say_their_suite() {
        let ed = SecretKey::from_bytes([5; 32]);
        let sm = SecretKey::derive_in(Suite::Sm2Sm3, [5; 32]);
        for key in [&ed, &sm] {
            let public = key.public_key();
            assert_eq!(public.suite(), key.suite());
            let sig = key.sign(Domain::Tx, b"m");
            assert_eq!(public.verify(Domain::Tx, b"m", &sig), Ok(()));
            assert!(public.verify(Domain::Vote, b"m", &sig).is_err());
            let json = serde_json::to_string(&public).unwrap();
            assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), public);
            let bytes = crate::codec::encode(&public);
            assert_eq!(crate::codec::decode_canonical::<PublicKey>(&bytes, 64).unwrap(), public);
            let secret = SecretKey::from_hex(&key.to_hex()).unwrap();
            assert_eq!(secret.public_key(), public);
        }
        assert_eq!(ed.public_key().to_hex().len(), 64);
        assert_eq!(sm.public_key().to_hex().len(), 66);
        assert!(sm.to_hex().starts_with("sm2:"));
        // The old encoding of an ed25519 key: its 32 bytes, length-prefixed.
        let old = crate::codec::encode(&serde_bytes_like(ed.public_key().as_bytes()));
        assert_eq!(crate::codec::encode(&ed.public_key()), old);
        // A signature made by one suite never verifies under the other's key.
        let sig = sm.sign(Domain::Tx, b"m");
        assert!(ed.public_key().verify(Domain::Tx, b"m", &sig).is_err());
        // Lengths of neither suite are refused.
        for len in [0, 31, 34, 65] {
            assert!(PublicKey::from_slice(&vec![2u8; len]).is_none(), "{len} bytes");
            assert!(hex::encode(vec![2u8; len]).parse::<PublicKey>().is_err());
        }
        assert!(crate::codec::decode_canonical::<PublicKey>(&crate::codec::encode(&serde_bytes_like(&[2; 31])), 64)
            .is_err());
    }

    #[test]
    fn suites_parse_by_name() {
        for suite in [Suite::Ed25519Sha256, Suite::Sm2Sm3] {
            assert_eq!(suite.as_str().parse::<Suite>(), Ok(suite));
            assert_eq!(serde_json::to_string(&suite).unwrap(), format!("\"{suite}\""));
        }
        assert!("sm2".parse::<Suite>().is_err());
    }

    /// Bytes serialised as serde bytes (what the fixed-size key types always did).
    fn serde_bytes_like(b: &[u8]) -> impl Serialize + '_ {
        struct B<'a>(&'a [u8]);
        impl Serialize for B<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        B(b)
    }
}
