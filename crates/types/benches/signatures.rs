//! Signature and hashing throughput of one core, both suites in the same run (ed25519 with
//! SHA-256, SM2 with SM3): `cargo bench --workspace --bench signatures`.
//! Build with `RUSTFLAGS='--cfg curve25519_dalek_backend="avx512"'` to use the AVX-512 backend.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use huxin_types::tx::{AnchorDocument, DealStage, Expiry, TenderRef};
use huxin_types::{Action, ChainId, Hash32, Height, RegionCode, SecretKey, SignedTx, TxBody};

fn tx(key: &SecretKey, nonce: u64) -> SignedTx {
    TxBody {
        chain_id: ChainId::new("bench").unwrap(),
        signer: key.public_key(),
        nonce,
        expiry: Expiry::Height(Height(1_000)),
        action: Action::AnchorDocument(AnchorDocument {
            tender: TenderRef {
                region: RegionCode::new(330100).unwrap(),
                project_code: "BENCH".into(),
                section_code: "S1".into(),
            },
            stage: DealStage::Bid,
            document_hash: Hash32([7; 32]),
            title: String::new(),
            deal_code: String::new(),
            platform_code: String::new(),
            parties: vec![huxin_types::Uscc::with_check("91330100MA0000001").expect("a valid code")],
            experts: Vec::new(),
            estimated_price_fen: None,
        }),
    }
    .sign(key)
}

/// Run `f` `n` times; print and return the rate per second.
fn rate(label: &str, n: usize, f: impl FnMut(usize)) -> f64 {
    let mut f = f;
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{label:<28} {:>10.0} /s  ({:.2} µs each)", n as f64 / secs, secs * 1e6 / n as f64);
    n as f64 / secs
}

fn main() {
    let key = SecretKey::from_bytes([1; 32]);
    let n = 20_000;
    let txs: Vec<SignedTx> = (0..n as u64).map(|i| tx(&key, i + 1)).collect();
    let ed_sign = rate("sign transaction", n, |i| {
        std::hint::black_box(txs[i].body.clone().sign(&key));
    });
    let ed_verify = rate("verify transaction", n, |i| {
        assert!(txs[i].verify_signature().is_ok());
    });
    let message: Vec<Vec<u8>> = txs
        .iter()
        .map(|t| huxin_types::crypto::signing_input(huxin_types::crypto::Domain::Tx, &t.body.encode()))
        .collect();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key().ed25519().unwrap().0).unwrap();
    let sigs: Vec<ed25519_dalek::Signature> =
        txs.iter().map(|t| ed25519_dalek::Signature::from_bytes(&t.signature.0)).collect();
    rate("  decompress public key", n, |_| {
        std::hint::black_box(ed25519_dalek::VerifyingKey::from_bytes(&key.public_key().ed25519().unwrap().0).unwrap());
    });
    rate("  verify_strict, cached key", n, |i| {
        assert!(vk.verify_strict(&message[i], &sigs[i]).is_ok());
    });
    rate("  verify, cached key", n, |i| {
        use ed25519_dalek::Verifier;
        assert!(vk.verify(&message[i], &sigs[i]).is_ok());
    });
    rate("hash transaction", n, |i| {
        std::hint::black_box(txs[i].hash());
    });
    rate("decode transaction", n, |i| {
        std::hint::black_box(SignedTx::decode(&txs[i].encode()).unwrap());
    });
    national_suite(&txs, ed_sign, ed_verify);
}

/// SM2 signing and verifying the same transaction bodies, and SM3 beside SHA-256. SM2 has no
/// batch verification: each signature costs a full double-scalar multiplication.
fn national_suite(txs: &[SignedTx], ed_sign: f64, ed_verify: f64) {
    use huxin_types::crypto::{sm3, Domain, Sm2SecretKey};
    use sm2::dsa::signature::Verifier;

    println!("-- sm2-sm3 --");
    let key = Sm2SecretKey::from_bytes([1; 32]).unwrap();
    let n = 4_000;
    let bodies: Vec<Vec<u8>> = txs[..n].iter().map(|t| t.body.encode()).collect();
    let mut sigs = Vec::with_capacity(n);
    let sm2_sign = rate("sm2 sign transaction", n, |i| sigs.push(key.sign(Domain::Tx, &bodies[i])));
    let public = key.public_key();
    let sm2_verify = rate("sm2 verify transaction", n, |i| {
        assert!(public.verify(Domain::Tx, &bodies[i], &sigs[i]).is_ok());
    });
    // What the per-call work costs: decompressing the point and computing Z from the identifier.
    let vk = sm2::dsa::VerifyingKey::from_sec1_bytes(huxin_types::crypto::sm2::DEFAULT_ID, &public.0).unwrap();
    let inputs: Vec<Vec<u8>> = bodies.iter().map(|b| huxin_types::crypto::signing_input(Domain::Tx, b)).collect();
    let parsed: Vec<sm2::dsa::Signature> =
        sigs.iter().map(|s| sm2::dsa::Signature::from_slice(&s.0).unwrap()).collect();
    rate("  verify, cached key and Z", n, |i| {
        assert!(vk.verify(&inputs[i], &parsed[i]).is_ok());
    });
    println!("sm2 ÷ ed25519: sign {:.2}, verify {:.2}", sm2_sign / ed_sign, sm2_verify / ed_verify);

    let kib: Vec<u8> = (0..1024u32).map(|i| i as u8).collect();
    let m = 100_000;
    let sha = rate("sha-256 of 1 KiB", m, |_| {
        std::hint::black_box(huxin_types::codec::sha256(&kib));
    });
    let sm = rate("sm3 of 1 KiB", m, |_| {
        std::hint::black_box(sm3(&kib));
    });
    println!("sm3 ÷ sha-256: {:.2}", sm / sha);
}
