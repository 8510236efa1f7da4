//! Any bytes as a submitted transaction: a value or a typed error, and what decodes re-encodes to
//! the same bytes (the encoding is canonical).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = huxin_types::SignedTx::decode(data) {
        assert_eq!(tx.encode(), data, "a decoded transaction re-encodes to its bytes");
        let _ = tx.verify_signature();
        let _ = tx.body.action.check_fields();
    }
});
