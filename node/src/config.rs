//! A node's `config.toml`: addresses, peers, consensus timeouts, block and mempool limits.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use eyre::{eyre, WrapErr};
use malachitebft_config::{ConsensusConfig, DiscoveryConfig, P2pConfig, PubSubProtocol, ValuePayload, ValueSyncConfig};
use serde::{Deserialize, Serialize};

use huxin_consensus::gossip::GossipPeer;
use huxin_consensus::peers::{PeerBook, Peers};
use huxin_consensus::{EngineConfig, HostConfig, LinearTimeouts};
use huxin_mempool::MempoolConfig;
use huxin_store::{STATE_VERSIONS_KEPT_DEFAULT, STATE_VERSIONS_KEPT_MIN, TREE_WRITE_BLOCKS_DEFAULT};
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
    /// A follower: a node whose key is not a validator's (a centre about to join, a platform's
    /// gateway). Listed here, it is let into both networks: it syncs the chain and relays
    /// transactions, and votes only once governance makes its key a validator.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follower: bool,
}

/// Consensus timeouts. Each grows by `delta_ms` per failed round, up to `max_ms`.
impl PeerConfig {
    /// The peer's node key's bytes: node keys are ed25519 on every chain for now.
    fn ed25519_key(&self) -> eyre::Result<&[u8; 32]> {
        self.public_key.ed25519().map(|k| &k.0).ok_or_else(|| eyre!("peer key {} is not ed25519", self.public_key))
    }

    /// The peer's consensus address with its peer id (`…/p2p/12D3…`): with the id the engine
    /// knows an inbound connection from this peer as a persistent peer's, so
    /// `persistent_peers_only` admits it (without, it refuses peers that dial in before it has
    /// dialled them, and two validators can refuse each other).
    pub fn consensus_address_with_id(&self) -> eyre::Result<String> {
        let peer_id = huxin_consensus::gossip::peer_id_of(self.ed25519_key()?)
            .ok_or_else(|| eyre!("peer key {} is not an ed25519 public key", self.public_key))?;
        Ok(if self.consensus_addr.contains("/p2p/") {
            self.consensus_addr.clone()
        } else {
            format!("{}/p2p/{peer_id}", self.consensus_addr)
        })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timeouts {
    pub propose_ms: u64,
    pub prevote_ms: u64,
    pub precommit_ms: u64,
    pub delta_ms: u64,
    /// Ceiling of any timeout however many rounds fail.
    #[serde(default = "default_timeout_max_ms")]
    pub max_ms: u64,
    /// Shortest time from the start of a height to its decision, so an idle federation does not
    /// write blocks as fast as it can; 0 decides as soon as 2f+1 precommits arrive.
    #[serde(default)]
    pub target_block_ms: u64,
}

fn default_timeout_max_ms() -> u64 {
    30_000
}

/// A missing `[timeouts]` table means a real federation: centres in different cities.
impl Default for Timeouts {
    fn default() -> Self {
        Self::federation()
    }
}

impl Timeouts {
    /// For validators in different cities over a WAN or VPN (round trips of tens of
    /// milliseconds, occasional loss): Malachite's own defaults, and a block at most every second
    /// so an idle federation does not fill its disks with empty blocks.
    pub fn federation() -> Self {
        Self {
            propose_ms: 3_000,
            prevote_ms: 1_000,
            precommit_ms: 1_000,
            delta_ms: 500,
            max_ms: 60_000,
            target_block_ms: 1_000,
        }
    }

    /// For a devnet on one machine (loopback round trips in microseconds).
    pub fn loopback() -> Self {
        Self {
            propose_ms: 2_000,
            prevote_ms: 500,
            precommit_ms: 500,
            delta_ms: 250,
            max_ms: default_timeout_max_ms(),
            target_block_ms: 0,
        }
    }

    pub fn linear(&self) -> LinearTimeouts {
        let ms = Duration::from_millis;
        LinearTimeouts {
            propose: ms(self.propose_ms),
            propose_delta: ms(self.delta_ms),
            prevote: ms(self.prevote_ms),
            prevote_delta: ms(self.delta_ms),
            precommit: ms(self.precommit_ms),
            precommit_delta: ms(self.delta_ms),
            rebroadcast: ms(self.propose_ms + self.prevote_ms + self.precommit_ms),
            max_timeout: ms(self.max_ms.max(self.propose_ms)),
        }
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
    /// Without an anchor key the node serves no supervisor query (503 `audit_unanchored`): an
    /// unanchored log can be rewritten whole. `true` serves them anyway, unanchored.
    #[serde(default)]
    pub allow_unanchored: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self { anchor_key: None, anchor_interval_ms: 60_000, allow_unanchored: false }
    }
}

/// Signing credentials (`GET /v1/subjects/{s}/credential`): the node signs for the member whose
/// key is `[audit] anchor_key`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CredentialsConfig {
    /// The address credential holders reach this node's API at, written into credentials' status
    /// list URLs (default: `http://` and `api_listen`).
    #[serde(default)]
    pub public_url: Option<String>,
}

/// Longest `[credentials] public_url`.
pub const PUBLIC_URL_CHARS_MAX: usize = 256;

impl CredentialsConfig {
    /// The base URL, checked, without a trailing slash.
    pub fn base_url(&self, api_listen: SocketAddr) -> eyre::Result<String> {
        match &self.public_url {
            None => Ok(format!("http://{api_listen}")),
            Some(url) if url.len() > PUBLIC_URL_CHARS_MAX => {
                Err(eyre::eyre!("[credentials] public_url is longer than {PUBLIC_URL_CHARS_MAX} characters"))
            }
            Some(url)
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || url.contains(char::is_whitespace) =>
            {
                Err(eyre::eyre!("[credentials] public_url {url:?} is not an http(s) URL"))
            }
            Some(url) => Ok(url.trim_end_matches('/').to_owned()),
        }
    }
}

/// What the store keeps.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    /// Versions of the Merkle state tree kept (at least [`STATE_VERSIONS_KEPT_MIN`]; 0 keeps every
    /// version). Proofs are made at the latest block, so older versions only take disk; values
    /// stay at every version, and validator changes keep their proofs.
    pub state_versions_kept: u64,
    /// Blocks whose Merkle nodes are held in memory and written together (at least 1, which
    /// writes every block's; at most half of `state_versions_kept`, and 1 when every version is
    /// kept). Nodes replaced within those blocks are never written; after a crash the store
    /// re-executes the blocks since its last write.
    pub tree_write_blocks: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self { state_versions_kept: STATE_VERSIONS_KEPT_DEFAULT, tree_write_blocks: TREE_WRITE_BLOCKS_DEFAULT }
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
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub credentials: CredentialsConfig,
    /// Misbehave on purpose (tests of the fault model only; a build without the `byzantine`
    /// feature refuses to start with this section). See `huxin_consensus::byzantine`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byzantine: Option<toml::Table>,
}

impl NodeConfig {
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let len = std::fs::metadata(path).wrap_err_with(|| format!("reading {}", path.display()))?.len();
        if len > CONFIG_BYTES_MAX {
            return Err(eyre!("{} is {len} bytes; at most {CONFIG_BYTES_MAX} are read", path.display()));
        }
        let text = std::fs::read_to_string(path)?;
        let config: Self =
            toml::from_str(&text).wrap_err_with(|| format!("{} is not a valid node config", path.display()))?;
        let kept = config.storage.state_versions_kept;
        if kept != 0 && kept < STATE_VERSIONS_KEPT_MIN {
            return Err(eyre!(
                "{}: storage.state_versions_kept is {kept}; keep at least {STATE_VERSIONS_KEPT_MIN} versions, or 0 for all",
                path.display()
            ));
        }
        if config.storage.tree_write_blocks == 0 {
            return Err(eyre!(
                "{}: storage.tree_write_blocks is 0; 1 writes every block's Merkle nodes",
                path.display()
            ));
        }
        Ok(config)
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

    /// The configured peers as the node's networks use them (see [`PeerBook`]): consensus
    /// addresses with their peer ids, gossip addresses, and the followers' node keys.
    pub fn peer_list(&self) -> eyre::Result<Peers> {
        let mut peers = Peers::default();
        for p in &self.peers {
            let address = p.consensus_address_with_id()?;
            peers.consensus.push(address.parse().map_err(|e| eyre!("peer address {address:?}: {e}"))?);
            peers.gossip.push(GossipPeer {
                peer_id: huxin_consensus::gossip::peer_id_of(p.ed25519_key()?)
                    .ok_or_else(|| eyre!("peer key {} is not ed25519", p.public_key))?,
                address: p.gossip_addr.parse().map_err(|e| eyre!("gossip address {:?}: {e}", p.gossip_addr))?,
            });
            if p.follower {
                peers.followers.insert(*p.ed25519_key()?);
            }
        }
        Ok(peers)
    }

    /// The engine's configuration, with `book` holding the configured peers (from
    /// [`NodeConfig::peer_list`]).
    pub fn engine_config(&self, book: PeerBook) -> eyre::Result<EngineConfig> {
        let byzantine = match &self.byzantine {
            None => None,
            Some(section) => Some(huxin_consensus::byzantine::parse(section.clone()).map_err(|e| eyre!(e))?),
        };
        let persistent_peers = book.get().consensus;
        let p2p = P2pConfig {
            listen_addr: self
                .consensus_listen
                .parse()
                .map_err(|e| eyre!("consensus_listen {:?}: {e}", self.consensus_listen))?,
            persistent_peers,
            // The consensus network is the validators' full mesh: nobody else is let in, and each
            // peer must also prove (validator-proof handshake) that its key is a validator's.
            persistent_peers_only: true,
            discovery: DiscoveryConfig { enabled: false, ..DiscoveryConfig::default() },
            protocol: PubSubProtocol::Broadcast,
            protocol_names: huxin_consensus::protocol_names(huxin_consensus::byzantine::protocol_version(
                byzantine.as_ref(),
            )),
            ..P2pConfig::default()
        };
        let value_sync = ValueSyncConfig {
            status_update_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            batch_size: huxin_consensus::host::SYNC_VALUES_MAX as usize,
            ..ValueSyncConfig::default()
        };
        let target = self.timeouts.target_block_ms;
        Ok(EngineConfig {
            peers: book,
            moniker: self.moniker.clone(),
            consensus: ConsensusConfig {
                p2p,
                value_payload: ValuePayload::ProposalAndParts,
                ..ConsensusConfig::default()
            },
            value_sync,
            timeouts: self.timeouts.linear(),
            target_time: (target > 0).then(|| Duration::from_millis(target)),
            byzantine,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(extra: &str) -> eyre::Result<NodeConfig> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("config.toml");
        let text = format!(
            "moniker = \"n\"\napi_listen = \"127.0.0.1:1\"\nconsensus_listen = \"/ip4/127.0.0.1/tcp/2\"\n\
             gossip_listen = \"/ip4/127.0.0.1/tcp/3\"\npeers = []\nsync_writes = true\n{extra}"
        );
        std::fs::write(&path, text)?;
        NodeConfig::load(&path)
    }

    #[test]
    fn the_kept_state_versions_default_and_have_a_floor() {
        assert_eq!(load("").unwrap().storage.state_versions_kept, STATE_VERSIONS_KEPT_DEFAULT);
        assert_eq!(load("[storage]\nstate_versions_kept = 0\n").unwrap().storage.state_versions_kept, 0);
        let kept = format!("[storage]\nstate_versions_kept = {STATE_VERSIONS_KEPT_MIN}\n");
        assert_eq!(load(&kept).unwrap().storage.state_versions_kept, STATE_VERSIONS_KEPT_MIN);
        let too_few = format!("[storage]\nstate_versions_kept = {}\n", STATE_VERSIONS_KEPT_MIN - 1);
        let err = load(&too_few).unwrap_err().to_string();
        assert!(err.contains("keep at least 16 versions"), "{err}");
    }

    #[test]
    fn the_tree_write_window_defaults_and_is_at_least_one_block() {
        assert_eq!(load("").unwrap().storage.tree_write_blocks, TREE_WRITE_BLOCKS_DEFAULT);
        assert_eq!(load("[storage]\nstate_versions_kept = 16\n").unwrap().storage.tree_write_blocks, 16);
        assert_eq!(load("[storage]\ntree_write_blocks = 1\n").unwrap().storage.tree_write_blocks, 1);
        let err = load("[storage]\ntree_write_blocks = 0\n").unwrap_err().to_string();
        assert!(err.contains("tree_write_blocks is 0"), "{err}");
    }
}
