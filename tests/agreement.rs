//! Four validators: transactions sent to different nodes are all finalised, and every node has
//! the same block hash and state root at every height.

mod support;

use std::time::Duration;

use support::{anchor_tx, far_expiry, Net};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_nodes_finalise_and_agree() {
    let net = Net::start_all(4).await;
    let keys = net.bench_keys();

    // 8 keys × 5 transactions, each key's transactions sent to a different node in turn.
    let mut sent = Vec::new();
    for round in 0..5u64 {
        for (k, key) in keys.iter().enumerate() {
            let node = (k + round as usize) % 4;
            let tx = anchor_tx(&net.chain_id, key, round + 1, far_expiry(), (k as u64) << 16 | round);
            let hash = net.client(node).submit(&tx).await.unwrap_or_else(|e| panic!("submit to node {node}: {e}"));
            sent.push((node, hash));
        }
        // Let this round's nonces be gossiped before the next round goes to other nodes.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut max_height = 0;
    for (node, hash) in &sent {
        let status = net.client(*node).wait_finalised(hash, Duration::from_secs(60)).await.unwrap();
        assert_eq!(status.status, "finalised", "{hash}: {status:?}");
        assert_eq!(status.outcome, Some(huxin_types::Outcome::Applied), "{hash}");
        max_height = max_height.max(status.height.unwrap());
    }

    // Every node knows every transaction, at the same height.
    for (_, hash) in &sent {
        let mut heights = Vec::new();
        for i in 0..4 {
            net.wait_height(i, max_height, Duration::from_secs(30)).await;
            heights.push(net.client(i).tx(hash).await.unwrap().height);
        }
        assert!(heights.windows(2).all(|w| w[0] == w[1]), "{hash} finalised at different heights: {heights:?}");
    }

    // Identity across regions through the API: Hangzhou attests (sent to node 1), Ningbo
    // recognises (sent to node 2), Wenzhou may not take the subject over.
    let subject = serde_json::json!({"organisation": "91330100MA0000001F"});
    let attest: huxin_types::Action = serde_json::from_value(serde_json::json!({"attest_subject": {
        "subject": subject, "kind": "supplier", "name": "浙江某建设有限公司",
        "qualifications": [], "bound_key": null, "valid_until": null}}))
    .unwrap();
    let recognise: huxin_types::Action =
        serde_json::from_value(serde_json::json!({"recognise_attestation": {"subject": subject}})).unwrap();
    let h = net.client(1).prepare_sign_submit(&net.member_key("hangzhou"), &attest).await.unwrap();
    let status = net.client(1).wait_finalised(&h, Duration::from_secs(30)).await.unwrap();
    assert_eq!(status.outcome, Some(huxin_types::Outcome::Applied), "{status:?}");
    let h = net.client(2).prepare_sign_submit(&net.member_key("ningbo"), &recognise).await.unwrap();
    let status = net.client(2).wait_finalised(&h, Duration::from_secs(30)).await.unwrap();
    assert_eq!(status.outcome, Some(huxin_types::Outcome::Applied), "{status:?}");
    let h = net.client(3).prepare_sign_submit(&net.member_key("wenzhou"), &attest).await.unwrap();
    let status = net.client(3).wait_finalised(&h, Duration::from_secs(30)).await.unwrap();
    assert!(
        matches!(&status.outcome, Some(huxin_types::Outcome::Rejected(r)) if r.code == huxin_types::RejectCode::Conflict),
        "{status:?}"
    );
    let max_height = max_height.max(status.height.unwrap());

    // Identical chains: block hash and state root at every height.
    let top = max_height + 2;
    for i in 0..4 {
        net.wait_height(i, top, Duration::from_secs(30)).await;
    }
    for h in 1..=top {
        let reference = net.block_id(0, h).await;
        for i in 1..4 {
            assert_eq!(net.block_id(i, h).await, reference, "node {i} differs from node 0 at height {h}");
        }
    }

    // Where a block's time goes, per phase, in /metrics.
    for i in 0..4 {
        for phase in ["receive", "execute", "build", "persist", "commit_to_next_proposal"] {
            let count = net.phase_count(i, phase).await;
            assert!(count > 0, "node {i} timed no block in phase {phase}");
        }
    }
}

/// Regression: an idle devnet wrote about three empty blocks a second, forever. By default an
/// idle network writes at most one a second, and its ledger time still moves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_network_writes_at_most_one_block_a_second() {
    let net = Net::start_all(4).await;
    let start = net.client(0).latest_block().await.unwrap();
    let window = Duration::from_secs(10);
    tokio::time::sleep(window).await;
    let end = net.client(0).latest_block().await.unwrap();
    let blocks = end.header.height.0 - start.header.height.0;
    let elapsed_ms = end.header.time.0 - start.header.time.0;
    assert!(blocks <= window.as_secs() + 1, "{blocks} blocks in {} s idle", window.as_secs());
    assert!(blocks >= 3, "only {blocks} blocks in {} s: ledger time stands still", window.as_secs());
    assert!(elapsed_ms >= (blocks - 1) * 900, "{blocks} blocks span only {elapsed_ms} ms of ledger time");
}
