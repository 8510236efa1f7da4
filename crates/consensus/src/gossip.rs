//! Transaction gossip: a libp2p swarm of our own (TCP, Noise, Yamux, gossipsub) that carries
//! signed transactions between validators, so a transaction sent to any node's API reaches
//! whoever proposes next.
//!
//! Only validators may connect: an allow-list of the validators' node keys refuses every other
//! peer at connection time. The list is refreshed from the ledger every
//! [`ALLOW_LIST_REFRESH_SECS`] seconds, so validators added or removed by governance are let in or
//! shut out without a restart. Outbound transactions are batched (at most [`GOSSIP_BATCH_TXS_MAX`] per
//! message, at most [`GOSSIP_MESSAGE_BYTES_MAX`] bytes); inbound batches are decoded with that
//! bound and every transaction goes through the same admission as an API submission.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::allow_block_list::{self, AllowedPeers};
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identity, noise, tcp, yamux, Multiaddr, PeerId, SwarmBuilder};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use huxin_types::{codec, SignedTx};

/// Most transactions in one gossip message.
pub const GOSSIP_BATCH_TXS_MAX: usize = 512;
/// Largest gossip message.
pub const GOSSIP_MESSAGE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Most transactions waiting to be gossiped.
pub const GOSSIP_QUEUE_TXS_MAX: usize = 50_000;
/// How often the allow-list is read again from the ledger.
pub const ALLOW_LIST_REFRESH_SECS: u64 = 2;

/// Yields the node keys allowed to connect now (the validators', current and scheduled), or None
/// when they cannot be read (the list then stays as it is).
pub type AllowedSource = Box<dyn Fn() -> Option<BTreeSet<PeerId>> + Send>;

#[derive(NetworkBehaviour)]
struct Behaviour {
    allowed: allow_block_list::Behaviour<AllowedPeers>,
    gossipsub: gossipsub::Behaviour,
}

/// Where to find a peer.
#[derive(Clone, Debug)]
pub struct GossipPeer {
    pub peer_id: PeerId,
    pub address: Multiaddr,
}

pub struct GossipConfig {
    pub listen: Multiaddr,
    pub peers: Vec<GossipPeer>,
    /// Node keys allowed to connect (the validators'), read again every few seconds.
    pub allowed: AllowedSource,
    pub topic: String,
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
    let next = huxin_contracts::registry::next_validators(&view).map(|n| n.validators).unwrap_or_default();
    let peers: BTreeSet<PeerId> = huxin_contracts::registry::validators_at(&view, huxin_types::Height(latest.0 + 1))
        .iter()
        .chain(&next)
        .filter_map(|v| peer_id_of(&v.public_key.0))
        .collect();
    (!peers.is_empty()).then_some(peers)
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

/// Start the gossip swarm. `on_txs` receives every inbound batch (already size-checked).
pub fn spawn(
    keypair: identity::Keypair,
    config: GossipConfig,
    peers_gauge: Arc<AtomicI64>,
    on_txs: impl Fn(Vec<SignedTx>) + Send + 'static,
) -> eyre::Result<(GossipSender, tokio::task::JoinHandle<()>)> {
    let mut swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)?
        .with_behaviour(|key| {
            let gossip_config = gossipsub::ConfigBuilder::default()
                .heartbeat_interval(Duration::from_millis(500))
                .validation_mode(gossipsub::ValidationMode::Strict)
                .max_transmit_size(GOSSIP_MESSAGE_BYTES_MAX)
                .message_id_fn(|m| gossipsub::MessageId::from(codec::sha256(&m.data).0.to_vec()))
                .build()
                .map_err(|e| eyre::eyre!("gossipsub config: {e}"))?;
            let gossipsub = gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), gossip_config)
                .map_err(|e| eyre::eyre!("gossipsub: {e}"))?;
            Ok(Behaviour { allowed: allow_block_list::Behaviour::default(), gossipsub })
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(24 * 3600)))
        .build();

    let mut allowed = (config.allowed)().ok_or_else(|| eyre::eyre!("the validator set cannot be read"))?;
    for peer in &allowed {
        swarm.behaviour_mut().allowed.allow_peer(*peer);
    }
    let allowed_source = config.allowed;
    let topic = IdentTopic::new(config.topic.clone());
    swarm.behaviour_mut().gossipsub.subscribe(&topic)?;
    swarm.listen_on(config.listen.clone())?;

    let (sender, mut outbound) = mpsc::channel::<SignedTx>(GOSSIP_QUEUE_TXS_MAX);
    let peers: BTreeMap<PeerId, Multiaddr> = config.peers.iter().map(|p| (p.peer_id, p.address.clone())).collect();
    let handle = tokio::spawn(async move {
        let mut redial = tokio::time::interval(Duration::from_secs(1));
        let mut refresh = tokio::time::interval(Duration::from_secs(ALLOW_LIST_REFRESH_SECS));
        loop {
            tokio::select! {
                first = outbound.recv() => {
                    let Some(first) = first else { break };
                    let mut batch = vec![first];
                    while batch.len() < GOSSIP_BATCH_TXS_MAX {
                        match outbound.try_recv() {
                            Ok(tx) => batch.push(tx),
                            Err(_) => break,
                        }
                    }
                    let bytes = codec::encode(&batch);
                    if let Err(e) = swarm.behaviour_mut().gossipsub.publish(topic.clone(), bytes) {
                        debug!(error = %e, txs = batch.len(), "gossip publish skipped");
                    }
                }
                event = swarm.select_next_some() => match event {
                    SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message { message, .. })) => {
                        match codec::decode_canonical::<Vec<SignedTx>>(&message.data, GOSSIP_MESSAGE_BYTES_MAX) {
                            Ok(txs) if txs.len() <= GOSSIP_BATCH_TXS_MAX => on_txs(txs),
                            Ok(txs) => warn!(count = txs.len(), "gossip batch over the limit dropped"),
                            Err(e) => warn!(error = %e, "undecodable gossip message dropped"),
                        }
                    }
                    SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
                        if num_established.get() == 1 {
                            peers_gauge.fetch_add(1, Ordering::Relaxed);
                            info!(%peer_id, "gossip peer connected");
                        }
                    }
                    SwarmEvent::ConnectionClosed { peer_id, num_established, .. } => {
                        if num_established == 0 {
                            peers_gauge.fetch_sub(1, Ordering::Relaxed);
                            info!(%peer_id, "gossip peer disconnected");
                        }
                    }
                    SwarmEvent::IncomingConnectionError { error, send_back_addr, .. } => {
                        debug!(%error, %send_back_addr, "incoming gossip connection refused");
                    }
                    _ => {}
                },
                _ = refresh.tick() => {
                    let Some(now) = allowed_source() else { continue };
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
                    for (peer_id, address) in &peers {
                        if !swarm.is_connected(peer_id) {
                            let opts = DialOpts::peer_id(*peer_id).addresses(vec![address.clone()]).build();
                            let _ = swarm.dial(opts);
                        }
                    }
                }
            }
        }
    });
    Ok((GossipSender(sender), handle))
}
