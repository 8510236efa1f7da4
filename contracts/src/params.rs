//! Rule parameters: read by the contracts, changed only by a passed governance proposal. Until
//! one passes, the defaults of [`Params::default`] apply. The collusion-ring analysis' thresholds
//! ([`RingParams`]) are governed the same way, under their own key.

use huxin_types::codec;
use huxin_types::governance::{Params, RingParams};

use crate::{keys, read_or_default, KvState, StateError};

pub fn current(state: &dyn KvState) -> Result<Params, StateError> {
    read_or_default(state, &keys::params(), "params")
}

pub fn set(state: &mut dyn KvState, params: &Params) {
    state.put(keys::params(), codec::encode(params));
}

pub fn ring_current(state: &dyn KvState) -> Result<RingParams, StateError> {
    read_or_default(state, &keys::ring_params(), "ring params")
}

pub fn ring_set(state: &mut dyn KvState, params: &RingParams) {
    state.put(keys::ring_params(), codec::encode(params));
}
