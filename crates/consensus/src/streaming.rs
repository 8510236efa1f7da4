//! Streaming a proposed block in parts, and reassembling streams from peers.
//!
//! A stream is `Init{height, round, pol_round, proposer}`, the block bytes in `Data` chunks of at
//! most [`PART_BYTES_MAX`], and `Fin{signature}`: the proposer's signature over the SHA-256 of the
//! Init fields and every data byte. Reassembly is bounded: at most [`STREAMS_MAX`] open streams
//! (the oldest is dropped), at most [`STREAMS_PER_PEER_MAX`] per publisher (its oldest is dropped,
//! so one peer cannot crowd out the others) and at most [`STREAM_BYTES_MAX`] per stream (the
//! stream is dropped). The caller checks a stream's `Init` (who may propose what) as soon as it
//! arrives, and a stream whose `Init` it refuses is dropped before more of it is buffered.

use std::collections::{BTreeMap, VecDeque};

use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::PeerId;
use malachitebft_core_types::Round;
use sha2::{Digest, Sha256};

use crate::context::{Address, Height, ProposalPart, Signature, Signer};

/// Size of one data part (Malachite's gossip limit is 4 MiB per message).
pub const PART_BYTES_MAX: usize = 512 * 1024;
/// Most streams being reassembled at once.
pub const STREAMS_MAX: usize = 64;
/// Most streams one publisher may have in reassembly at once.
pub const STREAMS_PER_PEER_MAX: usize = 4;
/// Most bytes one stream may carry.
pub const STREAM_BYTES_MAX: usize = huxin_types::limits::BLOCK_BYTES_MAX + 64 * 1024;
/// Most messages one stream may carry.
const STREAM_MESSAGES_MAX: u64 = (STREAM_BYTES_MAX / PART_BYTES_MAX) as u64 + 8;

/// The digest the proposer signs in `Fin`.
pub fn stream_digest(height: Height, round: Round, pol_round: Round, proposer: &Address, data: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"huxin/v1/proposal-stream");
    hasher.update(height.0.to_be_bytes());
    hasher.update(round.as_i64().to_be_bytes());
    hasher.update(pol_round.as_i64().to_be_bytes());
    hasher.update(proposer.0);
    for chunk in data {
        hasher.update((chunk.len() as u64).to_be_bytes());
        hasher.update(chunk);
    }
    hasher.finalize().into()
}

/// The stream messages for one proposal.
pub fn stream_block(
    signer: &Signer,
    proposer: Address,
    height: Height,
    round: Round,
    pol_round: Round,
    block_bytes: &[u8],
) -> Vec<StreamMessage<ProposalPart>> {
    let mut id = Vec::with_capacity(12);
    id.extend_from_slice(&height.0.to_be_bytes());
    id.extend_from_slice(&(round.as_i64() as u32).to_be_bytes());
    let stream_id = StreamId::new(id.into());
    let chunks: Vec<&[u8]> = block_bytes.chunks(PART_BYTES_MAX).collect();
    let digest = stream_digest(height, round, pol_round, &proposer, &chunks);
    let mut parts = vec![ProposalPart::Init { height, round, pol_round, proposer }];
    parts.extend(chunks.iter().map(|c| ProposalPart::Data(c.to_vec())));
    parts.push(ProposalPart::Fin { signature: signer.sign_stream(&digest) });
    let mut messages: Vec<StreamMessage<ProposalPart>> = parts
        .into_iter()
        .enumerate()
        .map(|(seq, part)| StreamMessage::new(stream_id.clone(), seq as u64, StreamContent::Data(part)))
        .collect();
    let fin_seq = messages.len() as u64;
    messages.push(StreamMessage::new(stream_id, fin_seq, StreamContent::Fin));
    messages
}

/// A fully received stream, not yet authenticated.
#[derive(Debug)]
pub struct ReceivedStream {
    pub height: Height,
    pub round: Round,
    pub pol_round: Round,
    pub proposer: Address,
    pub block_bytes: Vec<u8>,
    pub digest: [u8; 32],
    pub signature: Signature,
    /// From the stream's first part to its last.
    pub receive_time: std::time::Duration,
}

struct Partial {
    messages: BTreeMap<u64, Option<ProposalPart>>,
    end: Option<u64>,
    bytes: usize,
    opened: std::time::Instant,
}

impl Partial {
    fn new() -> Self {
        Self { messages: BTreeMap::new(), end: None, bytes: 0, opened: std::time::Instant::now() }
    }
}

/// Why a stream was dropped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StreamError {
    #[error("stream exceeds {0}")]
    TooLarge(&'static str),
    #[error("stream is malformed: {0}")]
    Malformed(&'static str),
    #[error("stream refused: {0}")]
    Refused(String),
}

/// The `Init` of a stream: what it claims to propose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamHead {
    pub height: Height,
    pub round: Round,
    pub proposer: Address,
}

#[derive(Default)]
pub struct Streams {
    open: BTreeMap<(PeerId, StreamId), Partial>,
    order: VecDeque<(PeerId, StreamId)>,
}

impl Streams {
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Add one message; returns the whole stream once every part has arrived. `admit` judges the
    /// stream's `Init` when it arrives; a refused stream is dropped.
    pub fn insert(
        &mut self,
        from: PeerId,
        msg: StreamMessage<ProposalPart>,
        admit: impl Fn(&StreamHead) -> Result<(), String>,
    ) -> Result<Option<ReceivedStream>, StreamError> {
        if let StreamContent::Data(ProposalPart::Init { height, round, proposer, .. }) = &msg.content {
            let head = StreamHead { height: *height, round: *round, proposer: *proposer };
            if let Err(reason) = admit(&head) {
                self.remove(&(from, msg.stream_id.clone()));
                return Err(StreamError::Refused(reason));
            }
        }
        let key = (from, msg.stream_id.clone());
        if !self.open.contains_key(&key) {
            if self.order.iter().filter(|(peer, _)| *peer == from).count() >= STREAMS_PER_PEER_MAX {
                if let Some(oldest) = self.order.iter().find(|(peer, _)| *peer == from).cloned() {
                    self.remove(&oldest);
                }
            }
            if self.open.len() >= STREAMS_MAX {
                if let Some(oldest) = self.order.pop_front() {
                    self.open.remove(&oldest);
                }
            }
            self.order.push_back(key.clone());
            self.open.insert(key.clone(), Partial::new());
        }
        let result = self.add(&key, msg);
        match result {
            Ok(Some(_)) | Err(_) => self.remove(&key),
            Ok(None) => {}
        }
        result
    }

    fn remove(&mut self, key: &(PeerId, StreamId)) {
        self.open.remove(key);
        self.order.retain(|k| k != key);
    }

    fn add(
        &mut self,
        key: &(PeerId, StreamId),
        msg: StreamMessage<ProposalPart>,
    ) -> Result<Option<ReceivedStream>, StreamError> {
        let partial = self.open.get_mut(key).ok_or(StreamError::Malformed("stream vanished"))?;
        if msg.sequence >= STREAM_MESSAGES_MAX {
            return Err(StreamError::TooLarge("the most parts a stream may have"));
        }
        match msg.content {
            StreamContent::Fin => partial.end = Some(msg.sequence),
            StreamContent::Data(part) => {
                if let ProposalPart::Data(d) = &part {
                    partial.bytes += d.len();
                    if partial.bytes > STREAM_BYTES_MAX {
                        return Err(StreamError::TooLarge("the most bytes a stream may carry"));
                    }
                }
                partial.messages.insert(msg.sequence, Some(part));
            }
        }
        let Some(end) = partial.end else { return Ok(None) };
        if partial.messages.len() as u64 != end {
            return Ok(None);
        }
        // Every sequence 0..end is present: assemble.
        let parts: Vec<ProposalPart> = std::mem::take(&mut partial.messages).into_values().flatten().collect();
        let mut iter = parts.into_iter();
        let Some(ProposalPart::Init { height, round, pol_round, proposer }) = iter.next() else {
            return Err(StreamError::Malformed("first part is not Init"));
        };
        let mut chunks = Vec::new();
        let mut signature = None;
        for part in iter {
            match part {
                ProposalPart::Data(d) if signature.is_none() => chunks.push(d),
                ProposalPart::Fin { signature: s } if signature.is_none() => signature = Some(s),
                _ => return Err(StreamError::Malformed("parts out of order after Init")),
            }
        }
        let signature = signature.ok_or(StreamError::Malformed("no Fin part"))?;
        let refs: Vec<&[u8]> = chunks.iter().map(|c| c.as_slice()).collect();
        let digest = stream_digest(height, round, pol_round, &proposer, &refs);
        let receive_time = partial.opened.elapsed();
        Ok(Some(ReceivedStream {
            height,
            round,
            pol_round,
            proposer,
            block_bytes: chunks.concat(),
            digest,
            signature,
            receive_time,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huxin_types::{ChainId, SecretKey};

    fn random_peer() -> PeerId {
        PeerId::from_bytes(&libp2p::PeerId::random().to_bytes()).unwrap()
    }

    fn signer() -> Signer {
        Signer::new(SecretKey::from_bytes([5; 32]), ChainId::new("t").unwrap())
    }

    #[test]
    fn reassembles_out_of_order_and_verifies() {
        let s = signer();
        let block = vec![42u8; PART_BYTES_MAX * 2 + 10];
        let mut msgs = stream_block(&s, Address([1; 20]), Height(4), Round::new(0), Round::Nil, &block);
        msgs.reverse();
        let peer = random_peer();
        let mut streams = Streams::default();
        let mut done = None;
        for m in msgs {
            if let Some(r) = streams.insert(peer, m, |_| Ok(())).unwrap() {
                done = Some(r);
            }
        }
        let r = done.expect("stream completes");
        assert_eq!(r.block_bytes, block);
        let key = crate::context::PublicKey(SecretKey::from_bytes([5; 32]).public_key());
        assert!(s.verify_stream(&r.digest, &r.signature, &key));
        assert_eq!(streams.open_count(), 0);
    }

    #[test]
    fn tampered_data_fails_verification() {
        let s = signer();
        let mut msgs = stream_block(&s, Address([1; 20]), Height(4), Round::new(0), Round::Nil, b"block");
        if let StreamContent::Data(ProposalPart::Data(d)) = &mut msgs[1].content {
            d[0] ^= 1;
        }
        let mut streams = Streams::default();
        let peer = random_peer();
        let r = msgs.into_iter().find_map(|m| streams.insert(peer, m, |_| Ok(())).unwrap()).unwrap();
        let key = crate::context::PublicKey(SecretKey::from_bytes([5; 32]).public_key());
        assert!(!s.verify_stream(&r.digest, &r.signature, &key));
    }

    #[test]
    fn bounds_open_streams() {
        let s = signer();
        let mut streams = Streams::default();
        for h in 0..(STREAMS_MAX as u64 + 10) {
            let first = stream_block(&s, Address([1; 20]), Height(h), Round::new(0), Round::Nil, b"x").remove(0);
            assert!(streams.insert(random_peer(), first, |_| Ok(())).unwrap().is_none());
        }
        assert_eq!(streams.open_count(), STREAMS_MAX);
    }

    /// One publisher keeps at most a few streams open, whatever it sends.
    #[test]
    fn one_peer_cannot_crowd_out_the_others() {
        let s = signer();
        let mut streams = Streams::default();
        let honest = random_peer();
        let first = stream_block(&s, Address([1; 20]), Height(1), Round::new(0), Round::Nil, b"x").remove(0);
        streams.insert(honest, first, |_| Ok(())).unwrap();
        let flooder = random_peer();
        for h in 0..(STREAMS_MAX as u64 * 2) {
            let first = stream_block(&s, Address([2; 20]), Height(h), Round::new(0), Round::Nil, b"x").remove(0);
            streams.insert(flooder, first, |_| Ok(())).unwrap();
        }
        assert_eq!(streams.open_count(), 1 + STREAMS_PER_PEER_MAX);
        assert!(streams.order.iter().any(|(p, _)| *p == honest), "the honest stream survives the flood");
    }

    /// A stream whose Init the caller refuses is dropped at once and reported.
    #[test]
    fn refused_heads_drop_the_stream() {
        let s = signer();
        let mut streams = Streams::default();
        let peer = random_peer();
        let mut msgs = stream_block(&s, Address([1; 20]), Height(9), Round::new(3), Round::Nil, b"block");
        // Data first (out of order), then the Init, which is refused.
        let data = msgs.remove(1);
        assert!(streams.insert(peer, data, |_| Ok(())).unwrap().is_none());
        let init = msgs.remove(0);
        let refused = streams.insert(peer, init, |head| {
            assert_eq!((head.height, head.round), (Height(9), Round::new(3)));
            Err("not the proposer".into())
        });
        assert!(matches!(refused, Err(StreamError::Refused(_))));
        assert_eq!(streams.open_count(), 0);
    }
}
