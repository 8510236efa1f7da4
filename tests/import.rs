//! `huxin import` against four running nodes: bad rows are reported with their lines and stop
//! the import before anything is sent; an import killed mid-way resumes and finishes; running it
//! again imports nothing twice. CSV for credit records, JSON for attestations.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use huxin_types::{Hash32, Uscc};
use serde_json::{json, Value};

use support::{Net, EXE};

const ROWS: usize = 12;
/// Blocks a resumed import of the rows left may take: a few per batch; half the expiry (100
/// blocks) an import transaction is given, which a resume that waited one out would pass.
const RESUME_HEIGHTS_MAX: u64 = 50;
const HEADER: &str = "subject,kind,decision_no,authority,authority_uscc,facts,legal_basis,penalty_type,penalty_content,amount_fen,decision_date,evidence_hash,severity,publication_start,publication_end,score,tender";

fn subject(i: usize) -> Uscc {
    Uscc::with_check(&format!("913302005MA{i:06}")).unwrap()
}

fn credit_csv(now: u64, bad: bool) -> String {
    let mut text = format!("{HEADER}\n");
    let authority = Uscc::with_check("11330200MB0000001").unwrap();
    for i in 0..ROWS {
        let subject = if bad && i == 1 { "91330200MA0000001X".to_owned() } else { subject(i).to_string() };
        let severity = if bad && i == 4 { "catastrophic" } else { "general" };
        let evidence = Hash32::of_document(format!("evidence {i}").as_bytes());
        text.push_str(&format!(
            "{subject},administrative_penalty,甬发改罚〔2019〕{i}号,宁波市发展和改革委员会,{authority},\"提供虚假材料, 第{i}起\",《招标投标法》第五十四条,罚款,罚款,{},{now},{evidence},{severity},{now},{},,330200/NB-2019-{i:03}/01\n",
            10_000 * (i + 1),
            now + 200 * 86_400_000,
        ));
    }
    text
}

fn import(net: &Net, key: &str, kind: &str, file: &std::path::Path, batch: usize) -> Output {
    Command::new(EXE)
        .args(["import", "--api", &net.api(2), "--kind", kind, "--batch", &batch.to_string(), "--key"])
        .arg(net.dir.path().join("keys").join(format!("{key}.key")))
        .arg("--file")
        .arg(file)
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Subject `i`'s published records, read from node 0 once it has caught up with node 2 (where
/// the imports go).
async fn records(net: &Net, i: usize) -> usize {
    net.sync_to(net.height(2).await.unwrap()).await;
    let history = net.client(0).credit_history(&subject(i).to_string()).await.unwrap();
    history.records.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_checks_rows_resumes_and_never_imports_twice() {
    let net = Net::start_all(4).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;

    // Bad rows: each reported with its line (the header is line 1), nothing submitted.
    let bad = net.dir.path().join("bad.csv");
    std::fs::write(&bad, credit_csv(now, true)).unwrap();
    let out = import(&net, "supervisor", "credit", &bad, 5);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("line 3: subject"), "{stderr}");
    assert!(stderr.contains("line 6: unknown variant `catastrophic`"), "{stderr}");
    assert!(stderr.contains("2 bad row(s) of 12; nothing was imported"), "{stderr}");
    assert_eq!(records(&net, 0).await, 0);

    // A good file, one row per batch; killed once it has finished a few rows.
    let good = net.dir.path().join("credit.csv");
    std::fs::write(&good, credit_csv(now, false)).unwrap();
    let state_file = net.dir.path().join("credit.csv.import-state");
    let mut child = Command::new(EXE)
        .args(["import", "--api", &net.api(2), "--kind", "credit", "--batch", "1", "--key"])
        .arg(net.dir.path().join("keys").join("supervisor.key"))
        .arg("--file")
        .arg(&good)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = std::fs::read(&state_file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|s| s["done"].as_u64())
            .unwrap_or(0);
        if done >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the import made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done_before: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    assert!(done_before["done"].as_u64().unwrap() < ROWS as u64, "killed before the end: {done_before}");

    // Resumed: it finishes, and every subject has exactly its one record. A batch it had saved
    // but not yet submitted when killed is submitted again, not waited for until it expires
    // (100 blocks: a CI run on this machine spent 105 s here, session 47).
    let before = net.height(2).await.unwrap();
    let out = import(&net, "supervisor", "credit", &good, 4);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("resuming after row") || !stdout.contains("0 imported"), "{stdout}");
    let took = net.height(2).await.unwrap() - before;
    assert!(took < RESUME_HEIGHTS_MAX, "the resumed import took {took} blocks:\n{stdout}\n{done_before}");
    for i in 0..ROWS {
        assert_eq!(records(&net, i).await, 1, "subject {i}");
    }

    // Again from scratch (no state file): nothing is imported twice.
    std::fs::remove_file(&state_file).unwrap();
    let out = import(&net, "supervisor", "credit", &good, 5);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("0 imported, {ROWS} already on the ledger, 0 rejected")), "{stdout}");
    for i in 0..ROWS {
        assert_eq!(records(&net, i).await, 1, "subject {i}");
    }

    // Attestations from JSON: a bad item is named by its number; then all go in, once.
    let items = |bad: bool| {
        json!((0..3)
            .map(|i| json!({
                "subject": {"organisation": subject(100 + i).to_string()},
                "kind": "supplier",
                "name": if bad && i == 1 { String::new() } else { format!("宁波历史供应商{i}") },
                "qualifications": [],
                "bound_key": null,
                "valid_until": null,
            }))
            .collect::<Vec<_>>())
    };
    let file = net.dir.path().join("subjects.json");
    std::fs::write(&file, items(true).to_string()).unwrap();
    let out = import(&net, "ningbo", "attestation", &file, 10);
    let (_, stderr) = text(&out);
    assert!(!out.status.success() && stderr.contains("item 2: "), "{stderr}");
    std::fs::write(&file, items(false).to_string()).unwrap();
    std::fs::remove_file(net.dir.path().join("subjects.json.import-state")).ok();
    let out = import(&net, "ningbo", "attestation", &file, 10);
    assert!(text(&out).0.contains("3 imported, 0 already"), "{:?}", text(&out));
    std::fs::remove_file(net.dir.path().join("subjects.json.import-state")).unwrap();
    let out = import(&net, "ningbo", "attestation", &file, 10);
    assert!(text(&out).0.contains("0 imported, 3 already"), "{:?}", text(&out));
    net.sync_to(net.height(2).await.unwrap()).await;
    let profile = net.client(3).subject(&subject(101).to_string()).await.unwrap();
    let attestation = profile.attestation.expect("attested");
    assert_eq!((attestation.name.as_str(), attestation.version), ("宁波历史供应商1", 1), "attested once");
}

/// Regression: a full mempool answered 503 with no `Retry-After`, and `huxin import` stopped at
/// the first batch the node shed. The node now says when to retry, and the import resubmits
/// what was shed, unchanged (same nonces), until everything is on the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_mempool_sheds_with_retry_after_and_import_waits() {
    const MEMPOOL_TXS: usize = 4;
    let mut net = Net::create(4);
    let config = net.home(2).join("config.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    let small = original.replace("\ntxs_max = 10000\n", &format!("\ntxs_max = {MEMPOOL_TXS}\n"));
    assert_ne!(small, original, "the devnet config has a mempool txs_max");
    std::fs::write(&config, small).unwrap();
    for i in 0..4 {
        net.start(i);
    }
    for i in 0..4 {
        net.wait_height(i, 1, Duration::from_secs(60)).await;
    }

    // A batch larger than node 2's mempool: the rest is shed, with a Retry-After.
    let key = &net.bench_keys()[0];
    let body = json!({ "txs": (1..=2 * MEMPOOL_TXS as u64).map(|nonce| {
        let tx = support::anchor_tx(&net.chain_id, key, nonce, support::far_expiry(), 7_000 + nonce);
        json!({ "payload": hex::encode(tx.body.encode()), "public_key": tx.body.signer, "signature": tx.signature })
    }).collect::<Vec<_>>() });
    let response =
        reqwest::Client::new().post(format!("{}/v1/txs/batch", net.api(2))).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let answer: Value = response.json().await.unwrap();
    let shed = answer["results"].as_array().unwrap().iter().filter(|r| r["error"]["code"] == "mempool_full").count();
    assert!(shed >= MEMPOOL_TXS, "{answer}");
    assert_eq!(retry_after.as_deref(), Some("1"), "{answer}");

    // Twelve rows in one batch through node 2: all imported, none refused.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let file = net.dir.path().join("credit.csv");
    std::fs::write(&file, credit_csv(now, false)).unwrap();
    let out = import(&net, "supervisor", "credit", &file, ROWS);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("{ROWS} imported, 0 already on the ledger, 0 rejected")), "{stdout}\n{stderr}");
    for i in 0..ROWS {
        assert_eq!(records(&net, i).await, 1, "subject {i}");
    }
}
