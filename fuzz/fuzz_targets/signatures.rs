//! Any bytes as keys, signatures and messages of both suites (ed25519, SM2): verification answers
//! Ok or a typed error and never panics; any 32 bytes make an SM2 secret key or a typed error,
//! and a key that is made signs what it then verifies, in that domain only.
#![no_main]
use libfuzzer_sys::fuzz_target;

use huxin_types::crypto::{Domain, Ed25519PublicKey, PublicKey, Signature, Sm2PublicKey, Sm2SecretKey};

fuzz_target!(|data: &[u8]| {
    if data.len() < 33 + 64 {
        return;
    }
    let (key, rest) = data.split_at(33);
    let (sig, message) = rest.split_at(64);
    let signature = Signature(sig.try_into().expect("64 bytes"));
    let sm2 = Sm2PublicKey(key.try_into().expect("33 bytes"));
    let _ = sm2.verify(Domain::Tx, message, &signature);
    let _ = sm2.to_uncompressed();
    let ed = Ed25519PublicKey(key[..32].try_into().expect("32 bytes"));
    let _ = ed.verify(Domain::Tx, message, &signature);
    // Either suite's key through the common type: its length says which.
    for bytes in [&key[..32], key] {
        if let Some(public) = PublicKey::from_slice(bytes) {
            assert_eq!(public.as_bytes(), bytes);
            let _ = public.verify(Domain::Tx, message, &signature);
            assert_eq!(public.to_hex().parse::<PublicKey>().ok(), Some(public));
        }
    }

    if let Ok(secret) = Sm2SecretKey::from_bytes(key[1..].try_into().expect("32 bytes")) {
        let public = secret.public_key();
        let made = secret.sign(Domain::Query, message);
        assert_eq!(public.verify(Domain::Query, message, &made), Ok(()));
        assert!(public.verify(Domain::Tx, message, &made).is_err());
        assert_eq!(public.to_hex().parse::<Sm2PublicKey>().ok(), Some(public));
    }
});
