use huxin_types::tx::{AnchorDocument, DealStage, Expiry, TenderRef};
use huxin_types::{Action, ChainId, Hash32, RegionCode, SecretKey, TxBody};

use super::*;

fn tx(key: &SecretKey, nonce: u64, expiry: Expiry) -> SignedTx {
    TxBody {
        chain_id: ChainId::new("t").unwrap(),
        signer: key.public_key(),
        nonce,
        expiry,
        action: Action::AnchorDocument(AnchorDocument {
            tender: TenderRef {
                region: RegionCode::new(330100).unwrap(),
                project_code: "P".into(),
                section_code: "S".into(),
            },
            stage: DealStage::Bid,
            document_hash: Hash32([nonce as u8; 32]),
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

fn far() -> Expiry {
    Expiry::Height(Height(1_000))
}

#[test]
fn dedupes_and_refuses_taken_nonce() {
    let k = SecretKey::from_bytes([1; 32]);
    let mut pool = Mempool::new(MempoolConfig::default());
    let a = tx(&k, 1, far());
    pool.insert(a.clone()).unwrap();
    assert_eq!(pool.insert(a.clone()), Err(MempoolError::Duplicate(a.hash())));
    let b = tx(&k, 1, Expiry::Height(Height(999)));
    assert!(matches!(pool.insert(b), Err(MempoolError::NonceTaken { nonce: 1, .. })));
    assert_eq!(pool.len(), 1);
}

#[test]
fn bounded_in_count_bytes_and_per_signer() {
    let k = SecretKey::from_bytes([1; 32]);
    let mut pool = Mempool::new(MempoolConfig { txs_max: 3, bytes_max: usize::MAX, signer_txs_max: 2 });
    pool.insert(tx(&k, 1, far())).unwrap();
    pool.insert(tx(&k, 2, far())).unwrap();
    assert!(matches!(pool.insert(tx(&k, 3, far())), Err(MempoolError::SignerFull { count: 2, max: 2, .. })));
    let other = SecretKey::from_bytes([2; 32]);
    pool.insert(tx(&other, 1, far())).unwrap();
    assert!(matches!(pool.insert(tx(&other, 2, far())), Err(MempoolError::Full { txs: 3, .. })));

    let one = tx(&k, 1, far()).encoded_len();
    let mut small = Mempool::new(MempoolConfig { txs_max: 100, bytes_max: one * 2, signer_txs_max: 100 });
    small.insert(tx(&k, 1, far())).unwrap();
    small.insert(tx(&k, 2, far())).unwrap();
    assert!(matches!(small.insert(tx(&k, 3, far())), Err(MempoolError::Full { .. })));
    assert_eq!(small.bytes(), one * 2);
}

#[test]
fn selects_unbroken_nonce_runs_in_arrival_order() {
    let a = SecretKey::from_bytes([1; 32]);
    let b = SecretKey::from_bytes([2; 32]);
    let mut pool = Mempool::new(MempoolConfig::default());
    pool.insert(tx(&b, 2, far())).unwrap(); // b's run starts at 2: held until 1 arrives
    pool.insert(tx(&a, 2, far())).unwrap();
    pool.insert(tx(&a, 1, far())).unwrap();
    pool.insert(tx(&a, 4, far())).unwrap(); // gap at 3
    let picked = pool.select(100, usize::MAX, |_| 0);
    let got: Vec<(bool, u64)> = picked.iter().map(|t| (t.body.signer == a.public_key(), t.body.nonce)).collect();
    assert_eq!(got, vec![(true, 1), (true, 2)]);

    pool.insert(tx(&b, 1, far())).unwrap();
    let picked = pool.select(100, usize::MAX, |_| 0);
    assert_eq!(picked.len(), 4);
    // Runs are ordered by the arrival of their first transaction: a's nonce 1 came before b's.
    assert_eq!(picked[0].body.signer, a.public_key());
    assert_eq!(pool.select(1, usize::MAX, |_| 0).len(), 1);
}

#[test]
fn removes_used_and_expired() {
    let a = SecretKey::from_bytes([1; 32]);
    let mut pool = Mempool::new(MempoolConfig::default());
    for n in 1..=5 {
        pool.insert(tx(&a, n, far())).unwrap();
    }
    pool.insert(tx(&a, 6, Expiry::Time(TimestampMs(50)))).unwrap();
    pool.remove_used([a.public_key()], |_| 3);
    assert_eq!(pool.len(), 3);
    assert_eq!(pool.evict_expired(Height(10), TimestampMs(100)), 1);
    assert_eq!(pool.len(), 2);
    assert_eq!(pool.evict_expired(Height(1_001), TimestampMs(100)), 2);
    assert!(pool.is_empty());
    assert_eq!(pool.bytes(), 0);
}

/// After a block, the pool reads the ledger nonce only of the block's signers it holds something
/// of: a catching-up node's pool is empty, and every such read is a state lookup.
#[test]
fn removing_used_reads_nonces_only_of_signers_with_pending_transactions() {
    let (a, b) = (SecretKey::from_bytes([1; 32]), SecretKey::from_bytes([2; 32]));
    let mut pool = Mempool::new(MempoolConfig::default());
    pool.insert(tx(&a, 1, far())).unwrap();
    pool.insert(tx(&a, 2, far())).unwrap();
    let read = std::cell::RefCell::new(Vec::new());
    pool.remove_used([a.public_key(), b.public_key()], |key| {
        read.borrow_mut().push(*key);
        1
    });
    assert_eq!(read.into_inner(), vec![a.public_key()], "b has nothing pending");
    assert_eq!(pool.len(), 1, "a's nonce 1 is used, 2 stays");
}

/// Regression: a pool filled with transactions that cannot be included (nonces after a gap: a
/// client that sent out of order, or a member that sent future nonces) refused every
/// transaction that would have filled the gaps, and stayed full for good.
#[test]
fn a_full_pool_evicts_what_cannot_be_included_for_what_can() {
    let (k, other) = (SecretKey::from_bytes([1; 32]), SecretKey::from_bytes([2; 32]));
    let mut pool = Mempool::new(MempoolConfig { txs_max: 3, bytes_max: usize::MAX, signer_txs_max: 10 });
    for nonce in 3..=5 {
        pool.insert_ready(tx(&k, nonce, far()), 0).unwrap();
    }
    assert!(pool.select(10, usize::MAX, |_| 0).is_empty(), "nothing includable");
    // Another signer's next transaction makes room: the one furthest past its gap goes.
    let (_, evicted) = pool.insert_ready(tx(&other, 1, far()), 0).unwrap();
    assert_eq!(evicted.iter().map(|e| (e.signer, e.nonce)).collect::<Vec<_>>(), [(k.public_key(), 5)]);
    // A transaction past a gap is itself shed when the pool is full.
    assert!(matches!(pool.insert_ready(tx(&other, 3, far()), 0), Err(MempoolError::Full { .. })));
    // The key's own missing nonces come in and push out its stuck ones.
    let (_, evicted) = pool.insert_ready(tx(&k, 1, far()), 0).unwrap();
    assert_eq!(evicted.iter().map(|e| e.nonce).collect::<Vec<_>>(), [4]);
    // Nonce 3 is no longer stuck once 2 comes: with everything pending includable in turn, a
    // full pool refuses even an includable transaction (it is shed, and comes back later).
    assert!(matches!(pool.insert_ready(tx(&k, 2, far()), 0), Err(MempoolError::Full { .. })));
    // Without the 2, the 3 is stuck again: a third signer's next transaction takes its room.
    let third = SecretKey::from_bytes([3; 32]);
    let (_, evicted) = pool.insert_ready(tx(&third, 1, far()), 0).unwrap();
    assert_eq!(evicted.iter().map(|e| (e.signer, e.nonce)).collect::<Vec<_>>(), [(k.public_key(), 3)]);
    let fourth = SecretKey::from_bytes([4; 32]);
    assert!(matches!(pool.insert_ready(tx(&fourth, 1, far()), 0), Err(MempoolError::Full { .. })));
    assert_eq!(pool.select(10, usize::MAX, |_| 0).len(), 3, "everything pending is includable");
}
