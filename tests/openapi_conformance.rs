//! The OpenAPI document is the exact contract of the API (issue 14): schemathesis, a
//! property-based tester from PyPI, generates requests from `/openapi.json` of a live four-node
//! devnet and checks every answer. It requires no 5xx, no request the document calls valid
//! refused, no request it calls invalid accepted, and no answer (status, content type, headers,
//! body) outside what the document says.
//!
//! schemathesis and its dependencies are pinned in `tests/openapi/requirements.txt` and installed
//! into a virtual environment under the target directory (once; `python3 -m venv`, `pip`).
//! `tests/openapi/schemathesis.toml` and `hooks.py` hold the few rules no schema can state (a USCC's
//! check character, a cursor issued by the same list, no look-ahead in public credit reads).
//! The run is seeded: `SEED=…` replays it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use huxin_types::tx::DealStage;
use support::Net;

/// Test cases per operation and phase: enough to cover every parameter's edges (the coverage
/// phase adds its own boundary cases) within about a minute on two cores.
const EXAMPLES_PER_OPERATION: u32 = 40;

fn openapi_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/openapi")
}

/// The venv's `schemathesis`, installed from the pinned requirements when missing or stale.
fn schemathesis() -> PathBuf {
    support::python_venv("openapi").join("bin/schemathesis")
}

/// A little of everything on the ledger, so lists have pages and look-ups find something.
async fn seed_the_ledger(net: &Net) {
    use huxin_types::identity::{AttestSubject, SubjectId, SubjectKind};
    use huxin_types::{Action, Hash32, RegionCode, Uscc};
    let supplier = Uscc::with_check("91330100MB0500000").expect("a valid code");
    let attest = Action::AttestSubject(AttestSubject {
        subject: SubjectId::Organisation(supplier.clone()),
        kind: SubjectKind::Supplier,
        name: "浙江某建设有限公司".into(),
        qualifications: vec![],
        bound_key: None,
        valid_until: None,
        bound_key_proof: None,
    });
    let (_, outcome) = net.send(0, "hangzhou", attest).await;
    assert_eq!(outcome, "applied", "{outcome}");
    net.send(1, "supervisor", Action::RecordCredit(support::penalty(&supplier, "浙发改罚〔2026〕1号"))).await;
    let tender = huxin_types::tx::TenderRef {
        region: RegionCode::new(330100).expect("a region"),
        project_code: "ZJ-2026-001".into(),
        section_code: "1".into(),
    };
    for (i, stage) in [DealStage::Announcement, DealStage::TenderDocument].into_iter().enumerate() {
        let hash = Hash32::of_document(format!("document {i}").as_bytes());
        net.send(2, "hangzhou", support::deal_anchor(&tender, stage, hash, vec![supplier.clone()], None)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_every_answer_as_the_openapi_document_says() {
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(14);
    println!("SEED={seed}");
    let exe = tokio::task::spawn_blocking(schemathesis).await.unwrap();
    let net = Net::start_all(4).await;
    seed_the_ledger(&net).await;
    let api = net.api(3);
    let report = net.dir.path().join("schemathesis");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .current_dir(openapi_dir())
            .env("SCHEMATHESIS_HOOKS", "hooks")
            .env("PYTHONPATH", openapi_dir())
            .env("HUXIN_API", &api)
            .args(["run", &format!("{api}/openapi.json")])
            .args(["--seed", &seed.to_string(), "--max-examples", &EXAMPLES_PER_OPERATION.to_string()])
            // One worker: with two, hypothesis (describing schemathesis' own filter lambdas)
            // calls `ast.parse` from both threads at once, and CPython 3.11's parser is not
            // thread-safe there ("SystemError: AST constructor recursion depth mismatch", 1 run
            // in 3 here).
            .args(["--phases", "examples,coverage,fuzzing", "--workers", "1", "--no-color"])
            .args(["--generation-database", "none", "--request-timeout", "20"])
            .arg("--report-dir")
            .arg(&report)
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{printed}");
    assert!(out.status.success(), "schemathesis found the API and its document apart (SEED={seed}):\n{printed}");
    // It really tested every operation of the document ("Selected: 31/31", "Tested: 31").
    let number_after = |label: &str| {
        printed
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.trim().split('/').next_back().and_then(|n| n.trim().parse::<u32>().ok()))
    };
    let (operations, tested) = (number_after("Selected:"), number_after("Tested:"));
    assert!(operations >= Some(31) && tested == operations, "tested {tested:?} of {operations:?}:\n{printed}");
}
