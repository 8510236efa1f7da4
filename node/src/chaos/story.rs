//! The story client: beside the anchoring clients, one client tells the ledger's whole story
//! again and again, so every transaction kind runs under the faults. Each cycle attests a new
//! supplier in Hangzhou, has Ningbo set its policy, recognise it and announce a tender, records
//! two credit records (one repaired, one revoked), lists and lifts it on Hangzhou's blacklist,
//! relays a statement it signed, issues three bid bonds (verified, claimed and paid; released;
//! cancelled), passes a governance proposal that sets the current parameters again, draws an
//! expert of Hangzhou's for Ningbo's section (attest, enrol, open, commit, reveal; after the bid
//! opening, the seats; the expert replaced as absent; both venues' scoring sheets and the report
//! that closes the session), withdraws the recognition and revokes the attestation. Then the supervisor reads the supplier's whole
//! credit history, an audited query, and the node it asked anchors its audit log (the nodes
//! send `anchor_audit_log` themselves).
//!
//! A cycle is a list of *waves*: the steps of one wave depend only on earlier waves (or on an
//! earlier step of the same signer, whose nonce orders it), so a wave is sent at once and the
//! next waits until it is finalised. Every step must be applied; what was not is a problem the
//! `every kind` checker names.

use std::collections::BTreeMap;

use eyre::eyre;

use huxin_types::credit::{CreditKind, RecordCredit, RepairCredit, RevokeCredit, Severity};
use huxin_types::evaluation::{
    commitment_of, AnchorEvaluation, CommitDraw, EnrolExpert, EvaluationDocument, OpenEvaluation, ReplaceExpert,
    ReplaceReason, RevealDraw, RevealSeats, Seats,
};
use huxin_types::genesis::{Genesis, Role};
use huxin_types::governance::{Params, ProposalAction, Propose, Vote};
use huxin_types::guarantee::{ClaimGuarantee, GuaranteeKind, GuaranteeNote, IssueGuarantee, PayGuarantee};
use huxin_types::identity::{
    prove_key_binding, AttestSubject, BlacklistScope, LiftBlacklist, ListOnBlacklist, RecognitionPolicy,
    RevokeAttestation, Statement, SubjectId, SubjectKind, SubjectStatement,
};
use huxin_types::tx::{AnchorDocument, Expiry, TenderRef};
use huxin_types::{Action, ChainId, Hash32, RegionCode, SecretKey, SignedTx, TimestampMs, TxBody, Uscc};

const DAY_MS: u64 = 86_400_000;
/// The estimated price each cycle's tender announces; its bid bonds are 2 % of it, the most.
const ESTIMATED_PRICE_FEN: u64 = 1_000_000;
const BOND_FEN: u64 = 20_000;
/// The first supplier's serial in its USCC; cycle k attests serial + k.
const SUPPLIER_SERIAL: u32 = 500_000;
/// Most cycles one run tells (the serials must stay within seven digits).
pub const CYCLES_MAX: u32 = 1_000_000;

/// A member the story signs for.
#[derive(Clone)]
pub struct Actor {
    pub key: SecretKey,
    pub uscc: Uscc,
    pub region: RegionCode,
}

/// Who signs a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Who {
    /// The genesis's i-th trading centre (0: Hangzhou, 1: Ningbo, …).
    Centre(usize),
    Bank,
    Supervisor,
}

/// What a step sends.
// A story is a few dozen steps, built once: the size of an action costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Act {
    Do(Action),
    /// A yes vote on this cycle's proposal (its id is the proposing transaction's hash, known
    /// only once it is signed).
    VoteYes,
    /// A guest's commitment to, or a venue's reveal of, its draw secret in this cycle's
    /// evaluation session (its id is the opening transaction's hash, known once it is signed).
    CommitDraw(Hash32),
    RevealDraw(Hash32),
    /// The host's seat reveal, a replacement of `expert`, or a venue's document, in that session.
    RevealSeats(Hash32),
    Replace(Hash32),
    Document(EvaluationDocument, Hash32),
}

#[derive(Clone, Debug)]
pub struct Step {
    pub who: Who,
    pub act: Act,
}

/// The members the story signs for: the genesis's trading centres, its first guarantee
/// provider and its first supervisor, each with its signing key.
#[derive(Clone)]
pub struct Cast {
    pub chain_id: ChainId,
    /// The chain's suite (its hashes: credit record ids, draw commitments).
    pub suite: huxin_types::crypto::Suite,
    pub centres: Vec<Actor>,
    pub bank: Actor,
    pub supervisor: Actor,
}

impl Cast {
    /// Match `keys` (member signing keys) to the genesis's members.
    pub fn new(genesis: &Genesis, keys: &[SecretKey]) -> eyre::Result<Cast> {
        let actor = |m: &huxin_types::genesis::GenesisMember| {
            keys.iter().find(|k| m.keys.contains(&k.public_key())).map(|k| Actor {
                key: k.clone(),
                uscc: m.uscc.clone(),
                region: m.region,
            })
        };
        let of = |role: Role| genesis.members.iter().filter(move |m| m.role == role).filter_map(actor);
        let centres: Vec<Actor> = of(Role::TradingCentre).collect();
        if centres.len() < 2 {
            return Err(eyre!("the story needs two trading centres' keys, found {}", centres.len()));
        }
        let bank = of(Role::GuaranteeProvider).next().ok_or_else(|| eyre!("no guarantee provider's key"))?;
        let supervisor = of(Role::Supervisor).next().ok_or_else(|| eyre!("no supervisor's key"))?;
        Ok(Cast { chain_id: genesis.chain_id.clone(), suite: genesis.suite, centres, bank, supervisor })
    }

    pub fn actor(&self, who: Who) -> &Actor {
        match who {
            Who::Centre(i) => &self.centres[i],
            Who::Bank => &self.bank,
            Who::Supervisor => &self.supervisor,
        }
    }

    /// The centres whose yes votes, with the proposer's (centre 0), pass a proposal: two thirds
    /// of the centres, rounded up.
    fn voters(&self) -> std::ops::Range<usize> {
        1..(2 * self.centres.len()).div_ceil(3)
    }
}

/// Turns the story's steps into signed transactions: each signer's nonces counting from 1 (over
/// every cycle), and the yes votes on the latest proposal.
pub struct Signer {
    nonces: BTreeMap<Who, u64>,
    proposal: Hash32,
    session: Hash32,
}

impl Default for Signer {
    fn default() -> Signer {
        Signer { nonces: BTreeMap::new(), proposal: Hash32::ZERO, session: Hash32::ZERO }
    }
}

impl Signer {
    /// Sign `step` for `cast`'s chain, expiring as `expiry` says for its action.
    pub fn sign(&mut self, cast: &Cast, step: Step, expiry: impl FnOnce(&Action) -> Expiry) -> SignedTx {
        let action = match step.act {
            Act::Do(action) => action,
            Act::VoteYes => Action::Vote(Vote { proposal: self.proposal, approve: true }),
            Act::CommitDraw(secret) => {
                Action::CommitDraw(CommitDraw { session: self.session, commitment: commitment_of(cast.suite, &secret) })
            }
            Act::RevealDraw(secret) => Action::RevealDraw(RevealDraw { session: self.session, secret }),
            Act::RevealSeats(secret) => Action::RevealSeats(RevealSeats { session: self.session, secret }),
            Act::Replace(expert) => Action::ReplaceExpert(ReplaceExpert {
                session: self.session,
                expert,
                reason: ReplaceReason::Absent,
                note: "未到场".into(),
            }),
            Act::Document(kind, document_hash) => {
                Action::AnchorEvaluation(AnchorEvaluation { session: self.session, kind, document_hash })
            }
        };
        let actor = cast.actor(step.who);
        let nonce = self.nonces.entry(step.who).or_insert(0);
        *nonce += 1;
        let proposes = matches!(action, Action::Propose(_));
        let opens = matches!(action, Action::OpenEvaluation(_));
        let body = TxBody {
            chain_id: cast.chain_id.clone(),
            signer: actor.key.public_key(),
            nonce: *nonce,
            expiry: expiry(&action),
            action,
        };
        let tx = body.sign(&actor.key);
        if proposes {
            // A proposal's id is its transaction's hash.
            self.proposal = Hash32(tx.hash().0);
        }
        if opens {
            // A session's id is its opening transaction's hash.
            self.session = Hash32(tx.hash().0);
        }
        tx
    }
}

/// Cycle `k`'s supplier: its USCC and the key its home centre binds to it.
pub fn supplier(k: u32) -> eyre::Result<(Uscc, SecretKey)> {
    if k >= CYCLES_MAX {
        return Err(eyre!("the story tells at most {CYCLES_MAX} cycles"));
    }
    let uscc = crate::devnet::uscc("91", 330100, SUPPLIER_SERIAL + k)?;
    let key = SecretKey::from_bytes(Hash32::of_document(format!("huxin chaos supplier {k}").as_bytes()).0);
    Ok((uscc, key))
}

/// Cycle `k` of the story at wall-clock time `now`, in waves. `params` are the ledger's current
/// rule parameters (the proposal sets them again, changing nothing).
pub fn cycle(cast: &Cast, k: u32, now: TimestampMs, params: &Params) -> eyre::Result<Vec<Vec<Step>>> {
    let (uscc, subject_key) = supplier(k)?;
    let subject = SubjectId::Organisation(uscc.clone());
    let (hangzhou, ningbo) = (Who::Centre(0), Who::Centre(1));
    let (home, tender_region) = (cast.centres[0].region, cast.centres[1].region);
    let section =
        |s: &str| TenderRef { region: tender_region, project_code: format!("CHAOS-{k}"), section_code: s.into() };
    let bond = |number: &str, s: &str| {
        Action::IssueGuarantee(IssueGuarantee {
            number: number.into(),
            kind: GuaranteeKind::BidBond,
            applicant: uscc.clone(),
            beneficiary: cast.centres[1].uscc.clone(),
            premium_payer: uscc.clone(),
            tender: section(s),
            amount_fen: BOND_FEN,
            valid_from: TimestampMs(now.0.saturating_sub(DAY_MS)),
            valid_until: TimestampMs(now.0 + 90 * DAY_MS),
            document_hash: Hash32::of_document(number.as_bytes()),
            replaces: None,
        })
    };
    let numbers = [1, 2, 3].map(|n| format!("CHAOS-{k}-{n}"));
    let note = |n: usize, reason: &str| GuaranteeNote { number: numbers[n].clone(), reason: reason.into() };
    // A minor penalty published long enough ago to be repaired now, and a commendation.
    let start = TimestampMs(now.0.saturating_sub(100 * DAY_MS));
    let penalty = RecordCredit {
        subject: subject.clone(),
        kind: CreditKind::AdministrativePenalty,
        decision_no: format!("浙发改罚〔chaos〕{k}号"),
        authority: "浙江省发展和改革委员会".into(),
        authority_uscc: cast.supervisor.uscc.clone(),
        facts: "逾期提交材料".into(),
        legal_basis: "《招标投标法实施条例》".into(),
        penalty_type: "警告".into(),
        penalty_content: "警告".into(),
        amount_fen: 0,
        decision_date: start,
        evidence_hash: Hash32::of_document(format!("penalty {k}").as_bytes()),
        severity: Severity::Minor,
        publication_start: start,
        publication_end: TimestampMs(start.0 + 30 * DAY_MS),
        score: None,
        tender: None,
    };
    let commendation = RecordCredit {
        kind: CreditKind::Commendation,
        decision_no: format!("杭交易表〔chaos〕{k}号"),
        authority: "杭州市公共资源交易中心".into(),
        authority_uscc: cast.centres[0].uscc.clone(),
        facts: "诚信履约".into(),
        legal_basis: String::new(),
        penalty_type: String::new(),
        penalty_content: String::new(),
        evidence_hash: Hash32::of_document(format!("commendation {k}").as_bytes()),
        decision_date: now,
        publication_start: now,
        publication_end: TimestampMs(now.0 + 30 * DAY_MS),
        ..penalty.clone()
    };
    let blacklist_no = format!("杭交易黑〔chaos〕{k}号");
    // An expert of Hangzhou's, drawn for Ningbo's section from afar (远程异地评标).
    let expert = Hash32::of_document(format!("huxin chaos expert {k}").as_bytes());
    let secrets = [0, 1].map(|venue: u8| Hash32::of_document(format!("chaos draw {k} {venue}").as_bytes()));
    let seat_secret = Hash32::of_document(format!("chaos seats {k}").as_bytes());
    // The cycle's own specialty: its pool is this cycle's expert alone, so the story knows whom it
    // draws (and replaces).
    let specialty = format!("chaos {k}");
    let evaluation_doc = |what: &str| Hash32::of_document(format!("chaos {what} {k}").as_bytes());
    let step = |who, action| Step { who, act: Act::Do(action) };
    let mut second = vec![
        step(ningbo, Action::RecogniseAttestation { subject: subject.clone() }),
        step(
            Who::Supervisor,
            Action::RepairCredit(RepairCredit {
                record_id: penalty.record_id(cast.suite),
                reason: "已整改".into(),
                evidence_hash: Hash32::of_document(b"repair"),
            }),
        ),
        step(
            hangzhou,
            Action::RevokeCredit(RevokeCredit {
                record_id: commendation.record_id(cast.suite),
                reason: "录入错误".into(),
            }),
        ),
        step(
            hangzhou,
            Action::ListOnBlacklist(ListOnBlacklist {
                subject: subject.clone(),
                scope: BlacklistScope::Regions(vec![home]),
                reason: "提供虚假材料".into(),
                legal_basis: "《招标投标法》第五十四条".into(),
                decision_no: blacklist_no.clone(),
                start: now,
                end: None,
            }),
        ),
        step(
            hangzhou,
            Action::SubjectStatement(
                SubjectStatement {
                    chain_id: cast.chain_id.clone(),
                    subject: subject.clone(),
                    statement: Statement::Confirm { document_hash: Hash32::of_document(format!("bid {k}").as_bytes()) },
                    signed_at: now,
                }
                .sign(&subject_key),
            ),
        ),
        step(Who::Bank, bond(&numbers[0], "01")),
        step(Who::Bank, bond(&numbers[1], "02")),
        step(Who::Bank, bond(&numbers[2], "03")),
        step(
            ningbo,
            Action::OpenEvaluation(OpenEvaluation {
                tender: section("01"),
                guests: vec![home],
                seats: vec![Seats { specialty: specialty.clone(), count: 1 }],
                avoid_tender_region: true,
                avoid_employers: vec![uscc.clone()],
                commitment: commitment_of(cast.suite, &secrets[0]),
                seat_commitment: commitment_of(cast.suite, &seat_secret),
            }),
        ),
    ];
    second.extend(cast.voters().map(|i| Step { who: Who::Centre(i), act: Act::VoteYes }));
    Ok(vec![
        vec![
            step(
                hangzhou,
                Action::AttestSubject(AttestSubject {
                    subject: subject.clone(),
                    kind: SubjectKind::Supplier,
                    name: format!("混沌供应商 {k}"),
                    qualifications: vec![],
                    bound_key: Some(subject_key.public_key()),
                    bound_key_proof: Some(prove_key_binding(&cast.chain_id, &subject, &subject_key)),
                    valid_until: None,
                }),
            ),
            step(
                hangzhou,
                Action::Propose(Propose {
                    action: ProposalAction::SetParams(*params),
                    reason: format!("chaos cycle {k}: the same parameters again"),
                }),
            ),
            step(hangzhou, Action::RecordCredit(commendation)),
            step(ningbo, Action::SetRecognitionPolicy { policy: RecognitionPolicy::Automatic }),
            step(
                ningbo,
                Action::AnchorDocument(AnchorDocument {
                    estimated_price_fen: Some(ESTIMATED_PRICE_FEN),
                    ..AnchorDocument::announcement(section("01"), Hash32::of_document(format!("tender {k}").as_bytes()))
                }),
            ),
            step(Who::Supervisor, Action::RecordCredit(penalty)),
            step(
                hangzhou,
                Action::AttestSubject(AttestSubject {
                    subject: SubjectId::Expert(expert),
                    kind: SubjectKind::Expert,
                    name: format!("混沌专家 {k}"),
                    qualifications: vec![],
                    bound_key: None,
                    bound_key_proof: None,
                    valid_until: None,
                }),
            ),
            step(
                hangzhou,
                Action::EnrolExpert(EnrolExpert {
                    expert,
                    specialties: vec![specialty.clone()],
                    employer: cast.centres[0].uscc.clone(),
                }),
            ),
        ],
        second,
        vec![
            step(ningbo, Action::VerifyGuarantee(note(0, "已核验"))),
            step(
                ningbo,
                Action::ClaimGuarantee(ClaimGuarantee {
                    number: numbers[0].clone(),
                    reason: "中标后拒签合同".into(),
                    evidence_hash: Hash32::of_document(b"claim"),
                    amount_fen: BOND_FEN,
                }),
            ),
            step(ningbo, Action::ReleaseGuarantee(note(1, "已开标"))),
            step(Who::Bank, Action::CancelGuarantee(note(2, "投标人撤回"))),
            Step { who: hangzhou, act: Act::CommitDraw(secrets[1]) },
            step(
                ningbo,
                Action::AnchorDocument(AnchorDocument {
                    stage: huxin_types::tx::DealStage::OpeningRecord,
                    ..AnchorDocument::announcement(section("01"), evaluation_doc("opening"))
                }),
            ),
            step(
                hangzhou,
                Action::LiftBlacklist(LiftBlacklist {
                    subject: subject.clone(),
                    decision_no: blacklist_no,
                    reason: "复议撤销".into(),
                }),
            ),
        ],
        vec![
            step(
                Who::Bank,
                Action::PayGuarantee(PayGuarantee {
                    number: numbers[0].clone(),
                    amount_fen: BOND_FEN,
                    evidence_hash: Hash32::of_document(b"paid"),
                }),
            ),
            Step { who: ningbo, act: Act::RevealDraw(secrets[0]) },
            Step { who: hangzhou, act: Act::RevealDraw(secrets[1]) },
            step(ningbo, Action::WithdrawRecognition { subject: subject.clone() }),
            step(hangzhou, Action::RevokeAttestation(RevokeAttestation { subject, reason: "注销".into() })),
        ],
        vec![
            Step { who: ningbo, act: Act::RevealSeats(seat_secret) },
            Step { who: ningbo, act: Act::Replace(expert) },
            Step { who: ningbo, act: Act::Document(EvaluationDocument::ScoringSheet, evaluation_doc("sheet ningbo")) },
            Step {
                who: hangzhou,
                act: Act::Document(EvaluationDocument::ScoringSheet, evaluation_doc("sheet hangzhou")),
            },
        ],
        vec![Step { who: ningbo, act: Act::Document(EvaluationDocument::Report, evaluation_doc("report")) }],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cast(centres: usize) -> Cast {
        let (genesis, keys) =
            crate::devnet::generate("huxin-story", centres, 0, TimestampMs(1), Default::default()).unwrap();
        let keys: Vec<SecretKey> = keys.members.into_iter().map(|(_, k)| k).collect();
        Cast::new(&genesis, &keys).unwrap()
    }

    /// One cycle sends every kind a member sends (the nodes send the audit anchors), each
    /// checked as the ledger checks fields; votes pass the proposal with four and seven centres.
    #[test]
    fn a_cycle_sends_every_kind_and_enough_votes() {
        for (centres, votes) in [(4, 2), (7, 4)] {
            let cast = cast(centres);
            let waves = cycle(&cast, 3, TimestampMs(1_800_000_000_000), &Params::default()).unwrap();
            let mut kinds = std::collections::BTreeSet::from(["anchor_audit_log", "vote"]);
            let mut voted = 0;
            for step in waves.iter().flatten() {
                match &step.act {
                    Act::Do(action) => {
                        action.check_fields().unwrap_or_else(|e| panic!("{}: {e}", action.kind()));
                        kinds.insert(action.kind());
                    }
                    Act::VoteYes => voted += 1,
                    Act::CommitDraw(_) => _ = kinds.insert("commit_draw"),
                    Act::RevealDraw(_) => _ = kinds.insert("reveal_draw"),
                    Act::RevealSeats(_) => _ = kinds.insert("reveal_seats"),
                    Act::Replace(_) => _ = kinds.insert("replace_expert"),
                    Act::Document(..) => _ = kinds.insert("anchor_evaluation"),
                }
            }
            assert_eq!(kinds, Action::KINDS.into_iter().collect(), "{centres} centres");
            assert_eq!(voted, votes, "{centres} centres");
        }
    }

    #[test]
    fn suppliers_differ_per_cycle_and_the_count_is_bounded() {
        assert_ne!(supplier(0).unwrap().0, supplier(1).unwrap().0);
        assert!(supplier(CYCLES_MAX).is_err());
    }

    #[test]
    fn a_cast_needs_two_centres_a_bank_and_a_supervisor() {
        let (genesis, keys) = crate::devnet::generate("huxin-story", 4, 0, TimestampMs(1), Default::default()).unwrap();
        let all: Vec<SecretKey> = keys.members.iter().map(|(_, k)| k.clone()).collect();
        let without = |name: &str| -> Vec<SecretKey> {
            keys.members.iter().filter(|(n, _)| n != name).map(|(_, k)| k.clone()).collect()
        };
        assert!(Cast::new(&genesis, &all).is_ok());
        for (missing, says) in [("bank", "guarantee provider"), ("supervisor", "supervisor")] {
            let err = Cast::new(&genesis, &without(missing)).err().expect("refused").to_string();
            assert!(err.contains(says), "{err}");
        }
        let err = Cast::new(&genesis, &all[..1]).err().expect("refused").to_string();
        assert!(err.contains("two trading centres"), "{err}");
    }
}
