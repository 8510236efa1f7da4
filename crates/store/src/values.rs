//! How state values are stored: each key's newest value once, in `state_latest` with its version,
//! and the versions it superseded in `jmt_values` (key hash ‖ version, big-endian → value), which
//! reads at older versions seek. A value moves to the history only when a later version replaces
//! it, so a key written once (a document's anchor) is stored once.
//!
//! A stored value is a tag byte, then:
//! - `0` deleted, `1` the value: a history entry, or a latest entry written before latest
//!   entries carried their version (its history copy was written beside it then);
//! - `2` deleted, `3` the value, after the version (8 bytes, big-endian): a latest entry.

use jmt::{KeyHash, OwnedValue, Version};

const DELETED: u8 = 0;
const VALUE: u8 = 1;
const DELETED_AT: u8 = 2;
const VALUE_AT: u8 = 3;

/// A key's entry in `state_latest`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Latest {
    /// The newest value and the version that wrote it.
    At { version: Version, value: Option<OwnedValue> },
    /// An entry written before latest entries carried their version: its value is the newest,
    /// and `jmt_values` has a copy at its version.
    Unversioned(Option<OwnedValue>),
}

pub(crate) fn encode_latest(version: Version, value: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + value.map_or(0, <[u8]>::len));
    out.push(if value.is_some() { VALUE_AT } else { DELETED_AT });
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(value.unwrap_or_default());
    out
}

pub(crate) fn decode_latest(bytes: &[u8]) -> Result<Latest, String> {
    let versioned = |rest: &[u8]| -> Result<(Version, Vec<u8>), String> {
        let version = rest.get(..8).ok_or("a latest value shorter than its version")?;
        Ok((Version::from_be_bytes(version.try_into().map_err(|_| "version")?), rest[8..].to_vec()))
    };
    match bytes.split_first() {
        Some((&DELETED_AT, rest)) => Ok(Latest::At { version: versioned(rest)?.0, value: None }),
        Some((&VALUE_AT, rest)) => {
            let (version, value) = versioned(rest)?;
            Ok(Latest::At { version, value: Some(value) })
        }
        _ => decode_history(bytes).map(Latest::Unversioned),
    }
}

pub(crate) fn encode_history(value: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + value.map_or(0, <[u8]>::len));
    out.push(if value.is_some() { VALUE } else { DELETED });
    out.extend_from_slice(value.unwrap_or_default());
    out
}

pub(crate) fn decode_history(bytes: &[u8]) -> Result<Option<OwnedValue>, String> {
    match bytes.split_first() {
        Some((&VALUE, rest)) => Ok(Some(rest.to_vec())),
        Some((&DELETED, _)) => Ok(None),
        _ => Err(format!("a stored state value has the unknown tag {:?}", bytes.first())),
    }
}

/// The `jmt_values` key of `key_hash` at `version`.
pub(crate) fn history_key(key_hash: KeyHash, version: Version) -> [u8; 40] {
    let mut key = [0; 40];
    key[..32].copy_from_slice(&key_hash.0);
    key[32..].copy_from_slice(&version.to_be_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_and_history_entries_round_trip_and_old_entries_still_read() {
        for (version, value) in [(0, None), (7, Some(b"v".to_vec())), (u64::MAX, Some(Vec::new()))] {
            let stored = encode_latest(version, value.as_deref());
            assert_eq!(decode_latest(&stored).unwrap(), Latest::At { version, value: value.clone() });
            assert_eq!(decode_history(&encode_history(value.as_deref())).unwrap(), value);
        }
        assert_eq!(decode_latest(&[1, 9]).unwrap(), Latest::Unversioned(Some(vec![9])));
        assert_eq!(decode_latest(&[0]).unwrap(), Latest::Unversioned(None));
        assert!(decode_latest(&[3, 0, 0]).is_err(), "a version cut short");
        assert!(decode_latest(&[]).is_err());
        assert!(decode_history(&[3]).is_err(), "a latest tag is no history entry");
    }
}
