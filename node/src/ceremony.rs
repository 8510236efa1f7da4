//! The key ceremony of a real federation.
//!
//! Each centre, bank or supervisor makes its own keys where its operator keeps them
//! (`huxin keygen --dir`), and sends in only the public half: a [`MemberManifest`]. One of them
//! assembles the genesis from the manifests (`huxin genesis assemble`) and every centre checks the
//! printed genesis hash before it starts a node. No private key ever leaves the machine it was made
//! on. `huxin genesis new` and the devnet go through the same assembly.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use eyre::{eyre, WrapErr};
use serde::{Deserialize, Serialize};

use huxin_types::crypto::Suite;
use huxin_types::genesis::{Genesis, GenesisMember, GenesisValidator, Role};
use huxin_types::limits::MEMBER_KEYS_MAX;
use huxin_types::{ChainId, PublicKey, RegionCode, SecretKey, TimestampMs, Uscc};

/// Largest member manifest read.
pub const MANIFEST_BYTES_MAX: u64 = 64 * 1024;
/// Most manifests one genesis is assembled from.
pub const MANIFESTS_MAX: usize = 1_000;

/// What a member sends in for the genesis: everything public about it, nothing secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberManifest {
    pub name: String,
    pub role: Role,
    pub region: RegionCode,
    pub uscc: Uscc,
    /// Transaction-signing keys; the first fixes the member id. A trading centre's second key
    /// anchors its node's audit log.
    pub keys: Vec<PublicKey>,
    /// A trading centre's validator (node) key; other roles run no validator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_key: Option<PublicKey>,
    /// On a chain whose suite is not ed25519, the validator's consensus key (the node key then
    /// is only its network identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus_key: Option<PublicKey>,
}

impl MemberManifest {
    /// Read a manifest file: bounded, and every field checked by its own parser.
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let len = std::fs::metadata(path).wrap_err_with(|| format!("reading manifest {}", path.display()))?.len();
        if len > MANIFEST_BYTES_MAX {
            return Err(eyre!("manifest {} is {len} bytes; at most {MANIFEST_BYTES_MAX} are read", path.display()));
        }
        let text = std::fs::read_to_string(path).wrap_err_with(|| format!("reading manifest {}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| eyre!("{} is not a member manifest: {e}", path.display()))
    }
}

/// Why a set of manifests does not make a genesis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssembleError {
    #[error("no manifest given")]
    Empty,
    #[error("{got} manifests given; at most {max} are assembled")]
    TooMany { got: usize, max: usize },
    #[error("member name {0:?} is sent in twice")]
    DuplicateName(String),
    #[error("USCC {uscc} is claimed by both {first:?} and {second:?}")]
    DuplicateUscc { uscc: Uscc, first: String, second: String },
    #[error("key {key} appears twice (in {first:?} and {second:?}); every key must be made fresh")]
    DuplicateKey { key: PublicKey, first: String, second: String },
    #[error("member {name:?} has {got} signing keys; 1..={max} expected")]
    KeyCount { name: String, got: usize, max: usize },
    #[error("member {name:?} is a {role} and names a node key; only trading centres run validators")]
    NodeKeyNotCentre { name: String, role: &'static str },
    #[error("no trading centre names a node key: a genesis needs at least one validator")]
    NoValidators,
    #[error("{0}")]
    Genesis(#[from] huxin_types::genesis::GenesisError),
}

/// Build a genesis from the members' manifests, in the order given; every trading centre that
/// names a node key runs a validator of power 1.
pub fn assemble(
    chain_id: ChainId,
    genesis_time: TimestampMs,
    manifests: &[MemberManifest],
) -> Result<Genesis, AssembleError> {
    if manifests.is_empty() {
        return Err(AssembleError::Empty);
    }
    if manifests.len() > MANIFESTS_MAX {
        return Err(AssembleError::TooMany { got: manifests.len(), max: MANIFESTS_MAX });
    }
    let mut names = BTreeSet::new();
    let mut usccs: Vec<(&Uscc, &str)> = Vec::new();
    let mut keys: Vec<(PublicKey, &str)> = Vec::new();
    let mut members = Vec::new();
    let mut validators = Vec::new();
    for m in manifests {
        if !names.insert(m.name.as_str()) {
            return Err(AssembleError::DuplicateName(m.name.clone()));
        }
        if let Some((_, first)) = usccs.iter().find(|(u, _)| **u == m.uscc) {
            return Err(AssembleError::DuplicateUscc {
                uscc: m.uscc.clone(),
                first: first.to_string(),
                second: m.name.clone(),
            });
        }
        usccs.push((&m.uscc, &m.name));
        if m.keys.is_empty() || m.keys.len() > MEMBER_KEYS_MAX {
            return Err(AssembleError::KeyCount { name: m.name.clone(), got: m.keys.len(), max: MEMBER_KEYS_MAX });
        }
        for key in m.keys.iter().chain(m.node_key.iter()).chain(m.consensus_key.iter()) {
            if let Some((_, first)) = keys.iter().find(|(k, _)| k == key) {
                return Err(AssembleError::DuplicateKey {
                    key: *key,
                    first: first.to_string(),
                    second: m.name.clone(),
                });
            }
            keys.push((*key, &m.name));
        }
        if let Some(node_key) = m.node_key {
            if m.role != Role::TradingCentre {
                return Err(AssembleError::NodeKeyNotCentre { name: m.name.clone(), role: m.role.as_str() });
            }
            validators.push(match m.consensus_key {
                Some(consensus) => GenesisValidator {
                    member: m.name.clone(),
                    public_key: consensus,
                    power: 1,
                    node_key: Some(node_key),
                },
                None => GenesisValidator { member: m.name.clone(), public_key: node_key, power: 1, node_key: None },
            });
        }
        members.push(GenesisMember {
            name: m.name.clone(),
            role: m.role,
            region: m.region,
            uscc: m.uscc.clone(),
            keys: m.keys.clone(),
        });
    }
    if validators.is_empty() {
        return Err(AssembleError::NoValidators);
    }
    // The suite is the members' keys' (genesis validation refuses a mix).
    let suite = members.first().and_then(|m| m.keys.first()).map(|k| k.suite()).unwrap_or_default();
    let genesis = Genesis { chain_id, genesis_time, members, validators, suite };
    genesis.validate()?;
    Ok(genesis)
}

/// A member's keys as `huxin keygen --dir` makes them: the signing key, and for a trading centre
/// the audit-anchoring key, the node key and, on a chain whose suite is not ed25519, the
/// consensus key.
pub struct MemberKeys {
    pub member: SecretKey,
    pub audit: Option<SecretKey>,
    /// ed25519: the node's network identity, and on an ed25519 chain its consensus key too.
    pub node: Option<SecretKey>,
    /// Of the chain's suite, when that is not ed25519: the key the validator votes with.
    pub consensus: Option<SecretKey>,
}

impl MemberKeys {
    /// Fresh keys for a member of a chain of `suite`: its signing, audit and consensus keys are
    /// of the suite; the node key is ed25519 (libp2p has no other identities).
    pub fn generate(role: Role, suite: Suite) -> Self {
        let centre = role == Role::TradingCentre;
        Self {
            member: SecretKey::generate_in(suite),
            audit: centre.then(|| SecretKey::generate_in(suite)),
            node: centre.then(SecretKey::generate),
            consensus: (centre && suite != Suite::Ed25519Sha256).then(|| SecretKey::generate_in(suite)),
        }
    }

    pub fn manifest(&self, name: &str, role: Role, region: RegionCode, uscc: Uscc) -> MemberManifest {
        let mut keys = vec![self.member.public_key()];
        keys.extend(self.audit.iter().map(SecretKey::public_key));
        MemberManifest {
            name: name.to_owned(),
            role,
            region,
            uscc,
            keys,
            node_key: self.node.as_ref().map(SecretKey::public_key),
            consensus_key: self.consensus.as_ref().map(SecretKey::public_key),
        }
    }
}

/// Files `huxin keygen --dir` writes.
pub const MEMBER_KEY_FILE: &str = "member.key";
pub const AUDIT_KEY_FILE: &str = "audit.key";
pub const NODE_KEY_FILE: &str = "node.key";
pub const CONSENSUS_KEY_FILE: &str = "consensus.key";
pub const MANIFEST_FILE: &str = "manifest.json";

/// Write a secret key readable by its owner only (mode 0600), refusing to replace a file.
pub fn write_secret_key(path: &Path, key: &SecretKey) -> eyre::Result<()> {
    write_secret_file(path, &format!("{}\n", key.to_hex()))
}

/// Write a file of secrets readable by its owner only (mode 0600), refusing to replace a file.
pub fn write_secret_file(path: &Path, contents: &str) -> eyre::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            eyre!("{} already exists; refusing to overwrite a key", path.display())
        }
        _ => eyre!("writing {}: {e}", path.display()),
    })?;
    file.write_all(contents.as_bytes()).wrap_err_with(|| format!("writing {}", path.display()))?;
    file.sync_all().wrap_err_with(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `huxin keygen --dir DIR ...`: make a member's keys in `dir` and its manifest beside them.
/// Refuses, writing nothing, when any of the files already exists.
pub fn keygen_member(
    dir: &Path,
    name: &str,
    role: Role,
    region: RegionCode,
    uscc: Uscc,
    suite: Suite,
) -> eyre::Result<MemberManifest> {
    if name.trim().is_empty() {
        return Err(eyre!("--name is empty: give the member's registered name"));
    }
    let keys = MemberKeys::generate(role, suite);
    let mut files: Vec<(PathBuf, &SecretKey)> = vec![(dir.join(MEMBER_KEY_FILE), &keys.member)];
    files.extend(keys.audit.iter().map(|k| (dir.join(AUDIT_KEY_FILE), k)));
    files.extend(keys.node.iter().map(|k| (dir.join(NODE_KEY_FILE), k)));
    files.extend(keys.consensus.iter().map(|k| (dir.join(CONSENSUS_KEY_FILE), k)));
    let manifest_path = dir.join(MANIFEST_FILE);
    for path in files.iter().map(|(p, _)| p).chain([&manifest_path]) {
        if path.exists() {
            return Err(eyre!("{} already exists; refusing to overwrite (nothing written)", path.display()));
        }
    }
    std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    for (path, key) in &files {
        write_secret_key(path, key)?;
    }
    let manifest = keys.manifest(name, role, region, uscc);
    std::fs::write(&manifest_path, serde_json::to_string_pretty(&manifest)? + "\n")
        .wrap_err_with(|| format!("writing {}", manifest_path.display()))?;
    Ok(manifest)
}

/// `huxin genesis assemble`: read the manifests, build the genesis, write it to `out` (refusing
/// to replace a file).
pub fn assemble_files(
    chain_id: ChainId,
    genesis_time: TimestampMs,
    manifests: &[PathBuf],
    out: &Path,
) -> eyre::Result<Genesis> {
    if out.exists() {
        return Err(eyre!("{} already exists; refusing to overwrite a genesis", out.display()));
    }
    let manifests = manifests.iter().map(|p| MemberManifest::load(p)).collect::<eyre::Result<Vec<_>>>()?;
    let genesis = assemble(chain_id, genesis_time, &manifests)?;
    std::fs::write(out, serde_json::to_string_pretty(&genesis)? + "\n")
        .wrap_err_with(|| format!("writing {}", out.display()))?;
    Ok(genesis)
}

/// `huxin keygen`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("where").required(true).args(["out", "dir"])))]
pub struct KeygenArgs {
    /// Write one secret key of `--suite` (hex, mode 0600) to this file and print its public half.
    #[arg(long, conflicts_with_all = ["dir", "name", "role", "region", "uscc"])]
    pub out: Option<PathBuf>,
    /// Make a member's keys in this directory: member.key, and for a trading centre audit.key
    /// and node.key (mode 0600), with manifest.json, the public half to send in for the genesis.
    #[arg(long, requires_all = ["name", "role", "region", "uscc"])]
    pub dir: Option<PathBuf>,
    /// The member's registered name, e.g. 杭州市公共资源交易中心.
    #[arg(long)]
    pub name: Option<String>,
    /// trading_centre, guarantee_provider or supervisor.
    #[arg(long, value_parser = parse_role)]
    pub role: Option<Role>,
    /// The member's region (GB/T 2260 code, 6 digits).
    #[arg(long, value_parser = parse_region)]
    pub region: Option<RegionCode>,
    /// The member's unified social credit code (18 characters, with its check character).
    #[arg(long, value_parser = parse_uscc)]
    pub uscc: Option<Uscc>,
    /// The chain's suite: ed25519-sha256 or sm2-sm3 (signing and audit keys; a node key is
    /// ed25519 on every chain).
    #[arg(long, default_value = "ed25519-sha256")]
    pub suite: Suite,
}

fn parse_role(text: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("unknown role {text:?}; expected trading_centre, guarantee_provider or supervisor"))
}

fn parse_region(text: &str) -> Result<RegionCode, String> {
    text.parse().map_err(|e| format!("{e}"))
}

fn parse_uscc(text: &str) -> Result<Uscc, String> {
    Uscc::parse(text).map_err(|e| format!("{e}"))
}

pub fn keygen(args: KeygenArgs) -> eyre::Result<()> {
    match (args.out, args.dir, args.name, args.role, args.region, args.uscc) {
        (Some(out), None, ..) => {
            let key = SecretKey::generate_in(args.suite);
            write_secret_key(&out, &key)?;
            println!("{}", key.public_key());
        }
        (None, Some(dir), Some(name), Some(role), Some(region), Some(uscc)) => {
            let manifest = keygen_member(&dir, &name, role, region, uscc, args.suite)?;
            eprintln!(
                "keys in {} (readable by their owner only); send in only {}",
                dir.display(),
                dir.join(MANIFEST_FILE).display()
            );
            println!("{}", serde_json::to_string_pretty(&manifest)?);
        }
        _ => return Err(eyre!("give --out FILE, or --dir DIR with --name, --role, --region and --uscc")),
    }
    Ok(())
}

/// `huxin genesis assemble`.
#[derive(clap::Args)]
pub struct AssembleArgs {
    #[arg(long)]
    pub chain_id: String,
    /// Genesis time in Unix milliseconds (default: now). Block 1 must come after it.
    #[arg(long)]
    pub genesis_time_ms: Option<u64>,
    /// Member manifests (manifest.json from each member's `huxin keygen --dir`), in the order
    /// the genesis lists them.
    #[arg(long = "manifest", required = true)]
    pub manifests: Vec<PathBuf>,
    /// Where to write genesis.json (refused if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn assemble_command(args: AssembleArgs) -> eyre::Result<()> {
    let chain_id = ChainId::new(&args.chain_id)?;
    let time = args.genesis_time_ms.map(TimestampMs).unwrap_or_else(crate::devnet::now_ms);
    let genesis = assemble_files(chain_id, time, &args.manifests, &args.out)?;
    println!(
        "wrote {}: chain {}, {} members, {} validators",
        args.out.display(),
        genesis.chain_id,
        genesis.members.len(),
        genesis.validators.len()
    );
    println!("genesis hash {}  (every centre checks this before starting its node)", genesis.hash());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre(n: u32) -> (MemberKeys, MemberManifest) {
        let keys = MemberKeys::generate(Role::TradingCentre, Suite::default());
        let region = RegionCode::new(330100 + n * 100).unwrap();
        let uscc = Uscc::with_check(&format!("12{:06}MB{n:07}", 330100 + n * 100)).unwrap();
        let m = keys.manifest(&format!("centre {n}"), Role::TradingCentre, region, uscc);
        (keys, m)
    }

    fn chain() -> ChainId {
        ChainId::new("huxin-test").unwrap()
    }

    #[test]
    fn manifests_assemble_into_a_genesis_with_one_validator_per_centre() {
        let ms: Vec<_> = (0..4).map(|n| centre(n).1).collect();
        let g = assemble(chain(), TimestampMs(1), &ms).unwrap();
        assert_eq!(g.validators.len(), 4);
        assert_eq!(g.members[2].keys, ms[2].keys);
        assert_eq!(g.validators[3].public_key, ms[3].node_key.unwrap());
        // The same manifests give the same genesis hash, whoever assembles them.
        assert_eq!(g.hash(), assemble(chain(), TimestampMs(1), &ms).unwrap().hash());
    }

    #[test]
    fn duplicates_and_missing_validators_are_refused_by_name() {
        let (_, a) = centre(1);
        let (_, mut b) = centre(2);
        b.name = a.name.clone();
        assert_eq!(
            assemble(chain(), TimestampMs(1), &[a.clone(), b]),
            Err(AssembleError::DuplicateName(a.name.clone()))
        );

        let (_, mut b) = centre(2);
        b.uscc = a.uscc.clone();
        assert!(matches!(assemble(chain(), TimestampMs(1), &[a.clone(), b]), Err(AssembleError::DuplicateUscc { .. })));

        let (_, mut b) = centre(2);
        b.node_key = a.node_key;
        assert!(matches!(assemble(chain(), TimestampMs(1), &[a.clone(), b]), Err(AssembleError::DuplicateKey { .. })));

        let (_, mut b) = centre(2);
        b.role = Role::GuaranteeProvider;
        assert!(matches!(
            assemble(chain(), TimestampMs(1), &[a.clone(), b]),
            Err(AssembleError::NodeKeyNotCentre { role: "guarantee_provider", .. })
        ));

        let mut a = a;
        a.node_key = None;
        assert_eq!(assemble(chain(), TimestampMs(1), &[a.clone()]), Err(AssembleError::NoValidators));
        a.keys.clear();
        assert!(matches!(assemble(chain(), TimestampMs(1), &[a]), Err(AssembleError::KeyCount { got: 0, .. })));
        assert_eq!(assemble(chain(), TimestampMs(1), &[]), Err(AssembleError::Empty));
    }

    #[test]
    fn a_manifest_with_a_bad_uscc_or_an_unknown_role_is_refused_with_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let (_, m) = centre(1);
        let mut value = serde_json::to_value(&m).unwrap();
        let valid = m.uscc.as_str();
        let wrong_check = if valid.ends_with('0') { '1' } else { '0' };
        value["uscc"] = format!("{}{wrong_check}", &valid[..17]).into();
        let bad_uscc = dir.path().join("bad_uscc.json");
        std::fs::write(&bad_uscc, value.to_string()).unwrap();
        let err = MemberManifest::load(&bad_uscc).unwrap_err().to_string();
        assert!(err.contains("not a member manifest") && err.to_lowercase().contains("check"), "{err}");

        let mut value = serde_json::to_value(&m).unwrap();
        value["role"] = "notary".into();
        let bad_role = dir.path().join("bad_role.json");
        std::fs::write(&bad_role, value.to_string()).unwrap();
        let err = MemberManifest::load(&bad_role).unwrap_err().to_string();
        assert!(err.contains("unknown variant `notary`"), "{err}");
    }

    /// On an SM2 chain a centre's keys are SM2 but for its node key (its libp2p identity), and the
    /// genesis makes its SM2 consensus key the validator's, with the node key beside it.
    #[test]
    fn an_sm2_ceremony_names_consensus_and_node_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (_, m) = centre(1);
        let made = keygen_member(dir.path(), &m.name, m.role, m.region, m.uscc.clone(), Suite::Sm2Sm3).unwrap();
        assert!(made.keys.iter().all(|k| k.suite() == Suite::Sm2Sm3));
        let node = crate::start::load_node_key(&dir.path().join(NODE_KEY_FILE)).unwrap();
        let consensus = crate::start::load_key(&dir.path().join(CONSENSUS_KEY_FILE)).unwrap();
        assert_eq!(consensus.suite(), Suite::Sm2Sm3);
        let genesis = assemble(ChainId::new("sm2").unwrap(), TimestampMs(1), &[made]).unwrap();
        assert_eq!(genesis.suite, Suite::Sm2Sm3);
        let v = &genesis.validators[0];
        assert_eq!((v.public_key, v.node_key), (consensus.public_key(), Some(PublicKey::Ed25519(node.public_key()))));
        assert_eq!(crate::home::node_key_role(&genesis, &v.network_key()).unwrap(), Some(m.name.clone()));
    }

    #[test]
    fn keygen_writes_owner_only_keys_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (_, m) = centre(1);
        let made = keygen_member(dir.path(), &m.name, m.role, m.region, m.uscc.clone(), Suite::default()).unwrap();
        assert_eq!(made.keys.len(), 2);
        let member = crate::start::load_key(&dir.path().join(MEMBER_KEY_FILE)).unwrap();
        assert_eq!(member.public_key(), made.keys[0]);
        let node = crate::start::load_key(&dir.path().join(NODE_KEY_FILE)).unwrap();
        assert_eq!(Some(node.public_key()), made.node_key);
        assert_eq!(MemberManifest::load(&dir.path().join(MANIFEST_FILE)).unwrap(), made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(NODE_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = keygen_member(dir.path(), &m.name, m.role, m.region, m.uscc.clone(), Suite::default()).unwrap_err();
        assert!(again.to_string().contains("already exists"), "{again}");
        // Nothing was replaced.
        assert_eq!(crate::start::load_key(&dir.path().join(NODE_KEY_FILE)).unwrap().public_key(), node.public_key());
    }
}
