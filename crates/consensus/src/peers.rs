//! The consensus network's peer list follows the ledger: every [`PEER_REFRESH_MS`] the node reads
//! which keys are validators (current or scheduled) and keeps exactly those configured peers
//! persistent. A validator voted out is removed (with `persistent_peers_only` the engine then
//! disconnects it); one voted in (again) is added back and dialled, without a restart. The same
//! pass counts the connected consensus peers for `/metrics` and `/v1/status`.
//!
//! A peer is known by its configured address, which carries its peer id (`…/p2p/12D3…`); peers
//! without one are left as they are. Configured followers (non-validators that sync and relay)
//! stay persistent whatever the validator set.
//!
//! The configured peers live in a [`PeerBook`] that the operator can replace while the node runs
//! (`huxin peers add`, which reloads `config.toml` through the admin socket): a centre that joins
//! is let in, and one whose address changed is dialled at the new one, without a restart.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use malachitebft_app_channel::NetworkRequest;
use tokio::sync::mpsc;
use tracing::{info, warn};

use huxin_store::Store;

use crate::status::{Metrics, NodeStatus};
use crate::validators;

/// How often the consensus peer list is checked against the ledger.
pub const PEER_REFRESH_MS: u64 = 2_000;

/// Refreshes in a row in which the engine's network cannot describe itself before the node
/// takes it for dead. Malachite's network actor outlives its swarm: when the swarm stops (it
/// could not listen, say) the actor only logs, and the node would go on serving its API deaf.
pub const NETWORK_SILENT_REFRESHES_MAX: u32 = 5;

/// Check that `addr` (`/ip4|ip6/…/tcp/PORT`) can be listened on now, so a node whose port is
/// taken stops at start with the address and the reason, instead of running without a network.
/// Port 0 and addresses that are not TCP pass (the transport checks them itself).
pub fn check_listen(addr: &Multiaddr, what: &str) -> eyre::Result<()> {
    let mut ip = None;
    let mut port = None;
    for part in addr.iter() {
        match part {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    match (ip, port) {
        (Some(ip), Some(port)) if port != 0 => std::net::TcpListener::bind((ip, port)).map(drop).map_err(|e| {
            eyre::eyre!("{what} cannot listen on {addr}: {e} (is another node or program using the port?)")
        }),
        _ => Ok(()),
    }
}

/// The peers a node's config lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peers {
    /// Consensus addresses, each with its peer id.
    pub consensus: Vec<Multiaddr>,
    /// Transaction-gossip addresses.
    pub gossip: Vec<crate::gossip::GossipPeer>,
    /// Node keys of followers: let in besides the validators.
    pub followers: BTreeSet<[u8; 32]>,
}

/// The configured peers, shared by the consensus network, the validator-proof check and the
/// gossip swarm, and replaced whole when the operator reloads the config.
#[derive(Clone, Debug, Default)]
pub struct PeerBook(Arc<RwLock<Peers>>);

impl PeerBook {
    pub fn new(peers: Peers) -> Self {
        Self(Arc::new(RwLock::new(peers)))
    }

    pub fn get(&self) -> Peers {
        match self.0.read() {
            Ok(peers) => peers.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, peers: Peers) {
        match self.0.write() {
            Ok(mut current) => *current = peers,
            Err(poisoned) => *poisoned.into_inner() = peers,
        }
    }

    /// Whether `peer_id` (as libp2p encodes one) is a configured follower's. A follower is let
    /// in by its node key, which on an SM2 chain is not the key its validator proof names.
    pub fn is_follower_peer(&self, peer_id: &[u8]) -> bool {
        PeerId::from_bytes(peer_id)
            .is_ok_and(|id| self.get().followers.iter().any(|k| crate::gossip::peer_id_of(k) == Some(id)))
    }
}

/// The peer id a configured address names, if it names one.
pub fn peer_id_in(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|p| match p {
        Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

/// Run until the engine's network is gone: its request channel closed, or
/// [`NETWORK_SILENT_REFRESHES_MAX`] refreshes in a row without a description of its state. Returns
/// which.
pub async fn follow_validators(
    store: Arc<Store>,
    book: PeerBook,
    requests: mpsc::Sender<NetworkRequest>,
    metrics: Metrics,
    status: Arc<NodeStatus>,
) -> String {
    // Every configured peer starts persistent (the engine was started with all of them).
    let mut active: Vec<Multiaddr> = book.get().consensus;
    let mut tick = tokio::time::interval(Duration::from_millis(PEER_REFRESH_MS));
    let mut silent = 0u32;
    loop {
        tick.tick().await;
        if requests.is_closed() {
            return "the consensus network's request channel closed".into();
        }
        let keys = match validators::known_validator_keys(&store) {
            Ok(keys) => keys,
            Err(e) => {
                warn!(error = %e, "validator set unreadable; consensus peers left as they are");
                continue;
            }
        };
        let Peers { consensus: configured, followers, .. } = book.get();
        let allowed: BTreeSet<PeerId> = keys
            .iter()
            .filter_map(|k| validators::peer_of(&store, k))
            .chain(followers.iter().filter_map(crate::gossip::peer_id_of))
            .collect();
        // The configured peers, and active ones no longer configured (removed by a reload).
        let mut candidates = configured.clone();
        candidates.extend(active.iter().filter(|a| !configured.contains(a)).cloned());
        for address in &candidates {
            let Some(id) = peer_id_in(address) else { continue };
            let wanted = allowed.contains(&id) && configured.contains(address);
            let is_active = active.contains(address);
            if wanted && !is_active {
                match NetworkRequest::add_persistent_peer(&requests, address.clone()).await {
                    Ok(Ok(())) => {
                        info!(%address, "validator let into the consensus network");
                        active.push(address.clone());
                    }
                    Ok(Err(e)) => warn!(%address, error = %e, "could not add a consensus peer"),
                    Err(e) => warn!(%address, error = %e, "network request failed"),
                }
            } else if !wanted && is_active {
                match NetworkRequest::remove_persistent_peer(&requests, address.clone()).await {
                    Ok(Ok(())) => {
                        info!(%address, "no longer a validator or a configured peer; shut out of the consensus network");
                        active.retain(|a| a != address);
                    }
                    Ok(Err(e)) => warn!(%address, error = %e, "could not remove a consensus peer"),
                    Err(e) => warn!(%address, error = %e, "network request failed"),
                }
            }
        }
        let dump = match NetworkRequest::dump_state(&requests).await {
            Ok(Some(dump)) => dump,
            Ok(None) => {
                silent += 1;
                if silent >= NETWORK_SILENT_REFRESHES_MAX {
                    return format!(
                        "the consensus network gave no state {silent} times in a row (see its errors above)"
                    );
                }
                continue;
            }
            Err(_) => continue,
        };
        silent = 0;
        let connected = dump.peers.len() as i64;
        let proven = dump
            .peers
            .values()
            .filter(|p| {
                p.consensus_public_key
                    .as_deref()
                    .and_then(huxin_types::PublicKey::from_slice)
                    .is_some_and(|k| keys.contains(&k))
            })
            .count() as i64;
        metrics.consensus_peers.set(connected);
        metrics.consensus_validator_peers.set(proven);
        status.consensus_peers.store(connected, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_named_and_a_free_or_unchecked_one_passes() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let address: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap();
        let error = check_listen(&address, "consensus").unwrap_err().to_string();
        assert!(error.starts_with(&format!("consensus cannot listen on {address}: ")), "{error}");
        drop(taken);
        check_listen(&address, "consensus").unwrap();
        // Port 0 and transports other than TCP are the transport's to check.
        check_listen(&"/ip4/127.0.0.1/tcp/0".parse().unwrap(), "consensus").unwrap();
        check_listen(&"/ip4/127.0.0.1/udp/9/quic-v1".parse().unwrap(), "consensus").unwrap();
    }
}
