//! `huxin bench`: the load generator.
//!
//! Signs anchor transactions with the devnet's bench keys (each key's transactions go to one
//! node, keys spread over all nodes), submits them in batches at a target rate, and watches
//! finalised blocks on the first node. Reports, over a fixed window after a warm-up: finalised
//! tx/s (also per [`RATE_INTERVAL_SECS`], so that a dip shows: a memtable flush on every node at
//! once, a failed round), and finality latency (submission → block seen finalised) p50/p99/max.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eyre::{eyre, WrapErr};
use hdrhistogram::Histogram;
use serde_json::json;

use huxin_types::tx::{AnchorDocument, Expiry, TenderRef};
use huxin_types::{Action, ChainId, Hash32, Height, RegionCode, SecretKey, SignedTx, TxBody, TxHash};

use crate::devnet::Manifest;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchCommand {
    #[command(subcommand)]
    pub kind: Option<BenchKind>,
    #[command(flatten)]
    pub load: BenchArgs,
}

#[derive(clap::Subcommand)]
pub enum BenchKind {
    /// Write a long chain without consensus, start the network, and time a fresh validator
    /// replaying it: blocks/s and transactions/s.
    CatchUp(crate::catchup::CatchUpArgs),
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The devnet directory (its manifest and bench keys).
    #[arg(long, default_value = "devnet")]
    dir: PathBuf,
    /// Target submission rate, transactions per second.
    #[arg(long, default_value_t = 2_000)]
    rate: u64,
    /// Measured window, seconds (after the warm-up).
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Warm-up, seconds, not measured.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Transactions per submission request.
    #[arg(long, default_value_t = 200)]
    batch: usize,
}

/// Length of the intervals the finalised rate is also reported over.
pub const RATE_INTERVAL_SECS: u64 = 5;

/// The finalised rate (tx/s) in each `interval` of a `window`, from `finalised`: when each block
/// was seen (time since the window opened) and how many of the bench's transactions it held. A
/// last, shorter interval is rated over its own length; a block seen outside the window counts
/// in none.
fn interval_rates(finalised: &[(Duration, u64)], window: Duration, interval: Duration) -> Vec<f64> {
    if interval.is_zero() {
        return Vec::new();
    }
    let count = window.as_nanos().div_ceil(interval.as_nanos()) as usize;
    let mut txs = vec![0u64; count];
    for (at, n) in finalised.iter().filter(|(at, _)| *at < window) {
        txs[(at.as_nanos() / interval.as_nanos()) as usize] += n;
    }
    txs.iter()
        .enumerate()
        .map(|(i, n)| {
            let length = interval.min(window - interval * i as u32);
            *n as f64 / length.as_secs_f64()
        })
        .collect()
}

/// The bench's transaction: `key` (a bench key of the first trading centre) anchors the
/// announcement of tender section `S{serial}`, its own section, so no two anchors conflict.
pub fn bench_anchor(
    chain_id: &ChainId,
    key: &SecretKey,
    nonce: u64,
    serial: u64,
    expiry: Height,
) -> eyre::Result<SignedTx> {
    let mut doc = [0u8; 32];
    doc[..8].copy_from_slice(&serial.to_be_bytes());
    let body = TxBody {
        chain_id: chain_id.clone(),
        signer: key.public_key(),
        nonce,
        expiry: Expiry::Height(expiry),
        action: Action::AnchorDocument(AnchorDocument::announcement(
            TenderRef {
                region: RegionCode::new(330100)?,
                project_code: "BENCH".into(),
                section_code: format!("S{serial}"),
            },
            Hash32(doc),
        )),
    };
    Ok(body.sign(key))
}

/// The bench keys a devnet directory holds (`bench_keys`, one hex secret per line).
pub fn load_bench_keys(dir: &Path) -> eyre::Result<Vec<SecretKey>> {
    let keys: Vec<SecretKey> = std::fs::read_to_string(dir.join("bench_keys"))
        .wrap_err("reading bench_keys")?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| SecretKey::from_hex(l).map_err(|e| eyre!("bench key: {e}")))
        .collect::<eyre::Result<_>>()?;
    if keys.is_empty() {
        return Err(eyre!("no bench keys in {}", dir.join("bench_keys").display()));
    }
    Ok(keys)
}

struct Tracker {
    submitted_at: HashMap<TxHash, Instant>,
    refused: HashMap<String, u64>,
    /// The first message seen for each refusal code.
    examples: HashMap<String, String>,
    /// Transactions the node shed and the bench resubmitted unchanged after its Retry-After.
    resubmitted: u64,
}

/// How long after the offered load ends the bench keeps resubmitting what the nodes shed.
const SHED_GRACE_SECS: u64 = 10;
/// Batches queued per node before the producer waits (when the node sheds, the offer slows).
const SUBMIT_QUEUE_BATCHES: usize = 2;

/// Submit one batch; what the node sheds (`mempool_full`, `unavailable`) is resubmitted
/// unchanged — same nonces, so no nonce gap of the bench's own making — after the node's
/// `Retry-After`, until `give_up`. Every other refusal is counted.
async fn submit_patiently(
    http: &reqwest::Client,
    url: &str,
    mut txs: Vec<serde_json::Value>,
    tracker: &Mutex<Tracker>,
    give_up: Instant,
) {
    loop {
        let (answer, retry_after) = match http.post(url).json(&json!({ "txs": txs })).send().await {
            Ok(resp) => {
                let retry_after = huxin_client::retry_after(&resp);
                (resp.json::<serde_json::Value>().await.map_err(|e| format!("bad answer: {e}")), retry_after)
            }
            Err(e) => (Err(format!("transport: {e}")), None),
        };
        let mut shed = Vec::new();
        {
            let mut t = tracker.lock().expect("tracker lock");
            match answer {
                Ok(v) => {
                    for (tx, r) in txs.iter().zip(v["results"].as_array().into_iter().flatten()) {
                        let Some(code) = r["error"]["code"].as_str() else { continue };
                        if huxin_client::is_shed(code) && Instant::now() < give_up {
                            shed.push(tx.clone());
                            continue;
                        }
                        *t.refused.entry(code.to_owned()).or_default() += 1;
                        let message = r["error"]["message"].as_str().unwrap_or_default().to_owned();
                        t.examples.entry(code.to_owned()).or_insert(message);
                    }
                    if let Some(code) = v["error"]["code"].as_str() {
                        *t.refused.entry(code.to_owned()).or_default() += 1;
                    }
                }
                Err(e) => *t.refused.entry(e).or_default() += 1,
            }
            t.resubmitted += shed.len() as u64;
        }
        if shed.is_empty() {
            return;
        }
        tokio::time::sleep(retry_after.unwrap_or(Duration::from_secs(1))).await;
        txs = shed;
    }
}

/// Transactions signed to measure this machine's signature-verification rate.
const CEILING_SAMPLE_TXS: usize = 2_048;
/// How long that rate is measured.
const CEILING_MEASURE: Duration = Duration::from_millis(1_500);

/// This machine's verification rate in the chain's suite (the bench key's: ed25519 or SM2;
/// signatures per second, every core busy, the same verification and thread pool block validation
/// uses), measured now: with N validators on this machine each verifying every transaction once,
/// no run can finalise more than rate ÷ N.
fn verification_rate(chain_id: &ChainId, key: &SecretKey) -> eyre::Result<f64> {
    let txs: Vec<SignedTx> = (0..CEILING_SAMPLE_TXS as u64)
        .map(|i| bench_anchor(chain_id, key, i + 1, i, Height(1)))
        .collect::<eyre::Result<_>>()?;
    let refs: Vec<&SignedTx> = txs.iter().collect();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let (start, mut verified) = (Instant::now(), 0usize);
    while start.elapsed() < CEILING_MEASURE {
        let ok = huxin_types::tx::verify_signatures(&refs, threads);
        if !ok.iter().all(|v| *v) {
            return Err(eyre!("a freshly signed transaction does not verify"));
        }
        verified += ok.len();
    }
    Ok(verified as f64 / start.elapsed().as_secs_f64())
}

pub async fn run(args: BenchArgs) -> eyre::Result<()> {
    let manifest = Manifest::load(&args.dir)?;
    let keys = load_bench_keys(&args.dir)?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).timeout(Duration::from_secs(30)).build()?;
    let apis: Vec<String> = manifest.nodes.iter().map(|n| n.api.clone()).collect();
    let observer = huxin_client::Client::new(&apis[0]);
    let start_height = observer.status().await?.latest_height;

    let mut nonces = Vec::with_capacity(keys.len());
    for key in &keys {
        nonces.push(observer.signer(&key.public_key()).await?.next_nonce);
    }
    println!(
        "bench: {} nodes, {} keys, target {} tx/s, {} s window after {} s warm-up, batches of {}",
        apis.len(),
        keys.len(),
        args.rate,
        args.duration,
        args.warmup,
        args.batch
    );

    // The same-run ceiling, measured before the load starts (the idle devnet barely uses the CPU).
    let verify_rate = {
        let key = keys.first().ok_or_else(|| eyre!("the devnet has no bench keys"))?.clone();
        let chain_id = manifest.chain_id.clone();
        tokio::task::spawn_blocking(move || verification_rate(&chain_id, &key)).await??
    };
    let ceiling = verify_rate / apis.len() as f64;
    println!(
        "signature ceiling (this machine, now): {verify_rate:.0} verifies/s → {ceiling:.0} tx/s for {} validators on it",
        apis.len()
    );

    let tracker = Arc::new(Mutex::new(Tracker {
        submitted_at: HashMap::new(),
        refused: HashMap::new(),
        examples: HashMap::new(),
        resubmitted: 0,
    }));
    let begin = Instant::now();
    let window_start = begin + Duration::from_secs(args.warmup);
    let window_end = window_start + Duration::from_secs(args.duration);

    // Observer: every finalised block on node 0, matched against our submissions.
    let obs_tracker = tracker.clone();
    let obs_http = http.clone();
    let obs_api = apis[0].clone();
    let observer_task = tokio::spawn(async move {
        let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000, 3).expect("histogram bounds are valid");
        // Each block seen in the window: when (since the window opened), and how many of ours.
        let mut timeline = Vec::new();
        let mut next = start_height + 1;
        let drain_until = window_end + Duration::from_secs(15);
        while Instant::now() < drain_until {
            let latest = match obs_http.get(format!("{obs_api}/v1/status")).send().await {
                Ok(r) => {
                    r.json::<serde_json::Value>().await.ok().and_then(|v| v["latest_height"].as_u64()).unwrap_or(0)
                }
                Err(_) => 0,
            };
            while next <= latest {
                let seen = Instant::now();
                let mut offset = 0usize;
                let mut hashes = Vec::new();
                loop {
                    let url = format!("{obs_api}/v1/blocks/{next}?tx_offset={offset}&tx_limit=1000");
                    let Ok(resp) = obs_http.get(&url).send().await else { break };
                    let Ok(v) = resp.json::<serde_json::Value>().await else { break };
                    let txs = v["txs"].as_array().cloned().unwrap_or_default();
                    hashes.extend(txs.iter().filter_map(|t| t["hash"].as_str().and_then(|h| h.parse::<TxHash>().ok())));
                    let count = v["tx_count"].as_u64().unwrap_or(0) as usize;
                    offset += txs.len();
                    if txs.is_empty() || offset >= count {
                        break;
                    }
                }
                let in_window = seen >= window_start && seen < window_end;
                let t = obs_tracker.lock().expect("tracker lock");
                let mut ours = 0u64;
                for h in hashes {
                    if let Some(at) = t.submitted_at.get(&h) {
                        if in_window {
                            ours += 1;
                        }
                        if *at >= window_start && *at < window_end {
                            let _ = hist.record(seen.duration_since(*at).as_millis().max(1) as u64);
                        }
                    }
                }
                drop(t);
                if in_window {
                    timeline.push((seen.duration_since(window_start), ours));
                }
                next += 1;
            }
            if Instant::now() > window_end && !hist.is_empty() {
                // Stop once every transaction submitted in the window has been seen (or time runs out).
                let t = obs_tracker.lock().expect("tracker lock");
                let expected =
                    t.submitted_at.values().filter(|at| **at >= window_start && **at < window_end).count() as u64;
                if hist.len() >= expected {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (hist, timeline)
    });

    // Submitters: one per node, sending its batches in order, so a key's transactions (each key
    // goes to one node) arrive in nonce order and a batch the node shed is resubmitted before
    // any later one: no nonce gap of the bench's own making.
    let total = Duration::from_secs(args.warmup + args.duration);
    let give_up = begin + total + Duration::from_secs(SHED_GRACE_SECS);
    let mut senders = Vec::new();
    let mut submitters = Vec::with_capacity(apis.len());
    for api in &apis {
        let (send, mut batches) = tokio::sync::mpsc::channel::<Vec<serde_json::Value>>(SUBMIT_QUEUE_BATCHES);
        let (url, http, tracker) = (format!("{api}/v1/txs/batch"), http.clone(), tracker.clone());
        submitters.push(tokio::spawn(async move {
            while let Some(batch) = batches.recv().await {
                submit_patiently(&http, &url, batch, &tracker, give_up).await;
            }
        }));
        senders.push(send);
    }

    // Producer: sign at the target rate.
    let chain_id = manifest.chain_id.clone();
    let mut sent: u64 = 0;
    // Transactions the schedule asked for while the nodes were shedding, never signed: the
    // offer follows what the nodes take rather than running nonces far ahead of the ledger.
    let mut not_offered: u64 = 0;
    let burst_max = (args.rate / 25).max(1);
    let mut key_index = 0usize;
    let mut doc_counter: u64 = (begin.elapsed().as_nanos() as u64) << 20;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    while begin.elapsed() < total {
        tick.tick().await;
        let due = (args.rate as f64 * begin.elapsed().as_secs_f64()) as u64;
        if due > sent + not_offered + burst_max {
            not_offered = due - sent - burst_max;
        }
        let due = due - not_offered;
        let mut per_node: Vec<Vec<serde_json::Value>> = vec![Vec::new(); apis.len()];
        let now = Instant::now();
        let mut hashes = Vec::new();
        while sent < due {
            let k = key_index % keys.len();
            key_index += 1;
            doc_counter += 1;
            let tx = bench_anchor(&chain_id, &keys[k], nonces[k], doc_counter, Height(start_height + 50_000))?;
            nonces[k] += 1;
            hashes.push(tx.hash());
            per_node[k % apis.len()].push(json!({
                "payload": hex::encode(tx.body.encode()),
                "public_key": tx.body.signer,
                "signature": tx.signature,
            }));
            sent += 1;
        }
        {
            let mut t = tracker.lock().expect("tracker lock");
            for h in hashes {
                t.submitted_at.insert(h, now);
            }
        }
        for (node, txs) in per_node.into_iter().enumerate() {
            for chunk in txs.chunks(args.batch.max(1)) {
                senders[node].send(chunk.to_vec()).await?;
            }
        }
    }
    drop(senders);
    println!("submitted {sent} transactions; waiting for finality");
    if not_offered > 0 {
        println!("not offered while the nodes shed load (the producer waited): {not_offered}");
    }
    let (hist, timeline) = observer_task.await?;
    let (finalised, blocks) = (timeline.iter().map(|(_, ours)| ours).sum::<u64>(), timeline.len() as u64);
    for submitter in submitters {
        submitter.await?;
    }
    let (refused, examples, resubmitted) = {
        let t = tracker.lock().expect("tracker lock");
        (t.refused.clone(), t.examples.clone(), t.resubmitted)
    };
    let rate = finalised as f64 / args.duration as f64;
    println!("finalised in window: {finalised} → {rate:.0} tx/s over {} s ({blocks} blocks)", args.duration);
    let rates = interval_rates(&timeline, Duration::from_secs(args.duration), Duration::from_secs(RATE_INTERVAL_SECS));
    if let Some(lowest) = rates.iter().copied().reduce(f64::min) {
        let each: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
        println!("finalised per {RATE_INTERVAL_SECS} s (tx/s): {}", each.join(" "));
        if rate > 0.0 {
            println!(
                "lowest {RATE_INTERVAL_SECS} s: {lowest:.0} tx/s ({:.0} % of the window's rate)",
                100.0 * lowest / rate
            );
        }
    }
    println!("finalised ÷ signature ceiling: {:.2}", rate / ceiling);
    if blocks > 0 {
        println!("mean transactions per block: {:.0}", finalised as f64 / blocks as f64);
    }
    if !hist.is_empty() {
        println!(
            "finality latency (ms, n={}): p50 {}  p90 {}  p99 {}  max {}",
            hist.len(),
            hist.value_at_quantile(0.5),
            hist.value_at_quantile(0.9),
            hist.value_at_quantile(0.99),
            hist.max()
        );
    }
    if resubmitted > 0 {
        println!("shed by the nodes and resubmitted unchanged after Retry-After: {resubmitted}");
    }
    if !refused.is_empty() {
        println!("refused: {refused:?}");
        for (code, message) in examples {
            println!("  e.g. {code}: {message}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_interval_is_rated_over_its_own_length_and_blocks_outside_the_window_count_in_none() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        let finalised = [(ms(0), 100), (ms(4_999), 400), (s(5), 1_000), (ms(10_500), 30), (s(11), 7)];
        // An 11-second window in intervals of 5: the last one is a second long.
        let rates = interval_rates(&finalised, s(11), s(5));
        assert_eq!(rates, vec![100.0, 200.0, 30.0]);
        // A whole number of intervals: no partial one (the block at 11 s counts now); an empty
        // interval reads zero.
        assert_eq!(interval_rates(&finalised, s(15), s(5)), vec![100.0, 200.0, 7.4]);
        assert_eq!(interval_rates(&[], s(10), s(5)), vec![0.0, 0.0]);
        assert!(interval_rates(&finalised, s(10), Duration::ZERO).is_empty());
    }
}
