//! `huxin chaos --seed N`: a seeded fault schedule against a real network, in the spirit of
//! Jepsen. Each validator runs as its own process in its own network namespace, and each client
//! in one of its own ([`lab`]); the clients anchor documents through every node ([`workload`])
//! while the schedule ([`schedule`]) kills, pauses, partitions, slows and skews the nodes. After
//! the last heal the checkers ([`check`]) give their verdicts: no fork, nothing acknowledged lost,
//! nothing executed twice, liveness back, no panics. The same seed gives the same schedule; the
//! run's homes and logs stay in `--dir`.

mod check;
mod lab;
mod schedule;
pub(crate) mod story;
mod summary;
mod workload;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use eyre::{eyre, WrapErr};

use huxin_client::Client;

use crate::config::{PeerConfig, Timeouts};
use crate::home::{self, HomeSpec, Ports};
use schedule::{Nemesis, Step};

/// Every node's API port (each node has its own address, so all use the same ports).
const BASE_PORT: u16 = 26600;
/// How long the network may take to finalise its first block.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// After the last heal, every node must finalise again within this (the bound).
const LIVENESS_LIMIT: Duration = Duration::from_secs(30);
/// After the workload stops, how long its accepted transactions may take to be finalised.
const DRAIN: Duration = Duration::from_secs(20);
/// How long a stopped node may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// The size of the file system a disk-full fault fills (mounted under that node's store).
const FULL_DISK_MB: u64 = 256;
/// The file that fills it.
const FILLER: &str = "chaos-filler";
/// The audit-log anchoring interval of the chaos nodes.
const ANCHOR_INTERVAL_MS: u64 = 2_000;
/// Most schedules one `--runs` plays.
const RUNS_MAX: u64 = 10_000;

#[derive(clap::Args)]
pub struct ChaosArgs {
    /// The schedule's seed (a number); the same seed gives the same schedule.
    #[arg(long, required_unless_present = "clean")]
    seed: Option<u64>,
    /// Validators, at least 4 (one process and one network namespace each).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Faults in the schedule, one after another (the default, one per nemesis, covers every
    /// nemesis).
    #[arg(long, default_value_t = schedule::KINDS.len())]
    faults: usize,
    /// Only these nemeses (kill, pause, partition, bridge, ring, one-way, netem, wipe,
    /// disk-full, twin, skew, leader); repeat.
    #[arg(long = "nemesis")]
    nemeses: Vec<String>,
    /// Directory for the run's genesis, homes and node logs (kept afterwards); a fresh
    /// temporary directory by default. With --runs, schedule N's go in DIR/seed-N.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Play this many schedules, seeds --seed, --seed + 1, …, one after another, and end with a
    /// table of nemeses × verdicts. The homes and logs of a schedule that passed are removed.
    #[arg(long, default_value_t = 1)]
    runs: u64,
    /// The lab to work in, 0 to 9: its namespaces are named hxc{L}- (lab 0: hxc-) and its
    /// addresses are 10.231.L.x, so runs in different labs go side by side; --clean cleans it.
    #[arg(long, default_value_t = 0)]
    lab: u8,
    /// Print the schedule and stop: needs no privilege.
    #[arg(long)]
    plan: bool,
    /// Remove namespaces and links an interrupted run left behind, and stop.
    #[arg(long)]
    clean: bool,
}

pub async fn run(args: ChaosArgs) -> eyre::Result<()> {
    lab::select(args.lab)?;
    if args.clean {
        lab::preflight_tools()?;
        let removed = lab::clean()?;
        println!("removed {removed} leftover namespace(s) and link(s)");
        return Ok(());
    }
    let first = args.seed.ok_or_else(|| eyre!("--seed is required"))?;
    if args.runs == 0 || args.runs > RUNS_MAX {
        return Err(eyre!("--runs is 1 to {RUNS_MAX}, got {}", args.runs));
    }
    let seeds = first..first.checked_add(args.runs).ok_or_else(|| eyre!("--seed {first} + --runs overflows"))?;
    if args.plan {
        for seed in seeds {
            plan(seed, &args)?;
        }
        return Ok(());
    }
    lab::preflight()?;
    if args.runs == 1 {
        let dir = match &args.dir {
            Some(d) => d.clone(),
            None => run_dir(first)?,
        };
        let steps = plan(first, &args)?;
        let verdicts = play(first, &steps, &args, &dir).await?;
        let failed: Vec<_> = verdicts.iter().filter(|v| !v.passed).map(|v| v.checker).collect();
        return if failed.is_empty() {
            println!("all checkers passed");
            Ok(())
        } else {
            Err(eyre!("seed {first} failed: {}; logs in {}", failed.join(", "), dir.display()))
        };
    }
    let mut runs = Vec::new();
    for seed in seeds {
        let dir = match &args.dir {
            Some(d) => d.join(format!("seed-{seed}")),
            None => run_dir(seed)?,
        };
        std::fs::create_dir_all(&dir)?;
        let steps = plan(seed, &args)?;
        let outcome = match play(seed, &steps, &args, &dir).await {
            Ok(verdicts) => summary::Outcome::Judged(verdicts.iter().map(|v| (v.checker, v.passed)).collect()),
            Err(e) if e.downcast_ref::<Stopped>().is_some() => {
                println!("stopped ({e}) before seed {seed} ended; the table holds the schedules before it");
                break;
            }
            Err(e) => summary::Outcome::Error(format!("{e:#}")),
        };
        let run = summary::Run::new(seed, &steps, outcome);
        match &run.outcome {
            _ if run.passed() => {
                println!("seed {seed}: all checkers passed");
                let _ = std::fs::remove_dir_all(&dir);
            }
            summary::Outcome::Error(e) => println!("seed {seed}: ERROR {e}; logs in {}", dir.display()),
            summary::Outcome::Judged(_) => println!("seed {seed}: FAILED; logs in {}", dir.display()),
        }
        runs.push(run);
    }
    println!("\n{} validators, {} faults per schedule, seeds from {first}:\n", args.validators, args.faults);
    print!("{}", summary::table(&runs));
    if runs.iter().all(summary::Run::passed) {
        Ok(())
    } else {
        Err(eyre!("{} of {} schedules failed", runs.iter().filter(|r| !r.passed()).count(), runs.len()))
    }
}

/// The run was stopped by a signal (Ctrl-C, SIGTERM).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Stopped(&'static str);

/// Print seed's schedule; return it.
fn plan(seed: u64, args: &ChaosArgs) -> eyre::Result<Vec<Step>> {
    let steps = schedule::generate(seed, args.validators, args.faults, &args.nemeses)?;
    println!("chaos seed {seed}: {} validators, {} faults", args.validators, steps.len());
    for s in &steps {
        let (at, lasting) = (s.start_ms as f64 / 1e3, s.duration_ms as f64 / 1e3);
        println!("  at {at:>6.1} s for {lasting:.1} s  {:<9}  {}", s.nemesis.kind(), s.nemesis);
    }
    Ok(steps)
}

/// Play seed's schedule `steps` on a network in `dir`, and print and return every checker's
/// verdict.
async fn play(seed: u64, steps: &[Step], args: &ChaosArgs, dir: &Path) -> eyre::Result<Vec<check::Verdict>> {
    let mut net = Network::create(dir, args.validators, &schedule::full_disk_nodes(steps))?;
    println!("homes and logs in {}", dir.display());
    if !net.lab.has_netem() {
        println!("this kernel has no tc netem: a slowed link is a 1 mbit token bucket queueing up to the delay, plus nftables' random loss");
    }
    // Ctrl-C or SIGTERM stops the run; the network and its namespaces are removed either way.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let outcome = tokio::select! {
        r = net.run(steps) => r,
        _ = interrupt.recv() => Err(Stopped("interrupted").into()),
        _ = terminate.recv() => Err(Stopped("terminated").into()),
    };
    net.shut_down();
    let verdicts = outcome?;
    println!("verdicts (seed {seed}):");
    for v in &verdicts {
        println!("  {:<26} {}  {}", v.checker, if v.passed { "PASS" } else { "FAIL" }, v.detail);
    }
    Ok(verdicts)
}

fn run_dir(seed: u64) -> eyre::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("huxin-chaos-{seed}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The nodes of one run, their namespaces and processes.
struct Network {
    lab: lab::Lab,
    homes: Vec<PathBuf>,
    children: Vec<Option<Child>>,
    clients: Vec<Client>,
    chain_id: huxin_types::ChainId,
    bench_keys: Vec<huxin_types::SecretKey>,
    /// The members the story client signs for.
    cast: story::Cast,
    exe: PathBuf,
    /// Small file systems mounted under stores, for disk-full faults.
    mounts: Vec<PathBuf>,
    /// What the nodes did under the faults, for the report.
    notes: Vec<String>,
    /// Nodes that did not stop cleanly on a full disk.
    full_disk_problems: Vec<String>,
    /// Stores checked after a `kill -9`, and what was wrong with them.
    crashes: usize,
    crash_problems: Vec<String>,
    /// Each node's validator key (a twin fault starts a second process with one of them).
    node_keys: Vec<huxin_types::SecretKey>,
    /// The running twin, in the lab's spare namespace.
    twin: Option<Child>,
    dir: PathBuf,
}

impl Network {
    /// Write a genesis and one home per node (each listening on its namespace's address, its
    /// peers at theirs), mount a small file system under the stores of `full_disks`, and create
    /// the namespaces.
    fn create(dir: &Path, nodes: usize, full_disks: &[usize]) -> eyre::Result<Network> {
        let (genesis, keys) =
            crate::devnet::generate("huxin-chaos", nodes, nodes, crate::devnet::now_ms(), Default::default())?;
        crate::devnet::write_genesis(dir, &genesis, &keys)?;
        let member_keys: Vec<_> = keys.members.iter().map(|(_, k)| k.clone()).collect();
        let cast = story::Cast::new(&genesis, &member_keys)?;
        let mut homes = Vec::new();
        for i in 0..nodes {
            let home = dir.join(format!("node{i}"));
            write_home(&home, dir, i, i, &keys.nodes, Some(&keys.audit[i]))?;
            homes.push(home);
        }
        let mut mounts = Vec::new();
        for &i in full_disks {
            let db = homes[i].join("db");
            std::fs::create_dir_all(&db)?;
            let size = format!("size={FULL_DISK_MB}m");
            let out =
                std::process::Command::new("mount").args(["-t", "tmpfs", "-o", &size, "tmpfs"]).arg(&db).output()?;
            if !out.status.success() {
                return Err(eyre!(
                    "mounting a tmpfs on {}: {}",
                    db.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            mounts.push(db);
        }
        // One namespace more than the nodes: where a twin runs; one client more: the story's.
        let lab = match lab::Lab::create(nodes + 1, nodes + 1) {
            Ok(lab) => lab,
            Err(e) => {
                unmount(&mounts);
                return Err(e);
            }
        };
        let clients = (0..nodes).map(|i| Client::new(&format!("http://{}:{BASE_PORT}", lab::node_ip(i)))).collect();
        Ok(Network {
            lab,
            homes,
            children: (0..nodes).map(|_| None).collect(),
            clients,
            chain_id: genesis.chain_id.clone(),
            bench_keys: keys.bench,
            cast,
            exe: std::env::current_exe()?,
            mounts,
            notes: Vec::new(),
            full_disk_problems: Vec::new(),
            crashes: 0,
            crash_problems: Vec::new(),
            node_keys: keys.nodes.clone(),
            twin: None,
            dir: dir.to_owned(),
        })
    }

    fn start(&mut self, i: usize) -> eyre::Result<()> {
        let child = self.spawn(i, &self.homes[i]).wrap_err_with(|| format!("starting node {i}"))?;
        self.children[i] = Some(child);
        Ok(())
    }

    /// Start the node whose home is `home` in namespace `slot`, as a deployed node starts (the
    /// allocator's setting, see [`crate::ALLOCATOR_KEEPS_FREED_MEMORY`]), logging to its home.
    fn spawn(&self, slot: usize, home: &Path) -> eyre::Result<Child> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(home.join("node.log"))?;
        let mut command = self.lab.command(slot, &self.exe);
        command.arg("start").arg("--home").arg(home).stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
        Ok(crate::keep_freed_memory(&mut command).spawn()?)
    }

    fn signal(&self, i: usize, signal: rustix::process::Signal) {
        if let Some(child) = &self.children[i] {
            if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
                let _ = rustix::process::kill_process(pid, signal);
            }
        }
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stop every node (SIGTERM, then SIGKILL after the grace) and remove the namespaces.
    fn shut_down(&mut self) {
        for i in 0..self.children.len() {
            self.signal(i, rustix::process::Signal::CONT);
            self.signal(i, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        for child in self.children.iter_mut().flatten() {
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.iter_mut().for_each(|c| *c = None);
        if let Some(mut twin) = self.twin.take() {
            let _ = twin.kill();
            let _ = twin.wait();
        }
        unmount(&self.mounts);
        self.mounts.clear();
        self.lab.remove();
    }

    async fn wait_first_block(&self) -> eyre::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        for (i, c) in self.clients.iter().enumerate() {
            loop {
                if c.status().await.is_ok_and(|s| s.latest_height >= 1) {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(eyre!(
                        "node {i} finalised no block within {START_TIMEOUT:?}; see {}",
                        self.homes[i].join("node.log").display()
                    ));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    async fn apply(&mut self, nemesis: &Nemesis) -> eyre::Result<()> {
        match nemesis {
            Nemesis::Kill(nodes) => {
                for &i in nodes {
                    self.crash(i).await;
                }
            }
            Nemesis::Pause(nodes) => nodes.iter().for_each(|&i| self.signal(i, rustix::process::Signal::STOP)),
            Nemesis::Netem { node, delay_ms, jitter_ms, loss_percent } => {
                self.lab.slow_link(*node, *delay_ms, *jitter_ms, *loss_percent)?
            }
            Nemesis::Wipe(i) => {
                self.kill(*i);
                for data in ["db", "wal"] {
                    empty_dir(&self.homes[*i].join(data))?;
                }
            }
            // RocksDB preallocates its log, so a running node may not need a new block for a
            // while: it is also killed and restarted on the full disk, which it must refuse
            // cleanly (its store cannot open) rather than panic or half-write.
            Nemesis::Twin(i) => {
                let home = self.dir.join(format!("twin{i}"));
                if home.exists() {
                    std::fs::remove_dir_all(&home)?;
                }
                let spare = self.homes.len();
                // No audit key: the twin equivocates as a validator only.
                write_home(&home, &self.dir, *i, spare, &self.node_keys, None)?;
                // It starts from an online backup of the original's store, so it signs at the
                // chain's height at once instead of syncing first; from an empty store if the
                // original does not answer.
                let backup = self.dir.join(format!("twin{i}-backup"));
                if backup.exists() {
                    std::fs::remove_dir_all(&backup)?;
                }
                let asked = crate::admin::AdminRequest::Backup { out: backup.clone() };
                if let Some(crate::admin::AdminReply::Backup(_)) =
                    crate::admin::request(&self.homes[*i], &asked).await?
                {
                    crate::backup::restore(&backup, &home)?;
                }
                self.twin = Some(self.spawn(spare, &home).wrap_err("starting the twin")?);
            }
            Nemesis::Skew { node, ms } => self.skew_clock(*node, *ms).await?,
            Nemesis::DiskFull(i) => {
                fill(&self.homes[*i].join("db"))?;
                self.kill(*i);
                // Whatever the killed process had reserved and the kernel freed is filled too.
                fill(&self.homes[*i].join("db"))?;
                self.start(*i)?;
            }
            Nemesis::IsolatedLeader => {
                let leader = self.leader().await?;
                self.notes.push(format!("isolated leader: node {leader}, the latest block's proposer"));
                println!("           the leader is node {leader}");
                let cut = Nemesis::Partition { minority: vec![leader] };
                for (from, to) in cut.dropped_links(self.homes.len()) {
                    self.lab.drop_link(from, to)?;
                }
            }
            network => {
                for (from, to) in network.dropped_links(self.homes.len()) {
                    self.lab.drop_link(from, to)?;
                }
            }
        }
        Ok(())
    }

    async fn heal(&mut self, nemesis: &Nemesis) -> eyre::Result<()> {
        match nemesis {
            Nemesis::Kill(nodes) => nodes.iter().try_for_each(|&i| self.start(i))?,
            Nemesis::Wipe(i) => self.start(*i)?,
            Nemesis::Twin(i) => {
                if let Some(mut twin) = self.twin.take() {
                    let twin_api = Client::new(&format!("http://{}:{BASE_PORT}", lab::node_ip(self.homes.len())));
                    let height = |s: Result<huxin_client::StatusView, _>| {
                        s.map_or("-".to_owned(), |s| s.latest_height.to_string())
                    };
                    let (twin_at, node_at) = (height(twin_api.status().await), height(self.clients[*i].status().await));
                    self.notes
                        .push(format!("twin of node {i}: at height {twin_at} when stopped (node {i} at {node_at})"));
                    let _ = twin.kill();
                    let _ = twin.wait();
                }
            }
            Nemesis::DiskFull(i) => {
                let filler = self.homes[*i].join("db").join(FILLER);
                std::fs::remove_file(&filler).wrap_err_with(|| format!("removing {}", filler.display()))?;
                let exited = self.children[*i].as_mut().and_then(|c| c.try_wait().ok().flatten());
                match exited {
                    Some(status) => {
                        let why = last_error(&self.homes[*i].join("node.log"));
                        // A clean stop is an exit with an error code; a signal (abort, segfault)
                        // is not.
                        if status.code().is_none() {
                            self.full_disk_problems.push(format!("node {i} died of {status} on a full disk: {why}"));
                        }
                        self.notes.push(format!("disk full under node {i}: it stopped ({status}): {why}"));
                        self.start(*i)?;
                    }
                    None => self.notes.push(format!("disk full under node {i}: it kept running")),
                }
            }
            Nemesis::Pause(nodes) => nodes.iter().for_each(|&i| self.signal(i, rustix::process::Signal::CONT)),
            Nemesis::Skew { node, .. } => self.skew_clock(*node, 0).await?,
            _ => self.lab.heal()?,
        }
        Ok(())
    }

    /// The node that proposed the latest block, as the first node to answer says.
    async fn leader(&self) -> eyre::Result<usize> {
        for client in &self.clients {
            let Ok(Ok(block)) = tokio::time::timeout(Duration::from_secs(2), client.latest_block()).await else {
                continue;
            };
            return self
                .node_keys
                .iter()
                .position(|k| k.public_key() == block.header.proposer)
                .ok_or_else(|| eyre!("the latest block's proposer {} is none of the nodes", block.header.proposer));
        }
        Err(eyre!("no node answered with its latest block, so the leader is unknown"))
    }

    /// `kill -9` node i, then open its store (read-only) as a restart would: it must hold whole
    /// blocks up to its latest height (block, hash index, certificate, receipts, state root), at
    /// or past the height the node reported just before.
    async fn crash(&mut self, i: usize) {
        let reported = tokio::time::timeout(Duration::from_secs(1), self.clients[i].status()).await;
        let reported = reported.ok().and_then(Result::ok).map(|s| s.latest_height);
        self.kill(i);
        self.crashes += 1;
        let db = self.homes[i].join("db");
        let checked = huxin_store::Store::open_read_only(&db).and_then(|store| store.check_committed());
        match (checked, reported) {
            (Ok(Some(h)), Some(r)) if h.0 < r => {
                self.crash_problems.push(format!("node {i} reported height {r}, its store after kill -9 holds {h}"))
            }
            (Ok(Some(_)), _) => {}
            (Ok(None), _) => self.crash_problems.push(format!("node {i}'s store after kill -9 holds no genesis")),
            (Err(e), _) => self.crash_problems.push(format!("node {i}'s store after kill -9: {e}")),
        }
    }

    /// Set node i's clock `ms` off (0: right again), over its admin socket.
    async fn skew_clock(&self, i: usize, ms: i64) -> eyre::Result<()> {
        match crate::admin::request(&self.homes[i], &crate::admin::AdminRequest::SkewClock { ms }).await? {
            Some(crate::admin::AdminReply::ClockSkewed { .. }) => Ok(()),
            Some(crate::admin::AdminReply::Refused(why)) => Err(eyre!("node {i} refused to skew its clock: {why}")),
            Some(other) => Err(eyre!("node {i} answered {other:?} to a clock skew")),
            None => Err(eyre!("node {i} does not answer on its admin socket, so its clock cannot be skewed")),
        }
    }

    /// Start the nodes and the workload, play the schedule, heal, and check.
    async fn run(&mut self, steps: &[Step]) -> eyre::Result<Vec<check::Verdict>> {
        for i in 0..self.homes.len() {
            self.start(i)?;
        }
        self.wait_first_block().await?;
        let apis = self.clients.iter().map(|c| c.base().to_owned()).collect();
        let anchoring = self.bench_keys.len();
        let namespaces = (0..anchoring).map(lab::client_namespace).collect();
        let story =
            workload::StoryClient { cast: self.cast.clone(), namespace: Some(lab::client_namespace(anchoring)) };
        let load = workload::Workload::start(self.chain_id.clone(), self.bench_keys.clone(), apis, namespaces, story);
        let began = tokio::time::Instant::now();
        for step in steps {
            tokio::time::sleep_until(began + Duration::from_millis(step.start_ms)).await;
            println!("{:>7.1} s  {}", began.elapsed().as_secs_f64(), step.nemesis);
            self.apply(&step.nemesis).await?;
            tokio::time::sleep(Duration::from_millis(step.duration_ms)).await;
            println!("{:>7.1} s  healed", began.elapsed().as_secs_f64());
            self.heal(&step.nemesis).await?;
        }
        let mut verdicts = vec![check::liveness(&self.clients, LIVENESS_LIMIT).await];
        // What was accepted has until the drain ends to be finalised.
        let refusals = load.refusals();
        let (acks, story) = load.stop(DRAIN).await;
        println!(
            "workload: {} accepted; not accepted at first try: {:?}",
            acks.len(),
            refusals.lock().expect("refusals lock")
        );
        let (fork, top) = check::no_fork(&self.clients).await;
        verdicts.push(fork);
        verdicts.push(check::nothing_lost(&self.clients, &acks).await);
        let chain = check::read_chain(&self.clients[0], top).await;
        verdicts.push(check::nothing_twice(&chain));
        verdicts.push(check::every_kind(&chain, &story));
        verdicts.push(check::no_panics(&self.homes));
        if self.crashes > 0 {
            verdicts.push(check::Verdict::new(
                "crash recovery",
                self.crash_problems.clone(),
                format!(
                    "{} kill -9(s): each store held whole blocks up to a height at or past what its node last reported",
                    self.crashes
                ),
            ));
        }
        if !self.mounts.is_empty() {
            // With no fork and liveness back, the node that restarted after the full disk holds
            // only whole blocks; this adds that it stopped (or kept running) cleanly.
            verdicts.push(check::Verdict::new(
                "durability on a full disk",
                self.full_disk_problems.clone(),
                format!(
                    "{} full disk(s): each node stopped with an error or kept running, and rejoined",
                    self.mounts.len()
                ),
            ));
        }
        if steps.iter().any(|s| matches!(s.nemesis, Nemesis::Twin(_))) {
            let mut seen = Vec::new();
            for c in &self.clients {
                let status = c.get_json("/v1/status").await.unwrap_or_default();
                seen.push(status["equivocations"].as_array().map_or(0, Vec::len));
            }
            self.notes.push(format!("equivocation evidence recorded per node (a twin signs twice only when it proposes or its view differs): {seen:?}"));
        }
        for note in &self.notes {
            println!("{note}");
        }
        Ok(verdicts)
    }
}

impl Drop for Network {
    /// Nothing outlives the run, even on an error or a panic.
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Fill the file system `dir` is on: the filler file grows by every free block (called again,
/// it takes what was freed since).
fn fill(dir: &Path) -> eyre::Result<()> {
    let stats = rustix::fs::statvfs(dir).wrap_err_with(|| format!("statvfs {}", dir.display()))?;
    let free = stats.f_bavail.saturating_mul(stats.f_frsize);
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(FILLER))?;
    let end = file.metadata()?.len();
    // A file system that runs out part way still ends up full, which is the point.
    let _ = rustix::fs::fallocate(&file, rustix::fs::FallocateFlags::empty(), end, free);
    Ok(())
}

/// Delete what `dir` holds, keeping `dir` itself (it may be a mount point).
fn empty_dir(dir: &Path) -> eyre::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let path = entry?.path();
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.wrap_err_with(|| format!("wiping {}", path.display()))?;
    }
    Ok(())
}

fn unmount(mounts: &[PathBuf]) {
    for m in mounts {
        let _ = std::process::Command::new("umount").arg("-l").arg(m).output();
    }
}

/// The last error a node's log ends with: its `Error:` line and first cause.
fn last_error(log: &Path) -> String {
    let log = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let Some(at) = lines.iter().rposition(|l| l.starts_with("Error:")) else { return "no error logged".into() };
    let cause = lines[at..].iter().find(|l| l.trim_start().starts_with("0:")).map_or("", |l| l.trim());
    format!("{} ({cause})", lines[at].trim())
}

/// Write the home of node `i`'s validator key (`keys[i]`) listening on namespace `at`'s address,
/// its peers every other node at theirs.
fn write_home(
    home: &Path,
    dir: &Path,
    i: usize,
    at: usize,
    keys: &[huxin_types::SecretKey],
    audit_key: Option<&huxin_types::SecretKey>,
) -> eyre::Result<()> {
    let ports = Ports::from_base(BASE_PORT)?;
    let mut peers = Vec::new();
    for (j, k) in keys.iter().enumerate().filter(|(j, _)| *j != i) {
        let ip = lab::node_ip(j).to_string();
        peers.push(PeerConfig {
            public_key: k.public_key(),
            consensus_addr: home::multiaddr(&ip, ports.consensus)?,
            gossip_addr: home::multiaddr(&ip, ports.gossip)?,
            follower: false,
        });
    }
    let spec = HomeSpec {
        consensus_key: None,
        moniker: if i == at { format!("chaos-{i}") } else { format!("chaos-{i}-twin") },
        listen: lab::node_ip(at).into(),
        ports,
        peers,
        timeouts: Timeouts::loopback(),
        genesis: &dir.join("genesis.json"),
        node_key: &keys[i],
        audit_key,
        anchor_interval_ms: ANCHOR_INTERVAL_MS,
    };
    home::write(home, &spec)?;
    Ok(())
}
