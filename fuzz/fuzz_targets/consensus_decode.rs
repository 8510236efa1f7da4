//! Any bytes through every consensus, sync and WAL envelope decoder (the first byte picks the
//! envelope): a value or a typed error, never a panic; what decodes re-encodes, and that encoding
//! decodes and re-encodes to itself.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use malachitebft_codec::Codec;
use malachitebft_core_consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_core_types::{PolkaCertificate, ValidatorProof};
use malachitebft_engine::util::streaming::StreamMessage;

use huxin_wire::codec::BorshCodec;
use huxin_wire::context::{HuxinContext, ProposalPart};

/// Decode `bytes` as `T`; when it decodes, the encoding must be stable.
fn check<T>(bytes: &[u8])
where
    BorshCodec: Codec<T>,
{
    let Ok(value) = Codec::<T>::decode(&BorshCodec, Bytes::copy_from_slice(bytes)) else { return };
    let once = Codec::<T>::encode(&BorshCodec, &value).expect("a decoded envelope encodes");
    let again = Codec::<T>::decode(&BorshCodec, once.clone()).expect("an encoded envelope decodes");
    let twice = Codec::<T>::encode(&BorshCodec, &again).expect("a decoded envelope encodes");
    assert_eq!(once, twice, "the encoding is not stable");
}

fuzz_target!(|data: &[u8]| {
    let Some((which, bytes)) = data.split_first() else { return };
    match which % 10 {
        0 => check::<ProposalPart>(bytes),
        1 => check::<SignedConsensusMsg<HuxinContext>>(bytes),
        2 => check::<LivenessMsg<HuxinContext>>(bytes),
        3 => check::<StreamMessage<ProposalPart>>(bytes),
        4 => check::<ProposedValue<HuxinContext>>(bytes),
        5 => check::<PolkaCertificate<HuxinContext>>(bytes),
        6 => check::<malachitebft_sync::Status<HuxinContext>>(bytes),
        7 => check::<malachitebft_sync::Request<HuxinContext>>(bytes),
        8 => check::<malachitebft_sync::Response<HuxinContext>>(bytes),
        _ => check::<ValidatorProof<HuxinContext>>(bytes),
    }
});
