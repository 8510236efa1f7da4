use std::collections::BTreeMap;

use huxin_types::genesis::{Genesis, GenesisMember, GenesisValidator, Role};
use huxin_types::tx::{AnchorDocument, DealStage, TenderRef};
use huxin_types::{codec, ChainId, Hash32, RegionCode, SecretKey, Uscc};

use super::*;

#[derive(Default)]
struct Memory(BTreeMap<Vec<u8>, Vec<u8>>);

impl KvState for Memory {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.0.insert(key, value);
    }
    fn delete(&mut self, key: Vec<u8>) {
        self.0.remove(&key);
    }
}

const ROLES: [Role; 3] = [Role::TradingCentre, Role::GuaranteeProvider, Role::Supervisor];

fn member(role: Role, key: &SecretKey) -> GenesisMember {
    let i = ROLES.iter().position(|r| *r == role).unwrap();
    GenesisMember {
        name: format!("{role:?}"),
        role,
        region: RegionCode::new(330100).unwrap(),
        uscc: Uscc::with_check(&format!("9133010000000000{i}")).unwrap(),
        keys: vec![key.public_key()],
    }
}

fn setup() -> (Memory, Vec<SecretKey>) {
    let keys: Vec<SecretKey> = (0..3).map(|i| SecretKey::from_bytes([i as u8 + 1; 32])).collect();
    let genesis = Genesis {
        chain_id: ChainId::new("t").unwrap(),
        genesis_time: TimestampMs(0),
        members: ROLES.iter().zip(&keys).map(|(r, k)| member(*r, k)).collect(),
        validators: vec![GenesisValidator { member: "TradingCentre".into(), public_key: keys[0].public_key(), power: 1 }],
    };
    let mut state = Memory::default();
    for (k, v) in registry::genesis_writes(&genesis) {
        state.put(k, v);
    }
    (state, keys)
}

fn anchor(doc: u8) -> Action {
    Action::AnchorDocument(AnchorDocument {
        tender: TenderRef { region: RegionCode::new(330100).unwrap(), project_code: "P".into(), section_code: "S".into() },
        stage: DealStage::Bid,
        document_hash: Hash32([doc; 32]),
        title: "t".into(),
    })
}

fn ctx(state: &Memory, key: &SecretKey) -> TxContext {
    TxContext {
        height: Height(5),
        time: TimestampMs(1_000),
        tx_hash: TxHash([9; 32]),
        signer: key.public_key(),
        member: registry::signer_member(state, &key.public_key()).unwrap(),
    }
}

/// Every transaction kind × every role: allowed exactly where the permission table says.
#[test]
fn permission_matrix() {
    let (mut state, keys) = setup();
    let kinds = [anchor(1)];
    for (role, key) in ROLES.iter().zip(&keys) {
        for action in &kinds {
            let expected = permission::allowed_roles(action).contains(role);
            let result = apply(&ctx(&state, key), &mut state, action);
            match result {
                Ok(()) => assert!(expected, "{role:?} may not send {}", action.kind()),
                Err(r) if r.code == RejectCode::NotPermitted => {
                    assert!(!expected, "{role:?} should be allowed {}", action.kind());
                    assert!(r.reason.contains(role.as_str()), "reason names the role: {}", r.reason);
                }
                Err(r) => panic!("unexpected rejection {r}"),
            }
        }
    }
}

#[test]
fn nonces_run_in_sequence_and_inactive_members_cannot_sign() {
    let (mut state, keys) = setup();
    let key = keys[0].public_key();
    assert!(registry::check_nonce(&state, &key, 1).is_ok());
    assert_eq!(registry::check_nonce(&state, &key, 2).unwrap_err().code, RejectCode::BadNonce);
    registry::consume_nonce(&mut state, &key, 1);
    assert_eq!(registry::check_nonce(&state, &key, 1).unwrap_err().code, RejectCode::BadNonce);
    assert!(registry::check_nonce(&state, &key, 2).is_ok());

    let mut record = registry::signer_member(&state, &key).unwrap();
    record.status = MemberStatus::Suspended;
    state.put(keys::member(&record.id), codec::encode(&record));
    let r = registry::signer_member(&state, &key).unwrap_err();
    assert_eq!(r.code, RejectCode::SignerInactive);
    assert!(r.reason.contains("Suspended"), "{}", r.reason);

    let stranger = SecretKey::from_bytes([77; 32]).public_key();
    assert_eq!(registry::signer_member(&state, &stranger).unwrap_err().code, RejectCode::UnknownSigner);
}

#[test]
fn anchors_record_who_and_when_and_refuse_duplicates_and_bad_fields() {
    let (mut state, keys) = setup();
    let c = ctx(&state, &keys[0]);
    apply(&c, &mut state, &anchor(4)).unwrap();
    let records = deal::anchors_of(&state, &Hash32([4; 32]));
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].height, records[0].time, records[0].anchored_by), (Height(5), TimestampMs(1_000), c.member.id));
    assert_eq!(apply(&c, &mut state, &anchor(4)).unwrap_err().code, RejectCode::Conflict);

    let Action::AnchorDocument(mut long) = anchor(5);
    long.title = "长".repeat(100);
    let r = apply(&c, &mut state, &Action::AnchorDocument(long)).unwrap_err();
    assert_eq!(r.code, RejectCode::InvalidField);
    assert!(r.reason.contains("title"), "{}", r.reason);

    // The same document may be anchored to another stage, up to the per-document bound.
    for (i, stage) in [DealStage::OpeningRecord, DealStage::Archive].into_iter().enumerate() {
        let Action::AnchorDocument(mut a) = anchor(4);
        a.stage = stage;
        apply(&c, &mut state, &Action::AnchorDocument(a)).unwrap();
        assert_eq!(deal::anchors_of(&state, &Hash32([4; 32])).len(), i + 2);
    }
}
