//! Deal anchors: stage order, publicity, the archive lock, cross-region bids and experts, and the
//! identical-bid warning.

use super::*;
use crate::deal as contract;
use crate::risk::{self, RiskKind};

fn ningbo_tender() -> TenderRef {
    TenderRef { region: region(330200), project_code: "NB-2026-001".into(), section_code: "01".into() }
}

fn doc(stage: DealStage, hash: u8, parties: Vec<Uscc>) -> Action {
    Action::AnchorDocument(AnchorDocument {
        tender: ningbo_tender(),
        stage,
        document_hash: Hash32([hash; 32]),
        title: format!("{stage:?}"),
        deal_code: "NB-2026-001-01".into(),
        platform_code: "ZJ-NB".into(),
        parties,
        experts: Vec::new(),
        estimated_price_fen: None,
    })
}

#[test]
fn stages_move_forward_publicity_lasts_and_the_archive_locks() {
    let (mut state, k) = regions();
    let ningbo = &k[1];
    let bidder = uscc("91330100MA0000001");
    run_at(&mut state, ningbo, 0, doc(DealStage::Announcement, 1, vec![])).unwrap();
    run_at(&mut state, ningbo, DAY, doc(DealStage::Clarification, 2, vec![])).unwrap();
    run_at(&mut state, ningbo, 2 * DAY, doc(DealStage::Bid, 3, vec![bidder.clone()])).unwrap();
    // Bids do not move the stage: a clarification may still follow; after the opening, not.
    run_at(&mut state, ningbo, 2 * DAY, doc(DealStage::Clarification, 4, vec![])).unwrap();
    run_at(&mut state, ningbo, 2 * DAY, doc(DealStage::OpeningRecord, 10, vec![])).unwrap();
    rejected(
        run_at(&mut state, ningbo, 2 * DAY, doc(DealStage::Clarification, 11, vec![])),
        RejectCode::RuleViolated,
        "stage OpeningRecord; stages move forward only",
    );
    rejected(
        run_at(&mut state, ningbo, 2 * DAY, doc(DealStage::Bid, 12, vec![bidder.clone()])),
        RejectCode::RuleViolated,
        "stage OpeningRecord; stages move forward only",
    );
    // Complaints and exceptions come at any time.
    run_at(&mut state, ningbo, 2 * DAY, doc(DealStage::Complaint, 5, vec![bidder.clone()])).unwrap();
    rejected(
        run_at(&mut state, ningbo, 3 * DAY, doc(DealStage::AwardNotice, 6, vec![])),
        RejectCode::RuleViolated,
        "needs a candidate publicity",
    );
    run_at(&mut state, ningbo, 3 * DAY, doc(DealStage::CandidatePublicity, 7, vec![])).unwrap();
    rejected(
        run_at(&mut state, ningbo, 5 * DAY, doc(DealStage::AwardNotice, 6, vec![])),
        RejectCode::RuleViolated,
        "lasts at least 3 days",
    );
    run_at(&mut state, ningbo, 6 * DAY, doc(DealStage::AwardNotice, 6, vec![bidder.clone()])).unwrap();
    run_at(&mut state, ningbo, 7 * DAY, doc(DealStage::Archive, 8, vec![])).unwrap();
    for stage in [DealStage::Contract, DealStage::Complaint, DealStage::Archive] {
        rejected(run_at(&mut state, ningbo, 8 * DAY, doc(stage, 9, vec![])), RejectCode::InvalidTransition, "archived");
    }
    let record = contract::tender(&state, &ningbo_tender()).unwrap().unwrap();
    assert_eq!(record.timeline.len(), 9);
    assert_eq!(record.last_stage, Some(DealStage::Archive));
    assert_eq!(record.candidate_publicity_at, Some(TimestampMs(3 * DAY)));
}

#[test]
fn bids_come_from_any_region_and_identical_bids_raise_a_warning() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo) = (&k[0], &k[1]);
    let (a, b) = (uscc("91330100MA0000001"), uscc("91330200MA0000002"));
    rejected(
        run_at(&mut state, hangzhou, 0, doc(DealStage::Announcement, 1, vec![])),
        RejectCode::NotPermitted,
        "only bids may come from another region",
    );
    // Bids come after the announcement.
    rejected(
        run_at(&mut state, hangzhou, 0, doc(DealStage::Bid, 3, vec![a.clone()])),
        RejectCode::RuleViolated,
        "no announcement yet",
    );
    run_at(&mut state, ningbo, 0, doc(DealStage::Announcement, 1, vec![])).unwrap();
    // A Hangzhou platform relays bidder A's bid to the Ningbo tender (cross-platform).
    run_at(&mut state, hangzhou, 0, doc(DealStage::Bid, 3, vec![a.clone()])).unwrap();
    rejected(
        run_at(&mut state, ningbo, 0, doc(DealStage::Bid, 3, vec![a.clone()])),
        RejectCode::Conflict,
        "already anchored",
    );
    assert_eq!(risk::warnings(&state, &ningbo_tender()).unwrap().raised, 0);
    run_at(&mut state, ningbo, 0, doc(DealStage::Bid, 3, vec![b.clone()])).unwrap();
    let w = risk::warnings(&state, &ningbo_tender()).unwrap();
    assert_eq!(w.raised, 1);
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(w.warnings[0].kind, RiskKind::IdenticalBidDocument { document_hash: Hash32([3; 32]), bidders: both });
    // A bid names exactly one bidder.
    rejected(
        run_at(&mut state, ningbo, 0, doc(DealStage::Bid, 4, vec![])),
        RejectCode::InvalidField,
        "exactly one party",
    );
}

#[test]
fn evaluation_reports_may_name_experts_attested_in_other_regions() {
    let (mut state, k) = regions();
    let (ningbo, wenzhou) = (&k[1], &k[2]);
    let expert = Hash32([42; 32]);
    let Action::AnchorDocument(mut report) = doc(DealStage::EvaluationReport, 5, vec![]) else { unreachable!() };
    report.experts = vec![expert];
    rejected(
        run_at(&mut state, ningbo, 0, Action::AnchorDocument(report.clone())),
        RejectCode::NotFound,
        "not attested in any region",
    );
    let mut attest = attestation(SubjectId::Expert(expert));
    attest.kind = SubjectKind::Expert;
    run_at(&mut state, wenzhou, 0, Action::AttestSubject(attest)).unwrap();
    run_at(&mut state, ningbo, 0, Action::AnchorDocument(report.clone())).unwrap();
    report.stage = DealStage::Contract;
    report.document_hash = Hash32([6; 32]);
    rejected(
        run_at(&mut state, ningbo, 0, Action::AnchorDocument(report)),
        RejectCode::InvalidField,
        "only an evaluation report",
    );
}

/// Regression: a foreign centre's bids moved the section's stage (blocking the home centre's
/// next documents) and could fill the section's timeline.
#[test]
fn foreign_bids_cannot_block_or_fill_a_section() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo) = (&k[0], &k[1]);
    run_at(&mut state, ningbo, 0, doc(DealStage::Announcement, 1, vec![])).unwrap();
    for i in 0..contract::SECTION_REGION_BIDS_MAX {
        let bidder = uscc(&format!("91330100MA{:07}", i));
        let Action::AnchorDocument(mut bid) = doc(DealStage::Bid, 3, vec![bidder]) else { unreachable!() };
        bid.document_hash =
            Hash32(huxin_types::crypto::Suite::Ed25519Sha256.hash_tagged(b"bid", &(i as u64).to_be_bytes()).0);
        run_at(&mut state, hangzhou, 0, Action::AnchorDocument(bid)).unwrap();
    }
    rejected(
        run_at(&mut state, hangzhou, 0, doc(DealStage::Bid, 4, vec![uscc("91330100MA9999999")])),
        RejectCode::Conflict,
        "per region",
    );
    // The home centre's own documents and bids still go in, at the stage it set.
    run_at(&mut state, ningbo, 0, doc(DealStage::TenderDocument, 5, vec![])).unwrap();
    run_at(&mut state, ningbo, 0, doc(DealStage::Bid, 6, vec![uscc("91330200MA0000002")])).unwrap();
    run_at(&mut state, ningbo, 0, doc(DealStage::Clarification, 7, vec![])).unwrap();
    assert_eq!(contract::tender(&state, &ningbo_tender()).unwrap().unwrap().last_stage, Some(DealStage::Clarification));
}
