//! Remote cross-region evaluation on four running nodes: Ningbo hosts the evaluation of its
//! tender with Hangzhou and Wenzhou as guest venues; experts of all three are enrolled, Ningbo's
//! own and the bidder's employees are avoided; a centre trying to reveal early, an outsider and a
//! wrong secret are refused; once every venue has revealed the experts are drawn, and
//! `huxin evaluation verify` recomputes the draw from the public view of the ledger; the seats stay
//! blind until the bid opening, an absent expert is replaced by a recorded redraw, and the report
//! closes the session once every venue has anchored its scoring sheets. The opening is withheld
//! from the public (its avoidance list names the bidder).

mod support;

use std::process::Command;

use huxin_types::evaluation::{
    commitment_of, AnchorEvaluation, CommitDraw, EnrolExpert, EvaluationDocument, OpenEvaluation, ReplaceExpert,
    ReplaceReason, RevealDraw, RevealSeats, Seats,
};
use huxin_types::identity::{AttestSubject, SubjectId, SubjectKind};
use huxin_types::tx::{DealStage, TenderRef};
use huxin_types::{Action, Hash32, RegionCode, Uscc};
use serde_json::{json, Value};

use support::{deal_anchor, Net, EXE};

fn expert(n: u8) -> Hash32 {
    Hash32::of_document(&[n])
}

#[track_caller]
fn rejected(outcome: &Value, code: &str) {
    assert_eq!(outcome["rejected"]["code"], json!(code), "{outcome}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_regions_draw_experts_verifiably_and_nobody_can_steer_it() {
    let net = Net::start_all(4).await;
    let bidder = Uscc::with_check("91330200MA0000061").unwrap();
    let other = Uscc::with_check("91330100MA0000062").unwrap();
    // Hangzhou (node 0), Ningbo (1) and Wenzhou (2) attest and enrol experts: 10.., 20.., 30...
    for (node, centre, first) in [(0, "hangzhou", 10u8), (1, "ningbo", 20), (2, "wenzhou", 30)] {
        for n in first..first + 3 {
            let attest = Action::AttestSubject(AttestSubject {
                subject: SubjectId::Expert(expert(n)),
                kind: SubjectKind::Expert,
                name: format!("专家 {n}"),
                qualifications: vec![],
                bound_key: None,
                bound_key_proof: None,
                valid_until: None,
            });
            assert_eq!(net.send(node, centre, attest).await.1, json!("applied"));
            let employer = if n == first { bidder.clone() } else { other.clone() };
            let enrol =
                EnrolExpert { expert: expert(n), specialties: vec!["土建".into(), "造价".into()], employer };
            assert_eq!(net.send(node, centre, Action::EnrolExpert(enrol)).await.1, json!("applied"));
        }
    }
    let tender = TenderRef {
        region: RegionCode::new(330200).unwrap(),
        project_code: "NB-EVAL-1".into(),
        section_code: "01".into(),
    };
    let notice = deal_anchor(&tender, DealStage::Announcement, Hash32::of_document(b"eval notice"), vec![], None);
    assert_eq!(net.send(1, "ningbo", notice).await.1, json!("applied"));
    let suite = net.member_key("ningbo").suite();
    let seat_secret = Hash32::of_document(b"ningbo's seat secret");
    let secrets = [
        Hash32::of_document(b"ningbo's secret"),
        Hash32::of_document(b"hangzhou's"),
        Hash32::of_document(b"wenzhou's"),
    ];
    let open = OpenEvaluation {
        tender,
        guests: vec![RegionCode::new(330100).unwrap(), RegionCode::new(330300).unwrap()],
        seats: vec![Seats { specialty: "土建".into(), count: 2 }, Seats { specialty: "造价".into(), count: 1 }],
        avoid_tender_region: true,
        avoid_employers: vec![bidder.clone()],
        commitment: commitment_of(suite, &secrets[0]),
        seat_commitment: commitment_of(suite, &seat_secret),
    };
    let (id, outcome) = net.send(1, "ningbo", Action::OpenEvaluation(open)).await;
    assert_eq!(outcome, json!("applied"));
    let client = net.client(3);

    // The public sees that a session was opened, not whom it avoids.
    let tx = client.get_json(&format!("/v1/txs/{id}")).await.unwrap();
    assert!(tx["tx"].is_null() && tx["withheld"]["kind"] == "open_evaluation", "{tx}");
    let view = client.evaluation(&id).await.unwrap();
    assert_eq!((view.avoided_employers, view.session.avoid_employers.len()), (1, 0));
    let eligible: Vec<Hash32> = [11, 12, 31, 32].map(expert).into_iter().collect();
    for pool in &view.pools {
        let mut sorted = eligible.clone();
        sorted.sort();
        assert_eq!(pool, &sorted, "no local expert, none of the bidder's");
    }

    // Nobody steers the draw: no reveal before every commitment, no outsider, no other secret.
    let reveal = |venue: usize| Action::RevealDraw(RevealDraw { session: id, secret: secrets[venue] });
    let commit = |venue: usize| {
        Action::CommitDraw(CommitDraw { session: id, commitment: commitment_of(suite, &secrets[venue]) })
    };
    rejected(&net.send(1, "ningbo", reveal(0)).await.1, "invalid_transition");
    rejected(&net.send(3, "jiaxing", commit(1)).await.1, "not_permitted");
    assert_eq!(net.send(0, "hangzhou", commit(1)).await.1, json!("applied"));
    assert_eq!(net.send(2, "wenzhou", commit(2)).await.1, json!("applied"));
    let lie = Action::RevealDraw(RevealDraw { session: id, secret: Hash32::of_document(b"another secret") });
    rejected(&net.send(2, "wenzhou", lie).await.1, "rule_violated");
    for (node, centre, venue) in [(1, "ningbo", 0), (0, "hangzhou", 1), (2, "wenzhou", 2)] {
        assert_eq!(net.send(node, centre, reveal(venue)).await.1, json!("applied"), "{centre}");
    }

    // Drawn: three experts, none twice, all eligible; anyone recomputes it.
    let view = client.evaluation(&id).await.unwrap();
    assert_eq!(view.session.drawn.len(), 3, "{view:?}");
    assert!(view.session.drawn.iter().all(|d| eligible.contains(&d.expert)), "{view:?}");
    let mut drawn: Vec<Hash32> = view.session.drawn.iter().map(|d| d.expert).collect();
    drawn.sort();
    drawn.dedup();
    assert_eq!(drawn.len(), 3);
    let verify = || {
        let out = Command::new(EXE)
            .args(["evaluation", "verify", &id.to_string(), "--api", &net.api(3)])
            .output()
            .expect("run huxin evaluation verify");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    let stdout = verify();
    assert!(stdout.contains("draw verified") && stdout.contains("3 experts drawn from pools of 4+4"), "{stdout}");
    assert!(stdout.contains("seats not revealed yet"), "{stdout}");
    // After the draw, no more commitments.
    rejected(&net.send(0, "hangzhou", commit(1)).await.1, "invalid_transition");

    // Seats stay blind until the bids are opened (三盲).
    let seats = Action::RevealSeats(RevealSeats { session: id, secret: seat_secret });
    rejected(&net.send(1, "ningbo", seats.clone()).await.1, "invalid_transition");
    let opening =
        deal_anchor(&view.session.tender, DealStage::OpeningRecord, Hash32::of_document(b"opening"), vec![], None);
    assert_eq!(net.send(1, "ningbo", opening).await.1, json!("applied"));
    assert_eq!(net.send(1, "ningbo", seats).await.1, json!("applied"));
    let view = client.evaluation(&id).await.unwrap();
    assert_eq!(view.session.seating.len(), 3, "{view:?}");
    let mut regions: Vec<u32> = view.session.seating.iter().map(|x| x.region.get()).collect();
    regions.sort();
    assert_eq!(regions, [330100, 330200, 330300], "one expert per venue");

    // An expert does not come: a recorded redraw takes the seat.
    let absent = view.session.seating[0].clone();
    let replace =
        ReplaceExpert { session: id, expert: absent.expert, reason: ReplaceReason::Absent, note: "未到场".into() };
    assert_eq!(net.send(1, "ningbo", Action::ReplaceExpert(replace)).await.1, json!("applied"));
    let view = client.evaluation(&id).await.unwrap();
    let by = view.session.replacements[0].replaced_by.expect("the pool had someone left");
    assert!(eligible.contains(&by) && !drawn.contains(&by));
    assert!(view.session.seating.iter().any(|x| x.expert == by && x.region == absent.region));

    // Every venue anchors its scoring sheets, then the host the report: the session closes.
    let doc = |kind, name: &str| {
        Action::AnchorEvaluation(AnchorEvaluation {
            session: id,
            kind,
            document_hash: Hash32::of_document(name.as_bytes()),
        })
    };
    rejected(&net.send(1, "ningbo", doc(EvaluationDocument::Report, "report")).await.1, "invalid_transition");
    for (node, centre) in [(0, "hangzhou"), (1, "ningbo"), (2, "wenzhou")] {
        let sheet = doc(EvaluationDocument::ScoringSheet, &format!("{centre}'s sheets"));
        assert_eq!(net.send(node, centre, sheet).await.1, json!("applied"));
    }
    assert_eq!(net.send(1, "ningbo", doc(EvaluationDocument::Report, "report")).await.1, json!("applied"));
    let view = client.evaluation(&id).await.unwrap();
    assert!(matches!(view.session.status, huxin_contracts::evaluation::SessionStatus::Closed { .. }), "{view:?}");
    let stdout = verify();
    assert!(
        stdout.contains("replacement 0") && stdout.contains("seating verified: 3 experts over 3 venues"),
        "{stdout}"
    );
}
