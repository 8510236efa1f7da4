//! Any bytes as a signed supervisor query (method, path, query and the three headers, split at
//! 0xff bytes) through the header parser and signature check: a value or a typed error; what is
//! accepted verifies, and fails for any other node.
#![no_main]
use libfuzzer_sys::fuzz_target;

use huxin_types::audit::{check_signed_query, QueryAudience};
use huxin_types::crypto::{Domain, SecretKey};
use huxin_types::ChainId;

fuzz_target!(|data: &[u8]| {
    let mut fields = data.split(|b| *b == 0xff);
    let mut next = || fields.next();
    let text = |b: Option<&[u8]>| b.map(String::from_utf8_lossy).unwrap_or_default().into_owned();
    let (method, path, query) = (text(next()), text(next()), text(next()));
    let headers = [next(), next(), next()];
    let audience = QueryAudience {
        chain_id: ChainId::new("huxin-fuzz").expect("a valid chain id"),
        node_key: SecretKey::from_bytes([1; 32]).public_key(),
    };
    if let Ok(signed) = check_signed_query(&audience, &method, &path, &query, headers) {
        let message = huxin_types::audit::query_message(&audience, &method, &path, &query, signed.time);
        assert!(signed.key.verify(Domain::Query, &message, &signed.signature).is_ok());
        let other = QueryAudience { node_key: SecretKey::from_bytes([2; 32]).public_key(), ..audience };
        assert!(check_signed_query(&other, &method, &path, &query, headers).is_err());
    }
});
