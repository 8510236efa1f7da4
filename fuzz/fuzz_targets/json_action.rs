//! Any bytes as the JSON action of `POST /v1/txs/prepare` (and `huxin tx submit`): a value or a
//! typed error, and every field check is total on what parses.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(action) = serde_json::from_slice::<huxin_types::Action>(data) {
        let _ = action.check_fields();
        let _ = action.kind();
    }
});
