//! The checkers run after the schedule healed. Each gives a verdict: passed, or failed with what
//! it found.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use huxin_client::Client;

use super::workload::Ack;

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

/// Nothing executed twice: up to `top`, no transaction hash appears twice in the chain and no
/// (signer, nonce) pair repeats (read from node 0, which `no_fork` compared with the others).
pub async fn nothing_twice(client: &Client, top: u64) -> Verdict {
    let mut problems = Vec::new();
    let (mut hashes, mut nonces) = (HashSet::new(), HashSet::new());
    let mut txs = 0u64;
    for h in 1..=top {
        let mut offset = 0;
        loop {
            let page = match get(client, &format!("/v1/blocks/{h}?tx_offset={offset}&tx_limit={TX_PAGE}")).await {
                Ok(p) => p,
                Err(e) => {
                    problems.push(format!("block {h}: {e}"));
                    break;
                }
            };
            let items = page["txs"].as_array().cloned().unwrap_or_default();
            for t in &items {
                txs += 1;
                let hash = t["hash"].as_str().unwrap_or_default().to_owned();
                if !hashes.insert(hash.clone()) {
                    problems.push(format!("{hash} appears twice (again at height {h})"));
                }
                let body = if t["tx"].is_object() { &t["tx"]["body"] } else { &t["withheld"] };
                let pair = (body["signer"].to_string(), body["nonce"].to_string());
                if !nonces.insert(pair.clone()) {
                    problems.push(format!("signer {} used nonce {} twice (again at height {h})", pair.0, pair.1));
                }
            }
            offset += items.len();
            if items.len() < TX_PAGE || offset >= page["tx_count"].as_u64().unwrap_or(0) as usize {
                break;
            }
        }
    }
    Verdict::new(
        "nothing executed twice",
        problems,
        format!("{txs} transactions in blocks 1..={top}, each hash and (signer, nonce) once"),
    )
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
