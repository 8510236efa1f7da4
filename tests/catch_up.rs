//! A wiped validator catches up across a validator-set change. The network finalises blocks with
//! transactions, the centres change the validator set (Hangzhou's validator to power 2), and
//! node 3, its data deleted, starts from genesis: it replays every decided block with its
//! certificate (value sync, ranges of heights), through the change, and then finalises with the
//! others — same blocks, no actor death.

mod support;

use std::time::{Duration, Instant};

use huxin_types::genesis::Genesis;
use huxin_types::governance::{Propose, Vote};
use huxin_types::{Action, MemberId};
use serde_json::json;

use support::{anchor_tx, far_expiry, Net};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_validator_syncs_across_a_validator_set_change() {
    let mut net = Net::start_all(4).await;
    // Blocks with transactions.
    for (k, key) in net.bench_keys().iter().enumerate() {
        for nonce in 1..=5u64 {
            let tx = anchor_tx(&net.chain_id, key, nonce, far_expiry(), (k as u64) << 8 | nonce);
            net.client(k % 3).submit(&tx).await.unwrap();
        }
    }
    // A validator-set change: Hangzhou's validator gets power 2.
    let genesis: Genesis =
        serde_json::from_slice(&std::fs::read(net.dir.path().join("genesis.json")).unwrap()).unwrap();
    let hangzhou = &genesis.validators[0];
    let member = genesis.members.iter().find(|m| m.name == hangzhou.member).unwrap();
    let change = Action::Propose(Propose {
        action: support::set_validator(MemberId::from_key(&member.keys[0]), hangzhou, 2),
        reason: "权重调整".into(),
    });
    let (id, outcome) = net.send(0, "hangzhou", change).await;
    assert_eq!(outcome, json!("applied"));
    for (node, voter) in [(1, "ningbo"), (2, "wenzhou")] {
        let (_, outcome) = net.send(node, voter, Action::Vote(Vote { proposal: id, approve: true })).await;
        assert_eq!(outcome, json!("applied"), "{voter}'s vote");
    }
    let v = net.client(0).get_json("/v1/validators").await.unwrap();
    let activation = v["next"]["activation"].as_u64().expect("a scheduled set");
    net.wait_height(0, activation + 20, Duration::from_secs(60)).await;

    // Wipe node 3 and start it from genesis.
    net.kill9(3);
    for dir in ["db", "wal"] {
        let _ = std::fs::remove_dir_all(net.home(3).join(dir));
    }
    let top = net.height(0).await.unwrap();
    let started = Instant::now();
    net.start(3);
    net.wait_height(3, top, Duration::from_secs(120)).await;
    let took = started.elapsed();
    println!(
        "node 3 replayed {top} blocks in {} ms ({:.0} blocks/s)",
        took.as_millis(),
        top as f64 / took.as_secs_f64()
    );

    // Where its catch-up time went, per synced block, in /metrics: waiting for the engine to
    // hand over the next block, and taking it in.
    for phase in ["sync_wait", "sync_take_in"] {
        let count = net.phase_count(3, phase).await;
        assert!(count * 2 >= top, "node 3 timed {count} of {top} synced blocks in phase {phase}");
    }

    // It agrees on every block, across the change, and finalises with the others.
    let end = net.height(0).await.unwrap() + 3;
    for i in 0..4 {
        net.wait_height(i, end, Duration::from_secs(60)).await;
    }
    for h in 1..=end {
        assert_eq!(net.block_id(3, h).await, net.block_id(0, h).await, "node 3 differs at height {h}");
    }
    // Its state holds the changed set (read at the same height on both).
    let sets = |v: serde_json::Value| (v["current"].clone(), v["next"]["validators"].clone());
    let on3 = net.client(3).get_json("/v1/validators").await.unwrap();
    let on0 = net.client(0).get_json("/v1/validators").await.unwrap();
    let power: u64 = on3["next"]["validators"].as_array().unwrap().iter().map(|v| v["power"].as_u64().unwrap()).sum();
    assert_eq!(power, 5, "node 3 sees the changed set: {on3}");
    assert_eq!(sets(on3), sets(on0));
    for i in 0..4 {
        let log = net.log(i);
        assert!(!log.contains("panicked") && !log.contains("consensus is dead"), "node {i} lost an actor");
    }
}
