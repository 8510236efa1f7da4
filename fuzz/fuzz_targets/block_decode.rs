//! Any bytes as a proposed or synced block: a value or a typed error, canonical when it decodes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = huxin_types::Block::decode(data) {
        assert_eq!(block.encode(), data, "a decoded block re-encodes to its bytes");
        let _ = block.hash();
    }
});
