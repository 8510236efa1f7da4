//! SM2 signatures and SM3 hashing, the national standards a chain's `sm2-sm3` suite is built on.
//!
//! - SM2 (GM/T 0003-2012, GB/T 32918): signatures over `Z ‖ message`, where `Z` is the SM3 hash of
//!   the signer's distinguishing identifier, the curve's parameters and the public key (GB/T
//!   32918.2 §5.5). Huxin signs with the standard default identifier [`DEFAULT_ID`], as GB/T
//!   35276-2017 prescribes when none is agreed, so any conforming implementation verifies.
//! - SM3 (GM/T 0004-2012, GB/T 32905): the 256-bit hash.
//!
//! The arithmetic is RustCrypto's (`sm2`, `sm3`); nothing here touches the curve by hand. Keys are
//! the 33-byte SEC1 compressed point; signatures are `r ‖ s`, 32 bytes each, big-endian.
//! Signing is deterministic (the nonce comes from RFC 6979 over SM3), so one key signs one
//! message one way. Verification refuses `r` or `s` outside `[1, n − 1]`, a point off the curve
//! and the point at infinity.

use std::fmt;
use std::str::FromStr;

use ::sm2::dsa::signature::Signer;
use ::sm2::dsa::signature::Verifier;
use ::sm2::elliptic_curve::sec1::ToEncodedPoint;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sm3::{Digest, Sm3};

use super::{getrandom_fill, secret_from_hex, signing_input, Domain, KeyError, Signature, SignatureError};
use crate::id::{fixed_bytes, Hash32, IdError};

/// The distinguishing identifier every Huxin SM2 signature uses: the standard default,
/// `1234567812345678` (GB/T 35276-2017 §10; GM/T 0009-2012 §10).
pub const DEFAULT_ID: &str = "1234567812345678";

fixed_bytes!(
    /// An SM2 public key: the SEC1 compressed point (`02` or `03`, then x), 33 bytes.
    Sm2PublicKey, 33
);

/// SM3 of `bytes`.
pub fn sm3(bytes: &[u8]) -> Hash32 {
    Hash32(Sm3::digest(bytes).into())
}

impl Sm2PublicKey {
    /// The key as `sm2`'s verifying key, its `Z` computed for [`DEFAULT_ID`].
    fn verifying_key(&self) -> Result<::sm2::dsa::VerifyingKey, SignatureError> {
        ::sm2::dsa::VerifyingKey::from_sec1_bytes(DEFAULT_ID, &self.0).map_err(|_| SignatureError::BadSm2Key(*self))
    }

    /// Verify `signature` over `message` in `domain`.
    pub fn verify(&self, domain: Domain, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        self.verify_raw(&signing_input(domain, message), signature)
    }

    /// Verify a signature over exactly `signed` (no domain tag): the standards' own examples.
    fn verify_raw(&self, signed: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        let key = self.verifying_key()?;
        let sig = ::sm2::dsa::Signature::from_slice(&signature.0).map_err(|_| SignatureError::Sm2Mismatch(*self))?;
        key.verify(signed, &sig).map_err(|_| SignatureError::Sm2Mismatch(*self))
    }

    /// Verify a W3C Data Integrity proof's signature (Huxin's SM2 cryptosuite): over the proof's
    /// 64-byte hash data, with no domain tag (see [`crate::vc`]).
    pub fn verify_data_integrity(&self, hash_data: &[u8; 64], signature: &Signature) -> Result<(), SignatureError> {
        self.verify_raw(hash_data, signature)
    }

    /// The uncompressed SEC1 form (`04 ‖ x ‖ y`, 65 bytes), as other SM2 tools often want it.
    pub fn to_uncompressed(&self) -> Result<[u8; 65], SignatureError> {
        let key = self.verifying_key()?;
        let point = key.as_affine().to_encoded_point(false);
        <[u8; 65]>::try_from(point.as_bytes()).map_err(|_| SignatureError::BadSm2Key(*self))
    }
}

/// An SM2 secret key (a scalar in `[1, n − 2]`). Its Debug output never shows the secret.
#[derive(Clone)]
pub struct Sm2SecretKey(::sm2::dsa::SigningKey);

impl Sm2SecretKey {
    /// The key whose scalar is `bytes` (big-endian). Zero, `n − 1` (for which SM2's `(1 + d)⁻¹`
    /// does not exist) and anything at or above the order `n` make no key.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, KeyError> {
        let key =
            ::sm2::dsa::SigningKey::from_bytes(DEFAULT_ID, &bytes.into()).map_err(|_| KeyError::Sm2SecretOutOfRange)?;
        let d: ::sm2::Scalar = *key.as_nonzero_scalar().as_ref();
        if bool::from((d + ::sm2::Scalar::ONE).is_zero()) {
            return Err(KeyError::Sm2SecretOutOfRange);
        }
        Ok(Self(key))
    }

    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Self {
        loop {
            let mut seed = [0u8; 32];
            getrandom_fill(&mut seed);
            // A 32-byte string falls outside [1, n − 2] with probability about 2⁻³²; draw again.
            if let Ok(key) = Self::from_bytes(seed) {
                return key;
            }
        }
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&self.0.to_bytes());
        bytes
    }

    pub fn public_key(&self) -> Sm2PublicKey {
        let point = self.0.verifying_key().as_affine().to_encoded_point(true);
        let mut key = [0u8; 33];
        key.copy_from_slice(point.as_bytes());
        Sm2PublicKey(key)
    }

    /// Sign `message` in `domain`.
    pub fn sign(&self, domain: Domain, message: &[u8]) -> Signature {
        self.sign_raw(&signing_input(domain, message))
    }

    /// Sign a W3C Data Integrity proof (Huxin's SM2 cryptosuite): the 64 bytes of its hash data,
    /// two SM3 digests, with no domain tag; no Huxin message can collide with it (each starts
    /// with its domain's tag).
    pub fn sign_data_integrity(&self, hash_data: &[u8; 64]) -> Signature {
        self.sign_raw(hash_data)
    }

    fn sign_raw(&self, signed: &[u8]) -> Signature {
        // With the RFC 6979 nonce, signing fails only if r = 0 or r + k = n, or s = 0: each has
        // probability about 2⁻²⁵⁶ for a key in range.
        let sig: ::sm2::dsa::Signature = self.0.try_sign(signed).expect("SM2 signing fails with probability 2^-256");
        let mut bytes = [0u8; 64];
        bytes.copy_from_slice(&sig.to_bytes());
        Signature(bytes)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    pub fn from_hex(s: &str) -> Result<Self, KeyError> {
        Self::from_bytes(secret_from_hex(s)?)
    }
}

impl fmt::Debug for Sm2SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sm2SecretKey(public={})", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        hex::decode(s).expect("hex").try_into().expect("32 bytes")
    }

    /// GM/T 0004-2012 Appendix A: the two examples.
    #[test]
    fn sm3_matches_the_standard_examples() {
        assert_eq!(sm3(b"abc").to_hex(), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        assert_eq!(
            sm3("abcd".repeat(16).as_bytes()).to_hex(),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    /// GM/T 0003.5-2012 Appendix A (the recommended curve): the key pair, and the signature of
    /// "message digest" under the default identifier, which was made with the example's nonce.
    #[test]
    fn sm2_verifies_the_standard_example() {
        let secret =
            Sm2SecretKey::from_bytes(hex32("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"))
                .expect("the example's key is in range");
        let public = secret.public_key();
        let uncompressed = public.to_uncompressed().expect("a curve point");
        assert_eq!(
            hex::encode(uncompressed),
            "04\
             09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020\
             ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
        );
        let signature = Signature(
            hex::decode(
                "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3\
                 b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa",
            )
            .expect("hex")
            .try_into()
            .expect("64 bytes"),
        );
        assert_eq!(public.verify_raw(b"message digest", &signature), Ok(()));
        assert!(public.verify_raw(b"message digesT", &signature).is_err());
        // Our own signature of the same message verifies too, and differs from the example's,
        // whose nonce was chosen by hand rather than by RFC 6979.
        let ours = secret.sign_raw(b"message digest");
        assert_eq!(public.verify_raw(b"message digest", &ours), Ok(()));
        assert_ne!(ours, signature);
    }

    #[test]
    fn signatures_are_domain_separated_and_deterministic() {
        let key = Sm2SecretKey::from_bytes([7u8; 32]).expect("in range");
        let sig = key.sign(Domain::Tx, b"hello");
        assert_eq!(sig, key.sign(Domain::Tx, b"hello"));
        assert_eq!(key.public_key().verify(Domain::Tx, b"hello", &sig), Ok(()));
        assert_eq!(
            key.public_key().verify(Domain::Query, b"hello", &sig),
            Err(SignatureError::Sm2Mismatch(key.public_key()))
        );
        assert!(key.public_key().verify(Domain::Tx, b"hellp", &sig).is_err());
        let other = Sm2SecretKey::from_bytes([8u8; 32]).expect("in range");
        assert!(other.public_key().verify(Domain::Tx, b"hello", &sig).is_err());
    }

    #[test]
    fn out_of_range_secrets_make_no_key() {
        // The order n of the SM2 curve, and n − 1, n − 2.
        let n = hex32("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123");
        let minus = |k: u8| {
            let mut b = n;
            b[31] -= k;
            b
        };
        assert_eq!(Sm2SecretKey::from_bytes([0; 32]).err(), Some(KeyError::Sm2SecretOutOfRange));
        assert_eq!(Sm2SecretKey::from_bytes(n).err(), Some(KeyError::Sm2SecretOutOfRange));
        assert_eq!(Sm2SecretKey::from_bytes([0xff; 32]).err(), Some(KeyError::Sm2SecretOutOfRange));
        assert_eq!(Sm2SecretKey::from_bytes(minus(1)).err(), Some(KeyError::Sm2SecretOutOfRange));
        let highest = Sm2SecretKey::from_bytes(minus(2)).expect("n − 2 is a key");
        let sig = highest.sign(Domain::Tx, b"x");
        assert_eq!(highest.public_key().verify(Domain::Tx, b"x", &sig), Ok(()));
        assert_eq!(Sm2SecretKey::from_hex(&hex::encode(n)).err(), Some(KeyError::Sm2SecretOutOfRange));
        assert!(matches!(Sm2SecretKey::from_hex("zz"), Err(KeyError::NotHex(_))));
    }

    #[test]
    fn malformed_keys_and_signatures_are_refused_not_panicked_on() {
        let key = Sm2SecretKey::from_bytes([9u8; 32]).expect("in range");
        let sig = key.sign(Domain::Tx, b"m");
        // Not a compressed point: wrong prefix, the uncompressed prefix, x off the curve.
        let mut bad_prefix = key.public_key();
        bad_prefix.0[0] = 0x04;
        assert_eq!(bad_prefix.verify(Domain::Tx, b"m", &sig), Err(SignatureError::BadSm2Key(bad_prefix)));
        let zero = Sm2PublicKey([0; 33]);
        assert_eq!(zero.verify(Domain::Tx, b"m", &sig), Err(SignatureError::BadSm2Key(zero)));
        let mut off_curve = Sm2PublicKey([0xff; 33]);
        off_curve.0[0] = 0x02;
        assert!(off_curve.verify(Domain::Tx, b"m", &sig).is_err());
        // r or s zero, or at or above n.
        let public = key.public_key();
        let mut zero_r = sig;
        zero_r.0[..32].fill(0);
        assert_eq!(public.verify(Domain::Tx, b"m", &zero_r), Err(SignatureError::Sm2Mismatch(public)));
        let mut big_s = sig;
        big_s.0[32..].fill(0xff);
        assert_eq!(public.verify(Domain::Tx, b"m", &big_s), Err(SignatureError::Sm2Mismatch(public)));
    }

    #[test]
    fn the_public_key_is_the_compressed_point_and_round_trips() {
        let key = Sm2SecretKey::from_bytes([3u8; 32]).expect("in range");
        let public = key.public_key();
        assert!(matches!(public.0[0], 0x02 | 0x03));
        assert_eq!(public.to_hex().parse::<Sm2PublicKey>(), Ok(public));
        assert_eq!(Sm2SecretKey::from_hex(&key.to_hex()).expect("round trip").public_key(), public);
        assert!(!format!("{key:?}").contains(&key.to_hex()));
    }
}
