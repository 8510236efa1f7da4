//! Authorised reuse of a subject's records (数据授权) on four running nodes: a platform reads a
//! subject's hidden credit records and its deals only while it holds the subject's grant for that
//! scope; without one, or once the grant is withdrawn or expired, it gets `403 grant_missing`
//! naming what is missing; every granted read lands in the serving node's audit log, which still
//! checks out against the ledger.

mod support;

use std::time::Duration;

use huxin_client::{ClientError, ListFilter};
use huxin_types::identity::{
    prove_key_binding, AttestSubject, GrantScope, Statement, SubjectId, SubjectKind, SubjectStatement,
};
use huxin_types::tx::{DealStage, TenderRef};
use huxin_types::{Action, Hash32, MemberId, RegionCode, TimestampMs, Uscc};
use serde_json::{json, Value};

use support::{deal_anchor, now_ms, penalty, Net};

#[track_caller]
fn applied(outcome: &Value) {
    assert_eq!(outcome, &json!("applied"), "{outcome}");
}

/// The error a refused call answered with: (HTTP status, code, message).
fn refusal(err: ClientError) -> (u16, String, String) {
    match err {
        ClientError::Api { status, code, message } => (status, code, message),
        other => panic!("expected an API refusal, got {other}"),
    }
}

#[track_caller]
fn grant_missing(err: ClientError, needle: &str) {
    let (status, code, message) = refusal(err);
    assert_eq!((status, code.as_str()), (403, "grant_missing"), "{message}");
    assert!(message.contains(needle), "expected {needle:?} in {message:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_reads_a_subjects_records_only_by_its_grant_and_every_read_is_audited() {
    let net = Net::start_all(4).await;
    let uscc = Uscc::with_check("91330100MA0000021").unwrap();
    let subject = SubjectId::Organisation(uscc.clone());
    let subject_key = net.key_from(77);
    let (ningbo, wenzhou, supervisor) =
        (net.member_key("ningbo"), net.member_key("wenzhou"), net.member_key("supervisor"));
    let ningbo_id = MemberId::from_key(&ningbo.public_key());
    let client = net.client(0);
    let s = uscc.to_string();

    // Hangzhou attests the subject and binds its key; the supervisor records a penalty published
    // now and one published only next month (pending: hidden from the public view).
    applied(
        &net.send(
            0,
            "hangzhou",
            Action::AttestSubject(AttestSubject {
                subject: subject.clone(),
                kind: SubjectKind::Supplier,
                name: "授权测试供应商".into(),
                qualifications: vec![],
                bound_key: Some(subject_key.public_key()),
                bound_key_proof: Some(prove_key_binding(&net.chain_id, &subject, &subject_key)),
                valid_until: None,
            }),
        )
        .await
        .1,
    );
    applied(&net.send(0, "supervisor", Action::RecordCredit(penalty(&uscc, "浙发改罚〔2026〕31号"))).await.1);
    let later = now_ms() + 30 * 86_400_000;
    let pending = huxin_types::credit::RecordCredit {
        publication_start: TimestampMs(later),
        ..penalty(&uscc, "浙发改罚〔2026〕32号")
    };
    applied(&net.send(0, "supervisor", Action::RecordCredit(pending)).await.1);
    let tender = TenderRef {
        region: RegionCode::new(330200).unwrap(),
        project_code: "NB-GRANT-1".into(),
        section_code: "01".into(),
    };
    let announcement =
        deal_anchor(&tender, DealStage::Announcement, Hash32::of_document(b"announcement"), vec![], None);
    applied(&net.send(0, "ningbo", announcement).await.1);
    let bid = deal_anchor(&tender, DealStage::Bid, Hash32::of_document(b"bid of 21"), vec![uscc.clone()], None);
    applied(&net.send(0, "ningbo", bid).await.1);
    assert_eq!(client.credit_history(&s).await.unwrap().records.len(), 1, "the public view shows one record");

    // Without a grant, Ningbo's platform is refused, told which grant it lacks.
    let err = client.granted_credit_history(&ningbo, &s).await.unwrap_err();
    grant_missing(err, &format!("member {ningbo_id} holds no grant from {s} for scope credit_history"));

    // The subject grants Ningbo its credit history for an hour (any member relays the statement).
    let statement = |statement| {
        Action::SubjectStatement(
            SubjectStatement {
                chain_id: net.chain_id.clone(),
                subject: subject.clone(),
                statement,
                signed_at: TimestampMs(now_ms()),
            }
            .sign(&subject_key),
        )
    };
    let hour = TimestampMs(now_ms() + 3_600_000);
    let grant = |scope, expires_at| statement(Statement::Grant { grantee: ningbo_id, scope, expires_at });
    applied(&net.send(0, "hangzhou", grant(GrantScope::CreditHistory, hour)).await.1);

    // Now Ningbo reads both records, the pending one marked; Wenzhou, with no grant, still cannot;
    // the grant opens the credit history only, not the deals.
    let full = client.granted_credit_history(&ningbo, &s).await.unwrap();
    assert_eq!((full.records.len(), full.hidden), (2, 1), "{full:?}");
    assert!(full.records.iter().any(|r| r.record.record.decision_no == "浙发改罚〔2026〕32号"));
    grant_missing(client.granted_credit_history(&wenzhou, &s).await.unwrap_err(), "holds no grant");
    grant_missing(client.granted_deals(&ningbo, &s, &ListFilter::default()).await.unwrap_err(), "scope deals");

    // A grant of deals opens the deals.
    applied(&net.send(0, "hangzhou", grant(GrantScope::Deals, hour)).await.1);
    let deals = client.granted_deals(&ningbo, &s, &ListFilter::default()).await.unwrap();
    assert_eq!(deals.items.len(), 1, "{deals:?}");
    assert_eq!(deals.items[0].tender, tender);
    let guarantees = client.granted_guarantees(&ningbo, &s, &ListFilter::default()).await.unwrap_err();
    grant_missing(guarantees, "scope guarantees");

    // The subject withdraws its grants to Ningbo: refused again.
    applied(&net.send(0, "hangzhou", statement(Statement::RevokeGrant { grantee: ningbo_id })).await.1);
    grant_missing(client.granted_credit_history(&ningbo, &s).await.unwrap_err(), "scope credit_history");

    // A grant of all that expires in a few seconds: it opens every scope, then, once a block is
    // past its expiry, none; the refusal says when it expired.
    let soon = TimestampMs(now_ms() + 4_000);
    applied(&net.send(0, "hangzhou", grant(GrantScope::All, soon)).await.1);
    let page = client.granted_guarantees(&ningbo, &s, &ListFilter::default()).await.unwrap();
    assert!(page.items.is_empty(), "{page:?}");
    let mut expired = None;
    for _ in 0..100 {
        match client.granted_credit_history(&ningbo, &s).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => {
                expired = Some(e);
                break;
            }
        }
    }
    let err = expired.expect("the grant of all never expired");
    grant_missing(err, &format!("its last one expired at {} ms", soon.0));

    // Every granted read that was answered, and only those, is in node 0's audit log, with the
    // platform's key; the log still checks out against the ledger.
    let (_, entries) = client.audit_log(&supervisor).await.unwrap();
    let granted: Vec<_> = entries.iter().filter(|e| e.target.starts_with("/v1/granted/")).collect();
    assert!(granted.len() >= 4, "{granted:?}");
    assert!(granted.iter().all(|e| e.supervisor_key == ningbo.public_key() && e.status == 200), "{granted:?}");
    assert_eq!(granted[0].target, format!("/v1/granted/subjects/{s}/credit"));
    assert_eq!(granted[0].result_count, 2);
    assert_eq!(granted[1].target, format!("/v1/granted/subjects/{s}/deals"));
    assert_eq!(granted[2].target, format!("/v1/granted/subjects/{s}/guarantees"));
    let h = net.height(0).await.unwrap();
    net.wait_height(0, h + 2, Duration::from_secs(60)).await;
    let anchored = client.check_audit_log(&supervisor).await;
    assert!(anchored.is_ok(), "{anchored:?}");

    // Bad input: a granted read of guarantees or deals needs a USCC.
    let expert = format!("expert:{}", "a".repeat(64));
    let (status, code, _) = refusal(client.granted_deals(&ningbo, &expert, &ListFilter::default()).await.unwrap_err());
    assert_eq!((status, code.as_str()), (400, "bad_path"));
}
