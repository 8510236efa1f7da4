//! Starting Malachite: hands the engine our context, codec, signer, verifier and network identity
//! (with its validator proof), and runs the [`Host`] loop beside it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use malachitebft_app_channel::app::config::{ConsensusConfig, NodeConfig, ValueSyncConfig};
use malachitebft_app_channel::app::types::codec::Codec;
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_app_channel::{
    ConsensusContext, EngineHandle, NetworkContext, NetworkIdentity, RequestContext, SyncContext, WalContext,
};
use malachitebft_core_types::{LinearTimeouts, ValidatorProof};
use malachitebft_signing::Signer as SignerApi;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::{warn, Instrument};

use huxin_mempool::Mempool;
use huxin_store::Store;
use huxin_types::crypto::Ed25519SecretKey;
use huxin_types::genesis::Genesis;
use huxin_types::{ChainId, SecretKey};

use crate::byzantine::Misbehaviour;
use crate::codec::BorshCodec;
#[cfg(feature = "byzantine")]
use crate::context::{BlockValue, ValueId};
use crate::context::{HuxinContext, PublicKey, Signer, ValidatorCheck, Verifier};
use crate::host::{Finalised, Host, HostConfig};
use crate::status::{Metrics, NodeStatus};
use crate::validators;

/// Capacity of the request channels to the consensus and network actors.
const REQUEST_CHANNEL_CAPACITY: usize = 100;

/// The consensus network's protocol names, carrying the ledger protocol version
/// ([`huxin_types::PROTOCOL_VERSION`]): nodes of different versions share no consensus, sync,
/// discovery or validator-proof protocol, so they never vote or sync together (the transaction
/// gossip's handshake logs why).
pub fn protocol_names(version: u32) -> malachitebft_config::ProtocolNames {
    malachitebft_config::ProtocolNames {
        consensus: format!("/huxin/{version}/consensus"),
        discovery_kad: format!("/huxin/{version}/discovery/kad"),
        discovery_regres: format!("/huxin/{version}/discovery/reqres"),
        sync: format!("/huxin/{version}/sync"),
        validator_proof: format!("/huxin/{version}/validator-proof"),
    }
}

/// The part of the node configuration Malachite reads, plus the per-height timeouts and target
/// block time the host hands the engine at every height.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub moniker: String,
    pub consensus: ConsensusConfig,
    pub value_sync: ValueSyncConfig,
    pub timeouts: LinearTimeouts,
    /// Shortest time from the start of a height to its decision; `None` decides as soon as
    /// 2f+1 precommits arrive.
    pub target_time: Option<Duration>,
    /// Misbehaviour on purpose (tests of the fault model; see [`crate::byzantine`]).
    pub byzantine: Option<Misbehaviour>,
    /// The configured peers: followers (nodes that sync and relay but do not vote, until
    /// governance makes them validators) are let into the consensus network besides the
    /// validators. The operator may replace them while the node runs.
    pub peers: crate::peers::PeerBook,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

/// Everything needed to run consensus for one node.
#[derive(Clone)]
pub struct EngineNode {
    pub home: PathBuf,
    pub config: EngineConfig,
    pub host_config: HostConfig,
    /// The node's network identity (libp2p), ed25519.
    pub node_key: Ed25519SecretKey,
    /// The key it signs votes, proposals and its validator proof with, of the chain's suite (on
    /// an ed25519 chain, the node key itself).
    pub consensus_key: SecretKey,
    pub genesis: Genesis,
    pub store: Arc<Store>,
    pub mempool: Arc<Mutex<Mempool>>,
    pub metrics: Metrics,
    pub status: Arc<NodeStatus>,
    pub finalised: broadcast::Sender<Finalised>,
}

pub struct EngineNodeHandle {
    /// The host loop; it ends with an error if the node must stop.
    pub app: JoinHandle<eyre::Result<()>>,
    pub engine: EngineHandle,
    /// Keeps the consensus peer list in step with the ledger (see [`crate::peers`]); it ends, saying
    /// why, only when the engine's network is gone.
    pub peers: JoinHandle<String>,
}

/// Resolves, with a description, when any of the engine's actors (network, consensus, host, WAL,
/// sync) stops. Malachite's node actor only logs a failed child, so without this watchdog a node
/// could keep serving its API with consensus dead.
pub async fn engine_stopped(cell: ractor::ActorCell) -> String {
    use ractor::ActorStatus;
    let initial = cell.get_children().len();
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if matches!(cell.get_status(), ActorStatus::Stopped | ActorStatus::Stopping) {
            return "the engine's node actor stopped".into();
        }
        let children = cell.get_children();
        if children.len() < initial {
            return format!("{} of the engine's {initial} actors stopped", initial - children.len());
        }
        for child in children {
            let status = child.get_status();
            if matches!(status, ActorStatus::Stopped | ActorStatus::Stopping) {
                let name = child.get_name().unwrap_or_else(|| child.get_id().to_string());
                return format!("engine actor {name} is {status:?}");
            }
        }
    }
}

impl EngineNode {
    fn chain_id(&self) -> ChainId {
        self.genesis.chain_id.clone()
    }

    fn host(&self) -> Host {
        Host::new(
            self.host_config,
            self.config.timeouts,
            self.config.target_time,
            self.genesis.clone(),
            self.store.clone(),
            self.mempool.clone(),
            Signer::new(self.consensus_key.clone(), self.chain_id()),
            PublicKey(self.consensus_key.public_key()),
            self.metrics.clone(),
            self.status.clone(),
            self.finalised.clone(),
        )
    }

    fn keypair(&self) -> Keypair {
        let mut bytes = self.node_key.to_bytes();
        // 32 bytes are always a valid ed25519 secret key.
        Keypair::ed25519_from_bytes(&mut bytes).expect("an ed25519 secret key is 32 bytes")
    }

    /// Admits a peer's validator proof if its key is a validator now or in the scheduled set
    /// (read from the latest persisted state; a read error refuses), or a configured follower's.
    fn validator_check(&self) -> ValidatorCheck {
        let store = self.store.clone();
        let book = self.config.peers.clone();
        Arc::new(move |key: &PublicKey, peer_id: &[u8]| match validators::known_validator_keys(&store) {
            Ok(keys) => keys.contains(&key.0) || book.is_follower_peer(peer_id),
            Err(e) => {
                warn!(error = %e, "validator set unreadable; refusing a validator proof");
                false
            }
        })
    }

    /// Start the engine and the host loop beside it.
    pub async fn start(&self) -> eyre::Result<EngineNodeHandle> {
        #[allow(unused_mut)]
        let mut host = self.host();
        #[cfg(feature = "byzantine")]
        if let Some(misbehaviour) = &self.config.byzantine {
            host.lies = misbehaviour.host;
        }
        let address = host.address;
        let signer = Signer::new(self.consensus_key.clone(), self.chain_id());
        let keypair = self.keypair();
        let public_key = self.consensus_key.public_key().as_bytes().to_vec();
        let proof = SignerApi::sign_validator_proof(&signer, public_key, keypair.public().to_peer_id().to_bytes())
            .await
            .map_err(|e| eyre::eyre!("signing the validator proof: {e}"))?;
        let proof_bytes = Codec::<ValidatorProof<HuxinContext>>::encode(&BorshCodec, &proof)?;
        let identity =
            NetworkIdentity::new_validator(self.config.moniker.clone(), keypair, address.to_string(), proof_bytes);
        crate::peers::check_listen(&self.config.consensus.p2p.listen_addr, "consensus")?;
        let wal_dir = self.home.join("wal");
        std::fs::create_dir_all(&wal_dir)?;
        let wal = WalContext::new(wal_dir.join("consensus.wal"), BorshCodec);
        let consensus = ConsensusContext::new_validator(
            address,
            Box::new(Verifier::new(self.chain_id(), self.validator_check())),
            Box::new(signer),
        );
        let sync = SyncContext::new(BorshCodec);
        let request = RequestContext::new(REQUEST_CHANNEL_CAPACITY);
        let (mut channels, engine) = match self.config.byzantine.clone() {
            None => {
                let network = NetworkContext::new(identity, BorshCodec);
                malachitebft_app_channel::start_engine(
                    HuxinContext,
                    self.config.clone(),
                    wal,
                    network,
                    consensus,
                    sync,
                    request,
                )
                .await?
            }
            #[cfg(feature = "byzantine")]
            Some(misbehaviour) => {
                warn!(?misbehaviour, "this validator misbehaves on purpose ([byzantine] in its config)");
                let byzantine = malachitebft_app_channel::ByzantineContext {
                    identity,
                    codec: crate::byzantine::LyingCodec::new(misbehaviour.host.malformed_messages),
                    config: misbehaviour.engine,
                    signer: Box::new(Signer::new(self.consensus_key.clone(), self.chain_id())),
                    address,
                    conflicting_value_fn: Some(Box::new(|value: &BlockValue| {
                        BlockValue(crate::byzantine::conflicting(&value.0))
                    })),
                    conflicting_vote_value_fn: Some(Box::new(|value: Option<&ValueId>| {
                        value.map_or(ValueId([0xbb; 32]), crate::byzantine::conflicting)
                    })),
                };
                malachitebft_app_channel::EngineBuilder::new(HuxinContext, self.config.clone())
                    .with_default_wal(wal)
                    .with_byzantine_network(byzantine)
                    .await?
                    .with_default_sync(sync)
                    .with_default_consensus(consensus)
                    .with_default_request(request)
                    .build()
                    .await?
            }
            #[cfg(not(feature = "byzantine"))]
            Some(never) => match never {},
        };
        let peers = tokio::spawn(crate::peers::follow_validators(
            self.store.clone(),
            self.config.peers.clone(),
            channels.net_requests.clone(),
            self.metrics.clone(),
            self.status.clone(),
        ));
        let span = tracing::error_span!("host", moniker = %self.config.moniker);
        let app = tokio::spawn(async move { host.run(&mut channels).await }.instrument(span));
        Ok(EngineNodeHandle { app, engine, peers })
    }
}
