//! The wire and WAL codec for Malachite's envelope types: borsh (Malachite's `borsh` feature makes
//! its envelopes serialisable when our context types are). Our block and transaction bytes inside
//! them stay bincode. Decoding refuses input larger than [`MESSAGE_BYTES_MAX`] before touching it,
//! and borsh refuses trailing bytes.

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use malachitebft_codec::Codec;

/// Largest consensus or sync message accepted: a full block plus envelope slack, below
/// Malachite's 10 MiB `rpc_max_size`.
pub const MESSAGE_BYTES_MAX: usize = huxin_types::limits::BLOCK_BYTES_MAX + 1024 * 1024;

#[derive(Clone, Copy, Debug, Default)]
pub struct BorshCodec;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("message is {got} bytes; at most {max} are accepted")]
    TooLarge { got: usize, max: usize },
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl<T> Codec<T> for BorshCodec
where
    T: BorshSerialize + BorshDeserialize + Send + Sync + 'static,
{
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<T, CodecError> {
        if bytes.len() > MESSAGE_BYTES_MAX {
            return Err(CodecError::TooLarge { got: bytes.len(), max: MESSAGE_BYTES_MAX });
        }
        borsh::from_slice(&bytes).map_err(|e| CodecError::Malformed(e.to_string()))
    }

    fn encode(&self, msg: &T) -> Result<Bytes, CodecError> {
        borsh::to_vec(msg).map(Bytes::from).map_err(|e| CodecError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Address, Height, ProposalPart};
    use malachitebft_core_types::Round;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let part = ProposalPart::Init {
            height: Height(3),
            round: Round::new(1),
            pol_round: Round::Nil,
            proposer: Address([7; 20]),
        };
        let bytes = Codec::<ProposalPart>::encode(&BorshCodec, &part).unwrap();
        let back: ProposalPart = BorshCodec.decode(bytes.clone()).unwrap();
        assert_eq!(back, part);
        let mut trailing = bytes.to_vec();
        trailing.push(0);
        assert!(Codec::<ProposalPart>::decode(&BorshCodec, Bytes::from(trailing)).is_err());
        assert!(Codec::<ProposalPart>::decode(&BorshCodec, Bytes::from_static(&[9, 9, 9])).is_err());
        let huge = Bytes::from(vec![0u8; MESSAGE_BYTES_MAX + 1]);
        assert!(matches!(Codec::<ProposalPart>::decode(&BorshCodec, huge), Err(CodecError::TooLarge { .. })));
    }
}
