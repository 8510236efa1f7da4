//! Property tests: canonical round-trips, and decoders that never panic on hostile bytes.
//! proptest prints the failing input and persists its seed for replay.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use huxin_types::tx::{AnchorDocument, DealStage, Expiry, TenderRef};
use huxin_types::{
    codec, Action, Block, ChainId, Hash32, Height, RegionCode, SecretKey, SignedTx, TimestampMs, TxBody, Uscc,
};

fn stage() -> impl Strategy<Value = DealStage> {
    prop_oneof![
        Just(DealStage::Announcement),
        Just(DealStage::Bid),
        Just(DealStage::EvaluationReport),
        Just(DealStage::AwardNotice),
        Just(DealStage::Archive),
    ]
}

fn body() -> impl Strategy<Value = TxBody> {
    (
        "[a-z0-9-]{1,64}",
        any::<[u8; 32]>(),
        any::<u64>(),
        prop_oneof![
            any::<u64>().prop_map(|h| Expiry::Height(Height(h))),
            any::<u64>().prop_map(|t| Expiry::Time(TimestampMs(t)))
        ],
        110_000u32..=829_999,
        ".{0,40}",
        ".{0,10}",
        stage(),
        any::<[u8; 32]>(),
        ".{0,60}",
    )
        .prop_map(|(chain, seed, nonce, expiry, region, project, section, stage, doc, title)| TxBody {
            chain_id: ChainId::new(&chain).unwrap(),
            signer: SecretKey::from_bytes(seed).public_key(),
            nonce,
            expiry,
            action: Action::AnchorDocument(AnchorDocument {
                tender: TenderRef {
                    region: RegionCode::new(region).unwrap(),
                    project_code: project,
                    section_code: section,
                },
                stage,
                document_hash: Hash32(doc),
                title,
                deal_code: String::new(),
                platform_code: String::new(),
                parties: vec![huxin_types::Uscc::with_check("91330100MA0000001").expect("a valid code")],
                experts: Vec::new(),
                estimated_price_fen: None,
            }),
        })
}

proptest! {
    #[test]
    fn tx_body_round_trips(body in body()) {
        let bytes = body.encode();
        let back: TxBody = codec::decode_canonical(&bytes, usize::MAX).unwrap();
        prop_assert_eq!(&back, &body);
        prop_assert_eq!(back.hash(), body.hash());
    }

    #[test]
    fn signed_tx_round_trips_and_verifies(body in body(), seed in any::<[u8; 32]>()) {
        let key = SecretKey::from_bytes(seed);
        let mut body = body;
        body.signer = key.public_key();
        let tx = body.sign(&key);
        let bytes = tx.encode();
        prop_assume!(bytes.len() <= huxin_types::limits::TX_BYTES_MAX);
        let back = SignedTx::decode(&bytes).unwrap();
        prop_assert!(back.verify_signature().is_ok());
        prop_assert_eq!(back, tx);
    }

    #[test]
    fn decoders_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SignedTx::decode(&bytes);
        let _ = Block::decode(&bytes);
        let _ = codec::decode_canonical::<TxBody>(&bytes, 1024);
    }

    #[test]
    fn flipped_bytes_never_verify_as_the_original(body in body(), index in any::<prop::sample::Index>(), bit in 0u8..8) {
        let key = SecretKey::from_bytes([3; 32]);
        let mut body = body;
        body.signer = key.public_key();
        let tx = body.sign(&key);
        let mut bytes = tx.encode();
        let i = index.index(bytes.len());
        bytes[i] ^= 1 << bit;
        if let Ok(mutated) = SignedTx::decode(&bytes) {
            // Whatever still decodes is a different transaction, and its signature fails.
            prop_assert!(mutated != tx);
            prop_assert!(mutated.verify_signature().is_err());
        }
    }

    #[test]
    fn uscc_with_check_always_parses(body in "[0-9A-HJ-NPQRTUWXY]{17}") {
        let code = Uscc::with_check(&body).unwrap();
        prop_assert!(Uscc::parse(code.as_str()).is_ok());
        // Any other check character is refused.
        let last = code.as_str().chars().last().unwrap();
        let other = if last == '0' { '1' } else { '0' };
        let wrong = format!("{}{}", body, other);
        prop_assert!(Uscc::parse(&wrong).is_err());
    }

    /// Every identifier parser is total: any text, ASCII or not, gives a value or a typed error.
    #[test]
    fn identifier_parsers_never_panic_on_any_text(text in any::<String>(), near in "[0-9A-Yé统]{16,19}") {
        for s in [text.as_str(), near.as_str()] {
            let _ = Uscc::parse(s);
            let _ = s.parse::<RegionCode>();
            let _ = s.parse::<Hash32>();
            let _ = s.parse::<huxin_types::TxHash>();
            let _ = s.parse::<huxin_types::identity::SubjectId>();
            let _ = ChainId::new(s);
            let _ = serde_json::from_str::<Uscc>(&format!("{s:?}"));
        }
    }
}
