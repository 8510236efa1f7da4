//! The chaos workload: one client per node, each with its own key and its own network namespace
//! (a thread moved into it, with a runtime of its own), anchoring documents at a steady rate.
//! A client sends each transaction to its node and, when that node does not answer,
//! to the next; what was accepted but is not finalised after [`RESUBMIT_AFTER`] is sent again,
//! unchanged, to another node (a crashed node may have lost it from its mempool). Every
//! acknowledgement is recorded: accepted by which node, and finalised at which height and index
//! as the client saw it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use huxin_client::Client;
use huxin_types::{ChainId, Height, SecretKey, SignedTx, TxHash};

/// Time between one client's transactions.
const SEND_INTERVAL: Duration = Duration::from_millis(100);
/// How long a client waits for one node's answer before trying the next.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// An accepted transaction not finalised after this long is sent again, to another node.
const RESUBMIT_AFTER: Duration = Duration::from_secs(5);
/// How often the clients look for the finality of what they sent.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Every workload transaction expires at this height: far past any run, and within the
/// ledger's window (at most 100 000 heights ahead).
const EXPIRY: Height = Height(90_000);

/// One transaction a client got accepted.
#[derive(Clone, Debug)]
pub struct Ack {
    pub client: usize,
    pub nonce: u64,
    pub hash: TxHash,
    pub tx: SignedTx,
    pub accepted_by: usize,
    pub accepted_at: Instant,
    /// (height, index) as the client saw it finalised.
    pub finalised: Option<(u64, u64)>,
}

/// Why submissions were not accepted: refusal code (or `no_answer`) → (count, first message).
pub type Refusals = Arc<Mutex<std::collections::BTreeMap<String, (u64, String)>>>;

pub struct Workload {
    acks: Arc<Mutex<Vec<Ack>>>,
    pub refusals: Refusals,
    /// Cleared to stop the senders; `polling` to stop the finality pollers.
    sending: Arc<AtomicBool>,
    polling: Arc<AtomicBool>,
    clients: Vec<std::thread::JoinHandle<()>>,
}

impl Workload {
    /// Start one client per key (client i prefers node i), each in a thread of its own that
    /// enters `namespaces[i]` (when given) before it opens a socket; each sends and polls for
    /// the finality of what it sent.
    pub fn start(chain_id: ChainId, keys: Vec<SecretKey>, apis: Vec<String>, namespaces: Vec<String>) -> Workload {
        let acks = Arc::new(Mutex::new(Vec::new()));
        let (sending, polling) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicBool::new(true)));
        let refusals = Refusals::default();
        let mut clients = Vec::new();
        for (i, key) in keys.into_iter().enumerate() {
            let (acks, sending, polling, chain) = (acks.clone(), sending.clone(), polling.clone(), chain_id.clone());
            let (refusals, apis, namespace) = (refusals.clone(), apis.clone(), namespaces.get(i).cloned());
            clients.push(std::thread::spawn(move || {
                let ready = namespace.map_or(Ok(()), |ns| super::lab::enter(&ns)).and_then(|()| {
                    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(eyre::Report::from)
                });
                let runtime = match ready {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let mut refused = refusals.lock().expect("refusals lock");
                        refused.entry("client_not_started".into()).or_insert((0, format!("{e:#}"))).0 += 1;
                        return;
                    }
                };
                runtime.block_on(async move {
                    // Made here, inside the namespace: its sockets are the namespace's.
                    let nodes: Arc<Vec<Client>> = Arc::new(apis.iter().map(|a| Client::new(a)).collect());
                    tokio::join!(
                        send(i, key, chain, nodes.clone(), acks.clone(), refusals, sending),
                        poll(i, nodes, acks, polling),
                    );
                });
            }));
        }
        Workload { acks, refusals, sending, polling, clients }
    }

    /// Stop sending; keep looking for (and resubmitting) what is not yet finalised for up to
    /// `drain`; then stop and return every acknowledgement.
    pub async fn stop(self, drain: Duration) -> Vec<Ack> {
        self.sending.store(false, Ordering::Relaxed);
        let until = Instant::now() + drain;
        while Instant::now() < until && self.acks.lock().expect("acks lock").iter().any(|a| a.finalised.is_none()) {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        self.polling.store(false, Ordering::Relaxed);
        let clients = self.clients;
        let _ = tokio::task::spawn_blocking(move || clients.into_iter().for_each(|c| drop(c.join()))).await;
        let acks = self.acks.lock().expect("acks lock").clone();
        acks
    }
}

async fn send(
    me: usize,
    key: SecretKey,
    chain: ChainId,
    clients: Arc<Vec<Client>>,
    acks: Arc<Mutex<Vec<Ack>>>,
    refusals: Refusals,
    sending: Arc<AtomicBool>,
) {
    let n = clients.len();
    let mut nonce = 1;
    let mut attempt = 0;
    let Ok(mut tx) = crate::bench::bench_anchor(&chain, &key, nonce, serial(me, nonce), EXPIRY) else { return };
    while sending.load(Ordering::Relaxed) {
        let node = (me + attempt) % n;
        match tokio::time::timeout(REQUEST_TIMEOUT, clients[node].submit(&tx)).await {
            Ok(Ok(hash)) => {
                acks.lock().expect("acks lock").push(Ack {
                    client: me,
                    nonce,
                    hash,
                    tx: tx.clone(),
                    accepted_by: node,
                    accepted_at: Instant::now(),
                    finalised: None,
                });
                nonce += 1;
                attempt = 0;
                match crate::bench::bench_anchor(&chain, &key, nonce, serial(me, nonce), EXPIRY) {
                    Ok(next) => tx = next,
                    Err(_) => return,
                }
                tokio::time::sleep(SEND_INTERVAL).await;
            }
            // Refused (shed, or a nonce the node does not expect yet) or no answer: the next
            // node, after a pause.
            answer => {
                let (code, message) = match answer {
                    Ok(Err(e)) => (e.code().unwrap_or("transport").to_owned(), e.to_string()),
                    _ => ("no_answer".to_owned(), format!("no answer within {REQUEST_TIMEOUT:?}")),
                };
                refusals.lock().expect("refusals lock").entry(code).or_insert((0, message)).0 += 1;
                attempt += 1;
                tokio::time::sleep(SEND_INTERVAL * 2).await;
            }
        }
    }
}

/// A distinct tender section per (client, nonce), so no two anchors conflict.
fn serial(client: usize, nonce: u64) -> u64 {
    ((client as u64) << 40) | nonce
}

/// Client `me`'s finality poller: asks the nodes in turn about each of its own transactions not
/// yet seen finalised, and resubmits those accepted too long ago.
async fn poll(me: usize, clients: Arc<Vec<Client>>, acks: Arc<Mutex<Vec<Ack>>>, polling: Arc<AtomicBool>) {
    let n = clients.len();
    let mut round = 0usize;
    while polling.load(Ordering::Relaxed) {
        tokio::time::sleep(POLL_INTERVAL).await;
        round += 1;
        let pending: Vec<(usize, TxHash, SignedTx, usize, Instant)> = acks
            .lock()
            .expect("acks lock")
            .iter()
            .enumerate()
            .filter(|(_, a)| a.client == me && a.finalised.is_none())
            .map(|(i, a)| (i, a.hash, a.tx.clone(), a.accepted_by, a.accepted_at))
            .collect();
        for (i, hash, tx, by, at) in pending {
            let node = (by + round) % n;
            let answer =
                tokio::time::timeout(REQUEST_TIMEOUT, clients[node].get_json(&format!("/v1/txs/{hash}"))).await;
            if let Ok(Ok(v)) = answer {
                if v["status"] == "finalised" {
                    if let (Some(h), Some(ix)) = (v["height"].as_u64(), v["index"].as_u64()) {
                        acks.lock().expect("acks lock")[i].finalised = Some((h, ix));
                        continue;
                    }
                }
            }
            if at.elapsed() > RESUBMIT_AFTER {
                let _ = tokio::time::timeout(REQUEST_TIMEOUT, clients[node].submit(&tx)).await;
            }
        }
    }
}
