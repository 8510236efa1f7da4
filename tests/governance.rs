//! Governance on a running network: the trading centres vote two validators out, and the two
//! that remain then finalise blocks on their own — with the original four-validator set, two
//! of four could not. The voted-out nodes are shut out of gossip and of the consensus network;
//! one voted back in is let in again without restarting the others, and the three finalise
//! together (with three validators every one of them must vote).

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use huxin_types::genesis::Genesis;
use huxin_types::governance::{ProposalAction, Propose, Vote};
use huxin_types::{Action, MemberId, PublicKey};
use serde_json::json;

use support::{anchor_action, Net};

/// Propose removing `validator` from Hangzhou (its yes vote), then Ningbo and `third` vote yes;
/// each transaction waits for the nodes `staying` to have its block (the node voted out is shut
/// out once the change takes effect, and stops following: waiting for it was a flake under load).
async fn remove_validator(net: &Net, validator: PublicKey, third: &str, staying: &[usize]) {
    let propose = Action::Propose(Propose {
        action: ProposalAction::RemoveValidator { public_key: validator },
        reason: "城市节点退出".into(),
    });
    let (id, outcome) = net.send_synced(0, "hangzhou", propose, staying).await;
    assert_eq!(outcome, json!("applied"));
    for (node, voter) in [(1, "ningbo"), (2, third)] {
        let vote = Action::Vote(Vote { proposal: id, approve: true });
        let (_, outcome) = net.send_synced(node, voter, vote, staying).await;
        assert_eq!(outcome, json!("applied"), "{voter}'s vote");
    }
    let p = net.client(staying[0]).get_json(&format!("/v1/proposals/{id}")).await.unwrap();
    assert!(p["status"]["executed"].is_object(), "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voted_out_validators_are_no_longer_needed_for_progress() {
    let mut net = Net::start_all(4).await;
    let genesis: Genesis =
        serde_json::from_slice(&std::fs::read(net.dir.path().join("genesis.json")).unwrap()).unwrap();
    let keys: Vec<PublicKey> = genesis.validators.iter().map(|v| v.public_key).collect();

    remove_validator(&net, keys[3], "wenzhou", &[0, 1, 2]).await;
    remove_validator(&net, keys[2], "jiaxing", &[0, 1]).await;
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
        action: support::set_validator(MemberId::from_key(&member.keys[0]), jiaxing, 1),
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

/// Key rotation by governance (`rotate_key`): once it passes, the old key is refused at
/// admission, a transaction it had pending (waiting behind a nonce gap) is dropped with the
/// reason on every node, and the new key signs for the member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_member_key_is_refused_and_its_pending_transactions_dropped() {
    use support::{anchor_tx, far_expiry};

    let net = Net::start_all(4).await;
    let genesis: Genesis =
        serde_json::from_slice(&std::fs::read(net.dir.path().join("genesis.json")).unwrap()).unwrap();
    let hangzhou = MemberId::from_key(&genesis.members[0].keys[0]);
    let old = net.bench_keys().remove(0);
    let new = net.key_from(0x42);

    // Pending behind a gap: nonce 2 of a key whose last nonce is 0 waits for nonce 1.
    let waiting = anchor_tx(&net.chain_id, &old, 2, far_expiry(), 900);
    let waiting_hash = net.client(1).submit(&waiting).await.unwrap();

    let rotate = Action::Propose(Propose {
        action: ProposalAction::RotateKey { member: hangzhou, old: old.public_key(), new: new.public_key() },
        reason: "密钥轮换".into(),
    });
    let (id, outcome) = net.send(0, "hangzhou", rotate).await;
    assert_eq!(outcome, json!("applied"));
    for (node, voter) in [(1, "ningbo"), (2, "wenzhou")] {
        let (_, outcome) = net.send(node, voter, Action::Vote(Vote { proposal: id, approve: true })).await;
        assert_eq!(outcome, json!("applied"), "{voter}'s vote");
    }
    let p = net.client(0).get_json(&format!("/v1/proposals/{id}")).await.unwrap();
    assert!(p["status"]["executed"].is_object(), "{p}");

    // The old key's pending transaction is dropped, with the reason, on the node it was sent to.
    let dropped = net.client(1).tx(&waiting_hash).await.unwrap();
    assert_eq!(dropped.status, "dropped", "{dropped:?}");
    let reason = dropped.reason.as_ref().map(|r| r.to_string()).unwrap_or_default();
    assert!(reason.contains("signer_inactive") && reason.contains("rotated out"), "{dropped:?}");

    // The old key is refused; the new one signs for Hangzhou.
    let refused = net.client(2).submit(&anchor_tx(&net.chain_id, &old, 1, far_expiry(), 901)).await;
    assert!(refused.is_err(), "the rotated-out key was admitted");
    let hash = net.client(2).prepare_sign_submit(&new, &anchor_action(902)).await.unwrap();
    let status = net.client(2).wait_finalised(&hash, Duration::from_secs(60)).await.unwrap();
    assert_eq!(status.outcome, Some(huxin_types::Outcome::Applied), "{status:?}");
}
