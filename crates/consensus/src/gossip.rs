//! Transaction gossip: a libp2p swarm of our own (TCP, Noise, Yamux, gossipsub) that carries
//! signed transactions between validators, so a transaction sent to any node's API reaches
//! whoever proposes next.
//!
//! Only validators may connect: an allow-list of the validators' node keys refuses every other
//! peer at connection time. The list is refreshed from the ledger every
//! [`ALLOW_LIST_REFRESH_SECS`] seconds, so validators added or removed by governance are let in or
//! shut out without a restart. Outbound transactions are batched (at most [`GOSSIP_BATCH_TXS_MAX`] per
//! message, at most [`GOSSIP_BATCH_BYTES_MAX`] bytes, below gossipsub's transmit limit, so no batch
//! is silently dropped); inbound batches are decoded with that bound and every transaction goes
//! through the same admission as an API submission.
//!
//! Gossipsub forwards only what this node has validated (`validate_messages`): a batch is
//! forwarded if a transaction in it was admitted, ignored (not forwarded, no penalty) if all were
//! refused for reasons a state race explains (used nonce, full mempool, …), and rejected if it
//! does not decode or carries a transaction no honest node would have admitted (bad signature,
//! wrong chain, malformed). A peer with [`GOSSIP_INVALID_MESSAGES_MAX`] rejected messages is
//! disconnected and refused for [`GOSSIP_BAN_SECS`] seconds.
//!
//! Peers tell each other the ledger protocol they speak (libp2p identify,
//! [`protocol_string`]); a peer of another protocol version is logged, disconnected and refused
//! for [`GOSSIP_BAN_SECS`] seconds, then asked again (it may have been upgraded meanwhile).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::allow_block_list::{self, AllowedPeers};
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity};
use libp2p::identify;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identity, noise, tcp, yamux, Multiaddr, PeerId, SwarmBuilder};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use huxin_types::{codec, SignedTx};

/// Most transactions in one gossip message.
pub const GOSSIP_BATCH_TXS_MAX: usize = 512;
/// Largest gossip message (gossipsub's transmit limit).
pub const GOSSIP_MESSAGE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Largest batch of transactions put into one message, leaving room for gossipsub's envelope.
pub const GOSSIP_BATCH_BYTES_MAX: usize = GOSSIP_MESSAGE_BYTES_MAX - 64 * 1024;
/// Rejected messages after which a peer is disconnected and banned.
pub const GOSSIP_INVALID_MESSAGES_MAX: u32 = 16;
/// How long a banned peer is refused.
pub const GOSSIP_BAN_SECS: u64 = 60;
/// Most transactions waiting to be gossiped.
pub const GOSSIP_QUEUE_TXS_MAX: usize = 50_000;
/// How often the allow-list is read again from the ledger.
pub const ALLOW_LIST_REFRESH_SECS: u64 = 2;

/// Yields the node keys allowed to connect now (the validators', current and scheduled), or None
/// when they cannot be read (the list then stays as it is).
pub type AllowedSource = Box<dyn Fn() -> Option<BTreeSet<PeerId>> + Send>;

/// Yields the peers to keep dialling (the configured ones), read again before every redial.
pub type DialSource = Box<dyn Fn() -> Vec<GossipPeer> + Send>;

#[derive(NetworkBehaviour)]
struct Behaviour {
    allowed: allow_block_list::Behaviour<AllowedPeers>,
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
}

/// How a node names the ledger protocol it speaks to its peers.
pub fn protocol_string(version: u32) -> String {
    format!("/huxin/ledger/{version}")
}

/// Where to find a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipPeer {
    pub peer_id: PeerId,
    pub address: Multiaddr,
}

pub struct GossipConfig {
    pub listen: Multiaddr,
    /// The peers to dial (and redial while disconnected).
    pub peers: DialSource,
    /// Node keys allowed to connect (the validators'), read again every few seconds.
    pub allowed: AllowedSource,
    pub topic: String,
    /// The ledger protocol this node speaks ([`huxin_types::PROTOCOL_VERSION`]).
    pub protocol_version: u32,
}

/// The peer id of an ed25519 public key (the node identity of a validator).
pub fn peer_id_of(public_key: &[u8; 32]) -> Option<PeerId> {
    let key = identity::ed25519::PublicKey::try_from_bytes(public_key).ok()?;
    Some(identity::PublicKey::from(key).to_peer_id())
}

/// The node keys of the validators in the latest state, current and scheduled; None if the store
/// cannot be read (a ledger always has a validator, so an empty answer means a failed read).
pub fn validator_peers(store: &huxin_store::Store) -> Option<BTreeSet<PeerId>> {
    let latest = store.latest_height().ok()??;
    let view = huxin_state::StateView::new(store, latest.0);
    // The set of the next height, and the one scheduled after it (if any).
    let next = huxin_contracts::registry::next_validators(&view).ok()?.map(|n| n.validators).unwrap_or_default();
    let peers: BTreeSet<PeerId> = huxin_contracts::registry::validators_at(&view, huxin_types::Height(latest.0 + 1))
        .ok()?
        .iter()
        .chain(&next)
        .filter_map(|v| crate::validators::peer_of(store, &v.public_key))
        .collect();
    (!peers.is_empty()).then_some(peers)
}

/// What this node made of an inbound batch, which decides whether gossipsub forwards it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GossipVerdict {
    /// At least one transaction was admitted: forward it.
    Accept,
    /// Nothing admitted, for reasons an honest peer could not foresee: drop without penalty.
    Ignore,
    /// No honest peer sends this: drop and count against the peer.
    Reject,
}

/// The gossipsub behaviour of every node: a message is a batch of signed transactions, unsigned
/// itself and named by its content's hash.
///
/// A gossipsub signature would prove who first published a batch, which nothing here uses: each
/// transaction carries its member's signature, checked at admission, and a refused message
/// counts against the peer it came from, whose key the connection's Noise handshake proved. It
/// would cost a signature per message sent and a verification per message received, about 4 %
/// of a validator's CPU at 4 000 tx/s. (A node signing its messages would have them dropped by
/// this one, and the other way round: all validators must run a release with the same setting.)
pub fn gossipsub_behaviour() -> eyre::Result<gossipsub::Behaviour> {
    let config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(Duration::from_millis(500))
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .max_transmit_size(GOSSIP_MESSAGE_BYTES_MAX)
        .message_id_fn(|m| gossipsub::MessageId::from(codec::sha256(&m.data).0.to_vec()))
        .build()
        .map_err(|e| eyre::eyre!("gossipsub config: {e}"))?;
    gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, config).map_err(|e| eyre::eyre!("gossipsub: {e}"))
}

/// Split transactions into batches within [`GOSSIP_BATCH_TXS_MAX`] and [`GOSSIP_BATCH_BYTES_MAX`].
pub fn batches(txs: Vec<SignedTx>) -> Vec<Vec<SignedTx>> {
    let mut out: Vec<Vec<SignedTx>> = Vec::new();
    let mut bytes = 0usize;
    for tx in txs {
        // A transaction's encoding plus its length prefix in the vector.
        let size = tx.encoded_len() + 16;
        let full = out.last().is_none_or(|b| b.len() >= GOSSIP_BATCH_TXS_MAX || bytes + size > GOSSIP_BATCH_BYTES_MAX);
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        out.last_mut().expect("a batch was just pushed").push(tx);
    }
    out
}

/// Handle for sending transactions out.
#[derive(Clone)]
pub struct GossipSender(mpsc::Sender<SignedTx>);

impl GossipSender {
    /// Queue a transaction for gossip; false if the queue is full (the transaction stays in
    /// this node's mempool and is still proposed from here).
    pub fn send(&self, tx: SignedTx) -> bool {
        self.0.try_send(tx).is_ok()
    }
}

/// Start the gossip swarm. `on_txs` receives every inbound batch (already size-checked) and says
/// what to do with it; `rejected` counts the messages refused.
pub fn spawn(
    keypair: identity::Keypair,
    config: GossipConfig,
    peers_gauge: Arc<AtomicI64>,
    rejected: prometheus_client::metrics::counter::Counter,
    on_txs: impl Fn(Vec<SignedTx>) -> GossipVerdict + Send + 'static,
) -> eyre::Result<(GossipSender, tokio::task::JoinHandle<()>)> {
    let mut swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)?
        .with_behaviour(|key| {
            let gossipsub = gossipsub_behaviour()?;
            let identify = identify::Behaviour::new(
                identify::Config::new(protocol_string(config.protocol_version), key.public())
                    .with_agent_version(format!("huxin/{}", env!("CARGO_PKG_VERSION"))),
            );
            Ok(Behaviour { allowed: allow_block_list::Behaviour::default(), gossipsub, identify })
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(24 * 3600)))
        .build();

    let mut allowed = (config.allowed)().ok_or_else(|| eyre::eyre!("the validator set cannot be read"))?;
    for peer in &allowed {
        swarm.behaviour_mut().allowed.allow_peer(*peer);
    }
    let allowed_source = config.allowed;
    let ours = protocol_string(config.protocol_version);
    let topic = IdentTopic::new(config.topic.clone());
    swarm.behaviour_mut().gossipsub.subscribe(&topic)?;
    crate::peers::check_listen(&config.listen, "transaction gossip")?;
    swarm
        .listen_on(config.listen.clone())
        .map_err(|e| eyre::eyre!("transaction gossip cannot listen on {}: {e:?}", config.listen))?;

    let (sender, mut outbound) = mpsc::channel::<SignedTx>(GOSSIP_QUEUE_TXS_MAX);
    let dial_source = config.peers;
    let handle = tokio::spawn(async move {
        let mut redial = tokio::time::interval(Duration::from_secs(1));
        let mut invalid: BTreeMap<PeerId, u32> = BTreeMap::new();
        let mut banned: BTreeMap<PeerId, std::time::Instant> = BTreeMap::new();
        let mut refresh = tokio::time::interval(Duration::from_secs(ALLOW_LIST_REFRESH_SECS));
        loop {
            tokio::select! {
                first = outbound.recv() => {
                    let Some(first) = first else { break };
                    let mut waiting = vec![first];
                    while waiting.len() < GOSSIP_BATCH_TXS_MAX * 4 {
                        match outbound.try_recv() {
                            Ok(tx) => waiting.push(tx),
                            Err(_) => break,
                        }
                    }
                    for batch in batches(waiting) {
                        let bytes = codec::encode(&batch);
                        if let Err(e) = swarm.behaviour_mut().gossipsub.publish(topic.clone(), bytes) {
                            debug!(error = %e, txs = batch.len(), "gossip publish skipped");
                        }
                    }
                }
                event = swarm.select_next_some() => match event {
                    SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                        propagation_source,
                        message_id,
                        message,
                    })) => {
                        let verdict = match codec::decode_canonical::<Vec<SignedTx>>(&message.data, GOSSIP_MESSAGE_BYTES_MAX) {
                            Ok(txs) if txs.len() <= GOSSIP_BATCH_TXS_MAX => on_txs(txs),
                            Ok(txs) => {
                                warn!(count = txs.len(), peer = %propagation_source, "gossip batch over the limit rejected");
                                GossipVerdict::Reject
                            }
                            Err(e) => {
                                warn!(error = %e, peer = %propagation_source, "undecodable gossip message rejected");
                                GossipVerdict::Reject
                            }
                        };
                        let acceptance = match verdict {
                            GossipVerdict::Accept => gossipsub::MessageAcceptance::Accept,
                            GossipVerdict::Ignore => gossipsub::MessageAcceptance::Ignore,
                            GossipVerdict::Reject => gossipsub::MessageAcceptance::Reject,
                        };
                        swarm.behaviour_mut().gossipsub.report_message_validation_result(
                            &message_id,
                            &propagation_source,
                            acceptance,
                        );
                        if verdict == GossipVerdict::Reject {
                            rejected.inc();
                            let count = invalid.entry(propagation_source).or_insert(0);
                            *count += 1;
                            if *count >= GOSSIP_INVALID_MESSAGES_MAX {
                                warn!(peer = %propagation_source, count = *count, "gossip peer sent too many invalid messages; banned for {GOSSIP_BAN_SECS} s");
                                invalid.remove(&propagation_source);
                                banned.insert(propagation_source, std::time::Instant::now() + Duration::from_secs(GOSSIP_BAN_SECS));
                                swarm.behaviour_mut().allowed.disallow_peer(propagation_source);
                            }
                        }
                    }
                    SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }))
                        if info.protocol_version != ours =>
                    {
                        warn!(
                            peer = %peer_id,
                            theirs = %info.protocol_version,
                            ours = %ours,
                            agent = %info.agent_version,
                            "peer speaks another ledger protocol version; refusing it for {GOSSIP_BAN_SECS} s (upgrade both to the same protocol version)"
                        );
                        banned.insert(peer_id, std::time::Instant::now() + Duration::from_secs(GOSSIP_BAN_SECS));
                        swarm.behaviour_mut().allowed.disallow_peer(peer_id);
                    }
                    SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } if num_established.get() == 1 => {
                        peers_gauge.fetch_add(1, Ordering::Relaxed);
                        info!(%peer_id, "gossip peer connected");
                    }
                    SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                        peers_gauge.fetch_sub(1, Ordering::Relaxed);
                        info!(%peer_id, "gossip peer disconnected");
                    }
                    SwarmEvent::IncomingConnectionError { error, send_back_addr, .. } => {
                        debug!(%error, %send_back_addr, "incoming gossip connection refused");
                    }
                    _ => {}
                },
                _ = refresh.tick() => {
                    let Some(now) = allowed_source() else { continue };
                    // A ban ends: the peer is allowed again if it is still a validator.
                    let instant = std::time::Instant::now();
                    banned.retain(|_, until| *until > instant);
                    let now: BTreeSet<PeerId> = now.into_iter().filter(|p| !banned.contains_key(p)).collect();
                    for peer in now.difference(&allowed) {
                        info!(%peer, "validator node allowed to gossip");
                        swarm.behaviour_mut().allowed.allow_peer(*peer);
                    }
                    for peer in allowed.difference(&now) {
                        info!(%peer, "node no longer a validator; gossip refused");
                        swarm.behaviour_mut().allowed.disallow_peer(*peer);
                    }
                    allowed = now;
                }
                _ = redial.tick() => {
                    for GossipPeer { peer_id, address } in dial_source() {
                        if !swarm.is_connected(&peer_id) {
                            let opts = DialOpts::peer_id(peer_id).addresses(vec![address]).build();
                            let _ = swarm.dial(opts);
                        }
                    }
                }
            }
        }
    });
    Ok((GossipSender(sender), handle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use huxin_types::tx::{Expiry, TxBody};
    use huxin_types::{Action, ChainId, Height, SecretKey};

    fn tx(nonce: u64, title_bytes: usize) -> SignedTx {
        let key = SecretKey::from_bytes([3; 32]);
        let action = Action::AnchorDocument(huxin_types::tx::AnchorDocument {
            tender: huxin_types::tx::TenderRef {
                region: huxin_types::RegionCode::new(330100).unwrap(),
                project_code: "P".into(),
                section_code: "S".into(),
            },
            stage: huxin_types::tx::DealStage::Announcement,
            document_hash: huxin_types::Hash32([nonce as u8; 32]),
            title: "t".repeat(title_bytes),
            deal_code: String::new(),
            platform_code: String::new(),
            parties: Vec::new(),
            experts: Vec::new(),
            estimated_price_fen: None,
        });
        TxBody {
            chain_id: ChainId::new("t").unwrap(),
            signer: key.public_key(),
            nonce,
            expiry: Expiry::Height(Height(10)),
            action,
        }
        .sign(&key)
    }

    /// Regression: a batch was bounded by count only, and one over gossipsub's transmit limit was
    /// dropped without a word.
    #[test]
    fn batches_stay_within_the_transmit_limit() {
        let big: Vec<SignedTx> = (1..=800).map(|n| tx(n, 10_000)).collect();
        let out = batches(big);
        assert!(out.len() > 1);
        for batch in &out {
            assert!(batch.len() <= GOSSIP_BATCH_TXS_MAX);
            assert!(codec::encode(batch).len() <= GOSSIP_BATCH_BYTES_MAX, "{} bytes", codec::encode(batch).len());
        }
        assert_eq!(out.iter().map(Vec::len).sum::<usize>(), 800);
        let small = batches((1..=1_000).map(|n| tx(n, 1)).collect());
        assert!(small.iter().all(|b| b.len() <= GOSSIP_BATCH_TXS_MAX));
        assert_eq!(small.len(), 2);
    }
}
