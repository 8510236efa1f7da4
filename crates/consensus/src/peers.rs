//! The consensus network's peer list follows the ledger: every [`PEER_REFRESH_MS`] the node reads
//! which keys are validators (current or scheduled) and keeps exactly those configured peers
//! persistent. A validator voted out is removed (with `persistent_peers_only` the engine then
//! disconnects it); one voted in (again) is added back and dialled, without a restart. The same
//! pass counts the connected consensus peers for `/metrics` and `/v1/status`.
//!
//! A peer is known by its configured address, which carries its peer id (`…/p2p/12D3…`); peers
//! without one are left as they are. Configured followers (non-validators that sync and relay)
//! stay persistent whatever the validator set.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
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

/// The peer id a configured address names, if it names one.
pub fn peer_id_in(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|p| match p {
        Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

/// Run until the network's request channel closes.
pub async fn follow_validators(
    store: Arc<Store>,
    configured: Vec<Multiaddr>,
    followers: BTreeSet<[u8; 32]>,
    requests: mpsc::Sender<NetworkRequest>,
    metrics: Metrics,
    status: Arc<NodeStatus>,
) {
    // Every configured peer starts persistent (the engine was started with all of them).
    let mut active: Vec<Multiaddr> = configured.clone();
    let mut tick = tokio::time::interval(Duration::from_millis(PEER_REFRESH_MS));
    loop {
        tick.tick().await;
        if requests.is_closed() {
            return;
        }
        let keys = match validators::known_validator_keys(&store) {
            Ok(keys) => keys,
            Err(e) => {
                warn!(error = %e, "validator set unreadable; consensus peers left as they are");
                continue;
            }
        };
        let allowed: BTreeSet<PeerId> = keys.iter().chain(&followers).filter_map(crate::gossip::peer_id_of).collect();
        for address in &configured {
            let Some(id) = peer_id_in(address) else { continue };
            let wanted = allowed.contains(&id);
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
                        info!(%address, "no longer a validator; shut out of the consensus network");
                        active.retain(|a| a != address);
                    }
                    Ok(Err(e)) => warn!(%address, error = %e, "could not remove a consensus peer"),
                    Err(e) => warn!(%address, error = %e, "network request failed"),
                }
            }
        }
        if let Ok(Some(dump)) = NetworkRequest::dump_state(&requests).await {
            let connected = dump.peers.len() as i64;
            let proven = dump
                .peers
                .values()
                .filter(|p| {
                    p.consensus_public_key
                        .as_deref()
                        .and_then(|k| <[u8; 32]>::try_from(k).ok())
                        .is_some_and(|k| keys.contains(&k))
                })
                .count() as i64;
            metrics.consensus_peers.set(connected);
            metrics.consensus_validator_peers.set(proven);
            status.consensus_peers.store(connected, Ordering::Relaxed);
        }
    }
}
