//! How fast a validator replays decided blocks, phase by phase, without network or consensus:
//! what bounds catch-up (issue 10) and each block's critical path (issue 11).
//!
//! Builds a chain of signed anchors (by default each its own tender section, as `huxin bench` sends them)
//! into one RocksDB store with the proposer's own `build_block`, then replays it into a fresh
//! store as value sync does: verify every signature (on every core), execute and check the
//! block against its header (`validate_block`), persist it (`persist_block`, WAL synced as a
//! node does). Prints each phase's µs per transaction and the replay rate.
//!
//! ```sh
//! RUSTFLAGS='--cfg curve25519_dalek_backend="avx512"' cargo bench --workspace --bench replay
//! HUXIN_BENCH_BLOCKS=2000 HUXIN_BENCH_TXS=200 cargo bench --workspace --bench replay
//! HUXIN_BENCH_TREE_WRITE_BLOCKS=1 cargo bench --workspace --bench replay  # the tree every block
//! HUXIN_BENCH_PIPELINE=1 cargo bench --workspace --bench replay  # persist h while h + 1 executes
//! ```
//!
//! `HUXIN_BENCH_PIPELINE=1` replays as a pipeline: block `h + 1` is verified and executed on
//! `h`'s pending state (`huxin_state::Pending`: its tree batch over the store) while another
//! thread persists `h`, what a node could do on its second core.
//!
//! `HUXIN_BENCH_TREE_WRITE_BLOCKS=k` writes the Merkle tree once every `k` blocks (the store's
//! default otherwise, `huxin_store::TREE_WRITE_BLOCKS_DEFAULT`; see the store's `window`).
//!
//! `HUXIN_BENCH_SECTION_ANCHORS=n` anchors `n` documents in each tender section (default 1,
//! each its own section), as a real section gathers its announcement, clarifications and bids
//! over weeks: anchor `i` of the chain's `N` goes to section `i mod N / n`, so a section's anchors
//! land in blocks far apart, as many sections are open at once.

use std::time::{Duration, Instant};

// The node's allocator (`node/src/main.rs`): the bench allocates as a node does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use huxin_state::{build_block, validate_block, BlockLimits, Built, Parent, ValidateOptions};
use huxin_store::Store;
use huxin_types::genesis::{Genesis, GenesisMember, GenesisValidator, Role};
use huxin_types::tx::{AnchorDocument, Expiry, TenderRef};
use huxin_types::{Action, Block, ChainId, Hash32, Height, RegionCode, SecretKey, SignedTx, TimestampMs, TxBody, Uscc};

/// Signing keys of the one trading centre that anchors everything (nonces per key).
const SIGNERS: usize = 64;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn signer(i: usize) -> SecretKey {
    let mut seed = [7u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
    SecretKey::from_bytes(seed)
}

fn proposer() -> SecretKey {
    SecretKey::from_bytes([3; 32])
}

fn genesis() -> Genesis {
    Genesis {
        chain_id: ChainId::new("bench-replay").expect("a chain id"),
        genesis_time: TimestampMs(1_000),
        members: vec![GenesisMember {
            name: "hangzhou".into(),
            role: Role::TradingCentre,
            region: RegionCode::new(330100).expect("a region"),
            uscc: Uscc::with_check("12330100MB0000001").expect("a code"),
            keys: (0..SIGNERS).map(|i| signer(i).public_key()).collect(),
        }],
        validators: vec![GenesisValidator {
            member: "hangzhou".into(),
            public_key: proposer().public_key(),
            power: 1,
            node_key: None,
        }],
        suite: Default::default(),
    }
}

/// Anchor `serial`'s document in section `S{serial mod sections}` (an announcement: the same
/// stage may repeat, so a section's anchors need no order among themselves).
fn anchor(chain_id: &ChainId, key: &SecretKey, nonce: u64, serial: u64, sections: u64, expiry: Height) -> SignedTx {
    let mut doc = [0u8; 32];
    doc[..8].copy_from_slice(&serial.to_be_bytes());
    TxBody {
        chain_id: chain_id.clone(),
        signer: key.public_key(),
        nonce,
        expiry: Expiry::Height(expiry),
        action: Action::AnchorDocument(AnchorDocument::announcement(
            TenderRef {
                region: RegionCode::new(330100).expect("a region"),
                project_code: "BENCH".into(),
                section_code: format!("S{}", serial % sections),
            },
            Hash32(doc),
        )),
    }
    .sign(key)
}

fn parent_of(store: &Store, genesis: &Genesis) -> Parent {
    match store.latest_height().expect("latest height") {
        Some(Height(0)) | None => Parent::genesis(genesis),
        Some(h) => Parent::of(&store.header(h).expect("header").expect("the latest block"), genesis.suite),
    }
}

/// Build and persist `blocks` blocks of `txs` anchors; the blocks, in order.
fn write_chain(store: &Store, genesis: &Genesis, blocks: usize, txs: usize, section_anchors: u64) -> Vec<Block> {
    let keys: Vec<SecretKey> = (0..SIGNERS).map(signer).collect();
    let mut nonces = vec![1u64; SIGNERS];
    let mut serial = 0u64;
    let sections = ((blocks * txs) as u64).div_ceil(section_anchors);
    let mut chain = Vec::with_capacity(blocks);
    for _ in 0..blocks {
        let candidates: Vec<SignedTx> = (0..txs)
            .map(|_| {
                let k = (serial % SIGNERS as u64) as usize;
                serial += 1;
                nonces[k] += 1;
                anchor(&genesis.chain_id, &keys[k], nonces[k] - 1, serial, sections, Height(blocks as u64 + 1_000))
            })
            .collect();
        let parent = parent_of(store, genesis);
        let time = TimestampMs(parent.time.0 + 100);
        let Built { block, executed, skipped } = build_block(
            store,
            &parent,
            proposer().public_key(),
            time,
            candidates,
            BlockLimits { txs, bytes: usize::MAX },
            &|_| true,
        )
        .expect("build");
        assert!(skipped.is_empty(), "{} skipped, the first: {:?}", skipped.len(), skipped.first());
        store.persist_block(&block, b"certificate", &executed).expect("persist");
        chain.push(block);
    }
    chain
}

#[derive(Default)]
struct Phases {
    verify: Duration,
    execute: Duration,
    persist: Duration,
    /// Pipelined: time the replaying thread waited for the writing one.
    waited: Duration,
}

/// Verify every signature of `block` on `threads` threads, as value sync does; how long it took.
fn verify(block: &Block, threads: usize) -> Duration {
    let started = Instant::now();
    let txs: Vec<&SignedTx> = block.txs.iter().collect();
    let verified = huxin_types::tx::verify_signatures(&txs, threads);
    assert!(verified.iter().all(|ok| *ok), "a signature failed");
    started.elapsed()
}

/// Options to execute a block whose signatures [`verify`] checked, as history (no clock).
fn verified(threads: usize) -> ValidateOptions {
    ValidateOptions { now: None, time_drift_ms_max: 0, signatures_verified: true, signature_threads: threads }
}

fn replay(store: &Store, genesis: &Genesis, chain: &[Block], threads: usize) -> Phases {
    let mut phases = Phases::default();
    for block in chain {
        let parent = parent_of(store, genesis);
        phases.verify += verify(block, threads);
        let started = Instant::now();
        let executed = validate_block(store, &parent, block, verified(threads), &|_| true).expect("a valid block");
        phases.execute += started.elapsed();
        let started = Instant::now();
        store.persist_block(block, b"certificate", &executed).expect("persist");
        phases.persist += started.elapsed();
    }
    phases
}

/// [`replay`] as a pipeline: block `h + 1` is verified and executed on `h`'s pending state (its
/// tree batch over the store) while another thread persists `h`. The persist phase is then the
/// writing thread's time, and `waited` what the replaying thread spent waiting for it.
fn replay_pipelined(store: &Store, genesis: &Genesis, chain: &[Block], threads: usize) -> Phases {
    let mut phases = Phases::default();
    let mut pending: Option<(&Block, huxin_state::Executed)> = None;
    for block in chain {
        let executed = std::thread::scope(|scope| {
            let persisting = pending.as_ref().map(|(written, executed)| {
                scope.spawn(move || {
                    let started = Instant::now();
                    store.persist_block(written, b"certificate", executed).expect("persist");
                    started.elapsed()
                })
            });
            phases.verify += verify(block, threads);
            let started = Instant::now();
            let options = verified(threads);
            let executed = match &pending {
                Some((_, parent)) => {
                    let state = huxin_state::Pending::new(store, parent);
                    validate_block(&state, &Parent::of(&parent.header, genesis.suite), block, options, &|_| true)
                }
                None => validate_block(store, &parent_of(store, genesis), block, options, &|_| true),
            }
            .expect("a valid block");
            phases.execute += started.elapsed();
            let started = Instant::now();
            if let Some(persisting) = persisting {
                phases.persist += persisting.join().expect("the writing thread");
            }
            phases.waited += started.elapsed();
            executed
        });
        pending = Some((block, executed));
    }
    if let Some((written, executed)) = pending {
        let started = Instant::now();
        store.persist_block(written, b"certificate", &executed).expect("persist");
        phases.persist += started.elapsed();
        phases.waited += started.elapsed();
    }
    phases
}

fn main() {
    let blocks = env_or("HUXIN_BENCH_BLOCKS", 300);
    let txs = env_or("HUXIN_BENCH_TXS", 200);
    let sync = env_or("HUXIN_BENCH_SYNC", 1) == 1;
    let kept = env_or("HUXIN_BENCH_KEPT", huxin_store::STATE_VERSIONS_KEPT_DEFAULT as usize) as u64;
    let write_blocks = env_or("HUXIN_BENCH_TREE_WRITE_BLOCKS", huxin_store::TREE_WRITE_BLOCKS_DEFAULT as usize) as u64;
    let pipelined = env_or("HUXIN_BENCH_PIPELINE", 0) == 1;
    let section_anchors = env_or("HUXIN_BENCH_SECTION_ANCHORS", 1).max(1) as u64;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let genesis = genesis();
    let dir = tempfile::tempdir().expect("a temporary directory");

    let source = Store::open(&dir.path().join("source"), sync).expect("open");
    source.init_genesis(&genesis).expect("genesis");
    let started = Instant::now();
    let chain = write_chain(&source, &genesis, blocks, txs, section_anchors);
    let built = started.elapsed();
    drop(source);

    let target = Store::open_keeping(&dir.path().join("target"), sync, kept).expect("open");
    target.set_tree_write_blocks(write_blocks);
    target.init_genesis(&genesis).expect("genesis");
    let started = Instant::now();
    let phases = if pipelined {
        replay_pipelined(&target, &genesis, &chain, threads)
    } else {
        replay(&target, &genesis, &chain, threads)
    };
    let replayed = started.elapsed();

    let total = (blocks * txs) as f64;
    let per_tx = |d: Duration| d.as_secs_f64() * 1e6 / total;
    println!(
        "replay: {blocks} blocks x {txs} anchors, {section_anchors} a section, WAL synced: {sync}, {threads} verifying threads, Merkle versions kept: {}, tree written every {} blocks",
        if kept == 0 { "all".to_owned() } else { kept.to_string() },
        target.tree_write_blocks()
    );
    println!("  built and persisted (proposer path): {:.0} tx/s", total / built.as_secs_f64());
    println!("  verify  {:7.1} µs/tx", per_tx(phases.verify));
    println!("  execute {:7.1} µs/tx", per_tx(phases.execute));
    println!("  persist {:7.1} µs/tx", per_tx(phases.persist));
    if pipelined {
        println!(
            "  pipelined: persisting block h while h + 1 executes; waited {:.1} µs/tx for it",
            per_tx(phases.waited)
        );
    }
    println!(
        "  replayed: {:.0} tx/s ({:.1} blocks/s)",
        total / replayed.as_secs_f64(),
        blocks as f64 / replayed.as_secs_f64()
    );
    print_block_reads(&target, Height(blocks as u64));
    let db_bytes: u64 = walk_bytes(&dir.path().join("target"));
    println!("  store on disk after replay: {:.0} bytes/tx (before compaction)", db_bytes as f64 / total);
    target.compact();
    let usage = target.disk_usage().expect("disk usage");
    let encoded: usize = chain.iter().flat_map(|b| &b.txs).map(SignedTx::encoded_len).sum();
    let tables: u64 = usage.iter().map(|(_, bytes)| bytes).sum();
    println!(
        "  after compaction: {:.0} bytes/tx in tables ({:.2}x the {:.0} encoded bytes of a signed anchor):",
        tables as f64 / total,
        tables as f64 / encoded as f64,
        encoded as f64 / total
    );
    for (name, bytes) in usage.iter().filter(|(_, bytes)| *bytes as f64 >= total) {
        println!("    {name:<14} {:7.0} bytes/tx", *bytes as f64 / total);
    }
}

/// What reading the latest block costs: its header alone (what every query and every executed
/// block reads), the whole block, and the whole block with the canonical check a received one gets.
fn print_block_reads(store: &Store, height: Height) {
    const READS: u32 = 200;
    let time = |read: &dyn Fn()| {
        let started = Instant::now();
        for _ in 0..READS {
            read();
        }
        started.elapsed().as_secs_f64() * 1e6 / f64::from(READS)
    };
    let header = time(&|| drop(store.header(height).expect("a header")));
    let block = time(&|| drop(store.block(height).expect("a block")));
    let bytes = store.block_bytes(height).expect("block bytes").expect("the latest block");
    let canonical = time(&|| drop(Block::decode(&bytes).expect("a block")));
    println!(
        "  reading the latest block: its header {header:.1} µs, the whole block {block:.1} µs, decoding it canonically {canonical:.1} µs"
    );
}

fn walk_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| e.metadata().map_or(0, |m| m.len())).sum())
        .unwrap_or(0)
}
