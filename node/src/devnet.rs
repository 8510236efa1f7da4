//! Sample networks: `huxin genesis new` and `huxin devnet`.
//!
//! A devnet directory holds `genesis.json`, `devnet.json` (the manifest: chain id and each node's
//! API address), `keys/` (member signing keys), `bench_keys` (extra keys of the first trading centre for the
//! load generator) and one home per node (`node0/`, `node1/`, …). Running `huxin devnet` again on
//! the same directory restarts the same network with its data.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use eyre::{eyre, WrapErr};
use serde::{Deserialize, Serialize};

use huxin_types::crypto::Suite;
use huxin_types::genesis::{Genesis, Role};
use huxin_types::{ChainId, PublicKey, RegionCode, SecretKey, TimestampMs, Uscc};

use crate::ceremony::{self, write_secret_key, MemberKeys};
use crate::config::{PeerConfig, Timeouts};
use crate::home::{self, HomeSpec, Ports};

/// Every devnet node listens on loopback only.
pub(crate) const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// How often a devnet centre anchors its audit log (a real federation's default is a minute).
const DEVNET_ANCHOR_INTERVAL_MS: u64 = 2_000;

/// Cities of Zhejiang province: (key name, Chinese name, GB/T 2260 code).
pub const CITIES: [(&str, &str, u32); 11] = [
    ("hangzhou", "杭州", 330100),
    ("ningbo", "宁波", 330200),
    ("wenzhou", "温州", 330300),
    ("jiaxing", "嘉兴", 330400),
    ("huzhou", "湖州", 330500),
    ("shaoxing", "绍兴", 330600),
    ("jinhua", "金华", 330700),
    ("quzhou", "衢州", 330800),
    ("zhoushan", "舟山", 330900),
    ("taizhou", "台州", 331000),
    ("lishui", "丽水", 331100),
];

/// Keys created with a genesis: each member's signing key by file name, and the node keys.
pub struct GeneratedKeys {
    pub members: Vec<(String, SecretKey)>,
    pub nodes: Vec<SecretKey>,
    /// Each node's consensus key when it is not its node key (a chain whose suite is not ed25519).
    pub consensus: Vec<Option<SecretKey>>,
    pub bench: Vec<SecretKey>,
    /// Each trading centre's key for anchoring its node's audit log.
    pub audit: Vec<SecretKey>,
}

pub(crate) fn uscc(prefix: &str, region: u32, serial: u32) -> eyre::Result<Uscc> {
    Ok(Uscc::with_check(&format!("{prefix}{region:06}MB{serial:07}"))?)
}

/// A genesis for `cities` trading centres (each a validator), one bank (guarantee provider) and
/// one provincial supervisor; `bench_keys` extra keys belong to the first centre (Hangzhou), so
/// load generators can anchor announcements of its tenders with any of them. The keys are made as
/// `huxin keygen --dir` makes them and the genesis assembled as `huxin genesis assemble` does.
pub fn generate(
    chain_id: &str,
    cities: usize,
    bench_keys: usize,
    genesis_time: TimestampMs,
    suite: Suite,
) -> eyre::Result<(Genesis, GeneratedKeys)> {
    if cities == 0 || cities > CITIES.len() {
        return Err(eyre!("between 1 and {} cities are supported, got {cities}", CITIES.len()));
    }
    let mut keys = GeneratedKeys { members: vec![], nodes: vec![], consensus: vec![], bench: vec![], audit: vec![] };
    let mut manifests = Vec::new();
    for (i, (key_name, cn, code)) in CITIES.iter().take(cities).enumerate() {
        let made = MemberKeys::generate(Role::TradingCentre, suite);
        let region = RegionCode::new(*code)?;
        manifests.push(made.manifest(
            &format!("{cn}市公共资源交易中心"),
            Role::TradingCentre,
            region,
            uscc("12", *code, i as u32 + 1)?,
        ));
        let (Some(node), Some(audit)) = (made.node, made.audit) else {
            return Err(eyre!("a trading centre's keys include a node and an audit key"));
        };
        keys.nodes.push(node);
        keys.consensus.push(made.consensus);
        keys.audit.push(audit);
        keys.members.push((key_name.to_string(), made.member));
    }
    for _ in 0..bench_keys {
        let key = SecretKey::generate_in(suite);
        manifests[0].keys.push(key.public_key());
        keys.bench.push(key);
    }
    let others = [
        ("bank", "中国银行杭州分行", Role::GuaranteeProvider, 330100, uscc("91", 330100, 900_001)?),
        ("supervisor", "浙江省发展和改革委员会", Role::Supervisor, 330000, uscc("11", 330000, 900_002)?),
    ];
    for (key_name, name, role, region, uscc) in others {
        let made = MemberKeys::generate(role, suite);
        manifests.push(made.manifest(name, role, RegionCode::new(region)?, uscc));
        keys.members.push((key_name.into(), made.member));
    }
    let genesis = ceremony::assemble(ChainId::new(chain_id)?, genesis_time, &manifests)?;
    Ok((genesis, keys))
}

pub fn now_ms() -> TimestampMs {
    TimestampMs(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
    )
}

/// Write a genesis and its member keys under `out` (`genesis.json`, `keys/*.key`, `bench_keys`,
/// `node_keys/*.key`).
pub fn write_genesis(out: &Path, genesis: &Genesis, keys: &GeneratedKeys) -> eyre::Result<()> {
    let path = out.join("genesis.json");
    if path.exists() {
        return Err(eyre!("{} already exists; refusing to overwrite a genesis and its keys", path.display()));
    }
    std::fs::create_dir_all(out.join("keys"))?;
    std::fs::write(&path, serde_json::to_string_pretty(genesis)?)?;
    for (name, key) in &keys.members {
        write_secret_key(&out.join("keys").join(format!("{name}.key")), key)?;
    }
    let bench: String = keys.bench.iter().map(|k| format!("{}\n", k.to_hex())).collect();
    ceremony::write_secret_file(&out.join("bench_keys"), &bench)?;
    Ok(())
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestNode {
    pub moniker: String,
    pub home: PathBuf,
    pub api: String,
    pub public_key: PublicKey,
}

/// A devnet directory's manifest file (what [`Manifest::save`] writes).
const MANIFEST_FILE: &str = "devnet.json";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub chain_id: ChainId,
    pub nodes: Vec<ManifestNode>,
}

impl Manifest {
    pub fn load(dir: &Path) -> eyre::Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).wrap_err_with(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).wrap_err_with(|| format!("{} is not a devnet manifest", path.display()))
    }

    /// Write this manifest as the devnet directory `dir`'s `devnet.json`.
    pub fn save(&self, dir: &Path) -> eyre::Result<()> {
        let path = dir.join(MANIFEST_FILE);
        std::fs::write(&path, serde_json::to_string_pretty(self)?)
            .wrap_err_with(|| format!("writing {}", path.display()))
    }
}

/// Create a devnet directory for `validators` nodes on 127.0.0.1, ports from `base_port`, with
/// genesis at `genesis_time`.
pub fn create(
    dir: &Path,
    validators: usize,
    base_port: u16,
    bench_keys: usize,
    genesis_time: TimestampMs,
    suite: Suite,
) -> eyre::Result<Manifest> {
    let (genesis, keys) = generate("huxin-devnet", validators, bench_keys, genesis_time, suite)?;
    std::fs::create_dir_all(dir)?;
    write_genesis(dir, &genesis, &keys)?;
    let ports = |i: usize| -> eyre::Result<Ports> {
        let base = u16::try_from(i * 10).ok().and_then(|o| base_port.checked_add(o));
        Ports::from_base(base.ok_or_else(|| eyre!("no ports left above {base_port} for node {i}"))?)
    };
    let mut nodes = Vec::new();
    for (i, key) in keys.nodes.iter().enumerate() {
        let moniker = format!("{}-{i}", CITIES[i].0);
        let home = dir.join(format!("node{i}"));
        let mut peers = Vec::new();
        for (j, k) in keys.nodes.iter().enumerate().filter(|(j, _)| *j != i) {
            let p = ports(j)?;
            peers.push(PeerConfig {
                public_key: k.public_key(),
                consensus_addr: home::multiaddr("127.0.0.1", p.consensus)?,
                gossip_addr: home::multiaddr("127.0.0.1", p.gossip)?,
                follower: false,
            });
        }
        let spec = HomeSpec {
            moniker: moniker.clone(),
            listen: LOOPBACK,
            ports: ports(i)?,
            peers,
            timeouts: Timeouts::loopback(),
            genesis: &dir.join("genesis.json"),
            node_key: key,
            consensus_key: keys.consensus[i].as_ref(),
            audit_key: Some(&keys.audit[i]),
            anchor_interval_ms: DEVNET_ANCHOR_INTERVAL_MS,
        };
        home::write(&home, &spec)?;
        nodes.push(ManifestNode {
            moniker,
            home: home.canonicalize()?,
            api: format!("http://{}", SocketAddr::new(LOOPBACK, spec.ports.api)),
            public_key: key.public_key(),
        });
    }
    let manifest = Manifest { chain_id: genesis.chain_id.clone(), nodes };
    manifest.save(dir)?;
    Ok(manifest)
}

/// The command that starts the node whose home is `home`, with the allocator's setting
/// ([`crate::ALLOCATOR_KEEPS_FREED_MEMORY`]) unless this process's environment says otherwise.
fn node_command(exe: &Path, home: &Path) -> Command {
    let mut command = Command::new(exe);
    command.arg("start").arg("--home").arg(home).stdin(Stdio::null());
    crate::keep_freed_memory(&mut command);
    command
}

pub fn spawn_node(exe: &Path, home: &Path) -> eyre::Result<Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(home.join("node.log"))?;
    let child =
        node_command(exe, home).stdout(log.try_clone()?).stderr(log).spawn().wrap_err("starting a node process")?;
    Ok(child)
}

pub fn terminate(children: &mut [Child]) {
    for child in children.iter() {
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for child in children.iter_mut() {
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
    }
}

/// `huxin devnet`: create (or reuse) the directory, start every node, report progress until
/// Ctrl-C, then stop them all.
pub async fn run(dir: &Path, validators: usize, base_port: u16, bench_keys: usize, suite: Suite) -> eyre::Result<()> {
    let manifest = if dir.join(MANIFEST_FILE).exists() {
        let m = Manifest::load(dir)?;
        println!("reusing devnet in {} ({} nodes)", dir.display(), m.nodes.len());
        m
    } else {
        let m = create(dir, validators, base_port, bench_keys, now_ms(), suite)?;
        println!("created devnet in {} ({} nodes, chain {}, {suite})", dir.display(), m.nodes.len(), m.chain_id);
        m
    };
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for node in &manifest.nodes {
        children.push(spawn_node(&exe, &node.home)?);
        println!("  {:<12} API {}   logs {}", node.moniker, node.api, node.home.join("node.log").display());
    }
    println!("member keys in {}; press Ctrl-C to stop", dir.join("keys").display());

    let clients: Vec<_> = manifest.nodes.iter().map(|n| huxin_client::Client::new(&n.api)).collect();
    // Create the signal streams once: a signal that arrives while the loop is busy is kept.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut terminate_signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut last_height = 0;
    let mut exited = vec![false; children.len()];
    loop {
        tokio::select! {
            _ = interrupt.recv() => break,
            _ = terminate_signal.recv() => break,
            _ = tick.tick() => {
                for (i, child) in children.iter_mut().enumerate() {
                    if !exited[i] {
                        if let Ok(Some(status)) = child.try_wait() {
                            exited[i] = true;
                            println!("node {} exited ({status}); see {}", manifest.nodes[i].moniker, manifest.nodes[i].home.join("node.log").display());
                        }
                    }
                }
                let mut heights = Vec::new();
                for client in &clients {
                    heights.push(client.status().await.ok().map(|s| s.latest_height));
                }
                let max = heights.iter().flatten().max().copied().unwrap_or(0);
                if max != last_height {
                    let shown: Vec<String> = heights.iter().map(|h| h.map_or("-".into(), |h| h.to_string())).collect();
                    println!("finalised height {max}  (per node: {})", shown.join(" "));
                    last_height = max;
                }
            }
        }
    }
    println!("stopping {} nodes", children.len());
    terminate(&mut children);
    println!("stopped; run the same command again to restart with the same data");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::path::Path;

    #[test]
    fn a_node_process_starts_with_the_allocator_keeping_freed_memory() {
        let (name, value) = crate::ALLOCATOR_KEEPS_FREED_MEMORY;
        let command = super::node_command(Path::new("huxin"), Path::new("home"));
        let set = command.get_envs().find(|(key, _)| *key == OsStr::new(name)).and_then(|(_, v)| v);
        match std::env::var_os(name) {
            // Not set here: the node gets the setting.
            None => assert_eq!(set, Some(OsStr::new(value))),
            // Set here: the node inherits this process's value, untouched.
            Some(_) => assert_eq!(set, None),
        }
    }
}
