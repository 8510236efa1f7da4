//! The seeded schedule of faults: which nemesis, on which nodes, for how long. The same seed and
//! network size always give the same schedule (ChaCha8, whose output is fixed by its spec), so a
//! failing run is replayed by its seed.

use std::fmt;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Shortest and longest time a fault stays in force, in milliseconds.
pub const FAULT_MS_MIN: u64 = 2_000;
pub const FAULT_MS_MAX: u64 = 6_000;
/// A twin stays longer: it must first catch up with the chain before it signs anything.
pub const TWIN_MS_MIN: u64 = 8_000;
pub const TWIN_MS_MAX: u64 = 12_000;
/// Quiet time after each heal before the next fault, in milliseconds.
pub const QUIET_MS_MIN: u64 = 1_000;
pub const QUIET_MS_MAX: u64 = 3_000;
/// Most faults one schedule may hold.
pub const FAULTS_MAX: usize = 64;

/// One kind of fault. Node indices are 0-based; at most f = (n − 1) / 3 nodes are ever on the
/// faulty side, so every fault is within the model the ledger promises to survive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nemesis {
    /// `kill -9`, restarted at the heal.
    Kill(Vec<usize>),
    /// `SIGSTOP`, `SIGCONT` at the heal.
    Pause(Vec<usize>),
    /// The minority can reach neither the majority nor be reached by it (both directions drop).
    Partition { minority: Vec<usize> },
    /// The leader, the proposer of the latest block as the nodes say at the fault, can reach no
    /// other node nor be reached (the node is found when the fault starts, not drawn).
    IsolatedLeader,
    /// Two halves that reach each other only through one bridging node.
    Bridge { left: Vec<usize>, bridge: usize, right: Vec<usize> },
    /// Each node reaches only its two neighbours in this cyclic order.
    Ring(Vec<usize>),
    /// Packets from `from` to `to` are dropped; the other direction still flows.
    OneWay { from: usize, to: usize },
    /// `tc netem` on one node's link: added delay, jitter and loss.
    Netem { node: usize, delay_ms: u32, jitter_ms: u32, loss_percent: u32 },
    /// Kill one node, delete its store and WAL, restart it: it resyncs from the others.
    Wipe(usize),
    /// Fill the (small) file system under one node's store and restart the node on it: the node
    /// must stop cleanly or refuse writes, never persist half a block, and come back once space is
    /// freed at the heal.
    DiskFull(usize),
    /// A second process started with this node's validator key, from another address: the key
    /// now signs twice at every step (equivocation, a byzantine fault).
    Twin(usize),
    /// One node's clock set `ms` off (negative: behind) while the others keep time: ahead, its
    /// proposals are refused as from the future; behind, it refuses the others' blocks.
    Skew { node: usize, ms: i64 },
}

/// Every nemesis kind by name, in the order the schedule draws them.
pub const KINDS: [&str; 12] =
    ["kill", "pause", "partition", "bridge", "ring", "one-way", "netem", "wipe", "disk-full", "twin", "skew", "leader"];
/// The smallest and largest clock skew, either way, in milliseconds (a validator refuses a block
/// more than 2 s ahead of its clock, so the range holds skews both under and over that bound).
pub const SKEW_MS_MIN: i64 = 1_000;
pub const SKEW_MS_MAX: i64 = 30_000;

impl Nemesis {
    pub fn kind(&self) -> &'static str {
        match self {
            Nemesis::Kill(_) => "kill",
            Nemesis::Pause(_) => "pause",
            Nemesis::Partition { .. } => "partition",
            Nemesis::Bridge { .. } => "bridge",
            Nemesis::Ring(_) => "ring",
            Nemesis::OneWay { .. } => "one-way",
            Nemesis::Netem { .. } => "netem",
            Nemesis::Wipe(_) => "wipe",
            Nemesis::DiskFull(_) => "disk-full",
            Nemesis::Twin(_) => "twin",
            Nemesis::Skew { .. } => "skew",
            Nemesis::IsolatedLeader => "leader",
        }
    }

    /// The directed links (from, to) this fault drops, for the network nemeses.
    pub fn dropped_links(&self, nodes: usize) -> Vec<(usize, usize)> {
        let all = 0..nodes;
        match self {
            Nemesis::Partition { minority } => all
                .clone()
                .flat_map(|a| all.clone().map(move |b| (a, b)))
                .filter(|(a, b)| minority.contains(a) != minority.contains(b))
                .collect(),
            Nemesis::Bridge { left, right, .. } => {
                left.iter().flat_map(|&a| right.iter().flat_map(move |&b| [(a, b), (b, a)])).collect()
            }
            Nemesis::Ring(order) => {
                let n = order.len();
                let neighbours = |a: usize, b: usize| {
                    let (i, j) = (order.iter().position(|&x| x == a), order.iter().position(|&x| x == b));
                    matches!((i, j), (Some(i), Some(j)) if (i + 1) % n == j || (j + 1) % n == i)
                };
                all.clone()
                    .flat_map(|a| all.clone().map(move |b| (a, b)))
                    .filter(|&(a, b)| a != b && !neighbours(a, b))
                    .collect()
            }
            Nemesis::OneWay { from, to } => vec![(*from, *to)],
            _ => vec![],
        }
    }
}

impl fmt::Display for Nemesis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nemesis::Kill(n) => write!(f, "kill -9 {n:?}"),
            Nemesis::Pause(n) => write!(f, "pause {n:?}"),
            Nemesis::Partition { minority } => write!(f, "partition {minority:?} from the rest"),
            Nemesis::Bridge { left, bridge, right } => write!(f, "bridge {left:?} <-{bridge}-> {right:?}"),
            Nemesis::Ring(order) => write!(f, "ring {order:?}"),
            Nemesis::OneWay { from, to } => write!(f, "drop {from} -> {to}"),
            Nemesis::Netem { node, delay_ms, jitter_ms, loss_percent } => {
                write!(f, "netem on {node}: {delay_ms} ms ± {jitter_ms} ms, {loss_percent} % loss")
            }
            Nemesis::Wipe(n) => write!(f, "wipe {n} and resync"),
            Nemesis::DiskFull(n) => write!(f, "disk full under {n}"),
            Nemesis::Twin(n) => write!(f, "a twin of {n} with its validator key"),
            Nemesis::Skew { node, ms } => write!(f, "clock skew on {node}: {ms:+} ms"),
            Nemesis::IsolatedLeader => write!(f, "isolate the leader (the latest block's proposer)"),
        }
    }
}

/// The nodes whose store a disk-full fault will fill (they get a small file system of their own).
pub fn full_disk_nodes(steps: &[Step]) -> Vec<usize> {
    let mut nodes: Vec<usize> =
        steps.iter().filter_map(|s| if let Nemesis::DiskFull(n) = s.nemesis { Some(n) } else { None }).collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// One scheduled fault: from `start_ms` (after the workload began) for `duration_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub start_ms: u64,
    pub duration_ms: u64,
    pub nemesis: Nemesis,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("a schedule needs at least 4 nodes (f = 1), got {0}")]
    TooFewNodes(usize),
    #[error("a schedule holds 1 to {FAULTS_MAX} faults, got {0}")]
    Faults(usize),
    #[error("unknown nemesis {0:?}; known: {known}", known = KINDS.join(", "))]
    UnknownKind(String),
}

/// The schedule for `seed` on `nodes` nodes: `faults` faults one after another, each healed
/// before the next. `kinds` (names from [`KINDS`]) restricts the draw; empty means all. The
/// first faults go through the kinds in turn from a seeded offset, so a schedule of at least
/// `KINDS.len()` faults covers every kind.
pub fn generate(seed: u64, nodes: usize, faults: usize, kinds: &[String]) -> Result<Vec<Step>, ScheduleError> {
    if nodes < 4 {
        return Err(ScheduleError::TooFewNodes(nodes));
    }
    if faults == 0 || faults > FAULTS_MAX {
        return Err(ScheduleError::Faults(faults));
    }
    for k in kinds {
        if !KINDS.contains(&k.as_str()) {
            return Err(ScheduleError::UnknownKind(k.clone()));
        }
    }
    let pool: Vec<&str> = if kinds.is_empty() {
        KINDS.to_vec()
    } else {
        KINDS.iter().copied().filter(|k| kinds.iter().any(|x| x == k)).collect()
    };
    let f = (nodes - 1) / 3;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let offset = rng.gen_range(0..pool.len());
    let mut steps = Vec::with_capacity(faults);
    let mut at = rng.gen_range(QUIET_MS_MIN..=QUIET_MS_MAX);
    for i in 0..faults {
        let kind = if i < pool.len() { pool[(offset + i) % pool.len()] } else { pool[rng.gen_range(0..pool.len())] };
        let mut order: Vec<usize> = (0..nodes).collect();
        order.shuffle(&mut rng);
        let some = rng.gen_range(1..=f);
        let nemesis = match kind {
            "kill" => Nemesis::Kill(sorted(&order[..some])),
            "pause" => Nemesis::Pause(sorted(&order[..some])),
            "partition" => Nemesis::Partition { minority: sorted(&order[..some]) },
            "bridge" => {
                let rest = &order[1..];
                let half = rest.len() / 2;
                Nemesis::Bridge { left: sorted(&rest[..half]), bridge: order[0], right: sorted(&rest[half..]) }
            }
            "ring" => Nemesis::Ring(order),
            "one-way" => Nemesis::OneWay { from: order[0], to: order[1] },
            "netem" => Nemesis::Netem {
                node: order[0],
                delay_ms: rng.gen_range(10..=200),
                jitter_ms: rng.gen_range(0..=50),
                loss_percent: rng.gen_range(0..=20),
            },
            "wipe" => Nemesis::Wipe(order[0]),
            "disk-full" => Nemesis::DiskFull(order[0]),
            "twin" => Nemesis::Twin(order[0]),
            "leader" => Nemesis::IsolatedLeader,
            _ => {
                let ms = rng.gen_range(SKEW_MS_MIN..=SKEW_MS_MAX);
                Nemesis::Skew { node: order[0], ms: if rng.gen_bool(0.5) { ms } else { -ms } }
            }
        };
        let (shortest, longest) =
            if kind == "twin" { (TWIN_MS_MIN, TWIN_MS_MAX) } else { (FAULT_MS_MIN, FAULT_MS_MAX) };
        let duration_ms = rng.gen_range(shortest..=longest);
        steps.push(Step { start_ms: at, duration_ms, nemesis });
        at += duration_ms + rng.gen_range(QUIET_MS_MIN..=QUIET_MS_MAX);
    }
    Ok(steps)
}

fn sorted(nodes: &[usize]) -> Vec<usize> {
    let mut v = nodes.to_vec();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_schedule_and_another_seed_another() {
        let a = generate(7, 4, 12, &[]).unwrap();
        assert_eq!(a, generate(7, 4, 12, &[]).unwrap());
        assert_ne!(a, generate(8, 4, 12, &[]).unwrap());
        // Pinned: ChaCha8 is specified, so seed 7's first fault is the same in every build (a
        // change here breaks every seed kept as a regression case; adding a kind to KINDS is
        // such a change: seeds drawn from all kinds then give other schedules).
        let first = generate(7, 4, 1, &[]).unwrap().remove(0);
        assert_eq!(first, a[0]);
        assert_eq!(first.nemesis, Nemesis::Partition { minority: vec![1] });
        assert_eq!(first.start_ms / 100, 24);
    }

    #[test]
    fn one_fault_per_kind_covers_every_kind_within_the_fault_model() {
        for seed in 0..50 {
            for nodes in [4, 7] {
                let steps = generate(seed, nodes, KINDS.len(), &[]).unwrap();
                let mut kinds: Vec<_> = steps.iter().map(|s| s.nemesis.kind()).collect();
                kinds.sort_unstable();
                let mut all = KINDS.to_vec();
                all.sort_unstable();
                assert_eq!(kinds, all, "seed {seed}");
                let f = (nodes - 1) / 3;
                for s in &steps {
                    match &s.nemesis {
                        Nemesis::Kill(n) | Nemesis::Pause(n) | Nemesis::Partition { minority: n } => {
                            assert!(!n.is_empty() && n.len() <= f, "seed {seed}: {}", s.nemesis)
                        }
                        Nemesis::Bridge { left, right, bridge } => {
                            assert_eq!(left.len() + right.len() + 1, nodes);
                            assert!(!left.contains(bridge) && !right.contains(bridge));
                        }
                        _ => {}
                    }
                    assert!((FAULT_MS_MIN..=TWIN_MS_MAX).contains(&s.duration_ms));
                }
                assert!(steps.windows(2).all(|w| w[0].start_ms + w[0].duration_ms < w[1].start_ms), "faults overlap");
            }
        }
    }

    #[test]
    fn dropped_links_match_each_network_fault() {
        let p = Nemesis::Partition { minority: vec![2] };
        let mut links = p.dropped_links(4);
        links.sort_unstable();
        assert_eq!(links, vec![(0, 2), (1, 2), (2, 0), (2, 1), (2, 3), (3, 2)]);
        // A ring of four: each node loses only the node opposite it.
        let mut links = Nemesis::Ring(vec![0, 1, 2, 3]).dropped_links(4);
        links.sort_unstable();
        assert_eq!(links, vec![(0, 2), (1, 3), (2, 0), (3, 1)]);
        assert_eq!(Nemesis::OneWay { from: 1, to: 3 }.dropped_links(4), vec![(1, 3)]);
        let b = Nemesis::Bridge { left: vec![0], bridge: 1, right: vec![2, 3] };
        assert_eq!(b.dropped_links(4).len(), 4);
        assert!(Nemesis::Kill(vec![0]).dropped_links(4).is_empty());
    }

    #[test]
    fn bad_arguments_are_refused_by_name() {
        assert_eq!(generate(1, 3, 4, &[]), Err(ScheduleError::TooFewNodes(3)));
        assert_eq!(generate(1, 4, 0, &[]), Err(ScheduleError::Faults(0)));
        assert_eq!(generate(1, 4, FAULTS_MAX + 1, &[]), Err(ScheduleError::Faults(FAULTS_MAX + 1)));
        let e = generate(1, 4, 2, &["flood".into()]).unwrap_err();
        assert!(e.to_string().contains("unknown nemesis \"flood\"; known: kill, pause"), "{e}");
        let only = generate(1, 4, 5, &["pause".into()]).unwrap();
        assert!(only.iter().all(|s| s.nemesis.kind() == "pause"));
    }
}
