//! Remote cross-region evaluation: enrolment, avoidance, commit and reveal, the draw, the ways a
//! centre might try to steer it, blind seats, replacements and the documents that close it.

use huxin_types::evaluation::{
    commitment_of, draw, draw_seed, AnchorEvaluation, CommitDraw, EnrolExpert, EvaluationDocument, OpenEvaluation,
    ReplaceExpert, ReplaceReason, RevealDraw, RevealSeats, Seats,
};

use super::*;
use crate::evaluation::{self as contract, SessionStatus};
use huxin_types::crypto::Suite;

fn expert(n: u8) -> Hash32 {
    Hash32([n; 32])
}

/// Attest expert `n` in the signer's region and enrol it for `specialties`, employed by `employer`.
fn enrol(state: &mut Memory, key: &SecretKey, n: u8, specialties: &[&str], employer: &str) {
    let subject = SubjectId::Expert(expert(n));
    let attest = AttestSubject { kind: SubjectKind::Expert, ..attestation(subject) };
    run_at(state, key, 0, Action::AttestSubject(attest)).unwrap();
    let e = EnrolExpert {
        expert: expert(n),
        specialties: specialties.iter().map(|s| s.to_string()).collect(),
        employer: uscc(employer),
    };
    run_at(state, key, 0, Action::EnrolExpert(e)).unwrap();
}

const BIDDER: &str = "91330200MA0000001";
const SEAT_SECRET: Hash32 = Hash32([111; 32]);
const OTHER: &str = "91330100MA0000009";

/// Hangzhou (0), Ningbo (1) and Wenzhou (2) each enrol experts; Ningbo announces a tender and
/// opens a session with Hangzhou and Wenzhou as guests. The session id and the host's secret.
fn opened(state: &mut Memory, k: &[SecretKey]) -> (Hash32, Hash32) {
    for (centre, first) in [(0usize, 10u8), (1, 20), (2, 30)] {
        for n in first..first + 5 {
            let employer = if n == first { BIDDER } else { OTHER };
            enrol(state, &k[centre], n, &["土建", "造价"], employer);
        }
    }
    let tender = TenderRef { region: region(330200), project_code: "NB-EV-1".into(), section_code: "01".into() };
    let announce = Action::AnchorDocument(AnchorDocument {
        tender: tender.clone(),
        ..match anchor(1) {
            Action::AnchorDocument(a) => a,
            _ => unreachable!(),
        }
    });
    run_at(state, &k[1], 0, announce).unwrap();
    let secret = Hash32([101; 32]);
    let open = OpenEvaluation {
        tender,
        guests: vec![region(330100), region(330300)],
        seats: vec![Seats { specialty: "土建".into(), count: 3 }, Seats { specialty: "造价".into(), count: 2 }],
        avoid_tender_region: true,
        avoid_employers: vec![uscc(BIDDER)],
        commitment: commitment_of(Suite::Ed25519Sha256, &secret),
        seat_commitment: commitment_of(Suite::Ed25519Sha256, &SEAT_SECRET),
    };
    let id = run_at(state, &k[1], 1000, Action::OpenEvaluation(open)).unwrap();
    (Hash32(id.0), secret)
}

#[test]
fn three_regions_draw_with_avoidance_and_nobody_twice() {
    let (mut state, k) = regions();
    let (id, host_secret) = opened(&mut state, &k);
    let pools = contract::session_pool(&state, &id).unwrap();
    // The pool excludes Ningbo's own experts (the tender's region) and the bidder's employees.
    for pool in &pools {
        assert!(pool.iter().all(|e| !(20..25).contains(&e.0[0])), "a local expert: {pool:?}");
        assert!(pool.iter().all(|e| ![10, 30].contains(&e.0[0])), "a bidder's employee: {pool:?}");
    }
    let (hz, wz) = (Hash32([102; 32]), Hash32([103; 32]));
    for (key, secret) in [(&k[0], hz), (&k[2], wz)] {
        let c = CommitDraw { session: id, commitment: commitment_of(Suite::Ed25519Sha256, &secret) };
        run_at(&mut state, key, 2000, Action::CommitDraw(c)).unwrap();
    }
    for (key, secret) in [(&k[1], host_secret), (&k[0], hz)] {
        run_at(&mut state, key, 3000, Action::RevealDraw(RevealDraw { session: id, secret })).unwrap();
        assert!(matches!(contract::session(&state, &id).unwrap().unwrap().status, SessionStatus::Open));
    }
    run_at(&mut state, &k[2], 3000, Action::RevealDraw(RevealDraw { session: id, secret: wz })).unwrap();
    let s = contract::session(&state, &id).unwrap().unwrap();
    assert!(matches!(s.status, SessionStatus::Drawn { .. }));
    assert_eq!((s.drawn.len(), s.unfilled.len()), (5, 0));
    let mut experts: Vec<Hash32> = s.drawn.iter().map(|d| d.expert).collect();
    experts.sort();
    experts.dedup();
    assert_eq!(experts.len(), 5, "nobody twice: {:?}", s.drawn);
    // Anyone recomputes it from the secrets and the pool fixed at opening.
    let seed = draw_seed(Suite::Ed25519Sha256, &id, &[host_secret, hz, wz]);
    assert_eq!(s.seed, Some(seed));
    let again: Vec<(String, Hash32)> = s.drawn.iter().map(|d| (d.specialty.clone(), d.expert)).collect();
    assert_eq!(draw(Suite::Ed25519Sha256, &seed, &s.seats, &pools), again);
    // Closed to everything once drawn.
    let late = CommitDraw { session: id, commitment: Hash32::ZERO };
    rejected(run_at(&mut state, &k[0], 4000, Action::CommitDraw(late)), RejectCode::InvalidTransition, "drawn");
}

#[test]
fn no_centre_can_steer_the_draw() {
    let (mut state, k) = regions();
    let (id, host_secret) = opened(&mut state, &k);
    // The host cannot reveal before every guest has committed (it would let the last guest choose).
    let early = RevealDraw { session: id, secret: host_secret };
    rejected(
        run_at(&mut state, &k[1], 2000, Action::RevealDraw(early)),
        RejectCode::InvalidTransition,
        "not committed",
    );
    let (hz, wz) = (Hash32([102; 32]), Hash32([103; 32]));
    let commit = |secret| {
        Action::CommitDraw(CommitDraw { session: id, commitment: commitment_of(Suite::Ed25519Sha256, &secret) })
    };
    run_at(&mut state, &k[0], 2000, commit(hz)).unwrap();
    // A guest cannot change its commitment.
    rejected(run_at(&mut state, &k[0], 2000, commit(Hash32([9; 32]))), RejectCode::Conflict, "cannot change");
    // A member that is no venue cannot take part (the supervisor, a bank).
    for outsider in [&k[3], &k[4]] {
        let r = run_at(&mut state, outsider, 2000, commit(Hash32([9; 32])));
        assert_eq!(r.unwrap_err().code, RejectCode::NotPermitted);
    }
    run_at(&mut state, &k[2], 2000, commit(wz)).unwrap();
    // A secret that is not the committed one is refused.
    let lie = RevealDraw { session: id, secret: Hash32([104; 32]) };
    rejected(run_at(&mut state, &k[2], 3000, Action::RevealDraw(lie)), RejectCode::RuleViolated, "does not hash");
    run_at(&mut state, &k[2], 3000, Action::RevealDraw(RevealDraw { session: id, secret: wz })).unwrap();
    // Once a secret is shown, no late commitment: the commitments are closed.
    rejected(run_at(&mut state, &k[2], 3000, commit(wz)), RejectCode::InvalidTransition, "closed");
    // Enrolling experts after opening changes nothing: the pool was fixed at opening.
    let before = contract::session_pool(&state, &id).unwrap();
    enrol(&mut state, &k[0], 50, &["土建"], OTHER);
    assert_eq!(contract::session_pool(&state, &id).unwrap(), before);
}

#[test]
fn opening_and_enrolment_are_checked() {
    let (mut state, k) = regions();
    // Only an expert's home centre enrols it, and only an attested one.
    let subject = SubjectId::Expert(expert(60));
    let attest = AttestSubject { kind: SubjectKind::Expert, ..attestation(subject) };
    run_at(&mut state, &k[0], 0, Action::AttestSubject(attest)).unwrap();
    let e = EnrolExpert { expert: expert(60), specialties: vec!["土建".into()], employer: uscc(OTHER) };
    rejected(run_at(&mut state, &k[1], 0, Action::EnrolExpert(e.clone())), RejectCode::NotPermitted, "home centre");
    let stranger = EnrolExpert { expert: expert(61), ..e };
    rejected(run_at(&mut state, &k[0], 0, Action::EnrolExpert(stranger)), RejectCode::NotFound, "not attested");

    let (id, _) = opened(&mut state, &k);
    let s = contract::session(&state, &id).unwrap().unwrap();
    let mut open = OpenEvaluation {
        tender: s.tender.clone(),
        guests: vec![region(330100)],
        seats: vec![Seats { specialty: "土建".into(), count: 1 }],
        avoid_tender_region: true,
        avoid_employers: vec![],
        commitment: Hash32::ZERO,
        seat_commitment: Hash32::ZERO,
    };
    // Only the tender region's centre opens; a guest region needs a centre; the pool must suffice.
    rejected(
        run_at(&mut state, &k[0], 1000, Action::OpenEvaluation(open.clone())),
        RejectCode::NotPermitted,
        "tender's region",
    );
    open.guests = vec![region(330400)];
    rejected(
        run_at(&mut state, &k[1], 1000, Action::OpenEvaluation(open.clone())),
        RejectCode::NotFound,
        "no active trading centre",
    );
    open.guests = vec![region(330100)];
    open.seats[0].count = 40;
    rejected(
        run_at(&mut state, &k[1], 1000, Action::OpenEvaluation(open.clone())),
        RejectCode::RuleViolated,
        "eligible experts",
    );
    open.seats[0].count = 1;
    open.tender.project_code = "NOT-ANNOUNCED".into();
    rejected(run_at(&mut state, &k[1], 1000, Action::OpenEvaluation(open)), RejectCode::NotFound, "no anchor");
}

/// Open, commit and reveal: the session drawn.
fn drawn(state: &mut Memory, k: &[SecretKey]) -> Hash32 {
    let (id, host) = opened(state, k);
    let (hz, wz) = (Hash32([102; 32]), Hash32([103; 32]));
    for (key, secret) in [(&k[0], hz), (&k[2], wz)] {
        run_at(
            state,
            key,
            2000,
            Action::CommitDraw(CommitDraw { session: id, commitment: commitment_of(Suite::Ed25519Sha256, &secret) }),
        )
        .unwrap();
    }
    for (key, secret) in [(&k[1], host), (&k[0], hz), (&k[2], wz)] {
        run_at(state, key, 3000, Action::RevealDraw(RevealDraw { session: id, secret })).unwrap();
    }
    id
}

#[test]
fn seats_stay_blind_until_the_opening_replacements_are_redrawn_and_the_report_closes() {
    let (mut state, k) = regions();
    let id = drawn(&mut state, &k);
    let session = |state: &Memory| contract::session(state, &id).unwrap().unwrap();
    let seats = |secret| Action::RevealSeats(RevealSeats { session: id, secret });
    // Seats stay blind before the bids are opened, and only the host reveals them.
    rejected(run_at(&mut state, &k[1], 4000, seats(SEAT_SECRET)), RejectCode::InvalidTransition, "opening record");
    rejected(run_at(&mut state, &k[0], 4000, seats(SEAT_SECRET)), RejectCode::NotPermitted, "host");

    // An expert refuses: another from the same pool, never drawn before, takes the place.
    let first = session(&state).drawn[0].clone();
    let replace = |expert, reason| {
        Action::ReplaceExpert(ReplaceExpert { session: id, expert, reason, note: "电话确认".into() })
    };
    run_at(&mut state, &k[1], 4000, replace(first.expert, ReplaceReason::Refused)).unwrap();
    let s = session(&state);
    let by = s.replacements[0].replaced_by.expect("the pool had someone left");
    assert!(!s.drawn.iter().any(|d| d.expert == by), "a new expert");
    assert!(contract::session_pool(&state, &id).unwrap()[0].contains(&by), "from the same specialty's pool");
    assert_eq!((s.sitting().len(), s.replacements[0].reason), (5, ReplaceReason::Refused));
    rejected(
        run_at(&mut state, &k[1], 4000, replace(first.expert, ReplaceReason::Absent)),
        RejectCode::NotFound,
        "does not sit",
    );

    // The bids are opened; a wrong seat secret is refused, the committed one places everyone.
    let mut opening = match anchor(2) {
        Action::AnchorDocument(a) => a,
        _ => unreachable!(),
    };
    opening.tender = s.tender.clone();
    opening.stage = DealStage::OpeningRecord;
    run_at(&mut state, &k[1], 5000, Action::AnchorDocument(opening)).unwrap();
    rejected(run_at(&mut state, &k[1], 5000, seats(Hash32([1; 32]))), RejectCode::RuleViolated, "seat commitment");
    run_at(&mut state, &k[1], 5000, seats(SEAT_SECRET)).unwrap();
    let s = session(&state);
    let mut per_venue: Vec<usize> =
        s.venues.iter().map(|v| s.seating.iter().filter(|x| x.region == v.region).count()).collect();
    per_venue.sort();
    assert_eq!(per_venue, [1, 2, 2], "five experts dealt over three venues: {:?}", s.seating);
    // A replacement after seating takes the seat of whom it replaces.
    let seated = s.seating[0].clone();
    run_at(&mut state, &k[1], 5000, replace(seated.expert, ReplaceReason::Absent)).unwrap();
    let s = session(&state);
    let newcomer = s.replacements[1].replaced_by.expect("someone left");
    assert!(s.seating.iter().any(|x| x.expert == newcomer && x.region == seated.region), "{:?}", s.seating);

    // The report waits for every venue's scoring sheets, comes from the host, and closes.
    let doc =
        |kind, n: u8| Action::AnchorEvaluation(AnchorEvaluation { session: id, kind, document_hash: Hash32([n; 32]) });
    rejected(
        run_at(&mut state, &k[1], 6000, doc(EvaluationDocument::Report, 1)),
        RejectCode::InvalidTransition,
        "no scoring sheet",
    );
    for (i, key) in k[..3].iter().enumerate() {
        run_at(&mut state, key, 6000, doc(EvaluationDocument::ScoringSheet, 10 + i as u8)).unwrap();
    }
    rejected(
        run_at(&mut state, &k[0], 6000, doc(EvaluationDocument::Report, 1)),
        RejectCode::NotPermitted,
        "only the host",
    );
    run_at(&mut state, &k[1], 6000, doc(EvaluationDocument::Report, 1)).unwrap();
    assert!(matches!(session(&state).status, SessionStatus::Closed { .. }));
    rejected(
        run_at(&mut state, &k[2], 7000, doc(EvaluationDocument::ScoringSheet, 20)),
        RejectCode::InvalidTransition,
        "closed",
    );
    rejected(
        run_at(&mut state, &k[1], 7000, replace(newcomer, ReplaceReason::Absent)),
        RejectCode::InvalidTransition,
        "closed",
    );
}

/// The `i`-th of many experts (beyond [`expert`]'s 256).
fn numbered_expert(i: u32) -> Hash32 {
    Hash32::of_document(&i.to_be_bytes())
}

/// Attest expert `e` in `key`'s region and return its enrolment for `specialties`.
fn attested(state: &mut Memory, key: &SecretKey, e: Hash32, specialties: &[&str]) -> Action {
    let attest = AttestSubject { kind: SubjectKind::Expert, ..attestation(SubjectId::Expert(e)) };
    run_at(state, key, 0, Action::AttestSubject(attest)).unwrap();
    Action::EnrolExpert(EnrolExpert {
        expert: e,
        specialties: specialties.iter().map(|s| s.to_string()).collect(),
        employer: uscc(OTHER),
    })
}

/// Re-enrol an enrolled expert for `specialties` (leaving the others).
fn reenrol(state: &mut Memory, key: &SecretKey, e: Hash32, specialties: &[&str]) {
    let again = EnrolExpert {
        expert: e,
        specialties: specialties.iter().map(|s| s.to_string()).collect(),
        employer: uscc(OTHER),
    };
    run_at(state, key, 0, Action::EnrolExpert(again)).unwrap();
}

fn sorted(mut experts: Vec<Hash32>) -> Vec<Hash32> {
    experts.sort();
    experts
}

/// Regression: a specialty's pool was one sorted list, rewritten by every enrolment, while the
/// ledger keeps every version of a value: the k-th expert wrote k entries (the 4 096th 128 KB).
/// Now what an enrolment writes does not grow with the pool.
#[test]
fn an_enrolment_writes_as_much_in_a_large_pool_as_in_an_empty_one() {
    let (mut state, k) = regions();
    let experts = 300;
    let sizes: Vec<usize> = (0..experts)
        .map(|i| {
            let enrol = attested(&mut state, &k[0], numbered_expert(i), &["土建"]);
            written(&mut state, &k[0], u64::from(i), enrol)
        })
        .collect();
    // Two pages' worth at each end: a page fills the same way whichever it is.
    let span = 2 * crate::paged::PAGE_ENTRIES;
    let (early, late) = (sizes[..span].iter().max().unwrap(), sizes[sizes.len() - span..].iter().max().unwrap());
    // The count and the ordinal grow by a byte or two.
    assert!(late <= &(early + 8), "the first enrolments wrote at most {early} bytes, the last {late}: {sizes:?}");
    assert_eq!(contract::pool(&state, "土建").unwrap(), sorted((0..experts).map(numbered_expert).collect()));
}

/// Experts leave a pool (re-enrolled without its specialty) from its first, a middle and its
/// last page, and join again: the pool keeps exactly its members, and empties without a trace.
#[test]
fn a_pool_keeps_its_members_as_experts_leave_and_join() {
    let (mut state, k) = regions();
    let all: Vec<Hash32> = (0..40).map(numbered_expert).collect();
    for e in &all {
        let enrol = attested(&mut state, &k[0], *e, &["土建", "造价"]);
        run_at(&mut state, &k[0], 0, enrol).unwrap();
    }
    let leaving = [0usize, 5, 17, 39, 38, 20];
    for i in leaving {
        reenrol(&mut state, &k[0], all[i], &["造价"]);
    }
    let staying: Vec<Hash32> = (0..40).filter(|i| !leaving.contains(i)).map(|i| all[i]).collect();
    assert_eq!(contract::pool(&state, "土建").unwrap(), sorted(staying.clone()));
    assert_eq!(contract::pool(&state, "造价").unwrap(), sorted(all.clone()));
    // Leaving twice changes nothing; joining again restores the pool.
    reenrol(&mut state, &k[0], all[5], &["造价"]);
    assert_eq!(contract::pool(&state, "土建").unwrap(), sorted(staying));
    for i in leaving {
        reenrol(&mut state, &k[0], all[i], &["土建", "造价"]);
    }
    assert_eq!(contract::pool(&state, "土建").unwrap(), sorted(all.clone()));
    // Everybody leaves: no page or place of the specialty stays.
    for e in &all {
        reenrol(&mut state, &k[0], *e, &["造价"]);
    }
    assert_eq!(contract::pool(&state, "土建").unwrap(), Vec::<Hash32>::new());
    let id = codec::sha256("土建".as_bytes()).to_string();
    let left: Vec<String> = state
        .0
        .keys()
        .map(|key| String::from_utf8_lossy(key).into_owned())
        .filter(|key| key.starts_with("expert_pool_") && key.contains(&id) && *key != format!("expert_pool_list/{id}"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(contract::pool(&state, "造价").unwrap(), sorted(all));
}

/// A pool stored by protocol version 2 (one sorted list) reads as it did and moves to pages at
/// its next change.
#[test]
fn a_pool_stored_by_protocol_2_reads_and_moves_at_its_next_change() {
    let (mut state, k) = regions();
    let old: Vec<Hash32> = (0..20).map(numbered_expert).collect();
    for e in &old {
        let enrol = attested(&mut state, &k[0], *e, &["土建"]);
        run_at(&mut state, &k[0], 0, enrol).unwrap();
    }
    let id = codec::sha256("土建".as_bytes()).to_string();
    // Store it as protocol version 2 did.
    state.0.retain(|key, _| !key.starts_with(b"expert_pool_list/") && !key.starts_with(b"expert_pool_place/"));
    let legacy = format!("expert_pool/{id}").into_bytes();
    state.put(legacy.clone(), codec::encode(&sorted(old.clone())));
    assert_eq!(contract::pool(&state, "土建").unwrap(), sorted(old.clone()));

    // An enrolment moves it; an expert of the old list can still leave.
    let newcomer = numbered_expert(100);
    let enrol = attested(&mut state, &k[0], newcomer, &["土建"]);
    run_at(&mut state, &k[0], 0, enrol).unwrap();
    assert_eq!(state.get(&legacy).unwrap(), None, "the old list is deleted");
    let mut now = old.clone();
    now.push(newcomer);
    assert_eq!(contract::pool(&state, "土建").unwrap(), sorted(now.clone()));
    reenrol(&mut state, &k[0], old[3], &["造价"]);
    now.retain(|e| *e != old[3]);
    assert_eq!(contract::pool(&state, "土建").unwrap(), sorted(now));
}

/// A specialty's pool takes at most `POOL_PER_SPECIALTY_MAX` experts; another specialty still
/// takes the one refused.
#[test]
fn a_pool_takes_at_most_its_limit_of_experts() {
    let (mut state, k) = regions();
    let max = contract::POOL_PER_SPECIALTY_MAX as u32;
    for i in 0..max {
        let enrol = attested(&mut state, &k[0], numbered_expert(i), &["土建"]);
        run_at(&mut state, &k[0], 0, enrol).unwrap();
    }
    let one_more = attested(&mut state, &k[0], numbered_expert(max), &["土建"]);
    rejected(run_at(&mut state, &k[0], 0, one_more), RejectCode::Conflict, "holds 4096 experts, its most");
    reenrol(&mut state, &k[0], numbered_expert(max), &["造价"]);
    assert_eq!(contract::pool(&state, "土建").unwrap().len(), max as usize);
    // Re-enrolling a member is no new place.
    reenrol(&mut state, &k[0], numbered_expert(0), &["土建", "造价"]);
    assert_eq!(contract::pool(&state, "造价").unwrap().len(), 2);
}
