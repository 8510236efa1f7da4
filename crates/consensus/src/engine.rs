//! Starting Malachite: our implementation of its `Node` trait, which hands the engine our
//! context, codec, keys and genesis, and runs the [`Host`] loop beside it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use malachitebft_app_channel::app::config::{ConsensusConfig, ValueSyncConfig};
use malachitebft_app_channel::app::events::{RxEvent, TxEvent};
use malachitebft_app_channel::app::node::{EngineHandle, Node, NodeConfig, NodeHandle};
use malachitebft_app_channel::app::types::Keypair;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::Instrument;

use huxin_mempool::Mempool;
use huxin_store::Store;
use huxin_types::genesis::Genesis;
use huxin_types::{ChainId, SecretKey};

use crate::codec::BorshCodec;
use crate::context::{Address, Height, HuxinContext, PublicKey, Signer};
use crate::host::{Finalised, Host, HostConfig};
use crate::status::{Metrics, NodeStatus};

/// The part of the node configuration Malachite reads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EngineConfig {
    pub moniker: String,
    pub consensus: ConsensusConfig,
    pub value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct KeyFile {
    pub secret_key: String,
}

/// Everything needed to run consensus for one node.
#[derive(Clone)]
pub struct EngineNode {
    pub home: PathBuf,
    pub config: EngineConfig,
    pub host_config: HostConfig,
    pub key: SecretKey,
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
    pub tx_event: TxEvent<HuxinContext>,
}

#[async_trait]
impl NodeHandle<HuxinContext> for EngineNodeHandle {
    fn subscribe(&self) -> RxEvent<HuxinContext> {
        self.tx_event.subscribe()
    }

    async fn kill(&self, _reason: Option<String>) -> eyre::Result<()> {
        self.engine.actor.kill_and_wait(None).await?;
        self.app.abort();
        self.engine.handle.abort();
        Ok(())
    }
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
            self.genesis.clone(),
            self.store.clone(),
            self.mempool.clone(),
            Signer::new(self.key.clone(), self.chain_id()),
            PublicKey(self.key.public_key().0),
            self.metrics.clone(),
            self.status.clone(),
            self.finalised.clone(),
        )
    }
}

#[async_trait]
impl Node for EngineNode {
    type Context = HuxinContext;
    type Config = EngineConfig;
    type Genesis = Genesis;
    type PrivateKeyFile = KeyFile;
    type SigningProvider = Signer;
    type NodeHandle = EngineNodeHandle;

    async fn start(&self) -> eyre::Result<EngineNodeHandle> {
        let host = self.host();
        let latest = self.store.latest_height()?.ok_or_else(|| eyre::eyre!("store has no genesis"))?;
        let start = Height(latest.0 + 1);
        let validators = host.validator_set(start)?;
        let (mut channels, engine) = malachitebft_app_channel::start_engine(
            HuxinContext,
            self.clone(),
            self.config.clone(),
            BorshCodec,
            BorshCodec,
            Some(start),
            validators,
        )
        .await?;
        let tx_event = channels.events.clone();
        let span = tracing::error_span!("host", moniker = %self.config.moniker);
        let app = tokio::spawn(async move { host.run(&mut channels).await }.instrument(span));
        Ok(EngineNodeHandle { app, engine, tx_event })
    }

    async fn run(self) -> eyre::Result<()> {
        let handle = self.start().await?;
        handle.app.await?
    }

    fn get_home_dir(&self) -> PathBuf {
        self.home.clone()
    }

    fn load_config(&self) -> eyre::Result<EngineConfig> {
        Ok(self.config.clone())
    }

    fn get_address(&self, pk: &PublicKey) -> Address {
        Address::from_public_key(pk)
    }

    fn get_public_key(&self, pk: &SecretKey) -> PublicKey {
        PublicKey(pk.public_key().0)
    }

    fn get_keypair(&self, pk: SecretKey) -> Keypair {
        let mut bytes = pk.to_bytes();
        // 32 bytes are always a valid ed25519 secret key.
        Keypair::ed25519_from_bytes(&mut bytes).expect("an ed25519 secret key is 32 bytes")
    }

    fn load_private_key(&self, file: KeyFile) -> SecretKey {
        SecretKey::from_hex(&file.secret_key).unwrap_or_else(|_| self.key.clone())
    }

    fn load_private_key_file(&self) -> eyre::Result<KeyFile> {
        Ok(KeyFile { secret_key: self.key.to_hex() })
    }

    fn load_genesis(&self) -> eyre::Result<Genesis> {
        Ok(self.genesis.clone())
    }

    fn get_signing_provider(&self, private_key: SecretKey) -> Signer {
        Signer::new(private_key, self.chain_id())
    }
}
