//! E-guarantees: issue rules (eligibility, one bid bond, the 2% cap, replacement), the lifecycle
//! with every illegal transition, and the same-payer warning.

use huxin_types::guarantee::{ClaimGuarantee, GuaranteeKind, GuaranteeNote, IssueGuarantee, PayGuarantee};

use super::*;
use crate::guarantee::{self as contract, GuaranteeState};
use crate::risk::{self, RiskKind};

const A: &str = "91330100MA0000001";
const B: &str = "91330100MA0000002";

fn tender() -> TenderRef {
    TenderRef { region: region(330200), project_code: "NB-2026-001".into(), section_code: "01".into() }
}

fn bond(number: &str, applicant: &str, amount_fen: u64) -> IssueGuarantee {
    IssueGuarantee {
        number: number.into(),
        kind: GuaranteeKind::BidBond,
        applicant: uscc(applicant),
        beneficiary: uscc("12330200MB0000001"),
        premium_payer: uscc(applicant),
        tender: tender(),
        amount_fen,
        valid_from: TimestampMs(0),
        valid_until: TimestampMs(90 * DAY),
        document_hash: Hash32([7; 32]),
        replaces: None,
    }
}

fn note(number: &str) -> GuaranteeNote {
    GuaranteeNote { number: number.into(), reason: "checked".into() }
}

/// Two suppliers attested in Hangzhou; the Ningbo tender's announcement states 1 000 000 fen.
fn setup() -> (Memory, Vec<SecretKey>) {
    let (mut state, k) = regions();
    for s in [A, B] {
        run_at(&mut state, &k[0], 0, Action::AttestSubject(attestation(org(s)))).unwrap();
    }
    run_at(
        &mut state,
        &k[1],
        0,
        Action::AnchorDocument(AnchorDocument {
            tender: tender(),
            stage: DealStage::Announcement,
            document_hash: Hash32([1; 32]),
            title: "招标公告".into(),
            deal_code: String::new(),
            platform_code: String::new(),
            parties: Vec::new(),
            experts: Vec::new(),
            estimated_price_fen: Some(1_000_000),
        }),
    )
    .unwrap();
    (state, k)
}

#[test]
fn issue_rules() {
    let (mut state, k) = setup();
    let (bank, insurer) = (&k[4], &k[5]);
    let issue = |g| Action::IssueGuarantee(g);
    rejected(run_at(&mut state, bank, DAY, issue(bond("G1", A, 20_001))), RejectCode::RuleViolated, "20000 fen");
    rejected(
        run_at(&mut state, bank, DAY, issue(bond("G1", "91330100MA0000009", 100))),
        RejectCode::RuleViolated,
        "not eligible in region 330200",
    );
    let mut bad = bond("G1", A, 100);
    bad.valid_until = TimestampMs(0);
    rejected(run_at(&mut state, bank, DAY, issue(bad)), RejectCode::InvalidField, "valid_until");
    rejected(run_at(&mut state, bank, DAY, issue(bond("G 1", A, 100))), RejectCode::InvalidField, "may hold only");

    run_at(&mut state, bank, DAY, issue(bond("G1", A, 20_000))).unwrap();
    rejected(
        run_at(&mut state, insurer, DAY, issue(bond("G1", B, 100))),
        RejectCode::Conflict,
        "already on the ledger",
    );
    rejected(
        run_at(&mut state, insurer, DAY, issue(bond("G2", A, 100))),
        RejectCode::Conflict,
        "already holds active bid bond G1",
    );
    // A performance guarantee is not a bid bond: no cap, no one-per-section rule.
    let mut performance = bond("P1", A, 5_000_000);
    performance.kind = GuaranteeKind::Performance;
    run_at(&mut state, insurer, DAY, issue(performance)).unwrap();

    // Bid opening postponed: the issuer replaces G1 with G1-R; the old one is marked replaced.
    let mut replacement = bond("G1-R", A, 20_000);
    replacement.replaces = Some("G1".into());
    rejected(
        run_at(&mut state, insurer, 2 * DAY, issue(replacement.clone())),
        RejectCode::NotPermitted,
        "only it may be replaced",
    );
    run_at(&mut state, bank, 2 * DAY, issue(replacement.clone())).unwrap();
    let old = contract::guarantee(&state, "G1").unwrap().unwrap();
    assert_eq!((old.state, old.replaced_by.as_deref()), (GuaranteeState::Replaced, Some("G1-R")));
    replacement.number = "G1-R2".into();
    rejected(run_at(&mut state, bank, 2 * DAY, issue(replacement)), RejectCode::InvalidTransition, "G1 is replaced");

    // An expired bid bond no longer blocks a new one.
    let mut later = bond("G3", A, 100);
    later.valid_from = TimestampMs(91 * DAY);
    later.valid_until = TimestampMs(120 * DAY);
    run_at(&mut state, bank, 92 * DAY, issue(later)).unwrap();
    assert_eq!(
        contract::guarantee(&state, "G1-R").unwrap().unwrap().state_at(TimestampMs(92 * DAY)),
        GuaranteeState::Expired
    );
}

#[test]
fn lifecycle_and_illegal_transitions() {
    let (mut state, k) = setup();
    let (hangzhou, ningbo, bank, insurer) = (&k[0], &k[1], &k[4], &k[5]);
    run_at(&mut state, bank, DAY, Action::IssueGuarantee(bond("G1", A, 20_000))).unwrap();
    run_at(&mut state, hangzhou, DAY, Action::VerifyGuarantee(note("G1"))).unwrap();
    rejected(
        run_at(&mut state, hangzhou, DAY, Action::VerifyGuarantee(note("G1"))),
        RejectCode::Conflict,
        "already verified",
    );
    run_at(&mut state, ningbo, DAY, Action::VerifyGuarantee(note("G1"))).unwrap();
    rejected(
        run_at(&mut state, bank, DAY, Action::CancelGuarantee(note("G1"))),
        RejectCode::InvalidTransition,
        "G1 is verified",
    );

    let claim = |amount_fen| {
        Action::ClaimGuarantee(ClaimGuarantee {
            number: "G1".into(),
            reason: "中标后无正当理由放弃中标".into(),
            evidence_hash: Hash32([5; 32]),
            amount_fen,
        })
    };
    rejected(run_at(&mut state, hangzhou, DAY, claim(100)), RejectCode::NotPermitted, "region 330200");
    rejected(run_at(&mut state, ningbo, DAY, claim(20_001)), RejectCode::RuleViolated, "exceeds the guaranteed");
    run_at(&mut state, ningbo, 2 * DAY, claim(15_000)).unwrap();
    rejected(run_at(&mut state, ningbo, 2 * DAY, claim(100)), RejectCode::InvalidTransition, "G1 is claimed");
    rejected(
        run_at(&mut state, bank, 2 * DAY, Action::ReleaseGuarantee(note("G1"))),
        RejectCode::InvalidTransition,
        "claimed",
    );

    let pay = |amount_fen| {
        Action::PayGuarantee(PayGuarantee { number: "G1".into(), amount_fen, evidence_hash: Hash32([6; 32]) })
    };
    rejected(run_at(&mut state, insurer, 3 * DAY, pay(15_000)), RejectCode::NotPermitted, "issued by member");
    rejected(run_at(&mut state, bank, 3 * DAY, pay(15_001)), RejectCode::RuleViolated, "exceeds the claimed 15000");
    run_at(&mut state, bank, 3 * DAY, pay(15_000)).unwrap();
    rejected(run_at(&mut state, bank, 3 * DAY, pay(1)), RejectCode::InvalidTransition, "G1 is paid");
    let record = contract::guarantee(&state, "G1").unwrap().unwrap();
    let states: Vec<_> = record.history.iter().map(|e| e.state).collect();
    use GuaranteeState::*;
    assert_eq!(states, [Issued, Verified, Verified, Claimed, Paid]);

    // Cancel before use; release after award; claims only while valid.
    run_at(&mut state, insurer, DAY, Action::IssueGuarantee(bond("G2", B, 100))).unwrap();
    run_at(&mut state, insurer, DAY, Action::CancelGuarantee(note("G2"))).unwrap();
    rejected(
        run_at(&mut state, insurer, DAY, Action::CancelGuarantee(note("G2"))),
        RejectCode::InvalidTransition,
        "G2 is cancelled",
    );
    rejected(
        run_at(&mut state, ningbo, DAY, Action::VerifyGuarantee(note("G2"))),
        RejectCode::InvalidTransition,
        "cancelled",
    );
    let mut g3 = bond("G3", B, 100);
    g3.kind = GuaranteeKind::Performance;
    run_at(&mut state, insurer, DAY, Action::IssueGuarantee(g3)).unwrap();
    rejected(
        run_at(&mut state, hangzhou, DAY, Action::ReleaseGuarantee(note("G3"))),
        RejectCode::NotPermitted,
        "only the issuer",
    );
    run_at(&mut state, ningbo, 10 * DAY, Action::ReleaseGuarantee(note("G3"))).unwrap();
    let mut g4 = bond("G4", B, 100);
    g4.kind = GuaranteeKind::Payment;
    run_at(&mut state, insurer, DAY, Action::IssueGuarantee(g4)).unwrap();
    rejected(
        run_at(&mut state, ningbo, 90 * DAY, Action::VerifyGuarantee(note("G4"))),
        RejectCode::InvalidTransition,
        "G4 is expired",
    );
    rejected(
        run_at(
            &mut state,
            ningbo,
            90 * DAY,
            Action::ClaimGuarantee(ClaimGuarantee {
                number: "G4".into(),
                reason: "r".into(),
                evidence_hash: Hash32([0; 32]),
                amount_fen: 1,
            }),
        ),
        RejectCode::InvalidTransition,
        "expired",
    );
    rejected(
        run_at(&mut state, ningbo, DAY, Action::VerifyGuarantee(note("NOPE"))),
        RejectCode::NotFound,
        "no guarantee numbered NOPE",
    );
}

#[test]
fn competing_bid_bonds_paid_by_one_payer_raise_a_warning() {
    let (mut state, k) = setup();
    let bank = &k[4];
    let mut a = bond("G1", A, 100);
    a.premium_payer = uscc("91330100MA0000777");
    let mut b = bond("G2", B, 100);
    b.premium_payer = uscc("91330100MA0000777");
    run_at(&mut state, bank, DAY, Action::IssueGuarantee(a)).unwrap();
    assert_eq!(risk::warnings(&state, &tender()).unwrap().raised, 0);
    run_at(&mut state, bank, DAY, Action::IssueGuarantee(b)).unwrap();
    let w = risk::warnings(&state, &tender()).unwrap();
    assert_eq!(w.raised, 1);
    assert_eq!(
        w.warnings[0].kind,
        RiskKind::SameGuaranteePayer { payer: uscc("91330100MA0000777"), applicants: vec![uscc(A), uscc(B)] }
    );
}

/// A guarantee's state at a past time follows its history, not its latest state.
#[test]
fn state_at_a_past_time_follows_the_history() {
    let (mut state, k) = setup();
    let (ningbo, bank) = (&k[1], &k[4]);
    run_at(&mut state, bank, DAY, Action::IssueGuarantee(bond("G9", A, 20_000))).unwrap();
    run_at(&mut state, ningbo, 2 * DAY, Action::VerifyGuarantee(note("G9"))).unwrap();
    let claim = ClaimGuarantee {
        number: "G9".into(),
        reason: "放弃中标".into(),
        evidence_hash: Hash32([5; 32]),
        amount_fen: 10_000,
    };
    run_at(&mut state, ningbo, 3 * DAY, Action::ClaimGuarantee(claim)).unwrap();
    let pay = PayGuarantee { number: "G9".into(), amount_fen: 10_000, evidence_hash: Hash32([6; 32]) };
    run_at(&mut state, bank, 4 * DAY, Action::PayGuarantee(pay)).unwrap();
    let g = contract::guarantee(&state, "G9").unwrap().unwrap();
    let at = |day: u64| g.state_at(TimestampMs(day * DAY + 1));
    assert_eq!(
        [at(1), at(2), at(3), at(4), at(200)],
        [
            GuaranteeState::Issued,
            GuaranteeState::Verified,
            GuaranteeState::Claimed,
            GuaranteeState::Paid,
            GuaranteeState::Paid
        ]
    );
    // An unclaimed guarantee expires at its validity end, whatever its recorded step.
    run_at(&mut state, bank, 5 * DAY, Action::IssueGuarantee(bond("G10", B, 20_000))).unwrap();
    let g = contract::guarantee(&state, "G10").unwrap().unwrap();
    assert_eq!(g.state_at(TimestampMs(89 * DAY)), GuaranteeState::Issued);
    assert_eq!(g.state_at(TimestampMs(90 * DAY)), GuaranteeState::Expired);
}

/// A section keeps at most `SECTION_PAYERS_MAX` (payer, applicant) pairs for the same-payer check;
/// bonds past it are still issued. (Each bond here replaces the one before, with a new payer.)
#[test]
fn a_section_keeps_at_most_its_limit_of_bond_pairs() {
    let (mut state, k) = setup();
    let bank = &k[4];
    let max = crate::deal::SECTION_PAYERS_MAX;
    for i in 0..=max {
        let mut g = bond(&format!("G{i}"), A, 100);
        g.premium_payer = uscc(&format!("91330100MB{i:07}"));
        g.replaces = i.checked_sub(1).map(|before| format!("G{before}"));
        run_at(&mut state, bank, DAY, Action::IssueGuarantee(g)).unwrap();
    }
    assert_eq!(contract::guarantee(&state, &format!("G{max}")).unwrap().unwrap().state, GuaranteeState::Issued);
    let pairs = crate::deal::tender(&state, &tender()).unwrap().unwrap().bid_bond_payers;
    assert_eq!(pairs.len(), max);
    assert!(!pairs.iter().any(|(payer, _)| *payer == uscc(&format!("91330100MB{max:07}"))));
    let section = crate::deal::section(&state, &tender()).unwrap().unwrap();
    assert_eq!(section.bond_pairs as usize, max);
}
