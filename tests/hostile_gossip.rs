//! A validator that lies on the transaction-gossip network. With node 3's own key (its process
//! stopped), a hostile swarm sends node 0 batches no honest node sends: a USCC with a multi-byte
//! character (which used to panic the gossip task and stop the node), transactions with bad
//! signatures, and garbage. Node 0 stays up and finalising, forwards none of it (node 1 never
//! sees it), counts every refusal, and bans the peer after repeated offences.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic};
use libp2p::swarm::SwarmEvent;
use libp2p::{identity, noise, tcp, yamux, Multiaddr, SwarmBuilder};

use huxin_types::codec;
use support::{anchor_tx, far_expiry, Net};

/// `huxin_gossip_rejected_total` on node `i`.
async fn rejected(net: &Net, i: usize) -> u64 {
    let text = net.client(i).metrics().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("huxin_gossip_rejected_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_validator_cannot_stop_or_poison_gossip() {
    let mut net = Net::create(4);
    for i in 0..3 {
        net.start(i);
    }
    for i in 0..3 {
        net.wait_height(i, 1, Duration::from_secs(60)).await;
    }

    // Node 3's identity, driven by the test.
    let hex_key = std::fs::read_to_string(net.home(3).join("node_key")).unwrap();
    let mut secret = hex::decode(hex_key.trim()).unwrap();
    let keypair = identity::Keypair::ed25519_from_bytes(&mut secret).unwrap();
    let topic = IdentTopic::new(format!("huxin/txs/{}", net.chain_id));
    let mut swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|_| huxin_consensus::gossip::gossipsub_behaviour().unwrap())
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(600)))
        .build();
    swarm.behaviour_mut().subscribe(&topic).unwrap();
    let node0: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", net.gossip_port(0)).parse().unwrap();
    swarm.dial(node0).unwrap();

    // The poison: a valid anchor whose party's USCC gets a multi-byte character.
    let key = net.bench_keys()[0].clone();
    let party = huxin_types::Uscc::with_check("91330100MA0000001").unwrap();
    let poisoned = |seed: u64| {
        let mut tx = anchor_tx(&net.chain_id, &key, 1, far_expiry(), seed);
        if let huxin_types::Action::AnchorDocument(a) = &mut tx.body.action {
            a.parties = vec![party.clone()];
        }
        // bincode's standard config: a string is its length (one byte here), then its bytes.
        let mut needle = vec![18u8];
        needle.extend_from_slice(party.as_str().as_bytes());
        let mut bad = vec![19u8];
        bad.extend_from_slice("0000000000000000é0".as_bytes());
        replace(&codec::encode(&vec![tx]), &needle, &bad)
    };
    let mut forged = anchor_tx(&net.chain_id, &key, 1, far_expiry(), 999);
    forged.signature.0[0] ^= 1;

    let mut messages: Vec<Vec<u8>> = (0..10).map(poisoned).collect();
    messages.push(codec::encode(&vec![forged]));
    messages.extend((0..10u8).map(|i| vec![0xff, i, 0x00, 0x13]));

    // Publish each once a peer is subscribed; drive the swarm meanwhile. Node 0 bans the peer
    // after 16 invalid messages, so the rest may find nobody to take them.
    let ban_after = huxin_consensus::gossip::GOSSIP_INVALID_MESSAGES_MAX as usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    let mut disconnected = false;
    while sent < messages.len() && !(disconnected && sent >= ban_after) && tokio::time::Instant::now() < deadline {
        match swarm.behaviour_mut().publish(topic.clone(), messages[sent].clone()) {
            Ok(_) => sent += 1,
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic | gossipsub::PublishError::AllQueuesFull(_)) => {}
            Err(e) => panic!("publish: {e}"),
        }
        while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(50), swarm.next()).await {
            if let SwarmEvent::ConnectionClosed { num_established: 0, .. } = event {
                disconnected = true;
            }
        }
    }
    assert!(sent >= ban_after, "the hostile swarm published only {sent} messages");

    // Node 0 refuses every message, stays up and keeps finalising; node 1 never sees them.
    let mut seen = 0;
    for _ in 0..100 {
        let _ = tokio::time::timeout(Duration::from_millis(100), swarm.select_next_some()).await;
        seen = rejected(&net, 0).await;
        if seen >= ban_after as u64 {
            break;
        }
    }
    assert!(seen >= ban_after as u64, "node 0 rejected only {seen} of the {sent} invalid messages");
    assert!(net.is_running(0), "node 0 stopped");
    let before = net.height(0).await.unwrap();
    net.wait_height(0, before + 2, Duration::from_secs(30)).await;
    assert_eq!(rejected(&net, 1).await, 0, "node 0 forwarded an invalid message to node 1");
    assert!(net.log(0).contains("banned"), "node 0 bans the peer after repeated invalid messages");
    for i in 0..3 {
        assert!(!net.log(i).contains("panicked"), "node {i} panicked");
    }
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let at = haystack.windows(needle.len()).position(|w| w == needle).expect("the USCC is in the encoding");
    let mut out = haystack[..at].to_vec();
    out.extend_from_slice(with);
    out.extend_from_slice(&haystack[at + needle.len()..]);
    out
}
