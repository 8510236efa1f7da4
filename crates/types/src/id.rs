//! Identifier newtypes. Fixed-size byte identifiers are lowercase hex in JSON and raw bytes in the
//! canonical encoding.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::limits::CHAIN_ID_BYTES_MAX;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("expected {expected} hex characters, got {got:?}")]
    BadHex { expected: usize, got: String },
    #[error("USCC must be 18 characters, got {0}")]
    UsccLength(usize),
    #[error("USCC character {ch:?} at position {position} is not in 0-9A-HJ-NP-RT-UW-Y")]
    UsccCharacter { position: usize, ch: char },
    #[error("USCC check character is {got:?}; GB 32100-2015 expects {expected:?}")]
    UsccCheck { expected: char, got: char },
    #[error("region code must be 6 digits (GB/T 2260) with a non-zero province part, got {0:?}")]
    RegionCode(String),
    #[error("chain id must be 1..={max} characters of [a-z0-9-], got {got:?}")]
    ChainId { max: usize, got: String },
}

/// Serialises fixed byte arrays: hex when human readable, raw bytes otherwise.
macro_rules! fixed_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            pub const LEN: usize = $len;
            pub const ZERO: Self = Self([0u8; $len]);
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                <[u8; $len]>::try_from(bytes).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let bad = || IdError::BadHex { expected: $len * 2, got: s.chars().take(80).collect() };
                let bytes = hex::decode(s).map_err(|_| bad())?;
                Self::from_slice(&bytes).ok_or_else(bad)
            }
        }

        /// In JSON: lowercase hex.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(format!("^[0-9a-f]{{{}}}$", $len * 2)))
                    .description(Some(format!("{} bytes, hex", $len)))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    serializer.serialize_str(&self.to_hex())
                } else {
                    serializer.serialize_bytes(&self.0)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                if deserializer.is_human_readable() {
                    let s = String::deserialize(deserializer)?;
                    s.parse().map_err(serde::de::Error::custom)
                } else {
                    struct V;
                    impl<'de> serde::de::Visitor<'de> for V {
                        type Value = $name;
                        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                            write!(f, "{} bytes", $len)
                        }
                        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<$name, E> {
                            $name::from_slice(v).ok_or_else(|| E::invalid_length(v.len(), &self))
                        }
                        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<$name, A::Error> {
                            let mut out = [0u8; $len];
                            for (i, slot) in out.iter_mut().enumerate() {
                                *slot = seq.next_element()?.ok_or_else(|| serde::de::Error::invalid_length(i, &self))?;
                            }
                            Ok($name(out))
                        }
                    }
                    deserializer.deserialize_bytes(V)
                }
            }
        }
    };
}
pub(crate) use fixed_bytes;

fixed_bytes!(
    /// A SHA-256 digest.
    Hash32, 32
);
fixed_bytes!(
    /// Hash of a block header (the consensus value id).
    BlockHash, 32
);
fixed_bytes!(
    /// Hash of a transaction body: unique per (signer, nonce).
    TxHash, 32
);
fixed_bytes!(
    /// A member organisation: the first 20 bytes of the key's suite's hash (SHA-256 or SM3) of
    /// "huxin/v1/member" ‖ its first key.
    MemberId, 20
);

impl MemberId {
    /// The member id derived from a member's registration key.
    pub fn from_key(key: &crate::crypto::PublicKey) -> Self {
        let digest = key.suite().hash_tagged(b"huxin/v1/member", key.as_bytes());
        let mut id = [0u8; 20];
        id.copy_from_slice(&digest.0[..20]);
        MemberId(id)
    }
}

/// A block height. Height 0 is genesis; the first block is height 1.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Debug for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Height({})", self.0)
    }
}

/// Unix time in milliseconds.
#[derive(
    Clone, Copy, Default, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct TimestampMs(pub u64);

/// The network's name, in every transaction and header: `[a-z0-9-]{1,64}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ChainId(String);

impl ChainId {
    pub fn new(s: &str) -> Result<Self, IdError> {
        let ok = !s.is_empty()
            && s.len() <= CHAIN_ID_BYTES_MAX
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::ChainId { max: CHAIN_ID_BYTES_MAX, got: s.chars().take(80).collect() })
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for ChainId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ChainId::new(&s).map_err(serde::de::Error::custom)
    }
}

/// A region code's shape as [`RegionCode::new`] accepts it (six digits, a province from 11 to
/// 82), unanchored so a larger pattern can embed it.
pub const REGION_PATTERN: &str = "(1[1-9]|[2-7][0-9]|8[0-2])[0-9]{4}";

/// A 6-digit administrative division code (GB/T 2260), e.g. 330100 for Hangzhou.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct RegionCode(u32);

impl RegionCode {
    pub fn new(code: u32) -> Result<Self, IdError> {
        // Province part 11..=82; the code is exactly six digits.
        if (110_000..=829_999).contains(&code) {
            Ok(Self(code))
        } else {
            Err(IdError::RegionCode(code.to_string()))
        }
    }
    pub fn get(&self) -> u32 {
        self.0
    }
}
impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}
impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({:06})", self.0)
    }
}
impl FromStr for RegionCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::RegionCode(s.chars().take(20).collect()));
        }
        s.parse::<u32>().map_err(|_| IdError::RegionCode(s.to_owned())).and_then(RegionCode::new)
    }
}
impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = u32::deserialize(d)?;
        RegionCode::new(code).map_err(serde::de::Error::custom)
    }
}

/// The 18-character Unified Social Credit Code (统一社会信用代码, GB 32100-2015).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Uscc(String);

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A USCC's shape (its check character, the 18th, no pattern can state: the schema names the
/// rule as its format, `uscc`).
pub const USCC_PATTERN: &str = "^[0-9A-HJ-NP-RTUWXY]{18}$";

/// In JSON: the code as a string, checked as [`Uscc::parse`] checks it.
impl utoipa::PartialSchema for Uscc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(USCC_PATTERN))
            .format(Some(utoipa::openapi::SchemaFormat::Custom("uscc".into())))
            .description(Some(
                "The 18-character Unified Social Credit Code (统一社会信用代码, GB 32100-2015); the 18th \
                 character is the check character of the first 17 (format `uscc`).",
            ))
            .into()
    }
}
impl utoipa::ToSchema for Uscc {}

impl Uscc {
    /// The check character GB 32100-2015 expects for the first 17 characters
    /// (weights 3^(i-1) mod 31; check = (31 − Σ mod 31) mod 31).
    pub fn expected_check(first17: &str) -> Result<char, IdError> {
        let mut sum: u32 = 0;
        let mut weight: u32 = 1;
        for (position, ch) in first17.chars().enumerate() {
            let value =
                USCC_ALPHABET.iter().position(|&c| c as char == ch).ok_or(IdError::UsccCharacter { position, ch })?
                    as u32;
            sum += value * weight;
            weight = (weight * 3) % 31;
        }
        let check = (31 - sum % 31) % 31;
        Ok(USCC_ALPHABET[check as usize] as char)
    }

    /// Validate an 18-character code with its check character.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let count = s.chars().count();
        if count != 18 {
            return Err(IdError::UsccLength(count));
        }
        // Split by character, not byte: a multi-byte character must be refused, never sliced.
        let (split, got) = s.char_indices().nth(17).expect("18 characters counted above");
        let expected = Self::expected_check(&s[..split])?;
        if got != expected {
            return Err(IdError::UsccCheck { expected, got });
        }
        Ok(Self(s.to_owned()))
    }

    /// Build a valid code from 17 characters by appending the check character.
    pub fn with_check(first17: &str) -> Result<Self, IdError> {
        let check = Self::expected_check(first17)?;
        Self::parse(&format!("{first17}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl std::str::FromStr for Uscc {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uscc({})", self.0)
    }
}
impl<'de> Deserialize<'de> for Uscc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Uscc::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The proleptic Gregorian date (year, month 1–12, day 1–31) of a count of days since
/// 1970-01-01 (H. Hinnant's civil-from-days, integers only): ledger time as a calendar date,
/// with no clock and no floats.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_check_character_per_gb_32100() {
        // A published example code (国家市场监督管理总局's format sample).
        assert!(Uscc::parse("91350100M000100Y43").is_ok());
        let err = Uscc::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(err, IdError::UsccCheck { expected: '3', got: '4' });
        assert_eq!(Uscc::parse("91350100M000100Y4").unwrap_err(), IdError::UsccLength(17));
        assert!(matches!(
            Uscc::parse("91350100M000100I43").unwrap_err(),
            IdError::UsccCharacter { position: 15, ch: 'I' }
        ));
    }

    /// Regression: 18 characters with a multi-byte one used to be sliced at byte 17 and panic
    /// (over HTTP, gossip, proposals and sync).
    #[test]
    fn uscc_with_multibyte_characters_is_refused_not_sliced() {
        assert!(matches!(
            Uscc::parse("0000000000000000é0").unwrap_err(),
            IdError::UsccCharacter { position: 16, ch: 'é' }
        ));
        assert!(matches!(Uscc::parse("91350100M000100Y4é").unwrap_err(), IdError::UsccCheck { got: 'é', .. }));
        assert!(matches!(
            Uscc::parse("统一社会信用代码统一社会信用代码统一").unwrap_err(),
            IdError::UsccCharacter { .. }
        ));
    }

    #[test]
    fn region_codes_are_six_digits() {
        assert_eq!("330100".parse::<RegionCode>().unwrap().to_string(), "330100");
        assert!("33010".parse::<RegionCode>().is_err());
        assert!("000100".parse::<RegionCode>().is_err());
        assert!("3301000".parse::<RegionCode>().is_err());
    }

    #[test]
    fn chain_id_charset() {
        assert!(ChainId::new("huxin-devnet-1").is_ok());
        assert!(ChainId::new("").is_err());
        assert!(ChainId::new("Huxin").is_err());
        assert!(ChainId::new(&"a".repeat(65)).is_err());
    }
}
