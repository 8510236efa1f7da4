//! A node's home directory: `config.toml`, `genesis.json`, `node_key` and, for a trading centre
//! that anchors its audit log, `audit_key`. `huxin init` writes one for real host addresses; the
//! devnet writes its homes for 127.0.0.1 through the same [`write`].

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use eyre::{eyre, WrapErr};

use huxin_types::genesis::Genesis;
use huxin_types::{PublicKey, SecretKey};

use crate::ceremony::write_secret_key;
use crate::config::{AuditConfig, NodeConfig, PeerConfig, Timeouts};

/// Key files inside a home.
pub const NODE_KEY: &str = "node_key";
/// The consensus key, when it is not the node key (a chain whose suite is not ed25519).
pub const CONSENSUS_KEY: &str = "consensus_key";
pub const AUDIT_KEY: &str = "audit_key";

/// A node's three ports, in the layout every Huxin home uses: the API on `base`, consensus on
/// `base + 1`, transaction gossip on `base + 2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    pub api: u16,
    pub consensus: u16,
    pub gossip: u16,
}

impl Ports {
    pub fn from_base(base: u16) -> eyre::Result<Self> {
        let at = |offset: u16| base.checked_add(offset).ok_or_else(|| eyre!("port {base} + {offset} is above 65535"));
        Ok(Self { api: base, consensus: at(1)?, gossip: at(2)? })
    }
}

/// The multiaddr of `host` (an IP address or a DNS name) on a TCP port.
pub fn multiaddr(host: &str, port: u16) -> eyre::Result<String> {
    let address = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => format!("/ip4/{ip}/tcp/{port}"),
        Ok(IpAddr::V6(ip)) => format!("/ip6/{ip}/tcp/{port}"),
        Err(_) if is_dns_name(host) => format!("/dns/{host}/tcp/{port}"),
        Err(_) => return Err(eyre!("{host:?} is neither an IP address nor a host name")),
    };
    Ok(address)
}

fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A peer as `huxin init --peer` takes it: `PUBLIC_KEY@HOST:CONSENSUS_PORT:GOSSIP_PORT`, where
/// the key is the peer's node key (hex) and HOST an IPv4 address or a host name.
pub fn parse_peer(text: &str, follower: bool) -> eyre::Result<PeerConfig> {
    let usage = || eyre!("peer {text:?}: expected PUBLIC_KEY@HOST:CONSENSUS_PORT:GOSSIP_PORT");
    let (key, address) = text.split_once('@').ok_or_else(usage)?;
    let mut parts = address.rsplitn(3, ':');
    let (Some(gossip), Some(consensus), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(usage());
    };
    let public_key: PublicKey = key.parse().map_err(|e| eyre!("peer {text:?}: its key: {e}"))?;
    if public_key.ed25519().and_then(|k| huxin_consensus::gossip::peer_id_of(&k.0)).is_none() {
        return Err(eyre!("peer {text:?}: {public_key} is not an ed25519 public key"));
    }
    let port = |p: &str| p.parse::<u16>().map_err(|_| eyre!("peer {text:?}: {p:?} is not a port"));
    Ok(PeerConfig {
        public_key,
        consensus_addr: multiaddr(host, port(consensus)?)?,
        gossip_addr: multiaddr(host, port(gossip)?)?,
        follower,
    })
}

/// What a home is made of.
pub struct HomeSpec<'a> {
    pub moniker: String,
    /// The address the node listens on (0.0.0.0 for every interface).
    pub listen: IpAddr,
    pub ports: Ports,
    pub peers: Vec<PeerConfig>,
    pub timeouts: Timeouts,
    pub genesis: &'a Path,
    pub node_key: &'a SecretKey,
    /// On a chain whose suite is not ed25519, the validator's consensus key (without one the
    /// node key is the consensus key).
    pub consensus_key: Option<&'a SecretKey>,
    /// A trading centre's key for anchoring its audit log; without one the node serves no
    /// supervisor query.
    pub audit_key: Option<&'a SecretKey>,
    pub anchor_interval_ms: u64,
}

impl HomeSpec<'_> {
    pub fn config(&self) -> eyre::Result<NodeConfig> {
        let ip = self.listen.to_string();
        Ok(NodeConfig {
            moniker: self.moniker.clone(),
            api_listen: SocketAddr::new(self.listen, self.ports.api),
            consensus_listen: multiaddr(&ip, self.ports.consensus)?,
            gossip_listen: multiaddr(&ip, self.ports.gossip)?,
            peers: self.peers.clone(),
            sync_writes: true,
            timeouts: self.timeouts.clone(),
            blocks: Default::default(),
            mempool: Default::default(),
            audit: AuditConfig {
                anchor_key: self.audit_key.map(|_| AUDIT_KEY.to_owned()),
                anchor_interval_ms: self.anchor_interval_ms,
                allow_unanchored: false,
            },
            api: Default::default(),
            storage: Default::default(),
            credentials: Default::default(),
            byzantine: None,
        })
    }
}

/// Write a home, refusing one that already holds anything (nothing is changed then).
pub fn write(home: &Path, spec: &HomeSpec<'_>) -> eyre::Result<NodeConfig> {
    if home.exists() {
        let mut entries = std::fs::read_dir(home).wrap_err_with(|| format!("reading {}", home.display()))?;
        if entries.next().is_some() {
            return Err(eyre!("{} already exists and is not empty; refusing to overwrite a node home", home.display()));
        }
    }
    let config = spec.config()?;
    let created = !home.exists();
    let written = (|| -> eyre::Result<()> {
        std::fs::create_dir_all(home).wrap_err_with(|| format!("creating {}", home.display()))?;
        std::fs::copy(spec.genesis, home.join("genesis.json"))
            .wrap_err_with(|| format!("copying {} into {}", spec.genesis.display(), home.display()))?;
        write_secret_key(&home.join(NODE_KEY), spec.node_key)?;
        if let Some(key) = spec.consensus_key {
            write_secret_key(&home.join(CONSENSUS_KEY), key)?;
        }
        if let Some(key) = spec.audit_key {
            write_secret_key(&home.join(AUDIT_KEY), key)?;
        }
        config.save(&home.join("config.toml"))
    })();
    if written.is_err() {
        // Leave nothing half-written: the home was empty or absent before.
        if created {
            let _ = std::fs::remove_dir_all(home);
        } else {
            for file in ["genesis.json", NODE_KEY, CONSENSUS_KEY, AUDIT_KEY, "config.toml"] {
                let _ = std::fs::remove_file(home.join(file));
            }
        }
    }
    written.map(|()| config)
}

/// What the node key is in the genesis: a validator's, or a follower's (not yet a validator).
/// A member's signing key is refused: it is the wrong kind of key for a node.
pub fn node_key_role(genesis: &Genesis, key: &PublicKey) -> eyre::Result<Option<String>> {
    if let Some(v) = genesis.validators.iter().find(|v| v.network_key() == *key) {
        return Ok(Some(v.member.clone()));
    }
    if let Some(m) = genesis.members.iter().find(|m| m.keys.contains(key)) {
        return Err(eyre!(
            "{key} is a signing key of member {:?}, not a node key; give the node key (node.key from huxin keygen --dir)",
            m.name
        ));
    }
    Ok(None)
}

/// A consensus key for a node of `node_key`: of the chain's suite, and paired as genesis pairs
/// them. Genesis may name neither (a validator voted in later, `set_validator_with_node_key`);
/// it may not name one of them beside another key.
pub fn check_consensus_key(genesis: &Genesis, key: &SecretKey, node_key: &PublicKey) -> eyre::Result<()> {
    let public = key.public_key();
    if public.suite() != genesis.suite {
        return Err(eyre!(
            "--consensus-key {public} is an {} key; this chain signs with {}",
            public.suite(),
            genesis.suite
        ));
    }
    for v in &genesis.validators {
        if (v.public_key == public) != (v.network_key() == *node_key) {
            return Err(eyre!(
                "--consensus-key {public} with node key {node_key}: genesis names consensus key {} beside node key {}",
                v.public_key,
                v.network_key()
            ));
        }
    }
    Ok(())
}

/// Refuse ports another process already listens on.
pub fn check_ports_free(listen: IpAddr, ports: Ports) -> eyre::Result<()> {
    for (what, port) in [("API", ports.api), ("consensus", ports.consensus), ("gossip", ports.gossip)] {
        TcpListener::bind((listen, port)).map_err(|e| eyre!("{what} port {listen}:{port} cannot be used: {e}"))?;
    }
    Ok(())
}

/// `huxin init`.
#[derive(clap::Args)]
pub struct InitArgs {
    /// The node home to create (refused if it exists and is not empty).
    #[arg(long)]
    pub home: PathBuf,
    /// The federation's genesis.json (check its hash with the other centres first).
    #[arg(long)]
    pub genesis: PathBuf,
    /// This node's key (node.key from `huxin keygen --dir`); copied into the home.
    #[arg(long)]
    pub node_key: PathBuf,
    /// On a chain whose suite is not ed25519, the validator's consensus key (consensus.key from
    /// `huxin keygen --dir`); copied into the home.
    #[arg(long)]
    pub consensus_key: Option<PathBuf>,
    /// The centre's audit-anchoring key (audit.key); without one the node serves no supervisor
    /// query.
    #[arg(long)]
    pub audit_key: Option<PathBuf>,
    /// A name for logs and status (default: the member that runs the validator, or `follower`).
    #[arg(long)]
    pub moniker: Option<String>,
    /// The address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub listen: IpAddr,
    /// The API port; consensus listens on port+1 and gossip on port+2.
    #[arg(long, default_value_t = 26600)]
    pub port: u16,
    /// Another validator: NODE_PUBLIC_KEY@HOST:CONSENSUS_PORT:GOSSIP_PORT (repeat).
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// A follower the validators let in (a centre about to join), in the same form (repeat).
    #[arg(long = "follower-peer")]
    pub followers: Vec<String>,
    /// `federation` (centres in different cities; the default) or `loopback` (one machine).
    #[arg(long, default_value = "federation", value_parser = ["federation", "loopback"])]
    pub timeouts: String,
}

pub fn init(args: InitArgs) -> eyre::Result<()> {
    let genesis = crate::start::load_genesis(&args.genesis)?;
    let node_key = crate::start::load_key(&args.node_key)?;
    let runs = node_key_role(&genesis, &node_key.public_key())?;
    let audit_key = args.audit_key.as_deref().map(crate::start::load_key).transpose()?;
    if let Some(key) = &audit_key {
        let public = key.public_key();
        if public == node_key.public_key()
            || genesis.validators.iter().any(|v| v.network_key() == public || v.public_key == public)
        {
            return Err(eyre!("--audit-key {public} is a node key; give the centre's audit.key"));
        }
    }
    let mut peers = Vec::new();
    for (text, follower) in args.peers.iter().map(|p| (p, false)).chain(args.followers.iter().map(|p| (p, true))) {
        let peer = parse_peer(text, follower)?;
        if peer.public_key == node_key.public_key() {
            return Err(eyre!("peer {text:?} is this node itself"));
        }
        if peers.iter().any(|p: &PeerConfig| p.public_key == peer.public_key) {
            return Err(eyre!("peer key {} is given twice", peer.public_key));
        }
        peers.push(peer);
    }
    let consensus_key = args.consensus_key.as_deref().map(crate::start::load_key).transpose()?;
    if let Some(key) = &consensus_key {
        check_consensus_key(&genesis, key, &node_key.public_key())?;
    }
    let ports = Ports::from_base(args.port)?;
    check_ports_free(args.listen, ports)?;
    let moniker = args.moniker.or_else(|| runs.clone()).unwrap_or_else(|| "follower".to_owned());
    let spec = HomeSpec {
        moniker,
        listen: args.listen,
        ports,
        peers,
        timeouts: if args.timeouts == "loopback" { Timeouts::loopback() } else { Timeouts::federation() },
        genesis: &args.genesis,
        node_key: &node_key,
        consensus_key: consensus_key.as_ref(),
        audit_key: audit_key.as_ref(),
        anchor_interval_ms: AuditConfig::default().anchor_interval_ms,
    };
    let config = write(&args.home, &spec)?;
    println!(
        "wrote node home {} for chain {} (genesis hash {})",
        args.home.display(),
        genesis.chain_id,
        genesis.hash()
    );
    match runs {
        Some(member) => println!("this node runs the validator of {member}"),
        None => println!(
            "this node's key is not a validator's in the genesis: it starts as a follower, and the validators \
             must list it (--follower-peer) to let it in; it votes once governance makes its key a validator"
        ),
    }
    let missing: Vec<_> = genesis
        .validators
        .iter()
        .filter(|v| {
            v.network_key() != node_key.public_key() && !config.peers.iter().any(|p| p.public_key == v.network_key())
        })
        .map(|v| v.member.as_str())
        .collect();
    if !missing.is_empty() {
        println!("warning: no --peer given for the validators of {}", missing.join(", "));
    }
    println!("API {}, consensus {}, gossip {}", config.api_listen, config.consensus_listen, config.gossip_listen);
    println!("start it with: huxin start --home {}", args.home.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use huxin_types::crypto::Suite;

    /// A consensus key genesis pairs with this node key passes, and so does a pair genesis does
    /// not know yet (a validator voted in later); a key genesis names beside another node key, a
    /// node key genesis names beside another consensus key, or a key of the other suite do not.
    #[test]
    fn a_consensus_key_must_pair_with_its_node_key_as_genesis_says() {
        let (consensus, node) = (SecretKey::derive_in(Suite::Sm2Sm3, [1; 32]), SecretKey::from_bytes([2; 32]));
        let member = SecretKey::derive_in(Suite::Sm2Sm3, [3; 32]).public_key();
        let genesis = Genesis {
            chain_id: huxin_types::ChainId::new("t").unwrap(),
            genesis_time: huxin_types::TimestampMs(1),
            members: vec![huxin_types::genesis::GenesisMember {
                name: "杭州".into(),
                role: huxin_types::genesis::Role::TradingCentre,
                region: huxin_types::RegionCode::new(330100).unwrap(),
                uscc: huxin_types::Uscc::with_check("12330100MB0000001").unwrap(),
                keys: vec![member],
            }],
            validators: vec![huxin_types::genesis::GenesisValidator {
                member: "杭州".into(),
                public_key: consensus.public_key(),
                power: 1,
                node_key: Some(node.public_key()),
            }],
            suite: Suite::Sm2Sm3,
        };
        assert!(check_consensus_key(&genesis, &consensus, &node.public_key()).is_ok());
        let (later, later_node) = (SecretKey::derive_in(Suite::Sm2Sm3, [4; 32]), SecretKey::from_bytes([5; 32]));
        assert!(check_consensus_key(&genesis, &later, &later_node.public_key()).is_ok(), "not in genesis yet");
        let refusal = |key: &SecretKey, node: &SecretKey| {
            check_consensus_key(&genesis, key, &node.public_key()).unwrap_err().to_string()
        };
        assert!(refusal(&consensus, &later_node).contains("genesis names consensus key"));
        assert!(refusal(&later, &node).contains("genesis names consensus key"));
        assert!(refusal(&SecretKey::from_bytes([6; 32]), &later_node).contains("this chain signs with sm2-sm3"));
    }

    #[test]
    fn peers_parse_into_multiaddrs_and_bad_ones_say_why() {
        let key = SecretKey::generate().public_key();
        let p = parse_peer(&format!("{key}@10.1.2.3:26601:26602"), false).unwrap();
        assert_eq!(p.consensus_addr, "/ip4/10.1.2.3/tcp/26601");
        assert_eq!(p.gossip_addr, "/ip4/10.1.2.3/tcp/26602");
        let p = parse_peer(&format!("{key}@node.hz-ggzy.example:1:2"), true).unwrap();
        assert_eq!(p.consensus_addr, "/dns/node.hz-ggzy.example/tcp/1");
        assert!(p.follower);
        for bad in [
            format!("{key}"),
            format!("{key}@10.1.2.3:26601"),
            format!("{key}@10.1.2.3:26601:70000"),
            format!("{key}@bad host:1:2"),
            "zz@10.1.2.3:1:2".to_owned(),
            "点@点:1:2".to_owned(),
        ] {
            assert!(parse_peer(&bad, false).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_home_is_written_once_and_a_used_port_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = dir.path().join("genesis.json");
        std::fs::write(&genesis, "{}").unwrap();
        let node_key = SecretKey::generate();
        let spec = HomeSpec {
            consensus_key: None,
            moniker: "hangzhou".into(),
            listen: "127.0.0.1".parse().unwrap(),
            ports: Ports::from_base(26600).unwrap(),
            peers: vec![],
            timeouts: Timeouts::federation(),
            genesis: &genesis,
            node_key: &node_key,
            audit_key: None,
            anchor_interval_ms: 60_000,
        };
        let home = dir.path().join("home");
        let config = write(&home, &spec).unwrap();
        assert_eq!(config.consensus_listen, "/ip4/127.0.0.1/tcp/26601");
        assert_eq!(crate::start::load_key(&home.join(NODE_KEY)).unwrap().public_key(), node_key.public_key());
        let again = write(&home, &spec).unwrap_err().to_string();
        assert!(again.contains("not empty"), "{again}");

        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let err = check_ports_free("127.0.0.1".parse().unwrap(), Ports { api: port, consensus: 0, gossip: 0 })
            .unwrap_err()
            .to_string();
        assert!(err.contains("API port"), "{err}");
        assert!(Ports::from_base(65534).is_err());
    }
}
