//! `huxin start --home DIR`: run one validator node.
//!
//! Home layout: `config.toml`, `genesis.json`, `node_key` (hex ed25519 secret), `db/` (RocksDB),
//! `wal/` (Malachite's write-ahead log), `admin.sock` (backups and peer reloads; see
//! [`crate::admin`]).

use std::path::Path;
use std::sync::{Arc, Mutex};

use eyre::{eyre, WrapErr};
use tokio::sync::broadcast;
use tracing::{error, info, warn};

use huxin_api::{ApiState, LiveStatus, NodeApi, SubmitRefusal};
use huxin_consensus::gossip::{self, GossipConfig};
use huxin_consensus::peers::PeerBook;
use huxin_consensus::{EngineNode, Ingress, Metrics, NodeStatus, Origin, SubmitError};
use huxin_mempool::{Mempool, MempoolError};
use huxin_store::Store;
use huxin_types::crypto::Ed25519SecretKey;
use huxin_types::genesis::Genesis;
use huxin_types::{Rejection, SecretKey, SignedTx, TxHash};

use crate::config::NodeConfig;

pub fn load_genesis(path: &Path) -> eyre::Result<Genesis> {
    let len = std::fs::metadata(path).wrap_err_with(|| format!("reading {}", path.display()))?.len();
    if len as usize > huxin_types::limits::GENESIS_BYTES_MAX {
        return Err(eyre!(
            "{} is {len} bytes; at most {} are read",
            path.display(),
            huxin_types::limits::GENESIS_BYTES_MAX
        ));
    }
    Ok(Genesis::from_json(&std::fs::read_to_string(path)?)?)
}

pub fn load_key(path: &Path) -> eyre::Result<SecretKey> {
    let text = std::fs::read_to_string(path).wrap_err_with(|| format!("reading key {}", path.display()))?;
    SecretKey::from_hex(text.trim()).map_err(|e| eyre!("{}: {e}", path.display()))
}

/// A node's key: its network identity (libp2p), and on an ed25519 chain its consensus key too.
/// Always ed25519 (an SM2 chain's consensus key is the home's `consensus_key`).
pub fn load_node_key(path: &Path) -> eyre::Result<Ed25519SecretKey> {
    load_key(path)?.ed25519().cloned().ok_or_else(|| {
        eyre!(
            "{}: an SM2 key; a node key (the libp2p identity) is ed25519, an SM2 consensus key goes in consensus_key",
            path.display()
        )
    })
}

/// The API's window onto the running node.
struct Service {
    moniker: String,
    protocol_version: u32,
    ingress: Ingress,
    mempool: Arc<Mutex<Mempool>>,
    status: Arc<NodeStatus>,
}

impl NodeApi for Service {
    fn submit(&self, tx: SignedTx) -> Result<TxHash, SubmitRefusal> {
        self.ingress.submit(tx, Origin::Api).map_err(|e| match e {
            SubmitError::Rejected(r) => SubmitRefusal::Rejected(r),
            SubmitError::Mempool(MempoolError::Duplicate(h)) => SubmitRefusal::Duplicate(h),
            SubmitError::Mempool(e @ MempoolError::NonceTaken { .. }) => SubmitRefusal::NonceTaken(e.to_string()),
            SubmitError::Mempool(e) => SubmitRefusal::Full(e.to_string()),
            SubmitError::Unavailable(m) => SubmitRefusal::Unavailable(m),
            SubmitError::Storage(e) => SubmitRefusal::Storage(e.to_string()),
        })
    }

    fn is_pending(&self, hash: &TxHash) -> bool {
        self.mempool.lock().map(|m| m.contains(hash)).unwrap_or(false)
    }

    fn dropped(&self, hash: &TxHash) -> Option<Rejection> {
        self.status.dropped(hash)
    }

    fn live(&self) -> LiveStatus {
        let (txs, bytes) = self.mempool.lock().map(|m| (m.len(), m.bytes())).unwrap_or((0, 0));
        LiveStatus {
            moniker: self.moniker.clone(),
            protocol_version: self.protocol_version,
            round: self.status.round(),
            peers: self.status.peers(),
            consensus_peers: self.status.consensus_peers.load(std::sync::atomic::Ordering::Relaxed),
            mempool_txs: txs,
            mempool_bytes: bytes,
            equivocations: self
                .status
                .equivocations()
                .into_iter()
                .map(|e| huxin_api::EquivocationView {
                    height: e.height,
                    validator: hex::encode(e.validator),
                    proposals: e.proposals,
                    votes: e.votes,
                })
                .collect(),
        }
    }

    fn metrics_text(&self) -> String {
        Metrics::export()
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}

/// The key a node of `home` votes with: its own file on a chain whose suite is not ed25519, else
/// the node key.
pub fn load_consensus_key(home: &Path) -> eyre::Result<SecretKey> {
    let path = home.join(crate::home::CONSENSUS_KEY);
    if path.exists() {
        load_key(&path)
    } else {
        Ok(SecretKey::Ed25519(load_node_key(&home.join("node_key"))?))
    }
}

pub async fn run(home: &Path) -> eyre::Result<()> {
    let config = NodeConfig::load(&home.join("config.toml"))?;
    let genesis = load_genesis(&home.join("genesis.json"))?;
    let key = load_node_key(&home.join("node_key"))?;
    let consensus_key = load_consensus_key(home)?;

    let store = Store::open_keeping(&home.join("db"), config.sync_writes, config.storage.state_versions_kept);
    let store = Arc::new(store.wrap_err("opening the store")?);
    store.set_tree_write_blocks(config.storage.tree_write_blocks);
    store.init_genesis(&genesis).wrap_err("writing genesis")?;
    let latest = store.latest_height()?.unwrap_or_default();
    info!(moniker = %config.moniker, height = %latest, chain = %genesis.chain_id, "node starting");

    let metrics = Metrics::default();
    metrics.register();
    metrics.height.set(latest.0 as i64);
    let status = Arc::new(NodeStatus::default());
    status.height.store(latest.0, std::sync::atomic::Ordering::Relaxed);
    let mempool = Arc::new(Mutex::new(Mempool::new(config.mempool_config())));
    let ingress = Ingress {
        chain_id: genesis.chain_id.clone(),
        suite: genesis.suite,
        store: store.clone(),
        mempool: mempool.clone(),
        gossip: Arc::new(Mutex::new(None)),
        metrics: metrics.clone(),
        status: status.clone(),
    };

    // Transaction gossip among validators only.
    let keypair = {
        let mut bytes = key.to_bytes();
        libp2p::identity::Keypair::ed25519_from_bytes(&mut bytes).map_err(|e| eyre!("node key: {e}"))?
    };
    // The configured peers; `huxin peers add` replaces them while the node runs.
    let book = PeerBook::new(config.peer_list()?);
    let allowed_store = store.clone();
    let allowed_book = book.clone();
    let allowed: gossip::AllowedSource = Box::new(move || {
        let mut peers = gossip::validator_peers(&allowed_store)?;
        peers.extend(allowed_book.get().followers.iter().filter_map(gossip::peer_id_of));
        Some(peers)
    });
    let dial_book = book.clone();
    let peers: gossip::DialSource = Box::new(move || dial_book.get().gossip);
    let engine_config = config.engine_config(book.clone())?;
    let protocol_version = huxin_consensus::byzantine::protocol_version(engine_config.byzantine.as_ref());
    info!(protocol_version, software = env!("CARGO_PKG_VERSION"), "speaking ledger protocol {protocol_version}");
    let gossip_config = GossipConfig {
        listen: config.gossip_listen.parse().map_err(|e| eyre!("gossip_listen {:?}: {e}", config.gossip_listen))?,
        peers,
        allowed,
        topic: format!("huxin/txs/{}", genesis.chain_id),
        protocol_version,
    };
    let inbound = ingress.clone();
    let peers_gauge = status.gossip_peers.clone();
    let (gossip_sender, gossip_task) =
        gossip::spawn(keypair, gossip_config, peers_gauge.clone(), metrics.gossip_rejected.clone(), move |txs| {
            inbound.submit_gossiped(txs)
        })?;
    *ingress.gossip.lock().map_err(|_| eyre!("gossip lock poisoned"))? = Some(gossip_sender);
    if let (Some(misbehaviour), Some(member_key)) =
        (&engine_config.byzantine, genesis.members.first().and_then(|m| m.keys.first()))
    {
        huxin_consensus::byzantine::spawn_flood(
            misbehaviour,
            ingress.gossip.clone(),
            genesis.chain_id.clone(),
            *member_key,
            store.clone(),
        );
    }
    // API.
    let listener = tokio::net::TcpListener::bind(config.api_listen)
        .await
        .wrap_err_with(|| format!("binding the API to {}", config.api_listen))?;
    // Finalised blocks, announced by consensus; the API's event streams follow the latest height.
    let (finalised, _) = broadcast::channel::<huxin_consensus::Finalised>(1024);
    let (heights_tx, heights) = tokio::sync::watch::channel(latest.0);
    let mut decided = finalised.subscribe();
    tokio::spawn(async move {
        loop {
            match decided.recv().await {
                Ok(f) => heights_tx.send_replace(f.height.0),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            };
        }
    });
    let service = Service {
        moniker: config.moniker.clone(),
        protocol_version,
        ingress: ingress.clone(),
        mempool: mempool.clone(),
        status: status.clone(),
    };
    let anchor_key = match &config.audit.anchor_key {
        Some(path) => Some(load_key(&home.join(path))?),
        None => None,
    };
    let anchor_member = match &anchor_key {
        Some(key) => {
            let height = store.latest_height()?.unwrap_or_default();
            let view = huxin_state::StateView::new(store.as_ref(), height.0);
            match huxin_contracts::registry::signer_member(&view, &key.public_key()) {
                Ok(member) => Some(member.id),
                Err(huxin_contracts::Error::Rejected(_)) => None,
                Err(huxin_contracts::Error::State(e)) => {
                    return Err(eyre!("reading the audit anchor key's member: {e}"))
                }
            }
        }
        None => None,
    };
    if anchor_member.is_none() {
        match config.audit.allow_unanchored {
            true => warn!("the audit log is not anchored on the ledger ([audit] allow_unanchored): supervisor queries are served unanchored"),
            false => warn!("the audit log is not anchored on the ledger ([audit] anchor_key unset, or not a member's key): supervisor queries are refused"),
        }
    }
    let audit = Arc::new(
        huxin_api::signed::AuditLog::open(store.clone(), anchor_member, config.audit.allow_unanchored)
            .map_err(|e| eyre!("opening the audit log: {}", e.message))?,
    );
    // The member key that anchors the log also signs this member's credentials.
    let issuer = match (&anchor_key, anchor_member) {
        (Some(key), Some(member)) => Some(huxin_api::credential::Issuer {
            key: key.clone(),
            member,
            base_url: config.credentials.base_url(config.api_listen)?,
        }),
        _ => None,
    };
    let anchoring = anchor_key.is_some();
    if let Some(key) = anchor_key {
        let interval = std::time::Duration::from_millis(config.audit.anchor_interval_ms.max(100));
        let (log, store, ingress, chain) = (audit.clone(), store.clone(), ingress.clone(), genesis.chain_id.clone());
        let unanchored = metrics.audit_unanchored_entries.clone();
        tokio::spawn(crate::anchor::run(log, store, ingress, chain, key, interval, unanchored));
    }
    tokio::spawn(crate::gauges::run(crate::gauges::Sources {
        metrics: metrics.clone(),
        store: store.clone(),
        data_dir: home.join("db"),
        gossip_peers: peers_gauge,
        mempool_txs_max: config.mempool.txs_max,
        unanchored_log: (!anchoring).then(|| audit.clone()),
    }));
    config.api.check().map_err(|e| eyre!("[api] in config.toml: {e}"))?;
    let api_state = ApiState::new(
        Arc::new(service),
        store.clone(),
        genesis.chain_id.clone(),
        heights,
        audit,
        key.public_key().into(),
    )
    .with_event_limits(config.api);
    let api_state = match issuer {
        Some(issuer) => api_state.with_issuer(issuer),
        None => api_state,
    };
    let api_task = tokio::spawn(huxin_api::serve(listener, api_state));
    info!(api = %config.api_listen, "API listening");
    // Without the admin socket (a home path too long for a Unix socket, say) the node still
    // runs; only online backups are unavailable.
    let admin =
        crate::admin::Admin { home: home.to_path_buf(), store: store.clone(), genesis: genesis.clone(), peers: book };
    let admin_task = match crate::admin::serve(admin) {
        Ok(task) => Some(task),
        Err(e) => {
            warn!(error = %format!("{e:#}"), "no admin socket: online backups are unavailable (back up with the node stopped)");
            None
        }
    };

    // Consensus.
    let engine_node = EngineNode {
        home: home.to_path_buf(),
        config: engine_config,
        host_config: config.blocks,
        node_key: key,
        consensus_key,
        genesis,
        store: store.clone(),
        mempool,
        metrics,
        status,
        finalised,
    };
    let mut handle = engine_node.start().await?;
    let engine_cell = handle.engine.actor.get_cell();

    let result = tokio::select! {
        _ = shutdown_signal() => {
            info!("shutting down");
            Ok(())
        }
        r = &mut handle.app => match r {
            Ok(Ok(())) => Err(eyre!("consensus host stopped")),
            Ok(Err(e)) => Err(e.wrap_err("consensus host failed")),
            Err(e) => Err(eyre!("consensus host task failed: {e}")),
        },
        r = &mut handle.engine.handle => {
            Err(eyre!("the consensus engine stopped: {r:?}"))
        }
        what = huxin_consensus::engine_stopped(engine_cell) => Err(eyre!("consensus is dead: {what}")),
        r = &mut handle.peers => match r {
            Ok(why) => Err(eyre!("consensus is dead: {why}")),
            Err(e) => Err(eyre!("the consensus peer task failed: {e}")),
        },
        r = api_task => Err(eyre!("the API server stopped: {r:?}")),
        r = gossip_task => Err(eyre!("transaction gossip stopped: {r:?}")),
    };
    if let Err(e) = &result {
        error!(error = %e, "node stopping");
    }
    if let Err(e) = handle.engine.actor.kill_and_wait(None).await {
        warn!(error = %e, "stopping the engine");
    }
    handle.app.abort();
    handle.peers.abort();
    if let Some(task) = admin_task {
        task.abort();
    }
    let _ = std::fs::remove_file(home.join(crate::admin::ADMIN_SOCKET));
    drop(store);
    result
}
