//! The canonical encoding: bincode 2 (standard configuration: little-endian, variable-length
//! integers) over serde. Decoding refuses input longer than the caller's bound before allocating,
//! refuses trailing bytes, and re-encodes to refuse any non-canonical spelling of a value.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::id::Hash32;

/// Why bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("input is {got} bytes; at most {max} bytes are accepted")]
    TooLarge { got: usize, max: usize },
    #[error("malformed encoding: {0}")]
    Malformed(String),
    #[error("{trailing} trailing bytes after the value")]
    TrailingBytes { trailing: usize },
    #[error("the bytes decode, but are not the canonical encoding of the value")]
    NotCanonical,
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// The canonical bytes of `value`.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own types into a Vec cannot fail: no type here has a fallible Serialize.
    bincode::serde::encode_to_vec(value, config()).expect("canonical encoding of an in-memory value cannot fail")
}

/// Decode `bytes` as a `T`, accepting only its canonical encoding and at most `max_bytes`.
pub fn decode_canonical<T: Serialize + DeserializeOwned>(bytes: &[u8], max_bytes: usize) -> Result<T, DecodeError> {
    let value: T = decode_stored(bytes, max_bytes)?;
    if encode(&value) != bytes {
        return Err(DecodeError::NotCanonical);
    }
    Ok(value)
}

/// Decode bytes this node wrote itself (state records, stored blocks): bounded and without
/// trailing bytes, but without the re-encoding check of [`decode_canonical`].
pub fn decode_stored<T: DeserializeOwned>(bytes: &[u8], max_bytes: usize) -> Result<T, DecodeError> {
    let (value, read) = decode_front(bytes, max_bytes)?;
    if read != bytes.len() {
        return Err(DecodeError::TrailingBytes { trailing: bytes.len() - read });
    }
    Ok(value)
}

/// Decode the `T` at the front of bytes this node wrote itself, ignoring what follows it: the
/// header of a stored block, without decoding its transactions (a struct encodes its fields in
/// order, and a block's header comes first).
pub fn decode_stored_front<T: DeserializeOwned>(bytes: &[u8], max_bytes: usize) -> Result<T, DecodeError> {
    decode_front(bytes, max_bytes).map(|(value, _)| value)
}

/// The `T` at the front of at most `max_bytes` bytes, and how many bytes it took.
fn decode_front<T: DeserializeOwned>(bytes: &[u8], max_bytes: usize) -> Result<(T, usize), DecodeError> {
    if bytes.len() > max_bytes {
        return Err(DecodeError::TooLarge { got: bytes.len(), max: max_bytes });
    }
    bincode::serde::decode_from_slice(bytes, config().with_limit::<{ crate::limits::BLOCK_BYTES_MAX + 1024 }>())
        .map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// The length of `value`'s canonical encoding, without allocating it.
pub fn encoded_len<T: Serialize>(value: &T) -> usize {
    let mut writer = bincode::enc::write::SizeWriter::default();
    match bincode::serde::encode_into_writer(value, &mut writer, config()) {
        Ok(()) => writer.bytes_written,
        Err(_) => usize::MAX,
    }
}

/// Plain SHA-256, whatever the chain's suite: documents' hashes and the network's own message
/// ids. The ledger's hashes are its suite's ([`crate::crypto::Suite::hash_tagged`]).
pub fn sha256(bytes: &[u8]) -> Hash32 {
    Hash32(Sha256::digest(bytes).into())
}
