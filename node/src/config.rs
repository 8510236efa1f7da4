//! A node's `config.toml`: addresses, peers, consensus timeouts, block and mempool limits.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use eyre::{eyre, WrapErr};
use malachitebft_config::{
    ConsensusConfig, DiscoveryConfig, P2pConfig, PubSubProtocol, TimeoutConfig, ValuePayload, ValueSyncConfig,
};
use serde::{Deserialize, Serialize};

use huxin_consensus::{EngineConfig, HostConfig};
use huxin_mempool::MempoolConfig;
use huxin_types::PublicKey;

/// Largest config file read.
const CONFIG_BYTES_MAX: u64 = 1024 * 1024;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerConfig {
    /// The peer's node (consensus) public key.
    pub public_key: PublicKey,
    /// Its Malachite consensus address, e.g. `/ip4/127.0.0.1/tcp/26601`.
    pub consensus_addr: String,
    /// Its transaction-gossip address, e.g. `/ip4/127.0.0.1/tcp/26602`.
    pub gossip_addr: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timeouts {
    pub propose_ms: u64,
    pub prevote_ms: u64,
    pub precommit_ms: u64,
    pub delta_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        // Loopback and LAN values; Malachite's defaults (3 s / 1 s / 1 s) suit WANs.
        Self { propose_ms: 2_000, prevote_ms: 500, precommit_ms: 500, delta_ms: 250 }
    }
}

/// Anchoring the node's audit log of supervisor queries on the ledger.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditConfig {
    /// A member signing key (path relative to the node's home) used only to anchor the log; no
    /// anchoring without one. Give it its own key: anchors use the key's nonces.
    pub anchor_key: Option<String>,
    /// How often the node anchors the log's head when it has grown.
    pub anchor_interval_ms: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self { anchor_key: None, anchor_interval_ms: 60_000 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MempoolLimits {
    pub txs_max: usize,
    pub bytes_max: usize,
    pub signer_txs_max: usize,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        let d = MempoolConfig::default();
        Self { txs_max: d.txs_max, bytes_max: d.bytes_max, signer_txs_max: d.signer_txs_max }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeConfig {
    pub moniker: String,
    pub api_listen: SocketAddr,
    pub consensus_listen: String,
    pub gossip_listen: String,
    pub peers: Vec<PeerConfig>,
    /// Sync RocksDB's WAL on every block (survives power loss, not only process crashes).
    pub sync_writes: bool,
    #[serde(default)]
    pub timeouts: Timeouts,
    #[serde(default)]
    pub blocks: HostConfig,
    #[serde(default)]
    pub mempool: MempoolLimits,
    #[serde(default)]
    pub audit: AuditConfig,
    #[serde(default)]
    pub api: huxin_api::events::EventLimits,
}

impl NodeConfig {
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let len = std::fs::metadata(path).wrap_err_with(|| format!("reading {}", path.display()))?.len();
        if len > CONFIG_BYTES_MAX {
            return Err(eyre!("{} is {len} bytes; at most {CONFIG_BYTES_MAX} are read", path.display()));
        }
        let text = std::fs::read_to_string(path)?;
        toml::from_str(&text).wrap_err_with(|| format!("{} is not a valid node config", path.display()))
    }

    pub fn save(&self, path: &Path) -> eyre::Result<()> {
        std::fs::write(path, toml::to_string_pretty(self)?)?;
        Ok(())
    }

    pub fn mempool_config(&self) -> MempoolConfig {
        MempoolConfig {
            txs_max: self.mempool.txs_max,
            bytes_max: self.mempool.bytes_max,
            signer_txs_max: self.mempool.signer_txs_max,
        }
    }

    pub fn engine_config(&self) -> eyre::Result<EngineConfig> {
        let t = &self.timeouts;
        let timeouts = TimeoutConfig {
            timeout_propose: Duration::from_millis(t.propose_ms),
            timeout_propose_delta: Duration::from_millis(t.delta_ms),
            timeout_prevote: Duration::from_millis(t.prevote_ms),
            timeout_prevote_delta: Duration::from_millis(t.delta_ms),
            timeout_precommit: Duration::from_millis(t.precommit_ms),
            timeout_precommit_delta: Duration::from_millis(t.delta_ms),
            timeout_rebroadcast: Duration::from_millis(t.propose_ms + t.prevote_ms + t.precommit_ms),
        };
        let persistent_peers = self
            .peers
            .iter()
            .map(|p| p.consensus_addr.parse().map_err(|e| eyre!("peer address {:?}: {e}", p.consensus_addr)))
            .collect::<eyre::Result<Vec<_>>>()?;
        let p2p = P2pConfig {
            listen_addr: self
                .consensus_listen
                .parse()
                .map_err(|e| eyre!("consensus_listen {:?}: {e}", self.consensus_listen))?,
            persistent_peers,
            discovery: DiscoveryConfig { enabled: false, ..DiscoveryConfig::default() },
            protocol: PubSubProtocol::Broadcast,
            ..P2pConfig::default()
        };
        let value_sync = ValueSyncConfig {
            status_update_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            ..ValueSyncConfig::default()
        };
        Ok(EngineConfig {
            moniker: self.moniker.clone(),
            consensus: ConsensusConfig {
                timeouts,
                p2p,
                value_payload: ValuePayload::ProposalAndParts,
                queue_capacity: 0,
            },
            value_sync,
        })
    }
}
