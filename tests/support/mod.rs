//! Test harness: a devnet of real `huxin` node processes on 127.0.0.1, in a temporary directory.
//!
//! Each node is a child process (`huxin start --home …`) with its own RocksDB, WAL and sockets.
//! Nodes can be stopped (SIGTERM), killed (SIGKILL) and restarted. When a test fails, the tail of
//! every node's log is printed.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use huxin_client::Client;
use huxin_types::tx::{AnchorDocument, DealStage, Expiry, TenderRef};
use huxin_types::{Action, ChainId, Hash32, Height, RegionCode, SecretKey, SignedTx, TxBody};

pub const EXE: &str = env!("CARGO_BIN_EXE_huxin");

/// How long a started network's nodes have, together, to finalise their first block.
const START_WITHIN_SECS: u64 = 90;

pub struct Net {
    pub dir: tempfile::TempDir,
    pub size: usize,
    pub base_port: u16,
    children: Vec<Option<Child>>,
    pub chain_id: ChainId,
    /// The log filter nodes start with (tracing's EnvFilter syntax): `HUXIN_TEST_LOG`, else
    /// warnings and the consensus crate's info. A test may add to it before starting nodes.
    pub log_filter: String,
}

/// The nodes' log filter unless `HUXIN_TEST_LOG` (set when a test needs to be debugged) says.
fn default_log_filter() -> String {
    std::env::var("HUXIN_TEST_LOG").unwrap_or_else(|_| "warn,huxin_consensus=info".into())
}

/// Install a test's pinned npm project (`tests/vc`, `tests/sm`) from its lockfile: `npm ci` in
/// the repository's `tests/<name>`, whose path it returns (Node 20 and npm are needed).
pub fn npm_project(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests").join(name);
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .unwrap_or_else(|e| panic!("run npm ci in tests/{name} (Node 20 and npm are needed): {e}"));
    assert!(status.success(), "npm ci in tests/{name} failed");
    dir
}

/// A Python virtual environment under the target directory with a test's pinned requirements
/// (`tests/<name>/requirements.txt`) installed, made once and again only when they change
/// (`python3 -m venv`, `pip`): its directory.
pub fn python_venv(name: &str) -> PathBuf {
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests").join(name).join("requirements.txt");
    let pinned = std::fs::read(&requirements).unwrap_or_else(|e| panic!("{}: {e}", requirements.display()));
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-venv"));
    let stamp = venv.join("requirements.txt");
    if venv.join("bin/python").exists() && std::fs::read(&stamp).ok().as_deref() == Some(pinned.as_slice()) {
        return venv;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let status = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 -m venv");
    assert!(status.success(), "python3 -m venv failed (Debian: apt-get install python3-venv)");
    let out = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .output()
        .expect("pip install");
    assert!(
        out.status.success(),
        "pip install -r {}: {}",
        requirements.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&stamp, &pinned).expect("venv stamp");
    venv
}

/// The lowest port a test network may use.
const TEST_PORTS_FROM: u16 = 10_000;

/// The kernel's ephemeral range (`ip_local_port_range`): the ports it hands to outgoing
/// connections. A range drawn inside it can be taken by some client's connection between the
/// check below and the node's bind, and the node then fails to start (most likely what stop 39's
/// CI run met: node 0 exited at start, its ports drawn from 51 480, inside the range).
fn ephemeral_ports() -> std::ops::RangeInclusive<u16> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut bounds = text.split_whitespace().filter_map(|w| w.parse::<u16>().ok());
    match (bounds.next(), bounds.next()) {
        (Some(low), Some(high)) if low <= high => low..=high,
        _ => 32_768..=60_999,
    }
}

/// A base port with `count` free ports above it (each node uses base+10i … base+10i+2), all
/// outside the ephemeral range.
pub fn free_base_port(nodes: usize) -> u16 {
    let span = nodes as u16 * 10;
    let ephemeral = ephemeral_ports();
    // The candidate bases: below the ephemeral range, then above it.
    let below = (TEST_PORTS_FROM / 10)..(ephemeral.start().saturating_sub(span) / 10);
    let above = (ephemeral.end().saturating_add(10) / 10)..(u16::MAX - span) / 10;
    let slots = below.len() + above.len();
    assert!(slots > 0, "no ports outside the ephemeral range {ephemeral:?}");
    // Tests of one file run in parallel in one process: each network draws its own range.
    static NETWORKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let drawn = NETWORKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let seed = (std::process::id() as u64).wrapping_add(drawn.wrapping_mul(104_729));
    for attempt in 0..200u64 {
        let slot = (seed.wrapping_mul(7919).wrapping_add(attempt * 1237) % slots as u64) as usize;
        let base =
            if slot < below.len() { below.start + slot as u16 } else { above.start + (slot - below.len()) as u16 } * 10;
        let all_free =
            (0..nodes).all(|i| (0..3).all(|o| TcpListener::bind(("127.0.0.1", base + i as u16 * 10 + o)).is_ok()));
        if all_free {
            return base;
        }
    }
    panic!("no free port range found");
}

impl Net {
    /// Create a devnet of `size` validators (not started), of the suite `HUXIN_TEST_SUITE` names
    /// (`ed25519-sha256` when unset), so any test runs on either suite.
    pub fn create(size: usize) -> Net {
        let suite = std::env::var("HUXIN_TEST_SUITE").unwrap_or_else(|_| "ed25519-sha256".into());
        Self::create_in(size, &suite)
    }

    /// Create a devnet of `size` validators on a chain of `suite` (not started).
    pub fn create_in(size: usize, suite: &str) -> Net {
        let dir = tempfile::tempdir().expect("temp dir");
        // One range more than the validators, so a follower can be added (`add_follower`).
        let base_port = free_base_port(size + 1);
        let status = Command::new(EXE)
            .args(["devnet", "--create-only", "--validators", &size.to_string(), "--bench-keys", "8", "--suite", suite])
            .arg("--base-port")
            .arg(base_port.to_string())
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .status()
            .expect("run huxin devnet --create-only");
        assert!(status.success(), "devnet creation failed");
        println!("devnet in {} from port {base_port}", dir.path().display());
        Net {
            dir,
            size,
            base_port,
            children: (0..size).map(|_| None).collect(),
            chain_id: ChainId::new("huxin-devnet").unwrap(),
            log_filter: default_log_filter(),
        }
    }

    /// A network of homes already written in `dir` (`node0`, `node1`, …, node i's API on
    /// `base_port + 10·i`), not started.
    pub fn from_homes(dir: tempfile::TempDir, size: usize, base_port: u16, chain_id: ChainId) -> Net {
        Net {
            dir,
            size,
            base_port,
            children: (0..size).map(|_| None).collect(),
            chain_id,
            log_filter: default_log_filter(),
        }
    }

    /// Count in a home written in `node{size}` by the test itself (`huxin init`): not started;
    /// its index is returned.
    pub fn adopt_home(&mut self) -> usize {
        assert!(self.home(self.size).join("config.toml").exists(), "no home written in node{}", self.size);
        self.children.push(None);
        self.size += 1;
        self.size - 1
    }

    /// Add a follower (`huxin devnet add-node`): a node that is not a validator, listed in every
    /// other node's config. Not started; its index is returned. Start (or restart) the others
    /// after adding it, so they let it in.
    pub fn add_follower(&mut self) -> usize {
        self.add_node(&[]).0
    }

    /// `huxin devnet add-node --validator` on the running network: a new city's centre, voted in
    /// by the others. Not started; its index and what the command printed.
    pub fn add_centre(&mut self) -> (usize, String) {
        self.add_node(&["--validator"])
    }

    fn add_node(&mut self, flags: &[&str]) -> (usize, String) {
        let out = Command::new(EXE)
            .args(["devnet", "add-node", "--dir"])
            .arg(self.dir.path())
            .args(flags)
            .output()
            .expect("run huxin devnet add-node");
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "huxin devnet add-node {flags:?} failed: {printed}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.children.push(None);
        self.size += 1;
        (self.size - 1, printed)
    }

    /// Create and start every node, and wait until all have finalised a block.
    pub async fn start_all(size: usize) -> Net {
        Self::started(Net::create(size)).await
    }

    /// [`Net::start_all`] on a chain of `suite`, whatever `HUXIN_TEST_SUITE` says.
    pub async fn start_all_in(size: usize, suite: &str) -> Net {
        Self::started(Net::create_in(size, suite)).await
    }

    /// Start every node of `net` and wait until each has finalised a block; a node that exits
    /// meanwhile fails the test at once, with what it printed.
    pub async fn started(mut net: Net) -> Net {
        let size = net.size;
        for i in 0..size {
            net.start(i);
        }
        let deadline = Instant::now() + Duration::from_secs(START_WITHIN_SECS);
        for i in 0..size {
            loop {
                if net.height(i).await.is_some_and(|h| h >= 1) {
                    break;
                }
                // (Dropping `net` while the test panics prints every node's log.)
                if let Some(status) = net.children[i].as_mut().and_then(|c| c.try_wait().unwrap()) {
                    panic!("node {i} exited while the network started: {status}");
                }
                if Instant::now() > deadline {
                    panic!("node {i} did not finalise a block within {START_WITHIN_SECS} s of the start");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        net
    }

    /// The chain's genesis.
    pub fn genesis(&self) -> huxin_types::Genesis {
        huxin_types::Genesis::from_json(&std::fs::read_to_string(self.dir.path().join("genesis.json")).unwrap())
            .unwrap()
    }

    /// A key of the chain's suite, from a seed (a stranger's, a subject's, a rotated one).
    pub fn key_from(&self, seed: u8) -> SecretKey {
        SecretKey::derive_in(self.genesis().suite, [seed; 32])
    }

    /// The key node `i` votes with (its `consensus_key` on a chain that is not ed25519, else its
    /// node key).
    pub fn consensus_key(&self, i: usize) -> SecretKey {
        let own = self.home(i).join("consensus_key");
        let file = if own.exists() { own } else { self.home(i).join("node_key") };
        SecretKey::from_hex(std::fs::read_to_string(file).unwrap().trim()).unwrap()
    }

    pub fn home(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("node{i}"))
    }

    pub fn start(&mut self, i: usize) {
        assert!(self.children[i].is_none(), "node {i} is already running");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.home(i).join("node.log")).unwrap();
        let mut command = Command::new(EXE);
        // As a deployed node starts (the node binary's `ALLOCATOR_KEEPS_FREED_MEMORY`).
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            command.env("MIMALLOC_PURGE_DELAY", "-1");
        }
        let child = command
            .args(["start", "--log", &self.log_filter, "--home"])
            .arg(self.home(i))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn node");
        self.children[i] = Some(child);
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            child.kill().expect("kill -9");
            child.wait().unwrap();
        }
    }

    /// SIGTERM and wait.
    pub fn stop(&mut self, i: usize) {
        let Some(child) = self.children[i].as_ref() else { return };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        if self.wait_exit(i, Duration::from_secs(15)).is_none() {
            self.kill9(i);
        }
    }

    /// Wait up to `timeout` for node `i` to exit by itself; its exit status, or `None` if it is
    /// still running (or was never started).
    pub fn wait_exit(&mut self, i: usize, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.children[i].as_mut()?;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.children[i] = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn is_running(&mut self, i: usize) -> bool {
        match self.children[i].as_mut() {
            Some(child) => child.try_wait().unwrap().is_none(),
            None => false,
        }
    }

    /// Node `i`'s resident memory in bytes (from `/proc`), if it is running.
    pub fn rss_bytes(&self, i: usize) -> Option<u64> {
        let pid = self.children[i].as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim();
        kib.parse::<u64>().ok().map(|k| k * 1024)
    }

    /// Bytes under node `i`'s home directory (its store, WAL and log).
    pub fn disk_bytes(&self, i: usize) -> u64 {
        fn size(path: &std::path::Path) -> u64 {
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => {
                    std::fs::read_dir(path).map(|entries| entries.flatten().map(|e| size(&e.path())).sum()).unwrap_or(0)
                }
                Ok(m) => m.len(),
                Err(_) => 0,
            }
        }
        size(&self.home(i))
    }

    pub fn api(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.base_port + i as u16 * 10)
    }

    /// Sign `action` with member `who`'s key, submit it to node `node`, wait until it is
    /// finalised and every running node has its block: the transaction hash (a proposal's id)
    /// and its outcome.
    pub async fn send(&self, node: usize, who: &str, action: Action) -> (Hash32, serde_json::Value) {
        let running: Vec<usize> = (0..self.size).filter(|i| self.children[*i].is_some()).collect();
        self.send_synced(node, who, action, &running).await
    }

    /// [`Net::send`], waiting only for `synced` to have the block (a node being voted out is
    /// shut out of the network and stops following).
    pub async fn send_synced(
        &self,
        node: usize,
        who: &str,
        action: Action,
        synced: &[usize],
    ) -> (Hash32, serde_json::Value) {
        let client = self.client(node);
        let hash = client.prepare_sign_submit(&self.member_key(who), &action).await.unwrap();
        let status = client.wait_finalised(&hash, Duration::from_secs(60)).await.unwrap();
        for i in synced {
            self.wait_height(*i, status.height.unwrap_or(0), Duration::from_secs(60)).await;
        }
        (Hash32(hash.0), serde_json::to_value(status.outcome.unwrap()).unwrap())
    }

    /// Poll node `i`'s `/v1/status` until `field` of it equals `want` (for up to 10 s); the last
    /// value seen.
    pub async fn wait_status<T: PartialEq>(
        &self,
        i: usize,
        field: impl Fn(&huxin_client::StatusView) -> T,
        want: T,
    ) -> Option<T> {
        let mut seen = None;
        for _ in 0..100 {
            seen = self.client(i).status().await.ok().map(|s| field(&s));
            if seen.as_ref() == Some(&want) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        seen
    }

    /// Everything node `i` has logged so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.home(i).join("node.log")).unwrap_or_default()
    }

    /// How many blocks node `i` timed in the `/metrics` histogram of phase `phase`
    /// (`huxin_block_<phase>_seconds`); panics if it exports none.
    pub async fn phase_count(&self, i: usize, phase: &str) -> u64 {
        let metrics = self.client(i).metrics().await.unwrap();
        let name = format!("huxin_block_{phase}_seconds_count ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("node {i} exports no {name}"))
    }

    pub fn consensus_port(&self, i: usize) -> u16 {
        self.base_port + i as u16 * 10 + 1
    }

    pub fn gossip_port(&self, i: usize) -> u16 {
        self.base_port + i as u16 * 10 + 2
    }

    pub fn client(&self, i: usize) -> Client {
        Client::new(&self.api(i))
    }

    fn read_key(path: &Path) -> SecretKey {
        SecretKey::from_hex(std::fs::read_to_string(path).unwrap().trim()).unwrap()
    }

    /// A member's signing key by file name (`hangzhou`, `bank`, `supervisor`, …).
    pub fn member_key(&self, name: &str) -> SecretKey {
        Self::read_key(&self.dir.path().join("keys").join(format!("{name}.key")))
    }

    /// Extra trading-centre keys.
    pub fn bench_keys(&self) -> Vec<SecretKey> {
        std::fs::read_to_string(self.dir.path().join("bench_keys"))
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| SecretKey::from_hex(l).unwrap())
            .collect()
    }

    pub async fn height(&self, i: usize) -> Option<u64> {
        self.client(i).status().await.ok().map(|s| s.latest_height)
    }

    pub async fn wait_height(&self, i: usize, height: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(h) = self.height(i).await {
                if h >= height {
                    return;
                }
            }
            if Instant::now() > deadline {
                self.dump_logs();
                panic!("node {i} did not reach height {height} within {timeout:?} (at {:?})", self.height(i).await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until every running node has finalised `height`: a transaction finalised on one node
    /// may not be persisted on another yet, and tests read from any node.
    pub async fn sync_to(&self, height: u64) {
        for i in 0..self.size {
            if self.children[i].is_some() {
                self.wait_height(i, height, Duration::from_secs(60)).await;
            }
        }
    }

    /// Block hash and state root of `height` on node `i`.
    pub async fn block_id(&self, i: usize, height: u64) -> (String, String) {
        let b = self.client(i).block(height).await.unwrap_or_else(|e| panic!("node {i} block {height}: {e}"));
        (b.hash.to_string(), b.header.state_root.to_string())
    }

    pub fn dump_logs(&self) {
        for i in 0..self.size {
            let log = std::fs::read_to_string(self.home(i).join("node.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            // A node that exits with an error prints it, then a backtrace longer than the tail.
            if let Some(error) = lines.iter().position(|line| line.starts_with("Error:")) {
                eprintln!("----- node {i} exited with -----");
                for line in lines[error..].iter().take(8) {
                    eprintln!("{line}");
                }
            }
            eprintln!("----- node {i} log (last 40 lines) -----");
            for line in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("{line}");
            }
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump_logs();
        }
        for i in 0..self.size {
            self.kill9(i);
        }
    }
}

/// An anchor action for a unique document.
pub fn anchor_action(seed: u64) -> Action {
    let mut doc = [0u8; 32];
    doc[..8].copy_from_slice(&seed.to_be_bytes());
    doc[8..16].copy_from_slice(&std::process::id().to_be_bytes().repeat(2));
    Action::AnchorDocument(AnchorDocument {
        tender: TenderRef {
            region: RegionCode::new(330100).unwrap(),
            project_code: "TEST".into(),
            section_code: "1".into(),
        },
        stage: DealStage::Announcement,
        document_hash: Hash32(doc),
        title: "test".into(),
        deal_code: String::new(),
        platform_code: String::new(),
        parties: Vec::new(),
        experts: Vec::new(),
        estimated_price_fen: None,
    })
}

/// Sign an anchor locally.
pub fn anchor_tx(chain_id: &ChainId, key: &SecretKey, nonce: u64, expiry: Expiry, seed: u64) -> SignedTx {
    TxBody { chain_id: chain_id.clone(), signer: key.public_key(), nonce, expiry, action: anchor_action(seed) }
        .sign(key)
}

pub fn far_expiry() -> Expiry {
    Expiry::Height(Height(50_000))
}

/// An open server-sent event stream (`GET /v1/events`, `/v1/supervisor/rings/events`) and the
/// bytes read so far.
pub struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    pub async fn open(url: &str, last_event_id: Option<&str>) -> Stream {
        let headers: Vec<(String, String)> =
            last_event_id.map(|id| ("Last-Event-ID".to_owned(), id.to_owned())).into_iter().collect();
        Stream::open_with(url, &headers).await
    }

    /// Open a stream with these request headers (a signed query's, for instance).
    pub async fn open_with(url: &str, headers: &[(String, String)]) -> Stream {
        let mut request = reqwest::Client::new().get(url);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        Stream { response, buffer: String::new() }
    }

    /// The next event (id, kind, data), or None if none comes within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<(String, String, serde_json::Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field =
                    |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start().to_owned()));
                if let (Some(id), Some(kind), Some(data)) = (field("id:"), field("event:"), field("data:")) {
                    return Some((id, kind, serde_json::from_str(&data).unwrap()));
                }
                continue; // keep-alive comment
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?.unwrap()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_millis() as u64
}

/// An administrative penalty on `subject` decided now by Zhejiang's supervisor (the devnet's
/// `supervisor` member), published for 200 days; adjust fields with struct update syntax.
pub fn penalty(subject: &huxin_types::Uscc, decision_no: &str) -> huxin_types::credit::RecordCredit {
    use huxin_types::credit::{CreditKind, RecordCredit, Severity};
    let now = now_ms();
    RecordCredit {
        subject: huxin_types::identity::SubjectId::Organisation(subject.clone()),
        kind: CreditKind::AdministrativePenalty,
        decision_no: decision_no.into(),
        authority: "浙江省发展和改革委员会".into(),
        authority_uscc: huxin_types::Uscc::with_check("11330000MB0000002").expect("a valid code"),
        facts: "串通投标".into(),
        legal_basis: "《招标投标法》第五十三条".into(),
        penalty_type: "罚款".into(),
        penalty_content: "罚款".into(),
        amount_fen: 100_000,
        decision_date: huxin_types::TimestampMs(now),
        evidence_hash: Hash32::of_document(decision_no.as_bytes()),
        severity: Severity::General,
        publication_start: huxin_types::TimestampMs(now),
        publication_end: huxin_types::TimestampMs(now + 200 * 86_400_000),
        score: None,
        tender: None,
    }
}

/// An anchor of a deal document to `tender` at `stage` from platform ZJ-NB, its deal code made
/// from the tender's project and section.
pub fn deal_anchor(
    tender: &TenderRef,
    stage: DealStage,
    hash: Hash32,
    parties: Vec<huxin_types::Uscc>,
    price: Option<u64>,
) -> Action {
    Action::AnchorDocument(AnchorDocument {
        tender: tender.clone(),
        stage,
        document_hash: hash,
        title: format!("{stage:?}"),
        deal_code: format!("{}-{}", tender.project_code, tender.section_code),
        platform_code: "ZJ-NB".into(),
        parties,
        experts: vec![],
        estimated_price_fen: price,
    })
}

/// The proposal that makes genesis validator `v` a validator of `member` at `power`, naming its
/// node key beside it on a chain that has one (`set_validator_with_node_key`).
pub fn set_validator(
    member: huxin_types::MemberId,
    v: &huxin_types::genesis::GenesisValidator,
    power: u64,
) -> huxin_types::governance::ProposalAction {
    use huxin_types::governance::ProposalAction;
    match v.node_key {
        Some(node_key) => ProposalAction::SetValidatorWithNodeKey { member, public_key: v.public_key, node_key, power },
        None => ProposalAction::SetValidator { member, public_key: v.public_key, power },
    }
}
