//! Signature and hashing throughput of one core: `cargo bench -p huxin-types --bench signatures`.
//! Build with `RUSTFLAGS='--cfg curve25519_dalek_backend="avx512"'` to use the AVX-512 backend.

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

fn rate(label: &str, n: usize, f: impl FnMut(usize)) {
    let mut f = f;
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{label:<28} {:>10.0} /s  ({:.2} µs each)", n as f64 / secs, secs * 1e6 / n as f64);
}

fn main() {
    let key = SecretKey::from_bytes([1; 32]);
    let n = 20_000;
    let txs: Vec<SignedTx> = (0..n as u64).map(|i| tx(&key, i + 1)).collect();
    rate("sign transaction", n, |i| {
        std::hint::black_box(txs[i].body.clone().sign(&key));
    });
    rate("verify transaction", n, |i| {
        assert!(txs[i].verify_signature().is_ok());
    });
    let message: Vec<Vec<u8>> = txs
        .iter()
        .map(|t| huxin_types::crypto::signing_input(huxin_types::crypto::Domain::Tx, &t.body.encode()))
        .collect();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key().0).unwrap();
    let sigs: Vec<ed25519_dalek::Signature> =
        txs.iter().map(|t| ed25519_dalek::Signature::from_bytes(&t.signature.0)).collect();
    rate("  decompress public key", n, |_| {
        std::hint::black_box(ed25519_dalek::VerifyingKey::from_bytes(&key.public_key().0).unwrap());
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
}
