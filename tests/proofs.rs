//! Proven answers on four running nodes: a supervisor checks a subject's credit history against
//! the genesis file alone — through the Rust client and through `huxin verify` — and every kind
//! of lie a node could tell fails: a changed value, a dropped record, a key left out, a forged or
//! thin certificate, a validator change left out of the chain, another chain's genesis.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use huxin_client::{verify_answer, ProofError, ProvableQuery};
use huxin_types::credit::{RecordCredit, RevokeCredit};
use huxin_types::genesis::Genesis;
use huxin_types::governance::{ProposalAction, Propose, Vote};
use huxin_types::identity::SubjectId;
use huxin_types::{Action, ChainId, Hash32, Uscc};
use serde_json::{json, Value};

use support::{penalty, Net, EXE};

#[track_caller]
fn refused(result: Result<impl std::fmt::Debug, ProofError>, what: &str) -> ProofError {
    match result {
        Ok(v) => panic!("{what}: a tampered answer verified: {v:?}"),
        Err(e) => e,
    }
}

/// `huxin verify --answer` on a saved answer: (exit success, stderr).
fn cli_verify(net: &Net, answer: &Value, query: &[&str]) -> (bool, String) {
    let file = net.dir.path().join("answer.json");
    std::fs::write(&file, answer.to_string()).unwrap();
    let out = Command::new(EXE)
        .arg("verify")
        .arg("--genesis")
        .arg(net.dir.path().join("genesis.json"))
        .arg("--answer")
        .arg(&file)
        .args(query)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Regression: blocks, transaction lookups and events showed every credit action's payload (a
/// revoked penalty's facts, a pending one's subject) to anyone. The public sees a credit action's
/// kind, signer, nonce and outcome code; its signer and supervisors read it whole, signed.
async fn public_views_withhold_credit_actions(net: &Net, record_hash: Hash32, record: &RecordCredit) {
    let supervisor = net.member_key("supervisor");
    let path = format!("/v1/txs/{record_hash}");
    let public = net.client(1).get_json(&path).await.unwrap();
    assert_eq!((public["tx"].clone(), public["withheld"]["kind"].clone()), (json!(null), json!("record_credit")));
    assert_eq!(public["outcome"], json!("applied"), "{public}");
    let height = public["height"].as_u64().unwrap();
    let block = net.client(1).get_json(&format!("/v1/blocks/{height}")).await.unwrap();
    let txs = block["txs"].as_array().unwrap();
    let listed = txs.iter().find(|t| t["hash"] == json!(record_hash.to_string())).expect("the record in its block");
    assert_eq!(
        (listed["tx"].clone(), listed["withheld"]["signer"].clone()),
        (json!(null), json!(supervisor.public_key().to_string()))
    );
    let mut events = support::Stream::open(
        &format!("{}/v1/events?kinds=record_credit,revoke_credit&from_height=1", net.api(1)),
        None,
    )
    .await;
    for _ in 0..4 {
        let (_, kind, data) = events.next(Duration::from_secs(10)).await.expect("a credit event");
        assert!(kind.ends_with("_credit"), "{kind}");
        assert_eq!((data["action"].clone(), data["subjects"].clone()), (json!(null), json!([])), "{data}");
    }
    for shown in [public.to_string(), block.to_string()] {
        assert!(!shown.contains(&record.decision_no) && !shown.contains(&record.facts), "{shown}");
    }

    // A rejected credit action keeps its code and loses its reason in public.
    let (again, outcome) = net.send(3, "supervisor", Action::RecordCredit(record.clone())).await;
    let again = huxin_types::TxHash(again.0);
    assert_eq!(outcome["rejected"]["code"], "conflict", "{outcome}");
    assert!(!outcome.to_string().contains("already recorded"), "{outcome}");

    // The signer reads both whole (audited: it is a supervisor); another member may not.
    let whole: Value = net.client(1).signed_get(&supervisor, &path).await.unwrap();
    assert_eq!(whole["tx"]["body"]["action"]["record_credit"]["decision_no"], json!(record.decision_no), "{whole}");
    let whole = net.client(1).tx_signed(&supervisor, &again).await.unwrap();
    let Some(huxin_types::Outcome::Rejected(rejection)) = whole.outcome else { panic!("{whole:?}") };
    let reason = rejection.reason;
    assert!(reason.contains("already recorded"), "{reason}");
    let err = net.client(1).tx_signed(&net.member_key("hangzhou"), &again).await.unwrap_err();
    assert!(err.to_string().contains("forbidden"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proven_answers_verify_and_every_tampering_fails() {
    // The nodes keep the fewest Merkle tree versions allowed, so that the validator change below
    // is older than any tree they keep by the end: its proof must be the one kept at the change.
    let mut net = Net::create(4);
    for i in 0..4 {
        let config = net.home(i).join("config.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        let default = format!("state_versions_kept = {}", huxin_store::STATE_VERSIONS_KEPT_DEFAULT);
        assert!(text.contains(&default), "{text}");
        let kept = format!("state_versions_kept = {}", huxin_store::STATE_VERSIONS_KEPT_MIN);
        std::fs::write(&config, text.replace(&default, &kept)).unwrap();
        net.start(i);
    }
    for i in 0..4 {
        net.wait_height(i, 1, Duration::from_secs(60)).await;
    }
    let genesis: Genesis =
        serde_json::from_slice(&std::fs::read(net.dir.path().join("genesis.json")).unwrap()).unwrap();
    let a = Uscc::with_check("91330200MA0000002").unwrap();
    let subject = SubjectId::Organisation(a.clone());
    for (no, amount) in [("甬发改罚〔2026〕1号", 50_000), ("甬发改罚〔2026〕2号", 80_000)] {
        assert_eq!(
            net.send(3, "supervisor", Action::RecordCredit(RecordCredit { amount_fen: amount, ..penalty(&a, no) }))
                .await
                .1,
            json!("applied")
        );
    }

    // A third record, revoked: the public answer and its proof carry nothing of it.
    let revoked = penalty(&a, "甬发改罚〔2026〕9号");
    let revoked_id = revoked.record_id(genesis.suite);
    let (record_hash, outcome) = net.send(3, "supervisor", Action::RecordCredit(revoked.clone())).await;
    assert_eq!(outcome, json!("applied"));
    let revoke = Action::RevokeCredit(RevokeCredit { record_id: revoked_id, reason: "错误录入".into() });
    assert_eq!(net.send(3, "supervisor", revoke).await.1, json!("applied"));
    public_views_withhold_credit_actions(&net, record_hash, &revoked).await;

    // The honest answer of node 2 proves out, with both records.
    let credit = ProvableQuery::Credit(subject.clone());
    let proven = net.client(2).proven(&credit, &genesis).await.unwrap();
    assert_eq!(proven.answer["records"].as_array().unwrap().len(), 2, "{}", proven.answer);
    let raw = net.client(2).get_json(&format!("{}?proof=true", credit.path())).await.unwrap();
    for entry in raw["proof"]["entries"].as_array().unwrap() {
        let value = hex::decode(entry["value"].as_str().unwrap_or_default()).unwrap();
        let needle = "9号".as_bytes();
        assert!(
            !value.windows(needle.len()).any(|w| w == needle),
            "a proof entry carries the revoked record: key {}",
            entry["key"]
        );
    }
    assert_eq!(proven.verified.total_power, 4, "four validators of power 1");
    assert!(proven.verified.signed_power >= 3);
    let raw = net.client(2).get_json(&format!("{}?proof=true", credit.path())).await.unwrap();
    let (ok, stderr) = cli_verify(&net, &raw, &["credit", &a.to_string()]);
    assert!(ok && stderr.contains("verified:"), "{stderr}");

    // A changed value, a dropped record, an added field.
    let mut t = raw.clone();
    t["records"][1]["record"]["amount_fen"] = json!(1);
    t["records"][1]["amount_fen"] = json!(1);
    let e = refused(verify_answer(&credit, &t, &genesis), "changed amount");
    assert!(matches!(e, ProofError::AnswerMismatch(_)), "{e}");
    let (ok, stderr) = cli_verify(&net, &t, &["credit", &a.to_string()]);
    assert!(!ok && stderr.contains("NOT verified"), "{stderr}");
    let mut t = raw.clone();
    t["records"].as_array_mut().unwrap().remove(0);
    let e = refused(verify_answer(&credit, &t, &genesis), "dropped record");
    assert!(e.to_string().contains("2 items in the proven state, 1 in the answer"), "{e}");

    // The node cannot hide a record by leaving its state entry out, or change a proven value.
    let mut t = raw.clone();
    let entries = t["proof"]["entries"].as_array_mut().unwrap();
    let record_entry = entries.iter().position(|e| e["value"].is_string()).unwrap();
    entries.remove(record_entry);
    let e = refused(verify_answer(&credit, &t, &genesis), "dropped entry");
    assert!(matches!(e, ProofError::NotCovered(_)), "{e}");
    let mut t = raw.clone();
    let value = t["proof"]["entries"][0]["value"].as_str().unwrap().to_owned();
    let flipped = format!("{}{}", &value[..value.len() - 2], if value.ends_with("00") { "01" } else { "00" });
    t["proof"]["entries"][0]["value"] = json!(flipped);
    let e = refused(verify_answer(&credit, &t, &genesis), "changed entry");
    assert!(matches!(e, ProofError::BadEntry { .. }), "{e}");
    // Claiming a record's key is absent is no way out either.
    let mut t = raw.clone();
    t["proof"]["entries"][record_entry]["value"] = Value::Null;
    let e = refused(verify_answer(&credit, &t, &genesis), "absent entry");
    assert!(matches!(e, ProofError::BadEntry { .. }), "{e}");

    // A forged signature, a certificate below two thirds, another chain.
    let mut t = raw.clone();
    let sig = t["proof"]["block"]["signatures"][0]["signature"].as_str().unwrap().to_owned();
    t["proof"]["block"]["signatures"][0]["signature"] =
        json!(format!("{}{}", if sig.starts_with('0') { "1" } else { "0" }, &sig[1..]));
    let e = refused(verify_answer(&credit, &t, &genesis), "forged signature");
    assert!(matches!(e, ProofError::BadCertificate { .. }), "{e}");
    let mut t = raw.clone();
    t["proof"]["block"]["signatures"].as_array_mut().unwrap().truncate(2);
    let e = refused(verify_answer(&credit, &t, &genesis), "thin certificate");
    assert!(e.to_string().contains("not more than two thirds"), "{e}");
    let mut t = raw.clone();
    let sigs = t["proof"]["block"]["signatures"].as_array_mut().unwrap();
    let first = sigs[0].clone();
    sigs.truncate(2);
    sigs.push(first);
    let e = refused(verify_answer(&credit, &t, &genesis), "duplicated signature");
    assert!(e.to_string().contains("signed twice"), "{e}");
    let mut other = genesis.clone();
    other.chain_id = ChainId::new("huxin-other").unwrap();
    let e = refused(verify_answer(&credit, &raw, &other), "other chain");
    assert!(matches!(e, ProofError::WrongChain { .. }), "{e}");
    let mut t = raw.clone();
    t.as_object_mut().unwrap().remove("proof");
    let e = refused(verify_answer(&credit, &t, &genesis), "no proof");
    assert!(e.to_string().contains("carries no proof"), "{e}");

    // Regression: a genuine proof of an answer evaluated at an earlier time (the node picks a
    // time before the records took effect) verified, as if it were the answer now.
    let proven_time = raw["time"].as_u64().unwrap();
    let earlier = format!("{}?proof=true&time={}", credit.path(), proven_time - 86_400_000 * 365);
    let stale = net.client(2).get_json(&earlier).await.unwrap();
    assert_eq!(stale["records"], json!([]), "a year earlier the records were not in force");
    let e = refused(verify_answer(&credit, &stale, &genesis), "answer as of an earlier time");
    assert!(matches!(e, ProofError::AnswerMismatch(_)) && e.to_string().contains("evaluated at time"), "{e}");
    let (ok, stderr) = cli_verify(&net, &stale, &["credit", &a.to_string()]);
    assert!(!ok && stderr.contains("evaluated at time"), "{stderr}");

    // Absence is proven too: a document never anchored.
    let never = ProvableQuery::Document(Hash32::of_document(b"never anchored"));
    let proven = net.client(1).proven(&never, &genesis).await.unwrap();
    assert_eq!(proven.answer["anchors"], json!([]));
    let err = net.client(1).get_json("/v1/guarantees/NO-SUCH?proof=true").await.unwrap_err();
    assert!(err.to_string().contains("not_found"), "{err}");

    // Governance removes a validator; later answers carry the change, and leaving it out is caught.
    let removed = genesis.validators[3].public_key;
    let propose = Action::Propose(Propose {
        action: ProposalAction::RemoveValidator { public_key: removed },
        reason: "温州节点迁移".into(),
    });
    let (id, outcome) = net.send(0, "hangzhou", propose).await;
    assert_eq!(outcome, json!("applied"));
    for (node, voter) in [(1, "ningbo"), (2, "jiaxing")] {
        let (_, outcome) = net.send(node, voter, Action::Vote(Vote { proposal: id, approve: true })).await;
        assert_eq!(outcome, json!("applied"), "{voter}");
    }
    let v = net.client(0).get_json("/v1/validators").await.unwrap();
    let activation = v["next"]["activation"].as_u64().unwrap();
    net.wait_height(0, activation + 1, Duration::from_secs(60)).await;

    let profile = ProvableQuery::Subject(subject.clone());
    let proven = net.client(0).proven(&profile, &genesis).await.unwrap();
    assert_eq!(proven.verified.validator_changes, 1);
    assert_eq!(proven.verified.total_power, 3, "the set in force after the change");
    assert_eq!(proven.answer["active_credit_records"], json!(2));
    let raw = net.client(0).get_json(&format!("{}?proof=true", profile.path())).await.unwrap();
    let mut t = raw.clone();
    t["proof"]["validator_changes"] = json!([]);
    let e = refused(verify_answer(&profile, &t, &genesis), "change left out");
    assert!(matches!(e, ProofError::BadValidatorChain(_)), "{e}");
    assert!(e.to_string().contains("a change is missing"), "{e}");

    // Once the change is older than every tree the nodes keep, answers still prove through it.
    let past = activation + huxin_store::STATE_VERSIONS_KEPT_MIN + 3;
    net.wait_height(0, past, Duration::from_secs(120)).await;
    let proven = net.client(0).proven(&profile, &genesis).await.unwrap();
    assert_eq!(proven.verified.validator_changes, 1);
    assert_eq!(proven.verified.total_power, 3);
    assert!(proven.verified.height.0 >= past, "{:?}", proven.verified.height);
}
