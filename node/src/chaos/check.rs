//! The checkers run after the schedule healed. Each gives a verdict: passed, or failed with what
//! it found.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use huxin_client::Client;

use super::workload::{Ack, StoryReport};

/// Answers to one request that takes longer than this count as no answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Most transactions one block page lists (the API's own page limit).
const TX_PAGE: usize = 1_000;

#[derive(Debug)]
pub struct Verdict {
    pub checker: &'static str,
    pub passed: bool,
    pub detail: String,
}

impl Verdict {
    pub fn new(checker: &'static str, problems: Vec<String>, ok: String) -> Verdict {
        let passed = problems.is_empty();
        let detail = if passed {
            ok
        } else {
            let shown: Vec<_> = problems.iter().take(5).cloned().collect();
            format!("{} problem(s): {}", problems.len(), shown.join("; "))
        };
        Verdict { checker, passed, detail }
    }
}

async fn get(client: &Client, path: &str) -> Result<serde_json::Value, String> {
    match tokio::time::timeout(REQUEST_TIMEOUT, client.get_json(path)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {REQUEST_TIMEOUT:?}")),
    }
}

/// No fork: up to the lowest node's height, every node has the same block hash and state root
/// at every height. Returns the verdict and that height.
pub async fn no_fork(clients: &[Client]) -> (Verdict, u64) {
    let mut problems = Vec::new();
    let mut top = u64::MAX;
    for (i, c) in clients.iter().enumerate() {
        match get(c, "/v1/status").await {
            Ok(s) => top = top.min(s["latest_height"].as_u64().unwrap_or(0)),
            Err(e) => problems.push(format!("node {i}: status: {e}")),
        }
    }
    let top = if top == u64::MAX { 0 } else { top };
    for h in 1..=top {
        let mut seen: Option<(serde_json::Value, serde_json::Value)> = None;
        for (i, c) in clients.iter().enumerate() {
            match get(c, &format!("/v1/blocks/{h}?tx_limit=0")).await {
                Ok(b) => {
                    let id = (b["hash"].clone(), b["header"]["state_root"].clone());
                    match &seen {
                        None => seen = Some(id),
                        Some(first) if *first != id => {
                            problems.push(format!("height {h}: node {i} has {id:?}, node 0 {first:?}"))
                        }
                        Some(_) => {}
                    }
                }
                Err(e) => problems.push(format!("node {i}: block {h}: {e}")),
            }
        }
    }
    (
        Verdict::new("no fork", problems, format!("{} nodes agree on blocks and state roots 1..={top}", clients.len())),
        top,
    )
}

/// Nothing acknowledged lost: every transaction a client saw finalised is finalised at the same
/// height and index on every node.
pub async fn nothing_lost(clients: &[Client], acks: &[Ack]) -> Verdict {
    let mut problems = Vec::new();
    let seen: Vec<&Ack> = acks.iter().filter(|a| a.finalised.is_some()).collect();
    for a in &seen {
        let want = a.finalised.expect("filtered");
        for (i, c) in clients.iter().enumerate() {
            match get(c, &format!("/v1/txs/{}", a.hash)).await {
                Ok(v) => {
                    let got = (v["height"].as_u64(), v["index"].as_u64());
                    if v["status"] != "finalised" || got != (Some(want.0), Some(want.1)) {
                        problems.push(format!(
                            "{} (client {} nonce {}) seen at {want:?}, node {i} says {} {got:?}",
                            a.hash, a.client, a.nonce, v["status"]
                        ));
                    }
                }
                Err(e) => problems.push(format!("{} on node {i}: {e}", a.hash)),
            }
        }
    }
    let ok = format!(
        "{} acknowledged-finalised transactions (of {} accepted) on every node where the clients saw them",
        seen.len(),
        acks.len()
    );
    Verdict::new("nothing acknowledged lost", problems, ok)
}

/// The chain as node 0 holds it up to a height (`no_fork` compared it with the others): each
/// transaction's hash, signer, nonce, kind and whether it was applied.
pub struct Chain {
    pub top: u64,
    pub txs: Vec<ChainTx>,
    /// Blocks that could not be read.
    pub unread: Vec<String>,
}

pub struct ChainTx {
    pub height: u64,
    pub hash: String,
    pub signer: String,
    pub nonce: String,
    pub kind: String,
    pub applied: bool,
}

/// Read blocks 1..=`top` from `client`, a page of transactions at a time.
pub async fn read_chain(client: &Client, top: u64) -> Chain {
    let mut chain = Chain { top, txs: Vec::new(), unread: Vec::new() };
    for h in 1..=top {
        let mut offset = 0;
        loop {
            let page = match get(client, &format!("/v1/blocks/{h}?tx_offset={offset}&tx_limit={TX_PAGE}")).await {
                Ok(p) => p,
                Err(e) => {
                    chain.unread.push(format!("block {h}: {e}"));
                    break;
                }
            };
            let items = page["txs"].as_array().cloned().unwrap_or_default();
            for t in &items {
                // A credit action is withheld from the public: its kind, signer and nonce only. An
                // action's JSON is `{kind: …}` (serde's variant names are the kinds).
                let (body, kind) = if t["tx"].is_object() {
                    let action = t["tx"]["body"]["action"].as_object();
                    (&t["tx"]["body"], action.and_then(|a| a.keys().next()).map_or("unknown", |k| k.as_str()))
                } else {
                    (&t["withheld"], t["withheld"]["kind"].as_str().unwrap_or("unknown"))
                };
                chain.txs.push(ChainTx {
                    height: h,
                    hash: t["hash"].as_str().unwrap_or_default().to_owned(),
                    signer: body["signer"].to_string(),
                    nonce: body["nonce"].to_string(),
                    kind: kind.to_owned(),
                    applied: t["outcome"] == "applied",
                });
            }
            offset += items.len();
            if items.len() < TX_PAGE || offset >= page["tx_count"].as_u64().unwrap_or(0) as usize {
                break;
            }
        }
    }
    chain
}

/// Nothing executed twice: no transaction hash appears twice in the chain and no (signer, nonce)
/// pair repeats.
pub fn nothing_twice(chain: &Chain) -> Verdict {
    let mut problems = chain.unread.clone();
    let (mut hashes, mut nonces) = (HashSet::new(), HashSet::new());
    for t in &chain.txs {
        if !hashes.insert(&t.hash) {
            problems.push(format!("{} appears twice (again at height {})", t.hash, t.height));
        }
        if !nonces.insert((&t.signer, &t.nonce)) {
            problems.push(format!("signer {} used nonce {} twice (again at height {})", t.signer, t.nonce, t.height));
        }
    }
    Verdict::new(
        "nothing executed twice",
        problems,
        format!("{} transactions in blocks 1..={}, each hash and (signer, nonce) once", chain.txs.len(), chain.top),
    )
}

/// Every kind: each transaction kind was applied at least once in the chain, and every step of
/// the story client was applied.
pub fn every_kind(chain: &Chain, story: &StoryReport) -> Verdict {
    let mut applied: BTreeMap<&str, u64> = BTreeMap::new();
    for t in chain.txs.iter().filter(|t| t.applied) {
        *applied.entry(t.kind.as_str()).or_default() += 1;
    }
    let mut problems: Vec<String> = huxin_types::Action::KINDS
        .iter()
        .filter(|k| !applied.contains_key(*k))
        .map(|k| format!("no {k} applied ({} story cycle(s) completed)", story.cycles))
        .collect();
    problems.extend(story.problems.iter().cloned());
    let ok = format!(
        "all {} kinds applied; {} story cycle(s); fewest: {}",
        huxin_types::Action::KINDS.len(),
        story.cycles,
        applied.iter().min_by_key(|(_, n)| **n).map_or(String::new(), |(k, n)| format!("{k} ×{n}"))
    );
    Verdict::new("every kind", problems, ok)
}

/// No panics: no node's log records a panic.
pub fn no_panics(homes: &[impl AsRef<Path>]) -> Verdict {
    let mut problems = Vec::new();
    for (i, home) in homes.iter().enumerate() {
        let log = std::fs::read_to_string(home.as_ref().join("node.log")).unwrap_or_default();
        if let Some(line) = log.lines().find(|l| l.contains("panicked")) {
            problems.push(format!("node {i}: {line}"));
        }
    }
    Verdict::new("no panics", problems, format!("{} node logs without a panic", homes.len()))
}

/// Liveness back: after the last heal, every node finalises a block beyond the highest height
/// any node had at the heal, within `limit`.
pub async fn liveness(clients: &[Client], limit: Duration) -> Verdict {
    let start = tokio::time::Instant::now();
    let mut at_heal = 0;
    for c in clients {
        if let Ok(s) = get(c, "/v1/status").await {
            at_heal = at_heal.max(s["latest_height"].as_u64().unwrap_or(0));
        }
    }
    let mut behind: HashMap<usize, u64> = (0..clients.len()).map(|i| (i, 0)).collect();
    while start.elapsed() < limit && !behind.is_empty() {
        for (i, c) in clients.iter().enumerate() {
            if let Ok(s) = get(c, "/v1/status").await {
                let h = s["latest_height"].as_u64().unwrap_or(0);
                if h > at_heal {
                    behind.remove(&i);
                } else {
                    behind.insert(i, h);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut problems: Vec<String> =
        behind.iter().map(|(i, h)| format!("node {i} still at height {h} (heal at {at_heal})")).collect();
    problems.sort();
    let ok = format!("every node past height {at_heal} {:.1} s after the heal", start.elapsed().as_secs_f64());
    Verdict::new("liveness back", problems, ok)
}
