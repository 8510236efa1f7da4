//! The wire and WAL codec for Malachite's envelope types: borsh (Malachite's `borsh` feature makes
//! its envelopes serialisable when our context types are), and a hand-written borsh layout for the
//! validator proof, which has none upstream. Our block and transaction bytes inside them stay
//! bincode. Decoding is total: it refuses input larger than [`MESSAGE_BYTES_MAX`] before touching
//! it, borsh refuses trailing bytes, and every failure is a typed [`CodecError`].

use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use malachitebft_codec::{Codec, HasEncodedLen};
use malachitebft_core_consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_core_types::{
    ExtendedCommitCertificate, ExtendedCommitSignature, PolkaCertificate, Round, SignedExtension, ValidatorProof,
};
use malachitebft_engine::util::streaming::StreamMessage;
use malachitebft_sync as sync;
use malachitebft_sync::ValueResponse;
use prometheus_client::metrics::counter::Counter;

use crate::context::{Address, Height, HuxinContext, ProposalPart, Signature, ValueId};

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

/// Messages from peers (or the WAL) that did not decode; the engine drops each. Exported as
/// `huxin_consensus_messages_malformed_total` (see `huxin_consensus::status::Metrics::register`).
pub static MESSAGES_MALFORMED: LazyLock<Counter> = LazyLock::new(Counter::default);

fn decode_bounded<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, CodecError> {
    let result = if bytes.len() > MESSAGE_BYTES_MAX {
        Err(CodecError::TooLarge { got: bytes.len(), max: MESSAGE_BYTES_MAX })
    } else {
        borsh::from_slice(bytes).map_err(|e| CodecError::Malformed(e.to_string()))
    };
    if result.is_err() {
        MESSAGES_MALFORMED.inc();
    }
    result
}

fn encode_borsh<T: BorshSerialize>(msg: &T) -> Result<Bytes, CodecError> {
    borsh::to_vec(msg).map(Bytes::from).map_err(|e| CodecError::Malformed(e.to_string()))
}

/// One `Codec` impl per envelope type the engine sends, stores or syncs (a blanket impl over
/// every borsh type would collide with the hand-written ones below).
macro_rules! borsh_codec {
    ($($ty:ty),* $(,)?) => {$(
        impl Codec<$ty> for BorshCodec {
            type Error = CodecError;
            fn decode(&self, bytes: Bytes) -> Result<$ty, CodecError> {
                decode_bounded(&bytes)
            }
            fn encode(&self, msg: &$ty) -> Result<Bytes, CodecError> {
                encode_borsh(msg)
            }
        }
    )*};
}

borsh_codec!(
    ProposalPart,
    SignedConsensusMsg<HuxinContext>,
    LivenessMsg<HuxinContext>,
    StreamMessage<ProposalPart>,
    ProposedValue<HuxinContext>,
    PolkaCertificate<HuxinContext>,
    sync::Status<HuxinContext>,
    sync::Request<HuxinContext>,
);

/// Sync responses carry extended commit certificates, which have no borsh form upstream: they
/// travel as this mirror (same fields, same order). Decoding builds it owned; encoding (and
/// measuring) goes through [`WireResponseRef`], which borrows the blocks instead of copying them.
#[derive(BorshDeserialize)]
struct WireResponse {
    start_height: Height,
    values: Vec<WireDecidedValue>,
}

#[derive(BorshDeserialize)]
struct WireDecidedValue {
    value_bytes: Vec<u8>,
    height: Height,
    round: Round,
    value_id: ValueId,
    signatures: Vec<(Address, Signature, Option<SignedExtension<HuxinContext>>)>,
}

/// [`WireResponse`]'s layout over borrowed fields (a `&[u8]` encodes as a `Vec<u8>` does).
#[derive(BorshSerialize)]
struct WireResponseRef<'a> {
    start_height: Height,
    values: Vec<WireDecidedValueRef<'a>>,
}

#[derive(BorshSerialize)]
struct WireDecidedValueRef<'a> {
    value_bytes: &'a [u8],
    height: Height,
    round: Round,
    value_id: ValueId,
    signatures: Vec<(Address, Signature, Option<&'a SignedExtension<HuxinContext>>)>,
}

impl<'a> WireResponseRef<'a> {
    fn of(response: &'a sync::Response<HuxinContext>) -> Self {
        let sync::Response::ValueResponse(r) = response;
        let values = r
            .values
            .iter()
            .map(|v| WireDecidedValueRef {
                value_bytes: &v.value_bytes,
                height: v.certificate.height,
                round: v.certificate.round,
                value_id: v.certificate.value_id,
                signatures: v
                    .certificate
                    .commit_signatures
                    .iter()
                    .map(|s| (s.address, s.signature, s.extension.as_ref()))
                    .collect(),
            })
            .collect();
        WireResponseRef { start_height: r.start_height, values }
    }
}

impl WireResponse {
    fn into_response(self) -> sync::Response<HuxinContext> {
        let values = self
            .values
            .into_iter()
            .map(|v| {
                let certificate = ExtendedCommitCertificate {
                    height: v.height,
                    round: v.round,
                    value_id: v.value_id,
                    commit_signatures: v
                        .signatures
                        .into_iter()
                        .map(|(address, signature, extension)| {
                            ExtendedCommitSignature::new(address, signature, extension)
                        })
                        .collect(),
                };
                sync::RawDecidedValue::new(Bytes::from(v.value_bytes), certificate)
            })
            .collect();
        sync::Response::ValueResponse(ValueResponse::new(self.start_height, values))
    }
}

impl Codec<sync::Response<HuxinContext>> for BorshCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<sync::Response<HuxinContext>, CodecError> {
        decode_bounded::<WireResponse>(&bytes).map(WireResponse::into_response)
    }

    fn encode(&self, msg: &sync::Response<HuxinContext>) -> Result<Bytes, CodecError> {
        encode_borsh(&WireResponseRef::of(msg))
    }
}

impl HasEncodedLen<sync::Response<HuxinContext>> for BorshCodec {
    fn encoded_len(&self, msg: &sync::Response<HuxinContext>) -> Result<usize, CodecError> {
        borsh::object_length(&WireResponseRef::of(msg)).map_err(|e| CodecError::Malformed(e.to_string()))
    }
}

/// Longest peer id accepted in a validator proof (a libp2p ed25519 peer id is 38 bytes).
pub const PEER_ID_BYTES_MAX: usize = 64;

/// The validator-proof handshake: `borsh(public_key: Vec<u8>, peer_id: Vec<u8>, signature)`,
/// with the key a ledger key of either suite (32 bytes ed25519, 33 an SM2 compressed point) and
/// the peer id at most [`PEER_ID_BYTES_MAX`].
impl Codec<ValidatorProof<HuxinContext>> for BorshCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ValidatorProof<HuxinContext>, CodecError> {
        let (public_key, peer_id, signature): (Vec<u8>, Vec<u8>, Signature) = decode_bounded(&bytes)?;
        if huxin_types::PublicKey::from_slice(&public_key).is_none() {
            MESSAGES_MALFORMED.inc();
            return Err(CodecError::Malformed(format!(
                "validator proof key is {} bytes; a key is 32 (ed25519) or 33 (SM2, 02 or 03 first)",
                public_key.len()
            )));
        }
        if peer_id.len() > PEER_ID_BYTES_MAX {
            MESSAGES_MALFORMED.inc();
            return Err(CodecError::TooLarge { got: peer_id.len(), max: PEER_ID_BYTES_MAX });
        }
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }

    fn encode(&self, msg: &ValidatorProof<HuxinContext>) -> Result<Bytes, CodecError> {
        encode_borsh(&(&msg.public_key, &msg.peer_id, &msg.signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn proof(public_key: Vec<u8>, peer_id: Vec<u8>) -> ValidatorProof<HuxinContext> {
        ValidatorProof::new(public_key, peer_id, Signature([4; 64]))
    }

    /// Regression: an SM2 validator's proof (a 33-byte key) was refused as "not 32 bytes", so on
    /// an SM2 chain no peer was ever known as a validator (`huxin_consensus_validator_peers` 0).
    #[test]
    fn validator_proofs_round_trip_and_refuse_bad_sizes() {
        let sm2 = huxin_types::SecretKey::derive_in(huxin_types::crypto::Suite::Sm2Sm3, [1; 32]);
        for good in [proof(vec![1; 32], vec![2; 38]), proof(sm2.public_key().as_bytes().to_vec(), vec![2; 38])] {
            let bytes = Codec::<ValidatorProof<HuxinContext>>::encode(&BorshCodec, &good).unwrap();
            let back: ValidatorProof<HuxinContext> = BorshCodec.decode(bytes).unwrap();
            assert_eq!(back, good);
        }
        for bad in [
            proof(vec![1; 31], vec![2; 38]),
            proof(vec![4; 33], vec![2; 38]),
            proof(vec![1; 32], vec![2; PEER_ID_BYTES_MAX + 1]),
        ] {
            let bytes = Codec::<ValidatorProof<HuxinContext>>::encode(&BorshCodec, &bad).unwrap();
            assert!(Codec::<ValidatorProof<HuxinContext>>::decode(&BorshCodec, bytes).is_err());
        }
    }

    /// A sync response encoded from borrowed fields decodes to the same response, and its
    /// measured length is its encoded length.
    #[test]
    fn sync_responses_round_trip() {
        use crate::context::{ValueId as Id, Vote};
        use huxin_types::{ChainId, SecretKey};
        use malachitebft_core_types::{CommitCertificate, NilOrVal, VoteType};
        let key = SecretKey::from_bytes([6; 32]);
        let address = Address::from_public_key(&crate::context::PublicKey(key.public_key()));
        let signer = crate::context::Signer::new(key, ChainId::new("t").unwrap());
        let vote = Vote {
            vote_type: VoteType::Precommit,
            height: Height(3),
            round: Round::new(0),
            value: NilOrVal::Val(Id([8; 32])),
            validator: address,
            extension: None,
        };
        let certificate =
            CommitCertificate::new(Height(3), Round::new(0), Id([8; 32]), vec![signer.sign_vote_now(vote)]);
        let extended =
            ExtendedCommitCertificate::from_commit_certificate_and_extensions(certificate, Default::default());
        let value = sync::RawDecidedValue::new(Bytes::from(vec![1u8, 2, 3, 4, 5]), extended);
        let response = sync::Response::ValueResponse(ValueResponse::new(Height(3), vec![value]));
        let bytes = Codec::<sync::Response<HuxinContext>>::encode(&BorshCodec, &response).unwrap();
        assert_eq!(HasEncodedLen::encoded_len(&BorshCodec, &response).unwrap(), bytes.len());
        let back: sync::Response<HuxinContext> = BorshCodec.decode(bytes).unwrap();
        assert_eq!(back, response);
    }

    #[test]
    fn malformed_messages_are_counted() {
        let before = MESSAGES_MALFORMED.get();
        assert!(Codec::<ProposalPart>::decode(&BorshCodec, Bytes::from_static(&[9, 9, 9])).is_err());
        assert!(MESSAGES_MALFORMED.get() > before);
    }

    /// Whatever a peer sends, every envelope decoder answers with a value or a typed error.
    #[test]
    fn every_envelope_decoder_is_total_on_random_bytes() {
        use rand::{Rng, SeedableRng};
        let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x48_55_58);
        println!("SEED={seed}");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for _ in 0..2_000 {
            let len = rng.gen_range(0..256);
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let b = || Bytes::from(bytes.clone());
            let _ = Codec::<ProposalPart>::decode(&BorshCodec, b());
            let _ = Codec::<SignedConsensusMsg<HuxinContext>>::decode(&BorshCodec, b());
            let _ = Codec::<LivenessMsg<HuxinContext>>::decode(&BorshCodec, b());
            let _ = Codec::<StreamMessage<ProposalPart>>::decode(&BorshCodec, b());
            let _ = Codec::<ProposedValue<HuxinContext>>::decode(&BorshCodec, b());
            let _ = Codec::<PolkaCertificate<HuxinContext>>::decode(&BorshCodec, b());
            let _ = Codec::<sync::Status<HuxinContext>>::decode(&BorshCodec, b());
            let _ = Codec::<sync::Request<HuxinContext>>::decode(&BorshCodec, b());
            let _ = Codec::<sync::Response<HuxinContext>>::decode(&BorshCodec, b());
            let _ = Codec::<ValidatorProof<HuxinContext>>::decode(&BorshCodec, b());
        }
    }
}
