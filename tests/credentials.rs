//! Attestations as W3C Verifiable Credentials on four running nodes: Hangzhou's node exports its
//! supplier's credential, recognised in Ningbo and Wenzhou; `huxin credential verify` and Digital
//! Bazaar's independent VC libraries (tests/vc, npm) both verify it, proof and status lists; a
//! tampered copy fails both with the reason; once Wenzhou withdraws its recognition the old
//! credential is suspended, and once Hangzhou revokes the attestation it is revoked — for both
//! checkers; other nodes, experts, unknown and revoked subjects get typed errors.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use huxin_client::ClientError;
use huxin_types::identity::{AttestSubject, Qualification, RevokeAttestation, SubjectId, SubjectKind};
use huxin_types::{Action, Hash32, TimestampMs, Uscc};
use serde_json::{json, Value};

use support::{now_ms, Net, EXE};

/// `huxin credential verify FILE --genesis …`: (exit code, stdout, stderr).
fn huxin_verify(net: &Net, file: &Path) -> (i32, String, String) {
    let out = Command::new(EXE)
        .args(["credential", "verify"])
        .arg(file)
        .arg("--genesis")
        .arg(net.dir.path().join("genesis.json"))
        .output()
        .expect("run huxin credential verify");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// The independent check (tests/vc/verify.mjs), its packages installed once from the lockfile.
fn independent_verify(file: &Path) -> Value {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    let dir = INSTALLED.get_or_init(|| support::npm_project("vc"));
    let out = Command::new("node").arg("verify.mjs").arg(file).current_dir(dir).output().expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("verify.mjs printed {stdout:?}, {}", String::from_utf8_lossy(&out.stderr)))
}

fn save(net: &Net, name: &str, credential: &Value) -> PathBuf {
    let path = net.dir.path().join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(credential).unwrap()).unwrap();
    path
}

#[track_caller]
fn refused(err: ClientError, status: u16, code: &str) {
    match err {
        ClientError::Api { status: s, code: c, message } => assert_eq!((s, c.as_str()), (status, code), "{message}"),
        other => panic!("expected {status} {code}, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_credential_verifies_independently_and_its_status_follows_the_ledger() {
    // ed25519 whatever HUXIN_TEST_SUITE says: the independent verifier (W3C's eddsa-jcs-2022)
    // has no SM2; an SM2 chain's credentials are checked by tests/national_crypto.rs.
    let net = Net::start_all_in(4, "ed25519-sha256").await;
    let uscc = Uscc::with_check("91330100MA0000051").unwrap();
    let subject = SubjectId::Organisation(uscc.clone());
    let now = now_ms();
    let attest = Action::AttestSubject(AttestSubject {
        subject: subject.clone(),
        kind: SubjectKind::Supplier,
        name: "浙江互认示范供应商有限公司".into(),
        qualifications: vec![Qualification {
            kind: "建筑工程施工总承包".into(),
            certificate_no: "D233012345".into(),
            issuer: "浙江省住房和城乡建设厅".into(),
            valid_from: TimestampMs(now - 86_400_000),
            valid_until: TimestampMs(now + 365 * 86_400_000),
            document_hash: Hash32::of_document(b"certificate scan"),
        }],
        bound_key: None,
        bound_key_proof: None,
        valid_until: None,
    });
    assert_eq!(net.send(0, "hangzhou", attest).await.1, json!("applied"));
    for (node, centre) in [(1, "ningbo"), (2, "wenzhou")] {
        let recognise = Action::RecogniseAttestation { subject: subject.clone() };
        assert_eq!(net.send(node, centre, recognise).await.1, json!("applied"));
    }
    let path = format!("/v1/subjects/{uscc}/credential");
    let credential = net.client(0).get_json(&path).await.unwrap();
    assert_eq!(credential["credentialSubject"]["recognisedIn"], json!([330200, 330300]), "{credential}");
    assert_eq!(credential["credentialSubject"]["qualifications"][0]["certificateNo"], "D233012345");
    assert_eq!(credential["proof"]["cryptosuite"], "eddsa-jcs-2022");
    let issued = save(&net, "credential.json", &credential);

    // Both checkers verify it, proof and status lists.
    let (code, stdout, stderr) = huxin_verify(&net, &issued);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("proof verified: issued by") && stdout.contains("浙江互认示范供应商有限公司"), "{stdout}");
    assert!(stdout.contains("status revocation: not set") && stdout.contains("status suspension: not set"), "{stdout}");
    let independent = independent_verify(&issued);
    assert_eq!((&independent["verified"], &independent["valid"]), (&json!(true), &json!(true)), "{independent}");
    assert_eq!(independent["statuses"].as_array().map(Vec::len), Some(2), "{independent}");

    // A tampered copy fails both, with the reason.
    let mut tampered = credential.clone();
    tampered["credentialSubject"]["recognisedIn"] = json!([330200, 330300, 330400]);
    let forged = save(&net, "tampered.json", &tampered);
    let (code, _, stderr) = huxin_verify(&net, &forged);
    assert_eq!(code, 1);
    assert!(stderr.contains("signature does not verify"), "{stderr}");
    let independent = independent_verify(&forged);
    assert_eq!((&independent["verified"], &independent["valid"]), (&json!(false), &json!(false)), "{independent}");

    // Typed errors: another centre's node, an expert, an unknown subject.
    refused(net.client(1).get_json(&path).await.unwrap_err(), 409, "not_issuer");
    let expert = format!("/v1/subjects/expert:{}/credential", "ab".repeat(32));
    refused(net.client(0).get_json(&expert).await.unwrap_err(), 422, "expert_not_exported");
    let unknown = format!("/v1/subjects/{}/credential", Uscc::with_check("91330100MA0000052").unwrap());
    refused(net.client(0).get_json(&unknown).await.unwrap_err(), 404, "not_found");

    // Wenzhou withdraws its recognition: the credential naming it is suspended; a new one is not.
    let withdraw = Action::WithdrawRecognition { subject: subject.clone() };
    assert_eq!(net.send(2, "wenzhou", withdraw).await.1, json!("applied"));
    let (code, _, stderr) = huxin_verify(&net, &issued);
    assert_eq!(code, 1);
    assert!(stderr.contains("status suspension is set"), "{stderr}");
    let independent = independent_verify(&issued);
    assert_eq!(independent["valid"], json!(false), "{independent}");
    let suspension = independent["statuses"].as_array().unwrap().iter().find(|s| s["purpose"] == "suspension").cloned();
    assert_eq!(suspension.map(|s| s["on"].clone()), Some(json!(true)), "{independent}");
    let renewed = net.client(0).get_json(&path).await.unwrap();
    assert_eq!(renewed["credentialSubject"]["recognisedIn"], json!([330200]));
    let renewed = save(&net, "renewed.json", &renewed);
    assert_eq!(huxin_verify(&net, &renewed).0, 0);
    assert_eq!(independent_verify(&renewed)["valid"], json!(true));

    // Hangzhou revokes the attestation: revoked for both checkers, and no credential is issued.
    let revoke =
        Action::RevokeAttestation(RevokeAttestation { subject: subject.clone(), reason: "企业注销".into() });
    assert_eq!(net.send(0, "hangzhou", revoke).await.1, json!("applied"));
    let (code, _, stderr) = huxin_verify(&net, &renewed);
    assert_eq!(code, 1);
    assert!(stderr.contains("REVOKED"), "{stderr}");
    let independent = independent_verify(&renewed);
    assert_eq!(independent["valid"], json!(false), "{independent}");
    let revocation = independent["statuses"].as_array().unwrap().iter().find(|s| s["purpose"] == "revocation").cloned();
    assert_eq!(revocation.map(|s| s["on"].clone()), Some(json!(true)), "{independent}");
    refused(net.client(0).get_json(&path).await.unwrap_err(), 409, "attestation_revoked");
}
