//! Operating a real federation (issue 13): the key ceremony (`huxin keygen --dir`, `huxin
//! genesis assemble`), node homes for given addresses (`huxin init`), each refusal of bad input,
//! and nodes of different protocol versions refusing each other. Each runs on the suite
//! `HUXIN_TEST_SUITE` names, as `Net::create` does: on `sm2-sm3`, a centre also makes an SM2
//! consensus key beside its ed25519 node key, and governance names both.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use huxin_types::governance::{NewMember, ProposalAction, Propose, Vote};
use huxin_types::{Action, ChainId, MemberId, PublicKey, SecretKey};
use serde_json::json;
use support::{Net, EXE};

/// The suite the tests run on (`HUXIN_TEST_SUITE`, as `Net::create` reads it).
fn suite() -> String {
    std::env::var("HUXIN_TEST_SUITE").unwrap_or_else(|_| "ed25519-sha256".into())
}

/// `init`'s `--consensus-key` for a centre whose keys are in `member` (a chain of a suite that
/// is not ed25519): nothing on an ed25519 chain.
fn consensus_key_args(member: &Path) -> Vec<String> {
    let key = member.join("consensus.key");
    if key.exists() {
        vec!["--consensus-key".into(), path(&key).into()]
    } else {
        vec![]
    }
}

/// The proposal that makes `voting` a validator of `member` with the libp2p identity `node`:
/// `set_validator` where they are one key (ed25519), else `set_validator_with_node_key`.
fn set_validator(member: MemberId, voting: PublicKey, node: PublicKey) -> ProposalAction {
    if voting == node {
        ProposalAction::SetValidator { member, public_key: voting, power: 1 }
    } else {
        ProposalAction::SetValidatorWithNodeKey { member, public_key: voting, node_key: node, power: 1 }
    }
}

fn huxin(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().expect("run huxin")
}

fn ok(args: &[&str]) -> String {
    let out = huxin(args);
    assert!(out.status.success(), "huxin {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `args`, which must fail; its stderr.
fn refused(args: &[&str]) -> String {
    let out = huxin(args);
    assert!(!out.status.success(), "huxin {args:?} should have been refused");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `huxin genesis assemble` of `manifests` into `out`, on chain `huxin-zj`.
fn assemble<'a>(manifests: &[&'a Path], out: &'a Path) -> Vec<&'a str> {
    let mut args = vec!["genesis", "assemble", "--chain-id", "huxin-zj", "--out", path(out)];
    for m in manifests {
        args.extend(["--manifest", path(m)]);
    }
    args
}

const CENTRES: [(&str, &str); 4] = [
    ("杭州市公共资源交易中心", "330100"),
    ("宁波市公共资源交易中心", "330200"),
    ("温州市公共资源交易中心", "330300"),
    ("嘉兴市公共资源交易中心", "330400"),
];

fn uscc(prefix: &str, region: &str, serial: u32) -> String {
    huxin_types::Uscc::with_check(&format!("{prefix}{region}MB{serial:07}")).unwrap().to_string()
}

fn public_key_of(key_file: &Path) -> String {
    SecretKey::from_hex(std::fs::read_to_string(key_file).unwrap().trim()).unwrap().public_key().to_string()
}

/// Four centres, a bank and a supervisor make their own keys; one centre assembles the genesis
/// from the six manifests; each centre writes its home for its own addresses; the four nodes
/// finalise a transaction signed with a key that never left its centre's directory.
#[tokio::test(flavor = "multi_thread")]
async fn a_federation_assembled_from_members_manifests_finalises() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let mut manifests = Vec::new();
    for (i, (name, region)) in CENTRES.iter().enumerate() {
        let member = root.join(format!("member{i}"));
        let printed = ok(&[
            "keygen",
            "--dir",
            path(&member),
            "--name",
            name,
            "--role",
            "trading_centre",
            "--region",
            region,
            "--uscc",
            &uscc("12", region, i as u32 + 1),
            "--suite",
            &suite(),
        ]);
        let manifest: serde_json::Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(manifest["node_key"].as_str().unwrap(), public_key_of(&member.join("node.key")));
        assert!(!printed.contains(std::fs::read_to_string(member.join("node.key")).unwrap().trim()));
        manifests.push(member.join("manifest.json"));
    }
    for (who, role, prefix, serial) in
        [("bank", "guarantee_provider", "91", 900_001), ("supervisor", "supervisor", "11", 900_002)]
    {
        let member = root.join(who);
        ok(&[
            "keygen",
            "--dir",
            path(&member),
            "--name",
            who,
            "--role",
            role,
            "--region",
            "330100",
            "--uscc",
            &uscc(prefix, "330100", serial),
            "--suite",
            &suite(),
        ]);
        assert!(!member.join("node.key").exists(), "only a trading centre gets a node key");
        manifests.push(member.join("manifest.json"));
    }

    // Bad manifests are refused with the reason, and no genesis is written.
    let genesis = root.join("genesis.json");
    let twice = refused(&assemble(&[manifests[0].as_path(), manifests[0].as_path()], &genesis));
    assert!(twice.contains("twice"), "{twice}");
    let wrong_role = root.join("wrong_role.json");
    let manifest = std::fs::read_to_string(&manifests[4]).unwrap();
    std::fs::write(&wrong_role, manifest.replace("guarantee_provider", "notary")).unwrap();
    let notary = refused(&assemble(&[manifests[0].as_path(), wrong_role.as_path()], &genesis));
    assert!(notary.contains("notary"), "{notary}");
    let no_validator = refused(&assemble(&[manifests[4].as_path()], &genesis));
    assert!(no_validator.contains("validator"), "{no_validator}");
    assert!(!genesis.exists(), "a refused assembly writes nothing");

    let all: Vec<&Path> = manifests.iter().map(|m| m.as_path()).collect();
    let args = assemble(&all, &genesis);
    let printed = ok(&args);
    let written = huxin_types::Genesis::from_json(&std::fs::read_to_string(&genesis).unwrap()).unwrap();
    assert!(printed.contains(&format!("genesis hash {}", written.hash())), "{printed}");
    assert_eq!(written.validators.len(), 4);
    assert!(refused(&args).contains("already exists"), "a second assembly must not overwrite the genesis");

    // Each centre writes its home, naming the others as peers.
    let base_port = support::free_base_port(4);
    let node_key = |i: usize| public_key_of(&root.join(format!("member{i}")).join("node.key"));
    for (i, (centre, _)) in CENTRES.iter().enumerate() {
        let member = root.join(format!("member{i}"));
        let home = root.join(format!("node{i}"));
        let port = (base_port + i as u16 * 10).to_string();
        let mut init: Vec<String> = [
            "init",
            "--home",
            path(&home),
            "--genesis",
            path(&genesis),
            "--node-key",
            path(&member.join("node.key")),
            "--audit-key",
            path(&member.join("audit.key")),
            "--listen",
            "127.0.0.1",
            "--port",
            &port,
            "--timeouts",
            "loopback",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        init.extend(consensus_key_args(&member));
        for j in (0..4).filter(|j| *j != i) {
            let peer_port = base_port + j as u16 * 10;
            init.push("--peer".into());
            init.push(format!("{}@127.0.0.1:{}:{}", node_key(j), peer_port + 1, peer_port + 2));
        }
        let init: Vec<&str> = init.iter().map(String::as_str).collect();
        if i == 0 {
            // A member's signing key is not a node key.
            let mut wrong = init.clone();
            let member_key = member.join("member.key");
            wrong[6] = path(&member_key);
            let refusal = refused(&wrong);
            assert!(refusal.contains("not a node key"), "{refusal}");
            assert!(!home.exists(), "a refused init writes nothing");
        }
        let printed = ok(&init);
        assert!(printed.contains(&format!("runs the validator of {centre}")), "{printed}");
        assert!(refused(&init).contains("not empty"), "init must not overwrite a home");
    }

    let mut net = Net::from_homes(dir, 4, base_port, ChainId::new("huxin-zj").unwrap());
    for i in 0..4 {
        net.start(i);
    }
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(60)).await;
    }
    let status = net.client(0).status().await.unwrap();
    assert_eq!(status.protocol_version, huxin_types::PROTOCOL_VERSION);
    assert_eq!(status.software_version, env!("CARGO_PKG_VERSION"));

    // A transaction signed with the key Hangzhou made for itself.
    let key =
        SecretKey::from_hex(std::fs::read_to_string(root_of(&net).join("member0/member.key")).unwrap().trim()).unwrap();
    let client = net.client(1);
    let hash = client.prepare_sign_submit(&key, &support::anchor_action(7)).await.unwrap();
    let finalised = client.wait_finalised(&hash, Duration::from_secs(60)).await.unwrap();
    let height = finalised.height.unwrap();
    net.sync_to(height).await;
    let first = net.block_id(0, height).await;
    for i in 1..4 {
        assert_eq!(net.block_id(i, height).await, first, "node {i} disagrees at height {height}");
    }
}

fn root_of(net: &Net) -> &Path {
    net.dir.path()
}

/// Upgrades: a node that speaks another ledger protocol version is refused by the others, with a
/// log line that says so, and takes no part in consensus; the others go on.
#[tokio::test(flavor = "multi_thread")]
async fn nodes_of_different_protocol_versions_refuse_each_other() {
    const NEWER: usize = 3;
    let mut net = Net::create(4);
    let config = net.home(NEWER).join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("\n[byzantine]\nprotocol_version = {}\n", huxin_types::PROTOCOL_VERSION + 1));
    std::fs::write(&config, text).unwrap();
    for i in 0..4 {
        net.start(i);
    }
    for i in 0..3 {
        net.wait_height(i, 3, Duration::from_secs(60)).await;
    }
    // Each side says why, on the gossip network (Huxin's handshake) or the consensus network (the
    // engine's identify check, "Incompatible protocol version"): whichever side notices first
    // disconnects, so the other may see only one of the two.
    let deadline = Instant::now() + Duration::from_secs(30);
    let refused = |log: String| {
        log.contains("peer speaks another ledger protocol version") || log.contains("Incompatible protocol version")
    };
    while !(refused(net.log(0)) && refused(net.log(NEWER))) {
        assert!(Instant::now() < deadline, "no refusal logged:\n{}\n----\n{}", net.log(0), net.log(NEWER));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = net.client(NEWER).status().await.unwrap();
    assert_eq!(status.protocol_version, huxin_types::PROTOCOL_VERSION + 1);
    assert_eq!(status.latest_height, 0, "the node of another protocol version must not sync or vote");
    assert_eq!(status.consensus_peers, 0);
    assert_eq!(net.client(0).status().await.unwrap().protocol_version, huxin_types::PROTOCOL_VERSION);
    for i in 0..3 {
        assert!(!net.log(i).contains("panicked"), "node {i} panicked");
    }
}

/// Copy a backup directory (`backup.json` and the flat `db/`).
fn copy_backup(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("db")).unwrap();
    std::fs::copy(from.join("backup.json"), to.join("backup.json")).unwrap();
    for entry in std::fs::read_dir(from.join("db")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join("db").join(entry.file_name())).unwrap();
    }
}

/// The largest file of a backup's store (an SST table).
fn largest_file(backup: &Path) -> std::path::PathBuf {
    std::fs::read_dir(backup.join("db"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap()
}

/// Backup and restore: an online backup of a running validator; restores of a damaged, partial,
/// edited or foreign backup, or over a node's data, refused without touching the home; restored
/// into a fresh home, the node catches up and agrees with the others block by block.
#[tokio::test(flavor = "multi_thread")]
async fn an_online_backup_restores_into_a_fresh_home_that_catches_up() {
    let mut net = Net::start_all(4).await;
    for seed in 0..3 {
        net.send(0, "hangzhou", support::anchor_action(100 + seed)).await;
    }
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("node3-backup");
    let printed = ok(&["backup", "--home", path(&net.home(3)), "--out", path(&backup)]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(backup.join("backup.json")).unwrap()).unwrap();
    let height = manifest["height"].as_u64().unwrap();
    assert!(height >= 3, "backup at height {height}");
    assert!(printed.contains(&format!("at height {height}")), "{printed}");
    assert_eq!(manifest["block_hash"].as_str().unwrap(), net.block_id(0, height).await.0);
    assert!(net.is_running(3), "an online backup leaves the node running");
    let again = refused(&["backup", "--home", path(&net.home(3)), "--out", path(&backup)]);
    assert!(again.contains("already exists"), "{again}");

    // The network goes on past the backup.
    for seed in 0..3 {
        net.send(1, "ningbo", support::anchor_action(200 + seed)).await;
    }

    // Node 3 loses its disk: a fresh home with its keys and config.
    net.stop(3);
    let old = backups.path().join("node3-old");
    std::fs::rename(net.home(3), &old).unwrap();
    std::fs::create_dir(net.home(3)).unwrap();
    for file in ["config.toml", "genesis.json", "node_key", "consensus_key", "audit_key"] {
        if old.join(file).exists() {
            std::fs::copy(old.join(file), net.home(3).join(file)).unwrap();
        }
    }

    let damaged = backups.path().join("damaged");
    copy_backup(&backup, &damaged);
    let table = largest_file(&damaged);
    let mut bytes = std::fs::read(&table).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&table, bytes).unwrap();

    let partial = backups.path().join("partial");
    copy_backup(&backup, &partial);
    std::fs::remove_file(largest_file(&partial)).unwrap();

    let edited = backups.path().join("edited");
    copy_backup(&backup, &edited);
    let text = std::fs::read_to_string(edited.join("backup.json")).unwrap();
    let text = text.replacen(&format!("\"height\": {height}"), &format!("\"height\": {}", height + 1000), 1);
    std::fs::write(edited.join("backup.json"), text).unwrap();

    let foreign = Net::create(1);
    for (from, into, why) in [
        (&damaged, net.home(3), "checksum mismatch"),
        (&partial, net.home(3), "partial backup"),
        (&edited, net.home(3), "checksum does not match"),
        (&backup, foreign.home(0), "a different network"),
        (&backup, old.clone(), "already holds a store"),
    ] {
        let refusal = refused(&["restore", "--backup", path(from), "--home", path(&into)]);
        assert!(refusal.contains(why), "restoring {} into {}: {refusal}", from.display(), into.display());
        assert!(!net.home(3).join("db").exists(), "a refused restore wrote a store");
    }

    let printed = ok(&["restore", "--backup", path(&backup), "--home", path(&net.home(3))]);
    assert!(printed.contains(&format!("at height {height}")), "{printed}");
    net.start(3);
    let top = net.height(0).await.unwrap();
    assert!(top > height);
    net.wait_height(3, top, Duration::from_secs(60)).await;
    for h in 1..=top {
        assert_eq!(net.block_id(3, h).await, net.block_id(0, h).await, "height {h}");
    }
}

/// Joining a running network: a fifth city makes its keys and its home, the four running
/// validators let it in as a follower without a restart (`huxin peers add`), it syncs, the
/// centres vote it in (`add_member`, then `set_validator`), and from the new set's activation it
/// votes: with one of the old four stopped, the others finalise only with its vote. A load of
/// anchors runs throughout, and every one is finalised, once.
#[tokio::test(flavor = "multi_thread")]
async fn a_fifth_city_joins_a_running_network_under_load_and_votes() {
    let mut net = Net::start_all(4).await;

    // Load: one bench key anchors a document every 50 ms through the three centres that stay up,
    // in turn. (Not through Jiaxing, stopped below: a mempool is not durable, so an anchor it
    // acknowledged and had not gossiped yet would go with it, and every later nonce of the key
    // would wait for it; a platform resubmits such an anchor elsewhere. Seen once on SM2 in CI.)
    let load_key = net.bench_keys().remove(0);
    let (chain, clients) = (net.chain_id.clone(), (0..3).map(|i| net.client(i)).collect::<Vec<_>>());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut nonce = 1;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let tx = support::anchor_tx(&chain, &load_key, nonce, support::far_expiry(), 10_000 + nonce);
                match clients[nonce as usize % clients.len()].submit(&tx).await {
                    Ok(hash) => {
                        sent.push(hash);
                        nonce += 1;
                    }
                    // A full mempool sheds with 503: the same transaction is sent again.
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            sent
        })
    };

    // Huzhou's centre makes its keys and its home, naming the four validators.
    let member_dir = net.dir.path().join("huzhou");
    let region = "330500";
    ok(&[
        "keygen",
        "--dir",
        path(&member_dir),
        "--name",
        "湖州市公共资源交易中心",
        "--role",
        "trading_centre",
        "--region",
        region,
        "--uscc",
        &uscc("12", region, 5),
        "--suite",
        &suite(),
    ]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(member_dir.join("manifest.json")).unwrap()).unwrap();
    let node_key: huxin_types::PublicKey = manifest["node_key"].as_str().unwrap().parse().unwrap();
    let validator_keys: Vec<String> = (0..4).map(|i| public_key_of(&net.home(i).join("node_key"))).collect();
    let base_port = net.base_port;
    let port = move |i: usize| base_port + i as u16 * 10;
    let home = net.home(4);
    let api_port = port(4).to_string();
    let mut init = vec![
        "init".to_owned(),
        "--home".into(),
        path(&home).into(),
        "--genesis".into(),
        path(&net.dir.path().join("genesis.json")).into(),
        "--node-key".into(),
        path(&member_dir.join("node.key")).into(),
        "--audit-key".into(),
        path(&member_dir.join("audit.key")).into(),
        "--listen".into(),
        "127.0.0.1".into(),
        "--port".into(),
        api_port,
        "--timeouts".into(),
        "loopback".into(),
    ];
    init.extend(consensus_key_args(&member_dir));
    for (i, key) in validator_keys.iter().enumerate() {
        init.push("--peer".into());
        init.push(format!("{key}@127.0.0.1:{}:{}", port(i) + 1, port(i) + 2));
    }
    let printed = ok(&init.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(printed.contains("starts as a follower"), "{printed}");
    let newcomer = net.adopt_home();

    // The running validators let it in: no restart.
    let as_peer = format!("{node_key}@127.0.0.1:{}:{}", port(4) + 1, port(4) + 2);
    for i in 0..4 {
        let printed = ok(&["peers", "add", "--home", path(&net.home(i)), "--peer", &as_peer, "--follower"]);
        assert!(printed.contains("running node now follows 4 peers (1 followers)"), "{printed}");
    }
    net.start(newcomer);
    let now = net.height(0).await.unwrap();
    net.wait_height(newcomer, now, Duration::from_secs(60)).await;

    // The centres vote it in: first the member, then its validator.
    let new_member: NewMember = serde_json::from_value(json!({
        "name": manifest["name"], "role": manifest["role"], "region": manifest["region"],
        "uscc": manifest["uscc"], "keys": manifest["keys"],
    }))
    .unwrap();
    let member_id = MemberId::from_key(&new_member.keys[0]);
    pass_proposal(&net, ProposalAction::AddMember(new_member), "湖州加入").await;
    let voting_key = net.consensus_key(newcomer).public_key();
    pass_proposal(&net, set_validator(member_id, voting_key, node_key), "湖州节点").await;
    let activation = wait_for_set(&net, 0, |keys| keys.len() == 5 && keys.contains(&voting_key)).await;
    net.wait_height(newcomer, activation + 2, Duration::from_secs(60)).await;

    // With Jiaxing stopped, four of five validators remain: a quorum only with Huzhou's vote.
    net.stop(3);
    let before = net.height(0).await.unwrap();
    net.wait_height(0, before + 3, Duration::from_secs(60)).await;
    net.wait_height(newcomer, before + 3, Duration::from_secs(60)).await;
    for h in [activation, before + 3] {
        assert_eq!(net.block_id(newcomer, h).await, net.block_id(0, h).await, "height {h}");
    }

    // The load: every acknowledged anchor is finalised, once, on the newcomer too.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = load.await.unwrap();
    assert!(sent.len() > 20, "the load sent only {} transactions", sent.len());
    let mut heights = Vec::new();
    for hash in &sent {
        let status = net.client(newcomer).wait_finalised(hash, Duration::from_secs(60)).await.unwrap();
        assert_eq!(status.status, "finalised", "{hash}");
        heights.push(status.height.unwrap());
    }
    assert!(heights.windows(2).all(|w| w[0] <= w[1]), "nonces finalised out of order: {heights:?}");
}

/// `huxin devnet add-node --validator`: a new city's centre is voted in by the devnet's own
/// centres, and once it runs the network finalises on its vote with one of the others stopped.
/// It is refused, writing nothing, when the devnet is not running and where the new validator
/// would stall the chain before it starts (two validators).
#[tokio::test(flavor = "multi_thread")]
async fn devnet_add_node_validator_votes_a_new_city_in() {
    let mut small = Net::create(2);
    let small_dir = path(small.dir.path()).to_owned();
    let add = ["devnet", "add-node", "--validator", "--dir", &small_dir];
    let printed = refused(&add);
    assert!(printed.contains("does not answer"), "{printed}");
    small.start(0);
    small.start(1);
    small.wait_height(0, 1, Duration::from_secs(60)).await;
    let printed = refused(&add);
    assert!(printed.contains("would need the new node's vote"), "{printed}");
    assert!(!small.home(2).exists() && !small.dir.path().join("keys/wenzhou.key").exists(), "a refusal wrote files");
    drop(small);

    let mut net = Net::start_all(4).await;
    let (newcomer, printed) = net.add_centre();
    assert!(printed.contains("the centres voted 湖州市公共资源交易中心 in"), "{printed}");
    assert!(net.dir.path().join("keys/huzhou.key").exists());
    let voting_key = net.consensus_key(newcomer).public_key();
    let activation = wait_for_set(&net, 1, |keys| keys.len() == 5 && keys.contains(&voting_key)).await;
    net.start(newcomer);
    net.wait_height(newcomer, activation + 1, Duration::from_secs(60)).await;

    // Four of five validators remain with Jiaxing stopped: a quorum only with Huzhou's vote. First
    // the five are a full mesh, every validator having let the newcomer in: were a link missing,
    // the four would lean on the engine's relayed certificates and on sync, and a stall would show
    // only as a height not reached 60 s later. A failure here names the node that lacks a link.
    for i in [0, 1, 2, 3, newcomer] {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = None;
        while Instant::now() < deadline && seen != Some(4) {
            seen = net.wait_status(i, |s| s.consensus_peers, 4).await;
        }
        assert_eq!(seen, Some(4), "node {i} sees the other four validators");
    }
    net.stop(3);
    let before = net.height(0).await.unwrap();
    net.wait_height(0, before + 3, Duration::from_secs(60)).await;
    net.wait_height(newcomer, before + 3, Duration::from_secs(60)).await;
    assert_eq!(net.block_id(newcomer, before + 3).await, net.block_id(0, before + 3).await);
}

/// Propose `action` from Hangzhou and have every other genesis centre vote yes (with a fifth
/// member, a majority needs four of five); it must be executed.
async fn pass_proposal(net: &Net, action: ProposalAction, reason: &str) {
    let (id, outcome) = net.send(0, "hangzhou", Action::Propose(Propose { action, reason: reason.into() })).await;
    assert_eq!(outcome, json!("applied"), "{reason}");
    for (node, voter) in [(1, "ningbo"), (2, "wenzhou"), (3, "jiaxing")] {
        let (_, outcome) = net.send(node, voter, Action::Vote(Vote { proposal: id, approve: true })).await;
        // A vote after the proposal passed is refused: that is fine.
        assert!(
            outcome == json!("applied") || outcome["rejected"].is_object(),
            "{voter}'s vote on {reason}: {outcome}"
        );
    }
    let proposal = net.client(0).get_json(&format!("/v1/proposals/{id}")).await.unwrap();
    assert!(proposal["status"]["executed"].is_object(), "{reason}: {proposal}");
}

/// Wait until the validator set in force on node `i` (its node keys) satisfies `done`; the
/// height at which it was seen.
async fn wait_for_set(net: &Net, i: usize, done: impl Fn(&[PublicKey]) -> bool) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let validators = net.client(i).get_json("/v1/validators").await.unwrap();
        let keys: Vec<PublicKey> = validators["current"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["public_key"].as_str().unwrap().parse().unwrap())
            .collect();
        if done(&keys) {
            return validators["height"].as_u64().unwrap();
        }
        assert!(Instant::now() < deadline, "the validator set never changed as expected: {validators}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A validator's node key rotated with no loss of liveness: Hangzhou starts a second node with a
/// new key (let in as a follower), the centres vote the new key in (`set_validator`) and, once it
/// is in force, the old one out (`remove_validator`); the old node stops. Blocks go on at every
/// step, and with Jiaxing stopped as well the remaining three of four finalise only with the new
/// key's vote.
#[tokio::test(flavor = "multi_thread")]
async fn a_validator_node_key_is_rotated_without_losing_liveness() {
    let mut net = Net::start_all(4).await;
    let genesis =
        huxin_types::Genesis::from_json(&std::fs::read_to_string(net.dir.path().join("genesis.json")).unwrap())
            .unwrap();
    let hangzhou = MemberId::from_key(&genesis.members[0].keys[0]);
    let old_key = genesis.validators[0].public_key;

    let new_key_file = net.dir.path().join("hangzhou-new-node.key");
    let printed = ok(&["keygen", "--out", path(&new_key_file)]);
    let new_node_key: PublicKey = printed.trim().parse().unwrap();
    // On an SM2 chain the node votes with a new SM2 consensus key, named beside its node key.
    let new_consensus_file = net.dir.path().join("hangzhou-new-consensus.key");
    let new_key: PublicKey = if suite() == "ed25519-sha256" {
        new_node_key
    } else {
        let printed = ok(&["keygen", "--suite", &suite(), "--out", path(&new_consensus_file)]);
        printed.trim().parse().unwrap()
    };
    let base_port = net.base_port;
    let port = move |i: usize| base_port + i as u16 * 10;
    let home = net.home(4);
    let api_port = port(4).to_string();
    let mut init: Vec<String> = [
        "init",
        "--home",
        path(&home),
        "--genesis",
        path(&net.dir.path().join("genesis.json")),
        "--node-key",
        path(&new_key_file),
        "--listen",
        "127.0.0.1",
        "--port",
        &api_port,
        "--timeouts",
        "loopback",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if new_consensus_file.exists() {
        init.extend(["--consensus-key".into(), path(&new_consensus_file).into()]);
    }
    for i in 0..4 {
        init.push("--peer".into());
        init.push(format!("{}@127.0.0.1:{}:{}", genesis.validators[i].network_key(), port(i) + 1, port(i) + 2));
    }
    ok(&init.iter().map(String::as_str).collect::<Vec<_>>());
    let new_node = net.adopt_home();
    let as_peer = format!("{new_node_key}@127.0.0.1:{}:{}", port(4) + 1, port(4) + 2);
    for i in 0..4 {
        ok(&["peers", "add", "--home", path(&net.home(i)), "--peer", &as_peer, "--follower"]);
    }
    net.start(new_node);
    net.wait_height(new_node, net.height(0).await.unwrap(), Duration::from_secs(60)).await;

    pass_proposal(&net, set_validator(hangzhou, new_key, new_node_key), "杭州换钥").await;
    let added = wait_for_set(&net, 1, |keys| keys.len() == 5 && keys.contains(&new_key)).await;
    net.wait_height(new_node, added + 2, Duration::from_secs(60)).await;
    pass_proposal(&net, ProposalAction::RemoveValidator { public_key: old_key }, "杭州旧钥退出").await;
    let removed = wait_for_set(&net, 1, |keys| keys.len() == 4 && !keys.contains(&old_key)).await;
    net.wait_height(1, removed + 2, Duration::from_secs(60)).await;

    // The old node goes; then Jiaxing too: Ningbo, Wenzhou and the new key make three of four.
    net.stop(0);
    net.stop(3);
    let before = net.height(1).await.unwrap();
    net.wait_height(1, before + 3, Duration::from_secs(60)).await;
    net.wait_height(new_node, before + 3, Duration::from_secs(60)).await;
    assert_eq!(net.block_id(1, before + 3).await, net.block_id(new_node, before + 3).await);
    let (_, outcome) = net.send_synced(1, "hangzhou", support::anchor_action(4242), &[1, 2, new_node]).await;
    assert_eq!(outcome, json!("applied"));
}
