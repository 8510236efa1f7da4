//! The seeded fault suite (`huxin chaos`), run as root on real processes in network namespaces.
//! Eleven short schedules, each of two nemeses, cover all twelve between them; each must end
//! with every checker's PASS. Also the tool's refusals of bad input and leftovers.

mod support;

use std::process::{Command, Output};
use std::sync::Mutex;

use support::EXE;

/// Every nemesis, in the order `huxin chaos` names them.
const KINDS: [&str; 12] =
    ["kill", "pause", "partition", "bridge", "ring", "one-way", "netem", "wipe", "disk-full", "twin", "skew", "leader"];
/// Every schedule's checkers; `every kind` needs all 21 transaction kinds applied in the chain
/// (the story client sends twenty, the nodes the audit anchors).
const CHECKERS: [&str; 6] =
    ["liveness back", "no fork", "nothing acknowledged lost", "nothing executed twice", "every kind", "no panics"];

/// The tests that create namespaces run one at a time: they share the names and the subnet.
static LAB: Mutex<()> = Mutex::new(());

fn chaos(args: &[&str]) -> Output {
    Command::new(EXE).arg("chaos").args(args).output().expect("run huxin chaos")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn assert_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "the chaos suite creates network namespaces: run the tests as root (CI does)"
    );
}

/// Seeds 1 to 11; schedule i holds nemeses i and i+1, so all twelve are played. One at a time (see
/// [`LAB`]).
#[test]
fn eleven_seeded_schedules_cover_every_nemesis_and_every_checker_passes() {
    assert_root();
    let _lab = LAB.lock().unwrap_or_else(|e| e.into_inner());
    for (i, pair) in KINDS.windows(2).enumerate() {
        let (kind, next, seed) = (pair[0], pair[1], (i + 1).to_string());
        let dir = tempfile::tempdir().unwrap();
        let out = chaos(&[
            "--seed",
            &seed,
            "--faults",
            "2",
            "--nemesis",
            kind,
            "--nemesis",
            next,
            "--dir",
            dir.path().to_str().unwrap(),
        ]);
        let printed = text(&out);
        println!("{printed}");
        assert!(out.status.success(), "seed {seed} ({kind}, {next}) failed:\n{printed}");
        for checker in CHECKERS {
            assert!(
                printed.lines().any(|l| l.contains(checker) && l.contains("PASS")),
                "seed {seed}: no PASS for {checker}"
            );
        }
        // The checkers of one nemesis: stores opened after kill -9, nodes on a full disk.
        for (nemesis, checker) in [("kill", "crash recovery"), ("disk-full", "durability on a full disk")] {
            if pair.contains(&nemesis) {
                assert!(
                    printed.lines().any(|l| l.contains(checker) && l.contains("PASS")),
                    "seed {seed}: no PASS for {checker}"
                );
            }
        }
        // The acknowledged-finality check saw real traffic.
        let acked = printed.lines().find(|l| l.contains("nothing acknowledged lost")).unwrap();
        let count: u64 = acked.split("PASS").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        assert!(count >= 20, "seed {seed}: only {count} transactions acknowledged finalised: {acked}");
        // What it created is gone.
        let netns = String::from_utf8(Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).unwrap();
        assert!(!netns.contains("hxc-"), "seed {seed} left namespaces: {netns}");
    }
}

#[test]
fn the_same_seed_prints_the_same_plan_without_privilege() {
    let plan = |seed: &str| text(&chaos(&["--seed", seed, "--plan", "--faults", "12"]));
    let a = plan("42");
    assert_eq!(a, plan("42"));
    assert_ne!(a, plan("43"));
    let kinds =
        ["kill -9", "pause", "partition", "bridge", "ring", "drop", "netem", "wipe", "disk full", "twin", "clock skew"];
    for kind in kinds.into_iter().chain(["isolate the leader"]) {
        assert!(a.contains(kind), "twelve faults cover {kind}: {a}");
    }
}

#[test]
fn bad_arguments_and_leftovers_get_clear_messages() {
    let refused = |args: &[&str]| {
        let out = chaos(args);
        assert!(!out.status.success(), "{args:?} should be refused");
        text(&out)
    };
    assert!(refused(&["--seed", "abc"]).contains("invalid digit"));
    assert!(refused(&["--seed", "1", "--validators", "3", "--plan"]).contains("at least 4 nodes"));
    assert!(refused(&["--seed", "1", "--nemesis", "flood", "--plan"]).contains("unknown nemesis \"flood\""));
    assert!(refused(&["--seed", "1", "--faults", "0", "--plan"]).contains("1 to 64 faults"));
    assert!(refused(&["--seed", "1", "--lab", "10", "--plan"]).contains("--lab is 0 to 9"));
    assert!(refused(&["--seed", "1", "--runs", "0", "--plan"]).contains("--runs is 1 to"));

    assert_root();
    let _lab = LAB.lock().unwrap_or_else(|e| e.into_inner());
    // A namespace an interrupted run left: named, with the way to remove it.
    let left = Command::new("ip").args(["netns", "add", "hxc-n9"]).status().unwrap();
    assert!(left.success());
    let printed = refused(&["--seed", "1", "--faults", "1"]);
    assert!(printed.contains("namespace hxc-n9") && printed.contains("huxin chaos --clean"), "{printed}");
    let out = chaos(&["--clean"]);
    assert!(out.status.success() && text(&out).contains("removed 1"), "{}", text(&out));
    let netns = String::from_utf8(Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).unwrap();
    assert!(!netns.contains("hxc-n9"), "{netns}");

    // Without root: refused before anything is created.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", EXE, "chaos", "--seed", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success() && text(&out).contains("needs root"), "{}", text(&out));
}
