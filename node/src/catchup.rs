//! `huxin bench catch-up`: how fast a fresh validator replays history.
//!
//! 1. Creates a devnet directory whose genesis lies far enough in the past for the chain.
//! 2. Writes `--blocks` blocks of `--txs` signed anchors each into the first validator's store,
//!    without running consensus: each block is built by the proposer's own state transition
//!    ([`huxin_state::build_block`]) and certified by every validator's key, so it is exactly
//!    what the network would have decided.
//! 3. Copies that store to every validator but the last, starts them all, and times the last
//!    one (empty) until it has synced the whole chain through the engine's value sync: each
//!    block decoded, its certificate checked, executed (its transactions' signatures left to that
//!    certificate: see `huxin_consensus::host`) and persisted, as a validator that joins late or
//!    lost its disk does.
//!
//! The rate is measured from the first block the fresh validator persists to the last, so node
//! start-up does not count; the time to the first block is printed separately. With `--chain DIR`
//! the network is kept in `DIR` right after step 2, and a later run with the same parameters starts
//! from that copy at step 3.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use eyre::{eyre, WrapErr};

use huxin_state::{build_block, BlockLimits, Built, Parent};
use huxin_store::Store;
use huxin_types::limits::BLOCK_TXS_MAX;
use huxin_types::{Height, SecretKey, SignedTx, TimestampMs};

use crate::bench::{bench_anchor, load_bench_keys};
use crate::devnet::{self, Manifest};

#[derive(clap::Args)]
pub struct CatchUpArgs {
    /// Where to write the network; replaced if it exists.
    #[arg(long, default_value = "bench-catchup")]
    dir: PathBuf,
    /// Blocks in the chain the fresh validator replays.
    #[arg(long, default_value_t = 10_000)]
    blocks: u64,
    /// Transactions in each block.
    #[arg(long, default_value_t = 200)]
    txs: usize,
    /// Validators; all but the last start with the chain, the last starts empty.
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// First port (node i uses base+10i, +1, +2).
    #[arg(long, default_value_t = 27600)]
    base_port: u16,
    /// Give up if the fresh validator has not caught up after this many seconds.
    #[arg(long, default_value_t = 1_800)]
    timeout: u64,
    /// Keep the directory afterwards (it is deleted otherwise).
    #[arg(long)]
    keep: bool,
    /// The chain's suite: ed25519-sha256 or sm2-sm3.
    #[arg(long, default_value = "ed25519-sha256")]
    suite: huxin_types::crypto::Suite,
    /// Start the fresh validator with `sync_writes = false` (its blocks reach the operating
    /// system, not the disk, before it goes on), to see what syncing each block costs.
    #[arg(long)]
    no_sync_writes: bool,
    /// Start the fresh validator with this `[storage] tree_write_blocks` (1: the Merkle tree
    /// written with every block) instead of the default.
    #[arg(long)]
    tree_write_blocks: Option<u64>,
    /// Keep the written chain in this directory, or reuse the one an earlier run kept there with
    /// the same --blocks, --txs, --validators, --base-port and --suite, under the same ledger
    /// protocol version. Writing a chain of 10 000 blocks takes minutes; the replay is what the
    /// benchmark measures.
    #[arg(long)]
    chain: Option<PathBuf>,
}

/// What a chain kept with `--chain` was written with; a run that reuses it asks for the same.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ChainParams {
    blocks: u64,
    txs: usize,
    validators: usize,
    base_port: u16,
    suite: String,
    /// The ledger protocol it was written under: another version's state roots differ, so its
    /// replay would stall at the first block. Absent from chains kept before it was recorded: 1.
    #[serde(default = "protocol_1")]
    protocol_version: u32,
}

fn protocol_1() -> u32 {
    1
}

/// The file in a kept chain's directory that says what it holds, written once the chain is whole.
const CHAIN_PARAMS_FILE: &str = "catch-up-chain.json";

impl ChainParams {
    fn of(args: &CatchUpArgs) -> Self {
        ChainParams {
            blocks: args.blocks,
            txs: args.txs,
            validators: args.validators,
            base_port: args.base_port,
            suite: args.suite.to_string(),
            protocol_version: huxin_types::PROTOCOL_VERSION,
        }
    }
}

/// Keep the network in `args.dir`, its chain just written and no node started yet, in `chain`.
fn keep_chain(args: &CatchUpArgs, chain: &Path) -> eyre::Result<()> {
    copy_dir(&args.dir, chain)?;
    let params = serde_json::to_string_pretty(&ChainParams::of(args))?;
    std::fs::write(chain.join(CHAIN_PARAMS_FILE), params)?;
    Ok(())
}

/// Put the network kept in `chain` into `args.dir` (which does not exist), if it was written with
/// what `args` asks for, and return its manifest, whose homes are now under `args.dir`.
fn reuse_chain(args: &CatchUpArgs, chain: &Path) -> eyre::Result<Manifest> {
    let path = chain.join(CHAIN_PARAMS_FILE);
    let text = std::fs::read_to_string(&path).wrap_err_with(|| {
        format!("{} holds no whole chain of an earlier run ({} is missing); remove it", chain.display(), path.display())
    })?;
    let kept: ChainParams =
        serde_json::from_str(&text).wrap_err_with(|| format!("{} does not describe a chain", path.display()))?;
    let wanted = ChainParams::of(args);
    if kept != wanted {
        return Err(eyre!(
            "the chain in {} was written with {kept:?}, this run asks for {wanted:?}; remove it or pass another --chain",
            chain.display()
        ));
    }
    copy_dir(chain, &args.dir)?;
    std::fs::remove_file(args.dir.join(CHAIN_PARAMS_FILE))?;
    let mut manifest = Manifest::load(&args.dir)?;
    let dir = args.dir.canonicalize()?;
    for node in &mut manifest.nodes {
        let name = node.home.file_name().ok_or_else(|| eyre!("node home {} has no name", node.home.display()))?;
        node.home = dir.join(name);
    }
    manifest.save(&args.dir)?;
    Ok(manifest)
}

/// Milliseconds between the generated blocks' times.
const BLOCK_INTERVAL_MS: u64 = 100;
/// How far before now the generated chain ends, so the live validators' next blocks follow it.
const CHAIN_END_BEFORE_NOW_MS: u64 = 60_000;
/// Signed blocks waiting for the builder.
const SIGNED_BLOCKS_QUEUED_MAX: usize = 4;

pub async fn run(args: CatchUpArgs) -> eyre::Result<()> {
    if args.validators < 2 {
        return Err(eyre!("the catch-up benchmark needs at least 2 validators, got {}", args.validators));
    }
    if args.txs == 0 || args.txs > BLOCK_TXS_MAX {
        return Err(eyre!("--txs must be between 1 and {BLOCK_TXS_MAX}, got {}", args.txs));
    }
    if args.blocks == 0 {
        return Err(eyre!("--blocks must be at least 1"));
    }
    if args.dir.exists() {
        std::fs::remove_dir_all(&args.dir).wrap_err_with(|| format!("removing {}", args.dir.display()))?;
    }
    let manifest = match args.chain.as_deref().filter(|chain| chain.exists()) {
        Some(chain) => {
            let manifest = reuse_chain(&args, chain)?;
            println!(
                "reusing the chain kept in {} ({} blocks of {} transactions)",
                chain.display(),
                args.blocks,
                args.txs
            );
            manifest
        }
        None => {
            let span_ms = args.blocks * BLOCK_INTERVAL_MS + CHAIN_END_BEFORE_NOW_MS;
            let genesis_time = TimestampMs(devnet::now_ms().0.saturating_sub(span_ms));
            let manifest = devnet::create(&args.dir, args.validators, args.base_port, 64, genesis_time, args.suite)?;
            let started = Instant::now();
            let txs = write_chain(&args, &manifest)?;
            let elapsed = started.elapsed().as_secs_f64();
            println!(
                "wrote {} blocks, {txs} transactions in {elapsed:.1} s ({:.0} tx/s built and persisted)",
                args.blocks,
                txs as f64 / elapsed
            );
            if let Some(chain) = &args.chain {
                keep_chain(&args, chain)?;
                println!("chain kept in {} for later runs (--chain)", chain.display());
            }
            manifest
        }
    };
    let fresh = manifest.nodes.len() - 1;
    let seeded = &manifest.nodes[0].home;
    for node in &manifest.nodes[1..fresh] {
        copy_dir(&seeded.join("db"), &node.home.join("db"))?;
    }

    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    let result = async {
        for node in &manifest.nodes[..fresh] {
            children.push(devnet::spawn_node(&exe, &node.home)?);
        }
        for node in &manifest.nodes[..fresh] {
            wait_for_height(&node.api, args.blocks, Duration::from_secs(60)).await?;
        }
        println!("{} validators serve the chain; starting the fresh validator", fresh);
        let path = manifest.nodes[fresh].home.join("config.toml");
        let mut config = crate::config::NodeConfig::load(&path)?;
        if args.no_sync_writes {
            config.sync_writes = false;
        }
        if let Some(blocks) = args.tree_write_blocks {
            config.storage.tree_write_blocks = blocks;
        }
        config.save(&path)?;
        let launched = Instant::now();
        let child = devnet::spawn_node(&exe, &manifest.nodes[fresh].home)?;
        let pid = child.id();
        children.push(child);
        let replay = time_catch_up(&manifest.nodes[fresh].api, args.blocks, Duration::from_secs(args.timeout)).await?;
        report(&args, &replay, launched);
        report_cpu(pid, replay.done.duration_since(launched));
        print_phases(&manifest.nodes[fresh].api).await;
        eyre::Ok(())
    }
    .await;
    devnet::terminate(&mut children);
    if result.is_err() || args.keep {
        println!("logs and data kept in {}", args.dir.display());
    } else {
        std::fs::remove_dir_all(&args.dir).wrap_err_with(|| format!("removing {}", args.dir.display()))?;
    }
    result
}

/// Build, certify and persist the chain into the first validator's store; returns the number
/// of transactions. Signing runs on its own thread, ahead of the builder.
fn write_chain(args: &CatchUpArgs, manifest: &Manifest) -> eyre::Result<u64> {
    let home = &manifest.nodes[0].home;
    let genesis = crate::start::load_genesis(&home.join("genesis.json"))?;
    let validator_keys: Vec<SecretKey> =
        manifest.nodes.iter().map(|n| crate::start::load_consensus_key(&n.home)).collect::<eyre::Result<_>>()?;
    let bench_keys = load_bench_keys(&args.dir)?;
    let store = Store::open(&home.join("db"), false).wrap_err("opening the first validator's store")?;
    store.init_genesis(&genesis)?;

    let (sender, blocks) = mpsc::sync_channel::<eyre::Result<Vec<SignedTx>>>(SIGNED_BLOCKS_QUEUED_MAX);
    let chain_id = genesis.chain_id.clone();
    let (count, per_block) = (args.blocks, args.txs);
    let expiry = Height(count + 1_000);
    let signer = std::thread::spawn(move || {
        let mut nonces = vec![1u64; bench_keys.len()];
        let mut serial = 0u64;
        for _ in 0..count {
            let txs = (0..per_block)
                .map(|_| {
                    let k = (serial % bench_keys.len() as u64) as usize;
                    serial += 1;
                    let tx = bench_anchor(&chain_id, &bench_keys[k], nonces[k], serial, expiry);
                    nonces[k] += 1;
                    tx
                })
                .collect();
            if sender.send(txs).is_err() {
                return;
            }
        }
    });

    let mut parent = Parent::genesis(&genesis);
    let mut total = 0u64;
    for height in 1..=args.blocks {
        let txs = blocks.recv().map_err(|_| eyre!("the signing thread stopped"))??;
        let proposer = validator_keys[(height as usize) % validator_keys.len()].public_key();
        let time = TimestampMs(genesis.genesis_time.0 + height * BLOCK_INTERVAL_MS);
        let Built { block, executed, skipped } =
            build_block(&store, &parent, proposer, time, txs, BlockLimits::CHAIN, &|_| true)
                .map_err(|e| eyre!("building block {height}: {e}"))?;
        if let Some((hash, rejection)) = skipped.first() {
            return Err(eyre!("block {height} left out transaction {hash}: {rejection}"));
        }
        let certificate = huxin_consensus::context::commit_certificate_bytes(
            &parent.chain_id,
            height,
            block.hash().0,
            &validator_keys,
        );
        store.persist_block(&block, &certificate, &executed).wrap_err_with(|| format!("persisting block {height}"))?;
        total += block.txs.len() as u64;
        parent = Parent::of(&block.header, genesis.suite);
        if height % 1_000 == 0 {
            println!("  written {height} of {} blocks", args.blocks);
        }
    }
    drop(blocks);
    signer.join().map_err(|_| eyre!("the signing thread panicked"))?;
    Ok(total)
}

fn copy_dir(from: &Path, to: &Path) -> eyre::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .wrap_err_with(|| format!("copying {} to {}", entry.path().display(), target.display()))?;
        }
    }
    Ok(())
}

async fn latest_height(client: &huxin_client::Client) -> Option<u64> {
    client.status().await.ok().map(|s| s.latest_height)
}

async fn wait_for_height(api: &str, height: u64, timeout: Duration) -> eyre::Result<()> {
    let client = huxin_client::Client::new(api);
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if latest_height(&client).await.is_some_and(|h| h >= height) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(eyre!("{api} did not reach height {height} within {} s", timeout.as_secs()))
}

/// When the fresh validator persisted its first synced block, and when it reached the target.
struct Replay {
    first: Instant,
    first_height: u64,
    done: Instant,
}

async fn time_catch_up(api: &str, target: u64, timeout: Duration) -> eyre::Result<Replay> {
    let client = huxin_client::Client::new(api);
    let deadline = Instant::now() + timeout;
    let mut first: Option<(Instant, u64)> = None;
    let mut reported = 0u64;
    while Instant::now() < deadline {
        if let Some(height) = latest_height(&client).await {
            if height > 0 && first.is_none() {
                first = Some((Instant::now(), height));
            }
            if height >= target {
                let (first, first_height) = first.unwrap_or((Instant::now(), height));
                return Ok(Replay { first, first_height, done: Instant::now() });
            }
            if height >= reported + 1_000 {
                reported = height - height % 1_000;
                println!("  fresh validator at height {height}");
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(eyre!("the fresh validator did not reach height {target} within {} s", timeout.as_secs()))
}

fn report(args: &CatchUpArgs, replay: &Replay, launched: Instant) {
    let seconds = replay.done.duration_since(replay.first).as_secs_f64().max(1e-3);
    let blocks = args.blocks.saturating_sub(replay.first_height);
    let txs = blocks * args.txs as u64;
    println!("first block persisted {:.1} s after start", replay.first.duration_since(launched).as_secs_f64());
    println!(
        "caught up {blocks} blocks ({txs} transactions) in {seconds:.1} s: {:.0} blocks/s, {:.0} tx/s replayed",
        blocks as f64 / seconds,
        txs as f64 / seconds
    );
}

/// How many cores the fresh validator kept busy on average from its start to the target height:
/// its CPU time (user and system, every thread) over the wall time. Below the machine's cores,
/// the replay waits on itself (one block's steps one after another), not on the CPU.
fn report_cpu(pid: u32, wall: Duration) {
    let Some(seconds) = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().as_deref().and_then(cpu_seconds)
    else {
        println!("(the fresh validator's CPU time is not readable here)");
        return;
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "fresh validator's CPU: {seconds:.1} s in {:.1} s, {:.2} of this machine's {cores} cores busy on average",
        wall.as_secs_f64(),
        seconds / wall.as_secs_f64().max(1e-3)
    );
}

/// Linux's clock ticks per second in `/proc` (`USER_HZ`, fixed at 100 for user space).
const PROC_TICKS_PER_SECOND: f64 = 100.0;

/// The user and system CPU seconds in a `/proc/<pid>/stat` line (fields 14 and 15, counted
/// after the command name, which is in parentheses and may hold spaces or parentheses).
fn cpu_seconds(stat: &str) -> Option<f64> {
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((user + system) as f64 / PROC_TICKS_PER_SECOND)
}

/// Where the fresh validator's time went, from its `/metrics`: the per-block phases the host
/// times (`huxin_block_<phase>_seconds`), in total and per block.
async fn print_phases(api: &str) {
    let Ok(text) = async { reqwest::get(format!("{api}/metrics")).await?.text().await }.await else {
        println!("(the fresh validator's /metrics did not answer)");
        return;
    };
    let value = |name: &str| -> Option<f64> {
        text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    };
    for phase in ["sync_wait", "sync_take_in", "execute", "persist"] {
        let (Some(sum), Some(count)) =
            (value(&format!("huxin_block_{phase}_seconds_sum")), value(&format!("huxin_block_{phase}_seconds_count")))
        else {
            continue;
        };
        println!("  {phase}: {sum:.1} s over {count:.0} blocks ({:.1} ms per block)", 1e3 * sum / count.max(1.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_seconds_are_read_after_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (tokio (rt) worker) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 123 0 0";
        assert_eq!(cpu_seconds(stat), Some(3.0));
        assert_eq!(cpu_seconds("4242 (cut short) S 1 2"), None);
        assert_eq!(cpu_seconds("no name at all"), None);
        assert_eq!(cpu_seconds("1 (x) S 1 2 3 4 5 6 7 8 9 10 ten 12"), None, "a field that is not a number");
    }

    #[test]
    fn this_process_stat_line_reads() {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", std::process::id())).unwrap();
        assert!(cpu_seconds(&stat).is_some(), "{stat}");
    }

    fn args(dir: &Path, chain: &Path, blocks: u64) -> CatchUpArgs {
        CatchUpArgs {
            dir: dir.to_path_buf(),
            blocks,
            txs: 10,
            validators: 2,
            base_port: 27600,
            timeout: 60,
            keep: false,
            suite: huxin_types::crypto::Suite::Ed25519Sha256,
            no_sync_writes: false,
            tree_write_blocks: None,
            chain: Some(chain.to_path_buf()),
        }
    }

    #[test]
    fn a_kept_chain_is_reused_only_for_the_same_parameters_and_with_its_homes_moved() {
        let tmp = tempfile::tempdir().unwrap();
        let (first, chain, second) = (tmp.path().join("first"), tmp.path().join("chain"), tmp.path().join("second"));
        let written = args(&first, &chain, 3);
        let manifest = devnet::create(&first, 2, 27600, 1, TimestampMs(0), written.suite).unwrap();
        std::fs::write(manifest.nodes[0].home.join("block"), b"a written block").unwrap();
        keep_chain(&written, &chain).unwrap();

        // Another length of chain: refused, nothing copied.
        let e = reuse_chain(&args(&second, &chain, 4), &chain).unwrap_err();
        assert!(e.to_string().contains("blocks: 4"), "{e}");
        assert!(!second.exists());

        let reused = reuse_chain(&args(&second, &chain, 3), &chain).unwrap();
        assert_eq!(reused.nodes.len(), 2);
        for node in &reused.nodes {
            assert_eq!(node.home.parent().unwrap(), second.canonicalize().unwrap());
        }
        assert_eq!(std::fs::read(reused.nodes[0].home.join("block")).unwrap(), b"a written block");
        assert_eq!(Manifest::load(&second).unwrap().nodes[1].home, reused.nodes[1].home);
        assert!(!second.join(CHAIN_PARAMS_FILE).exists());

        // A chain kept by a build of protocol version 1 (its file names no version): refused.
        let text = std::fs::read_to_string(chain.join(CHAIN_PARAMS_FILE)).unwrap();
        let mut params: serde_json::Value = serde_json::from_str(&text).unwrap();
        params.as_object_mut().unwrap().remove("protocol_version").unwrap();
        std::fs::write(chain.join(CHAIN_PARAMS_FILE), params.to_string()).unwrap();
        let e = reuse_chain(&args(&tmp.path().join("old"), &chain, 3), &chain).unwrap_err();
        assert!(e.to_string().contains("protocol_version: 1"), "{e}");

        // A directory without the parameters file (a copy cut short) is not taken for a chain.
        std::fs::remove_file(chain.join(CHAIN_PARAMS_FILE)).unwrap();
        let e = reuse_chain(&args(&tmp.path().join("third"), &chain, 3), &chain).unwrap_err();
        assert!(e.to_string().contains("holds no whole chain"), "{e}");
    }
}
