//! Golden vectors: the canonical bytes and hashes of fixed values. A change here is a format
//! change — every signature and hash on an existing chain depends on these bytes.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

use huxin_types::block::BlockHeader;
use huxin_types::crypto::{Domain, PublicKey, SecretKey, Suite};
use huxin_types::genesis::{Genesis, GenesisMember, GenesisValidator, Role};
use huxin_types::tx::{AnchorDocument, DealStage, Expiry, TenderRef};
use huxin_types::{codec, Action, BlockHash, ChainId, Hash32, Height, RegionCode, SignedTx, TimestampMs, TxBody, Uscc};

fn key() -> SecretKey {
    SecretKey::from_bytes([0x11; 32])
}

fn body() -> TxBody {
    TxBody {
        chain_id: ChainId::new("huxin-golden").unwrap(),
        signer: key().public_key(),
        nonce: 7,
        expiry: Expiry::Height(Height(1_000)),
        action: Action::AnchorDocument(AnchorDocument {
            tender: TenderRef {
                region: RegionCode::new(330100).unwrap(),
                project_code: "ZJ-2026-001".into(),
                section_code: "1".into(),
            },
            stage: DealStage::Bid,
            document_hash: Hash32([0xab; 32]),
            title: "投标文件".into(),
            deal_code: String::new(),
            platform_code: String::new(),
            parties: vec![huxin_types::Uscc::with_check("91330100MA0000001").expect("a valid code")],
            experts: Vec::new(),
            estimated_price_fen: None,
        }),
    }
}

fn check(name: &str, actual: String, expected: &str) {
    assert_eq!(actual, expected, "golden vector {name} changed:\n  actual   {actual}\n  expected {expected}");
}

#[test]
fn transaction_body_bytes_hash_and_signature() {
    let body = body();
    check("public key", key().public_key().to_hex(), GOLDEN_PUBLIC_KEY);
    check("tx body", hex::encode(body.encode()), GOLDEN_TX_BODY);
    check("tx hash", body.hash().to_hex(), GOLDEN_TX_HASH);
    let signed = body.clone().sign(&key());
    // ed25519 signatures are deterministic.
    check("tx signature", signed.signature.to_hex(), GOLDEN_TX_SIGNATURE);
    assert!(signed.verify_signature().is_ok());
    let decoded = SignedTx::decode(&signed.encode()).unwrap();
    assert_eq!(decoded, signed);
}

fn header(proposer: PublicKey) -> BlockHeader {
    BlockHeader {
        chain_id: ChainId::new("huxin-golden").unwrap(),
        height: Height(42),
        time: TimestampMs(1_764_000_000_000),
        parent_hash: BlockHash([1; 32]),
        proposer,
        tx_count: 3,
        txs_root: Hash32([2; 32]),
        state_root: Hash32([3; 32]),
        receipts_root: Hash32([4; 32]),
    }
}

/// One trading centre whose `key` signs and votes (beside `node_key`, on a chain that is not
/// ed25519).
fn genesis(key: PublicKey, node_key: Option<PublicKey>, suite: Suite) -> Genesis {
    Genesis {
        chain_id: ChainId::new("huxin-golden").unwrap(),
        genesis_time: TimestampMs(1_764_000_000_000),
        members: vec![GenesisMember {
            name: "杭州市公共资源交易中心".into(),
            role: Role::TradingCentre,
            region: RegionCode::new(330100).unwrap(),
            uscc: Uscc::with_check("12330100MB0000001").unwrap(),
            keys: vec![key],
        }],
        validators: vec![GenesisValidator {
            member: "杭州市公共资源交易中心".into(),
            public_key: key,
            power: 1,
            node_key,
        }],
        suite,
    }
}

#[test]
fn block_header_hash() {
    let header = header(key().public_key());
    check("header", hex::encode(codec::encode(&header)), GOLDEN_HEADER);
    check("block hash", header.hash().to_hex(), GOLDEN_BLOCK_HASH);
}

#[test]
fn genesis_hash() {
    let genesis = genesis(key().public_key(), None, Suite::Ed25519Sha256);
    check("genesis hash", genesis.hash().to_hex(), GOLDEN_GENESIS_HASH);
}

#[test]
fn domain_tags_are_part_of_the_signed_bytes() {
    let input = huxin_types::crypto::signing_input(Domain::Tx, b"abc");
    assert_eq!(input, b"huxin/v1/tx\0abc");
    let merkle = Suite::Ed25519Sha256.merkle_root(&[[1; 32], [2; 32], [3; 32]]);
    check("merkle root of three leaves", merkle.to_hex(), GOLDEN_MERKLE_3);
}

// Byte layout of the body: chain id (len 12), signer (len 32), nonce 7, expiry variant 0 + height
// 1000 (varint fb e803), action variant 0, region 330100 (varint fc + u32 LE), project, section,
// stage 3 (bid), document hash (len 32), title (12 UTF-8 bytes).
const GOLDEN_PUBLIC_KEY: &str = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737";
const GOLDEN_TX_BODY: &str = "0c687578696e2d676f6c64656e20d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c97787370700fbe80300fc740905000b5a4a2d323032362d30303101310320abababababababababababababababababababababababababababababababab0ce68a95e6a087e69687e4bbb60000011239313333303130304d4130303030303031460000";
const GOLDEN_TX_HASH: &str = "4073d03a84e9a39cb6e0ab2c4de9bf8b5d77ca85a18e9826586873ae20e5e3e0";
const GOLDEN_TX_SIGNATURE: &str = "ca8bdfc42c1a9cb5b892fd08d6121bcbdbfebded39f73d68c4f149a77e6705f6ab65817021c68ac1353c27c39bb7cd5d77cc10873feedc580d9a389065c6870a";
const GOLDEN_HEADER: &str = "0c687578696e2d676f6c64656e2afd00e897b69a01000020010101010101010101010101010101010101010101010101010101010101010120d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c977873703200202020202020202020202020202020202020202020202020202020202020202200303030303030303030303030303030303030303030303030303030303030303200404040404040404040404040404040404040404040404040404040404040404";
const GOLDEN_BLOCK_HASH: &str = "15a6a76bfaab72853952aa1af95a0924784d3416e6c4d00d679c73621e41fc16";
const GOLDEN_GENESIS_HASH: &str = "0e79697d2999c3c98440ba30c6cce9f8062179dcda009520c0efd356cdcd64de";
const GOLDEN_MERKLE_3: &str = "0479d06fbc8bd667d6c53e3ec229858fc27bb8d883015478a292757338576797";

#[test]
fn receipt_hash() {
    use huxin_types::{Outcome, Receipt, RejectCode, Rejection, TxHash};
    let applied = Receipt { tx_hash: TxHash([5; 32]), outcome: Outcome::Applied };
    check(
        "receipt applied",
        applied.hash(Suite::Ed25519Sha256).to_hex(),
        "df6d6d42b12c6d5f7a4be0ec35515ad4f945f78041c93913ddefb409bf11e0c7",
    );
    let rejected = Receipt {
        tx_hash: TxHash([5; 32]),
        outcome: Outcome::Rejected(Rejection::new(RejectCode::Conflict, "any wording")),
    };
    check(
        "receipt rejected",
        rejected.hash(Suite::Ed25519Sha256).to_hex(),
        "10ed88a4d23758344ad835b0bc47bf6926e09d99cddd24f74de0e24cd673ff1a",
    );
}

/// The same values on an `sm2-sm3` chain: every hash is SM3 (cross-checked against two
/// independent SM3 implementations by `tests/national_crypto.rs`). SM2 signatures are not
/// deterministic, so only the key and the hashes are golden.
#[test]
fn sm2_chain_hashes() {
    let key = SecretKey::derive_in(Suite::Sm2Sm3, [0x11; 32]);
    let body = TxBody { signer: key.public_key(), ..body() };
    check("SM2 public key", key.public_key().to_hex(), GOLDEN_SM2_PUBLIC_KEY);
    check("SM2 tx hash", body.hash().to_hex(), GOLDEN_SM2_TX_HASH);
    check("SM2 block hash", header(key.public_key()).hash().to_hex(), GOLDEN_SM2_BLOCK_HASH);
    let node = SecretKey::from_bytes([0x22; 32]).public_key();
    let genesis = genesis(key.public_key(), Some(node), Suite::Sm2Sm3);
    assert_eq!(genesis.validate(), Ok(()));
    check("SM2 genesis hash", genesis.hash().to_hex(), GOLDEN_SM2_GENESIS_HASH);
    let merkle = Suite::Sm2Sm3.merkle_root(&[[1; 32], [2; 32], [3; 32]]);
    check("SM2 merkle root of three leaves", merkle.to_hex(), GOLDEN_SM2_MERKLE_3);
    let applied =
        huxin_types::Receipt { tx_hash: huxin_types::TxHash([5; 32]), outcome: huxin_types::Outcome::Applied };
    check("SM2 receipt applied", applied.hash(Suite::Sm2Sm3).to_hex(), GOLDEN_SM2_RECEIPT_APPLIED);
}

const GOLDEN_SM2_PUBLIC_KEY: &str = "02852611f744af045689dcfbf4c0437730d2d2de332ab7f0fc02769c5fab8a8943";
const GOLDEN_SM2_TX_HASH: &str = "1738ce5745e2460b15c9b2c8cfc87bc94eeb396ffebc95e9389d1a807bc44da8";
const GOLDEN_SM2_BLOCK_HASH: &str = "24c032e21c67c686c5cd370e63afc5bbb7a12a727a594005a00e49914b566602";
const GOLDEN_SM2_GENESIS_HASH: &str = "ea4227a73e5cd79ef35bcb9bc3dc5fcf9a24f2f25527c913111240f0d5adec43";
const GOLDEN_SM2_MERKLE_3: &str = "8885ca2340bf7879db0e7fc5008afce4e03e05a24c67453c9c0d73a66fbedf7c";
const GOLDEN_SM2_RECEIPT_APPLIED: &str = "ae709db08dfbe872c59bc8a0aa9e7de713404addc74d27ea506b22e5599e4cc6";
