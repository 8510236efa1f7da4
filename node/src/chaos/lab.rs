//! The chaos lab: one network namespace per node and one per client, joined by veth pairs to
//! one bridge in the host namespace (where the checkers run), and the faults that act on it:
//! nftables rules that drop packets between nodes, `tc netem` on a node's link. Everything created is named
//! with the lab's [`prefix`] and removed by [`Lab::remove`], which `Drop` also calls.

use std::net::Ipv4Addr;
use std::process::{Command, Output, Stdio};

use eyre::{eyre, WrapErr};

/// Every namespace, link and bridge lab 0 creates starts with this; lab L's with `hxc{L}-`
/// (see [`select`]), so labs with different numbers run side by side.
pub const PREFIX: &str = "hxc-";
/// Labs are numbered 0 to this.
pub const LAB_MAX: u8 = 9;
/// The lab this process works in (`huxin chaos --lab L`).
static LAB: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
/// In lab L, node i has 10.231.L.(i+1), client i 10.231.L.(101+i); the host side of the bridge
/// has .254.
const SUBNET: [u8; 2] = [10, 231];
const CLIENT_OCTET: u8 = 101;
const HOST_OCTET: u8 = 254;
/// Most nodes (and most clients) a lab holds: their addresses must not meet.
pub const NODES_MAX: usize = (CLIENT_OCTET - 1) as usize;
/// The bandwidth of a slowed link where the kernel has no netem (see [`Lab::slow_link`]).
const SLOW_LINK_RATE: &str = "1mbit";
/// The nftables table the lab adds inside each namespace.
const TABLE: &str = "chaos";

/// Work in lab `lab` (0 to [`LAB_MAX`]) from now on: its names and its subnet.
pub fn select(lab: u8) -> eyre::Result<()> {
    if lab > LAB_MAX {
        return Err(eyre!("--lab is 0 to {LAB_MAX}, got {lab}"));
    }
    LAB.store(lab, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

fn lab() -> u8 {
    LAB.load(std::sync::atomic::Ordering::Relaxed)
}

/// What this lab's names start with.
pub fn prefix() -> String {
    match lab() {
        0 => PREFIX.to_owned(),
        l => format!("hxc{l}-"),
    }
}

fn bridge() -> String {
    format!("{}br", prefix())
}

fn address(octet: u8) -> Ipv4Addr {
    Ipv4Addr::new(SUBNET[0], SUBNET[1], lab(), octet)
}

pub fn node_ip(i: usize) -> Ipv4Addr {
    address(i as u8 + 1)
}

pub fn namespace(i: usize) -> String {
    format!("{}n{i}", prefix())
}

fn host_link(i: usize) -> String {
    format!("{}v{i}", prefix())
}

fn client_ip(i: usize) -> Ipv4Addr {
    address(CLIENT_OCTET + i as u8)
}

/// Client i's namespace.
pub fn client_namespace(i: usize) -> String {
    format!("{}c{i}", prefix())
}

fn client_link(i: usize) -> String {
    format!("{}w{i}", prefix())
}

/// Move the calling thread (only it, and the threads it starts afterwards) into the named
/// namespace: the sockets it opens from then on are that namespace's.
pub fn enter(namespace: &str) -> eyre::Result<()> {
    let path = std::path::Path::new("/run/netns").join(namespace);
    let fd = std::fs::File::open(&path).wrap_err_with(|| format!("opening {}", path.display()))?;
    rustix::thread::move_into_link_name_space(
        std::os::fd::AsFd::as_fd(&fd),
        Some(rustix::thread::LinkNameSpaceType::Network),
    )
    .wrap_err_with(|| format!("entering the network namespace {namespace}"))
}

/// What the lab needs of this machine, checked before anything is created: root, `ip`, `tc`
/// and `nft`, and no leftovers of an interrupted run.
pub fn preflight() -> eyre::Result<()> {
    preflight_tools()?;
    let left = leftovers()?;
    if !left.is_empty() {
        return Err(eyre!("an interrupted run left {}; remove them with `huxin chaos --clean`", left.join(", ")));
    }
    Ok(())
}

/// Root, and the tools the lab runs.
pub fn preflight_tools() -> eyre::Result<()> {
    if !rustix::process::geteuid().is_root() {
        return Err(eyre!("huxin chaos creates network namespaces and needs root (run it with sudo)"));
    }
    for (tool, package) in [("ip", "iproute2"), ("tc", "iproute2"), ("nft", "nftables")] {
        let found = Command::new(tool).arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
        if !found {
            return Err(eyre!("`{tool}` is not installed (Debian package {package})"));
        }
    }
    Ok(())
}

/// Namespaces and links named with this lab's [`prefix`] that exist now.
pub fn leftovers() -> eyre::Result<Vec<String>> {
    let mut found = Vec::new();
    let netns = run_output("ip", &["netns", "list"])?;
    found.extend(
        netns
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with(&prefix()))
            .map(|n| format!("namespace {n}")),
    );
    let links = run_output("ip", &["-o", "link", "show"])?;
    for line in links.lines() {
        // "12: hxc-br: <...>" or "13: hxc-v0@if2: <...>"
        if let Some(name) = line.split(": ").nth(1).map(|n| n.split('@').next().unwrap_or(n)) {
            if name.starts_with(&prefix()) {
                found.push(format!("link {name}"));
            }
        }
    }
    Ok(found)
}

/// Remove every namespace and link named with this lab's [`prefix`] (`huxin chaos --clean`).
pub fn clean() -> eyre::Result<usize> {
    let left = leftovers()?;
    for item in &left {
        let (kind, name) = item.split_once(' ').unwrap_or(("", item));
        let _ = match kind {
            "namespace" => Command::new("ip").args(["netns", "del", name]).status(),
            _ => Command::new("ip").args(["link", "del", name]).status(),
        };
    }
    Ok(left.len())
}

fn run_output(tool: &str, args: &[&str]) -> eyre::Result<String> {
    let out = Command::new(tool).args(args).output().wrap_err_with(|| format!("running {tool}"))?;
    checked(tool, args, out).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

fn checked(tool: &str, args: &[&str], out: Output) -> eyre::Result<Output> {
    if out.status.success() {
        Ok(out)
    } else {
        Err(eyre!("`{tool} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn sh(tool: &str, args: &[&str]) -> eyre::Result<()> {
    run_output(tool, args).map(drop)
}

/// Create namespace `ns` joined to the bridge by the veth pair `link`–eth0, at `ip`.
fn add_host(ns: &str, link: &str, ip: Ipv4Addr) -> eyre::Result<()> {
    sh("ip", &["netns", "add", ns])?;
    sh("ip", &["link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns])?;
    sh("ip", &["link", "set", link, "master", &bridge(), "up"])?;
    sh("ip", &["-n", ns, "addr", "add", &format!("{ip}/24"), "dev", "eth0"])?;
    sh("ip", &["-n", ns, "link", "set", "eth0", "up"])?;
    sh("ip", &["-n", ns, "link", "set", "lo", "up"])
}

/// The namespaces of one run; removed when dropped.
pub struct Lab {
    nodes: usize,
    clients: usize,
    removed: bool,
    netem: bool,
}

impl Lab {
    /// Create the bridge, one namespace per node (with an empty nftables table for the drop
    /// rules) and one per client, each with its address and loopback up.
    pub fn create(nodes: usize, clients: usize) -> eyre::Result<Lab> {
        if nodes > NODES_MAX || clients > NODES_MAX {
            return Err(eyre!("a lab holds at most {NODES_MAX} nodes and {NODES_MAX} clients"));
        }
        // Created before anything else, so that what is made is removed on an error.
        let mut lab = Lab { nodes, clients, removed: false, netem: false };
        let (host, bridge) = (address(HOST_OCTET), bridge());
        let bridge = bridge.as_str();
        sh("ip", &["link", "add", bridge, "type", "bridge"])?;
        sh("ip", &["addr", "add", &format!("{host}/24"), "dev", bridge])?;
        sh("ip", &["link", "set", bridge, "up"])?;
        for i in 0..clients {
            add_host(&client_namespace(i), &client_link(i), client_ip(i))?;
        }
        for i in 0..nodes {
            let ns = namespace(i);
            add_host(&ns, &host_link(i), node_ip(i))?;
            sh("ip", &["netns", "exec", &ns, "nft", "add", "table", "inet", TABLE])?;
            sh(
                "ip",
                &[
                    "netns",
                    "exec",
                    &ns,
                    "nft",
                    "add",
                    "chain",
                    "inet",
                    TABLE,
                    "out",
                    "{ type filter hook output priority 0 ; }",
                ],
            )?;
        }
        let probe = Command::new("tc")
            .args(["qdisc", "add", "dev", &host_link(0), "root", "netem", "delay", "1ms"])
            .output()?;
        lab.netem = probe.status.success();
        if lab.netem {
            sh("tc", &["qdisc", "del", "dev", &host_link(0), "root"])?;
        }
        Ok(lab)
    }

    /// A command run inside node i's namespace.
    pub fn command(&self, i: usize, program: &std::path::Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &namespace(i)]).arg(program);
        c
    }

    /// Drop every packet node `from` sends to node `to` (silently, as a cut link does).
    pub fn drop_link(&self, from: usize, to: usize) -> eyre::Result<()> {
        let ns = namespace(from);
        let to = node_ip(to).to_string();
        sh("ip", &["netns", "exec", &ns, "nft", "add", "rule", "inet", TABLE, "out", "ip", "daddr", &to, "drop"])
    }

    /// Slow node i's link, both directions: `tc netem` with the delay, jitter and loss where the
    /// kernel has it; otherwise ([`Lab::has_netem`] false) a token-bucket cap of
    /// [`SLOW_LINK_RATE`] whose queue holds up to `delay_ms` of traffic, plus nftables dropping
    /// `loss_percent` of the node's packets at random.
    pub fn slow_link(&self, i: usize, delay_ms: u32, jitter_ms: u32, loss_percent: u32) -> eyre::Result<()> {
        let (ns, link) = (namespace(i), host_link(i));
        let (delay, jitter, loss) = (format!("{delay_ms}ms"), format!("{jitter_ms}ms"), format!("{loss_percent}%"));
        let spec: Vec<&str> = if self.netem {
            vec!["netem", "delay", &delay, &jitter, "loss", &loss]
        } else {
            vec!["tbf", "rate", SLOW_LINK_RATE, "burst", "16kb", "latency", &delay]
        };
        let mut inside = vec!["netns", "exec", ns.as_str(), "tc", "qdisc", "add", "dev", "eth0", "root"];
        inside.extend(&spec);
        sh("ip", &inside)?;
        let mut outside = vec!["qdisc", "add", "dev", link.as_str(), "root"];
        outside.extend(&spec);
        sh("tc", &outside)?;
        if !self.netem && loss_percent > 0 {
            let lt = loss_percent.to_string();
            sh(
                "ip",
                &[
                    "netns", "exec", &ns, "nft", "add", "rule", "inet", TABLE, "out", "numgen", "random", "mod", "100",
                    "<", &lt, "drop",
                ],
            )?;
        }
        Ok(())
    }

    /// Whether this kernel has `tc netem` (CONFIG_NET_SCH_NETEM); some virtual machines' do not.
    pub fn has_netem(&self) -> bool {
        self.netem
    }

    /// Undo every network fault: flush the drop rules, remove the netem qdiscs.
    pub fn heal(&self) -> eyre::Result<()> {
        for i in 0..self.nodes {
            let ns = namespace(i);
            sh("ip", &["netns", "exec", &ns, "nft", "flush", "chain", "inet", TABLE, "out"])?;
            // Absent when no netem was added: not an error.
            let _ =
                Command::new("ip").args(["netns", "exec", &ns, "tc", "qdisc", "del", "dev", "eth0", "root"]).output();
            let _ = Command::new("tc").args(["qdisc", "del", "dev", &host_link(i), "root"]).output();
        }
        Ok(())
    }

    /// Remove the namespaces and the bridge (the veth pairs go with their namespaces).
    pub fn remove(&mut self) {
        if self.removed {
            return;
        }
        self.removed = true;
        for i in 0..self.nodes {
            let _ = Command::new("ip").args(["netns", "del", &namespace(i)]).output();
            let _ = Command::new("ip").args(["link", "del", &host_link(i)]).output();
        }
        for i in 0..self.clients {
            let _ = Command::new("ip").args(["netns", "del", &client_namespace(i)]).output();
            let _ = Command::new("ip").args(["link", "del", &client_link(i)]).output();
        }
        let _ = Command::new("ip").args(["link", "del", &bridge()]).output();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.remove();
    }
}
