//! Rule parameters: read by the contracts, changed only by a passed governance proposal. Until
//! one passes, the defaults of [`Params::default`] apply.

use huxin_types::codec;
use huxin_types::governance::Params;

use crate::{decode_record, keys, KvState};

pub fn current(state: &dyn KvState) -> Params {
    state.get(&keys::params()).map(|b| decode_record(&b, "params")).unwrap_or_default()
}

pub fn set(state: &mut dyn KvState, params: &Params) {
    state.put(keys::params(), codec::encode(params));
}
