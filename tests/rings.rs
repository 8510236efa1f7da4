//! The collusion-ring report on a running node: three firms bid together in three sections and win
//! in turn, two of them with one bid document; a supervisor's signed request
//! finds the ring, the rotation and the shared document, with the sections as evidence, pages
//! through them, and is audited; a signed event stream opened before the bids announces each
//! finding as it appears and grows; a trading centre's is refused; and raising the governed
//! threshold past three shared sections makes the ring disappear.

mod support;

use std::time::Duration;

use huxin_client::ClientError;
use huxin_state::rings::Finding;
use huxin_types::audit::sign_query;
use huxin_types::governance::{ProposalAction, Propose, RingParams};
use huxin_types::tx::{DealStage, TenderRef};
use huxin_types::{Action, Hash32, RegionCode, TimestampMs, Uscc};
use serde_json::{json, Value};

use support::{deal_anchor, now_ms, Net, Stream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_finds_a_ring_its_rotation_and_its_shared_document() {
    let net = Net::start_all(1).await;
    let firms: Vec<Uscc> = (1..=4).map(|i| Uscc::with_check(&format!("91330100MA000{i:04}")).unwrap()).collect();
    let (a, b, c, d) = (&firms[0], &firms[1], &firms[2], &firms[3]);
    let supervisor = net.member_key("supervisor");
    let client = net.client(0);
    let sections: Vec<TenderRef> = (0..3)
        .map(|i| TenderRef {
            region: RegionCode::new(330100).unwrap(),
            project_code: format!("RING-{i}"),
            section_code: "01".into(),
        })
        .collect();
    let send = |action| net.send(0, "hangzhou", action);
    // Award notices may follow the candidate publicity at once on this test network.
    let params = huxin_types::governance::Params { candidate_publicity_days: 0, ..Default::default() };
    let propose = Action::Propose(Propose { action: ProposalAction::SetParams(params), reason: "测试".into() });
    assert_eq!(send(propose).await.1, json!("applied"));
    let start = net.height(0).await.unwrap_or(0) + 1;
    // A supervisor's signed event stream, open before anything is bid.
    let audience = client.query_audience().await.unwrap();
    let path = "/v1/supervisor/rings/events";
    let headers = sign_query(&supervisor, &audience, "GET", path, "", TimestampMs(now_ms()));
    let mut stream = Stream::open_with(&format!("{}{path}", net.api(0)), &headers).await;
    for (i, tender) in sections.iter().enumerate() {
        let announcement = Hash32::of_document(format!("announcement {i}").as_bytes());
        assert_eq!(
            send(deal_anchor(tender, DealStage::Announcement, announcement, vec![], None)).await.1,
            json!("applied")
        );
        for (j, bidder) in [a, b, c].into_iter().enumerate() {
            let document = match (i, j) {
                (2, 0 | 1) => Hash32::of_document(b"the same bid, twice"),
                _ => Hash32::of_document(format!("bid {i} of {bidder}").as_bytes()),
            };
            let outcome = send(deal_anchor(tender, DealStage::Bid, document, vec![bidder.clone()], None)).await.1;
            assert_eq!(outcome, json!("applied"));
        }
        if i == 0 {
            // An honest firm bids once, in the first section.
            let lone = Hash32::of_document(b"the lone bid");
            assert_eq!(
                send(deal_anchor(tender, DealStage::Bid, lone, vec![d.clone()], None)).await.1,
                json!("applied")
            );
        }
        let winner = [a, b, c][i].clone();
        let publicity = Hash32::of_document(format!("publicity {i}").as_bytes());
        let candidates = deal_anchor(tender, DealStage::CandidatePublicity, publicity, vec![winner.clone()], None);
        assert_eq!(send(candidates).await.1, json!("applied"));
        let award = Hash32::of_document(format!("award {i}").as_bytes());
        assert_eq!(
            send(deal_anchor(tender, DealStage::AwardNotice, award, vec![winner], None)).await.1,
            json!("applied")
        );
    }

    // The stream announced each finding as it appeared or grew; the last of each kind is the
    // report's.
    let mut last: std::collections::BTreeMap<String, Value> = Default::default();
    while last.len() < 3 || last["bidding_ring"]["finding"]["bidding_ring"]["sections_total"] != json!(3) {
        let (id, kind, data) = stream.next(Duration::from_secs(60)).await.expect("a ring event");
        assert!(id.starts_with(&format!("{}:", data["height"])), "{id} {data}");
        last.insert(kind, data);
    }
    assert_eq!(last["bidding_ring"]["finding"]["bidding_ring"]["members"], json!(firms[..3]));
    assert_eq!(last["win_rotation"]["finding"]["win_rotation"]["winners"], json!(firms[..3]));

    let report = client.ring_report(&supervisor, "").await.unwrap();
    assert_eq!((report.sections, report.bids, report.params), (3, 10, RingParams::default()), "{report:?}");
    let kinds: Vec<&str> = report.findings.iter().map(Finding::kind).collect();
    assert_eq!(kinds, ["bidding_ring", "win_rotation", "identical_bid_documents"], "{report:?}");
    let Finding::BiddingRing { members, sections: evidence, .. } = &report.findings[0] else { unreachable!() };
    assert_eq!(members, &firms[..3], "the lone bidder is not in the ring");
    assert_eq!(evidence.iter().map(|s| s.tender.clone()).collect::<Vec<_>>(), sections);
    assert!(evidence.iter().all(|s| s.first_bid_time.0 > 0 && s.bid_documents.len() >= 2));
    let Finding::WinRotation { winners, .. } = &report.findings[1] else { unreachable!() };
    assert_eq!(winners, &firms[..3]);

    // Filters and pages: one finding a page, the cursor keeps the report's height.
    let page = client.ring_report(&supervisor, "limit=1").await.unwrap();
    assert_eq!((page.findings.len(), page.findings_total), (1, 3));
    let next = page.next_cursor.expect("more pages");
    let second = client.ring_report(&supervisor, &format!("limit=1&cursor={next}")).await.unwrap();
    assert_eq!((second.height, second.findings[0].kind()), (page.height, "win_rotation"));
    let only = client.ring_report(&supervisor, &format!("kind=identical_bid_documents&subject={b}")).await.unwrap();
    assert_eq!(only.findings_total, 1);
    let none = client.ring_report(&supervisor, &format!("subject={d}")).await.unwrap();
    assert_eq!(none.findings_total, 0);
    let before = client.ring_report(&supervisor, &format!("to_height={}", start + 1)).await.unwrap();
    assert_eq!(before.findings_total, 0, "no bids yet at those heights: {before:?}");

    // Bad input and other members' keys are refused with the reason.
    let refused = |e: ClientError| match e {
        ClientError::Api { status, code, message } => (status, code, message),
        other => panic!("{other}"),
    };
    let (status, code, message) = refused(client.ring_report(&supervisor, "kind=cartel").await.unwrap_err());
    assert_eq!((status, code.as_str()), (400, "bad_query"), "{message}");
    let (status, code, _) = refused(client.ring_report(&supervisor, "from_height=9&to_height=3").await.unwrap_err());
    assert_eq!((status, code.as_str()), (400, "bad_query"));
    let (status, code, _) = refused(client.ring_report(&supervisor, "cursor=00").await.unwrap_err());
    assert_eq!((status, code.as_str()), (400, "bad_query"));
    let (status, code, _) = refused(client.ring_report(&net.member_key("hangzhou"), "").await.unwrap_err());
    assert_eq!((status, code.as_str()), (403, "forbidden"));

    // Every answered report is in the audit log.
    let (_, entries) = client.audit_log(&supervisor).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.target.starts_with("/v1/supervisor/rings?") || e.target == "/v1/supervisor/rings")
            .count(),
        6
    );
    assert_eq!(entries.iter().filter(|e| e.target == "/v1/supervisor/rings/events").count(), 1, "the stream, once");

    // The centres raise the threshold past three shared sections: no ring, the document stays.
    let stricter = RingParams { min_shared_sections: 4, ..RingParams::default() };
    let propose =
        Action::Propose(Propose { action: ProposalAction::SetRingParams(stricter), reason: "提高阈值".into() });
    assert_eq!(send(propose).await.1, json!("applied"));
    let report = client.ring_report(&supervisor, "").await.unwrap();
    assert_eq!(report.params, stricter);
    let kinds: Vec<&str> = report.findings.iter().map(Finding::kind).collect();
    assert_eq!(kinds, ["identical_bid_documents"], "{report:?}");
    // The open stream withdraws the two findings that no longer stand, by the keys it sent them
    // under, and leaves the document alone.
    let mut withdrawn = std::collections::BTreeMap::new();
    while withdrawn.len() < 2 {
        let (_, kind, data) = stream.next(Duration::from_secs(60)).await.expect("a ring event");
        if data["finding"].is_null() {
            withdrawn.insert(kind, data["key"].clone());
        }
    }
    for kind in ["bidding_ring", "win_rotation"] {
        assert_eq!(withdrawn[kind], last[kind]["key"], "{kind} withdrawn under the key it was found under");
    }
    assert!(!withdrawn.contains_key("identical_bid_documents"));
}
