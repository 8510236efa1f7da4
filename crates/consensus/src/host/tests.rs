//! The host against a hostile validator, over a real RocksDB store: streams for rounds a
//! validator does not propose, blocks that name another proposer, too many blocks for one round,
//! and blocks timed ahead of the clock.

use std::sync::{Arc, Mutex};

use malachitebft_app_channel::app::types::core::{Context as _, LinearTimeouts, Round, Validity};
use malachitebft_app_channel::app::types::PeerId;

use huxin_mempool::{Mempool, MempoolConfig};
use huxin_state::{BlockLimits, Built};
use huxin_store::Store;
use huxin_types::crypto::Ed25519SecretKey;
use huxin_types::genesis::{Genesis, GenesisMember, GenesisValidator, Role};
use huxin_types::{Block, ChainId, RegionCode, SecretKey, TimestampMs, Uscc};

use super::proposals::{admit_head, Signatures, PROPOSALS_PER_ROUND_MAX};
use super::{Host, HostConfig};
use crate::clock::now_ms;
use crate::context::{Address, Height, HuxinContext, PublicKey, Signer};
use crate::status::{Metrics, NodeStatus};
use crate::streaming::{stream_block, StreamHead, Streams};

const YEAR_MS: u64 = 365 * 86_400_000;

struct Net {
    _dir: tempfile::TempDir,
    host: Host,
    store: Arc<Store>,
    /// Validator node keys, in genesis order.
    keys: Vec<Ed25519SecretKey>,
    chain: ChainId,
}

fn net() -> Net {
    let dir = tempfile::tempdir().expect("temp dir");
    let chain = ChainId::new("huxin-host-test").unwrap();
    let keys: Vec<Ed25519SecretKey> = (0..4).map(|i| Ed25519SecretKey::from_bytes([i as u8 + 40; 32])).collect();
    let genesis = Genesis {
        chain_id: chain.clone(),
        genesis_time: TimestampMs(1_000),
        members: vec![GenesisMember {
            name: "hangzhou".into(),
            role: Role::TradingCentre,
            region: RegionCode::new(330100).unwrap(),
            uscc: Uscc::with_check("12330100MB0000001").unwrap(),
            keys: vec![SecretKey::from_bytes([1; 32]).public_key()],
        }],
        validators: keys
            .iter()
            .map(|k| GenesisValidator {
                member: "hangzhou".into(),
                public_key: k.public_key().into(),
                power: 1,
                node_key: None,
            })
            .collect(),
        suite: Default::default(),
    };
    let store = Arc::new(Store::open(&dir.path().join("db"), false).expect("store"));
    store.init_genesis(&genesis).expect("genesis");
    let (finalised, _) = tokio::sync::broadcast::channel(16);
    let mut host = Host::new(
        HostConfig::default(),
        LinearTimeouts::default(),
        None,
        genesis,
        store.clone(),
        Arc::new(Mutex::new(Mempool::new(MempoolConfig::default()))),
        Signer::new(SecretKey::Ed25519(keys[0].clone()), chain.clone()),
        PublicKey(keys[0].public_key().into()),
        Metrics::default(),
        Arc::new(NodeStatus::default()),
        finalised,
    );
    // As after ConsensusReady: the next height is 1.
    host.height = Height(1);
    Net { _dir: dir, host, store, keys, chain }
}

impl Net {
    fn address(&self, i: usize) -> Address {
        Address::from_public_key(&PublicKey(self.keys[i].public_key().into()))
    }

    /// The index of the validator that proposes height 1, `round`.
    fn proposer(&self, round: u32) -> usize {
        let set = crate::validators::validator_set(&self.store, Height(1)).unwrap();
        let chosen = HuxinContext.select_proposer(&set, Height(1), Round::new(round)).address;
        (0..4).find(|&i| self.address(i) == chosen).unwrap()
    }

    fn peer(&self, i: usize) -> PeerId {
        let id = crate::gossip::peer_id_of(&self.keys[i].public_key().0).unwrap();
        PeerId::from_bytes(&id.to_bytes()).unwrap()
    }

    /// A valid empty block at height 1 proposed by validator `i`, at `time`.
    fn block(&self, i: usize, time: u64) -> Block {
        let parent = self.host.parent(huxin_types::Height(0)).unwrap();
        let Built { block, .. } = huxin_state::build_block(
            self.store.as_ref(),
            &parent,
            self.keys[i].public_key().into(),
            TimestampMs(time),
            Vec::new(),
            BlockLimits { txs: 10, bytes: 1 << 20 },
            &|_| true,
        )
        .unwrap();
        block
    }

    /// Validator `signer` streams `block` for height 1, `round`, and this host takes it in.
    fn receive(&mut self, signer: usize, round: u32, block: &Block) -> Option<Validity> {
        self.receive_again(signer, round, Round::Nil, block)
    }

    /// As [`Net::receive`], for a value said to have had a polka in `pol_round`.
    fn receive_again(&mut self, signer: usize, round: u32, pol_round: Round, block: &Block) -> Option<Validity> {
        let signing = Signer::new(SecretKey::Ed25519(self.keys[signer].clone()), self.chain.clone());
        let msgs =
            stream_block(&signing, self.address(signer), Height(1), Round::new(round), pol_round, &block.encode());
        let mut streams = Streams::default();
        let stream = msgs.into_iter().find_map(|m| streams.insert(self.peer(signer), m, |_| Ok(())).unwrap()).unwrap();
        let from = self.peer(signer);
        self.host.on_stream(from, stream).unwrap().map(|v| v.validity)
    }
}

#[test]
fn streams_are_admitted_only_from_the_rounds_proposer_within_the_horizon() {
    let n = net();
    let proposer = n.proposer(0);
    let other = (proposer + 1) % 4;
    let head = |who: usize, height: u64, round: u32| StreamHead {
        height: Height(height),
        round: Round::new(round),
        proposer: n.address(who),
    };
    let at = |head: StreamHead| admit_head(&n.store, Height(1), Round::new(0), &head);
    assert!(at(head(proposer, 1, 0)).is_ok());
    assert!(at(head(other, 1, 0)).unwrap_err().contains("is not the proposer"));
    assert!(at(head(n.proposer(5), 1, 5)).is_ok(), "a later round within reach");
    assert!(at(head(n.proposer(17), 1, 17)).unwrap_err().contains("past round"));
    assert!(at(head(proposer, 4, 0)).unwrap_err().contains("past"), "three heights ahead");
    assert!(admit_head(&n.store, Height(2), Round::new(0), &head(proposer, 1, 0)).unwrap_err().contains("behind"));
}

#[test]
fn a_block_naming_another_proposer_is_voted_against() {
    let mut n = net();
    let proposer = n.proposer(0);
    let other = (proposer + 1) % 4;
    // Signed and streamed by the round's proposer, but the header names another validator.
    let block = n.block(other, now_ms().0);
    assert_eq!(n.receive(proposer, 0, &block), Some(Validity::Invalid));
    let honest = n.block(proposer, now_ms().0);
    assert_eq!(n.receive(proposer, 0, &honest), Some(Validity::Valid));
}

/// Regression: a value that had a polka in round 0 is proposed again, unchanged, by a later
/// round's proposer, so its header names round 0's proposer. The host called it invalid (another
/// proposer), so the validators locked on it voted nil on it for ever: when round 0's proposer
/// crashed after streaming its block, with some validators locked on it and one without it, the
/// chain halted for good (`tests/crash_recovery.rs` caught it in CI).
#[test]
fn a_value_proposed_again_in_a_later_round_keeps_its_builder() {
    let mut n = net();
    let first = n.proposer(0);
    let block = n.block(first, now_ms().0);
    assert_eq!(n.receive(first, 0, &block), Some(Validity::Valid));
    for round in 1..6 {
        let again = n.proposer(round);
        assert_eq!(n.receive_again(again, round, Round::new(0), &block), Some(Validity::Valid), "round {round}");
    }
    // Only the proposers of rounds up to the polka's can have built it.
    let second = n.proposer(1);
    let theirs = n.block(second, now_ms().0);
    assert_eq!(n.receive_again(second, 2, Round::new(0), &theirs), Some(Validity::Invalid));
    assert_eq!(n.receive_again(n.proposer(3), 3, Round::new(1), &theirs), Some(Validity::Valid));
    // A fresh proposal is still built by the validator that streams it.
    assert_eq!(n.receive(n.proposer(4), 4, &theirs), Some(Validity::Invalid));
}

#[test]
fn a_proposer_cannot_store_unbounded_blocks_for_one_round() {
    let mut n = net();
    let proposer = n.proposer(0);
    for k in 0..(PROPOSALS_PER_ROUND_MAX as u64 + 3) {
        let block = n.block(proposer, now_ms().0 - 10 + k);
        n.receive(proposer, 0, &block);
    }
    let stored = n.store.proposals(huxin_types::Height(1)).unwrap();
    assert_eq!(stored.len(), PROPOSALS_PER_ROUND_MAX, "an equivocating proposer's extra blocks are dropped");
}

/// Regression: a block executed once without the clock check (a stream kept for a later height,
/// or replayed after a restart) hit the execution cache and was voted for without it.
#[test]
fn a_block_timed_ahead_is_refused_every_time_it_is_voted_on() {
    let mut n = net();
    let proposer = n.proposer(0);
    let ahead = n.block(proposer, now_ms().0 + YEAR_MS);
    assert!(n.host.execute(ahead.clone(), false, Signatures::Checked).unwrap().is_ok(), "executes without the clock");
    assert_eq!(n.host.validity(ahead.clone(), true, Signatures::Checked).unwrap(), Validity::Invalid);
    assert_eq!(n.host.validity(ahead, true, Signatures::Checked).unwrap(), Validity::Invalid, "again, from the cache");
    let now = n.block(proposer, now_ms().0);
    assert_eq!(n.host.validity(now, true, Signatures::Checked).unwrap(), Validity::Valid);
}

/// Regression: a validator catching up was asked for a proposal at every height it proposes
/// and waited `block_empty_wait_ms` for transactions each time, a 500 ms stall every few synced
/// blocks (the catch-up benchmark ran four times slower). Behind the network it builds at once.
#[tokio::test]
async fn a_validator_behind_the_network_proposes_without_waiting() {
    let mut n = net();
    n.host.config.block_empty_wait_ms = 60_000;
    let timeout = std::time::Duration::from_secs(120);
    n.host.network_height = Height(50);
    let started = std::time::Instant::now();
    let block = n.host.build(Height(1), Round::new(0), timeout).await.unwrap();
    assert!(block.txs.is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "waited {:?} while behind", started.elapsed());

    // At the network's height it waits for transactions as before (here: until the wait ends).
    let mut n = net();
    n.host.config.block_empty_wait_ms = 300;
    n.host.network_height = Height(1);
    let started = std::time::Instant::now();
    n.host.build(Height(1), Round::new(0), timeout).await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "did not wait for transactions");
}

/// The default mempool holds a few full blocks, no more: a proposer finds a full block and the
/// next waiting, and under overload a transaction waits a few blocks at most while the rest is
/// shed at admission (a mempool of 50 full blocks queued 17 s of transactions at twice the
/// sustainable rate and finalised a third less; PERFORMANCE.md, "Overload").
#[test]
fn the_default_mempool_holds_a_few_full_blocks_no_more() {
    let block = HostConfig::default().block_txs_max;
    let mempool = MempoolConfig::default().txs_max;
    assert!(mempool >= 2 * block, "{mempool} transactions do not hold two blocks of {block}");
    assert!(mempool <= 5 * block, "{mempool} transactions are more than five blocks of {block}");
}

/// An anchor by the genesis member, with nonce `nonce` (each a new document).
fn anchor(chain: &ChainId, nonce: u64) -> huxin_types::SignedTx {
    use huxin_types::tx::{AnchorDocument, Expiry, TenderRef};
    let mut doc = [0u8; 32];
    doc[..8].copy_from_slice(&nonce.to_be_bytes());
    huxin_types::TxBody {
        chain_id: chain.clone(),
        signer: SecretKey::from_bytes([1; 32]).public_key(),
        nonce,
        expiry: Expiry::Height(huxin_types::Height(1_000)),
        action: huxin_types::Action::AnchorDocument(AnchorDocument::announcement(
            TenderRef { region: RegionCode::new(330100).unwrap(), project_code: "P".into(), section_code: "S".into() },
            huxin_types::Hash32(doc),
        )),
    }
    .sign(&SecretKey::from_bytes([1; 32]))
}

/// A block sent through value sync executes with its signatures left to its commit certificate;
/// that execution is never reused for a vote. Here a block carries an anchor whose signature does
/// not verify (a certificate could not cover it, but bytes that are not the certified value can
/// reach the host): taken in through sync it executes, and voted on, it is refused.
#[test]
fn a_synced_blocks_unchecked_execution_is_never_reused_for_a_vote() {
    let mut n = net();
    let proposer = n.proposer(0);
    let mut forged = anchor(&n.chain, 1);
    forged.signature = anchor(&n.chain, 2).signature;
    let parent = n.host.parent(huxin_types::Height(0)).unwrap();
    let Built { block, skipped, .. } = huxin_state::build_block(
        n.store.as_ref(),
        &parent,
        n.keys[proposer].public_key().into(),
        TimestampMs(now_ms().0),
        vec![forged],
        BlockLimits { txs: 10, bytes: 1 << 20 },
        // As a lying proposer builds it: the signature taken as checked.
        &|_| true,
    )
    .unwrap();
    assert!(skipped.is_empty() && block.txs.len() == 1, "{skipped:?}");

    let synced = n.host.synced_value(Height(1), Round::new(0), n.address(proposer), &block.encode()).unwrap();
    let malachitebft_app_channel::app::engine::host::SyncedValueOutcome::Verdict(value) = synced else {
        panic!("the synced block is taken in")
    };
    assert_eq!(value.validity, Validity::Valid, "its signatures are the certificate's to vouch for");
    // It is stored as the proposal it was sent as, bytes for bytes, under its hash.
    let stored = n.host.stored_proposals(Height(1)).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1.block, block.encode());
    assert_eq!(n.host.stored_block(Height(1), block.hash()).unwrap(), Some(block.clone()));
    assert_eq!(n.host.validity(block.clone(), true, Signatures::Checked).unwrap(), Validity::Invalid);
    assert_eq!(n.host.validity(block, true, Signatures::Checked).unwrap(), Validity::Invalid, "and again");
}
