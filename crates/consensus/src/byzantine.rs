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
