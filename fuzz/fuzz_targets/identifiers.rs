//! Any text through every identifier parser (USCC, region, hashes, keys, subject ids, chain ids,
//! guarantee numbers): a value or a typed error; what parses prints back to what parses again.
#![no_main]
use libfuzzer_sys::fuzz_target;

use huxin_types::identity::SubjectId;
use huxin_types::{ChainId, Hash32, RegionCode, TxHash, Uscc};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(code) = Uscc::parse(text) {
        assert_eq!(Uscc::parse(code.as_str()).ok(), Some(code));
    }
    if let Ok(region) = text.parse::<RegionCode>() {
        assert_eq!(region.to_string().parse::<RegionCode>().ok(), Some(region));
    }
    if let Ok(subject) = text.parse::<SubjectId>() {
        assert_eq!(subject.to_string().parse::<SubjectId>().ok(), Some(subject));
    }
    let _ = text.parse::<Hash32>();
    let _ = text.parse::<TxHash>();
    let _ = ChainId::new(text);
    let _ = huxin_types::guarantee::check_number(text);
    let _ = serde_json::from_str::<Uscc>(&format!("{text:?}"));
});
