//! The node's wall clock: it times the blocks this validator proposes, bounds how far in the
//! future a block it votes for may be, and dates mempool admission.
//!
//! In builds with the `byzantine` feature (tests only) the clock can be set off by a signed
//! offset while the node runs ([`set_skew_ms`]), so the fault suite can skew one node's clock
//! forward and back (`huxin chaos`, nemesis `skew`). Without the feature it is the system clock
//! and nothing can move it.

use huxin_types::TimestampMs;

#[cfg(feature = "byzantine")]
static SKEW_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Milliseconds since the Unix epoch, by this node's clock.
pub fn now_ms() -> TimestampMs {
    let system =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    #[cfg(feature = "byzantine")]
    let system = system.saturating_add_signed(SKEW_MS.load(std::sync::atomic::Ordering::Relaxed));
    TimestampMs(system)
}

/// Set this node's clock `ms` off the system clock (negative: behind); 0 puts it right again.
/// Refused in a build without the `byzantine` feature.
pub fn set_skew_ms(ms: i64) -> Result<(), ClockFixed> {
    #[cfg(feature = "byzantine")]
    {
        SKEW_MS.store(ms, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
    #[cfg(not(feature = "byzantine"))]
    {
        let _ = ms;
        Err(ClockFixed)
    }
}

/// A build whose clock cannot be skewed was asked to skew it.
#[derive(Debug, thiserror::Error)]
#[error("this build's clock cannot be skewed (only test builds, with the byzantine feature, can)")]
pub struct ClockFixed;
