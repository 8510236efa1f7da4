//! One validator of four misbehaves on purpose: Malachite's byzantine proxy (the `byzantine`
//! feature, which the tests switch on) makes it sign and send a conflicting vote beside every
//! vote it casts, and a conflicting proposal beside every proposal. The three honest validators
//! must go on finalising the same blocks, keep the evidence, and show it to operators: in
//! `/v1/status` (who, at which height) and in `/metrics` (`huxin_equivocations_total`).

mod support;

use std::time::Duration;

use huxin_types::SecretKey;
use support::Net;

const LIAR: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_equivocating_validator_is_recorded_and_cannot_stop_or_fork_the_others() {
    let mut net = Net::create(4);
    let config = net.home(LIAR).join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[byzantine]\nequivocate_votes = { mode = \"always\" }\nequivocate_proposals = { mode = \"always\" }\nseed = 7\n",
    );
    std::fs::write(&config, text).unwrap();
    let liar_key = SecretKey::from_hex(std::fs::read_to_string(net.home(LIAR).join("node_key")).unwrap().trim()).unwrap();
    let liar = hex::encode(huxin_types::block::validator_address(&liar_key.public_key()));
    for i in 0..4 {
        net.start(i);
    }

    // The honest three finalise well past the start, and so does the liar's own node.
    for i in 0..3 {
        net.wait_height(i, 12, Duration::from_secs(120)).await;
    }
    assert!(
        net.log(LIAR).contains("misbehaves on purpose"),
        "the liar runs the byzantine proxy:\n{}",
        net.log(LIAR)
    );

    // Each honest validator recorded the liar's conflicting votes, and only the liar's.
    for i in 0..3 {
        let status: serde_json::Value =
            reqwest::get(format!("{}/v1/status", net.api(i))).await.unwrap().json().await.unwrap();
        let evidence = status["equivocations"].as_array().cloned().unwrap_or_default();
        assert!(!evidence.is_empty(), "node {i} recorded no equivocation: {status}");
        for entry in &evidence {
            assert_eq!(entry["validator"], liar, "node {i} blames an honest validator: {entry}");
            assert!(entry["votes"].as_u64().unwrap() + entry["proposals"].as_u64().unwrap() > 0);
        }
        let metrics = reqwest::get(format!("{}/metrics", net.api(i))).await.unwrap().text().await.unwrap();
        let counted = metrics
            .lines()
            .find(|l| l.starts_with("huxin_equivocations_total"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        assert!(counted > 0.0, "node {i} /metrics counts no equivocation");
        assert!(net.log(i).contains("equivocation evidence"), "node {i} did not log the evidence");
    }

    // No fork: the honest validators agree on every block.
    for h in 1..=12 {
        let first = net.block_id(0, h).await;
        for i in 1..3 {
            assert_eq!(net.block_id(i, h).await, first, "node {i} disagrees at height {h}");
        }
    }
}
