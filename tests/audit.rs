//! Audited supervisor access (查询留痕) on four running nodes: only signed supervisor requests see
//! full histories; every one of them lands in the serving node's audit log; the node anchors the
//! log on the ledger; and editing the log on disk — with or without re-hashing it — is caught.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use huxin_client::{Client, ClientError};
use huxin_types::audit::{sign_query, AuditEntry, AuditLogError, HEADER_KEY};
use huxin_types::credit::{credit_record_id, RevokeCredit};
use huxin_types::{codec, Action, Hash32, Outcome, SecretKey, TimestampMs, Uscc};
use serde_json::Value;

use support::{now_ms, penalty, Net, EXE};

async fn send(net: &Net, who: &str, action: Action) {
    let client = net.client(3);
    let hash = client.prepare_sign_submit(&net.member_key(who), &action).await.unwrap();
    let status = client.wait_finalised(&hash, Duration::from_secs(60)).await.unwrap();
    net.sync_to(status.height.unwrap_or(0)).await;
    assert_eq!(status.outcome, Some(Outcome::Applied), "{status:?}");
}

/// A raw GET with the given headers: (status, error code or body).
async fn raw_get(api: &str, path: &str, headers: &[(String, String)]) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{api}{path}"));
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[track_caller]
fn refused(answer: &(u16, Value), status: u16, needle: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    let message = answer.1["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "expected {needle:?} in {message:?}");
}

/// Wait until the ledger anchors node 0's log up to `seq`.
async fn wait_anchored(client: &Client, member: &huxin_types::MemberId, seq: u64) {
    for _ in 0..300 {
        let anchors = client.audit_anchors(member).await.unwrap();
        if anchors.last().is_some_and(|a| a.0 >= seq) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the audit log was not anchored up to {seq}");
}

/// Rewrite node 0's stored audit log with `edit` (the node must be stopped).
fn tamper(net: &Net, edit: impl FnOnce(&mut Vec<AuditEntry>)) {
    let store = huxin_store::Store::open(&net.home(0).join("db"), true).unwrap();
    let mut entries: Vec<AuditEntry> =
        store.audit_scan(0, 10_000).unwrap().iter().map(|b| codec::decode_stored(b, usize::MAX).unwrap()).collect();
    edit(&mut entries);
    for e in &entries {
        store.audit_append(e.seq, &codec::encode(e)).unwrap();
    }
}

/// `huxin audit … check` against node 0 with the supervisor's key.
fn audit_check(net: &Net) -> std::process::Output {
    Command::new(EXE)
        .args(["audit", "--api", &net.api(0), "--key"])
        .arg(net.dir.path().join("keys").join("supervisor.key"))
        .arg("check")
        .output()
        .unwrap()
}

async fn restart(net: &mut Net) {
    net.stop(0);
    net.start(0);
    let h = net.height(1).await.unwrap();
    net.wait_height(0, h, Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_supervisor_queries_are_logged_anchored_and_tamper_evident() {
    let mut net = Net::start_all(4).await;
    let supervisor = net.member_key("supervisor");
    let subject = Uscc::with_check("91330100MA0000003").unwrap();
    let path = format!("/v1/supervisor/subjects/{subject}/credit");
    let path = path.as_str();
    send(&net, "supervisor", Action::RecordCredit(penalty(&subject, "浙发改罚〔2026〕11号"))).await;
    send(&net, "supervisor", Action::RecordCredit(penalty(&subject, "浙发改罚〔2026〕12号"))).await;
    let revoked =
        credit_record_id(supervisor.suite(), &Uscc::with_check("11330000MB0000002").unwrap(), "浙发改罚〔2026〕12号");
    send(&net, "supervisor", Action::RevokeCredit(RevokeCredit { record_id: revoked, reason: "复议撤销".into() }))
        .await;

    // The public history shows one record; the supervisor's shows both, the revoked one marked.
    let public = net.client(0).credit_history(&subject.to_string()).await.unwrap();
    assert_eq!(public.records.len(), 1, "{public:?}");
    let full: Value = net.client(0).signed_get(&supervisor, path).await.unwrap();
    assert_eq!((full["records"].as_array().unwrap().len(), full["hidden"].as_u64()), (2, Some(1)), "{full}");
    assert!(full["records"].as_array().unwrap().iter().any(|r| r["publication"] == "revoked"), "{full}");

    // Unsigned, badly signed, stale, replayed, and non-supervisor requests are refused.
    let api = net.api(0);
    let node0 = net.client(0).query_audience().await.unwrap();
    refused(&raw_get(&api, path, &[]).await, 401, "missing header x-huxin-key");
    let t = TimestampMs(now_ms());
    let other_path = sign_query(&supervisor, &node0, "GET", "/v1/supervisor/audit", "", t);
    refused(&raw_get(&api, path, &other_path).await, 401, "does not verify");
    let ahead = sign_query(&supervisor, &node0, "GET", path, "", TimestampMs(now_ms() + 120_000));
    refused(&raw_get(&api, path, &ahead).await, 401, "from this node's clock");
    let once = sign_query(&supervisor, &node0, "GET", path, "", TimestampMs(now_ms()));
    assert_eq!(raw_get(&api, path, &once).await.0, 200);
    refused(&raw_get(&api, path, &once).await, 401, "replay refused");
    // Regression: a captured request replayed on another node was accepted there (the signed
    // bytes named neither the node nor the chain).
    refused(&raw_get(&net.api(1), path, &once).await, 401, "does not verify");
    let bank = sign_query(&net.member_key("bank"), &node0, "GET", path, "", TimestampMs(now_ms()));
    refused(&raw_get(&api, path, &bank).await, 403, "only supervisors");
    let stranger = sign_query(&SecretKey::from_bytes([9; 32]), &node0, "GET", path, "", TimestampMs(now_ms()));
    refused(&raw_get(&api, path, &stranger).await, 401, "not registered");
    let mut bad_key = once.clone();
    bad_key[0] = (HEADER_KEY.into(), "zz".into());
    refused(&raw_get(&api, path, &bad_key).await, 401, "not a public key");

    // Regression: the replay cache was lost on restart, so a request captured before a restart
    // replayed after it. A request signed before the node started is refused.
    let before = sign_query(&supervisor, &node0, "GET", path, "", TimestampMs(now_ms()));
    assert_eq!(raw_get(&api, path, &before).await.0, 200);
    restart(&mut net).await;
    refused(&raw_get(&api, path, &before).await, 401, "before this node started");

    // Exactly the three accepted queries are logged, with who, what and how many.
    let (member, entries) = net.client(0).audit_log(&supervisor).await.unwrap();
    assert_eq!(entries.len(), 3, "{entries:?}");
    for e in &entries {
        assert_eq!((e.target.as_str(), e.result_count, e.status), (path, 2, 200));
        assert_eq!(e.supervisor_key, supervisor.public_key());
    }
    let member = member.expect("devnet nodes anchor their logs");
    // Other nodes keep their own logs.
    assert_eq!(net.client(1).audit_log(&supervisor).await.unwrap().1.len(), 0);

    // Supervisors list credit records by publication status; the public list cannot.
    let filter = huxin_client::ListFilter { status: Some("revoked".into()), ..Default::default() };
    let revoked = net.client(0).supervisor_credit_list(&supervisor, &filter).await.unwrap();
    assert_eq!(revoked.items.len(), 1, "{revoked:?}");
    assert_eq!(revoked.items[0].record.record.decision_no, "浙发改罚〔2026〕12号");
    let all: Value = net.client(0).signed_get(&supervisor, "/v1/supervisor/credit").await.unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");
    refused(&raw_get(&api, "/v1/credit?status=revoked", &[]).await, 400, "supervisors filter by status");
    refused(&raw_get(&api, "/v1/supervisor/credit", &[]).await, 401, "missing header");
    let (_, entries) = net.client(0).audit_log(&supervisor).await.unwrap();
    assert_eq!(entries.last().map(|e| (e.target.as_str(), e.result_count)), Some(("/v1/supervisor/credit", 2)));

    // The node anchors its log; the log then checks out against the ledger, here and by CLI.
    wait_anchored(&net.client(0), &member, 3).await;
    let check = net.client(0).check_audit_log(&supervisor).await.unwrap();
    assert!(check.anchors_matched >= 1 && check.last_anchored >= 3, "{check:?}");
    let out = audit_check(&net);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("chained and unedited"));
    let seq_before_tamper = net.client(0).audit_log(&supervisor).await.unwrap().1.len() as u64;
    wait_anchored(&net.client(0), &member, seq_before_tamper).await;

    // Someone with disk access lowers a result count: the entry's hash no longer matches.
    net.stop(0);
    tamper(&net, |entries| entries[0].result_count = 0);
    restart(&mut net).await;
    match net.client(0).check_audit_log(&supervisor).await {
        Err(ClientError::Audit(AuditLogError::Edited { seq: 1 })) => {}
        other => panic!("an edited entry went unnoticed: {other:?}"),
    }

    // Re-hashing the whole chain after the edit hides it from the chain check, not from the anchors.
    net.stop(0);
    tamper(&net, |entries| {
        let mut prev = Hash32::ZERO;
        for e in entries.iter_mut() {
            e.prev_hash = prev;
            e.hash = e.compute_hash();
            prev = e.hash;
        }
    });
    restart(&mut net).await;
    match net.client(0).check_audit_log(&supervisor).await {
        Err(ClientError::Audit(AuditLogError::AnchorMismatch { .. })) => {}
        other => panic!("a rewritten log went unnoticed: {other:?}"),
    }
    let out = audit_check(&net);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT intact"), "{}", String::from_utf8_lossy(&out.stderr));

    // An entry made up by whoever runs the node, chained and hashed: no supervisor signed it.
    net.stop(0);
    let mut made_up_seq = 0;
    tamper(&net, |entries| {
        let last = entries.last().unwrap().clone();
        let mut e = AuditEntry { seq: last.seq + 1, prev_hash: last.hash, ..last };
        e.target = format!("/v1/supervisor/subjects/{}/credit", Uscc::with_check("91330100MA0000099").unwrap());
        e.hash = e.compute_hash();
        made_up_seq = e.seq;
        entries.push(e);
    });
    restart(&mut net).await;
    match net.client(0).check_audit_log(&supervisor).await {
        Err(ClientError::Audit(AuditLogError::Unsigned { seq })) => assert_eq!(seq, made_up_seq),
        other => panic!("a made-up entry went unnoticed: {other:?}"),
    }

    // Regression: a node without an anchor key served supervisor queries from a log nobody
    // anchors (its operator could rewrite it whole). By default it now serves none; serving
    // them unanchored takes an explicit `allow_unanchored`.
    let config = net.home(1).join("config.toml");
    let anchored = std::fs::read_to_string(&config).unwrap();
    let reconfigure = |net: &mut Net, text: String| {
        net.stop(1);
        std::fs::write(&config, text).unwrap();
        net.start(1);
    };
    let unanchored: String = anchored
        .lines()
        .filter(|l| !l.starts_with("anchor_key") && !l.starts_with("allow_unanchored"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(unanchored, anchored, "the devnet config names an anchor key");
    reconfigure(&mut net, unanchored.clone());
    let h = net.height(0).await.unwrap();
    net.wait_height(1, h, Duration::from_secs(60)).await;
    let err = net.client(1).signed_get::<Value>(&supervisor, path).await.unwrap_err();
    assert!(err.to_string().contains("audit_unanchored"), "{err}");
    let allowed = unanchored.replace("[audit]\n", "[audit]\nallow_unanchored = true\n");
    assert_ne!(allowed, unanchored);
    reconfigure(&mut net, allowed);
    net.wait_height(1, h, Duration::from_secs(60)).await;
    let full: Value = net.client(1).signed_get(&supervisor, path).await.unwrap();
    assert_eq!(full["records"].as_array().unwrap().len(), 2, "{full}");
}
