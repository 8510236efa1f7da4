//! Credit records: permissions, publication windows, repair, revocation and the score.

use huxin_types::credit::{CreditKind, RecordCredit, RepairCredit, RevokeCredit, Severity};
use huxin_types::crypto::Suite;

use super::*;
use crate::credit::{self as contract, Publication};

fn penalty(decision: &str, severity: Severity, start: u64, days: u64) -> RecordCredit {
    RecordCredit {
        subject: org("91330100MA0000001"),
        kind: CreditKind::AdministrativePenalty,
        decision_no: decision.into(),
        authority: "杭州市发展和改革委员会".into(),
        authority_uscc: uscc("11330100MB0000001"),
        facts: "提供虚假材料谋取中标".into(),
        legal_basis: "《招标投标法》第五十四条".into(),
        penalty_type: "罚款".into(),
        penalty_content: "处中标项目金额千分之五的罚款".into(),
        amount_fen: 5_000_000,
        decision_date: TimestampMs(start),
        evidence_hash: Hash32([3; 32]),
        severity,
        publication_start: TimestampMs(start),
        publication_end: TimestampMs(start + days * DAY),
        score: None,
        tender: None,
    }
}

fn evaluation(decision: &str, score: u8) -> RecordCredit {
    RecordCredit {
        kind: CreditKind::ProjectEvaluation,
        decision_no: decision.into(),
        facts: "代理服务评价".into(),
        legal_basis: String::new(),
        penalty_type: String::new(),
        penalty_content: String::new(),
        amount_fen: 0,
        severity: Severity::Minor,
        score: Some(score),
        tender: Some(TenderRef { region: region(330100), project_code: "P".into(), section_code: "S".into() }),
        ..penalty(decision, Severity::Minor, 0, 30)
    }
}

#[test]
fn penalties_need_a_supervisor_and_a_window_that_fits_the_severity() {
    let (mut state, k) = regions();
    let (hangzhou, supervisor) = (&k[0], &k[3]);
    let record = |r| Action::RecordCredit(r);
    rejected(
        run_at(&mut state, hangzhou, 0, record(penalty("杭发改罚〔2026〕1号", Severity::General, 0, 180))),
        RejectCode::NotPermitted,
        "only a supervisor",
    );
    // General: 90 to 365 days.
    rejected(
        run_at(&mut state, supervisor, 0, record(penalty("D1", Severity::General, 0, 30))),
        RejectCode::RuleViolated,
        "90 to 365 days",
    );
    rejected(
        run_at(&mut state, supervisor, 0, record(penalty("D1", Severity::Serious, 0, 1200))),
        RejectCode::RuleViolated,
        "365 to 1095 days",
    );
    run_at(&mut state, supervisor, 0, record(penalty("D1", Severity::General, 0, 180))).unwrap();
    rejected(
        run_at(&mut state, supervisor, 0, record(penalty("D1", Severity::General, 0, 180))),
        RejectCode::Conflict,
        "already recorded",
    );
    // A trading centre records dishonest conduct in its own name.
    let mut dishonest = penalty("D2", Severity::Minor, 0, 60);
    dishonest.kind = CreditKind::DishonestConduct;
    run_at(&mut state, hangzhou, 0, record(dishonest)).unwrap();

    let history = contract::history(&state, &org("91330100MA0000001")).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].record.decision_no, "D1");
    assert_eq!((history[1].region, history[1].recorded_by_role), (region(330100), Role::TradingCentre));
}

#[test]
fn fields_are_checked() {
    let (mut state, k) = regions();
    let mut bad = evaluation("E1", 90);
    bad.score = Some(101);
    rejected(run_at(&mut state, &k[3], 0, Action::RecordCredit(bad)), RejectCode::InvalidField, "score");
    let mut bad = evaluation("E1", 90);
    bad.score = None;
    rejected(run_at(&mut state, &k[3], 0, Action::RecordCredit(bad)), RejectCode::InvalidField, "needs a score");
    let mut bad = penalty("D", Severity::General, 0, 100);
    bad.publication_start = TimestampMs(0);
    bad.decision_date = TimestampMs(DAY);
    rejected(run_at(&mut state, &k[3], 0, Action::RecordCredit(bad)), RejectCode::InvalidField, "before the decision");
    let mut bad = penalty("D", Severity::General, 0, 100);
    bad.facts = "实".repeat(1000);
    rejected(run_at(&mut state, &k[3], 0, Action::RecordCredit(bad)), RejectCode::InvalidField, "facts");
}

#[test]
fn repair_after_the_minimum_window_and_revocation_keep_the_trace() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo, supervisor) = (&k[0], &k[1], &k[3]);
    let subject = org("91330100MA0000001");
    let mut dishonest = penalty("D2", Severity::General, 0, 200);
    dishonest.kind = CreditKind::DishonestConduct;
    let id = dishonest.record_id(Suite::Ed25519Sha256);
    run_at(&mut state, hangzhou, 0, Action::RecordCredit(dishonest)).unwrap();
    let repair = |reason: &str| {
        Action::RepairCredit(RepairCredit { record_id: id, reason: reason.into(), evidence_hash: Hash32([8; 32]) })
    };
    rejected(
        run_at(&mut state, hangzhou, 30 * DAY, repair("整改完成")),
        RejectCode::RuleViolated,
        "minimum publication of 90 days",
    );
    rejected(
        run_at(&mut state, ningbo, 100 * DAY, repair("整改完成")),
        RejectCode::NotPermitted,
        "only it or a supervisor",
    );
    assert_eq!(contract::score(&state, &subject, TimestampMs(100 * DAY)).unwrap().score, 70);
    run_at(&mut state, hangzhou, 100 * DAY, repair("整改完成")).unwrap();
    let stored = contract::record(&state, &id).unwrap().unwrap();
    assert_eq!(stored.publication(TimestampMs(100 * DAY)), Publication::Repaired);
    assert_eq!(contract::score(&state, &subject, TimestampMs(100 * DAY)).unwrap().score, 80);
    rejected(run_at(&mut state, supervisor, 101 * DAY, repair("again")), RejectCode::InvalidTransition, "is repaired");

    // Revocation by a supervisor; the record stays, marked, and cannot be repaired after.
    run_at(&mut state, supervisor, 0, Action::RecordCredit(penalty("D3", Severity::Minor, 0, 60))).unwrap();
    let id3 = penalty("D3", Severity::Minor, 0, 60).record_id(Suite::Ed25519Sha256);
    let revoke = Action::RevokeCredit(RevokeCredit { record_id: id3, reason: "录入错误".into() });
    run_at(&mut state, supervisor, DAY, revoke.clone()).unwrap();
    rejected(run_at(&mut state, supervisor, 2 * DAY, revoke), RejectCode::InvalidTransition, "is revoked");
    assert_eq!(contract::history(&state, &subject).unwrap().len(), 2);
    assert_eq!(contract::record(&state, &id3).unwrap().unwrap().publication(TimestampMs(DAY)), Publication::Revoked);

    // Commendations and evaluations are not repaired.
    run_at(&mut state, hangzhou, 0, Action::RecordCredit(evaluation("E1", 90))).unwrap();
    let eid = evaluation("E1", 90).record_id(Suite::Ed25519Sha256);
    let r = Action::RepairCredit(RepairCredit { record_id: eid, reason: "r".into(), evidence_hash: Hash32([1; 32]) });
    rejected(run_at(&mut state, hangzhou, DAY, r), RejectCode::InvalidTransition, "only penalties");
    rejected(
        run_at(
            &mut state,
            hangzhou,
            DAY,
            Action::RevokeCredit(RevokeCredit { record_id: Hash32([0; 32]), reason: "r".into() }),
        ),
        RejectCode::NotFound,
        "no credit record",
    );
}

#[test]
fn the_score_counts_only_active_records_with_every_contribution() {
    let (mut state, k) = regions();
    let (hangzhou, supervisor) = (&k[0], &k[3]);
    let subject = org("91330100MA0000001");
    assert_eq!(contract::score(&state, &subject, TimestampMs(0)).unwrap().score, 80);
    run_at(&mut state, supervisor, 0, Action::RecordCredit(penalty("S1", Severity::Serious, 10 * DAY, 400))).unwrap();
    run_at(&mut state, supervisor, 0, Action::RecordCredit(penalty("M1", Severity::Minor, 0, 15))).unwrap();
    for i in 0..5 {
        let mut c = evaluation(&format!("C{i}"), 0);
        c.kind = CreditKind::Commendation;
        c.score = None;
        c.tender = None;
        run_at(&mut state, hangzhou, 0, Action::RecordCredit(c)).unwrap();
    }
    run_at(&mut state, hangzhou, 0, Action::RecordCredit(evaluation("E1", 100))).unwrap();
    run_at(&mut state, hangzhou, 0, Action::RecordCredit(evaluation("E2", 81))).unwrap();

    // Day 1: minor −2, commendations +10 (capped), evaluations ⌊(90.5 − 60) / 4⌋ = +7.
    let s = contract::score(&state, &subject, TimestampMs(DAY)).unwrap();
    assert_eq!(s.score, 80 - 2 + 10 + 7, "{s:?}");
    assert_eq!(s.items.iter().map(|i| i.points).sum::<i64>(), 95);
    // Day 20: the minor penalty's publication ended; the serious one (−30) started on day 10.
    assert_eq!(contract::score(&state, &subject, TimestampMs(20 * DAY)).unwrap().score, 80 - 30 + 10 + 7);
    // Low evaluations round down, and the total never goes below zero.
    run_at(&mut state, hangzhou, 0, Action::RecordCredit(evaluation("E3", 0))).unwrap();
    let s = contract::score(&state, &subject, TimestampMs(20 * DAY)).unwrap();
    assert_eq!(s.items.last().unwrap().points, (181 - 180_i64).div_euclid(12));
    for i in 0..4 {
        run_at(&mut state, supervisor, 0, Action::RecordCredit(penalty(&format!("X{i}"), Severity::Serious, 0, 400)))
            .unwrap();
    }
    assert_eq!(contract::score(&state, &subject, TimestampMs(20 * DAY)).unwrap().score, 0);
}

/// Regressions: anyone could pre-record under a member authority's coming decision number (the
/// real penalty then failed with `conflict`), and revoked records counted toward a per-subject
/// cap that one member could fill.
#[test]
fn decision_numbers_and_room_belong_to_their_authority() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo, supervisor) = (&k[0], &k[1], &k[3]);
    let supervisor_uscc = uscc("11330000MB0000009");
    let coming = RecordCredit {
        authority_uscc: supervisor_uscc.clone(),
        kind: CreditKind::DishonestConduct,
        ..penalty("浙发改罚〔2026〕9号", Severity::General, 0, 200)
    };
    rejected(run(&mut state, hangzhou, Action::RecordCredit(coming.clone())), RejectCode::NotPermitted, "only it may");
    let real = RecordCredit {
        authority_uscc: supervisor_uscc,
        ..penalty("浙发改罚〔2026〕9号", Severity::General, 0, 200)
    };
    run(&mut state, supervisor, Action::RecordCredit(real)).unwrap();

    // Hangzhou records and revokes until its quota is used; Ningbo can still record.
    for i in 0..contract::RECORDER_RECORDS_MAX {
        let r = RecordCredit {
            kind: CreditKind::DishonestConduct,
            ..penalty(&format!("HZ-{i}"), Severity::General, 0, 200)
        };
        let id = r.record_id(Suite::Ed25519Sha256);
        run(&mut state, hangzhou, Action::RecordCredit(r)).unwrap();
        run(&mut state, hangzhou, Action::RevokeCredit(RevokeCredit { record_id: id, reason: "错录".into() })).unwrap();
    }
    let one_more = RecordCredit { kind: CreditKind::DishonestConduct, ..penalty("HZ-more", Severity::General, 0, 200) };
    rejected(
        run(&mut state, hangzhou, Action::RecordCredit(one_more)),
        RejectCode::Conflict,
        "the most one member may",
    );
    let from_ningbo = RecordCredit { kind: CreditKind::DishonestConduct, ..penalty("NB-1", Severity::General, 0, 200) };
    run(&mut state, ningbo, Action::RecordCredit(from_ningbo)).unwrap();
}

/// Regression: the public view evaluated publication at a caller-chosen time, so a past time
/// showed a repaired record (and counted it in the score). A repair or revocation withdraws it
/// at every time.
#[test]
fn a_repaired_record_is_public_at_no_time() {
    let (mut state, k) = regions();
    let hangzhou = &k[0];
    let subject = org("91330100MA0000001");
    let mut dishonest = penalty("D9", Severity::General, 0, 200);
    dishonest.kind = CreditKind::DishonestConduct;
    let id = dishonest.record_id(Suite::Ed25519Sha256);
    run_at(&mut state, hangzhou, 0, Action::RecordCredit(dishonest)).unwrap();
    let record = contract::record(&state, &id).unwrap().unwrap();
    assert!(record.is_public(TimestampMs(50 * DAY)));
    assert!(!record.is_public(TimestampMs(300 * DAY)), "expired");
    let repair = RepairCredit { record_id: id, reason: "整改完成".into(), evidence_hash: Hash32([8; 32]) };
    run_at(&mut state, hangzhou, 100 * DAY, Action::RepairCredit(repair)).unwrap();
    let record = contract::record(&state, &id).unwrap().unwrap();
    // Before the repair it *was* active, as the supervisors' history still says; the public
    // view no longer shows it then.
    assert_eq!(record.publication(TimestampMs(50 * DAY)), Publication::Active);
    assert!(!record.is_public(TimestampMs(50 * DAY)));
    assert_eq!(
        contract::score(&state, &subject, TimestampMs(50 * DAY)).unwrap().score,
        80,
        "no deduction at a past time"
    );
}

/// The keys a public answer reads, to check what a proof of it would carry.
struct Reads<'a>(&'a Memory, std::cell::RefCell<Vec<Vec<u8>>>);

impl KvState for Reads<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.1.borrow_mut().push(key.to_vec());
        self.0.get(key)
    }
    fn put(&mut self, _: Vec<u8>, _: Vec<u8>) {}
    fn delete(&mut self, _: Vec<u8>) {}
}

/// Regression: a public answer (history, score) read every record of the subject, so its proof
/// carried the content of pending, expired, repaired and revoked records. It now reads the
/// public list and the published records only.
#[test]
fn a_public_answer_reads_no_hidden_record() {
    let (mut state, k) = regions();
    let (hangzhou, supervisor) = (&k[0], &k[3]);
    let subject = org("91330100MA0000001");
    let dishonest = |no: &str, start: u64| {
        let mut r = penalty(no, Severity::General, start, 200);
        r.kind = CreditKind::DishonestConduct;
        r
    };
    let published = dishonest("PUB", 0);
    let pending = dishonest("PENDING", 400 * DAY);
    let expired = dishonest("EXPIRED", 0);
    let expired = RecordCredit { publication_end: TimestampMs(100 * DAY), ..expired };
    let repaired = dishonest("REPAIRED", 0);
    let revoked = dishonest("REVOKED", 0);
    for r in [&published, &pending, &expired, &repaired, &revoked] {
        run_at(&mut state, hangzhou, 0, Action::RecordCredit(r.clone())).unwrap();
    }
    let repair = RepairCredit {
        record_id: repaired.record_id(Suite::Ed25519Sha256),
        reason: "整改完成".into(),
        evidence_hash: Hash32([8; 32]),
    };
    run_at(&mut state, hangzhou, 120 * DAY, Action::RepairCredit(repair)).unwrap();
    let revoke = RevokeCredit { record_id: revoked.record_id(Suite::Ed25519Sha256), reason: "错误".into() };
    run_at(&mut state, supervisor, 120 * DAY, Action::RevokeCredit(revoke)).unwrap();

    let now = TimestampMs(150 * DAY);
    let reads = Reads(&state, Default::default());
    let public = contract::public_records(&reads, &subject, now).unwrap();
    assert_eq!(public.iter().map(|r| r.record.decision_no.as_str()).collect::<Vec<_>>(), ["PUB"]);
    contract::score(&reads, &subject, now).unwrap();
    let read = reads.1.into_inner();
    assert!(read.contains(&keys::credit_record(&published.record_id(Suite::Ed25519Sha256))));
    for hidden in [&pending, &expired, &repaired, &revoked] {
        assert!(
            !read.contains(&keys::credit_record(&hidden.record_id(Suite::Ed25519Sha256))),
            "{} was read by a public answer",
            hidden.decision_no
        );
    }
    // The complete history keeps every record for supervisors.
    assert_eq!(contract::history(&state, &subject).unwrap().len(), 5);
}

/// The `i`-th of many general dishonest-conduct records about the test subject, by Hangzhou's
/// centre, published from day 0 for 200 days.
fn numbered(i: usize) -> RecordCredit {
    RecordCredit {
        kind: CreditKind::DishonestConduct,
        ..penalty(&format!("杭失信〔2026〕{i}号"), Severity::General, 0, 200)
    }
}

fn decisions(records: &[contract::CreditRecord]) -> Vec<String> {
    records.iter().map(|r| r.record.decision_no.clone()).collect()
}

/// Regression: a subject's complete and public lists were one value each, rewritten by every
/// record, while the ledger keeps every version of a value: the k-th record wrote k ids and k
/// publication windows (the 200th ≈ 16 KB). Now what a record writes does not grow with the
/// subject's history.
#[test]
fn a_record_writes_as_much_for_a_long_history_as_for_a_new_one() {
    let (mut state, k) = regions();
    let records = 200;
    let sizes: Vec<usize> =
        (0..records).map(|i| written(&mut state, &k[0], i as u64, Action::RecordCredit(numbered(i)))).collect();
    let span = 2 * crate::paged::PAGE_ENTRIES;
    let (early, late) = (sizes[..span].iter().max().unwrap(), sizes[sizes.len() - span..].iter().max().unwrap());
    // Counts and ordinals grow by a byte or two, decision numbers by a digit.
    assert!(late <= &(early + 12), "the first records wrote at most {early} bytes, the last {late}: {sizes:?}");
    let subject = org("91330100MA0000001");
    let all: Vec<String> = (0..records).map(|i| numbered(i).decision_no).collect();
    assert_eq!(decisions(&contract::history(&state, &subject).unwrap()), all);
    assert_eq!(decisions(&contract::public_records(&state, &subject, TimestampMs(DAY)).unwrap()), all);
}

/// Records repaired or revoked from a full page, from the head and from the page the head just
/// wrote leave the public list in order; the complete list keeps them all.
#[test]
fn withdrawn_records_leave_the_public_list_in_order_wherever_they_are() {
    let (mut state, k) = regions();
    let (hangzhou, supervisor) = (&k[0], &k[3]);
    let records = 2 * crate::paged::PAGE_ENTRIES + 5;
    for i in 0..records {
        run_at(&mut state, hangzhou, 0, Action::RecordCredit(numbered(i))).unwrap();
    }
    // A whole page too (16..32), so a page is emptied and deleted.
    let withdrawn: Vec<usize> = [0, 7, 15, 33, 36].into_iter().chain(16..32).collect();
    for (n, i) in withdrawn.iter().enumerate() {
        let record_id = numbered(*i).record_id(Suite::Ed25519Sha256);
        let action = if n % 2 == 0 {
            Action::RevokeCredit(RevokeCredit { record_id, reason: "录入错误".into() })
        } else {
            Action::RepairCredit(RepairCredit {
                record_id, reason: "整改完成".into(), evidence_hash: Hash32([8; 32])
            })
        };
        run_at(&mut state, supervisor, 100 * DAY, action).unwrap();
    }
    let subject = org("91330100MA0000001");
    let left: Vec<String> = (0..records).filter(|i| !withdrawn.contains(i)).map(|i| numbered(i).decision_no).collect();
    assert_eq!(decisions(&contract::public_records(&state, &subject, TimestampMs(DAY)).unwrap()), left);
    assert_eq!(contract::history(&state, &subject).unwrap().len(), records);
    // Added after the withdrawals: at the end.
    run_at(&mut state, hangzhou, 0, Action::RecordCredit(numbered(records))).unwrap();
    let public = contract::public_records(&state, &subject, TimestampMs(DAY)).unwrap();
    assert_eq!(public.last().unwrap().record.decision_no, numbered(records).decision_no);
    assert_eq!(public.len(), left.len() + 1);
}

/// A subject's lists stored by protocol version 2 (one value each) read as they did and move to
/// pages at the subject's next change; a record of the old list can still be withdrawn.
#[test]
fn credit_lists_stored_by_protocol_2_read_and_move_at_the_next_change() {
    let (mut state, k) = regions();
    let (hangzhou, supervisor) = (&k[0], &k[3]);
    let records = crate::paged::PAGE_ENTRIES + 3;
    for i in 0..records {
        run_at(&mut state, hangzhou, 0, Action::RecordCredit(numbered(i))).unwrap();
    }
    let subject = org("91330100MA0000001");
    let ids = contract::record_ids(&state, &subject).unwrap();
    let public: Vec<contract::PublicEntry> = contract::public_records(&state, &subject, TimestampMs(DAY))
        .unwrap()
        .iter()
        .map(|r| contract::PublicEntry {
            id: r.id,
            publication_start: r.record.publication_start,
            publication_end: r.record.publication_end,
        })
        .collect();
    // Store them as protocol version 2 did.
    state.0.retain(|key, _| {
        !key.starts_with(b"credit_ids/")
            && !key.starts_with(b"credit_published/")
            && !key.starts_with(b"credit_published_at/")
    });
    state.put(keys::credit_list(&subject), codec::encode(&ids));
    state.put(keys::credit_public(&subject), codec::encode(&public));
    let all: Vec<String> = (0..records).map(|i| numbered(i).decision_no).collect();
    assert_eq!(decisions(&contract::history(&state, &subject).unwrap()), all);
    assert_eq!(decisions(&contract::public_records(&state, &subject, TimestampMs(DAY)).unwrap()), all);

    // A revocation moves the public list, a new record the complete one.
    let revoke = RevokeCredit { record_id: ids[2], reason: "录入错误".into() };
    run_at(&mut state, supervisor, DAY, Action::RevokeCredit(revoke)).unwrap();
    assert_eq!(state.get(&keys::credit_public(&subject)).unwrap(), None, "the old public list is deleted");
    run_at(&mut state, hangzhou, 0, Action::RecordCredit(numbered(records))).unwrap();
    assert_eq!(state.get(&keys::credit_list(&subject)).unwrap(), None, "the old complete list is deleted");
    let mut now = all.clone();
    now.push(numbered(records).decision_no);
    assert_eq!(decisions(&contract::history(&state, &subject).unwrap()), now);
    now.remove(2);
    assert_eq!(decisions(&contract::public_records(&state, &subject, TimestampMs(DAY)).unwrap()), now);
}
