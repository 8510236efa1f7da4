//! The table a run of many schedules ends with (`huxin chaos --runs N`): for each nemesis, how
//! many schedules played it and how each checker judged those schedules. A schedule that could
//! not be run to its verdicts (a node that never started, a lab that could not be built) counts
//! as an error for every nemesis it holds.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::schedule::{Step, KINDS};

/// What became of one schedule.
pub enum Outcome {
    /// Every checker's verdict: (checker, passed).
    Judged(Vec<(&'static str, bool)>),
    /// The run stopped before the checkers, with this error.
    Error(String),
}

/// One schedule's seed, faults and outcome.
pub struct Run {
    pub seed: u64,
    pub kinds: Vec<&'static str>,
    pub outcome: Outcome,
}

impl Run {
    pub fn new(seed: u64, steps: &[Step], outcome: Outcome) -> Run {
        Run { seed, kinds: steps.iter().map(|s| s.nemesis.kind()).collect(), outcome }
    }

    pub fn passed(&self) -> bool {
        matches!(&self.outcome, Outcome::Judged(v) if v.iter().all(|(_, ok)| *ok))
    }
}

/// The nemesis × checker table of `runs`, and a line naming the seeds that failed.
pub fn table(runs: &[Run]) -> String {
    // Checkers in the order they first appear (the durability checker only where a disk filled).
    let mut checkers: Vec<&'static str> = Vec::new();
    for run in runs {
        if let Outcome::Judged(verdicts) = &run.outcome {
            for (c, _) in verdicts {
                if !checkers.contains(c) {
                    checkers.push(c);
                }
            }
        }
    }
    let mut out = String::new();
    let _ = write!(out, "| nemesis | schedules | faults |");
    for c in &checkers {
        let _ = write!(out, " {c} |");
    }
    let _ = writeln!(out, " errors |");
    let _ = writeln!(out, "|---|---:|---:|{}---:|", "---|".repeat(checkers.len()));
    let mut rows: Vec<&str> = KINDS.to_vec();
    rows.push("all");
    for kind in rows {
        let with: Vec<&Run> = runs.iter().filter(|r| kind == "all" || r.kinds.contains(&kind)).collect();
        if with.is_empty() {
            continue;
        }
        let faults: usize = if kind == "all" {
            runs.iter().map(|r| r.kinds.len()).sum()
        } else {
            with.iter().map(|r| count(r, kind)).sum()
        };
        let _ = write!(out, "| {kind} | {} | {faults} |", with.len());
        for c in &checkers {
            let mut judged = BTreeMap::new();
            for r in &with {
                if let Outcome::Judged(v) = &r.outcome {
                    if let Some((_, ok)) = v.iter().find(|(name, _)| name == c) {
                        *judged.entry(*ok).or_insert(0usize) += 1;
                    }
                }
            }
            let (pass, fail) = (judged.get(&true).copied().unwrap_or(0), judged.get(&false).copied().unwrap_or(0));
            if pass + fail == 0 {
                let _ = write!(out, " – |");
            } else if fail == 0 {
                let _ = write!(out, " {pass} pass |");
            } else {
                let _ = write!(out, " {pass} pass, **{fail} FAIL** |");
            }
        }
        let errors = with.iter().filter(|r| matches!(r.outcome, Outcome::Error(_))).count();
        let _ = writeln!(out, " {errors} |");
    }
    let failed: Vec<String> = runs.iter().filter(|r| !r.passed()).map(|r| r.seed.to_string()).collect();
    let passed = runs.len() - failed.len();
    let _ = writeln!(out, "\n{passed} of {} schedules passed every checker", runs.len());
    if !failed.is_empty() {
        let _ = writeln!(out, "failed seeds: {}", failed.join(" "));
    }
    out
}

fn count(run: &Run, kind: &str) -> usize {
    run.kinds.iter().filter(|k| **k == kind).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::schedule::generate;

    #[test]
    fn the_table_counts_schedules_faults_and_verdicts_per_nemesis() {
        let only = |k: &str| generate(1, 4, 2, &[k.to_string()]).unwrap();
        let runs = vec![
            Run::new(1, &only("kill"), Outcome::Judged(vec![("no fork", true), ("liveness back", true)])),
            Run::new(2, &only("kill"), Outcome::Judged(vec![("no fork", false), ("liveness back", true)])),
            Run::new(3, &only("ring"), Outcome::Error("node 0 finalised no block".into())),
        ];
        let t = table(&runs);
        assert!(t.contains("| kill | 2 | 4 | 1 pass, **1 FAIL** | 2 pass | 0 |"), "{t}");
        assert!(t.contains("| ring | 1 | 2 | – | – | 1 |"), "{t}");
        assert!(t.contains("| all | 3 | 6 |"), "{t}");
        assert!(!t.contains("| pause |"), "{t}");
        assert!(t.contains("1 of 3 schedules passed every checker\nfailed seeds: 2 3"), "{t}");
    }
}
