//! One validator of four misbehaves on purpose (the `byzantine` feature, which the tests switch
//! on; see `huxin_consensus::byzantine`), and the three honest ones must go on finalising the
//! same blocks:
//! - equivocation (Malachite's byzantine proxy sends a conflicting vote beside every vote, a
//!   conflicting proposal beside every proposal): the evidence is kept and shown to operators,
//!   in `/v1/status` (who, at which height) and in `/metrics` (`huxin_equivocations_total`);
//! - blocks timed a year ahead or a year behind: voted down, never decided;
//! - sync answers with corrupted block bytes (under the genuine certificates): a wiped honest
//!   validator still catches up, from the others, and agrees;
//! - proposal streams for rounds and heights it does not propose: refused at their first part;
//! - malformed consensus messages (every other one it sends): dropped and counted;
//! - a flood of transactions with forged signatures: refused, counted, never finalised.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::Net;

const LIAR: usize = 3;

/// Four validators, the last with `section` appended to its config as `[byzantine]`; started.
/// Also returns the liar's consensus address (hex).
fn start_with_liar(section: &str) -> (Net, String) {
    let mut net = Net::create(4);
    let config = net.home(LIAR).join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("\n[byzantine]\n{section}\n"));
    std::fs::write(&config, text).unwrap();
    let liar = hex::encode(huxin_types::block::validator_address(&net.consensus_key(LIAR).public_key()));
    for i in 0..4 {
        net.start(i);
    }
    (net, liar)
}

/// A counter's value in node `i`'s `/metrics` (0 when absent).
async fn counter(net: &Net, i: usize, name: &str) -> f64 {
    let metrics = reqwest::get(format!("{}/metrics", net.api(i))).await.unwrap().text().await.unwrap();
    metrics
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// Generous ceilings for an honest validator of a short test run: a liar must not make one grow
/// without bound (a leak would pass these only briefly; an unbounded buffer would not).
const HONEST_RSS_MAX: u64 = 1 << 30;
const HONEST_DISK_MAX: u64 = 256 << 20;

/// Every honest validator is up, within the memory and disk ceilings, and logged no panic.
fn honest_bounded(net: &mut Net) {
    for i in 0..3 {
        assert!(net.is_running(i), "honest node {i} stopped");
        let rss = net.rss_bytes(i).unwrap_or(0);
        assert!(rss < HONEST_RSS_MAX, "honest node {i} holds {rss} bytes of memory");
        let disk = net.disk_bytes(i);
        assert!(disk < HONEST_DISK_MAX, "honest node {i} holds {disk} bytes on disk");
        let log = net.log(i);
        assert!(!log.contains("panicked"), "honest node {i} panicked:\n{log}");
    }
}

/// The honest validators agree on every block up to `height`.
async fn honest_agree(net: &Net, height: u64) {
    for h in 1..=height {
        let first = net.block_id(0, h).await;
        for i in 1..3 {
            assert_eq!(net.block_id(i, h).await, first, "node {i} disagrees at height {h}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_equivocating_validator_is_recorded_and_cannot_stop_or_fork_the_others() {
    let (mut net, liar) = start_with_liar(
        "equivocate_votes = { mode = \"always\" }\nequivocate_proposals = { mode = \"always\" }\nseed = 7",
    );

    // The honest three finalise well past the start, and so does the liar's own node.
    for i in 0..3 {
        net.wait_height(i, 12, Duration::from_secs(120)).await;
    }
    assert!(net.log(LIAR).contains("misbehaves on purpose"), "the liar runs the byzantine proxy:\n{}", net.log(LIAR));

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
        assert!(counter(&net, i, "huxin_equivocations_total").await > 0.0, "node {i} /metrics counts no equivocation");
        assert!(net.log(i).contains("equivocation evidence"), "node {i} did not log the evidence");
    }

    // No fork: the honest validators agree on every block.
    honest_agree(&net, 12).await;
    honest_bounded(&mut net);
}

/// A proposer that times its blocks a year ahead (which, once decided, would make every honest
/// block after it "too early") or a year behind its parent: the honest validators vote its
/// blocks down and the chain goes on, with every decided block's time inside the rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_timed_off_the_clock_are_voted_down() {
    const YEAR_MS: i64 = 365 * 86_400_000;
    for offset in [YEAR_MS, -YEAR_MS] {
        let (mut net, _) = start_with_liar(&format!("block_time_offset_ms = {offset}"));
        for i in 0..3 {
            net.wait_height(i, 12, Duration::from_secs(120)).await;
        }
        let drift_ms = 2_000;
        let mut parent_time = 0;
        for h in 1..=12 {
            let block = net.client(0).block(h).await.unwrap();
            let time = block.header.time.0;
            assert!(time > parent_time, "offset {offset}: block {h} is not after its parent");
            assert!(time <= support::now_ms() + drift_ms, "offset {offset}: block {h} is timed ahead ({time})");
            parent_time = time;
        }
        for i in 0..3 {
            assert!(
                counter(&net, i, "huxin_proposals_invalid_total").await > 0.0,
                "offset {offset}: node {i} never voted against the liar's blocks; the liar's log:\n{}",
                net.log(LIAR)
            );
        }
        honest_agree(&net, 12).await;
        honest_bounded(&mut net);
    }
}

/// A validator that corrupts every block it serves to syncing peers: a wiped honest validator
/// refuses those answers (the bytes do not match the certified block), syncs from the others,
/// and agrees with them on every block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_sync_answers_do_not_stop_a_validator_catching_up() {
    let (mut net, _) = start_with_liar("corrupt_sync_answers = true");
    net.wait_height(0, 15, Duration::from_secs(120)).await;
    let wiped = 2;
    net.kill9(wiped);
    for dir in ["db", "wal"] {
        let _ = std::fs::remove_dir_all(net.home(wiped).join(dir));
    }
    // With only the liar to sync from, the wiped node takes nothing it serves.
    net.stop(0);
    net.stop(1);
    let top = net.height(LIAR).await.unwrap();
    net.start(wiped);
    let refused = |net: &Net| net.log(wiped).contains("does not match commit certificate");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !refused(&net) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(refused(&net), "the wiped node never refused a corrupted answer:\n{}", net.log(wiped));
    assert_eq!(net.height(wiped).await, Some(0), "a corrupted block was taken in");
    // With honest peers back, it catches up and follows the chain.
    net.start(0);
    net.start(1);
    net.wait_height(wiped, top + 3, Duration::from_secs(120)).await;
    for h in 1..=top + 3 {
        assert_eq!(net.block_id(wiped, h).await, net.block_id(0, h).await, "the wiped node differs at height {h}");
    }
    let log = net.log(wiped);
    assert!(!log.contains("panicked"), "the wiped node panicked:\n{log}");
}

/// A validator that streams a block of its own at every round it does not propose (for that
/// round, the next, the next height and one past the horizon): the honest validators refuse
/// each stream at its first part (counted in `huxin_proposal_streams_refused_total`), keep no
/// more than the horizon allows, and go on finalising the same blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_out_of_turn_are_refused() {
    let (mut net, _) = start_with_liar("stream_out_of_turn = true");
    for i in 0..3 {
        net.wait_height(i, 12, Duration::from_secs(120)).await;
    }
    assert!(net.log(LIAR).contains("streaming out of turn"), "the liar never streamed:\n{}", net.log(LIAR));
    for i in 0..3 {
        let refused = counter(&net, i, "huxin_proposal_streams_refused_total").await;
        assert!(refused > 0.0, "node {i} refused none of the liar's streams");
        let open = counter(&net, i, "huxin_proposal_streams_open").await;
        assert!(open <= 8.0, "node {i} holds {open} streams open");
        let log = net.log(i);
        assert!(!log.contains("panicked"), "node {i} panicked:\n{log}");
        assert!(log.contains("is not the proposer of height"), "node {i} never refused an out-of-turn stream");
        assert!(log.contains("more than 2 past"), "node {i} never refused a stream past the horizon");
    }
    honest_agree(&net, 12).await;
    honest_bounded(&mut net);
}

/// Regression (issue 9): the byzantine process could not send malformed consensus messages (only a
/// test-driven swarm sent bad gossip). Now every other message it sends on the consensus network
/// is cut short, has a byte flipped, carries garbage or is garbage; the honest validators drop and
/// count each one, and go on finalising the same blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_consensus_messages_are_dropped_and_counted() {
    let (mut net, _) = start_with_liar("malformed_messages = true");
    for i in 0..3 {
        net.wait_height(i, 12, Duration::from_secs(120)).await;
    }
    for i in 0..3 {
        let malformed = counter(&net, i, "huxin_consensus_messages_malformed_total").await;
        assert!(malformed > 0.0, "node {i} met none of the liar's malformed messages");
    }
    honest_agree(&net, 12).await;
    honest_bounded(&mut net);
}

/// The liar floods the others with forged transactions (a real member's key and next nonce, a
/// signature that does not verify): each batch is refused and counted, the liar's gossip peer is
/// banned, nothing forged is ever finalised, and the honest validators go on agreeing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_forged_transactions_is_refused() {
    let (mut net, _) = start_with_liar("flood_bad_signatures = true");
    for i in 0..3 {
        net.wait_height(i, 12, Duration::from_secs(120)).await;
    }
    assert!(net.log(LIAR).contains("flooding the network"), "the liar never flooded:\n{}", net.log(LIAR));
    for i in 0..3 {
        let rejected = counter(&net, i, "huxin_gossip_rejected_total").await;
        assert!(rejected > 0.0, "node {i} refused none of the forged batches");
        let pending = net.client(i).status().await.unwrap().mempool_txs;
        assert_eq!(pending, 0, "node {i} holds forged transactions in its mempool");
    }
    honest_agree(&net, 12).await;
    for h in 1..=12 {
        let block = net.client(0).block(h).await.unwrap();
        assert_eq!(block.header.tx_count, 0, "height {h} finalised a transaction; only forgeries were sent");
    }
    honest_bounded(&mut net);
}
