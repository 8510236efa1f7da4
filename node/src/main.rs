//! The `huxin` binary: keys, genesis, running a node or a local devnet, status, transactions and
//! load generation.

/// mimalloc for every allocation of Rust code (RocksDB's C++ keeps the system allocator): the
/// replay of synced blocks spends a tenth of its time in glibc's malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc reads its options from the environment when the process starts, before `main`; a
/// node's process should start with this one (`devnet` sets it for the nodes it starts, the
/// systemd unit in `deploy/` for a validator). It keeps freed memory for reuse instead of
/// returning it to the OS a second later: a block's Merkle nodes are freed a window of blocks
/// later and the next blocks need as much again, so returned pages came straight back as page
/// faults, each zeroed by the kernel (about 5 % of a validator's CPU at 6 000 tx/s offered). The
/// process keeps its high-water mark instead, which the node's limits bound (mempool, Merkle
/// window, block size).
pub const ALLOCATOR_KEEPS_FREED_MEMORY: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "-1");

/// Give a node process this one starts the allocator's setting ([`ALLOCATOR_KEEPS_FREED_MEMORY`]),
/// unless this process's environment sets it already (then the node inherits that value).
pub fn keep_freed_memory(command: &mut std::process::Command) -> &mut std::process::Command {
    let (name, value) = ALLOCATOR_KEEPS_FREED_MEMORY;
    if std::env::var_os(name).is_none() {
        command.env(name, value);
    }
    command
}

mod admin;
mod anchor;
mod audit;
mod backup;
mod bench;
mod catchup;
mod ceremony;
mod chaos;
mod config;
mod credential;
mod devnet;
mod devnet_join;
mod evaluation;
mod gauges;
mod home;
mod import;
mod load;
mod start;
mod vectors;
mod verify;
mod watch;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use eyre::{eyre, WrapErr};

use huxin_types::crypto::Suite;
use huxin_types::tx::{AnchorDocument, DealStage, TenderRef};
use huxin_types::{Action, Hash32, RegionCode, Uscc};

#[derive(Parser)]
#[command(name = "huxin", version, about = "Huxin (互信): the ledger public-resource trading centres share")]
struct Cli {
    /// Log filter (tracing's EnvFilter syntax); RUST_LOG overrides it.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
    /// Log lines as text (for people) or JSON, one object per line (for log collectors). A
    /// devnet's node processes inherit it.
    #[arg(long, global = true, value_enum, env = "HUXIN_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make keys where their operator keeps them (mode 0600): one key (--out), or a member's
    /// keys with its public manifest for `genesis assemble` (--dir).
    Keygen(ceremony::KeygenArgs),
    /// Genesis files.
    Genesis {
        #[command(subcommand)]
        command: GenesisCommand,
    },
    /// Write a node home for real host addresses from a genesis and this node's key.
    Init(home::InitArgs),
    /// Take a consistent backup of a node's store (online, while it runs) with a checksummed
    /// manifest.
    Backup(backup::BackupArgs),
    /// Restore a backup into a fresh node home of the same network, after checking it whole.
    Restore(backup::RestoreArgs),
    /// A node's configured peers: add one (a joining centre) and let the running node follow.
    Peers {
        #[command(subcommand)]
        command: admin::PeersCommand,
    },
    /// A seeded fault schedule (kill, pause, partitions, netem, wipe) against validators in their
    /// own network namespaces, then the checkers' verdicts (needs root; `--plan` does not).
    Chaos(chaos::ChaosArgs),
    /// Run a node from its home directory.
    Start {
        #[arg(long)]
        home: PathBuf,
    },
    /// Run a local multi-city network: N node processes on 127.0.0.1.
    Devnet {
        /// Number of validators (cities), 1 to 11.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Directory for keys, genesis, configs and data; reused when it exists.
        #[arg(long, default_value = "devnet")]
        dir: PathBuf,
        /// First port; node i uses base+10i (API), +1 (consensus), +2 (gossip).
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
        /// Extra trading-centre keys for `huxin bench`.
        #[arg(long, default_value_t = 64)]
        bench_keys: usize,
        /// Only write the directory (keys, genesis, configs); start nothing.
        #[arg(long)]
        create_only: bool,
        /// The chain's suite for a new directory: ed25519-sha256 or sm2-sm3 (members sign with
        /// SM2; node keys stay ed25519 for now).
        #[arg(long, default_value = "ed25519-sha256")]
        suite: Suite,
        #[command(subcommand)]
        action: Option<DevnetAction>,
    },
    /// Show a node's status.
    Status {
        #[arg(long, default_value = "http://127.0.0.1:26600")]
        api: String,
    },
    /// Send a transaction.
    Tx {
        #[command(subcommand)]
        command: TxCommand,
    },
    /// Benchmarks. Alone: the load generator (signed anchors to every devnet node at a target
    /// rate; reports finalised tx/s and finality latency). `bench catch-up`: how fast a fresh
    /// validator replays a long chain.
    Bench(bench::BenchCommand),
    /// Bulk import of historical credit records, blacklist entries or attestations (CSV or JSON):
    /// every row checked first, batches with a progress bar, resumable, never a row twice.
    Import(import::ImportArgs),
    /// Read-load generator: GET one URL with many requests in flight; reports req/s and latency.
    Load(load::LoadArgs),
    /// Check a node's answer with its proof against the genesis file: the commit certificate,
    /// the validator chain from genesis, the Merkle proofs, and the answer itself.
    Verify(verify::VerifyArgs),
    /// Supervisor access: full histories on signed queries, and checking a node's audit log.
    Audit(audit::AuditArgs),
    /// Attestations as W3C Verifiable Credentials: check one without trusting the node.
    Credential(credential::CredentialArgs),
    /// Remote cross-region evaluation: recompute a session's expert draw from the ledger.
    Evaluation(evaluation::EvaluationArgs),
    /// Document integrity watch (防篡改巡检): re-hash a platform's archive of deal documents and
    /// report every file whose hash matches no anchor, and every anchored file gone missing.
    Watch(watch::WatchArgs),
    /// Write the SDKs' golden vectors (sdk/vectors): a transaction of every kind and signed
    /// queries, each with its canonical bytes, signed bytes, signature and hash.
    Vectors(vectors::VectorsArgs),
}

#[derive(Subcommand)]
enum GenesisCommand {
    /// Build genesis.json from the members' manifests (the key ceremony) and print its hash.
    Assemble(ceremony::AssembleArgs),
    /// Write genesis.json and every member's keys for N sample cities of Zhejiang (one machine
    /// makes every key: for a devnet or a trial, not a federation).
    New {
        #[arg(long, default_value_t = 4)]
        cities: usize,
        #[arg(long, default_value = "huxin-devnet")]
        chain_id: String,
        #[arg(long, default_value_t = 0)]
        bench_keys: usize,
        #[arg(long)]
        out: PathBuf,
        /// The chain's suite: ed25519-sha256 or sm2-sm3.
        #[arg(long, default_value = "ed25519-sha256")]
        suite: Suite,
    },
}

#[derive(Subcommand)]
enum DevnetAction {
    /// Add a node: it syncs the chain and relays transactions; every node's config lists it, and
    /// running nodes let it in at once. Alone it is a follower (a new key, nobody's validator).
    /// With `--validator` it is a new city's trading centre, and the devnet's centres vote it in
    /// (the devnet must be running and keep a quorum without it).
    AddNode {
        #[arg(long, default_value = "devnet")]
        dir: PathBuf,
        #[arg(long)]
        validator: bool,
    },
}

// One command is parsed per run: the size of its largest variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum TxCommand {
    /// Anchor the SHA-256 of a deal document to a tender and stage.
    Anchor {
        #[arg(long, default_value = "http://127.0.0.1:26600")]
        api: String,
        /// A trading centre's signing key file (e.g. devnet/keys/hangzhou.key).
        #[arg(long)]
        key: PathBuf,
        /// Tender region (6-digit code).
        #[arg(long)]
        region: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        section: String,
        /// announcement, tender_document, clarification, bid, opening_record, evaluation_report,
        /// candidate_publicity, award_notice, contract, complaint, exception, archive
        #[arg(long)]
        stage: String,
        /// The document to hash (or give --hash).
        #[arg(long, conflicts_with = "hash")]
        file: Option<PathBuf>,
        /// The document's SHA-256 in hex.
        #[arg(long)]
        hash: Option<String>,
        #[arg(long, default_value = "")]
        title: String,
        /// Party USCCs (repeat); a bid names exactly its bidder.
        #[arg(long = "party")]
        parties: Vec<String>,
        /// Unified deal code (统一交易标识码).
        #[arg(long, default_value = "")]
        deal_code: String,
        /// Trading platform code.
        #[arg(long, default_value = "")]
        platform: String,
        /// Estimated price of the section in fen (announcements only).
        #[arg(long)]
        estimated_price_fen: Option<u64>,
    },
    /// Sign and submit any action given as JSON (see README's transaction kinds), then wait for it.
    Submit {
        #[arg(long, default_value = "http://127.0.0.1:26600")]
        api: String,
        /// The member's signing key file.
        #[arg(long)]
        key: PathBuf,
        /// A file holding one action as JSON, e.g. {"record_credit": {...}}.
        #[arg(long)]
        action: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logs(filter: &str, format: LogFormat) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| filter.to_owned());
    let logs = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).with_target(false);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().try_init(),
    };
}

async fn tx(cmd: TxCommand) -> eyre::Result<()> {
    let (api, key, action) = match cmd {
        TxCommand::Anchor {
            api,
            key,
            region,
            project,
            section,
            stage,
            file,
            hash,
            title,
            parties,
            deal_code,
            platform,
            estimated_price_fen,
        } => {
            let document_hash = match (file, hash) {
                (Some(path), None) => {
                    let bytes = std::fs::read(&path).wrap_err_with(|| format!("reading {}", path.display()))?;
                    Hash32::of_document(&bytes)
                }
                (None, Some(h)) => h.parse()?,
                _ => return Err(eyre!("give --file or --hash")),
            };
            let stage: DealStage = serde_json::from_value(serde_json::Value::String(stage.clone()))
                .map_err(|_| eyre!("unknown stage {stage:?}"))?;
            let parties = parties.iter().map(|p| Uscc::parse(p)).collect::<Result<Vec<_>, _>>()?;
            let action = Action::AnchorDocument(AnchorDocument {
                tender: TenderRef {
                    region: region.parse::<RegionCode>()?,
                    project_code: project,
                    section_code: section,
                },
                stage,
                document_hash,
                title,
                deal_code,
                platform_code: platform,
                parties,
                experts: Vec::new(),
                estimated_price_fen,
            });
            (api, key, action)
        }
        TxCommand::Submit { api, key, action } => {
            let text = std::fs::read_to_string(&action).wrap_err_with(|| format!("reading {}", action.display()))?;
            let action: Action =
                serde_json::from_str(&text).wrap_err_with(|| format!("{} is not an action", action.display()))?;
            (api, key, action)
        }
    };
    let key = start::load_key(&key)?;
    let client = huxin_client::Client::new(&api);
    let hash = client.prepare_sign_submit(&key, &action).await?;
    println!("submitted {hash}");
    let status = client.wait_finalised(&hash, std::time::Duration::from_secs(30)).await?;
    println!("{} at height {}: {}", status.status, status.height.unwrap_or(0), serde_json::to_string(&status.outcome)?);
    Ok(())
}

fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    init_logs(&cli.log, cli.log_format);
    if cli.log_format == LogFormat::Json {
        // Node processes a devnet starts log the same way.
        std::env::set_var("HUXIN_LOG_FORMAT", "json");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Keygen(args) => ceremony::keygen(args),
            Command::Init(args) => home::init(args),
            Command::Backup(args) => backup::backup_command(args).await,
            Command::Restore(args) => backup::restore_command(args),
            Command::Peers { command } => admin::peers_command(command).await,
            Command::Genesis { command: GenesisCommand::Assemble(args) } => ceremony::assemble_command(args),
            Command::Genesis { command: GenesisCommand::New { cities, chain_id, bench_keys, out, suite } } => {
                let (genesis, keys) = devnet::generate(&chain_id, cities, bench_keys, devnet::now_ms(), suite)?;
                devnet::write_genesis(&out, &genesis, &keys)?;
                std::fs::create_dir_all(out.join("node_keys"))?;
                for (i, key) in keys.nodes.iter().enumerate() {
                    ceremony::write_secret_key(&out.join("node_keys").join(format!("node{i}.key")), key)?;
                }
                println!("wrote {} (genesis hash {})", out.join("genesis.json").display(), genesis.hash());
                Ok(())
            }
            Command::Start { home } => start::run(&home).await,
            Command::Chaos(args) => chaos::run(args).await,
            Command::Vectors(args) => vectors::run(args),
            Command::Devnet { action: Some(DevnetAction::AddNode { dir, validator }), .. } => {
                // Checked before anything is written: a validator needs a running devnet.
                let voters = match validator {
                    true => Some(devnet_join::Voters::prepare(&dir).await?),
                    false => None,
                };
                let added = devnet_join::add_node(&dir, validator)?;
                let node = &added.node;
                let kind = if validator { "trading centre" } else { "follower" };
                println!("added {kind} {} in {} (API {})", node.moniker, node.home.display(), node.api);
                // Running nodes let it in at once; stopped ones read it when they start.
                let mut reloaded = 0;
                for other in devnet::Manifest::load(&dir)?.nodes.iter().filter(|n| n.home != node.home) {
                    if admin::reload_peers(&other.home).await?.is_some() {
                        reloaded += 1;
                    }
                }
                println!("{reloaded} running node(s) let it in");
                if let (Some(voters), Some(centre)) = (voters, &added.centre) {
                    let height = voters.vote_in(centre).await?;
                    println!("the centres voted {} in: its node key validates from height {height}", centre.name);
                }
                println!("start it with: huxin start --home {}", node.home.display());
                Ok(())
            }
            Command::Devnet { validators, dir, base_port, bench_keys, create_only: true, action: None, suite } => {
                let manifest = devnet::create(&dir, validators, base_port, bench_keys, devnet::now_ms(), suite)?;
                println!("created devnet in {} ({} nodes)", dir.display(), manifest.nodes.len());
                Ok(())
            }
            Command::Devnet { validators, dir, base_port, bench_keys, create_only: false, action: None, suite } => {
                devnet::run(&dir, validators, base_port, bench_keys, suite).await
            }
            Command::Status { api } => {
                let status: serde_json::Value = reqwest::get(format!("{api}/v1/status")).await?.json().await?;
                println!("{}", serde_json::to_string_pretty(&status)?);
                Ok(())
            }
            Command::Tx { command } => tx(command).await,
            Command::Bench(bench::BenchCommand { kind: None, load }) => bench::run(load).await,
            Command::Bench(bench::BenchCommand { kind: Some(bench::BenchKind::CatchUp(args)), .. }) => {
                catchup::run(args).await
            }
            Command::Verify(args) => verify::run(args).await,
            Command::Audit(args) => audit::run(args).await,
            Command::Load(args) => load::run(args).await,
            Command::Import(args) => import::run(args).await,
            Command::Watch(args) => watch::run(args).await,
            Command::Evaluation(args) => evaluation::run(args).await,
            Command::Credential(args) => credential::run(args).await,
        }
    })
}
