//! Document integrity watch (防篡改巡检) against a running node: `huxin watch` finds an archive
//! clean while every file matches its anchor; after one file is altered, one deleted and one
//! added, it reports the altered one (with the version anchored before), the new one, and the
//! deleted one with its anchors, in JSON, and exits 1; run periodically it rewrites its JSON
//! report each round.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use huxin_types::tx::{DealStage, TenderRef};
use huxin_types::{Hash32, RegionCode};
use serde_json::{json, Value};

use support::{deal_anchor, Net, EXE};

fn watch(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(EXE).arg("watch").args(args).output().expect("run huxin watch");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_and_a_deleted_archive_file_are_both_reported() {
    let net = Net::start_all(1).await;
    let archive = tempfile::tempdir().unwrap();
    let root = archive.path().join("NB-WATCH-1");
    std::fs::create_dir_all(root.join("bids")).unwrap();
    let files = [
        ("announcement.pdf", DealStage::Announcement, b"announcement of NB-WATCH-1".to_vec()),
        ("tender.pdf", DealStage::TenderDocument, b"tender document of NB-WATCH-1".to_vec()),
        ("bids/clarification.pdf", DealStage::Clarification, vec![7u8; 300_000]),
    ];
    let tender = TenderRef {
        region: RegionCode::new(330100).unwrap(),
        project_code: "NB-WATCH-1".into(),
        section_code: "01".into(),
    };
    for (name, stage, bytes) in &files {
        std::fs::write(root.join(name), bytes).unwrap();
        let action = deal_anchor(&tender, *stage, Hash32::of_document(bytes), vec![], None);
        assert_eq!(net.send(0, "hangzhou", action).await.1, json!("applied"));
    }
    let api = net.api(0);
    let dir = root.to_str().unwrap();
    let state = archive.path().join("state.json");
    let state = state.to_str().unwrap();
    let base = ["--dir", dir, "--api", &api, "--state", state, "--json", "-"];

    // Every file matches its anchor.
    let (code, report, stderr) = watch(&base);
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert_eq!((report["files"].as_u64(), report["anchored"].as_u64()), (Some(3), Some(3)), "{report}");
    assert_eq!(report["unanchored"], json!([]));

    // One file edited, one deleted, one added.
    std::fs::write(root.join("tender.pdf"), b"tender document of NB-WATCH-1, quietly edited").unwrap();
    std::fs::remove_file(root.join("bids/clarification.pdf")).unwrap();
    std::fs::write(root.join("notes.txt"), b"never anchored").unwrap();
    let (code, report, stderr) = watch(&base);
    assert_eq!(code, 1, "{report}\n{stderr}");
    assert_eq!(report["anchored"].as_u64(), Some(1), "{report}");
    let unanchored = report["unanchored"].as_array().unwrap();
    let paths: Vec<&str> = unanchored.iter().map(|u| u["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["notes.txt", "tender.pdf"], "{report}");
    assert!(unanchored[0]["anchored_before"].is_null());
    let was = Hash32::of_document(&files[1].2).to_string();
    assert_eq!(unanchored[1]["anchored_before"]["sha256"], json!(was), "{report}");
    let missing = report["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{report}");
    assert_eq!(missing[0]["path"], "bids/clarification.pdf");
    assert_eq!(missing[0]["sha256"], json!(Hash32::of_document(&files[2].2).to_string()));
    assert_eq!(missing[0]["anchors"][0]["stage"], "clarification", "{report}");
    assert_eq!(missing[0]["anchors"][0]["tender"], "330100/NB-WATCH-1/01");

    // Periodically: the JSON report is rewritten each round, findings and all.
    let out = archive.path().join("report.json");
    let mut periodic = Command::new(EXE)
        .args(["watch", "--dir", dir, "--api", &api, "--state", state, "--every", "1", "--json"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut rounds = std::collections::BTreeSet::new();
    for _ in 0..100 {
        if let Ok(report) = std::fs::read(&out).map(|b| serde_json::from_slice::<Value>(&b).unwrap()) {
            assert_eq!(report["missing"].as_array().map(Vec::len), Some(1), "{report}");
            rounds.insert(report["checked_at_ms"].as_u64().unwrap());
            if rounds.len() >= 2 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    periodic.kill().unwrap();
    periodic.wait().unwrap();
    assert!(rounds.len() >= 2, "the report was not rewritten: {rounds:?}");

    // Bad input gets a clear error.
    let (code, _, stderr) = watch(&["--dir", "/no/such/archive", "--api", &api]);
    assert_ne!(code, 0);
    assert!(stderr.contains("is not a directory"), "{stderr}");
    let inside = root.join("state.json");
    let (code, _, stderr) = watch(&["--dir", dir, "--api", &api, "--state", inside.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(stderr.contains("outside the archive"), "{stderr}");
}
