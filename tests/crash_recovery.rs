//! `kill -9` one of four nodes under load, restart it: it catches up, and every transaction any
//! node's API reported finalised is finalised on every node, at the same height.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use huxin_types::TxHash;
use support::{anchor_tx, far_expiry, Net};

/// How long three of four nodes may take to finalise again after the fourth is killed: a few
/// rounds of the devnet's timeouts (2 s to propose, 0.5 s to prevote and to precommit, each
/// 0.25 s longer every round), with room for a loaded machine.
const RECOVERY_SECS_MAX: u64 = 30;

/// One load worker: sends a transaction for `key` to a rotating live node, waits for it, repeats.
async fn worker(
    net_apis: Vec<String>,
    alive: Arc<Vec<AtomicBool>>,
    key: huxin_types::SecretKey,
    chain: huxin_types::ChainId,
    k: usize,
    stop: Arc<AtomicBool>,
    finalised: Arc<Mutex<Vec<(TxHash, u64)>>>,
) {
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let node = (k + seq as usize) % net_apis.len();
        if !alive[node].load(Ordering::Relaxed) {
            continue;
        }
        let client = huxin_client::Client::new(&net_apis[node]);
        let Ok(signer) = client.signer(&key.public_key()).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let tx = anchor_tx(&chain, &key, signer.next_nonce, far_expiry(), (k as u64) << 32 | seq);
        if client.submit(&tx).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if let Ok(status) = client.wait_finalised(&tx.hash(), Duration::from_secs(15)).await {
            if status.status == "finalised" {
                finalised.lock().unwrap().push((tx.hash(), status.height.unwrap()));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_node_catches_up_and_loses_nothing() {
    let mut net = Net::start_all(4).await;
    let apis: Vec<String> = (0..4).map(|i| net.api(i)).collect();
    let alive: Arc<Vec<AtomicBool>> = Arc::new((0..4).map(|_| AtomicBool::new(true)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let finalised = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for (k, key) in net.bench_keys().into_iter().enumerate() {
        workers.push(tokio::spawn(worker(
            apis.clone(),
            alive.clone(),
            key,
            net.chain_id.clone(),
            k,
            stop.clone(),
            finalised.clone(),
        )));
    }

    tokio::time::sleep(Duration::from_secs(4)).await;
    alive[3].store(false, Ordering::Relaxed);
    net.kill9(3);
    let at_kill = net.height(0).await.unwrap();
    println!("killed node 3 at height {at_kill}");
    // Three of four keep finalising. If node 3 was proposing when it died, with some validators
    // locked on its block and one without it, the next rounds' proposers propose that block again
    // (a few rounds of timeouts: seconds, not the next block's milliseconds).
    let killed = std::time::Instant::now();
    net.wait_height(0, at_kill + 1, Duration::from_secs(RECOVERY_SECS_MAX)).await;
    println!("three nodes finalised height {} {:?} after the kill", at_kill + 1, killed.elapsed());
    tokio::time::sleep(Duration::from_secs(2)).await;

    net.start(3);
    alive[3].store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }

    let finalised = finalised.lock().unwrap().clone();
    assert!(finalised.len() >= 10, "load produced only {} finalised transactions", finalised.len());
    let top = finalised.iter().map(|(_, h)| *h).max().unwrap();
    for i in 0..4 {
        net.wait_height(i, top, Duration::from_secs(60)).await;
    }
    for (hash, height) in &finalised {
        for i in 0..4 {
            let status = net.client(i).tx(hash).await.unwrap_or_else(|e| panic!("node {i} lost {hash}: {e}"));
            assert_eq!(status.status, "finalised", "node {i}: {hash}");
            assert_eq!(status.height, Some(*height), "node {i}: {hash} at a different height");
        }
    }
    for h in 1..=top {
        let reference = net.block_id(0, h).await;
        assert_eq!(net.block_id(3, h).await, reference, "restarted node differs at height {h}");
    }
    // The restarted node's secondary indexes (written in the block's batch) answer list queries
    // like node 0's, including for blocks it fetched while catching up.
    for key in net.bench_keys() {
        let path = format!("/v1/signers/{}/txs?limit=1000", key.public_key());
        let reference = net.client(0).get_json(&path).await.unwrap();
        assert!(!reference["items"].as_array().unwrap().is_empty(), "{path}");
        let restarted = net.client(3).get_json(&path).await.unwrap();
        assert_eq!(restarted["items"], reference["items"], "{path}");
    }
    println!("{} transactions finalised; node 3 caught up to {top}", finalised.len());
}
