//! Server-sent events: filtered, replayed from a height, resumed after `Last-Event-ID`, and
//! delivered live as blocks are finalised.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use huxin_types::identity::{AttestSubject, BlacklistScope, ListOnBlacklist, SubjectId, SubjectKind};
use huxin_types::{Action, RegionCode, TimestampMs, Uscc};
use serde_json::{json, Value};

use support::{anchor_action, Net, Stream};

async fn send(net: &Net, node: usize, who: &str, action: Action) {
    let client = net.client(node);
    let hash = client.prepare_sign_submit(&net.member_key(who), &action).await.unwrap();
    let status = client.wait_finalised(&hash, Duration::from_secs(60)).await.unwrap();
    net.sync_to(status.height.unwrap_or(0)).await;
    assert_eq!(status.outcome, Some(huxin_types::Outcome::Applied), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_filtered_replayed_resumed_and_live() {
    let net = Net::start_all(4).await;
    let subject = SubjectId::Organisation(Uscc::with_check("91330100MA0000001").unwrap());
    let attest = Action::AttestSubject(AttestSubject {
        subject: subject.clone(),
        kind: SubjectKind::Supplier,
        name: "浙江某建设有限公司".into(),
        qualifications: vec![],
        bound_key: None,
        bound_key_proof: None,
        valid_until: None,
    });
    send(&net, 0, "hangzhou", attest).await;

    // Replayed from height 1: the attestation, with its subject and region.
    let base = net.api(1);
    let url = format!("{base}/v1/events?kinds=attest_subject,list_on_blacklist&from_height=1");
    let mut stream = Stream::open(&url, None).await;
    let (attest_id, kind, data) = stream.next(Duration::from_secs(10)).await.expect("the replayed attestation");
    assert_eq!(kind, "attest_subject");
    assert_eq!(data["subjects"], json!([{"organisation": "91330100MA0000001F"}]), "{data}");
    assert_eq!(data["regions"], json!([330100]), "{data}");

    // Live: an anchor (filtered out), then a blacklist entry scoped to Ningbo.
    send(&net, 2, "hangzhou", anchor_action(1)).await;
    let listing = Action::ListOnBlacklist(ListOnBlacklist {
        subject: subject.clone(),
        scope: BlacklistScope::Regions(vec![RegionCode::new(330200).unwrap()]),
        reason: "串通投标".into(),
        legal_basis: "《招标投标法》第五十三条".into(),
        decision_no: "甬发改黑〔2026〕3号".into(),
        start: TimestampMs(0),
        end: None,
    });
    send(&net, 3, "supervisor", listing).await;
    let (_, kind, data) = stream.next(Duration::from_secs(10)).await.expect("the live blacklist event");
    assert_eq!(kind, "list_on_blacklist", "{data}");
    assert_eq!((data["national"].clone(), data["regions"].clone()), (json!(false), json!([330000, 330200])), "{data}");
    assert!(stream.next(Duration::from_millis(500)).await.is_none(), "nothing else matches");

    // Resumed after the attestation on another node, filtered by subject and region: only the
    // blacklist entry (Ningbo) comes, not the attestation again, not the anchor.
    let url = format!("{}/v1/events?subjects=91330100MA0000001F&regions=330200", net.api(2));
    let mut resumed = Stream::open(&url, Some(&attest_id)).await;
    let (_, kind, _) = resumed.next(Duration::from_secs(10)).await.expect("the blacklist entry after resuming");
    assert_eq!(kind, "list_on_blacklist");
    assert!(resumed.next(Duration::from_millis(500)).await.is_none());

    // Bad filters and resume points get typed errors.
    for (query, code) in [("regions=33", "bad_path"), ("subjects=nope", "bad_path"), ("from_height=x", "bad_query")] {
        let answer = reqwest::get(format!("{base}/v1/events?{query}")).await.unwrap();
        assert_eq!(answer.status(), 400, "{query}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{query}: {body}");
    }
    let answer = reqwest::Client::new()
        .get(format!("{base}/v1/events"))
        .header("Last-Event-ID", "garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
}
