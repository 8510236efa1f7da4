//! Rule parameters: read by the contracts, changed only by a passed governance proposal. Until
//! one passes, the defaults of [`Params::default`] apply.

use huxin_types::codec;
use huxin_types::governance::Params;

use crate::{keys, read_or_default, KvState, StateError};

pub fn current(state: &dyn KvState) -> Result<Params, StateError> {
    read_or_default(state, &keys::params(), "params")
}

pub fn set(state: &mut dyn KvState, params: &Params) {
    state.put(keys::params(), codec::encode(params));
}
