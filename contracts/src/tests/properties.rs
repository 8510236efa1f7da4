//! Property tests: random sequences of actions never panic and never break the domain's
//! invariants (amounts, lifecycles, stage order, archive lock, score bounds, execute-once).

use proptest::prelude::*;

use huxin_types::credit::{CreditKind, RecordCredit, Severity};
use huxin_types::governance::{ProposalAction, Propose, Vote};
use huxin_types::guarantee::{ClaimGuarantee, GuaranteeKind, GuaranteeNote, IssueGuarantee, PayGuarantee};

use super::*;
use crate::guarantee::GuaranteeState;

const APPLICANTS: [&str; 3] = ["91330100MA0000001", "91330100MA0000002", "91330100MA0000003"];

fn tender(section: u8) -> TenderRef {
    TenderRef { region: region(330200), project_code: "P".into(), section_code: format!("{section}") }
}

/// (signer index, time in days, action) for guarantees.
fn guarantee_step() -> impl Strategy<Value = (usize, u64, Action)> {
    let number = (0u8..4).prop_map(|n| format!("G{n}"));
    let action = prop_oneof![
        (number.clone(), 0usize..3, 0u8..2, 1u64..30_000, 0usize..3, 1u64..20, prop::option::of(0u8..4)).prop_map(
            |(number, applicant, section, amount_fen, payer, days, replaces)| {
                Action::IssueGuarantee(IssueGuarantee {
                    number,
                    kind: if section == 0 { GuaranteeKind::BidBond } else { GuaranteeKind::Performance },
                    applicant: uscc(APPLICANTS[applicant]),
                    beneficiary: uscc("12330200MB0000001"),
                    premium_payer: uscc(APPLICANTS[payer]),
                    tender: tender(section),
                    amount_fen,
                    valid_from: TimestampMs(0),
                    valid_until: TimestampMs(days * DAY),
                    document_hash: Hash32([1; 32]),
                    replaces: replaces.map(|r| format!("G{r}")),
                })
            }
        ),
        number.clone().prop_map(|n| Action::VerifyGuarantee(GuaranteeNote { number: n, reason: String::new() })),
        (number.clone(), 1u64..30_000).prop_map(|(number, amount_fen)| Action::ClaimGuarantee(ClaimGuarantee {
            number,
            reason: "r".into(),
            evidence_hash: Hash32([2; 32]),
            amount_fen
        })),
        (number.clone(), 1u64..30_000).prop_map(|(number, amount_fen)| Action::PayGuarantee(PayGuarantee {
            number,
            amount_fen,
            evidence_hash: Hash32([3; 32])
        })),
        number.clone().prop_map(|n| Action::ReleaseGuarantee(GuaranteeNote { number: n, reason: "r".into() })),
        number.prop_map(|n| Action::CancelGuarantee(GuaranteeNote { number: n, reason: "r".into() })),
    ];
    // Signers: Hangzhou, Ningbo, bank, insurer.
    (prop::sample::select(vec![0usize, 1, 4, 5]), 0u64..25, action)
}

fn allowed(from: GuaranteeState, to: GuaranteeState) -> bool {
    use GuaranteeState::*;
    matches!(
        (from, to),
        (Issued | Verified, Verified | Claimed | Released | Replaced) | (Issued, Cancelled) | (Claimed, Paid)
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn guarantees_keep_their_invariants(steps in prop::collection::vec(guarantee_step(), 1..40)) {
        let (mut state, k) = regions();
        for a in APPLICANTS {
            run_at(&mut state, &k[0], 0, Action::AttestSubject(attestation(org(a)))).unwrap();
        }
        for (signer, day, action) in steps {
            let _ = run_at(&mut state, &k[signer], day * DAY, action);
            for n in 0..4 {
                let Some(g) = crate::guarantee::guarantee(&state, &format!("G{n}")).unwrap() else { continue };
                let claimed = g.claimed_fen.unwrap_or(0);
                prop_assert!(claimed <= g.guarantee.amount_fen);
                for pair in g.history.windows(2) {
                    prop_assert!(allowed(pair[0].state, pair[1].state), "{:?} → {:?}", pair[0].state, pair[1].state);
                }
                if let Some(paid) = g.history.iter().find(|e| e.state == GuaranteeState::Paid) {
                    prop_assert!(paid.amount_fen.unwrap() <= claimed);
                }
            }
            // At most one active bid bond per applicant and section, at any time.
            for day in [0u64, 10, 20] {
                for a in APPLICANTS {
                    let active = (0..4)
                        .filter_map(|n| crate::guarantee::guarantee(&state, &format!("G{n}")).unwrap())
                        .filter(|g| g.guarantee.kind == GuaranteeKind::BidBond && g.guarantee.applicant == uscc(a))
                        .filter(|g| g.is_active(TimestampMs(day * DAY)) && g.history[0].time.0 <= day * DAY)
                        .count();
                    prop_assert!(active <= 1, "{a} holds {active} active bid bonds on day {day}");
                }
            }
        }
    }

    #[test]
    fn stages_never_move_back_and_the_archive_is_final(
        steps in prop::collection::vec((0usize..12, 0u64..10, any::<u8>()), 1..40)
    ) {
        let (mut state, k) = regions();
        let stages = [
            DealStage::Announcement, DealStage::TenderDocument, DealStage::Clarification, DealStage::Bid,
            DealStage::OpeningRecord, DealStage::EvaluationReport, DealStage::CandidatePublicity,
            DealStage::AwardNotice, DealStage::Contract, DealStage::Complaint, DealStage::Exception, DealStage::Archive,
        ];
        for (stage, day, doc) in steps {
            let stage = stages[stage];
            let parties = if stage == DealStage::Bid { vec![uscc(APPLICANTS[doc as usize % 3])] } else { vec![] };
            let action = Action::AnchorDocument(AnchorDocument {
                tender: tender(0), stage, document_hash: Hash32([doc; 32]), title: String::new(),
                deal_code: String::new(), platform_code: String::new(), parties, experts: vec![], estimated_price_fen: None,
            });
            let _ = run_at(&mut state, &k[1], day * DAY, action);
        }
        if let Some(record) = crate::deal::tender(&state, &tender(0)).unwrap() {
            // Bids do not move the stage: the other ordered stages never go back, and every bid
            // comes after an announcement and before any stage past bidding.
            let stages: Vec<_> = record.timeline.iter().map(|e| e.stage).collect();
            let ordered: Vec<_> =
                stages.iter().copied().filter(|s| !s.is_unordered() && *s != DealStage::Bid).collect();
            prop_assert!(ordered.windows(2).all(|w| w[0] <= w[1]), "{ordered:?}");
            for (at, _) in stages.iter().enumerate().filter(|(_, s)| **s == DealStage::Bid) {
                let before = &stages[..at];
                prop_assert!(before.contains(&DealStage::Announcement), "{stages:?}");
                prop_assert!(before.iter().all(|s| s.is_unordered() || *s <= DealStage::Bid), "{stages:?}");
            }
            if let Some(at) = record.timeline.iter().position(|e| e.stage == DealStage::Archive) {
                prop_assert_eq!(at, record.timeline.len() - 1);
            }
        }
    }

    #[test]
    fn the_score_stays_within_bounds_and_adds_up(
        records in prop::collection::vec((0usize..5, 0usize..3, 0u8..=100, 0u64..400), 0..30),
        at in 0u64..800,
    ) {
        let (mut state, k) = regions();
        let kinds = [CreditKind::AdministrativePenalty, CreditKind::DishonestConduct, CreditKind::Commendation,
            CreditKind::ProjectEvaluation, CreditKind::ContractPerformance];
        let severities = [(Severity::Minor, 60), (Severity::General, 200), (Severity::Serious, 500)];
        for (i, (kind, severity, score, start)) in records.into_iter().enumerate() {
            let kind = kinds[kind];
            let (severity, days) = severities[severity];
            let r = RecordCredit {
                subject: org(APPLICANTS[0]), kind, decision_no: format!("D{i}"), authority: "a".into(),
                authority_uscc: uscc("11330100MB0000001"), facts: "f".into(), legal_basis: "b".into(),
                penalty_type: "p".into(), penalty_content: "p".into(), amount_fen: 0,
                decision_date: TimestampMs(start * DAY), evidence_hash: Hash32([0; 32]), severity,
                publication_start: TimestampMs(start * DAY), publication_end: TimestampMs((start + days) * DAY),
                score: kind.is_scored().then_some(score),
                tender: kind.is_scored().then(|| tender(0)),
            };
            run_at(&mut state, &k[3], 0, Action::RecordCredit(r)).unwrap();
        }
        let s = crate::credit::score(&state, &org(APPLICANTS[0]), TimestampMs(at * DAY)).unwrap();
        prop_assert!(s.score <= 100);
        let sum: i64 = s.items.iter().map(|i| i.points).sum();
        prop_assert_eq!(i64::from(s.score), sum.clamp(0, 100));
    }

    #[test]
    fn a_proposal_is_decided_once(votes in prop::collection::vec((0usize..3, any::<bool>(), 0u64..10), 0..12)) {
        let (mut state, k) = regions();
        let propose = Action::Propose(Propose {
            action: ProposalAction::SuspendMember { member: MemberId::from_key(&k[4].public_key()) },
            reason: "r".into(),
        });
        let id = Hash32(run_at(&mut state, &k[3], 0, propose).unwrap().0);
        let mut decided = None;
        for (voter, approve, day) in votes {
            let _ = run_at(&mut state, &k[voter], day * DAY, Action::Vote(Vote { proposal: id, approve }));
            let p = crate::governance::proposal(&state, &id).unwrap().unwrap();
            match (&decided, &p.status) {
                (None, crate::governance::ProposalStatus::Open) => {}
                (None, status) => decided = Some(status.clone()),
                (Some(before), status) => prop_assert_eq!(before, status),
            }
            let suspended = registry::member(&state, &MemberId::from_key(&k[4].public_key())).unwrap().unwrap().status
                == MemberStatus::Suspended;
            prop_assert_eq!(suspended, matches!(decided, Some(crate::governance::ProposalStatus::Executed { .. })));
        }
    }
}

/// A step on a paged list: add the next entry, or take out the n-th entry added (modulo how
/// many were), present or not.
#[derive(Clone, Debug)]
enum ListStep {
    Push,
    Remove(usize),
    /// Written as protocol version 2 did (one value) and moved to pages, as an old list is.
    Move,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A paged list holds exactly what a plain list would, in order, after any sequence of
    /// additions, removals (of present or absent entries) and moves from one value, with its
    /// count, pages and head agreeing.
    #[test]
    fn a_paged_list_keeps_what_a_plain_list_would(steps in prop::collection::vec(
        prop_oneof![3 => Just(ListStep::Push), 4 => any::<usize>().prop_map(ListStep::Remove), 1 => Just(ListStep::Move)],
        0..200,
    )) {
        let key = b"list".to_vec();
        let mut state = Memory::default();
        let mut head = crate::paged::Head::<u32>::default();
        // (ordinal, entry) of every entry added, and what a plain list would hold.
        let mut ordinals: Vec<(u32, u32)> = Vec::new();
        let mut model: Vec<u32> = Vec::new();
        for (next, step) in (0u32..).zip(steps) {
            match step {
                ListStep::Push => {
                    let ordinal = crate::paged::push(&mut state, &key, &mut head, next);
                    ordinals.push((ordinal, next));
                    model.push(next);
                }
                ListStep::Remove(n) => {
                    let Some(&(ordinal, entry)) = ordinals.get(n % ordinals.len().max(1)) else { continue };
                    let found = crate::paged::remove(&mut state, &key, &mut head, ordinal, |e| *e == entry, "list").unwrap();
                    prop_assert_eq!(found, model.contains(&entry));
                    model.retain(|e| *e != entry);
                }
                ListStep::Move => {
                    state.0.clear();
                    head = crate::paged::from_whole(&mut state, &key, model.clone());
                    ordinals = model.iter().enumerate().map(|(i, e)| (i as u32, *e)).collect();
                }
            }
            let stored: crate::paged::Head<u32> = crate::paged::head(&state, &key, "list").unwrap().unwrap_or_default();
            prop_assert_eq!(&stored, &head);
            prop_assert!(head.tail.len() <= crate::paged::PAGE_ENTRIES);
            prop_assert_eq!(crate::paged::entries(&state, &key, stored, "list").unwrap(), model.clone());
        }
    }
}
