//! The consensus network admits only validators and the followers they list. A stranger with its
//! own libp2p key dials a validator's consensus port: the connection is closed at once
//! (persistent peers only, and no validator proof it could show), and the validators go on
//! counting only each other. A listed follower syncs the chain and relays transactions.

mod support;

use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, identity, noise, tcp, yamux, Multiaddr, SwarmBuilder};

use support::Net;

/// What a stranger's swarm speaks, as a would-be validator's would: the engine's identify protocol,
/// so that the node learns who it is and applies its admission policy, and its broadcast protocol
/// (libp2p-scatter). A peer without the broadcast protocol is dropped by the node's broadcast
/// behaviour as soon as the node's first message to it fails, which races identification: CI once
/// saw 20 connections in a row closed that way, before the policy was ever applied.
#[derive(NetworkBehaviour)]
struct Stranger {
    identify: identify::Behaviour,
    broadcast: libp2p_scatter::Behaviour,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_refused_on_the_consensus_port() {
    let mut net = Net::create(4);
    // The engine's network, its discovery and the broadcast behaviour log at debug why they close
    // a connection, so that a failure below shows which path closed the stranger's.
    net.log_filter.push_str(",arc_malachitebft_network=debug,arc_malachitebft_discovery=debug,libp2p_scatter=debug");
    let net = Net::started(net).await;
    assert_eq!(net.wait_status(0, |s| s.consensus_peers, 3).await, Some(3), "node 0 sees the other validators");

    let consensus_protocol = huxin_consensus::protocol_names(huxin_types::PROTOCOL_VERSION).consensus;
    let key = identity::Keypair::ed25519_from_bytes([0x5a; 32]).expect("a 32-byte key");
    let stranger_id = key.public().to_peer_id();
    let mut stranger = SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .expect("tcp transport")
        .with_behaviour(|key| Stranger {
            identify: identify::Behaviour::new(identify::Config::new_with_signed_peer_record(consensus_protocol, key)),
            broadcast: libp2p_scatter::Behaviour::new(libp2p_scatter::Config::default()),
        })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    let address: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", net.consensus_port(0)).parse().unwrap();

    // Node 0 says why it refused: its admission policy, for this peer id.
    let refused = |net: &Net| {
        net.log(0).lines().any(|l| l.contains("non-persistent peer") && l.contains(&stranger_id.to_string()))
    };
    // Dial until node 0 has identified the stranger and refused it by policy (the first dial,
    // nearly always; a connection that ends before identification proves less). Every connection
    // must end quickly, and none is ever counted as a consensus peer.
    // How each of the stranger's connections ended, for the failure message.
    let mut endings = Vec::new();
    for attempt in 0..10 {
        stranger.dial(address.clone()).expect("dial");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let ended = loop {
            match tokio::time::timeout_at(deadline, stranger.select_next_some()).await {
                Err(_) => break false,
                Ok(SwarmEvent::ConnectionClosed { cause, .. }) => {
                    endings.push(format!("closed ({cause:?})"));
                    break true;
                }
                Ok(SwarmEvent::OutgoingConnectionError { error, .. }) => {
                    endings.push(format!("dial failed ({error})"));
                    break true;
                }
                Ok(_) => {}
            }
        };
        assert!(ended, "attempt {attempt}: the stranger's connection to the consensus port stayed open for 10 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
        if refused(&net) {
            break;
        }
    }
    // The validators still count each other, and only each other.
    assert_eq!(net.client(0).status().await.unwrap().consensus_peers, 3);
    let seen: Vec<String> =
        net.log(0).lines().filter(|l| l.contains(&stranger_id.to_string())).map(str::to_owned).collect();
    assert!(
        refused(&net),
        "node 0 does not log refusing the stranger {stranger_id} by policy:\n{}\nthe stranger's side: {endings:?}",
        seen.join("\n")
    );
}

/// Regression (issue 9): a node that is not a validator could neither sync nor relay a
/// transaction (both networks let in validators only). A follower the validators list
/// (`huxin devnet add-node`) syncs the chain, and a transaction sent to its API reaches the
/// validators through gossip and is finalised; the follower holds the same blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_syncs_and_relays_transactions() {
    let mut net = Net::create(4);
    let follower = net.add_follower();
    for i in 0..net.size {
        net.start(i);
    }
    net.wait_height(0, 2, Duration::from_secs(60)).await;
    net.wait_height(follower, 2, Duration::from_secs(60)).await;

    let client = net.client(follower);
    let hash = client.prepare_sign_submit(&net.member_key("hangzhou"), &support::anchor_action(42)).await.unwrap();
    let status = net.client(0).wait_finalised(&hash, Duration::from_secs(60)).await.unwrap();
    assert_eq!(status.outcome, Some(huxin_types::Outcome::Applied), "{status:?}");
    let height = status.height.expect("finalised at a height");
    net.wait_height(follower, height, Duration::from_secs(30)).await;
    assert_eq!(net.block_id(follower, height).await, net.block_id(0, height).await);
    // It is on the consensus network (three validators and the follower), not a stranger.
    assert_eq!(net.wait_status(0, |s| s.consensus_peers, 4).await, Some(4), "node 0 counts the follower too");
}
