use jmt::mock::MockTreeStore;
use jmt::storage::TreeWriter;

use huxin_types::crypto::Suite;
use huxin_types::genesis::{Genesis, GenesisMember, GenesisValidator, Role};
use huxin_types::tx::{AnchorDocument, DealStage, Expiry, TenderRef};
use huxin_types::{Action, ChainId, Hash32, RegionCode, RejectCode, SecretKey, TxBody, Uscc};

use super::*;

struct Net {
    genesis: Genesis,
    centre: SecretKey,
    supervisor: SecretKey,
    validator: SecretKey,
    store: MockTreeStore,
}

fn net() -> Net {
    let centre = SecretKey::from_bytes([1; 32]);
    let supervisor = SecretKey::from_bytes([2; 32]);
    let validator = SecretKey::from_bytes([3; 32]);
    let genesis = Genesis {
        chain_id: ChainId::new("test-chain").unwrap(),
        genesis_time: TimestampMs(1_000),
        members: vec![
            GenesisMember {
                name: "hangzhou".into(),
                role: Role::TradingCentre,
                region: RegionCode::new(330100).unwrap(),
                uscc: Uscc::with_check("12330100MB0000001").unwrap(),
                keys: vec![centre.public_key()],
            },
            GenesisMember {
                name: "supervisor".into(),
                role: Role::Supervisor,
                region: RegionCode::new(330000).unwrap(),
                uscc: Uscc::with_check("11330000MB0000002").unwrap(),
                keys: vec![supervisor.public_key()],
            },
        ],
        validators: vec![GenesisValidator {
            member: "hangzhou".into(),
            public_key: validator.public_key(),
            power: 1,
            node_key: None,
        }],
        suite: Default::default(),
    };
    let store = MockTreeStore::default();
    let (_, executed) = execute_genesis(&store, &genesis).unwrap();
    store.write_node_batch(&executed.tree_batch.node_batch).unwrap();
    Net { genesis, centre, supervisor, validator, store }
}

fn anchor_tx(key: &SecretKey, chain: &str, nonce: u64, doc: u8) -> SignedTx {
    TxBody {
        chain_id: ChainId::new(chain).unwrap(),
        signer: key.public_key(),
        nonce,
        expiry: Expiry::Height(Height(100)),
        action: Action::AnchorDocument(AnchorDocument {
            tender: TenderRef {
                region: RegionCode::new(330100).unwrap(),
                project_code: "P1".into(),
                section_code: "S1".into(),
            },
            stage: DealStage::Announcement,
            document_hash: Hash32([doc; 32]),
            title: "bid".into(),
            deal_code: String::new(),
            platform_code: String::new(),
            parties: Vec::new(),
            experts: Vec::new(),
            estimated_price_fen: None,
        }),
    }
    .sign(key)
}

fn no_cache(_: &SignedTx) -> bool {
    false
}

/// The blocks these tests build hold at most this.
const LIMITS: BlockLimits = BlockLimits { txs: 100, bytes: 1 << 20 };

impl Net {
    /// A block of `txs` on `parent`, built from this node's store by its validator at 2 s, every
    /// signature checked.
    fn build(&self, parent: &Parent, txs: Vec<SignedTx>) -> Built {
        build_block(&self.store, parent, self.validator.public_key(), TimestampMs(2_000), txs, LIMITS, &no_cache)
            .unwrap()
    }
}

const OPTS: ValidateOptions = ValidateOptions {
    now: Some(TimestampMs(10_000)),
    time_drift_ms_max: 2_000,
    signatures_verified: false,
    signature_threads: 1,
};

#[test]
fn anchor_applies_and_duplicate_is_rejected_in_receipt() {
    let n = net();
    let parent = Parent::genesis(&n.genesis);
    let txs = vec![
        anchor_tx(&n.centre, "test-chain", 1, 9),
        anchor_tx(&n.centre, "test-chain", 2, 9), // same document, tender and stage
    ];
    let Built { block, executed, skipped } = n.build(&parent, txs);
    assert!(skipped.is_empty());
    assert_eq!(block.txs.len(), 2);
    assert_eq!(executed.receipts[0].outcome, Outcome::Applied);
    match &executed.receipts[1].outcome {
        Outcome::Rejected(r) => assert_eq!(r.code, RejectCode::Conflict),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The rejected transaction consumed its nonce but wrote no anchor.
    let nonce_key = huxin_contracts::keys::nonce(&n.centre.public_key());
    assert_eq!(executed.writes.get(&nonce_key), Some(&Some(huxin_types::codec::encode(&2u64))));
    let anchors: Vec<huxin_contracts::deal::AnchorRecord> = huxin_types::codec::decode_canonical(
        executed.writes[&huxin_contracts::keys::document(&Hash32([9; 32]))].as_ref().unwrap(),
        usize::MAX,
    )
    .unwrap();
    assert_eq!(anchors.len(), 1);

    // Another validator re-executes it to the same roots.
    let again = validate_block(&n.store, &parent, &block, OPTS, &no_cache).unwrap();
    assert_eq!(again.header.state_root, block.header.state_root);
}

/// A store whose value reads fail (a disk fault): tree nodes still read.
struct FailingValues<'a>(&'a MockTreeStore);

impl crate::StateReader for FailingValues<'_> {
    fn suite(&self) -> Suite {
        Suite::Ed25519Sha256
    }
}

impl TreeReader for FailingValues<'_> {
    fn get_node_option(&self, key: &jmt::storage::NodeKey) -> anyhow::Result<Option<jmt::storage::Node>> {
        self.0.get_node_option(key)
    }
    fn get_value_option(&self, _: u64, _: jmt::KeyHash) -> anyhow::Result<Option<jmt::OwnedValue>> {
        Err(anyhow::anyhow!("injected disk fault"))
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(jmt::storage::NodeKey, jmt::storage::LeafNode)>> {
        self.0.get_rightmost_leaf()
    }
}

/// Regression: a failed read answered "absent", so a disk fault made a member an "unknown
/// signer" (its transactions skipped, or a peer's block voted down as `BadTx`) and a nonce "0".
/// A read fault is now a state error everywhere: the builder and the validator stop with
/// `InvalidBlock::State` (consensus stops the node), and admission answers a state error, not a
/// rejection.
#[test]
fn a_read_fault_is_never_a_rejection() {
    let n = net();
    let parent = Parent::genesis(&n.genesis);
    let tx = anchor_tx(&n.centre, "test-chain", 1, 1);
    let Built { block, .. } = n.build(&parent, vec![tx.clone()]);
    let faulty = FailingValues(&n.store);
    let built = build_block(
        &faulty,
        &parent,
        n.validator.public_key(),
        TimestampMs(2_000),
        vec![tx.clone()],
        LIMITS,
        &no_cache,
    );
    let built = built.err();
    assert!(matches!(built, Some(InvalidBlock::State(ref e)) if e.contains("injected disk fault")), "{built:?}");
    let validated = validate_block(&faulty, &parent, &block, OPTS, &no_cache).err();
    assert!(matches!(validated, Some(InvalidBlock::State(_))), "{validated:?}");
    let view = StateView::new(&faulty, 0);
    let chain = ChainId::new("test-chain").unwrap();
    let admitted = check_mempool_admission(&view, &chain, Suite::Ed25519Sha256, &tx, Height(1), TimestampMs(2_000));
    assert!(matches!(admitted, Err(huxin_contracts::Error::State(_))), "{admitted:?}");
    assert!(view.read_error().is_some());
}

#[test]
fn builder_skips_what_cannot_be_included() {
    let n = net();
    let parent = Parent::genesis(&n.genesis);
    let stranger = SecretKey::from_bytes([9; 32]);
    let mut bad_sig = anchor_tx(&n.centre, "test-chain", 1, 1);
    bad_sig.signature.0[0] ^= 1;
    let txs = vec![
        anchor_tx(&stranger, "test-chain", 1, 1),     // unknown signer
        anchor_tx(&n.centre, "other-chain", 1, 2),    // wrong chain
        anchor_tx(&n.centre, "test-chain", 2, 3),     // nonce gap
        bad_sig,                                      // bad signature
        anchor_tx(&n.supervisor, "test-chain", 1, 4), // not permitted: included, rejected
    ];
    let Built { block, executed, skipped } = n.build(&parent, txs);
    let codes: Vec<RejectCode> = skipped.iter().map(|(_, r)| r.code).collect();
    assert_eq!(
        codes,
        vec![RejectCode::UnknownSigner, RejectCode::WrongChain, RejectCode::BadNonce, RejectCode::BadSignature]
    );
    assert_eq!(block.txs.len(), 1);
    match &executed.receipts[0].outcome {
        Outcome::Rejected(r) => {
            assert_eq!(r.code, RejectCode::NotPermitted);
            assert!(r.reason.contains("supervisor"), "{}", r.reason);
        }
        other => panic!("expected not permitted, got {other:?}"),
    }
}

#[test]
fn validators_refuse_tampered_blocks() {
    let n = net();
    let parent = Parent::genesis(&n.genesis);
    let Built { block, .. } = n.build(&parent, vec![anchor_tx(&n.centre, "test-chain", 1, 1)]);

    let mut wrong_root = block.clone();
    wrong_root.header.state_root = Hash32([1; 32]);
    assert!(matches!(
        validate_block(&n.store, &parent, &wrong_root, OPTS, &no_cache),
        Err(InvalidBlock::RootMismatch { field: "state_root", .. })
    ));

    let mut replay = block.clone();
    replay.txs.push(block.txs[0].clone());
    replay.header.tx_count = 2;
    replay.header.txs_root = huxin_types::block::txs_root(Suite::Ed25519Sha256, &replay.txs);
    assert!(matches!(
        validate_block(&n.store, &parent, &replay, OPTS, &no_cache),
        Err(InvalidBlock::BadTx { index: 1, rejection: Rejection { code: RejectCode::BadNonce, .. }, .. })
    ));

    let mut future = block.clone();
    future.header.time = TimestampMs(20_000);
    assert!(matches!(
        validate_block(&n.store, &parent, &future, OPTS, &no_cache),
        Err(InvalidBlock::TimeInFuture { .. })
    ));

    let mut stale = block.clone();
    stale.header.time = TimestampMs(1_000);
    assert!(matches!(
        validate_block(&n.store, &parent, &stale, OPTS, &no_cache),
        Err(InvalidBlock::TimeNotIncreasing { .. })
    ));

    let mut forged = block.clone();
    forged.txs[0].signature.0[5] ^= 0x40;
    forged.header.txs_root = huxin_types::block::txs_root(Suite::Ed25519Sha256, &forged.txs);
    assert!(matches!(
        validate_block(&n.store, &parent, &forged, OPTS, &no_cache),
        Err(InvalidBlock::BadTx { rejection: Rejection { code: RejectCode::BadSignature, .. }, .. })
    ));
    // Verified on several threads first, the same block is refused with the same error.
    for threads in [2, 8] {
        let options = ValidateOptions { signature_threads: threads, ..OPTS };
        assert_eq!(
            validate_block(&n.store, &parent, &forged, options, &no_cache).err(),
            validate_block(&n.store, &parent, &forged, OPTS, &no_cache).err(),
        );
        assert!(validate_block(&n.store, &parent, &block, options, &no_cache).is_ok());
    }
}

#[test]
fn expired_transactions_are_not_includable() {
    let n = net();
    let parent = Parent::genesis(&n.genesis);
    let mut body = anchor_tx(&n.centre, "test-chain", 1, 1).body;
    body.expiry = Expiry::Time(TimestampMs(1_500));
    let tx = body.sign(&n.centre);
    let Built { skipped, .. } = n.build(&parent, vec![tx]);
    assert_eq!(skipped[0].1.code, RejectCode::Expired);
    assert!(skipped[0].1.reason.contains("1500"), "{}", skipped[0].1.reason);
}

#[test]
fn execution_is_deterministic() {
    let a = net();
    let b = net();
    let txs: Vec<SignedTx> = (1..=20).map(|i| anchor_tx(&a.centre, "test-chain", i, i as u8)).collect();
    let ra = build_block(
        &a.store,
        &Parent::genesis(&a.genesis),
        a.validator.public_key(),
        TimestampMs(5_000),
        txs.clone(),
        LIMITS,
        &no_cache,
    )
    .unwrap();
    let rb = build_block(
        &b.store,
        &Parent::genesis(&b.genesis),
        b.validator.public_key(),
        TimestampMs(5_000),
        txs,
        LIMITS,
        &no_cache,
    )
    .unwrap();
    assert_eq!(ra.block.hash(), rb.block.hash());
    assert_ne!(ra.block.header.state_root, Hash32::ZERO);
}

/// Regression: mempool admission verified the signature before looking the signer up, so a
/// stranger's forged transactions each cost a verification. Membership and nonce come first.
#[test]
fn mempool_admission_checks_the_signer_before_the_signature() {
    let n = net();
    let chain = ChainId::new("test-chain").unwrap();
    let store = crate::InSuite { reader: &n.store, suite: Suite::Ed25519Sha256 };
    let view = StateView::new(&store, 0);
    let stranger = SecretKey::from_bytes([9; 32]);
    let mut forged_by_stranger = anchor_tx(&stranger, "test-chain", 1, 1);
    forged_by_stranger.signature.0[0] ^= 1;
    let refused = check_mempool_admission(
        &view,
        &chain,
        Suite::Ed25519Sha256,
        &forged_by_stranger,
        Height(1),
        TimestampMs(2_000),
    )
    .unwrap_err();
    assert_eq!(refused.rejection().unwrap().code, RejectCode::UnknownSigner);

    // A member's transaction with a forged signature is still refused for it.
    let mut forged = anchor_tx(&n.centre, "test-chain", 1, 2);
    forged.signature.0[0] ^= 1;
    let refused = check_mempool_admission(&view, &chain, Suite::Ed25519Sha256, &forged, Height(1), TimestampMs(2_000))
        .unwrap_err();
    assert_eq!(refused.rejection().unwrap().code, RejectCode::BadSignature);
    assert!(check_mempool_admission(
        &view,
        &chain,
        Suite::Ed25519Sha256,
        &anchor_tx(&n.centre, "test-chain", 1, 3),
        Height(1),
        TimestampMs(2_000)
    )
    .is_ok());
}

/// `TooLarge` was declared and never built: a block whose transactions add up to more than
/// `BLOCK_BYTES_MAX` is refused before any of them is executed.
#[test]
fn an_oversized_block_is_refused() {
    let n = net();
    let parent = Parent::genesis(&n.genesis);
    let Built { mut block, .. } = n.build(&parent, Vec::new());
    let mut big = anchor_tx(&n.centre, "test-chain", 1, 1);
    if let Action::AnchorDocument(a) = &mut big.body.action {
        a.title = "x".repeat(16_000);
    }
    let copies = huxin_types::limits::BLOCK_BYTES_MAX / big.encoded_len() + 1;
    block.txs = vec![big; copies];
    assert!(matches!(validate_block(&n.store, &parent, &block, OPTS, &no_cache), Err(InvalidBlock::TooLarge { .. })));
}
