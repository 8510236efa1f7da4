//! The chaos workload: one client per node, each with its own key and its own network namespace
//! (a thread moved into it, with a runtime of its own), anchoring documents at a steady rate, and
//! one story client ([`super::story`]) sending every other transaction kind in its own namespace.
//! A client sends each transaction to its node and, when that node does not answer,
//! to the next; what was accepted but is not finalised after [`RESUBMIT_AFTER`] is sent again,
//! unchanged, to another node (a crashed node may have lost it from its mempool). Every
//! acknowledgement is recorded: accepted by which node, and finalised at which height and index
//! as the client saw it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use huxin_client::Client;
use huxin_types::tx::Expiry;
use huxin_types::{ChainId, Height, SecretKey, SignedTx, TxHash};

use super::story::{self, Cast};

/// Time between one client's transactions.
const SEND_INTERVAL: Duration = Duration::from_millis(100);
/// How long a client waits for one node's answer before trying the next.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// An accepted transaction not finalised after this long is sent again, to another node.
const RESUBMIT_AFTER: Duration = Duration::from_secs(5);
/// How often the clients look for the finality of what they sent.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How often the story client looks for the finality of a wave (the next waits for it).
const STORY_POLL_INTERVAL: Duration = Duration::from_millis(150);
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
pub type Refusals = Arc<Mutex<BTreeMap<String, (u64, String)>>>;

/// What the story client did: the cycles it completed, and every step not applied.
#[derive(Clone, Debug, Default)]
pub struct StoryReport {
    pub cycles: u32,
    pub problems: Vec<String>,
}

/// The story client's member keys and namespace.
pub struct StoryClient {
    pub cast: Cast,
    pub namespace: Option<String>,
}

/// What the clients share: the acknowledgements, the refusals and the flags that stop them.
#[derive(Clone)]
struct Shared {
    acks: Arc<Mutex<Vec<Ack>>>,
    refusals: Refusals,
    /// Cleared to stop the senders; `polling` to stop the finality pollers.
    sending: Arc<AtomicBool>,
    polling: Arc<AtomicBool>,
    story: Arc<Mutex<StoryReport>>,
    /// Set while the story client is inside a cycle: stopping waits for it.
    story_busy: Arc<AtomicBool>,
}

impl Shared {
    fn refuse(&self, code: String, message: String) {
        self.refusals.lock().expect("refusals lock").entry(code).or_insert((0, message)).0 += 1;
    }
}

pub struct Workload {
    shared: Shared,
    clients: Vec<std::thread::JoinHandle<()>>,
}

impl Workload {
    /// Start one anchoring client per key (client i prefers node i) and the story client (after
    /// them), each in a thread of its own that enters its namespace (when given) before it opens
    /// a socket; each sends and polls for the finality of what it sent.
    pub fn start(
        chain_id: ChainId,
        keys: Vec<SecretKey>,
        apis: Vec<String>,
        namespaces: Vec<String>,
        story: StoryClient,
    ) -> Workload {
        let shared = Shared {
            acks: Arc::default(),
            refusals: Refusals::default(),
            sending: Arc::new(AtomicBool::new(true)),
            polling: Arc::new(AtomicBool::new(true)),
            story: Arc::default(),
            story_busy: Arc::new(AtomicBool::new(true)),
        };
        let mut clients = Vec::new();
        let me = keys.len();
        for (i, key) in keys.into_iter().enumerate() {
            let chain = chain_id.clone();
            clients.push(spawn_client(
                namespaces.get(i).cloned(),
                &apis,
                shared.clone(),
                move |nodes, shared| async move {
                    tokio::join!(send(i, key, chain, nodes.clone(), shared.clone()), poll(i, nodes, shared));
                },
            ));
        }
        clients.push(spawn_client(story.namespace, &apis, shared.clone(), move |nodes, shared| async move {
            tell(me, story.cast, nodes, shared).await
        }));
        Workload { shared, clients }
    }

    /// Why submissions were not accepted, so far.
    pub fn refusals(&self) -> Refusals {
        self.shared.refusals.clone()
    }

    /// Stop sending; keep looking for (and resubmitting) what is not yet finalised, and let the
    /// story finish its cycle, for up to `drain`; then stop and return every acknowledgement and
    /// the story's report.
    pub async fn stop(self, drain: Duration) -> (Vec<Ack>, StoryReport) {
        let shared = self.shared;
        shared.sending.store(false, Ordering::Relaxed);
        let until = Instant::now() + drain;
        let busy = || {
            shared.story_busy.load(Ordering::Relaxed)
                || shared.acks.lock().expect("acks lock").iter().any(|a| a.finalised.is_none())
        };
        while Instant::now() < until && busy() {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        shared.polling.store(false, Ordering::Relaxed);
        let clients = self.clients;
        let _ = tokio::task::spawn_blocking(move || clients.into_iter().for_each(|c| drop(c.join()))).await;
        let acks = shared.acks.lock().expect("acks lock").clone();
        let story = shared.story.lock().expect("story lock").clone();
        (acks, story)
    }
}

/// A client's thread: enter `namespace`, make a runtime and one HTTP client per node there (its
/// sockets are the namespace's), and run `body` on them.
fn spawn_client<F, Fut>(
    namespace: Option<String>,
    apis: &[String],
    shared: Shared,
    body: F,
) -> std::thread::JoinHandle<()>
where
    F: FnOnce(Arc<Vec<Client>>, Shared) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let apis = apis.to_vec();
    std::thread::spawn(move || {
        let ready = namespace.map_or(Ok(()), |ns| super::lab::enter(&ns)).and_then(|()| {
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(eyre::Report::from)
        });
        match ready {
            Ok(runtime) => runtime.block_on(async move {
                let nodes: Arc<Vec<Client>> = Arc::new(apis.iter().map(|a| Client::new(a)).collect());
                body(nodes, shared).await
            }),
            Err(e) => shared.refuse("client_not_started".into(), format!("{e:#}")),
        }
    })
}

async fn send(me: usize, key: SecretKey, chain: ChainId, nodes: Arc<Vec<Client>>, shared: Shared) {
    let mut nonce = 1;
    while shared.sending.load(Ordering::Relaxed) {
        let Ok(tx) = crate::bench::bench_anchor(&chain, &key, nonce, serial(me, nonce), EXPIRY) else { return };
        let Some((node, hash)) = submit_anywhere(&nodes, me, &tx, &shared, &shared.sending).await else { return };
        shared.acks.lock().expect("acks lock").push(Ack {
            client: me,
            nonce,
            hash,
            tx,
            accepted_by: node,
            accepted_at: Instant::now(),
            finalised: None,
        });
        nonce += 1;
        tokio::time::sleep(SEND_INTERVAL).await;
    }
}

/// Send `tx` to node `first`, and while it is refused (shed, or a nonce the node does not
/// expect yet) or not answered, to the next, after a pause, as long as `keep_going`: the node
/// that took it (or already held it) and its hash.
async fn submit_anywhere(
    nodes: &[Client],
    first: usize,
    tx: &SignedTx,
    shared: &Shared,
    keep_going: &AtomicBool,
) -> Option<(usize, TxHash)> {
    let mut attempt = 0;
    while keep_going.load(Ordering::Relaxed) {
        let node = (first + attempt) % nodes.len();
        let (code, message) = match tokio::time::timeout(REQUEST_TIMEOUT, nodes[node].submit(tx)).await {
            Ok(Ok(hash)) => return Some((node, hash)),
            Ok(Err(e)) if e.code() == Some("duplicate") => return Some((node, tx.hash())),
            Ok(Err(e)) => (e.code().unwrap_or("transport").to_owned(), e.to_string()),
            Err(_) => ("no_answer".to_owned(), format!("no answer within {REQUEST_TIMEOUT:?}")),
        };
        shared.refuse(code, message);
        attempt += 1;
        tokio::time::sleep(SEND_INTERVAL * 2).await;
    }
    None
}

/// A distinct tender section per (client, nonce), so no two anchors conflict.
fn serial(client: usize, nonce: u64) -> u64 {
    ((client as u64) << 40) | nonce
}

/// Client `me`'s finality poller: asks the nodes in turn about each of its own transactions not
/// yet seen finalised, and resubmits those accepted too long ago.
async fn poll(me: usize, nodes: Arc<Vec<Client>>, shared: Shared) {
    let mut round = 0usize;
    while shared.polling.load(Ordering::Relaxed) {
        tokio::time::sleep(POLL_INTERVAL).await;
        round += 1;
        let pending: Vec<usize> = {
            let acks = shared.acks.lock().expect("acks lock");
            (0..acks.len()).filter(|&i| acks[i].client == me && acks[i].finalised.is_none()).collect()
        };
        for i in pending {
            look_for_finality(&nodes, &shared, i, round).await;
        }
    }
}

/// Ask one node (the accepting one's `round`-th successor) whether acknowledgement `i`'s
/// transaction is finalised; record where, and return its outcome. Not finalised and accepted
/// more than [`RESUBMIT_AFTER`] ago: send it to that node again.
async fn look_for_finality(nodes: &[Client], shared: &Shared, i: usize, round: usize) -> Option<serde_json::Value> {
    let (hash, tx, by, at) = {
        let acks = shared.acks.lock().expect("acks lock");
        let a = &acks[i];
        (a.hash, a.tx.clone(), a.accepted_by, a.accepted_at)
    };
    let node = (by + round) % nodes.len();
    let answer = tokio::time::timeout(REQUEST_TIMEOUT, nodes[node].get_json(&format!("/v1/txs/{hash}"))).await;
    if let Ok(Ok(v)) = answer {
        if v["status"] == "finalised" {
            if let (Some(h), Some(ix)) = (v["height"].as_u64(), v["index"].as_u64()) {
                shared.acks.lock().expect("acks lock")[i].finalised = Some((h, ix));
                return Some(v["outcome"].clone());
            }
        }
    }
    if at.elapsed() > RESUBMIT_AFTER {
        let _ = tokio::time::timeout(REQUEST_TIMEOUT, nodes[node].submit(&tx)).await;
    }
    None
}

/// The story client (number `me`, after the anchoring clients): tells the story's cycles one
/// after another, each wave sent at once and waited for, until sending stops (the cycle under
/// way is finished while polling goes on).
async fn tell(me: usize, cast: Cast, nodes: Arc<Vec<Client>>, shared: Shared) {
    let n = nodes.len();
    let done = |shared: &Shared| shared.story_busy.store(false, Ordering::Relaxed);
    let mut asked = 0;
    let params = loop {
        match tokio::time::timeout(REQUEST_TIMEOUT, nodes[(me + asked) % n].params()).await {
            Ok(Ok(params)) => break params,
            _ if shared.polling.load(Ordering::Relaxed) => {
                asked += 1;
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            _ => return done(&shared),
        }
    };
    let problem = |p: String| shared.story.lock().expect("story lock").problems.push(p);
    let mut signer = story::Signer::default();
    for k in 0..story::CYCLES_MAX {
        if k > 0 && !shared.sending.load(Ordering::Relaxed) {
            break;
        }
        shared.story_busy.store(true, Ordering::Relaxed);
        let waves = match story::cycle(&cast, k, crate::devnet::now_ms(), &params) {
            Ok(waves) => waves,
            Err(e) => {
                problem(format!("cycle {k}: {e:#}"));
                break;
            }
        };
        for wave in waves {
            let mut sent = Vec::new();
            for step in wave {
                let who = step.who;
                let tx = signer.sign(&cast, step, |_| Expiry::Height(EXPIRY));
                let (kind, nonce) = (tx.body.action.kind(), tx.body.nonce);
                let Some((node, hash)) = submit_anywhere(&nodes, me, &tx, &shared, &shared.polling).await else {
                    return done(&shared);
                };
                let mut acks = shared.acks.lock().expect("acks lock");
                let accepted_at = Instant::now();
                acks.push(Ack { client: me, nonce, hash, tx, accepted_by: node, accepted_at, finalised: None });
                sent.push((acks.len() - 1, kind, who));
            }
            let mut round = 0;
            while !sent.is_empty() {
                if !shared.polling.load(Ordering::Relaxed) {
                    return done(&shared);
                }
                tokio::time::sleep(STORY_POLL_INTERVAL).await;
                round += 1;
                let mut waiting = Vec::new();
                for (i, kind, who) in sent {
                    match look_for_finality(&nodes, &shared, i, round).await {
                        Some(outcome) if outcome == "applied" => {}
                        Some(outcome) => problem(format!("cycle {k}: {kind} by {who:?}: {outcome}")),
                        None => waiting.push((i, kind, who)),
                    }
                }
                sent = waiting;
            }
        }
        audited_read(&nodes, &cast, (me + k as usize) % n, k, &shared).await;
        shared.story.lock().expect("story lock").cycles += 1;
        done(&shared);
    }
    done(&shared)
}

/// The supervisor reads cycle `k`'s supplier's whole credit history from node `first` (or, when
/// it does not answer, the next): an audited query, so that node has an audit log to anchor.
async fn audited_read(nodes: &[Client], cast: &Cast, first: usize, k: u32, shared: &Shared) {
    let Ok((uscc, _)) = story::supplier(k) else { return };
    for attempt in 0..nodes.len() {
        let node = &nodes[(first + attempt) % nodes.len()];
        match tokio::time::timeout(REQUEST_TIMEOUT, node.full_credit_history(&cast.supervisor.key, uscc.as_str())).await
        {
            Ok(Ok(_)) => return,
            Ok(Err(e)) => shared.refuse(format!("audited_read: {}", e.code().unwrap_or("transport")), e.to_string()),
            Err(_) => shared.refuse("audited_read: no_answer".into(), format!("no answer within {REQUEST_TIMEOUT:?}")),
        }
    }
}
