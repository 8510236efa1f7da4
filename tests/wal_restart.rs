//! A validator killed with -9 at many points of a height, restarted each time. The kill moments
//! come from a seeded schedule (printed; replay with `SEED=…`): offsets across a height, so the
//! kills land before and after votes, after decisions, and before and after persistence. After
//! each restart the node must rejoin (reach the others' height) within the propose timeout plus
//! catch-up; it never hangs on its own WAL. At the end all four agree on every block.

mod support;

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use support::Net;

/// How long a restarted node may take to reach the height the others had when it came back.
const REJOIN_WITHIN: Duration = Duration::from_secs(20);
const KILLS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_killed_anywhere_in_a_height_rejoins() {
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x0057_414c);
    println!("SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut net = Net::start_all(4).await;
    let mut slowest = Duration::ZERO;
    for kill in 0..KILLS {
        // Wait for a fresh height on node 3, then kill it somewhere inside the next one.
        let at = net.height(3).await.unwrap_or(0);
        net.wait_height(3, at + 1, Duration::from_secs(30)).await;
        let offset = Duration::from_millis(rng.gen_range(0..700));
        tokio::time::sleep(offset).await;
        let height = net.height(0).await.unwrap_or(0);
        net.kill9(3);
        println!("kill {kill}: node 3 killed {} ms into a height (network at {height})", offset.as_millis());
        net.start(3);
        let started = Instant::now();
        let target = net.height(0).await.unwrap_or(height);
        net.wait_height(3, target, REJOIN_WITHIN).await;
        slowest = slowest.max(started.elapsed());
        assert!(net.is_running(3), "node 3 exited after restart {kill}");
    }
    println!("slowest rejoin {} ms", slowest.as_millis());
    // It takes part again: the network, needing 3 of 4, finalises with node 3 on board.
    let top = net.height(0).await.unwrap() + 3;
    for i in 0..4 {
        net.wait_height(i, top, Duration::from_secs(60)).await;
    }
    for h in 1..=top {
        let reference = net.block_id(0, h).await;
        for i in 1..4 {
            assert_eq!(net.block_id(i, h).await, reference, "node {i} differs at height {h}");
        }
    }
    for i in 0..4 {
        assert!(!net.log(i).contains("panicked"), "node {i} panicked");
    }
}
