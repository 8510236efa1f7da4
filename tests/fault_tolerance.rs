//! Byzantine fault tolerance with crash faults, f = 1 of 4: one node stopped, the rest finalise;
//! two stopped, nothing is finalised and nothing forks; one restarted, progress resumes.

mod support;

use std::time::Duration;

use support::{anchor_tx, far_expiry, Net};

async fn heights(net: &Net, nodes: &[usize]) -> Vec<u64> {
    let mut out = Vec::new();
    for &i in nodes {
        out.push(net.height(i).await.unwrap_or_else(|| panic!("node {i} is not answering")));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_down_progress_two_down_halt_then_resume() {
    let mut net = Net::start_all(4).await;
    let key = net.member_key("hangzhou");

    // One of four stopped: the others keep finalising, transactions included.
    net.stop(3);
    let before = net.height(0).await.unwrap();
    let tx = anchor_tx(&net.chain_id, &key, 1, far_expiry(), 1);
    net.client(1).submit(&tx).await.unwrap();
    let status = net.client(0).wait_finalised(&tx.hash(), Duration::from_secs(30)).await.unwrap();
    assert_eq!(status.status, "finalised");
    net.wait_height(0, before + 3, Duration::from_secs(30)).await;

    // Two of four stopped: no quorum. At most the height in flight completes; then nothing.
    net.stop(2);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let halted = heights(&net, &[0, 1]).await;
    let tx2 = anchor_tx(&net.chain_id, &key, 2, far_expiry(), 2);
    net.client(0).submit(&tx2).await.unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let still = heights(&net, &[0, 1]).await;
    assert_eq!(halted, still, "no block may be finalised without a quorum");
    assert_eq!(net.client(0).tx(&tx2.hash()).await.unwrap().status, "pending");
    // No fork: the two live nodes agree on every block they have.
    let common = still[0].min(still[1]);
    for h in 1..=common {
        assert_eq!(net.block_id(0, h).await, net.block_id(1, h).await, "fork at height {h}");
    }

    // One restarted: three of four again, progress resumes and the pending transaction lands.
    net.start(2);
    let status = net.client(0).wait_finalised(&tx2.hash(), Duration::from_secs(60)).await.unwrap();
    assert_eq!(status.status, "finalised");
    net.wait_height(0, still[0] + 3, Duration::from_secs(60)).await;

    // The last node rejoins and syncs the blocks it missed.
    net.start(3);
    let top = net.height(0).await.unwrap();
    net.wait_height(3, top, Duration::from_secs(60)).await;
    for h in 1..=top {
        assert_eq!(net.block_id(3, h).await, net.block_id(0, h).await, "node 3 differs at height {h}");
    }
}
