//! Misbehaving on purpose, for tests of the fault model: with the `byzantine` feature a
//! validator whose config has a `[byzantine]` section runs Malachite's byzantine network proxy,
//! which signs and sends conflicting votes or proposals (equivocation) or drops its own, as
//! configured (`malachitebft_engine_byzantine::ByzantineConfig`). Without the feature there is
//! nothing to configure: [`Misbehaviour`] has no values, and the node refuses the section.

/// What a misbehaving validator does: the engine-level attacks of Malachite's byzantine proxy,
/// and Huxin's own (blocks timed off the clock).
#[cfg(feature = "byzantine")]
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Misbehaviour {
    /// Conflicting or dropped votes and proposals, ignored locks (Malachite's fields:
    /// `equivocate_votes`, `equivocate_proposals`, `drop_votes`, `drop_proposals`, …, `seed`).
    #[serde(flatten)]
    pub engine: malachitebft_engine_byzantine::ByzantineConfig,
    /// What the host does wrong.
    #[serde(flatten)]
    pub host: HostLies,
}

/// Huxin's own misbehaviour, done by the host rather than the engine.
#[cfg(feature = "byzantine")]
#[derive(Clone, Copy, Debug, Default, serde::Deserialize)]
pub struct HostLies {
    /// Time the blocks this validator proposes this many ms off its clock (negative: in the
    /// past), whatever the parent's time.
    #[serde(default)]
    pub block_time_offset_ms: i64,
    /// Answer every sync request with each block's bytes corrupted (one byte flipped), under
    /// the genuine commit certificate.
    #[serde(default)]
    pub corrupt_sync_answers: bool,
    /// At every round this validator does not propose, stream a block of its own for that
    /// round, the next one, the next height and a height past the admission horizon.
    #[serde(default)]
    pub stream_out_of_turn: bool,
    /// Send every other consensus-network message malformed on the wire (cut short, a byte
    /// flipped, garbage appended, or all garbage, in turn); what it receives it decodes honestly.
    #[serde(default)]
    pub malformed_messages: bool,
    /// Gossip a batch of [`FLOOD_BATCH_TXS`] transactions with forged signatures every
    /// [`FLOOD_INTERVAL_MS`]: each names a real member's key and its next nonce (so admission
    /// reaches the signature check), with a signature that does not verify.
    #[serde(default)]
    pub flood_bad_signatures: bool,
    /// Claim this ledger protocol version instead of the build's (a node of another release):
    /// in the gossip handshake and the consensus protocol names.
    #[serde(default)]
    pub protocol_version: Option<u32>,
}

/// The ledger protocol version a node speaks: the build's, unless a test's misbehaviour claims
/// another ([`HostLies::protocol_version`]).
pub fn protocol_version(misbehaviour: Option<&Misbehaviour>) -> u32 {
    #[cfg(feature = "byzantine")]
    if let Some(version) = misbehaviour.and_then(|m| m.host.protocol_version) {
        return version;
    }
    #[cfg(not(feature = "byzantine"))]
    if let Some(m) = misbehaviour {
        match *m {}
    }
    huxin_types::PROTOCOL_VERSION
}

/// How often the flooding liar gossips a batch of forged transactions.
pub const FLOOD_INTERVAL_MS: u64 = 100;
/// Forged transactions per flooded batch.
pub const FLOOD_BATCH_TXS: u64 = 64;

/// Start flooding the other validators with forged transactions, if `misbehaviour` says so (see
/// [`HostLies::flood_bad_signatures`]); `signer` is a member key the forgeries name.
#[cfg(feature = "byzantine")]
pub fn spawn_flood(
    misbehaviour: &Misbehaviour,
    gossip: std::sync::Arc<std::sync::Mutex<Option<crate::gossip::GossipSender>>>,
    chain_id: huxin_types::ChainId,
    signer: huxin_types::PublicKey,
    store: std::sync::Arc<huxin_store::Store>,
) {
    if !misbehaviour.host.flood_bad_signatures {
        return;
    }
    tracing::warn!(%signer, "flooding the network with forged transactions ([byzantine] flood_bad_signatures)");
    let forger = huxin_types::SecretKey::from_bytes([0x66; 32]);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(FLOOD_INTERVAL_MS));
        loop {
            tick.tick().await;
            let Ok(Some(latest)) = store.latest_height() else { continue };
            let view = huxin_state::StateView::new(store.as_ref(), latest.0);
            let Ok(last) = huxin_contracts::registry::last_nonce(&view, &signer) else { continue };
            let Ok(guard) = gossip.lock() else { return };
            let Some(sender) = guard.as_ref() else { continue };
            for i in 0..FLOOD_BATCH_TXS {
                let body = huxin_types::TxBody {
                    chain_id: chain_id.clone(),
                    signer: forger.public_key(),
                    nonce: last + 1 + i,
                    expiry: huxin_types::tx::Expiry::Height(huxin_types::Height(latest.0 + 100)),
                    action: huxin_types::Action::Vote(huxin_types::governance::Vote {
                        proposal: huxin_types::Hash32([0x66; 32]),
                        approve: true,
                    }),
                };
                // Signed by another key, then passed off as the member's.
                let mut tx = body.sign(&forger);
                tx.body.signer = signer;
                sender.send(tx);
            }
        }
    });
}

/// Without the `byzantine` feature there is no misbehaviour, so nothing to flood.
#[cfg(not(feature = "byzantine"))]
pub fn spawn_flood(
    misbehaviour: &Misbehaviour,
    _gossip: std::sync::Arc<std::sync::Mutex<Option<crate::gossip::GossipSender>>>,
    _chain_id: huxin_types::ChainId,
    _signer: huxin_types::PublicKey,
    _store: std::sync::Arc<huxin_store::Store>,
) {
    match *misbehaviour {}
}

/// The byzantine node's network codec: honest [`crate::codec::BorshCodec`], except that with
/// `corrupt` every other message it encodes is mangled, so its peers meet undecodable bytes from
/// a validator they admitted.
#[cfg(feature = "byzantine")]
#[derive(Clone, Debug, Default)]
pub struct LyingCodec {
    pub corrupt: bool,
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

#[cfg(feature = "byzantine")]
impl LyingCodec {
    pub fn new(corrupt: bool) -> Self {
        Self { corrupt, sent: Default::default() }
    }

    fn mangle(&self, bytes: bytes::Bytes) -> bytes::Bytes {
        let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !self.corrupt || n.is_multiple_of(2) || bytes.is_empty() {
            return bytes;
        }
        let mut out = bytes.to_vec();
        match (n / 2) % 4 {
            0 => out.truncate(out.len() / 2),
            1 => {
                let at = out.len() / 3;
                out[at] ^= 0xff;
            }
            2 => out.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]),
            _ => out.iter_mut().enumerate().for_each(|(i, b)| *b = (i as u8).wrapping_mul(151) ^ 0x5a),
        }
        bytes::Bytes::from(out)
    }
}

#[cfg(feature = "byzantine")]
impl<T> malachitebft_codec::Codec<T> for LyingCodec
where
    crate::codec::BorshCodec: malachitebft_codec::Codec<T>,
{
    type Error = <crate::codec::BorshCodec as malachitebft_codec::Codec<T>>::Error;

    fn decode(&self, bytes: bytes::Bytes) -> Result<T, Self::Error> {
        malachitebft_codec::Codec::decode(&crate::codec::BorshCodec, bytes)
    }

    fn encode(&self, msg: &T) -> Result<bytes::Bytes, Self::Error> {
        malachitebft_codec::Codec::encode(&crate::codec::BorshCodec, msg).map(|bytes| self.mangle(bytes))
    }
}

#[cfg(feature = "byzantine")]
impl<T> malachitebft_codec::HasEncodedLen<T> for LyingCodec
where
    crate::codec::BorshCodec: malachitebft_codec::HasEncodedLen<T>,
{
    fn encoded_len(&self, msg: &T) -> Result<usize, <Self as malachitebft_codec::Codec<T>>::Error> {
        malachitebft_codec::HasEncodedLen::encoded_len(&crate::codec::BorshCodec, msg)
    }
}

/// Without the `byzantine` feature no misbehaviour can be configured.
#[cfg(not(feature = "byzantine"))]
#[derive(Clone, Debug)]
pub enum Misbehaviour {}

/// The misbehaviour a `[byzantine]` config section asks for, or why this build cannot do it.
#[cfg(feature = "byzantine")]
pub fn parse<'de, D: serde::Deserializer<'de>>(section: D) -> Result<Misbehaviour, String> {
    use serde::Deserialize;
    let config = Misbehaviour::deserialize(section).map_err(|e| format!("[byzantine]: {e}"))?;
    config.engine.validate().map_err(|e| format!("[byzantine]: {e}"))?;
    Ok(config)
}

#[cfg(not(feature = "byzantine"))]
pub fn parse<'de, D: serde::Deserializer<'de>>(_section: D) -> Result<Misbehaviour, String> {
    Err("[byzantine]: this huxin is built without the `byzantine` feature (a test-only mode); remove the section"
        .into())
}

/// A value id other than `value`'s (its last byte flipped), for the proxy's conflicting votes.
#[cfg(feature = "byzantine")]
pub(crate) fn conflicting(value: &crate::context::ValueId) -> crate::context::ValueId {
    let mut bytes = value.0;
    bytes[31] ^= 1;
    crate::context::ValueId(bytes)
}

/// When `lie` says so, a block's bytes altered so that they still decode, as another block
/// (its time moved by 1 ms) that the certificate served with it does not certify.
#[cfg(feature = "byzantine")]
pub(crate) fn corrupt_if(lie: bool, bytes: Vec<u8>) -> Vec<u8> {
    if !lie {
        return bytes;
    }
    match huxin_types::Block::decode(&bytes) {
        Ok(mut block) => {
            block.header.time.0 ^= 1;
            block.encode()
        }
        Err(_) => bytes,
    }
}
