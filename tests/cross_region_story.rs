//! The cross-region story of issue 3, through the API of four running nodes: attest in Hangzhou,
//! recognise in Ningbo, issue a bid bond for a Ningbo tender, anchor bids (one duplicated by a
//! competitor), record a penalty in Hangzhou, blacklist nationally, and see eligibility in Ningbo
//! turn false; then claim and pay the bid bond, and lift the entry. Each step goes to a different
//! node; every node then gives the same answers.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use huxin_types::credit::{CreditKind, RecordCredit, RepairCredit, Severity};
use huxin_types::guarantee::{ClaimGuarantee, GuaranteeKind, GuaranteeNote, IssueGuarantee, PayGuarantee};
use huxin_types::identity::{AttestSubject, BlacklistScope, LiftBlacklist, ListOnBlacklist, SubjectId, SubjectKind};
use huxin_types::tx::{DealStage, TenderRef};
use huxin_types::{Action, Hash32, RegionCode, TimestampMs, Uscc};
use serde_json::{json, Value};

use huxin_client::{ListFilter, ProvableQuery, StatsFilter};
use huxin_contracts::credit::Publication;
use huxin_contracts::guarantee::GuaranteeState;
use huxin_contracts::risk::RiskKind;
use support::{deal_anchor, Net};

const DAY: u64 = 86_400_000;

/// Sign `action` with the member key `who`, submit it to `node`, wait, return the outcome.
async fn send(net: &Net, node: usize, who: &str, action: Action) -> Value {
    let client = net.client(node);
    let kind = action.kind();
    let hash =
        client.prepare_sign_submit(&net.member_key(who), &action).await.unwrap_or_else(|e| panic!("{kind}: {e}"));
    let status = client.wait_finalised(&hash, Duration::from_secs(60)).await.unwrap();
    net.sync_to(status.height.unwrap_or(0)).await;
    assert_eq!(status.status, "finalised", "{kind}: {status:?}");
    serde_json::to_value(status.outcome.unwrap()).unwrap()
}

#[track_caller]
fn applied(outcome: &Value) {
    assert_eq!(outcome, &json!("applied"), "{outcome}");
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

fn attest(uscc: &Uscc) -> Action {
    Action::AttestSubject(AttestSubject {
        subject: SubjectId::Organisation(uscc.clone()),
        kind: SubjectKind::Supplier,
        name: format!("供应商 {uscc}"),
        qualifications: vec![],
        bound_key: None,
        bound_key_proof: None,
        valid_until: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attest_recognise_guarantee_bid_penalise_blacklist() {
    let net = Net::start_all(4).await;
    let a = Uscc::with_check("91330100MA0000001").unwrap();
    let b = Uscc::with_check("91330100MA0000002").unwrap();
    let a_path = a.to_string();
    let ningbo = 330200;
    let tender = TenderRef {
        region: RegionCode::new(ningbo).unwrap(),
        project_code: "NB-2026-001".into(),
        section_code: "01".into(),
    };
    let start = now() - 60_000;

    // Hangzhou attests both suppliers; Ningbo recognises A.
    applied(&send(&net, 0, "hangzhou", attest(&a)).await);
    applied(&send(&net, 0, "hangzhou", attest(&b)).await);
    applied(
        &send(&net, 1, "ningbo", Action::RecogniseAttestation { subject: SubjectId::Organisation(a.clone()) }).await,
    );
    let e = net.client(2).eligibility(&a_path, ningbo).await.unwrap();
    assert!(e.eligibility.eligible, "{e:?}");

    // Ningbo announces the tender with its estimated price: bid bonds are capped at 2%.
    let announcement = Hash32::of_document(b"NB-2026-001 announcement");
    applied(
        &send(&net, 1, "ningbo", deal_anchor(&tender, DealStage::Announcement, announcement, vec![], Some(1_000_000)))
            .await,
    );
    let bond = |number: &str, applicant: &Uscc, amount_fen| {
        Action::IssueGuarantee(IssueGuarantee {
            number: number.into(),
            kind: GuaranteeKind::BidBond,
            applicant: applicant.clone(),
            beneficiary: Uscc::with_check("12330200MB0000009").unwrap(),
            premium_payer: applicant.clone(),
            tender: tender.clone(),
            amount_fen,
            valid_from: TimestampMs(start),
            valid_until: TimestampMs(start + 90 * DAY),
            document_hash: Hash32::of_document(number.as_bytes()),
            replaces: None,
        })
    };
    let over = send(&net, 2, "bank", bond("BOC-2026-0002", &b, 30_000)).await;
    assert_eq!(over["rejected"]["code"], "rule_violated", "{over}");
    assert!(over["rejected"]["reason"].as_str().unwrap().contains("20000 fen"), "{over}");
    applied(&send(&net, 2, "bank", bond("BOC-2026-0001", &a, 20_000)).await);
    let g = net.client(3).guarantee("BOC-2026-0001").await.unwrap();
    assert_eq!((g.current_state, g.record.guarantee.amount_fen), (GuaranteeState::Issued, 20_000), "{g:?}");

    // Bids: A's through a Hangzhou platform (cross-platform), B's through Ningbo's with the same
    // document hash: accepted, with a collusion warning on the section.
    let bid = Hash32::of_document(b"the same bid document");
    applied(&send(&net, 0, "hangzhou", deal_anchor(&tender, DealStage::Bid, bid, vec![a.clone()], None)).await);
    applied(&send(&net, 1, "ningbo", deal_anchor(&tender, DealStage::Bid, bid, vec![b.clone()], None)).await);
    let t = net.client(3).tender(&tender).await.unwrap();
    assert_eq!(t.risk.raised, 1, "{t:?}");
    let RiskKind::IdenticalBidDocument { bidders, .. } = &t.risk.warnings[0].kind else {
        panic!("an identical-bid warning: {t:?}")
    };
    assert_eq!(bidders, &[a.clone(), b.clone()], "{t:?}");
    let d = net.client(2).document(&bid).await.unwrap();
    assert_eq!(d.anchors.len(), 2, "{d:?}");
    // The section's answer (its timeline and bid bond pairs read entry by entry) proves out.
    let genesis: huxin_types::Genesis =
        serde_json::from_slice(&std::fs::read(net.dir.path().join("genesis.json")).unwrap()).unwrap();
    let proven = net.client(3).proven(&ProvableQuery::Tender(tender.clone()), &genesis).await.unwrap();
    let stages: Vec<&str> =
        proven.answer["tender"]["timeline"].as_array().unwrap().iter().map(|e| e["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["announcement", "bid", "bid"], "{}", proven.answer);
    assert_eq!(proven.answer["tender"]["bid_bond_payers"], json!([[a.to_string(), a.to_string()]]));

    // The supervisor records a penalty decided in Hangzhou, then blacklists A nationally.
    let penalty = Action::RecordCredit(RecordCredit {
        subject: SubjectId::Organisation(a.clone()),
        kind: CreditKind::AdministrativePenalty,
        decision_no: "杭发改罚〔2026〕7号".into(),
        authority: "杭州市发展和改革委员会".into(),
        authority_uscc: Uscc::with_check("11330100MB0000001").unwrap(),
        facts: "与其他投标人串通投标".into(),
        legal_basis: "《招标投标法》第五十三条".into(),
        penalty_type: "罚款".into(),
        penalty_content: "罚款并取消投标资格".into(),
        amount_fen: 10_000_000,
        decision_date: TimestampMs(start),
        evidence_hash: Hash32::of_document(b"decision"),
        severity: Severity::Serious,
        publication_start: TimestampMs(start),
        publication_end: TimestampMs(start + 400 * DAY),
        score: None,
        tender: Some(tender.clone()),
    });
    applied(&send(&net, 3, "supervisor", penalty).await);
    let s = net.client(1).subject(&a_path).await.unwrap();
    assert_eq!((s.active_credit_records, s.score.score), (1, 50), "{s:?}");
    let blacklist = Action::ListOnBlacklist(ListOnBlacklist {
        subject: SubjectId::Organisation(a.clone()),
        scope: BlacklistScope::National,
        reason: "串通投标，情节严重".into(),
        legal_basis: "《招标投标法》第五十三条".into(),
        decision_no: "浙发改黑〔2026〕1号".into(),
        start: TimestampMs(start),
        end: None,
    });
    applied(&send(&net, 3, "supervisor", blacklist).await);

    // Every node now says A may not trade in Ningbo, and why; a new bid bond is refused.
    for i in 0..4 {
        let e = net.client(i).eligibility(&a_path, ningbo).await.unwrap();
        assert!(!e.eligibility.eligible, "node {i}: {e:?}");
        assert!(e.eligibility.reasons[0].contains("blacklisted nationally"), "node {i}: {e:?}");
        let history = net.client(i).credit_history(&a_path).await.unwrap();
        assert_eq!(history.records[0].publication, Publication::Active, "node {i}: {history:?}");
    }
    let refused = send(&net, 0, "bank", bond("BOC-2026-0003", &a, 100)).await;
    assert_eq!(refused["rejected"]["code"], "rule_violated", "{refused}");
    assert!(refused["rejected"]["reason"].as_str().unwrap().contains("not eligible"), "{refused}");

    // Lists: public credit records of the supervisor's region, Ningbo's blacklist, the tender's
    // guarantees — the same on every node.
    let lists =
        ["/v1/credit?region=330000", "/v1/blacklist?region=330200", "/v1/guarantees?tender=330200/NB-2026-001/01"];
    for path in lists {
        let reference = net.client(0).get_json(path).await.unwrap();
        assert_eq!(reference["items"].as_array().unwrap().len(), 1, "{path}: {reference}");
        assert_eq!(reference["next_cursor"], Value::Null, "{path}");
        for i in 1..4 {
            let other = net.client(i).get_json(path).await.unwrap();
            assert_eq!(other["items"], reference["items"], "node {i} {path}");
        }
    }
    let none = net.client(0).get_json("/v1/blacklist?region=330200&time=0").await.unwrap();
    assert_eq!(none["items"], json!([]), "nothing was listed at time 0");

    // Hangzhou's transactions, one per page, follow its nonces exactly.
    let hangzhou = net.member_key("hangzhou").public_key();
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/signers/{hangzhou}/txs?limit=1&cursor={c}"),
            None => format!("/v1/signers/{hangzhou}/txs?limit=1"),
        };
        let page = net.client(2).get_json(&path).await.unwrap();
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| i["tx_hash"].clone()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let signer = net.client(2).signer(&hangzhou).await.unwrap();
    assert_eq!(seen.len() as u64, signer.last_nonce, "{seen:?}");
    for (path, code) in [
        (format!("/v1/signers/{hangzhou}/txs?limit=0"), "bad_query"),
        (format!("/v1/signers/{hangzhou}/txs?limit=1001"), "page_too_large"),
        (format!("/v1/signers/{hangzhou}/txs?cursor=zz"), "bad_query"),
        ("/v1/credit?kind=bribery".into(), "bad_query"),
        ("/v1/guarantees".into(), "bad_query"),
    ] {
        let err = net.client(0).get_json(&path).await.unwrap_err();
        assert!(err.to_string().contains(code), "{path}: {err}");
    }

    // Ningbo verifies A's bid bond, then claims on it (A was disqualified); the bank pays.
    let note = |reason: &str| GuaranteeNote { number: "BOC-2026-0001".into(), reason: reason.into() };
    applied(&send(&net, 1, "ningbo", Action::VerifyGuarantee(note("已核验"))).await);
    let claim = ClaimGuarantee {
        number: "BOC-2026-0001".into(),
        reason: "投标人串通投标被取消资格".into(),
        evidence_hash: Hash32::of_document(b"claim"),
        amount_fen: 20_000,
    };
    applied(&send(&net, 1, "ningbo", Action::ClaimGuarantee(claim)).await);
    let cancel = send(&net, 2, "bank", Action::CancelGuarantee(note("withdraw"))).await;
    assert_eq!(cancel["rejected"]["code"], "invalid_transition", "{cancel}");
    assert!(cancel["rejected"]["reason"].as_str().unwrap().contains("is claimed"), "{cancel}");
    let pay = PayGuarantee {
        number: "BOC-2026-0001".into(),
        amount_fen: 20_000,
        evidence_hash: Hash32::of_document(b"paid"),
    };
    applied(&send(&net, 2, "bank", Action::PayGuarantee(pay)).await);
    let g = net.client(0).guarantee("BOC-2026-0001").await.unwrap();
    assert_eq!(g.current_state, GuaranteeState::Paid, "{g:?}");
    let paid = net.client(1).get_json("/v1/guarantees?tender=330200/NB-2026-001/01&status=paid").await.unwrap();
    assert_eq!(paid["items"][0]["guarantee"]["number"], "BOC-2026-0001", "{paid}");

    // Monthly statistics: the same counters on every node, as JSON and as CSV.
    let stats = net.client(0).get_json("/v1/stats").await.unwrap();
    let count = |region: &str, metric: &str| {
        stats["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["region"] == region && r["metric"] == metric)
            .map(|r| r["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    let expected = [
        ("330200", "anchors.announcement", 1),
        ("330200", "anchors.bid", 2),
        ("330200", "guarantees.issued", 1),
        ("330200", "guarantees.claimed", 1),
        ("330200", "guarantees.paid", 1),
        ("330000", "penalties.serious", 1),
        ("national", "blacklist.entries", 1),
    ];
    for (region, metric, n) in expected {
        assert_eq!(count(region, metric), n, "{region} {metric}: {stats}");
    }
    for i in 1..4 {
        let other = net.client(i).get_json("/v1/stats").await.unwrap();
        assert_eq!(other["rows"], stats["rows"], "node {i}");
    }
    let csv = reqwest::get(format!("{}/v1/stats?region=330200&metric=guarantees.&format=csv", net.api(2)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "month,region,metric,count");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1..].iter().all(|l| l.contains(",330200,guarantees.")), "{csv}");
    let err = net.client(0).get_json("/v1/stats?from=202613").await.unwrap_err();
    assert!(err.to_string().contains("bad_query"), "{err}");

    // A serious penalty cannot be repaired before a year; the blacklist entry can be lifted.
    let record_id = huxin_types::credit::credit_record_id(
        net.member_key("supervisor").suite(),
        &Uscc::with_check("11330100MB0000001").unwrap(),
        "杭发改罚〔2026〕7号",
    );
    let repair = RepairCredit { record_id, reason: "已整改".into(), evidence_hash: Hash32::of_document(b"repair") };
    let early = send(&net, 3, "supervisor", Action::RepairCredit(repair)).await;
    assert_eq!(early["rejected"]["code"], "rule_violated", "{early}");
    let lift = LiftBlacklist {
        subject: SubjectId::Organisation(a.clone()),
        decision_no: "浙发改黑〔2026〕1号".into(),
        reason: "复议撤销".into(),
    };
    applied(&send(&net, 3, "supervisor", Action::LiftBlacklist(lift)).await);
    let e = net.client(1).eligibility(&a_path, ningbo).await.unwrap();
    assert!(e.eligibility.eligible, "{e:?}");
    let lifted = net.client(1).get_json("/v1/blacklist?region=330200").await.unwrap();
    assert_eq!(lifted["items"], json!([]), "{lifted}");

    // The Rust client covers every read endpoint, typed.
    let c = net.client(2);
    let members = c.members().await.unwrap();
    assert!(members.iter().any(|m| m.name.contains("宁波")) && members.len() >= 6, "{members:?}");
    let by_name = ListFilter { name: Some("供应商 ".into()), ..Default::default() };
    let found = c.subject_search(&by_name).await.unwrap();
    assert!(found.items.iter().any(|m| m.subject == SubjectId::Organisation(a.clone())), "{found:?}");
    let deals = c.subject_deals(a.as_str(), &ListFilter::default()).await.unwrap();
    assert_eq!(deals.items.len(), 1, "A's bid: {deals:?}");
    assert_eq!(deals.items[0].stage, DealStage::Bid);
    let credit = c.credit_list(&ListFilter { region: Some(330000), ..Default::default() }).await.unwrap();
    assert_eq!(credit.items.len(), 1);
    let bonds = c.guarantee_list(&ListFilter { applicant: Some(a.to_string()), ..Default::default() }).await.unwrap();
    assert_eq!(bonds.items[0].record.guarantee.number, "BOC-2026-0001");
    assert!(c.blacklist_list(&ListFilter::default()).await.unwrap().items.is_empty(), "lifted");
    let signed = c.signer_txs(&net.member_key("supervisor").public_key(), &ListFilter::default()).await.unwrap();
    assert!(signed.items.len() >= 4, "{signed:?}");
    assert_eq!(c.proposal(&Hash32([7; 32])).await.unwrap_err().code(), Some("not_found"));
    assert_eq!(c.params().await.unwrap().proposal_ttl_days, 7);
    assert_eq!(c.validators().await.unwrap().current.len(), 4);
    assert!(!c.stats(&StatsFilter::default()).await.unwrap().rows.is_empty());
    assert!(c.stats_csv(&StatsFilter::default()).await.unwrap().starts_with("month,region,metric,count\n"));
    let full = c.full_credit_history(&net.member_key("supervisor"), a.as_str()).await.unwrap();
    assert_eq!((full.records.len(), full.hidden), (1, 0));
    assert!(c.metrics().await.unwrap().contains("huxin_event_clients_dropped_total"));
    assert!(c.openapi().await.unwrap()["paths"]["/v1/stats"].is_object());
    let mut events = c.events("kinds=list_on_blacklist,lift_blacklist&from_height=1").await.unwrap();
    let first = events.next().await.unwrap().unwrap();
    assert_eq!((first.kind.as_str(), first.national), ("list_on_blacklist", true));
    assert_eq!(events.next().await.unwrap().unwrap().kind, "lift_blacklist");

    // Bad query input gets typed errors.
    let err = net.client(0).get_json("/v1/subjects/91330100MA0000001X/eligibility?region=330200").await.unwrap_err();
    assert!(err.to_string().contains("bad_path"), "{err}");
    let err = net.client(0).get_json(&format!("/v1/subjects/{a_path}/eligibility")).await.unwrap_err();
    assert!(err.to_string().contains("bad_query"), "{err}");
    let err = net.client(0).guarantee("NO-SUCH").await.unwrap_err();
    assert!(err.to_string().contains("not_found"), "{err}");

    // A guarantee number may hold '/': the client keeps it one path segment, for the look-up and
    // for its proof (regression: the number's slashes split the path, and the node answered 404).
    let slashed = "BOC/2026/0009";
    applied(&send(&net, 2, "bank", bond(slashed, &b, 10_000)).await);
    let g = net.client(0).guarantee(slashed).await.unwrap();
    assert_eq!((g.record.guarantee.number.as_str(), g.current_state), (slashed, GuaranteeState::Issued), "{g:?}");
    let genesis: huxin_types::genesis::Genesis =
        serde_json::from_slice(&std::fs::read(net.dir.path().join("genesis.json")).unwrap()).unwrap();
    let proven = net.client(1).proven(&ProvableQuery::Guarantee(slashed.into()), &genesis).await.unwrap();
    assert_eq!(proven.answer["guarantee"]["amount_fen"], json!(10_000), "{}", proven.answer);
}
