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

/// [`doc`] of the `i`-th document (its hash from `i`).
fn numbered(stage: DealStage, i: u64, parties: Vec<Uscc>) -> Action {
    let Action::AnchorDocument(mut a) = doc(stage, 0, parties) else { unreachable!() };
    a.document_hash = Hash32::of_document(&i.to_be_bytes());
    Action::AnchorDocument(a)
}

/// The `i`-th bid, by its own bidder.
fn bid(i: u64) -> Action {
    numbered(DealStage::Bid, i, vec![uscc(&format!("91330200MA{i:07}"))])
}

/// Regression: a section was one record holding its whole timeline, rewritten by every anchor,
/// and the ledger keeps every version of a value: the k-th bid wrote k timeline entries (a
/// section of n anchors stored ≈ n²/2; the 256th bid 16 509 bytes, the first 442). Now what an
/// anchor writes does not grow with its section's timeline.
#[test]
fn an_anchor_writes_as_much_in_a_long_section_as_in_a_new_one() {
    let (mut state, k) = regions();
    let ningbo = &k[1];
    written(&mut state, ningbo, 0, doc(DealStage::Announcement, 1, vec![]));
    let bids = contract::SECTION_REGION_BIDS_MAX as u64;
    let sizes: Vec<usize> = (1..=bids).map(|i| written(&mut state, ningbo, i, bid(i))).collect();
    // Two pages' worth at each end: the record's tail fills and empties the same way.
    let span = 2 * crate::deal::section::SECTION_PAGE_ENTRIES;
    let (early, late) = (sizes[..span].iter().max().unwrap(), sizes[sizes.len() - span..].iter().max().unwrap());
    // The counts in the record grow by a byte or two.
    assert!(late <= &(early + 8), "the first bids wrote at most {early} bytes, the last {late}: {sizes:?}");
    let record = contract::tender(&state, &ningbo_tender()).unwrap().unwrap();
    assert_eq!(record.timeline.len(), bids as usize + 1);
    assert_eq!(record.timeline[0].stage, DealStage::Announcement);
    let parties: Vec<Uscc> = record.timeline[1..].iter().flat_map(|e| e.parties.clone()).collect();
    assert_eq!(parties, (1..=bids).map(|i| uscc(&format!("91330200MA{i:07}"))).collect::<Vec<_>>());
    rejected(
        run_at(&mut state, ningbo, 0, bid(bids + 1)),
        RejectCode::Conflict,
        "at most 1024 in all and 256 per region",
    );
}

/// A section stored by protocol version 1 (one record with its timeline and bid bond pairs)
/// reads as it did, keeps its rules, and moves to the new keys at its next write.
#[test]
fn a_section_stored_by_protocol_1_reads_and_moves_at_its_next_write() {
    let (mut state, k) = regions();
    let ningbo = &k[1];
    let (a, b) = (uscc("91330100MA0000001"), uscc("91330200MA0000002"));
    run_at(&mut state, ningbo, 0, doc(DealStage::Announcement, 1, vec![])).unwrap();
    run_at(&mut state, ningbo, DAY, doc(DealStage::Bid, 2, vec![a.clone()])).unwrap();
    // More than a page of entries, so the move writes a page and a tail.
    for i in 1..=9 {
        run_at(&mut state, ningbo, DAY, bid(i)).unwrap();
    }
    let mut old = contract::tender(&state, &ningbo_tender()).unwrap().unwrap();
    let payer = uscc("91330100MA0000777");
    old.bid_bond_payers = vec![(payer.clone(), a.clone())];
    // Store it as protocol version 1 did: one record, none of the new keys.
    state.0.retain(|key, _| !key.starts_with(b"section") && !key.starts_with(b"bond_"));
    state.put(keys::tender(&ningbo_tender()), codec::encode(&old));

    assert_eq!(contract::tender(&state, &ningbo_tender()).unwrap().as_ref(), Some(&old));
    let record = contract::section(&state, &ningbo_tender()).unwrap().unwrap();
    assert!(record.has_stage(DealStage::Announcement) && record.has_stage(DealStage::Bid));
    assert_eq!((record.anchors(), record.bond_pairs, record.bids(region(330200))), (11, 1, (10, 10)));
    assert_eq!((record.pages, &record.tail[..]), (1, &old.timeline[8..]));

    // The rules still read it: stages move forward only.
    run_at(&mut state, ningbo, 2 * DAY, doc(DealStage::OpeningRecord, 3, vec![])).unwrap();
    assert_eq!(state.get(&keys::tender(&ningbo_tender())).unwrap(), None, "the old record is deleted");
    let moved = contract::tender(&state, &ningbo_tender()).unwrap().unwrap();
    assert_eq!(moved.timeline[..11], old.timeline[..]);
    assert_eq!(moved.timeline.len(), 12);
    assert_eq!(moved.bid_bond_payers, old.bid_bond_payers);
    assert_eq!(moved.last_stage, Some(DealStage::OpeningRecord));
    assert_eq!(crate::deal::section::applicants_paid_by(&state, &ningbo_tender(), &payer).unwrap(), vec![a.clone()]);
    rejected(
        run_at(&mut state, ningbo, 3 * DAY, doc(DealStage::Bid, 4, vec![b])),
        RejectCode::RuleViolated,
        "stages move forward only",
    );
}

/// A section takes at most `SECTION_ANCHORS_MAX` anchors, counted across its pages and tail.
#[test]
fn a_section_takes_at_most_its_limit_of_anchors() {
    let (mut state, k) = regions();
    let ningbo = &k[1];
    let max = contract::SECTION_ANCHORS_MAX as u64;
    let announcement = |i: u64| numbered(DealStage::Announcement, i, vec![]);
    for i in 0..max {
        run_at(&mut state, ningbo, i, announcement(i)).unwrap();
    }
    rejected(run_at(&mut state, ningbo, max, announcement(max)), RejectCode::Conflict, "already has 2048 anchors");
    let record = contract::section(&state, &ningbo_tender()).unwrap().unwrap();
    assert_eq!(record.anchors(), contract::SECTION_ANCHORS_MAX);
    assert_eq!(record.tail.len(), crate::deal::section::SECTION_PAGE_ENTRIES);
    let timeline = contract::tender(&state, &ningbo_tender()).unwrap().unwrap().timeline;
    let hashes: Vec<Hash32> = timeline.iter().map(|e| e.document_hash).collect();
    assert_eq!(hashes, (0..max).map(|i| Hash32::of_document(&i.to_be_bytes())).collect::<Vec<_>>());
}
