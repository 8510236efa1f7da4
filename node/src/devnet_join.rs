//! Growing a devnet: `huxin devnet add-node [--validator]`.
//!
//! A new node gets its own home and node key and follows the chain: every existing node's config
//! lists it, and running nodes let it in at once. With `--validator` it is the trading centre of
//! a new city: its member and audit keys go to `keys/`, and the devnet's centres vote it in
//! through the API as a federation would, first the member (`add_member`), then its node key as a
//! validator (`set_validator`).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use eyre::{eyre, WrapErr};

use huxin_client::Client;
use huxin_contracts::governance::ProposalStatus;
use huxin_contracts::registry::MemberStatus;
use huxin_types::genesis::Role;
use huxin_types::governance::{NewMember, ProposalAction, Propose, Vote};
use huxin_types::receipt::Outcome;
use huxin_types::{Action, Hash32, MemberId, RegionCode, SecretKey};

use crate::ceremony::{write_secret_key, MemberKeys, MemberManifest};
use crate::config::{NodeConfig, PeerConfig};
use crate::devnet::{self, Manifest, ManifestNode, CITIES, LOOPBACK};
use crate::home::{self, HomeSpec, Ports};
use crate::start::load_key;

/// The voting power a devnet gives a validator voted in (the genesis ones have 1 each).
const NEW_VALIDATOR_POWER: u64 = 1;
/// How long each governance transaction may take to be finalised.
const FINALITY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the new validator set may take to come into force once its proposal executed.
const ACTIVATION_TIMEOUT: Duration = Duration::from_secs(60);

/// A node added to a devnet, and, for a validator, the new member it runs for.
pub struct Added {
    pub node: ManifestNode,
    pub centre: Option<MemberManifest>,
}

/// Add a node to a created devnet. A follower (`centre == false`) has a new key that is nobody's
/// validator: it syncs the chain and relays transactions. A centre (`centre == true`) is the
/// trading centre of the next city without keys in `keys/`, with member, audit and node keys as
/// `huxin keygen` makes them; it too starts as a follower until governance makes its node key a
/// validator ([`Voters::vote_in`]). Every existing node's config lists the new one as a follower,
/// so it is let in once they (re)start or reload their peers. Its ports follow the others'
/// (base + 10·i).
pub fn add_node(dir: &Path, centre: bool) -> eyre::Result<Added> {
    let mut manifest = Manifest::load(dir)?;
    let first = manifest.nodes.first().ok_or_else(|| eyre!("the devnet in {} has no node", dir.display()))?;
    let base_port: u16 = first
        .api
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| eyre!("node 0's API address {:?} has no port", first.api))?;
    let i = manifest.nodes.len();
    let base = u16::try_from(i * 10).ok().and_then(|o| base_port.checked_add(o));
    let ports = Ports::from_base(base.ok_or_else(|| eyre!("no ports left above {base_port} for node {i}"))?)?;

    let (moniker, node_key, consensus_key, audit_key, member) = if centre {
        let (key_name, cn, code) = CITIES
            .iter()
            .find(|(name, _, _)| !dir.join("keys").join(format!("{name}.key")).exists())
            .ok_or_else(|| eyre!("every one of the devnet's {} cities already has a centre", CITIES.len()))?;
        let suite = crate::start::load_genesis(&dir.join("genesis.json"))?.suite;
        let keys = MemberKeys::generate(Role::TradingCentre, suite);
        let member = keys.manifest(
            &format!("{cn}市公共资源交易中心"),
            Role::TradingCentre,
            RegionCode::new(*code)?,
            devnet::uscc("12", *code, i as u32 + 1)?,
        );
        let (Some(node), Some(audit)) = (keys.node, keys.audit) else {
            return Err(eyre!("a trading centre's keys include a node and an audit key"));
        };
        write_secret_key(&dir.join("keys").join(format!("{key_name}.key")), &keys.member)?;
        (format!("{key_name}-{i}"), node, keys.consensus, Some(audit), Some(member))
    } else {
        (format!("follower-{i}"), SecretKey::generate(), None, None, None)
    };

    let me = PeerConfig {
        public_key: node_key.public_key(),
        consensus_addr: home::multiaddr("127.0.0.1", ports.consensus)?,
        gossip_addr: home::multiaddr("127.0.0.1", ports.gossip)?,
        follower: true,
    };
    // The new node's own peers: every existing node, as they are configured to reach each other.
    let mut configs = Vec::new();
    for node in &manifest.nodes {
        let path = node.home.join("config.toml");
        configs.push((NodeConfig::load(&path)?, path));
    }
    let peers = manifest
        .nodes
        .iter()
        .zip(&configs)
        .map(|(node, (config, _))| PeerConfig {
            public_key: node.public_key,
            consensus_addr: config.consensus_listen.clone(),
            gossip_addr: config.gossip_listen.clone(),
            follower: false,
        })
        .collect();
    let first = &configs[0].0;
    let spec = HomeSpec {
        moniker,
        listen: LOOPBACK,
        ports,
        peers,
        timeouts: first.timeouts.clone(),
        genesis: &dir.join("genesis.json"),
        node_key: &node_key,
        // A centre of a chain whose suite is not ed25519 votes with its own consensus key.
        consensus_key: consensus_key.as_ref(),
        // A follower has no member key to anchor an audit log with, so it serves no supervisor
        // query; a centre anchors its own.
        audit_key: audit_key.as_ref(),
        anchor_interval_ms: first.audit.anchor_interval_ms,
    };
    let home = dir.join(format!("node{i}"));
    let mut config = home::write(&home, &spec)?;
    // The same limits as the validators it follows.
    config.sync_writes = first.sync_writes;
    config.blocks = first.blocks;
    config.mempool = first.mempool.clone();
    config.api = first.api;
    config.save(&home.join("config.toml"))?;
    for (mut config, path) in configs {
        config.peers.push(me.clone());
        config.save(&path)?;
    }
    let node = ManifestNode {
        moniker: spec.moniker.clone(),
        home: home.canonicalize()?,
        api: format!("http://{}", SocketAddr::new(LOOPBACK, ports.api)),
        public_key: node_key.public_key(),
    };
    manifest.nodes.push(node.clone());
    manifest.save(dir)?;
    Ok(Added { node, centre: member })
}

/// The devnet's trading centres whose member keys are in `keys/`, ready to vote through one
/// running node's API.
pub struct Voters {
    client: Client,
    /// Active trading centres' member keys, in the ledger's member order.
    keys: Vec<SecretKey>,
}

impl Voters {
    /// Check, before anything is written, that the devnet in `dir` is running and that a new
    /// validator can be voted in without stalling it: the validators in force must keep a quorum
    /// (more than two thirds of the power) while the new node is not yet running.
    pub async fn prepare(dir: &Path) -> eyre::Result<Self> {
        let manifest = Manifest::load(dir)?;
        let api = &manifest.nodes.first().ok_or_else(|| eyre!("the devnet in {} has no node", dir.display()))?.api;
        let client = Client::new(api);
        let validators = client.validators().await.wrap_err_with(|| {
            format!("the devnet's first node ({api}) does not answer: start the devnet (huxin devnet --dir {}) before adding a validator", dir.display())
        })?;
        let power: u64 = validators.current.iter().map(|v| v.power).sum();
        if 3 * power <= 2 * (power + NEW_VALIDATOR_POWER) {
            return Err(eyre!(
                "the devnet has {power} validator power; with one more validator it would need the new node's \
                 vote for every block before that node runs. Add it as a follower (without --validator), or \
                 start a devnet of at least 3 validators"
            ));
        }
        let mut held = Vec::new();
        for entry in std::fs::read_dir(dir.join("keys")).wrap_err("reading the devnet's keys/")? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "key") {
                held.push(load_key(&path)?);
            }
        }
        let mut keys = Vec::new();
        for member in client.members().await? {
            if member.role != Role::TradingCentre || member.status != MemberStatus::Active {
                continue;
            }
            if let Some(i) = held.iter().position(|k| member.keys.first() == Some(&k.public_key())) {
                keys.push(held.swap_remove(i));
            }
        }
        if keys.is_empty() {
            return Err(eyre!("no active trading centre's member key is in {}", dir.join("keys").display()));
        }
        Ok(Self { client, keys })
    }

    /// Vote `centre` in: `add_member`, then its node key as a validator. Returns the height from
    /// which the new set is in force on the node voted through.
    pub async fn vote_in(&self, centre: &MemberManifest) -> eyre::Result<u64> {
        let node_key = centre.node_key.ok_or_else(|| eyre!("{} has no node key", centre.name))?;
        let new_member = NewMember {
            name: centre.name.clone(),
            role: centre.role,
            region: centre.region,
            uscc: centre.uscc.clone(),
            keys: centre.keys.clone(),
        };
        let member = MemberId::from_key(&centre.keys[0]);
        self.pass(ProposalAction::AddMember(new_member), &format!("{} joins the devnet", centre.name)).await?;
        // An ed25519 node key is the consensus key; else the consensus key comes with it.
        let (consensus, action) = match centre.consensus_key {
            None => {
                (node_key, ProposalAction::SetValidator { member, public_key: node_key, power: NEW_VALIDATOR_POWER })
            }
            Some(key) => (
                key,
                ProposalAction::SetValidatorWithNodeKey {
                    member,
                    public_key: key,
                    node_key,
                    power: NEW_VALIDATOR_POWER,
                },
            ),
        };
        self.pass(action, &format!("{}'s validator", centre.name)).await?;
        let deadline = Instant::now() + ACTIVATION_TIMEOUT;
        loop {
            let validators = self.client.validators().await?;
            if validators.current.iter().any(|v| v.public_key == consensus) {
                return Ok(validators.height.0);
            }
            if Instant::now() > deadline {
                return Err(eyre!("{consensus} was voted in but is not in force after {ACTIVATION_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Propose `action` with the first centre's key and vote yes with the others until it is
    /// executed.
    async fn pass(&self, action: ProposalAction, reason: &str) -> eyre::Result<()> {
        let (proposer, others) = self.keys.split_first().ok_or_else(|| eyre!("no voter"))?;
        let id = self.finalise(proposer, Action::Propose(Propose { action, reason: reason.into() })).await?;
        for voter in others {
            if self.client.proposal(&id).await?.status != ProposalStatus::Open {
                break;
            }
            self.finalise(voter, Action::Vote(Vote { proposal: id, approve: true })).await?;
        }
        match self.client.proposal(&id).await?.status {
            ProposalStatus::Executed { .. } => Ok(()),
            ProposalStatus::Failed { reason: why, .. } => {
                Err(eyre!("the proposal \"{reason}\" passed but failed: {why}"))
            }
            other => Err(eyre!(
                "the proposal \"{reason}\" is {other:?} after all {} centres whose keys are here voted",
                self.keys.len()
            )),
        }
    }

    /// Sign, submit and wait for `action` to be applied; the transaction's hash.
    async fn finalise(&self, key: &SecretKey, action: Action) -> eyre::Result<Hash32> {
        let hash = self.client.prepare_sign_submit(key, &action).await?;
        let status = self.client.wait_finalised(&hash, FINALITY_TIMEOUT).await?;
        match status.outcome {
            Some(Outcome::Applied) => Ok(Hash32(hash.0)),
            Some(Outcome::Rejected(why)) => Err(eyre!("{hash} was refused: {why}")),
            None => {
                Err(eyre!("{hash} was {}: {}", status.status, status.reason.map(|r| r.to_string()).unwrap_or_default()))
            }
        }
    }
}
