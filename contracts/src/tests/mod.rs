use std::collections::BTreeMap;

use huxin_types::genesis::{Genesis, GenesisMember, GenesisValidator, Role};
use huxin_types::identity::{
    AttestSubject, BlacklistScope, LiftBlacklist, ListOnBlacklist, RecognitionPolicy, RevokeAttestation, SubjectId,
    SubjectKind,
};
use huxin_types::tx::{AnchorDocument, DealStage, TenderRef};
use huxin_types::{codec, ChainId, Hash32, MemberId, RegionCode, SecretKey, Uscc};

use super::*;

#[derive(Default)]
struct Memory(BTreeMap<Vec<u8>, Vec<u8>>);

impl KvState for Memory {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.0.get(key).cloned())
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.0.insert(key, value);
    }
    fn delete(&mut self, key: Vec<u8>) {
        self.0.remove(&key);
    }
}

/// The ledger right after `genesis`.
fn genesis_state(genesis: &Genesis) -> Memory {
    let mut state = Memory::default();
    for (k, v) in registry::genesis_writes(genesis) {
        state.put(k, v);
    }
    state
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
        validators: vec![GenesisValidator {
            member: "TradingCentre".into(),
            public_key: keys[0].public_key(),
            power: 1,
            node_key: None,
        }],
        suite: Default::default(),
    };
    (genesis_state(&genesis), keys)
}

fn anchor(doc: u8) -> Action {
    Action::AnchorDocument(AnchorDocument {
        tender: TenderRef {
            region: RegionCode::new(330100).unwrap(),
            project_code: "P".into(),
            section_code: "S".into(),
        },
        stage: DealStage::Announcement,
        document_hash: Hash32([doc; 32]),
        title: "t".into(),
        deal_code: String::new(),
        platform_code: String::new(),
        parties: Vec::new(),
        experts: Vec::new(),
        estimated_price_fen: None,
    })
}

fn ctx(state: &Memory, key: &SecretKey) -> TxContext {
    TxContext {
        chain_id: ChainId::new("t").unwrap(),
        height: Height(5),
        time: TimestampMs(1_000),
        tx_hash: TxHash([9; 32]),
        signer: key.public_key(),
        member: registry::signer_member(state, &key.public_key()).unwrap(),
    }
}

/// One action of every kind (the match makes adding a kind without listing it here a compile error).
fn every_kind(subject: &SubjectId) -> Vec<Action> {
    use huxin_types::credit::{CreditKind, RecordCredit, RepairCredit, RevokeCredit, Severity};
    use huxin_types::governance::{ProposalAction, Propose, Vote};
    use huxin_types::guarantee::{ClaimGuarantee, GuaranteeKind, GuaranteeNote, IssueGuarantee, PayGuarantee};
    use huxin_types::identity::{Statement, SubjectStatement};
    let tender = TenderRef { region: region(330100), project_code: "P".into(), section_code: "S".into() };
    let note = GuaranteeNote { number: "G1".into(), reason: "r".into() };
    let kinds = vec![
        anchor(1),
        Action::AttestSubject(attestation(subject.clone())),
        Action::RevokeAttestation(RevokeAttestation { subject: subject.clone(), reason: "r".into() }),
        Action::RecogniseAttestation { subject: subject.clone() },
        Action::WithdrawRecognition { subject: subject.clone() },
        Action::SetRecognitionPolicy { policy: RecognitionPolicy::Explicit },
        Action::ListOnBlacklist(listing(subject.clone(), BlacklistScope::National, "D-1")),
        Action::LiftBlacklist(LiftBlacklist {
            subject: subject.clone(),
            decision_no: "D-0".into(),
            reason: "r".into(),
        }),
        Action::RecordCredit(RecordCredit {
            subject: subject.clone(),
            kind: CreditKind::DishonestConduct,
            decision_no: "C-1".into(),
            authority: "a".into(),
            authority_uscc: uscc("11330100MB0000001"),
            facts: "f".into(),
            legal_basis: "b".into(),
            penalty_type: String::new(),
            penalty_content: String::new(),
            amount_fen: 0,
            decision_date: TimestampMs(0),
            evidence_hash: Hash32([1; 32]),
            severity: Severity::Minor,
            publication_start: TimestampMs(0),
            publication_end: TimestampMs(DAY),
            score: None,
            tender: None,
        }),
        Action::RepairCredit(RepairCredit {
            record_id: Hash32([0; 32]),
            reason: "r".into(),
            evidence_hash: Hash32([0; 32]),
        }),
        Action::RevokeCredit(RevokeCredit { record_id: Hash32([0; 32]), reason: "r".into() }),
        Action::IssueGuarantee(IssueGuarantee {
            number: "G1".into(),
            kind: GuaranteeKind::BidBond,
            applicant: uscc("91330100MA0000001"),
            beneficiary: uscc("91330100MA0000002"),
            premium_payer: uscc("91330100MA0000001"),
            tender: tender.clone(),
            amount_fen: 1,
            valid_from: TimestampMs(0),
            valid_until: TimestampMs(DAY),
            document_hash: Hash32([2; 32]),
            replaces: None,
        }),
        Action::VerifyGuarantee(note.clone()),
        Action::ClaimGuarantee(ClaimGuarantee {
            number: "G1".into(),
            reason: "r".into(),
            evidence_hash: Hash32([0; 32]),
            amount_fen: 1,
        }),
        Action::PayGuarantee(PayGuarantee { number: "G1".into(), amount_fen: 1, evidence_hash: Hash32([0; 32]) }),
        Action::ReleaseGuarantee(note.clone()),
        Action::CancelGuarantee(note),
        Action::Propose(Propose {
            action: ProposalAction::RemoveValidator { public_key: SecretKey::from_bytes([1; 32]).public_key() },
            reason: "r".into(),
        }),
        Action::Vote(Vote { proposal: Hash32([0; 32]), approve: true }),
        Action::SubjectStatement(
            SubjectStatement {
                chain_id: ChainId::new("t").unwrap(),
                subject: subject.clone(),
                statement: Statement::Confirm { document_hash: Hash32([0; 32]) },
                signed_at: TimestampMs(0),
            }
            .sign(&SecretKey::from_bytes([3; 32])),
        ),
        Action::AnchorAuditLog(huxin_types::audit::AnchorAuditLog { seq: 1, head: Hash32([0; 32]) }),
        Action::EnrolExpert(huxin_types::evaluation::EnrolExpert {
            expert: Hash32([4; 32]),
            specialties: vec!["土建".into()],
            employer: uscc("91330100MA0000002"),
        }),
        Action::OpenEvaluation(huxin_types::evaluation::OpenEvaluation {
            tender: tender.clone(),
            guests: vec![region(330200)],
            seats: vec![huxin_types::evaluation::Seats { specialty: "土建".into(), count: 1 }],
            avoid_tender_region: true,
            avoid_employers: vec![],
            commitment: Hash32([5; 32]),
            seat_commitment: Hash32([5; 32]),
        }),
        Action::CommitDraw(huxin_types::evaluation::CommitDraw {
            session: Hash32([6; 32]),
            commitment: Hash32([5; 32]),
        }),
        Action::RevealDraw(huxin_types::evaluation::RevealDraw { session: Hash32([6; 32]), secret: Hash32([7; 32]) }),
        Action::RevealSeats(huxin_types::evaluation::RevealSeats { session: Hash32([6; 32]), secret: Hash32([7; 32]) }),
        Action::ReplaceExpert(huxin_types::evaluation::ReplaceExpert {
            session: Hash32([6; 32]),
            expert: Hash32([4; 32]),
            reason: huxin_types::evaluation::ReplaceReason::Refused,
            note: String::new(),
        }),
        Action::AnchorEvaluation(huxin_types::evaluation::AnchorEvaluation {
            session: Hash32([6; 32]),
            kind: huxin_types::evaluation::EvaluationDocument::ScoringSheet,
            document_hash: Hash32([8; 32]),
        }),
    ];
    for action in &kinds {
        match action {
            Action::AnchorDocument(_)
            | Action::AttestSubject(_)
            | Action::RevokeAttestation(_)
            | Action::RecogniseAttestation { .. }
            | Action::WithdrawRecognition { .. }
            | Action::SetRecognitionPolicy { .. }
            | Action::ListOnBlacklist(_)
            | Action::LiftBlacklist(_)
            | Action::RecordCredit(_)
            | Action::RepairCredit(_)
            | Action::RevokeCredit(_)
            | Action::IssueGuarantee(_)
            | Action::VerifyGuarantee(_)
            | Action::ClaimGuarantee(_)
            | Action::PayGuarantee(_)
            | Action::ReleaseGuarantee(_)
            | Action::CancelGuarantee(_)
            | Action::Propose(_)
            | Action::Vote(_)
            | Action::SubjectStatement(_)
            | Action::AnchorAuditLog(_)
            | Action::EnrolExpert(_)
            | Action::OpenEvaluation(_)
            | Action::CommitDraw(_)
            | Action::RevealDraw(_)
            | Action::RevealSeats(_)
            | Action::ReplaceExpert(_)
            | Action::AnchorEvaluation(_) => {}
        }
    }
    let mut names: Vec<&str> = kinds.iter().map(|a| a.kind()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), kinds.len(), "one action per kind");
    kinds
}

/// Every transaction kind × every role: allowed exactly where the permission table says.
#[test]
fn permission_matrix() {
    let (mut state, keys) = setup();
    let subject = SubjectId::Organisation(Uscc::with_check("91330100MA0000001").unwrap());
    let kinds = every_kind(&subject);
    for (role, key) in ROLES.iter().zip(&keys) {
        for action in &kinds {
            let expected = permission::allowed_roles(action).contains(role);
            let result = apply(&ctx(&state, key), &mut state, action).map_err(rejection_of);
            match result {
                Err(r) if r.code == RejectCode::NotPermitted && r.reason.contains("may not send") => {
                    assert!(!expected, "{role:?} should be allowed {}", action.kind());
                    assert!(r.reason.contains(role.as_str()), "reason names the role: {}", r.reason);
                }
                // Allowed: whatever the rules then say, it is not the permission table refusing.
                _ => assert!(expected, "{role:?} may not send {}, but got {result:?}", action.kind()),
            }
        }
    }
}

#[test]
fn nonces_run_in_sequence_and_inactive_members_cannot_sign() {
    let (mut state, keys) = setup();
    let key = keys[0].public_key();
    assert!(registry::check_nonce(&state, &key, 1).is_ok());
    assert_eq!(registry::check_nonce(&state, &key, 2).rejected().code, RejectCode::BadNonce);
    registry::consume_nonce(&mut state, &key, 1);
    assert_eq!(registry::check_nonce(&state, &key, 1).rejected().code, RejectCode::BadNonce);
    assert!(registry::check_nonce(&state, &key, 2).is_ok());

    let mut record = registry::signer_member(&state, &key).unwrap();
    record.status = MemberStatus::Suspended;
    state.put(keys::member(&record.id), codec::encode(&record));
    let r = registry::signer_member(&state, &key).rejected();
    assert_eq!(r.code, RejectCode::SignerInactive);
    assert!(r.reason.contains("Suspended"), "{}", r.reason);

    let stranger = SecretKey::from_bytes([77; 32]).public_key();
    assert_eq!(registry::signer_member(&state, &stranger).rejected().code, RejectCode::UnknownSigner);
}

/// A state whose reads fail once `failing` is set (a disk fault under the node).
struct Faulty {
    inner: Memory,
    failing: bool,
}

impl KvState for Faulty {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if self.failing {
            return Err(StateError::Read("injected read fault".into()));
        }
        self.inner.get(key)
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.inner.put(key, value);
    }
    fn delete(&mut self, key: Vec<u8>) {
        self.inner.delete(key);
    }
}

/// Regression: a failed read answered "absent", so a disk fault became `not_found`, "unknown
/// signer", "next nonce 1" or a rejection recorded in a receipt. Every read is now fallible all
/// the way up: a read fault is a `StateError`, for every kind of action and every reader.
#[test]
fn a_read_fault_is_a_state_error_never_a_rejection_or_an_absent_record() {
    let (state, keys) = setup();
    let c = ctx(&state, &keys[0]);
    let subject = SubjectId::Organisation(Uscc::with_check("91330100MA0000001").unwrap());
    let mut faulty = Faulty { inner: state, failing: true };
    for action in every_kind(&subject) {
        match apply(&c, &mut faulty, &action) {
            Err(Error::State(StateError::Read(_))) => {}
            // A refusal decided before any read (fields, permissions) is still a rejection.
            Err(Error::Rejected(r)) if r.code == RejectCode::InvalidField || r.code == RejectCode::NotPermitted => {}
            // The one action that only writes.
            Ok(()) if matches!(action, Action::SetRecognitionPolicy { .. }) => {}
            other => panic!("{}: expected a state error, got {other:?}", action.kind()),
        }
    }
    let key = keys[0].public_key();
    assert!(matches!(registry::signer_member(&faulty, &key), Err(Error::State(_))));
    assert!(registry::last_nonce(&faulty, &key).is_err());
    assert!(registry::validators(&faulty).is_err());
    assert!(blacklist::eligibility(&faulty, &subject, RegionCode::new(330100).unwrap(), TimestampMs(0)).is_err());
    assert!(crate::credit::score(&faulty, &subject, TimestampMs(0)).is_err());
    faulty.failing = false;
    assert_eq!(registry::signer_member(&faulty, &key).unwrap().id, c.member.id);
}

/// Regression: a stored record that did not decode panicked the node (`decode_record`). It is
/// now a `StateError::Corrupt` naming the record.
#[test]
fn a_corrupt_stored_record_is_a_state_error_not_a_panic() {
    let (mut state, keys) = setup();
    let c = ctx(&state, &keys[0]);
    state.put(keys::nonce(&keys[0].public_key()), vec![0xff; 3]);
    let err = registry::last_nonce(&state, &keys[0].public_key()).unwrap_err();
    assert!(matches!(err, StateError::Corrupt { what: "nonce", .. }), "{err:?}");
    state.put(keys::document(&Hash32([4; 32])), b"not anchors".to_vec());
    let err = apply(&c, &mut state, &anchor(4)).unwrap_err();
    assert!(matches!(err, Error::State(StateError::Corrupt { what: "document anchors", .. })), "{err:?}");
}

#[test]
fn anchors_record_who_and_when_and_refuse_duplicates_and_bad_fields() {
    let (mut state, keys) = setup();
    let c = ctx(&state, &keys[0]);
    apply(&c, &mut state, &anchor(4)).unwrap();
    let records = crate::deal::anchors_of(&state, &Hash32([4; 32])).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].height, records[0].time, records[0].anchored_by),
        (Height(5), TimestampMs(1_000), c.member.id)
    );
    assert_eq!(apply(&c, &mut state, &anchor(4)).rejected().code, RejectCode::Conflict);

    let Action::AnchorDocument(mut long) = anchor(5) else { unreachable!() };
    long.title = "长".repeat(100);
    let r = apply(&c, &mut state, &Action::AnchorDocument(long)).rejected();
    assert_eq!(r.code, RejectCode::InvalidField);
    assert!(r.reason.contains("title"), "{}", r.reason);

    // The same document may be anchored to another stage, up to the per-document bound.
    for (i, stage) in [DealStage::OpeningRecord, DealStage::Archive].into_iter().enumerate() {
        let Action::AnchorDocument(mut a) = anchor(4) else { unreachable!() };
        a.stage = stage;
        apply(&c, &mut state, &Action::AnchorDocument(a)).unwrap();
        assert_eq!(crate::deal::anchors_of(&state, &Hash32([4; 32])).unwrap().len(), i + 2);
    }
}

fn attestation(subject: SubjectId) -> AttestSubject {
    AttestSubject {
        subject,
        kind: SubjectKind::Supplier,
        name: "浙江某建设有限公司".into(),
        qualifications: vec![],
        bound_key: None,
        valid_until: None,
        bound_key_proof: None,
    }
}

/// Three trading centres (Hangzhou, Ningbo, Wenzhou), a supervisor, and two guarantee providers
/// (a bank and an insurer), keys in that order.
fn regions() -> (Memory, Vec<SecretKey>) {
    let keys: Vec<SecretKey> = (0..6).map(|i| SecretKey::from_bytes([i as u8 + 10; 32])).collect();
    let centre = |i: usize, code: u32| GenesisMember {
        name: format!("centre-{code}"),
        role: Role::TradingCentre,
        region: RegionCode::new(code).unwrap(),
        uscc: Uscc::with_check(&format!("12{code}MB000000{i}")).unwrap(),
        keys: vec![keys[i].public_key()],
    };
    let mut members = vec![centre(0, 330100), centre(1, 330200), centre(2, 330300)];
    members.push(GenesisMember {
        name: "supervisor".into(),
        role: Role::Supervisor,
        region: RegionCode::new(330000).unwrap(),
        uscc: Uscc::with_check("11330000MB0000009").unwrap(),
        keys: vec![keys[3].public_key()],
    });
    for (i, name) in [(4, "bank"), (5, "insurer")] {
        members.push(GenesisMember {
            name: name.into(),
            role: Role::GuaranteeProvider,
            region: RegionCode::new(330100).unwrap(),
            uscc: Uscc::with_check(&format!("91330100MA000000{i}")).unwrap(),
            keys: vec![keys[i].public_key()],
        });
    }
    let genesis = Genesis {
        chain_id: ChainId::new("t").unwrap(),
        genesis_time: TimestampMs(0),
        members,
        validators: vec![GenesisValidator {
            member: "centre-330100".into(),
            public_key: keys[0].public_key(),
            power: 1,
            node_key: None,
        }],
        suite: Default::default(),
    };
    (genesis_state(&genesis), keys)
}

fn run(state: &mut Memory, key: &SecretKey, action: Action) -> Result<(), Rejection> {
    let c = ctx(state, key);
    apply(&c, state, &action).map_err(rejection_of)
}

/// The rejection inside a contract error (a test's in-memory state never fails to read).
fn rejection_of(e: Error) -> Rejection {
    match e {
        Error::Rejected(r) => r,
        Error::State(e) => panic!("expected a rejection, got a state error: {e}"),
    }
}

/// [`rejection_of`] for a result that must be an error.
trait Rejected {
    fn rejected(self) -> Rejection;
}

impl<T: std::fmt::Debug> Rejected for Result<T, Error> {
    fn rejected(self) -> Rejection {
        match self {
            Ok(value) => panic!("expected a rejection, got Ok({value:?})"),
            Err(e) => rejection_of(e),
        }
    }
}

/// Apply `action` signed by `key` in a block at `time` (ms); returns the transaction hash.
fn run_at(state: &mut Memory, key: &SecretKey, time: u64, action: Action) -> Result<TxHash, Rejection> {
    let mut c = ctx(state, key);
    c.time = TimestampMs(time);
    c.height = Height(time / 1000 + 5);
    c.tx_hash = TxHash(
        huxin_types::crypto::Suite::Ed25519Sha256
            .hash_tagged(b"test", &codec::encode(&(time, &action, key.public_key())))
            .0,
    );
    apply(&c, state, &action).map(|()| c.tx_hash).map_err(rejection_of)
}

/// Counts the bytes of keys and values an action writes.
struct Counting<'a> {
    state: &'a mut Memory,
    bytes: usize,
}

impl KvState for Counting<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.state.get(key)
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.bytes += key.len() + value.len();
        self.state.put(key, value);
    }
    fn delete(&mut self, key: Vec<u8>) {
        self.bytes += key.len();
        self.state.delete(key);
    }
}

/// [`run_at`], returning the bytes the action wrote.
fn written(state: &mut Memory, key: &SecretKey, n: u64, action: Action) -> usize {
    let mut c = ctx(state, key);
    c.tx_hash = TxHash(huxin_types::crypto::Suite::Ed25519Sha256.hash_tagged(b"test", &n.to_be_bytes()).0);
    let mut counting = Counting { state, bytes: 0 };
    apply(&c, &mut counting, &action).unwrap();
    counting.bytes
}

/// A checked USCC from its first 17 characters.
fn uscc(first17: &str) -> Uscc {
    Uscc::with_check(first17).unwrap()
}

fn org(first17: &str) -> SubjectId {
    SubjectId::Organisation(uscc(first17))
}

fn region(code: u32) -> RegionCode {
    RegionCode::new(code).unwrap()
}

const DAY: u64 = 86_400_000;

/// Assert a rejection's code and that its reason mentions `needle`.
#[track_caller]
fn rejected<T: std::fmt::Debug>(result: Result<T, Rejection>, code: RejectCode, needle: &str) {
    let r = result.expect_err("expected a rejection");
    assert_eq!(r.code, code, "{}", r.reason);
    assert!(r.reason.contains(needle), "reason {:?} should mention {needle:?}", r.reason);
}

#[test]
fn attestation_lifecycle_and_recognition() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo, wenzhou, supervisor) = (&k[0], &k[1], &k[2], &k[3]);
    let subject = SubjectId::Organisation(Uscc::with_check("91330100MA0000001").unwrap());
    let ningbo_region = RegionCode::new(330200).unwrap();
    let now = TimestampMs(1_000);

    run(&mut state, hangzhou, Action::AttestSubject(attestation(subject.clone()))).unwrap();
    let mut update = attestation(subject.clone());
    update.name = "浙江某建设集团有限公司".into();
    run(&mut state, hangzhou, Action::AttestSubject(update)).unwrap();
    let record = identity::attestation(&state, &subject).unwrap().unwrap();
    assert_eq!((record.version, record.home_region, record.legacy_code), (2, RegionCode::new(330100).unwrap(), false));

    // Another region may not take it over; it recognises it instead.
    let r = run(&mut state, ningbo, Action::AttestSubject(attestation(subject.clone()))).unwrap_err();
    assert_eq!(r.code, RejectCode::Conflict);
    assert!(r.reason.contains("330100") && r.reason.contains("recognise"), "{}", r.reason);

    // Automatic policy (default): counts in Ningbo without recognition.
    assert!(identity::recognition_refusals(&state, &subject, ningbo_region, now).unwrap().is_empty());
    run(&mut state, ningbo, Action::SetRecognitionPolicy { policy: RecognitionPolicy::Explicit }).unwrap();
    let reasons = identity::recognition_refusals(&state, &subject, ningbo_region, now).unwrap();
    assert!(reasons[0].contains("explicitly"), "{reasons:?}");

    run(&mut state, ningbo, Action::RecogniseAttestation { subject: subject.clone() }).unwrap();
    assert!(identity::recognition_refusals(&state, &subject, ningbo_region, now).unwrap().is_empty());
    assert_eq!(
        run(&mut state, ningbo, Action::RecogniseAttestation { subject: subject.clone() }).unwrap_err().code,
        RejectCode::Conflict
    );
    assert_eq!(
        run(&mut state, hangzhou, Action::RecogniseAttestation { subject: subject.clone() }).unwrap_err().code,
        RejectCode::Conflict
    );
    assert_eq!(
        run(&mut state, wenzhou, Action::WithdrawRecognition { subject: subject.clone() }).unwrap_err().code,
        RejectCode::NotFound
    );

    // An update by the home centre keeps recognitions.
    run(&mut state, hangzhou, Action::AttestSubject(attestation(subject.clone()))).unwrap();
    assert_eq!(identity::attestation(&state, &subject).unwrap().unwrap().recognitions.len(), 1);

    run(&mut state, ningbo, Action::WithdrawRecognition { subject: subject.clone() }).unwrap();
    assert!(!identity::recognition_refusals(&state, &subject, ningbo_region, now).unwrap().is_empty());
    run(&mut state, ningbo, Action::RecogniseAttestation { subject: subject.clone() }).unwrap();

    // Revocation: not by another region's centre; by a supervisor, once; it shows everywhere.
    let revoke =
        |reason: &str| Action::RevokeAttestation(RevokeAttestation { subject: subject.clone(), reason: reason.into() });
    let r = run(&mut state, wenzhou, revoke("no")).unwrap_err();
    assert_eq!(r.code, RejectCode::NotPermitted);
    assert!(r.reason.contains("home centre"), "{}", r.reason);
    run(&mut state, supervisor, revoke("营业执照吊销")).unwrap();
    assert_eq!(run(&mut state, hangzhou, revoke("again")).unwrap_err().code, RejectCode::Conflict);
    let reasons = identity::recognition_refusals(&state, &subject, RegionCode::new(330100).unwrap(), now).unwrap();
    assert!(reasons[0].contains("营业执照吊销"), "{reasons:?}");
    assert_eq!(
        run(&mut state, ningbo, Action::RecogniseAttestation { subject: subject.clone() }).unwrap_err().code,
        RejectCode::Conflict
    );

    // After revocation any centre may attest afresh; it becomes the new home, without recognitions.
    run(&mut state, wenzhou, Action::AttestSubject(attestation(subject.clone()))).unwrap();
    let record = identity::attestation(&state, &subject).unwrap().unwrap();
    assert_eq!(
        (record.home_region, record.version, record.recognitions.len()),
        (RegionCode::new(330300).unwrap(), 4, 0)
    );
}

#[test]
fn identifiers_and_fields_are_checked() {
    let (mut state, k) = regions();
    // Experts only by salted hash, and only as experts.
    let mut expert = attestation(SubjectId::Expert(Hash32([5; 32])));
    assert_eq!(
        run(&mut state, &k[0], Action::AttestSubject(expert.clone())).unwrap_err().code,
        RejectCode::InvalidField
    );
    expert.kind = SubjectKind::Expert;
    run(&mut state, &k[0], Action::AttestSubject(expert)).unwrap();

    // Legacy codes: accepted when marked, flagged in the record; malformed ones refused.
    let legacy = SubjectId::LegacyOrganisation("330100000012345".into());
    run(&mut state, &k[0], Action::AttestSubject(attestation(legacy.clone()))).unwrap();
    assert!(identity::attestation(&state, &legacy).unwrap().unwrap().legacy_code);
    let bad = SubjectId::LegacyOrganisation("33-01".into());
    assert_eq!(
        run(&mut state, &k[0], Action::AttestSubject(attestation(bad))).unwrap_err().code,
        RejectCode::InvalidField
    );

    // Lapsed on arrival, and qualifications whose end is not after their start.
    let subject = SubjectId::Organisation(Uscc::with_check("91330100MA0000002").unwrap());
    let mut lapsed = attestation(subject.clone());
    lapsed.valid_until = Some(TimestampMs(500));
    assert_eq!(run(&mut state, &k[0], Action::AttestSubject(lapsed)).unwrap_err().code, RejectCode::InvalidField);
    let mut q = attestation(subject.clone());
    q.qualifications.push(huxin_types::identity::Qualification {
        kind: "建筑工程施工总承包".into(),
        certificate_no: "D233000001".into(),
        issuer: "浙江省住房和城乡建设厅".into(),
        valid_from: TimestampMs(2_000),
        valid_until: TimestampMs(2_000),
        document_hash: Hash32([1; 32]),
    });
    let r = run(&mut state, &k[0], Action::AttestSubject(q)).unwrap_err();
    assert!(r.reason.contains("qualifications[0]"), "{}", r.reason);

    // A lapsing attestation stops counting after its time.
    let mut lapsing = attestation(subject.clone());
    lapsing.valid_until = Some(TimestampMs(5_000));
    run(&mut state, &k[0], Action::AttestSubject(lapsing)).unwrap();
    let region = RegionCode::new(330100).unwrap();
    assert!(identity::recognition_refusals(&state, &subject, region, TimestampMs(5_000)).unwrap().is_empty());
    assert!(identity::recognition_refusals(&state, &subject, region, TimestampMs(5_001)).unwrap()[0].contains("lapsed"));
}

fn listing(subject: SubjectId, scope: BlacklistScope, decision: &str) -> ListOnBlacklist {
    ListOnBlacklist {
        subject,
        scope,
        reason: "围标串标".into(),
        legal_basis: "招标投标法第五十三条".into(),
        decision_no: decision.into(),
        start: TimestampMs(500),
        end: Some(TimestampMs(10_000)),
    }
}

#[test]
fn blacklist_scopes_permissions_and_eligibility() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo, supervisor) = (&k[0], &k[1], &k[3]);
    let (hz, nb, wz) =
        (RegionCode::new(330100).unwrap(), RegionCode::new(330200).unwrap(), RegionCode::new(330300).unwrap());
    let subject = SubjectId::Organisation(Uscc::with_check("91330100MA0000003").unwrap());
    let at = TimestampMs(1_000);

    // Not attested: ineligible everywhere, with the reason.
    let e = blacklist::eligibility(&state, &subject, nb, at).unwrap();
    assert!(!e.eligible && e.reasons[0].contains("no attestation"), "{e:?}");
    run(&mut state, hangzhou, Action::AttestSubject(attestation(subject.clone()))).unwrap();
    assert!(blacklist::eligibility(&state, &subject, nb, at).unwrap().eligible);

    // A trading centre lists only in its own region.
    let r =
        run(&mut state, hangzhou, Action::ListOnBlacklist(listing(subject.clone(), BlacklistScope::National, "HZ-1")))
            .unwrap_err();
    assert_eq!(r.code, RejectCode::NotPermitted);
    assert!(r.reason.contains("own region"), "{}", r.reason);
    run(
        &mut state,
        hangzhou,
        Action::ListOnBlacklist(listing(subject.clone(), BlacklistScope::Regions(vec![hz]), "HZ-1")),
    )
    .unwrap();
    assert!(!blacklist::eligibility(&state, &subject, hz, at).unwrap().eligible);
    assert!(
        blacklist::eligibility(&state, &subject, nb, at).unwrap().eligible,
        "Hangzhou's listing does not reach Ningbo"
    );
    assert!(blacklist::eligibility(&state, &subject, hz, TimestampMs(10_000)).unwrap().eligible, "the entry ends");
    assert!(
        blacklist::eligibility(&state, &subject, hz, TimestampMs(499)).unwrap().eligible,
        "the entry has not started"
    );

    // A supervisor lists nationally; the decision number is unique per subject.
    run(&mut state, supervisor, Action::ListOnBlacklist(listing(subject.clone(), BlacklistScope::National, "ZJ-7")))
        .unwrap();
    let dup = run(
        &mut state,
        supervisor,
        Action::ListOnBlacklist(listing(subject.clone(), BlacklistScope::National, "ZJ-7")),
    )
    .unwrap_err();
    assert_eq!(dup.code, RejectCode::Conflict);
    let e = blacklist::eligibility(&state, &subject, wz, at).unwrap();
    assert!(!e.eligible && e.reasons.iter().any(|r| r.contains("nationally") && r.contains("ZJ-7")), "{e:?}");
    assert_eq!(
        blacklist::eligibility(&state, &subject, hz, at).unwrap().reasons.len(),
        2,
        "both entries are reasons in Hangzhou"
    );

    // Lifting: Ningbo may not lift Hangzhou's or the national entry; the supervisor may; once.
    let lift = |d: &str| {
        Action::LiftBlacklist(LiftBlacklist {
            subject: subject.clone(),
            decision_no: d.into(),
            reason: "信用修复".into(),
        })
    };
    assert_eq!(run(&mut state, ningbo, lift("HZ-1")).unwrap_err().code, RejectCode::NotPermitted);
    assert_eq!(run(&mut state, hangzhou, lift("ZJ-7")).unwrap_err().code, RejectCode::NotPermitted);
    assert_eq!(run(&mut state, supervisor, lift("NOPE")).unwrap_err().code, RejectCode::NotFound);
    run(&mut state, supervisor, lift("ZJ-7")).unwrap();
    assert_eq!(run(&mut state, supervisor, lift("ZJ-7")).unwrap_err().code, RejectCode::Conflict);
    assert!(blacklist::eligibility(&state, &subject, wz, at).unwrap().eligible);
    run(&mut state, hangzhou, lift("HZ-1")).unwrap();
    assert!(blacklist::eligibility(&state, &subject, hz, at).unwrap().eligible);
    assert_eq!(blacklist::entries(&state, &subject).unwrap().len(), 2, "lifted entries stay on the ledger");

    // Scope fields are checked.
    let bad = listing(subject.clone(), BlacklistScope::Regions(vec![nb, hz]), "X");
    assert_eq!(run(&mut state, supervisor, Action::ListOnBlacklist(bad)).unwrap_err().code, RejectCode::InvalidField);
}

mod audit;
mod credit;
mod deal;
mod evaluation;
mod governance;
mod guarantee;
mod properties;
mod scenarios;
mod statements;

/// Regressions: blacklist caps counted dead entries, decision numbers were unique per subject
/// across listers, and a trading centre could lift a supervisor's entry scoped to its region.
#[test]
fn no_member_can_make_a_subject_immune_or_undo_a_supervisor() {
    let (mut state, k) = regions();
    let (hangzhou, supervisor) = (&k[0], &k[3]);
    let hz = region(330100);
    let subject = org("91330100MA0000003");
    run(&mut state, hangzhou, Action::AttestSubject(attestation(subject.clone()))).unwrap();
    let own = || BlacklistScope::Regions(vec![hz]);
    let short = |decision: String, start: u64| ListOnBlacklist {
        start: TimestampMs(start),
        end: Some(TimestampMs(start + 1)),
        ..listing(subject.clone(), own(), &decision)
    };

    // An entry that ends before its block bars nothing and is refused.
    let dead_on_arrival =
        ListOnBlacklist { start: TimestampMs(0), end: Some(TimestampMs(1)), ..listing(subject.clone(), own(), "HZ-0") };
    rejected(
        run_at(&mut state, hangzhou, 5_000, Action::ListOnBlacklist(dead_on_arrival)),
        RejectCode::InvalidField,
        "bar nothing",
    );

    // Hangzhou lists the subject 300 times with entries that end at once: dead entries use no room.
    for i in 0..300u64 {
        let t = 10_000 + i * 10;
        run_at(&mut state, hangzhou, t, Action::ListOnBlacklist(short(format!("HZ-S{i}"), t))).unwrap();
    }
    let kept = blacklist::entries(&state, &subject).unwrap().len();
    assert!(kept <= blacklist::SUBJECT_DEAD_ENTRIES_MAX + 1, "dead entries kept in state are bounded: {kept}");

    // Hangzhou fills its own live quota; that does not touch the supervisor's.
    let now = 20_000;
    for i in 0..blacklist::LISTER_LIVE_ENTRIES_MAX {
        let l = ListOnBlacklist { end: None, ..listing(subject.clone(), own(), &format!("HZ-L{i}")) };
        run_at(&mut state, hangzhou, now, Action::ListOnBlacklist(l)).unwrap();
    }
    let more = ListOnBlacklist { end: None, ..listing(subject.clone(), own(), "HZ-L-more") };
    rejected(
        run_at(&mut state, hangzhou, now, Action::ListOnBlacklist(more)),
        RejectCode::Conflict,
        "live blacklist entries",
    );

    // Hangzhou already used the number "HZ-L0": a supervisor's decision with the same number
    // still lands (no member can squat another's decision numbers).
    let national = ListOnBlacklist { end: None, ..listing(subject.clone(), BlacklistScope::National, "HZ-L0") };
    run_at(&mut state, supervisor, now, Action::ListOnBlacklist(national)).unwrap();
    let e = blacklist::eligibility(&state, &subject, region(330300), TimestampMs(now)).unwrap();
    assert!(!e.eligible, "the supervisor's national entry bars the subject in Wenzhou: {e:?}");

    // The supervisor's entry scoped to Hangzhou alone: Hangzhou may not lift it; its own, yes.
    let scoped = ListOnBlacklist { end: None, ..listing(subject.clone(), own(), "ZJ-8") };
    run_at(&mut state, supervisor, now, Action::ListOnBlacklist(scoped)).unwrap();
    let lift = |d: &str| {
        Action::LiftBlacklist(LiftBlacklist {
            subject: subject.clone(),
            decision_no: d.into(),
            reason: "信用修复".into(),
        })
    };
    rejected(run_at(&mut state, hangzhou, now, lift("ZJ-8")), RejectCode::NotPermitted, "supervisor");
    // "HZ-L0" is both Hangzhou's and the supervisor's number: each lifts its own.
    run_at(&mut state, hangzhou, now, lift("HZ-L0")).unwrap();
    assert!(!blacklist::eligibility(&state, &subject, region(330300), TimestampMs(now)).unwrap().eligible);
    run_at(&mut state, supervisor, now, lift("HZ-L0")).unwrap();
    run_at(&mut state, supervisor, now, lift("ZJ-8")).unwrap();
}
