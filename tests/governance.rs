//! Governance on a running network: the trading centres vote two validators out, and the two
//! that remain then finalise blocks on their own — with the original four-validator set, two
//! of four could not. The voted-out nodes are shut out of gossip and of the consensus network;
//! one voted back in is let in again without restarting the others, and the three finalise
//! together (with three validators every one of them must vote).

mod support;

use std::time::Duration;

use huxin_types::genesis::Genesis;
use huxin_types::governance::{ProposalAction, Propose, Vote};
use huxin_types::{Action, MemberId, PublicKey};
use serde_json::json;

use support::{anchor_action, Net};

/// Propose removing `validator` from Hangzhou (its yes vote), then Ningbo and `third` vote yes.
async fn remove_validator(net: &Net, validator: PublicKey, third: &str) {
    let propose = Action::Propose(Propose {
        action: ProposalAction::RemoveValidator { public_key: validator },
        reason: "城市节点退出".into(),
    });
    let (id, outcome) = net.send(0, "hangzhou", propose).await;
    assert_eq!(outcome, json!("applied"));
    for (node, voter) in [(1, "ningbo"), (2, third)] {
        let (_, outcome) = net.send(node, voter, Action::Vote(Vote { proposal: id, approve: true })).await;
        assert_eq!(outcome, json!("applied"), "{voter}'s vote");
    }
    let p = net.client(3).get_json(&format!("/v1/proposals/{id}")).await.unwrap();
    assert!(p["status"]["executed"].is_object(), "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voted_out_validators_are_no_longer_needed_for_progress() {
    let mut net = Net::start_all(4).await;
    let genesis: Genesis =
        serde_json::from_slice(&std::fs::read(net.dir.path().join("genesis.json")).unwrap()).unwrap();
    let keys: Vec<PublicKey> = genesis.validators.iter().map(|v| v.public_key).collect();

    remove_validator(&net, keys[3], "wenzhou").await;
    remove_validator(&net, keys[2], "jiaxing").await;
    let v = net.client(0).get_json("/v1/validators").await.unwrap();
    let next = v["next"]["validators"].as_array().unwrap();
    assert_eq!(next.len(), 2, "{v}");
    let activation = v["next"]["activation"].as_u64().unwrap();
    net.wait_height(0, activation + 1, Duration::from_secs(60)).await;

    // The voted-out nodes are shut out of transaction gossip (the allow-list follows the ledger).
    let peers = net.wait_status(0, |s| s.peers, 1).await;
    assert_eq!(peers, Some(1), "node 0 should keep only Ningbo as a gossip peer");
    // … and out of the consensus network.
    let consensus_peers = net.wait_status(0, |s| s.consensus_peers, 1).await;
    assert_eq!(consensus_peers, Some(1), "node 0 should keep only Ningbo as a consensus peer");

    // Only Hangzhou's and Ningbo's validators remain: with the other two stopped, blocks go on.
    net.stop(2);
    net.stop(3);
    let before = net.height(0).await.unwrap();
    let (_, outcome) = net.send(0, "hangzhou", anchor_action(7)).await;
    assert_eq!(outcome, json!("applied"));
    net.wait_height(1, before + 3, Duration::from_secs(60)).await;
    let (a, b) = (net.block_id(0, before + 3).await, net.block_id(1, before + 3).await);
    assert_eq!(a, b, "the two remaining validators agree");

    // Jiaxing's validator is voted back in while its node is down; started again, it syncs and
    // is let into the consensus network within seconds of the change taking effect.
    let jiaxing = &genesis.validators[3];
    let member = genesis.members.iter().find(|m| m.name == jiaxing.member).expect("jiaxing's member");
    let set = Action::Propose(Propose {
        action: ProposalAction::SetValidator {
            member: MemberId::from_key(&member.keys[0]),
            public_key: jiaxing.public_key,
            power: 1,
        },
        reason: "城市节点恢复".into(),
    });
    let (id, outcome) = net.send(0, "hangzhou", set).await;
    assert_eq!(outcome, json!("applied"));
    for (node, voter) in [(1, "ningbo"), (0, "wenzhou")] {
        let (_, outcome) = net.send(node, voter, Action::Vote(Vote { proposal: id, approve: true })).await;
        assert_eq!(outcome, json!("applied"), "{voter}'s vote");
    }
    let v = net.client(0).get_json("/v1/validators").await.unwrap();
    let activation = v["next"]["activation"].as_u64().expect("a scheduled set");
    net.start(3);
    let target = activation + 3;
    net.wait_height(0, target, Duration::from_secs(60)).await;
    net.wait_height(3, target, Duration::from_secs(60)).await;
    assert_eq!(net.block_id(0, target).await, net.block_id(3, target).await, "Jiaxing agrees again");
    // The peer count is refreshed every two seconds.
    let consensus_peers = net.wait_status(0, |s| s.consensus_peers, 2).await;
    assert_eq!(consensus_peers, Some(2), "node 0 is connected to Ningbo and Jiaxing");
}
